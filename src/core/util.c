/* util.c: time, randomness, encodings, hashing and string checks shared by every module. */
#include "atrium/util.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <uv.h>

/* The test seam (atr_clock_set): NULL in the daemon. Read relaxed: the clocks are read from
 * several threads, and one load and a predictable branch is all a reading costs. */
static _Atomic(atr_clock_fn) clock_hook;

void atr_clock_set(atr_clock_fn now_us)
{
	atomic_store_explicit(&clock_hook, now_us, memory_order_relaxed);
}

int64_t atr_now_ms(void)
{
	atr_clock_fn hook = atomic_load_explicit(&clock_hook, memory_order_relaxed);
	struct timespec ts;

	if (hook)
		return hook() / 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t atr_now_us(void)
{
	atr_clock_fn hook = atomic_load_explicit(&clock_hook, memory_order_relaxed);
	struct timespec ts;

	if (hook)
		return hook();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t atr_mono_us(void)
{
	atr_clock_fn hook = atomic_load_explicit(&clock_hook, memory_order_relaxed);
	struct timespec ts;

	if (hook)
		return (uint64_t)hook();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static char *put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* Written digit by digit: it runs for every timestamp of every answer, snprintf is 7x slower. */
void atr_time_format(int64_t ms, char *out, size_t outlen)
{
	int64_t secs = ms / 1000;
	int frac = (int)(ms % 1000);
	int64_t days, rem, z, era, doe, yoe, y, doy, mp, d, m;
	char buf[32], *p = buf;

	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days -= 1;
	}
	/* civil_from_days (Howard Hinnant's algorithm) */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999 || outlen < 25) {
		snprintf(out, outlen, "0000-01-01T00:00:00.000Z");
		return;
	}
	p = put_digits(p, (int)y, 4);
	*p++ = '-';
	p = put_digits(p, (int)m, 2);
	*p++ = '-';
	p = put_digits(p, (int)d, 2);
	*p++ = 'T';
	p = put_digits(p, (int)(rem / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (int)(rem / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (int)(rem % 60), 2);
	*p++ = '.';
	p = put_digits(p, frac, 3);
	*p++ = 'Z';
	*p = 0;
	memcpy(out, buf, (size_t)(p - buf) + 1);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int mo)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return mo == 2 && leap ? 29 : days[mo - 1];
}

int atr_time_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, ms_part = 0, oh = 0, om = 0, sign = 0;
	const char *p = s;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		return ATR_EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
		return ATR_EINVAL;
	if (*p == '.') {
		int n = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (n < 3)
				ms_part = ms_part * 10 + (*p - '0');
			n++;
			p++;
		}
		if (n == 0)
			return ATR_EINVAL;
		for (; n < 3; n++)
			ms_part *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return ATR_EINVAL;
	} else {
		return ATR_EINVAL;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
	    om > 59)
		return ATR_EINVAL; /* (2026-02-31 is no date: it is refused, not read as March 3) */
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + ms_part;
	return 0;
}

int atr_random_bytes(void *out, size_t len)
{
	if (len > INT_MAX || RAND_bytes(out, (int)len) != 1)
		return ATR_EIO;
	return 0;
}

void atr_copy(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (cap == 0)
		return;
	n = src ? strnlen(src, cap - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

uint64_t atr_fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h;
}

size_t atr_fmt_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}

size_t atr_fmt_i64(char *out, int64_t v)
{
	if (v >= 0)
		return atr_fmt_u64(out, (uint64_t)v);
	out[0] = '-';
	return 1 + atr_fmt_u64(out + 1, 0 - (uint64_t)v); /* INT64_MIN too */
}

void atr_fmt_hex64(char *out, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 15];
	out[16] = 0;
}

/* xorshift64*: only for ids and jitter, never for secrets. The loop is single-threaded. */
uint64_t atr_fast_rand(void)
{
	static uint64_t state;
	if (!state) {
		if (atr_random_bytes(&state, sizeof(state)) < 0 || !state)
			state = (uint64_t)atr_mono_us() | 1;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1DULL;
}

void atr_hex_encode(const void *in, size_t len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *p = in;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * len] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int atr_hex_decode(const char *in, void *out, size_t outlen)
{
	unsigned char *o = out;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(in[2 * i]), lo;
		if (hi < 0)
			return ATR_EINVAL;
		lo = hexval(in[2 * i + 1]);
		if (lo < 0)
			return ATR_EINVAL;
		o[i] = (unsigned char)(hi << 4 | lo);
	}
	return in[2 * outlen] ? ATR_EINVAL : 0;
}

size_t atr_base62_encode(const void *in, size_t len, char *out)
{
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char num[64];
	size_t n = 0;

	if (len > sizeof(num))
		len = sizeof(num);
	memcpy(num, in, len);
	/* Repeated division of the big-endian number by 62. */
	for (;;) {
		unsigned rem = 0;
		int nonzero = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned cur = rem * 256 + num[i];
			num[i] = (unsigned char)(cur / 62);
			rem = cur % 62;
			if (num[i])
				nonzero = 1;
		}
		out[n++] = al[rem];
		if (!nonzero)
			break;
	}
	for (size_t i = 0; i < n / 2; i++) {
		char t = out[i];
		out[i] = out[n - 1 - i];
		out[n - 1 - i] = t;
	}
	out[n] = 0;
	return n;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t atr_b64url_encode(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t o = 0, i = 0;
	for (; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = b64[(v >> 6) & 63];
	}
	out[o] = 0;
	return o;
}

