#ifndef ATRIUM_CREDENTIALS_H
#define ATRIUM_CREDENTIALS_H
/*
 * credentials.h: secrets that prove who calls, without any storage. API tokens ("atr_" +
 * base62 of 32 random bytes) are stored only as their sha256. Passwords use PBKDF2-HMAC-SHA256
 * with a random salt: slow on purpose, so callers on the loop compute them on the thread pool.
 * Failed sign-ins are rate limited per key (user name, client address).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atrium/principal.h"

/* A fresh token (text, shown once) and its sha256 hex (what is stored). */
int atr_token_new(char token[ATR_TOKEN_MAX], char hash_hex[65]);
/* sha256 hex of a presented token. */
void atr_token_hash(const char *token, char hash_hex[65]);

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
