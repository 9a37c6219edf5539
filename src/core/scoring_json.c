/*
 * scoring_json.c: the JSON Lines layer of the scoring library (one object per line, its
 * members out, strings unescaped, other objects and arrays checked and skipped) and the
 * numbers of both formats, correctly rounded (Clinger's fast path, else strtod). Not here:
 * what the members mean (scoring.c). A line is already known to be UTF-8.
 */
#include "scoring_internal.h"
#include "atrium/err.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH 64

struct jp {
	const char *p;
	size_t len, i;
	uint64_t line;
	struct sc_jline *jl;
	struct atr_scoring_error *err;
};

void sc_jline_release(struct sc_jline *jl)
{
	free(jl->m);
	free(jl->scratch);
	memset(jl, 0, sizeof(*jl));
}

static int jfail(struct jp *j, const char *what)
{
	if (j->i >= j->len)
		return sc_fail(j->err, ATR_SCORING_E_SYNTAX, j->line, "not JSON: %s at the end of the line", what);
	return sc_fail(j->err, ATR_SCORING_E_SYNTAX, j->line, "not JSON: %s at column %zu", what, j->i + 1);
}

static void ws(struct jp *j)
{
	while (j->i < j->len && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\r'))
		j->i++;
}

static int hex4(struct jp *j, uint32_t *out)
{
	uint32_t v = 0;

	if (j->i + 4 > j->len)
		return jfail(j, "a short \\u escape");
	for (int k = 0; k < 4; k++) {
		char c = j->p[j->i++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return jfail(j, "a bad \\u escape");
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \u escape (j->i after the 'u'), a surrogate pair whole, as UTF-8 at o. */
static int unicode_escape(struct jp *j, char *o, size_t *n)
{
	uint32_t cp, lo;
	int rc = hex4(j, &cp);

	if (rc)
		return rc;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->i + 2 > j->len || j->p[j->i] != '\\' || j->p[j->i + 1] != 'u')
			return sc_fail(j->err, ATR_SCORING_E_ENCODING, j->line,
				       "an escaped lone surrogate is not UTF-8");
		j->i += 2;
		if ((rc = hex4(j, &lo)) != 0)
			return rc;
		if (lo < 0xdc00 || lo > 0xdfff)
			return sc_fail(j->err, ATR_SCORING_E_ENCODING, j->line,
				       "an escaped lone surrogate is not UTF-8");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return sc_fail(j->err, ATR_SCORING_E_ENCODING, j->line, "an escaped lone surrogate is not UTF-8");
	} else if (cp == 0) {
		return sc_fail(j->err, ATR_SCORING_E_ENCODING, j->line, "an escaped NUL character");
	}
	*n = put_utf8(o, cp);
	return 0;
}

/* One escape (j->i after the backslash) into o. */
static int escape(struct jp *j, char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;

	if (j->i >= j->len)
		return jfail(j, "a bad escape");
	if (j->p[j->i] == 'u') {
		j->i++;
		return unicode_escape(j, o, n);
	}
	k = strchr(from, j->p[j->i]);
	if (!k || !*k)
		return jfail(j, "a bad escape");
	j->i++;
	o[0] = to[k - from];
	*n = 1;
	return 0;
}

/* A string (j->i on its opening quote): in place when it has no escape, else unescaped
 * into the scratch (which holds the whole line, so it never moves). */
static int string(struct jp *j, struct sc_str *out)
{
	size_t start = ++j->i;
	char *o = NULL;
	size_t on = 0;

	while (j->i < j->len) {
		unsigned char c = (unsigned char)j->p[j->i];
		if (c == '"') {
			out->p = o ? o : j->p + start;
			out->len = o ? on : j->i - start;
			j->jl->used += on;
			j->i++;
			return 0;
		}
		if (c < 0x20)
			return jfail(j, "a control character in a string");
		if (c != '\\') {
			if (o)
				o[on++] = (char)c;
			j->i++;
			continue;
		}
		if (!o) {
			o = j->jl->scratch + j->jl->used;
			memcpy(o, j->p + start, j->i - start);
			on = j->i - start;
		}
		size_t n = 0;
		j->i++;
		int rc = escape(j, o + on, &n);
		if (rc)
			return rc;
		on += n;
	}
	return jfail(j, "an unterminated string");
}

static size_t digits(struct jp *j)
{
	size_t s = j->i;
	while (j->i < j->len && j->p[j->i] >= '0' && j->p[j->i] <= '9')
		j->i++;
	return j->i - s;
}

/* A number, by JSON's grammar (-Infinity: SC_JNAN). */
static int number(struct jp *j, struct sc_val *v)
{
	size_t s = j->i;

	if (j->p[j->i] == '-')
		j->i++;
	if (j->len - j->i >= 8 && memcmp(j->p + j->i, "Infinity", 8) == 0) {
		j->i += 8;
		v->kind = SC_JNAN;
		goto done;
	}
	if (j->i < j->len && j->p[j->i] == '0')
		j->i++;
	else if (digits(j) == 0)
		return jfail(j, "a bad number");
	if (j->i < j->len && j->p[j->i] == '.') {
		j->i++;
		if (digits(j) == 0)
			return jfail(j, "a bad number");
	}
	if (j->i < j->len && (j->p[j->i] | 0x20) == 'e') {
		j->i++;
		if (j->i < j->len && (j->p[j->i] == '+' || j->p[j->i] == '-'))
			j->i++;
		if (digits(j) == 0)
			return jfail(j, "a bad number");
	}
	v->kind = SC_JNUM;
done:
	v->s.p = j->p + s;
	v->s.len = j->i - s;
	return 0;
}

static bool word(struct jp *j, const char *w)
{
	size_t n = strlen(w);
	if (j->len - j->i < n || memcmp(j->p + j->i, w, n) != 0)
		return false;
	j->i += n;
	return true;
}

static int value(struct jp *j, struct sc_val *v, int depth);

/* An object or an array (j->i on its bracket), checked and skipped. */
static int compound(struct jp *j, int depth)
{
	char close = j->p[j->i] == '{' ? '}' : ']';
	struct sc_val v;
	struct sc_str k;
	int rc;

	if (depth > JSON_DEPTH)
		return jfail(j, "nesting too deep");
	j->i++;
	ws(j);
	if (j->i < j->len && j->p[j->i] == close) {
		j->i++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (j->i >= j->len || j->p[j->i] != '"')
				return jfail(j, "expected a key");
			if ((rc = string(j, &k)) != 0)
				return rc;
			ws(j);
			if (j->i >= j->len || j->p[j->i++] != ':')
				return jfail(j, "expected ':'");
			ws(j);
		}
		if ((rc = value(j, &v, depth + 1)) != 0)
			return rc;
		ws(j);
		if (j->i < j->len && j->p[j->i] == close) {
			j->i++;
			return 0;
		}
		if (j->i >= j->len || j->p[j->i++] != ',')
			return jfail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
		ws(j);
	}
}

static int value(struct jp *j, struct sc_val *v, int depth)
{
	char c;

	if (j->i >= j->len)
		return jfail(j, "expected a value");
	c = j->p[j->i];
	v->s.p = j->p + j->i;
	v->s.len = 0;
	if (c == '"') {
		v->kind = SC_JSTR;
		return string(j, &v->s);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return number(j, v);
	if (c == '{' || c == '[') {
		v->kind = SC_JOBJ;
		return compound(j, depth);
	}
	v->kind = SC_JLIT;
	if (word(j, "true") || word(j, "false")) {
		v->s.len = (size_t)(j->p + j->i - v->s.p);
		return 0;
	}
	v->kind = c == 'n' ? SC_JNULL : SC_JNAN;
	if (word(j, "null") || word(j, "NaN") || word(j, "Infinity")) {
		v->s.len = (size_t)(j->p + j->i - v->s.p);
		return 0;
	}
	return jfail(j, "expected a value");
}

static int push_member(struct sc_jline *jl, const struct sc_str *k, const struct sc_val *v, bool nested, bool expanded)
{
	if (jl->n == jl->cap) {
		size_t cap = jl->cap ? jl->cap * 2 : 16;
		struct sc_member *m = realloc(jl->m, cap * sizeof(*m));
		if (!m)
			return ATR_ENOMEM;
		jl->m = m;
		jl->cap = cap;
	}
	jl->m[jl->n].key = *k;
	jl->m[jl->n].val = *v;
	jl->m[jl->n].nested = nested;
	jl->m[jl->n].expanded = expanded;
	jl->n++;
	return 0;
}

/* The members of an object (j->i on its '{'), pushed; the value of a member named expand,
 * when it is an object, has its members pushed after it, nested. */
static int members(struct jp *j, const char *expand, bool nested)
{
	struct sc_str k;
	struct sc_val v;
	int rc;

	j->i++;
	ws(j);
	if (j->i < j->len && j->p[j->i] == '}') {
		j->i++;
		return 0;
	}
	for (;;) {
		if (j->i >= j->len || j->p[j->i] != '"')
			return jfail(j, "expected a key");
		if ((rc = string(j, &k)) != 0)
			return rc;
		ws(j);
		if (j->i >= j->len || j->p[j->i++] != ':')
			return jfail(j, "expected ':'");
		ws(j);
		bool open = expand && j->i < j->len && j->p[j->i] == '{' && strlen(expand) == k.len &&
			    memcmp(expand, k.p, k.len) == 0;
		if (open) {
			v.kind = SC_JOBJ;
			v.s = k;
			rc = push_member(j->jl, &k, &v, nested, true);
			if (rc == 0)
				rc = members(j, NULL, true);
		} else {
			rc = value(j, &v, 2);
			if (rc == 0)
				rc = push_member(j->jl, &k, &v, nested, false);
		}
		if (rc)
			return rc;
		ws(j);
		if (j->i < j->len && j->p[j->i] == '}') {
			j->i++;
			return 0;
		}
		if (j->i >= j->len || j->p[j->i++] != ',')
			return jfail(j, "expected ',' or '}'");
		ws(j);
	}
}

int sc_json_line(struct sc_jline *jl, const char *p, size_t len, uint64_t line, const char *expand,
		 struct atr_scoring_error *err)
{
	struct jp j = { .p = p, .len = len, .line = line, .jl = jl, .err = err };
	int rc;

	jl->n = 0;
	jl->used = 0;
	if (jl->scratch_cap < len) {
		char *s = realloc(jl->scratch, len);
		if (!s)
			return ATR_ENOMEM;
		jl->scratch = s;
		jl->scratch_cap = len;
	}
	ws(&j);
	if (j.i >= len || p[j.i] != '{')
		return jfail(&j, "a line must hold an object: expected '{'");
	if ((rc = members(&j, expand, false)) != 0)
		return rc;
	ws(&j);
	if (j.i < len)
		return jfail(&j, "text after the object");
	return 0;
}

/* ---- numbers ---- */

static bool word_nocase(const char *p, size_t len, const char *w)
{
	if (strlen(w) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((p[i] | 0x20) != w[i])
			return false;
	return true;
}

struct decimal {
	uint64_t m; /* the significant digits, while they fit */
	int64_t e;  /* m * 10^e */
	bool exact; /* m holds every digit */
	size_t ndig;
};

/* Digits of a mantissa at p[*i..len) into d (e counts the fraction's digits down). */
static void mantissa_digits(const char *p, size_t len, size_t *i, struct decimal *d, bool frac)
{
	for (; *i < len && p[*i] >= '0' && p[*i] <= '9'; (*i)++) {
		unsigned dig = (unsigned)(p[*i] - '0');
		d->ndig++;
		if (d->m == 0 && dig == 0) {
			d->e -= frac;
			continue;
		}
		if (d->m > (UINT64_MAX - 9) / 10) {
			d->exact = false;
			d->e += !frac;
			continue;
		}
		d->m = d->m * 10 + dig;
		d->e -= frac;
	}
}

/* p[0..len) by the grammar [+-]digits[.digits][(e|E)[+-]digits]: true when it matches. */
static bool decimal_parse(const char *p, size_t len, struct decimal *d, bool *neg)
{
	size_t i = 0;
	int64_t x = 0;
	bool xneg = false;

	memset(d, 0, sizeof(*d));
	d->exact = true;
	*neg = len > 0 && p[0] == '-';
	if (len > 0 && (p[0] == '+' || p[0] == '-'))
		i++;
	mantissa_digits(p, len, &i, d, false);
	if (i < len && p[i] == '.') {
		i++;
		mantissa_digits(p, len, &i, d, true);
	}
	if (d->ndig == 0)
		return false;
	if (i < len && (p[i] | 0x20) == 'e') {
		size_t s;
		i++;
		if (i < len && (p[i] == '+' || p[i] == '-'))
			xneg = p[i++] == '-';
		for (s = i; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			x = x < 100000000 ? x * 10 + (p[i] - '0') : x;
		if (i == s)
			return false;
	}
	d->e += xneg ? -x : x;
	return i == len;
}

static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
				1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* Digits at p[*i..len) into *m (no overflow check: the caller limits their count). */
static size_t run_digits(const char *p, size_t len, size_t *i, uint64_t *m)
{
	size_t s = *i;
	uint64_t v = *m;

	for (; *i < len && (unsigned char)(p[*i] - '0') < 10; (*i)++)
		v = v * 10 + (unsigned)(p[*i] - '0');
	*m = v;
	return *i - s;
}

/*
 * The common case, in one pass: [+-]digits[.digits][(e|E)[+-]d[d]] with at most 19 digits,
 * whose value m * 10^e is exact in a double (m <= 2^53, |e| <= 22). decimal_parse gives the
 * same m and e for these (19 digits never reach its overflow branch), and the same division
 * or product follows, so the result is the same double. false: anything else (the full path).
 */
static bool fast_number(const char *p, size_t len, double *out)
{
	size_t i = 0, nd, nf = 0;
	uint64_t m = 0;
	int e;
	bool neg = len > 0 && p[0] == '-';

	if (len > 0 && (p[0] == '-' || p[0] == '+'))
		i++;
	nd = run_digits(p, len, &i, &m);
	if (i < len && p[i] == '.') {
		i++;
		nf = run_digits(p, len, &i, &m);
		nd += nf;
	}
	if (nd == 0 || nd > 19)
		return false;
	e = -(int)nf;
	if (i < len && (p[i] | 0x20) == 'e' && len - i <= 4) {
		uint64_t x = 0;
		bool xneg = ++i < len && p[i] == '-';
		if (i < len && (p[i] == '+' || p[i] == '-'))
			i++;
		if (run_digits(p, len, &i, &x) == 0)
			return false;
		e += xneg ? -(int)x : (int)x;
	}
	if (i != len || m > (1ULL << 53) || e < -22 || e > 22)
		return false;
	/* the sign by a product with -1 (exact: -x), not a branch mispredicted on mixed signs */
	*out = (e < 0 ? (double)m / pow10[-e] : (double)m * pow10[e]) * (neg ? -1.0 : 1.0);
	return true;
}

int sc_number(const char *p, size_t len, double *out)
{
	struct decimal d;
	bool neg;
	char buf[512];
	char *end;

	if (fast_number(p, len, out)) /* before the trims: it takes no blank, and most have none */
		return SC_NUM_OK;
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len > 1 && (*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '9')
		goto digits; /* the common cases: a digit first, no word to look for */
	if (len > 0 && ((*p >= '0' && *p <= '9') || *p == '.'))
		goto digits;
	if (len > 0 && (*p == '+' || *p == '-') &&
	    (word_nocase(p + 1, len - 1, "nan") || word_nocase(p + 1, len - 1, "inf") ||
	     word_nocase(p + 1, len - 1, "infinity")))
		return SC_NUM_NAN;
	if (word_nocase(p, len, "nan") || word_nocase(p, len, "inf") || word_nocase(p, len, "infinity"))
		return SC_NUM_NAN;
digits:
	if (!decimal_parse(p, len, &d, &neg))
		return SC_NUM_BAD;
	if (d.exact && d.m <= (1ULL << 53) && d.e >= -22 && d.e <= 22) {
		double v = (double)d.m;
		v = d.e < 0 ? v / pow10[-d.e] : v * pow10[d.e];
		*out = neg ? -v : v;
		return SC_NUM_OK;
	}
	if (len >= sizeof(buf))
		return SC_NUM_BAD;
	memcpy(buf, p, len);
	buf[len] = 0;
	errno = 0;
	*out = strtod(buf, &end);
	if (end != buf + len)
		return SC_NUM_BAD;
	return isinf(*out) ? SC_NUM_RANGE : SC_NUM_OK;
}