long atr_b64url_decode(const char *in, void *out, size_t outcap)
{
	unsigned char *o = out;
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;

	for (const char *p = in; *p; p++) {
		const char *f = strchr(b64, *p);
		if (!f || !*p)
			return -1;
		acc = (acc << 6) | (unsigned)(f - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outcap)
				return -1;
			o[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (bits >= 6)
		return -1;
	return (long)n;
}

long atr_b64_decode(const char *in, void *out, size_t outcap)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *o = out;
	size_t n = 0, len = strlen(in);
	unsigned acc = 0;
	int bits = 0;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++) {
		const char *f = in[i] ? strchr(std, in[i]) : NULL;
		if (!f)
			return -1;
		acc = (acc << 6) | (unsigned)(f - std);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outcap)
				return -1;
			o[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (bits >= 6)
		return -1;
	return (long)n;
}

/*
 * SHA256() in OpenSSL 3 fetches the algorithm on every call; fetching it once halves the cost
 * of hashing a token per request. Fetched once for every thread (the thread pool hashes too).
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void atr_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || EVP_Digest(data, len, out, &n, sha256_md, NULL) != 1)
		SHA256(data, len, out);
}

struct evp_md_ctx_st *atr_sha256_ctx_new(void)
{
	return EVP_MD_CTX_new();
}

void atr_sha256_ctx_free(struct evp_md_ctx_st *ctx)
{
	EVP_MD_CTX_free(ctx);
}

void atr_sha256_with(struct evp_md_ctx_st *ctx, const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	pthread_once(&sha256_once, sha256_fetch);
	/* the same algorithm again: OpenSSL re-initialises the context's state, allocating nothing */
	if (!ctx || !sha256_md || EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1)
		atr_sha256(data, len, out);
}

void atr_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];
	atr_sha256(data, len, d);
	atr_hex_encode(d, 32, out);
}

int atr_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return ATR_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return ATR_EINVAL;
	*out = v;
	return 0;
}

int atr_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || *s < '0' || *s > '9')
		return ATR_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return ATR_EINVAL;
	if (*end) {
		char u = *end;
		if (u == 'k' || u == 'K')
			mul = 1ULL << 10;
		else if (u == 'm' || u == 'M')
			mul = 1ULL << 20;
		else if (u == 'g' || u == 'G')
			mul = 1ULL << 30;
		else if (u == 't' || u == 'T')
			mul = 1ULL << 40;
		else
			return ATR_EINVAL;
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return ATR_EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return ATR_EINVAL;
	*out = v * mul;
	return 0;
}

bool atr_git_commit_valid(const char *s)
{
	size_t n = s ? strspn(s, "0123456789abcdefABCDEF") : 0;
	return n >= 4 && n <= 64 && s[n] == '\0';
}

int atr_git_dirty_parse(const char *s)
{
	static const char *const yes[] = { "1", "true", "yes", "dirty" }, *const no[] = { "0", "false", "no", "clean" };

	for (size_t i = 0; s && i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

bool atr_is_slug(const char *s)
{
	size_t n = 0;
	if (!s)
		return false;
	for (const char *p = s; *p; p++, n++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && n > 0);
		if (!ok || n >= 63)
			return false;
	}
	return n > 0;
}

bool atr_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	while (p < e) {
		unsigned c = *p++;
		int n;
		unsigned cp, min;

		if (c < 0x80)
			continue;
		if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false; /* a continuation byte first, or 0xf8 and up */
		}
		if (e - p < n)
			return false;
		for (int i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false; /* overlong (%c0%af), beyond Unicode, or a surrogate */
	}
	return true;
}

bool atr_is_safe_path(const char *s, size_t len)
{
	size_t seg_start = 0;

	if (!s || len == 0 || len > 1024 || s[0] == '/' || !atr_utf8_valid(s, len))
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7f || c == '\\')
				return false;
			if (c != '/')
				continue;
		}
		size_t seg = i - seg_start;
		if (seg == 0)
			return false;
		if (seg == 1 && s[seg_start] == '.')
			return false;
		if (seg == 2 && s[seg_start] == '.' && s[seg_start + 1] == '.')
			return false;
		seg_start = i + 1;
	}
	return true;
}

char *atr_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int atr_mkdirs(const char *path, unsigned mode)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return ATR_EINVAL;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
			return ATR_EIO;
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
		return ATR_EIO;
	return 0;
}

static void report_and_close(uv_handle_t *h, void *arg)
{
	const char *type = uv_handle_type_name(uv_handle_get_type(h));
	int *left = arg;

	(*left)++;
	atr_error("handle '%s' left open at exit (%s, %s)", type ? type : "unknown",
		  uv_is_active(h) ? "active" : "inactive", uv_is_closing(h) ? "closing" : "not closing");
	if (!uv_is_closing(h))
		uv_close(h, NULL); /* (its owner forgot it: nobody waits for the callback) */
}

int atr_loop_close(uv_loop_t *loop)
{
	int left = 0;

	if (uv_loop_close(loop) == 0)
		return 0;
	uv_walk(loop, report_and_close, &left);
	if (left > 0)
		atr_error("the loop still had open handles at exit: %d", left);
	else
		atr_error("the loop still had requests in flight at exit");
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0)
		atr_error("the loop cannot be closed, even after closing what was left on it");
	return left > 0 ? left : 1;
}
