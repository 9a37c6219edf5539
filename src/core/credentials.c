/*
 * credentials.c: API tokens (random; stored as their sha256), PBKDF2-HMAC-SHA256 password
 * hashes with a random salt and constant-time comparison, and the login rate limiter. Hashing is slow on purpose: callers run it on
 * libuv's thread pool (see api/auth.c), never on the loop.
 */
#include "atrium/credentials.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define ITERATIONS 210000 /* OWASP's 2023 figure for PBKDF2-HMAC-SHA256 */
#define SALT_LEN 16
#define HASH_LEN 32

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

static int derive(const char *password, const unsigned char *salt, size_t salt_len, int iter,
		  unsigned char out[HASH_LEN])
{
	return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iter, EVP_sha256(), HASH_LEN,
				 out) == 1
		       ? 0
		       : ATR_EIO;
}

int atr_password_hash(const char *password, char *out, size_t outlen)
{
	unsigned char salt[SALT_LEN], dk[HASH_LEN];
	char salt_hex[2 * SALT_LEN + 1], dk_hex[2 * HASH_LEN + 1];

	int iter = ITERATIONS;
	const char *test_iter = getenv("ATRIUM_TEST_PBKDF2_ITERATIONS");

	/* Test aid only: sanitizer builds make 210k iterations take a second. */
	if (test_iter && strtol(test_iter, NULL, 10) >= 1000 && strtol(test_iter, NULL, 10) <= ITERATIONS)
		iter = (int)strtol(test_iter, NULL, 10);
	if (atr_random_bytes(salt, sizeof(salt)) < 0 || derive(password, salt, sizeof(salt), iter, dk) < 0)
		return ATR_EIO;
	atr_hex_encode(salt, sizeof(salt), salt_hex);
	atr_hex_encode(dk, sizeof(dk), dk_hex);
	if ((size_t)snprintf(out, outlen, "pbkdf2-sha256$%d$%s$%s", iter, salt_hex, dk_hex) >= outlen)
		return ATR_EINVAL;
	return 0;
}

bool atr_password_verify(const char *password, const char *stored)
{
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	char salt_hex[2 * SALT_LEN + 1], dk_hex[2 * HASH_LEN + 1];
	int iter;

	if (!stored || sscanf(stored, "pbkdf2-sha256$%d$%32[0-9a-f]$%64[0-9a-f]", &iter, salt_hex, dk_hex) != 3)
		return false;
	if (iter < 1000 || iter > 10000000 || atr_hex_decode(salt_hex, salt, SALT_LEN) < 0 ||
	    atr_hex_decode(dk_hex, want, HASH_LEN) < 0)
		return false;
	if (derive(password, salt, SALT_LEN, iter, got) < 0)
		return false;
	return CRYPTO_memcmp(got, want, HASH_LEN) == 0;
}

const char *atr_password_dummy(void)
{
	return "pbkdf2-sha256$210000$00000000000000000000000000000000$"
	       "0000000000000000000000000000000000000000000000000000000000000000";
}

/* Rate limiting: a small fixed table of (key, failures, window start). */
#define RL_SLOTS 1024
#define RL_WINDOW_MS 60000

struct rl_entry {
	char key[96];
	int fails;
	int64_t start;
};
static struct rl_entry rl[RL_SLOTS];

static struct rl_entry *rl_find(const char *key, bool create, int64_t now)
{
	uint64_t h = atr_fnv1a(key, strlen(key));
	for (size_t n = 0, i = (size_t)h % RL_SLOTS; n < 8; n++, i = (i + 1) % RL_SLOTS) {
		struct rl_entry *e = &rl[i];
		bool stale = e->key[0] && now - e->start > RL_WINDOW_MS;
		if (e->key[0] && !stale && strncmp(e->key, key, sizeof(e->key) - 1) == 0)
			return e;
		if (create && (!e->key[0] || stale)) {
			atr_copy(e->key, sizeof(e->key), key);
			e->fails = 0;
			e->start = now;
			return e;
		}
	}
	if (!create)
		return NULL;
	/* Neighbourhood full: reuse the oldest of the probed slots. */
	struct rl_entry *e = &rl[(size_t)h % RL_SLOTS];
	atr_copy(e->key, sizeof(e->key), key);
	e->fails = 0;
	e->start = now;
	return e;
}

int atr_ratelimit_check(const char *key, int max_fails, int64_t now_ms)
{
	struct rl_entry *e = rl_find(key, false, now_ms);
	if (!e || e->fails < max_fails)
		return 0;
	return (int)((e->start + RL_WINDOW_MS - now_ms) / 1000) + 1;
}

void atr_ratelimit_fail(const char *key, int64_t now_ms)
{
	struct rl_entry *e = rl_find(key, true, now_ms);
	e->fails++;
}

void atr_ratelimit_reset(const char *key, int64_t now_ms)
{
	struct rl_entry *e = rl_find(key, false, now_ms);
	if (e)
		e->key[0] = 0;
}
