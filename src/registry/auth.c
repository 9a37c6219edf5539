/*
 * auth.c: bearer tokens. A token's sha256 is looked up in an in-memory table keyed by that
 * hash; only a miss reaches SQLite. Any change to tokens or users clears the table (changes
 * are rare, requests are many). Last-used times are kept in the table and written in one
 * transaction by atr_auth_flush, not one write per request.
 *
 * The sha256 itself comes from a small front table of the tokens that recently authenticated
 * (their text and hash, compared in constant time), so a client sending the same token again
 * is not hashed again. A token's hash never changes: the front table needs no invalidation,
 * and a revoked token in it still fails in the table behind it. It holds token text in memory,
 * as the request buffers do, and is wiped when freed.
 */
#include "atrium/auth.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define SLOTS 4096	 /* power of two; the table is cleared when it is 3/4 full */
#define FRONT_SLOTS 1024 /* power of two; direct-mapped */

struct front {
	char token[ATR_TOKEN_MAX]; /* zero-padded; "" when empty */
	unsigned char hash[32];
};

struct entry {
	unsigned char hash[32];
	bool used;
	bool touched; /* last_used changed since the last flush */
	int64_t last_used;
	struct atr_principal who;
};

struct atr_auth {
	struct atr_store *store;
	struct entry *slots;
	size_t count;
	struct evp_md_ctx_st *sha; /* reused for every hash (NULL: one context per hash) */
	struct front *front;	   /* FRONT_SLOTS */
};

int atr_auth_new(struct atr_store *store, struct atr_auth **out)
{
	struct atr_auth *a = calloc(1, sizeof(*a));
	if (!a)
		return ATR_ENOMEM;
	a->slots = calloc(SLOTS, sizeof(*a->slots));
	a->front = calloc(FRONT_SLOTS, sizeof(*a->front));
	if (!a->slots || !a->front) {
		free(a->slots);
		free(a->front);
		free(a);
		return ATR_ENOMEM;
	}
	a->store = store;
	a->sha = atr_sha256_ctx_new();
	*out = a;
	return 0;
}

void atr_auth_free(struct atr_auth *a)
{
	if (!a)
		return;
	atr_sha256_ctx_free(a->sha);
	OPENSSL_cleanse(a->front, FRONT_SLOTS * sizeof(*a->front));
	free(a->front);
	free(a->slots);
	free(a);
}

static struct entry *find(struct atr_auth *a, const unsigned char hash[32], bool *found)
{
	uint64_t h;
	memcpy(&h, hash, sizeof(h));
	for (size_t i = (size_t)h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		struct entry *e = &a->slots[i];
		if (!e->used) {
			*found = false;
			return e;
		}
		if (memcmp(e->hash, hash, 32) == 0) {
			*found = true;
			return e;
		}
	}
}

void atr_auth_flush(struct atr_auth *a)
{
	bool began = false;

	for (size_t i = 0; i < SLOTS; i++) {
		struct entry *e = &a->slots[i];
		if (!e->used || !e->touched)
			continue;
		if (!began && atr_db_begin(a->store->db) < 0)
			return;
		began = true;
		atr_store_token_touch(a->store, e->who.token_id, e->last_used);
		e->touched = false;
	}
	if (began && atr_db_commit(a->store->db) < 0)
		atr_warn("could not record token use times");
}

void atr_auth_invalidate(struct atr_auth *a)
{
	atr_auth_flush(a);
	memset(a->slots, 0, SLOTS * sizeof(*a->slots));
	a->count = 0;
}

/* The front slot for token (len < ATR_TOKEN_MAX), its zero-padded copy in padded; *known: the
 * slot holds this token, and its hash. */
static struct front *front_of(struct atr_auth *a, const char *token, size_t len, char padded[ATR_TOKEN_MAX],
			      bool *known)
{
	struct front *f = &a->front[atr_fnv1a(token, len) & (FRONT_SLOTS - 1)];

	memset(padded, 0, ATR_TOKEN_MAX);
	memcpy(padded, token, len);
	*known = f->token[0] && CRYPTO_memcmp(f->token, padded, ATR_TOKEN_MAX) == 0;
	return f;
}

int atr_auth_lookup(struct atr_auth *a, const char *token, struct atr_principal *out)
{
	unsigned char hash[32];
	char hex[65], padded[ATR_TOKEN_MAX];
	struct entry *e;
	struct front *f;
	bool found, known;
	size_t len = strlen(token);
	int64_t now = atr_now_ms();
	int rc;

	if (strncmp(token, "atr_", 4) != 0 || len >= ATR_TOKEN_MAX)
		return ATR_EUNAUTH;
	f = front_of(a, token, len, padded, &known);
	if (known)
		memcpy(hash, f->hash, 32);
	else
		atr_sha256_with(a->sha, token, len, hash);
	e = find(a, hash, &found);
	if (!found) {
		struct atr_principal who;
		atr_hex_encode(hash, 32, hex);
		rc = atr_store_token_lookup(a->store, hex, &who);
		if (rc < 0)
			return rc == ATR_EDB ? ATR_EDB : ATR_EUNAUTH;
		if (a->count >= SLOTS * 3 / 4) {
			atr_auth_invalidate(a);
			e = find(a, hash, &found);
		}
		memcpy(e->hash, hash, 32);
		e->used = true;
		e->who = who;
		e->touched = false;
		e->last_used = 0;
		a->count++;
	}
	if (e->who.expires_at && e->who.expires_at <= now)
		return ATR_EUNAUTH;
	if (!known) { /* it authenticated: the next request with it skips the hash */
		memcpy(f->token, padded, ATR_TOKEN_MAX);
		memcpy(f->hash, hash, 32);
	}
	/* Record use at most once a minute per token: the column is informative. */
	if (now - e->last_used > 60000) {
		e->last_used = now;
		e->touched = true;
	}
	*out = e->who;
	return 0;
}

int atr_auth_basic_lookup(struct atr_auth *a, const char *user, char *stored_hash, size_t hashlen,
			  struct atr_principal *out)
{
	struct atr_user u;
	int rc = atr_store_user_get(a->store, user, &u);

	if (rc < 0)
		return rc == ATR_ENOTFOUND ? ATR_EUNAUTH : rc;
	if (u.disabled || !u.password_hash[0])
		return ATR_EUNAUTH;
	atr_copy(stored_hash, hashlen, u.password_hash);
	memset(out, 0, sizeof(*out));
	out->kind = ATR_P_USER;
	out->user_id = u.id;
	out->admin = u.admin;
	atr_copy(out->username, sizeof(out->username), u.username);
	return 0;
}
