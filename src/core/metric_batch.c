/*
 * metric_batch.c: the single-pass parser of metric-ingest bodies. It walks the JSON once,
 * checking the grammar and the schema together, and appends points to a flat array; keys
 * are interned in a small hash table, so the store sees each series once per batch. Numbers
 * take the exact fast path (an integer mantissa below 2^53 and a power of ten up to 22 is one
 * correctly rounded multiply or divide) and fall back to strtod otherwise.
 * Not here: default steps and timestamps (they need the stored series: src/store/metrics.c).
 */
#include "atrium/metric_batch.h"
#include "jscan.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int atr_metric_batch_add(struct atr_metric_batch *b, const char *key, const struct atr_metric_in *pt)
{
	struct atr_metric_in p = *pt;
	int rc;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct atr_metric_in *np = realloc(b->pts, cap * sizeof(*np));
		if (!np)
			return ATR_ENOMEM;
		b->pts = np;
		b->cap = cap;
	}
	if ((rc = intern(b, key, strlen(key), &p.key)) < 0)
		return rc;
	b->pts[b->n++] = p;
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

static int field_key(struct jscan *x, long i, struct atr_metric_in *pt)
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

/* MLflow's values: a number, or a string ("NaN", "Infinity", "-Infinity", "0.5"). */
static int field_mlflow_value(struct jscan *x, long i, struct atr_metric_in *pt)
{
	char buf[64];
	size_t len;
	int rc;

	if (peek(x) != '"')
		return mismatch(x, i, "value", "a number");
	if ((rc = string(x, buf, sizeof(buf), &len)) < 0)
		return rc;
	if (len >= sizeof(buf) || atr_mlflow_metric_value(buf, &pt->value) < 0)
		return bad(x->b, i, "value", "must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
	return 0;
}

static int field_value(struct jscan *x, long i, struct atr_metric_in *pt)
{
	struct num n;
	int c = peek(x), rc;

	if (x->mlflow && c == '"')
		return field_mlflow_value(x, i, pt);
	if (c == 'N' || c == 'I' || (c == '-' && x->end - x->p > 1 && x->p[1] == 'I'))
		return bad(x->b, i, "value", "must be a finite number");
	if (c != '-' && (c < '0' || c > '9'))
		return mismatch(x, i, "value", "a number");
	if ((rc = number(x, &n)) < 0)
		return rc;
	pt->value = num_double(&n);
	if (x->mlflow && isinf(pt->value)) /* (a literal too large: MLflow's store keeps the largest double) */
		pt->value = pt->value > 0 ? DBL_MAX : -DBL_MAX;
	if (!isfinite(pt->value))
		return bad(x->b, i, "value", "must be a finite number");
	return 0;
}

/* An integer member from 0 to max, or null (which leaves *out as it was: -1, not given). */
static int field_int(struct jscan *x, long i, const char *name, int64_t max, const char *want, int64_t *out)
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

static int field_step(struct jscan *x, long i, struct atr_metric_in *pt)
{
	return field_int(x, i, "step", ATR_METRIC_STEP_MAX, "an integer", &pt->step);
}

static int field_ts(struct jscan *x, long i, struct atr_metric_in *pt)
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

static int point(struct jscan *x, long i)
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
	if (x->mlflow && pt.step < 0)
		pt.step = 0; /* (MLflow's default step) */
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

int jscan_points(struct jscan *x, size_t max)
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
	struct jscan x = { json, json, json + len, b, false };
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
			if ((rc = jscan_points(&x, max_points)) < 0 || (rc = next_or_end(&x, '}')) < 0)
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
