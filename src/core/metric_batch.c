/*
 * metric_batch.c: the single-pass parser of metric-ingest bodies. It walks the JSON once,
 * checking the grammar and the schema together, and appends points to a flat array; keys
 * are interned in a small hash table, so the store sees each series once per batch. Numbers
 * take the exact fast path (an integer mantissa below 2^53 and a power of ten up to 22 is one
 * correctly rounded multiply or divide) and fall back to strtod otherwise.
 * Not here: default steps and timestamps (they need the stored series: src/store/metrics.c).
 */
#include "atrium/metric_batch.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p, *start, *end;
	struct atr_metric_batch *b;
};

void atr_metric_batch_init(struct atr_metric_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void atr_metric_batch_release(struct atr_metric_batch *b)
{
	for (size_t i = 0; i < b->nkeys; i++)
		free(b->keys[i].name);
	free(b->keys);
	free(b->slots);
	free(b->pts);
	memset(b, 0, sizeof(*b));
}

bool atr_metric_key_valid(const char *s, size_t len)
{
	if (len < 1 || len > ATR_METRIC_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '/' || c == '-' || c == ' '))
			return false;
	}
	return true;
}

/* ---- errors ---- */

static int syntax(struct parser *x, const char *what)
{
	struct atr_metric_batch *b = x->b;
	b->syntax = true;
	snprintf(b->field, sizeof(b->field), "body");
	snprintf(b->msg, sizeof(b->msg), "the body is not valid JSON: %s at byte %zu", what, (size_t)(x->p - x->start));
	return ATR_EINVAL;
}

/* "'<field>' <what>", field = "metrics[i].name" (i < 0: name alone). */
static int bad(struct atr_metric_batch *b, long i, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct atr_metric_batch *b, long i, const char *name, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (i < 0)
		atr_copy(b->field, sizeof(b->field), name);
	else if (name)
		snprintf(b->field, sizeof(b->field), "metrics[%ld].%s", i, name);
	else
		snprintf(b->field, sizeof(b->field), "metrics[%ld]", i);
	snprintf(b->msg, sizeof(b->msg), "'%s' %s", b->field, what);
	b->syntax = false;
	return ATR_EINVAL;
}

/* ---- scanning ---- */

static int peek(const struct parser *x)
{
	return x->p < x->end ? (unsigned char)*x->p : -1;
}

static void ws(struct parser *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
		x->p++;
}

static bool literal(struct parser *x, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(x->end - x->p) < n || memcmp(x->p, word, n) != 0)
		return false;
	x->p += n;
	return true;
}

static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The one-character escapes and what they stand for. */
static const char esc_from[] = "\"\\/bfnrt";
static const char esc_to[] = "\"\\/\b\f\n\r\t";

/*
 * A string at x->p ('"'), decoded into out (cap >= 5 bytes, NUL-terminated). Longer strings
 * are still checked to their end; *len is then cap (more than fits).
 */
static int string(struct parser *x, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	bool over = false;

	x->p++;
	for (;;) {
		const char *s = x->p;
		while (x->p < x->end && *x->p != '"' && *x->p != '\\' && (unsigned char)*x->p >= 0x20)
			x->p++;
		size_t run = (size_t)(x->p - s);
		if (!over && n + run < cap) {
			memcpy(out + n, s, run);
			n += run;
		} else {
			over = true;
		}
		if (x->p >= x->end)
			return syntax(x, "unterminated string");
		if (*x->p == '"') {
			x->p++;
			break;
		}
		if (*x->p != '\\')
			return syntax(x, "control character in a string");
		if (x->end - x->p < 2)
			return syntax(x, "unterminated string");
		char tmp[4];
		size_t k = 1;
		const char *e = x->p[1] ? strchr(esc_from, x->p[1]) : NULL;
		if (x->p[1] == 'u') {
			int cp = x->end - x->p >= 6 ? hex4(x->p + 2) : -1;
			if (cp < 0)
				return syntax(x, "bad \\u escape");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return syntax(x, "lone surrogate in \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				int lo = x->end - x->p >= 12 && x->p[6] == '\\' && x->p[7] == 'u' ? hex4(x->p + 8) : -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return syntax(x, "lone surrogate in \\u escape");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				x->p += 6;
			}
			k = put_utf8(tmp, (unsigned)cp);
			x->p += 4;
		} else if (e) {
			tmp[0] = esc_to[e - esc_from];
		} else {
			return syntax(x, "bad escape in a string");
		}
		x->p += 2;
		if (!over && n + k < cap) {
			memcpy(out + n, tmp, k);
			n += k;
		} else {
			over = true;
		}
	}
	out[over ? 0 : n] = 0;
	*len = over ? cap : n;
	return 0;
}

