/*
 * mlflow_batch.c: MLflow's runs/log-batch body in one pass (include/atrium/metric_batch.h),
 * with the scanning primitives and the points parser of Atrium's own metric bodies (jscan.h,
 * metric_batch.c), so that a batch of MLflow points costs what a native one does: no JSON
 * tree. Also the top-level member finder the access check uses to read run_id from such a
 * body. Not here: storing (src/store/metrics.c, src/store/mlflow_runs.c), HTTP.
 */
#include "atrium/metric_batch.h"
#include "jscan.h"

#include <float.h>
#include <strings.h>

#define KV_KEY_MAX 250

void atr_mlflow_batch_init(struct atr_mlflow_batch *b)
{
	memset(b, 0, sizeof(*b));
	atr_metric_batch_init(&b->m);
}

void atr_mlflow_batch_release(struct atr_mlflow_batch *b)
{
	for (size_t i = 0; i < b->nparams; i++) {
		free(b->params[i].key);
		free(b->params[i].value);
	}
	for (size_t i = 0; i < b->ntags; i++) {
		free(b->tags[i].key);
		free(b->tags[i].value);
	}
	atr_metric_batch_release(&b->m);
	memset(b, 0, sizeof(*b));
}

int atr_mlflow_metric_value(const char *s, double *out)
{
	char *end;

	if (strcmp(s, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
		*out = s[0] == '-' ? -DBL_MAX : DBL_MAX;
		return 0;
	}
	/* a decimal number as JSON writes one (strtod alone would take "inf", hex, spaces) */
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return -1;
	*out = strtod(s, &end);
	if (end == s || *end)
		return -1;
	if (isinf(*out))
		*out = *out > 0 ? DBL_MAX : -DBL_MAX;
	return 0;
}

/* "'<array>[i].<name>' <what>" */
static int kv_bad(struct atr_metric_batch *b, const char *array, size_t i, const char *name, const char *what)
{
	snprintf(b->field, sizeof(b->field), "%s[%zu].%s", array, i, name);
	snprintf(b->msg, sizeof(b->msg), "'%s' %s", b->field, what);
	b->syntax = false;
	return ATR_EINVAL;
}

/* Characters of UTF-8 text (what MLflow's limits count). */
static size_t chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* A string member of a key/value item into a new copy: key (required) or value (null: ""). */
static int kv_string(struct jscan *x, const char *array, size_t i, bool key, char *buf, size_t cap, char **out)
{
	size_t len, max = key ? KV_KEY_MAX : strcmp(array, "params") == 0 ? ATR_MLFLOW_PARAM_MAX : ATR_MLFLOW_TAG_MAX;
	int rc;

	if (!key && peek(x) == 'n' && literal(x, "null"))
		len = 0;
	else if (peek(x) != '"')
		return peek(x) < 0 ? syntax(x, "expected a value")
				   : kv_bad(x->b, array, i, key ? "key" : "value", "must be a string");
	else if ((rc = string(x, buf, cap, &len)) < 0)
		return rc;
	if (len >= cap || chars(buf, len) > max || (key && len == 0)) {
		char what[96];
		snprintf(what, sizeof(what), "must be %s%zu characters", key ? "1-" : "at most ", max);
		return kv_bad(x->b, array, i, key ? "key" : "value", what);
	}
	if (memchr(buf, 0, len) || (key && has_control(buf, len)))
		return kv_bad(x->b, array, i, key ? "key" : "value",
			      key ? "must not hold control characters" : "must not hold NUL");
	if (!(*out = malloc(len + 1)))
		return ATR_ENOMEM;
	memcpy(*out, buf, len);
	(*out)[len] = 0;
	return 0;
}

/* {"key": ..., "value": ...} */
static int kv_item(struct jscan *x, const char *array, size_t i, struct atr_mlflow_kv *kv, char *buf, size_t cap)
{
	int rc;

	if (peek(x) != '{')
		return peek(x) < 0 ? syntax(x, "expected a value") : kv_bad(x->b, array, i, "key", "is required");
	x->p++;
	ws(x);
	if (peek(x) == '}')
		x->p++;
	else
		for (;;) {
			char nb[16];
			const char *name;
			size_t n;
			char **slot;
			if ((rc = member_name(x, nb, &name, &n)) < 0)
				return rc;
			if (n == 3 && memcmp(name, "key", 3) == 0)
				slot = &kv->key;
			else if (n == 5 && memcmp(name, "value", 5) == 0)
				slot = &kv->value;
			else if (n < sizeof(nb) && atr_metric_key_valid(name, n)) {
				char known[sizeof(nb)]; /* (name points into the body: not NUL-terminated) */
				memcpy(known, name, n);
				known[n] = 0;
				return kv_bad(x->b, array, i, known, "is not a known field");
			} else
				return kv_bad(x->b, array, i, "?", "is not a known field");
			if (*slot)
				return syntax(x, "duplicate object key");
			if ((rc = kv_string(x, array, i, slot == &kv->key, buf, cap, slot)) < 0 ||
			    (rc = next_or_end(x, '}')) < 0)
				return rc;
			if (rc == 0)
				break;
		}
	if (!kv->key)
		return kv_bad(x->b, array, i, "key", "is required");
	if (!kv->value && !(kv->value = calloc(1, 1)))
		return ATR_ENOMEM;
	return 0;
}

/* "params" or "tags": [ item, ... ] into kv[*n]. */
static int kv_array(struct jscan *x, const char *array, struct atr_mlflow_kv *kv, size_t *n, char *buf, size_t cap)
{
	int c = peek(x), rc;

	if (c != '[')
		return c == 'n' && literal(x, "null") ? 0 : mismatch(x, -1, array, "an array");
	x->p++;
	ws(x);
	if (peek(x) == ']') {
		x->p++;
		return 0;
	}
	for (;;) {
		if (*n == ATR_MLFLOW_MAX_PARAMS)
			return bad(x->b, -1, array, "must have at most %d items", ATR_MLFLOW_MAX_PARAMS);
		rc = kv_item(x, array, *n, &kv[*n], buf, cap);
		(*n)++; /* (released with the batch, whole or not) */
		if (rc < 0 || (rc = next_or_end(x, ']')) <= 0)
			return rc;
	}
}

/* A key given twice among params: MLflow refuses the batch. */
static int unique_params(struct atr_mlflow_batch *b)
{
	for (size_t i = 1; i < b->nparams; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(b->params[i].key, b->params[j].key) == 0)
				return kv_bad(&b->m, "params", i, "key", "names a param given earlier in the batch");
	return 0;
}

/* One top-level member: run_id, metrics, params or tags (seen: which came already). */
static int member(struct jscan *x, struct atr_mlflow_batch *b, const char *name, size_t n, unsigned *seen, char *buf,
		  size_t cap)
{
	static const char *const names[] = { "run_id", "metrics", "params", "tags" };
	size_t len;
	int k = -1, rc;

	for (int i = 0; i < 4; i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
			k = i;
	if (k < 0)
		return unknown(x->b, -1, name, n);
	if (*seen & (1u << k))
		return syntax(x, "duplicate object key");
	*seen |= 1u << k;
	if (k == 0) {
		if (peek(x) != '"')
			return mismatch(x, -1, "run_id", "a string");
		if ((rc = string(x, b->run_id, sizeof(b->run_id), &len)) < 0)
			return rc;
		return len >= sizeof(b->run_id) ? bad(x->b, -1, "run_id", "is not a run id") : 0;
	}
	if (k == 1)
		return peek(x) == 'n' && literal(x, "null") ? 0 : jscan_points(x, ATR_MLFLOW_MAX_METRICS);
	return k == 2 ? kv_array(x, "params", b->params, &b->nparams, buf, cap)
		      : kv_array(x, "tags", b->tags, &b->ntags, buf, cap);
}

static int document(struct jscan *x, struct atr_mlflow_batch *b, char *buf, size_t cap)
{
	unsigned seen = 0;
	int rc;

	ws(x);
	if (peek(x) != '{')
		return x->p >= x->end || strchr("[\"-0123456789tfn", peek(x))
			       ? bad(x->b, -1, "body", "must be a JSON object")
			       : syntax(x, "expected a JSON value");
	x->p++;
	ws(x);
	if (peek(x) == '}')
		x->p++;
	else
		for (;;) {
			char nb[16];
			const char *name;
			size_t n;
			if ((rc = member_name(x, nb, &name, &n)) < 0 ||
			    (rc = member(x, b, name, n, &seen, buf, cap)) < 0 || (rc = next_or_end(x, '}')) < 0)
				return rc;
			if (rc == 0)
				break;
		}
	ws(x);
	if (x->p != x->end)
		return syntax(x, "text after the JSON value");
	return 0;
}

int atr_mlflow_batch_parse(struct atr_mlflow_batch *b, const char *json, size_t len)
{
	struct jscan x = { json, json, json + len, &b->m, true };
	size_t cap = ATR_MLFLOW_PARAM_MAX * 4 + 8; /* the longest value in UTF-8 */
	char *buf = malloc(cap);
	int rc;

	if (!buf)
		return ATR_ENOMEM;
	rc = document(&x, b, buf, cap);
	free(buf);
	if (rc == 0)
		rc = unique_params(b);
	if (rc == 0 && b->m.n + b->nparams + b->ntags > ATR_MLFLOW_MAX_ENTITIES)
		rc = bad(&b->m, -1, "body", "holds more than %d metrics, params and tags together",
			 ATR_MLFLOW_MAX_ENTITIES);
	return rc;
}

/* ---- one top-level member, the rest skipped ---- */

/* Skips a JSON value (depth: how deep in nested values it is). */
static int skip(struct jscan *x, int depth)
{
	struct num n;
	int c = peek(x), rc;

	if (depth > 64)
		return syntax(x, "nested too deep");
	if (c == '"') {
		for (x->p++; x->p < x->end && *x->p != '"'; x->p++)
			if (*x->p == '\\')
				x->p++;
		if (x->p >= x->end)
			return syntax(x, "unterminated string");
		x->p++;
		return 0;
	}
	if (c == '{' || c == '[') {
		x->p++;
		ws(x);
		if (peek(x) == (c == '{' ? '}' : ']')) {
			x->p++;
			return 0;
		}
		for (;;) {
			const char *name;
			char nb[16];
			size_t len;
			if ((c == '{' && (rc = member_name(x, nb, &name, &len)) < 0) || (rc = skip(x, depth + 1)) < 0 ||
			    (rc = next_or_end(x, c == '{' ? '}' : ']')) <= 0)
				return rc;
		}
	}
	if (literal(x, "true") || literal(x, "false") || literal(x, "null"))
		return 0;
	return number(x, &n);
}

int atr_json_top_string(const char *json, size_t len, const char *name, char *out, size_t cap)
{
	struct atr_metric_batch errs; /* (where the scanner writes what went wrong: unused) */
	struct jscan x = { json, json, json + len, &errs, false };
	size_t want = strlen(name), n;
	int rc;

	ws(&x);
	if (peek(&x) != '{')
		return ATR_EINVAL;
	x.p++;
	ws(&x);
	if (peek(&x) == '}')
		return ATR_ENOTFOUND;
	for (;;) {
		const char *m;
		char nb[16];
		if (member_name(&x, nb, &m, &n) < 0)
			return ATR_EINVAL;
		if (n == want && memcmp(m, name, n) == 0) {
			if (peek(&x) != '"' || string(&x, out, cap, &n) < 0 || n >= cap)
				return ATR_EINVAL;
			return 0;
		}
		if (skip(&x, 0) < 0 || (rc = next_or_end(&x, '}')) < 0)
			return ATR_EINVAL;
		if (rc == 0)
			return ATR_ENOTFOUND;
	}
}
