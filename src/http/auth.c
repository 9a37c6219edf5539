/*
 * auth.c: bearer tokens. A token is hashed once per request (sha256, ~1 us) and looked up in
 * an in-memory table keyed by that hash; only a miss reaches SQLite. Any change to tokens or
 * users clears the table (changes are rare, requests are many). Last-used times are kept in
 * the table and written in one transaction by atr_auth_flush, not one write per request.
 */
#include "atrium/auth.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 4096 /* power of two; the table is cleared when it is 3/4 full */

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
	struct evp_md_ctx_st *sha; /* reused for every request's token (NULL: one per hash) */
};

int atr_token_new(char token[ATR_TOKEN_MAX], char hash_hex[65])
{
	unsigned char raw[32];
	char b62[48]; /* base62 of 32 bytes is at most 43 characters */

	if (atr_random_bytes(raw, sizeof(raw)) < 0)
		return ATR_EIO;
	atr_base62_encode(raw, sizeof(raw), b62);
	snprintf(token, ATR_TOKEN_MAX, "atr_%s", b62);
	atr_token_hash(token, hash_hex);
	return 0;
}

void atr_token_hash(const char *token, char hash_hex[65])
{
	atr_sha256_hex(token, strlen(token), hash_hex);
}

int atr_auth_new(struct atr_store *store, struct atr_auth **out)
{
	struct atr_auth *a = calloc(1, sizeof(*a));
	if (!a)
		return ATR_ENOMEM;
	a->slots = calloc(SLOTS, sizeof(*a->slots));
	if (!a->slots) {
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

int atr_auth_lookup(struct atr_auth *a, const char *token, struct atr_principal *out)
{
	unsigned char hash[32];
	char hex[65];
	struct entry *e;
	bool found;
	int64_t now = atr_now_ms();
	int rc;

	if (strncmp(token, "atr_", 4) != 0 || strlen(token) >= ATR_TOKEN_MAX)
		return ATR_EUNAUTH;
	atr_sha256_with(a->sha, token, strlen(token), hash);
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
	/* Record use at most once a minute per token: the column is informative. */
	if (now - e->last_used > 60000) {
		e->last_used = now;
		e->touched = true;
	}
	*out = e->who;
	return 0;
}