struct num {
	const char *text;
	size_t len;
	uint64_t mant; /* significant digits, at most 19 */
	int exp10;     /* value = mant * 10^exp10 */
	bool neg, integer, many;
};

static int digits10(uint64_t v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static int number(struct parser *x, struct num *n)
{
	const char *p = x->p, *e = x->end;
	long exp = 0;

	memset(n, 0, sizeof(*n));
	n->text = p;
	n->integer = true;
	if (p < e && *p == '-') {
		n->neg = true;
		p++;
	}
	if (p >= e || *p < '0' || *p > '9')
		return syntax(x, "bad number");
	if (*p == '0' && p + 1 < e && p[1] >= '0' && p[1] <= '9')
		return syntax(x, "leading zero in a number");
	for (int frac = 0; frac < 2; frac++) {
		if (frac) {
			if (p >= e || *p != '.')
				break;
			p++;
			n->integer = false;
			if (p >= e || *p < '0' || *p > '9')
				return syntax(x, "bad number");
		}
		for (; p < e && *p >= '0' && *p <= '9'; p++) {
			int d = *p - '0';
			if (n->mant == 0 && d == 0) {
				n->exp10 -= frac;
				continue;
			}
			if (n->mant >= 1000000000000000000ULL) { /* a 20th significant digit */
				n->many = true;
				n->exp10 += 1 - frac;
				continue;
			}
			n->mant = n->mant * 10 + (uint64_t)d;
			n->exp10 -= frac;
		}
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		int sign = 1;
		n->integer = false;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			sign = *p++ == '-' ? -1 : 1;
		if (p >= e || *p < '0' || *p > '9')
			return syntax(x, "bad exponent");
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
		n->exp10 += (int)(sign * exp);
	}
	n->len = (size_t)(p - n->text);
	x->p = p;
	/* What jansson, the parser of every other body, refuses is refused here too: integers
	 * beyond 64 bits and numbers beyond a double's range. */
	if (n->integer &&
	    (n->many || n->exp10 != 0 || n->mant > (n->neg ? 9223372036854775808ULL : 9223372036854775807ULL)))
		return syntax(x, "too big integer");
	if (!n->integer && n->mant && n->exp10 + digits10(n->mant) > 309)
		return syntax(x, "real number overflow");
	return 0;
}

static const double pow10_exact[] = { 1e0,  1e1,  1e2,	1e3,  1e4,  1e5,  1e6,	1e7,  1e8,  1e9,  1e10, 1e11,
				      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static double num_double(const struct num *n)
{
	char small[64], *buf = small;
	double v;

	if (!n->many && n->mant <= (1ULL << 53) && n->exp10 >= -22 && n->exp10 <= 22) {
		v = (double)n->mant;
		v = n->exp10 < 0 ? v / pow10_exact[-n->exp10] : v * pow10_exact[n->exp10];
		return n->neg ? -v : v;
	}
	if (n->len >= sizeof(small) && !(buf = malloc(n->len + 1)))
		return NAN; /* reported as not finite; only absurdly long numbers get here */
	memcpy(buf, n->text, n->len);
	buf[n->len] = 0;
	v = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return v;
}

/* The number as an integer in [0, max], or -1 when it is not one (a fraction, an exponent). */
static int64_t num_index(const struct num *n, int64_t max)
{
	if (!n->integer || n->many || (n->neg && n->mant) || n->exp10 != 0)
		return -1;
	return n->mant <= (uint64_t)max ? (int64_t)n->mant : -1;
}

/* ---- keys ---- */

static int rehash(struct atr_metric_batch *b, size_t nslots)
{
	uint32_t *s = calloc(nslots, sizeof(*s));
	if (!s)
		return ATR_ENOMEM;
	for (size_t k = 0; k < b->nkeys; k++) {
		size_t i = (size_t)atr_fnv1a(b->keys[k].name, b->keys[k].len) & (nslots - 1);
		while (s[i])
			i = (i + 1) & (nslots - 1);
		s[i] = (uint32_t)(k + 1);
	}
	free(b->slots);
	b->slots = s;
	b->nslots = nslots;
	return 0;
}

static int intern(struct atr_metric_batch *b, const char *name, size_t len, uint32_t *idx)
{
	size_t i;

	if (b->nkeys * 2 >= b->nslots && rehash(b, b->nslots ? b->nslots * 2 : 16) < 0)
		return ATR_ENOMEM;
	i = (size_t)atr_fnv1a(name, len) & (b->nslots - 1);
	for (; b->slots[i]; i = (i + 1) & (b->nslots - 1)) {
		struct atr_metric_key *k = &b->keys[b->slots[i] - 1];
		if (k->len == len && memcmp(k->name, name, len) == 0) {
			k->count++;
			*idx = b->slots[i] - 1;
			return 0;
		}
	}
	if (b->nkeys == b->keycap) {
		size_t cap = b->keycap ? b->keycap * 2 : 8;
		struct atr_metric_key *nk = realloc(b->keys, cap * sizeof(*nk));
		if (!nk)
			return ATR_ENOMEM;
		b->keys = nk;
		b->keycap = cap;
	}
	b->keys[b->nkeys].name = malloc(len + 1);
	if (!b->keys[b->nkeys].name)
		return ATR_ENOMEM;
	memcpy(b->keys[b->nkeys].name, name, len);
	b->keys[b->nkeys].name[len] = 0;
	b->keys[b->nkeys].len = len;
	b->keys[b->nkeys].count = 1;
	b->slots[i] = (uint32_t)(b->nkeys + 1);
	*idx = (uint32_t)b->nkeys++;
	return 0;
}

/* ---- the document ---- */

enum { F_KEY = 1, F_VALUE = 2, F_STEP = 4, F_TS = 8 };

static int member_id(const char *name, size_t len)
{
	switch (len) {
	case 3:
		return memcmp(name, "key", 3) == 0 ? F_KEY : 0;
	case 4:
		return memcmp(name, "step", 4) == 0 ? F_STEP : 0;
	case 5:
		return memcmp(name, "value", 5) == 0 ? F_VALUE : 0;
	case 9:
		return memcmp(name, "timestamp", 9) == 0 ? F_TS : 0;
	default:
		return 0;
	}
}

/*
 * The common case of a string: no escapes. Sets the span of its bytes and moves past it;
 * false (nothing consumed) when it needs string() to decode or to report an error.
 */
static bool raw_string(struct parser *x, const char **s, size_t *n)
{
	const char *p = x->p + 1;
	while (p < x->end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
		p++;
	if (p >= x->end || *p != '"')
		return false;
	*s = x->p + 1;
	*n = (size_t)(p - *s);
	x->p = p + 1;
	return true;
}

/* A member name (raw or decoded into buf, cap 16) and its ':'. */
static int member_name(struct parser *x, char *buf, const char **name, size_t *len)
{
	int rc = 0;

	if (peek(x) != '"')
		return syntax(x, "expected a member name");
	if (!raw_string(x, name, len)) {
		*name = buf;
		rc = string(x, buf, 16, len);
	}
	if (rc < 0)
		return rc;
	ws(x);
	if (peek(x) != ':')
		return syntax(x, "expected ':'");
	x->p++;
	ws(x);
	return 0;
}

/* After a member or an item: 1 when a ',' says another follows, 0 past the closing bracket. */
static int next_or_end(struct parser *x, char close)
{
	ws(x);
	if (peek(x) == ',') {
		x->p++;
		ws(x);
		return 1;
	}
	if (peek(x) != close)
		return syntax(x, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	x->p++;
	return 0;
}

/* 400 for an unknown member: named when it is printable, else just said. */
static int unknown(struct atr_metric_batch *b, long i, const char *name, size_t len)
{
	char n[16];
	if (len >= sizeof(n) || !atr_metric_key_valid(name, len))
		return i < 0 ? bad(b, -1, "body", "has an unknown field") : bad(b, i, NULL, "has an unknown field");
	memcpy(n, name, len);
	n[len] = 0;
	return bad(b, i, n, "is not a known field");
}

/* What a value that is not of the expected kind is, for the message. */
static const char *kind_of(int c)
{
	switch (c) {
	case '"':
		return "a string";
	case '{':
		return "an object";
	case '[':
		return "an array";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return "a number";
	}
}

/*
 * A value of the wrong kind: 400 naming the field, or malformed JSON when what is there does
 * not start a JSON value at all ("[1,]").
 */
static int mismatch(struct parser *x, long i, const char *name, const char *want)
{
	int c = peek(x);
	if (c < 0 || !strchr("\"{[tfn-0123456789", c) || c == 0)
		return syntax(x, "expected a value");
	return bad(x->b, i, name, "must be %s, not %s", want, kind_of(c));
}

static int field_key(struct parser *x, long i, struct atr_metric_in *pt)
{
	char buf[ATR_METRIC_KEY_MAX + 2];
	const char *k;
	size_t len;
	int rc;

	if (peek(x) != '"')
		return mismatch(x, i, "key", "a string");
	if (!raw_string(x, &k, &len)) {
		if ((rc = string(x, buf, sizeof(buf), &len)) < 0)
			return rc;
		k = buf;
	}
	if (!atr_metric_key_valid(k, len))
		return bad(x->b, i, "key", "must be 1-%d bytes of letters, digits, spaces and '_' '.' '/' '-'",
			   ATR_METRIC_KEY_MAX);
	return intern(x->b, k, len, &pt->key);
}

static int field_value(struct parser *x, long i, struct atr_metric_in *pt)
{
	struct num n;
	int c = peek(x), rc;

	if (c == 'N' || c == 'I' || (c == '-' && x->end - x->p > 1 && x->p[1] == 'I'))
		return bad(x->b, i, "value", "must be a finite number");
	if (c != '-' && (c < '0' || c > '9'))
		return mismatch(x, i, "value", "a number");
	if ((rc = number(x, &n)) < 0)
		return rc;
	pt->value = num_double(&n);
	if (!isfinite(pt->value))
		return bad(x->b, i, "value", "must be a finite number");
	return 0;
}

/* An integer member from 0 to max, or null (which leaves *out as it was: -1, not given). */
static int field_int(struct parser *x, long i, const char *name, int64_t max, const char *want, int64_t *out)
{
	struct num n;
	int c = peek(x), rc;

	if (c == 'n' && literal(x, "null"))
		return 0;
	if (c != '-' && (c < '0' || c > '9'))
		return mismatch(x, i, name, want);
	if ((rc = number(x, &n)) < 0)
		return rc;
	if ((*out = num_index(&n, max)) < 0)
		return bad(x->b, i, name, "must be %s from 0 to %lld", want, (long long)max);
	return 0;
}

static int field_step(struct parser *x, long i, struct atr_metric_in *pt)
{
	return field_int(x, i, "step", ATR_METRIC_STEP_MAX, "an integer", &pt->step);
}

static int field_ts(struct parser *x, long i, struct atr_metric_in *pt)
{
	if (peek(x) == '"') {
		char buf[64];
		size_t len;
		int64_t ms;
		int rc = string(x, buf, sizeof(buf), &len);
		if (rc < 0)
			return rc;
		if (len >= sizeof(buf) || strlen(buf) != len || atr_time_parse(buf, &ms) < 0 || ms < 0 ||
		    ms > ATR_METRIC_TS_MAX) /* (an escaped NUL would end the time early) */
			return bad(x->b, i, "timestamp", "must be an RFC 3339 time after 1970 or ms since the epoch");
		pt->ts = ms;
		return 0;
	}
	return field_int(x, i, "timestamp", ATR_METRIC_TS_MAX, "whole ms since the epoch (or an RFC 3339 string)",
			 &pt->ts);
}

static int point(struct parser *x, long i)
{
	struct atr_metric_batch *b = x->b;
	struct atr_metric_in pt = { .step = -1, .ts = -1 };
	unsigned seen = 0;
	int rc;

	if (peek(x) != '{')
		return mismatch(x, i, NULL, "an object");
	x->p++;
	ws(x);
	if (peek(x) == '}')
		x->p++;
	else
		for (;;) {
			char buf[16];
			const char *name;
			size_t len;
			int id;
			if ((rc = member_name(x, buf, &name, &len)) < 0)
				return rc;
			if (!(id = member_id(name, len)))
				return unknown(b, i, name, len);
			if (seen & (unsigned)id)
				return syntax(x, "duplicate object key");
			seen |= (unsigned)id;
			rc = id == F_KEY     ? field_key(x, i, &pt)
			     : id == F_VALUE ? field_value(x, i, &pt)
			     : id == F_STEP  ? field_step(x, i, &pt)
					     : field_ts(x, i, &pt);
			if (rc < 0 || (rc = next_or_end(x, '}')) < 0)
				return rc;
			if (rc == 0)
				break;
		}
	if (!(seen & F_KEY))
		return bad(b, i, "key", "is required");
	if (!(seen & F_VALUE))
		return bad(b, i, "value", "is required");
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct atr_metric_in *np = realloc(b->pts, cap * sizeof(*np));
		if (!np)
			return ATR_ENOMEM;
		b->pts = np;
		b->cap = cap;
	}
	b->pts[b->n++] = pt;
	return 0;
}

static int points(struct parser *x, size_t max)
{
	int c = peek(x), rc;

	if (c == 'n' && literal(x, "null"))
		return bad(x->b, -1, "metrics", "must not be null; expected an array");
	if (c != '[')
		return mismatch(x, -1, "metrics", "an array");
	x->p++;
	ws(x);
	if (peek(x) == ']') {
		x->p++;
		return 0;
	}
	for (long i = 0;; i++) {
		if ((size_t)i >= max)
			return bad(x->b, -1, "metrics", "must have at most %zu items", max);
		if ((rc = point(x, i)) < 0 || (rc = next_or_end(x, ']')) <= 0)
			return rc;
	}
}

int atr_metric_batch_parse(struct atr_metric_batch *b, const char *json, size_t len, size_t max_points)
{
	struct parser x = { json, json, json + len, b };
	bool seen = false;
	int rc;

	/* A typical point is about 60 bytes of JSON: size the array once. */
	if (len / 48 > 64) {
		size_t cap = len / 48 < max_points ? len / 48 : max_points;
		if (!(b->pts = malloc(cap * sizeof(*b->pts))))
			return ATR_ENOMEM;
		b->cap = cap;
	}
	ws(&x);
	if (peek(&x) != '{')
		return x.p >= x.end || (peek(&x) > 0 && strchr("[\"-0123456789", peek(&x))) || literal(&x, "true") ||
				       literal(&x, "false") || literal(&x, "null")
			       ? bad(b, -1, "body", "the request body must be a JSON object")
			       : syntax(&x, "expected a JSON value");
	x.p++;
	ws(&x);
	if (peek(&x) == '}')
		x.p++;
	else
		for (;;) {
			char buf[16];
			const char *name;
			size_t n;
			if ((rc = member_name(&x, buf, &name, &n)) < 0)
				return rc;
			if (n != 7 || memcmp(name, "metrics", 7) != 0)
				return unknown(b, -1, name, n);
			if (seen)
				return syntax(&x, "duplicate object key");
			seen = true;
			if ((rc = points(&x, max_points)) < 0 || (rc = next_or_end(&x, '}')) < 0)
				return rc;
			if (rc == 0)
				break;
		}
	ws(&x);
	if (x.p != x.end)
		return syntax(&x, "text after the JSON value");
	if (!seen)
		return bad(b, -1, "metrics", "is required");
	return 0;
}
