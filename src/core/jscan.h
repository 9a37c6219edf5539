#ifndef ATRIUM_CORE_JSCAN_H
#define ATRIUM_CORE_JSCAN_H
/*
 * jscan.h: private to src/core: the scanning primitives of the single-pass parsers of metric
 * bodies (metric_batch.c: Atrium's POST /api/v1/runs/{run}/metrics; mlflow_batch.c: MLflow's
 * runs/log-batch), static inline so that each parser keeps them as if they were its own.
 * Errors go to the batch's field, msg and syntax (atr_metric_batch).
 */
#include "atrium/err.h"
#include "atrium/metric_batch.h"
#include "atrium/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jscan {
	const char *p, *start, *end;
	struct atr_metric_batch *b;
	bool mlflow; /* MLflow's points: values may be strings ("NaN", "Infinity"), steps default to 0 */
};

/* The points array of a metrics body ("metrics": [...]) at x->p, at most max (metric_batch.c). */
int jscan_points(struct jscan *x, size_t max);

/* ---- errors ---- */

static inline int syntax(struct jscan *x, const char *what)
{
	struct atr_metric_batch *b = x->b;
	b->syntax = true;
	snprintf(b->field, sizeof(b->field), "body");
	snprintf(b->msg, sizeof(b->msg), "the body is not valid JSON: %s at byte %zu", what, (size_t)(x->p - x->start));
	return ATR_EINVAL;
}

/* "'<field>' <what>", field = "metrics[i].name" (i < 0: name alone). */
static inline int bad(struct atr_metric_batch *b, long i, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline int bad(struct atr_metric_batch *b, long i, const char *name, const char *fmt, ...)
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

static inline int peek(const struct jscan *x)
{
	return x->p < x->end ? (unsigned char)*x->p : -1;
}

static inline void ws(struct jscan *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
		x->p++;
}

static inline bool literal(struct jscan *x, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(x->end - x->p) < n || memcmp(x->p, word, n) != 0)
		return false;
	x->p += n;
	return true;
}

static inline int hex4(const char *p)
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

static inline size_t put_utf8(char *o, unsigned cp)
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
static inline int string(struct jscan *x, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	bool over = false;

	x->p++;
	for (;;) {
		const char *s = x->p;
		while (x->p < x->end && *x->p != '"' && *x->p != '\\' && (unsigned char)*x->p >= 0x20)
			x->p++;
		size_t run = (size_t)(x->p - s);
		/* (a run ends at an ASCII byte, so a character is never cut in two; jansson, and so the
		 * validator of every other route, refuses a body that is not UTF-8) */
		if (!atr_utf8_valid(s, run))
			return syntax(x, "a string that is not UTF-8");
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

static inline int digits10(uint64_t v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static inline int number(struct jscan *x, struct num *n)
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

static inline double num_double(const struct num *n)
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
static inline int64_t num_index(const struct num *n, int64_t max)
{
	if (!n->integer || n->many || (n->neg && n->mant) || n->exp10 != 0)
		return -1;
	return n->mant <= (uint64_t)max ? (int64_t)n->mant : -1;
}

/*
 * The common case of a string: no escapes. Sets the span of its bytes and moves past it;
 * false (nothing consumed) when it needs string() to decode or to report an error.
 */
static inline bool raw_string(struct jscan *x, const char **s, size_t *n)
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
static inline int member_name(struct jscan *x, char *buf, const char **name, size_t *len)
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
static inline int next_or_end(struct jscan *x, char close)
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
static inline int unknown(struct atr_metric_batch *b, long i, const char *name, size_t len)
{
	char n[16];
	if (len >= sizeof(n) || !atr_metric_key_valid(name, len))
		return i < 0 ? bad(b, -1, "body", "has an unknown field") : bad(b, i, NULL, "has an unknown field");
	memcpy(n, name, len);
	n[len] = 0;
	return bad(b, i, n, "is not a known field");
}

/* What a value that is not of the expected kind is, for the message. */
static inline const char *kind_of(int c)
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
static inline int mismatch(struct jscan *x, long i, const char *name, const char *want)
{
	int c = peek(x);
	if (c < 0 || !strchr("\"{[tfn-0123456789", c) || c == 0)
		return syntax(x, "expected a value");
	return bad(x->b, i, name, "must be %s, not %s", want, kind_of(c));
}

#endif
