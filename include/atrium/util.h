#ifndef ATRIUM_UTIL_H
#define ATRIUM_UTIL_H
/* Small helpers with no HTTP and no SQL: time, randomness, encodings, hashing, strings, and
 * closing a libuv loop at exit. */
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ATR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Wall clock in milliseconds / microseconds since the epoch; monotonic microseconds. */
int64_t atr_now_ms(void);
int64_t atr_now_us(void);
uint64_t atr_mono_us(void);

/*
 * The clock's test seam. atr_clock_set(fn) makes the three functions above read fn(), in
 * microseconds since the epoch, instead of the system's clocks: atr_now_ms() is fn() / 1000,
 * atr_now_us() and atr_mono_us() are fn() (so a fake clock must never go back). NULL gives
 * the system's clocks back. The daemon never calls it; unit tests do (tests/unit/test_engine.c,
 * test_deploy.c). A function rather than an offset, so that a test's time stands still
 * between two of its steps: deadlines are crossed exactly when the test says, and the
 * engine's passes, timed with atr_mono_us(), cost 0 us and so are always due at once. Set it
 * before other threads read the clock; unset, it costs one relaxed load and a branch.
 *
 * libuv's timers are not moved by it (the loop keeps its own monotonic time, and the daemon's
 * timers stay exactly as they are): what they run compares atr_now_ms() with its deadlines,
 * so a test moves the clock and then runs that work itself, through the module's internal
 * entry point (eng_tick in src/jobs/jobs_internal.h, dep_reconcile_all in
 * src/deploy/deploy_internal.h). Timers of 0 ms (a pass, a reconcile "soon") run with
 * uv_run(loop, UV_RUN_NOWAIT).
 */
typedef int64_t (*atr_clock_fn)(void);
void atr_clock_set(atr_clock_fn now_us);

/* Formats ms since the epoch as RFC 3339 UTC "2026-01-02T03:04:05.678Z" into out (>= 32 bytes). */
void atr_time_format(int64_t ms, char *out, size_t outlen);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction). Returns 0 or ATR_EINVAL. */
int atr_time_parse(const char *s, int64_t *ms);

/* Cryptographic random bytes (libcrypto). Returns 0 or ATR_EIO. */
int atr_random_bytes(void *out, size_t len);
/* Fast non-cryptographic 64-bit random (request ids, jitter), seeded from atr_random_bytes. */
uint64_t atr_fast_rand(void);

/* v in decimal at out (room for 21 bytes), NUL-terminated; returns the length. Hot paths
 * (the access log, cache keys): no printf machinery. */
/* Copies src (NULL: "") into dst of cap bytes, cut to fit, terminated (nothing when cap is 0):
 * snprintf(dst, cap, "%s", src) without the format parsing. */
void atr_copy(char *dst, size_t cap, const char *src);
size_t atr_fmt_u64(char *out, uint64_t v);
/* FNV-1a (64-bit) of n bytes at p: the hash of the in-memory tables (not for anything an
 * attacker must not collide: every table compares the whole key after it). */
uint64_t atr_fnv1a(const void *p, size_t n);
size_t atr_fmt_i64(char *out, int64_t v);
/* v as 16 lowercase hex digits at out (17 bytes), NUL-terminated. */
void atr_fmt_hex64(char *out, uint64_t v);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void atr_hex_encode(const void *in, size_t len, char *out);
/* Decodes exactly outlen bytes from 2*outlen hex chars; 0 or ATR_EINVAL. */
int atr_hex_decode(const char *in, void *out, size_t outlen);
/* Base62 of bytes (big-number conversion); out must hold 2*len+1. Returns length. */
size_t atr_base62_encode(const void *in, size_t len, char *out);
/* base64url without padding; out must hold 4*((len+2)/3)+1. Returns length. */
size_t atr_b64url_encode(const void *in, size_t len, char *out);
/* Returns decoded length or -1 when invalid; out must hold 3*strlen(in)/4+3. */
long atr_b64url_decode(const char *in, void *out, size_t outcap);
/* Standard base64 (RFC 4648 section 4, '=' padding optional): the length, or -1. */
long atr_b64_decode(const char *in, void *out, size_t outcap);

/* sha256 of a buffer: 32 raw bytes / 65-byte hex. */
void atr_sha256(const void *data, size_t len, unsigned char out[32]);
/* A SHA-256 context kept by a hot caller on one thread (hashing with it allocates nothing);
 * atr_sha256_with falls back to atr_sha256 when ctx is NULL or fails. */
struct evp_md_ctx_st;
struct evp_md_ctx_st *atr_sha256_ctx_new(void);
void atr_sha256_ctx_free(struct evp_md_ctx_st *ctx);
void atr_sha256_with(struct evp_md_ctx_st *ctx, const void *data, size_t len, unsigned char out[32]);
void atr_sha256_hex(const void *data, size_t len, char out[65]);

/* Parses a whole decimal integer in [min,max]; 0 or ATR_EINVAL. */
int atr_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parses "10GiB", "512k", "1048576" into bytes; 0 or ATR_EINVAL. */
int atr_parse_size(const char *s, uint64_t *out);

/* Well-formed UTF-8: no overlong forms, surrogates or code points beyond U+10FFFF. */
bool atr_utf8_valid(const char *s, size_t len);

/* true when s matches [a-z0-9][a-z0-9-]{0,62} */
bool atr_is_slug(const char *s);
/* true when s is a git commit hash (or an abbreviation of one): 4-64 hexadecimal digits. */
bool atr_git_commit_valid(const char *s);
/* ATRIUM_GIT_DIRTY's value: 1 for "1", "true", "yes", "dirty"; 0 for "0", "false", "no",
 * "clean" (any case); -1 for anything else (NULL included). */
int atr_git_dirty_parse(const char *s);
/* true when s is a safe relative artifact path: '/'-separated, no empty, '.' or '..'
 * parts, no leading '/', no control characters (NUL included), valid UTF-8, at most 1024 bytes. */
bool atr_is_safe_path(const char *s, size_t len);

/* strdup that returns NULL on NULL. */
char *atr_strdup(const char *s);
/* mkdir -p with mode; 0 or ATR_EIO. */
int atr_mkdirs(const char *path, unsigned mode);

struct uv_loop_s;
/*
 * Closes a loop at the end of a program, after its last uv_run. A handle still on it was
 * forgotten: each one is logged (its type, active or not, closing or not), closed, and the
 * loop run until they are, so that it closes anyway. Returns 0 when the loop closed with
 * nothing left on it, else the number of handles that were (at least 1): the program then
 * fails its exit, as libuv's own tests fail when uv_loop_close() != 0.
 */
int atr_loop_close(struct uv_loop_s *loop);

/* out = hex(HMAC-SHA256(key, msg)), NUL-terminated (src/core/hmac.c). 0, or -1 when libcrypto fails. */
int atr_hmac_sha256_hex(const void *key, size_t klen, const void *msg, size_t mlen, char out[65]);

#endif
