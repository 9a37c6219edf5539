#ifndef ATRIUM_AUTH_H
#define ATRIUM_AUTH_H
/*
 * auth.h: who is calling. API tokens ("atr_" + base62 of 32 random bytes) are stored only as
 * sha256; a cache keyed by that hash answers the hot path without touching the database,
 * and is invalidated whenever a token or a user changes. Passwords use PBKDF2-HMAC-SHA256
 * with a random salt, computed off the loop (uv_queue_work) because it is slow on purpose.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct atr_store;
struct uv_loop_s;

enum atr_principal_kind {
	ATR_P_NONE = 0,
	ATR_P_USER,   /* a user's own token or a dashboard session */
	ATR_P_JOB,    /* job-scoped: one project, dies with the job */
	ATR_P_WORKER, /* a worker's secret */
	ATR_P_INVOKE, /* a deployment's invoke key */
	ATR_P_JOIN,   /* a worker join token (valid only for registration) */
};

struct atr_principal {
	enum atr_principal_kind kind;
	int64_t user_id; /* the user behind the token (job tokens: the submitter); 0 if none */
	int64_t token_id;
	bool admin;
	int64_t project_id; /* job and invoke tokens: the only project they reach */
	int64_t scope_id;   /* job id / worker id / deployment id, by kind */
	int64_t expires_at; /* ms; 0 = never */
	char username[64];
};

#define ATR_TOKEN_MAX 64 /* "atr_" + base62(32 bytes) + NUL fits */

/* A fresh token (text, shown once) and its sha256 hex (what is stored). */
int atr_token_new(char token[ATR_TOKEN_MAX], char hash_hex[65]);
/* sha256 hex of a presented token. */
void atr_token_hash(const char *token, char hash_hex[65]);

struct atr_auth;

int atr_auth_new(struct atr_store *store, struct atr_auth **out);
void atr_auth_free(struct atr_auth *a);
/* Resolves a bearer token: 0 and *out filled, or ATR_EUNAUTH (unknown, revoked, expired, disabled). */
int atr_auth_lookup(struct atr_auth *a, const char *token, struct atr_principal *out);
/* Forget every cached token (a token was revoked, a user changed). */
void atr_auth_invalidate(struct atr_auth *a);
/* Writes batched last-used times to the database (called from a timer and at shutdown). */
void atr_auth_flush(struct atr_auth *a);

/* Password hashing: "pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX". Slow: call off the loop. */
int atr_password_hash(const char *password, char *out, size_t outlen);
bool atr_password_verify(const char *password, const char *stored);
/* A fixed hash to verify against when the user does not exist (same cost, no oracle). */
const char *atr_password_dummy(void);

/*
 * Login rate limiting: at most max_fails failures per key (user name, client address) per
 * minute. Returns seconds to wait (>0) when the key is locked out, 0 when it may try.
 */
int atr_ratelimit_check(const char *key, int max_fails, int64_t now_ms);
void atr_ratelimit_fail(const char *key, int64_t now_ms);
void atr_ratelimit_reset(const char *key, int64_t now_ms);

#endif
