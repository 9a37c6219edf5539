/*
 * jsonw.c: writes a json_t as compact JSON text, the same text json_dumps(JSON_COMPACT)
 * gives, without jansson's per-object loop detection (a hashtable insert and an snprintf for
 * every object): answers are trees built by handlers, never cyclic. Used for every JSON
 * answer; the hot path of the API.
 */
#include "atrium/json.h"
#include "atrium/buf.h"
#include "atrium/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *p;
	size_t n, cap;
	bool failed;
};

static bool reserve(struct out *o, size_t more)
{
	size_t ncap;
	char *np;

	if (o->failed)
		return false;
	if (o->n + more + 1 <= o->cap)
		return true;
	ncap = o->cap ? o->cap * 2 : 512;
	while (ncap < o->n + more + 1)
		ncap *= 2;
	np = realloc(o->p, ncap);
	if (!np) {
		o->failed = true;
		return false;
	}
	o->p = np;
	o->cap = ncap;
	return true;
}

static void put(struct out *o, const char *s, size_t len)
{
	if (!reserve(o, len))
		return;
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

/* The escape of a character JSON strings may not hold as is (as jansson writes it), into esc
 * (8 bytes); 0 when c needs none. */
static size_t escape(unsigned char c, char *esc)
{
	static const char hx[] = "0123456789ABCDEF"; /* as jansson writes them */
	size_t el = 0;

	if (c >= 0x20 && c != '"' && c != '\\')
		return 0;
	esc[el++] = '\\';
	switch (c) {
	case '"':
	case '\\':
		esc[el++] = (char)c;
		break;
	case '\b':
		esc[el++] = 'b';
		break;
	case '\f':
		esc[el++] = 'f';
		break;
	case '\n':
		esc[el++] = 'n';
		break;
	case '\r':
		esc[el++] = 'r';
		break;
	case '\t':
		esc[el++] = 't';
		break;
	default:
		memcpy(esc + el, "u00", 3);
		el += 3;
		esc[el++] = hx[c >> 4];
		esc[el++] = hx[c & 15];
	}
	return el;
}

static void put_string(struct out *o, const char *s, size_t len)
{
	size_t start = 0;

	if (!reserve(o, len + 2))
		return;
	o->p[o->n++] = '"';
	for (size_t i = 0; i < len; i++) {
		char esc[8];
		size_t el = escape((unsigned char)s[i], esc);
		if (!el)
			continue;
		put(o, s + start, i - start);
		start = i + 1;
		put(o, esc, el);
	}
	put(o, s + start, len - start);
	put(o, "\"", 1);
}

static void put_int(struct out *o, json_int_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(o, p, (size_t)(buf + sizeof(buf) - p));
}

/* A real as jansson writes one: it always reads back as a real, exponents lose '+' and leading
 * zeros. The length, or -1. */
static int format_real(double d, char buf[40])
{
	int n = snprintf(buf, 40, "%.17g", d);

	if (n < 0 || n >= 40 - 3)
		return -1;
	if (!strpbrk(buf, ".eE")) {
		buf[n++] = '.';
		buf[n++] = '0';
		buf[n] = 0;
	} else {
		char *e = strchr(buf, 'e');
		if (e) {
			char *src = e + 1, *dst = e + 1;
			if (*src == '-')
				*dst++ = *src++;
			else if (*src == '+')
				src++;
			while (*src == '0' && src[1])
				src++;
			memmove(dst, src, strlen(src) + 1);
			n = (int)strlen(buf);
		}
	}
	return n;
}

static void put_real(struct out *o, double d)
{
	char buf[40];
	int n = format_real(d, buf);

	if (n < 0) {
		o->failed = true;
		return;
	}
	put(o, buf, (size_t)n);
}

static void write_value(struct out *o, const json_t *v, int depth)
{
	if (depth > 2048) {
		o->failed = true;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		bool first = true;
		put(o, "{", 1);
		json_object_foreach((json_t *)v, k, x)
		{
			if (!first)
				put(o, ",", 1);
			first = false;
			put_string(o, k, strlen(k));
			put(o, ":", 1);
			write_value(o, x, depth + 1);
		}
		put(o, "}", 1);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		put(o, "[", 1);
		json_array_foreach(v, i, x)
		{
			if (i)
				put(o, ",", 1);
			write_value(o, x, depth + 1);
		}
		put(o, "]", 1);
		break;
	}
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		put_int(o, json_integer_value(v));
		break;
	case JSON_REAL:
		put_real(o, json_real_value(v));
		break;
	case JSON_TRUE:
		put(o, "true", 4);
		break;
	case JSON_FALSE:
		put(o, "false", 5);
		break;
	case JSON_NULL:
		put(o, "null", 4);
		break;
	}
}

char *atr_json_write(const json_t *v, size_t *len)
{
	struct out o = { 0 };

	if (!v)
		return NULL;
	write_value(&o, v, 0);
	if (o.failed || !reserve(&o, 0)) {
		free(o.p);
		return NULL;
	}
	o.p[o.n] = 0;
	if (len)
		*len = o.n;
	return o.p;
}

int atr_json_buf_str(struct atr_buf *b, const char *s)
{
	size_t start = 0, len = strlen(s);
	int rc = atr_buf_append(b, "\"", 1);

	for (size_t i = 0; rc == 0 && i < len; i++) {
		char esc[8];
		size_t el = escape((unsigned char)s[i], esc);
		if (!el)
			continue;
		if ((rc = atr_buf_append(b, s + start, i - start)) == 0)
			rc = atr_buf_append(b, esc, el);
		start = i + 1;
	}
	if (rc == 0)
		rc = atr_buf_append(b, s + start, len - start);
	return rc == 0 ? atr_buf_append(b, "\"", 1) : rc;
}

static const double pow10s[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

/*
 * The fast path of a real: a value that is m / 10^k exactly as doubles go (m an integer below
 * 2^53, k up to 15: 0.5, 0.99978, 1234.25) is written as that decimal, which reads back as the
 * same double (m / 10^k is correctly rounded, as the reader's conversion is). The length, or 0
 * when the value is not such a decimal.
 */
static int short_decimal(double d, char *buf)
{
	double a = fabs(d);
	char digits[24], *p = digits + sizeof(digits);
	uint64_t m;
	int k, n = 0;

	if (!(a >= 1e-6 && a < 9e15))
		return 0;
	for (k = 0; k < 16; k++) {
		double t = a * pow10s[k];
		if (t < 9007199254740992.0 && t == (double)(uint64_t)t && (double)(uint64_t)t / pow10s[k] == a)
			break;
	}
	if (k == 16)
		return 0;
	m = (uint64_t)(a * pow10s[k]);
	for (int i = 0; m || i <= k; i++) { /* the digits, at least one before the point */
		if (i == k && k)
			*--p = '.';
		*--p = (char)('0' + m % 10);
		m /= 10;
	}
	if (d < 0)
		buf[n++] = '-';
	memcpy(buf + n, p, (size_t)(digits + sizeof(digits) - p));
	n += (int)(digits + sizeof(digits) - p);
	if (!k) {
		buf[n++] = '.';
		buf[n++] = '0';
	}
	return n;
}

int atr_json_buf_real(struct atr_buf *b, double d)
{
	char buf[40];
	int n = !isfinite(d) ? -1 : d == 0 ? (memcpy(buf, "0.0", 3), 3) : short_decimal(d, buf);

	if (n == 0)
		n = format_real(d, buf);
	return n < 0 ? ATR_EINVAL : atr_buf_append(b, buf, (size_t)n);
}
