/*
 * runquery.c: parses run-search filters and orders (grammar in include/atrium/runquery.h)
 * into struct atr_runquery. Values and keys are decoded in place in the caller's copy of the
 * text. Not here: SQL (src/store/run_search.c builds it from fixed fragments).
 */
#include "atrium/runquery.h"
#include "atrium/err.h"
#include "atrium/metric_batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_MAX 256 /* params and tags keys, as the run schema allows */

struct rq {
	char *s, *p;
	char *msg;
	size_t msglen;
	const char *what; /* "filter" or "order_by" */
};

static int fail(struct rq *x, const char *why)
{
	snprintf(x->msg, x->msglen, "'%s' is not valid at character %zu: %s", x->what, (size_t)(x->p - x->s) + 1, why);
	return ATR_EINVAL;
}

void atr_rq_init(struct atr_runquery *q)
{
	memset(q, 0, sizeof(*q));
	q->order = ATR_RQ_BY_ID;
	q->desc = true;
}

static void ws(struct rq *x)
{
	while (*x->p == ' ' || *x->p == '\t')
		x->p++;
}

static bool bare_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '/' || c == '-';
}

static bool key_ok(enum atr_rq_field f, const char *k, size_t n)
{
	if (f == ATR_RQ_METRIC)
		return atr_metric_key_valid(k, n);
	if (n < 1 || n > KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			return false;
	return true;
}

/* A key at x->p: `quoted` or bare. Sets the span [*k, *k + *n) without terminating it. */
static int key_span(struct rq *x, char **k, size_t *n)
{
	if (*x->p == '`') {
		char *end = strchr(x->p + 1, '`');
		if (!end)
			return fail(x, "a key opened with ` is not closed");
		*k = x->p + 1;
		*n = (size_t)(end - *k);
		x->p = end + 1;
		return 0;
	}
	*k = x->p;
	while (bare_key_char(*x->p))
		x->p++;
	*n = (size_t)(x->p - *k);
	if (*n == 0)
		return fail(x, "expected a key (letters, digits, '_', '.', '/', '-', or `any text`)");
	return 0;
}

/* field: status | name | params.k | tags.k | metrics.k */
static int field(struct rq *x, enum atr_rq_field *f, char **k, size_t *n)
{
	static const struct {
		const char *word;
		enum atr_rq_field f;
	} words[] = { { "params.", ATR_RQ_PARAM },
		      { "tags.", ATR_RQ_TAG },
		      { "metrics.", ATR_RQ_METRIC },
		      { "status", ATR_RQ_STATUS },
		      { "name", ATR_RQ_NAME } };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i].word);
		if (strncmp(x->p, words[i].word, wl) != 0)
			continue;
		*f = words[i].f;
		x->p += wl;
		*k = NULL;
		*n = 0;
		if (words[i].word[wl - 1] != '.') {
			if (bare_key_char(*x->p))
				break; /* "names", "status2" */
			return 0;
		}
		if (key_span(x, k, n) < 0)
			return ATR_EINVAL;
		if (!key_ok(*f, *k, *n))
			return fail(
				x,
				*f == ATR_RQ_METRIC
					? "a metric key is 1-250 bytes of letters, digits, spaces and '_' '.' '/' '-'"
					: "a key is 1-256 bytes without control characters");
		return 0;
	}
	return fail(x, "expected status, name, params.<key>, tags.<key> or metrics.<key>");
}

static int op(struct rq *x, enum atr_rq_op *o)
{
	char a = x->p[0], b = a ? x->p[1] : 0;

	if (a == '!' && b == '=')
		*o = ATR_RQ_NE;
	else if (a == '<' && b == '=')
		*o = ATR_RQ_LE;
	else if (a == '>' && b == '=')
		*o = ATR_RQ_GE;
	else if (a == '=' || a == '<' || a == '>') {
		*o = a == '=' ? ATR_RQ_EQ : a == '<' ? ATR_RQ_LT : ATR_RQ_GT;
		x->p++;
		return 0;
	} else
		return fail(x, "expected an operator (=, !=, <, <=, >, >=)");
	x->p += 2;
	return 0;
}

/* A value at x->p, decoded in place and NUL-terminated; x->p moves past it. */
static int value(struct rq *x, char **out)
{
	char q = *x->p;

	if (q == '\'' || q == '"') {
		char *w = x->p, *r = x->p + 1;
		*out = w;
		for (;; r++) {
			if (!*r)
				return fail(x, "a quoted value is not closed");
			if (*r == q)
				break;
			if (*r == '\\') {
				if (r[1] != '\\' && r[1] != '\'' && r[1] != '"')
					return fail(x, "only \\\\, \\' and \\\" are escapes in a quoted value");
				r++;
			}
			*w++ = *r;
		}
		*w = 0;
		x->p = r + 1;
		return 0;
	}
	if (!*x->p || strchr("=<>!", *x->p))
		return fail(x, "expected a value (quote it when it starts with an operator)");
	*out = x->p;
	while (*x->p && *x->p != ' ' && *x->p != '\t')
		x->p++;
	if (*x->p)
		*x->p++ = 0;
	return 0;
}

static int clause(struct rq *x, struct atr_rq_clause *c)
{
	char *k, *v, *key_end;
	size_t n;
	int rc;

	if ((rc = field(x, &c->field, &k, &n)) < 0)
		return rc;
	key_end = k ? k + n : NULL;
	ws(x);
	if ((rc = op(x, &c->op)) < 0)
		return rc;
	if (key_end)
		*key_end = 0; /* the key ends where the operator began, or at its closing backtick */
	c->key = k;
	ws(x);
	if ((rc = value(x, &v)) < 0)
		return rc;
	c->str = v;
	if (c->field == ATR_RQ_STATUS) {
		if (c->op != ATR_RQ_EQ && c->op != ATR_RQ_NE)
			return fail(x, "status takes = or !=");
		if (strcmp(v, "queued") && strcmp(v, "running") && strcmp(v, "finished") && strcmp(v, "failed") &&
		    strcmp(v, "killed"))
			return fail(x, "status is one of queued, running, finished, failed, killed");
	} else if (c->field == ATR_RQ_METRIC) {
		char *end;
		c->num = strtod(v, &end);
		if (end == v || *end || !isfinite(c->num))
			return fail(x, "a metric is compared with a number");
	}
	return 0;
}

int atr_rq_parse_filter(char *s, struct atr_runquery *q, char *msg, size_t msglen)
{
	struct rq x = { s, s, msg, msglen, "filter" };
	int rc;

	if (strlen(s) > ATR_RQ_MAX_TEXT)
		return fail(&x, "longer than 4096 bytes");
	q->n = 0;
	ws(&x);
	if (!*x.p)
		return 0; /* an empty filter matches every run */
	for (;;) {
		if (q->n == ATR_RQ_MAX_CLAUSES)
			return fail(&x, "at most 16 clauses");
		if ((rc = clause(&x, &q->c[q->n])) < 0)
			return rc;
		q->n++;
		ws(&x);
		if (!*x.p)
			return 0;
		if (strncasecmp(x.p, "and", 3) != 0 || (x.p[3] != ' ' && x.p[3] != '\t' && x.p[3]))
			return fail(&x, "expected 'and' between clauses");
		x.p += 3;
		ws(&x);
	}
}

int atr_rq_parse_order(char *s, struct atr_runquery *q, char *msg, size_t msglen)
{
	struct rq x = { s, s, msg, msglen, "order_by" };
	size_t n = strlen(s);
	char *k;

	q->desc = false;
	if (n > 6 && strcmp(s + n - 5, ":desc") == 0) {
		q->desc = true;
		s[n - 5] = 0;
	} else if (n > 5 && strcmp(s + n - 4, ":asc") == 0) {
		s[n - 4] = 0;
	}
	if (strcmp(s, "started_at") == 0) {
		q->order = ATR_RQ_BY_STARTED;
		return 0;
	}
	if (strcmp(s, "name") == 0) {
		q->order = ATR_RQ_BY_NAME;
		return 0;
	}
	if (strncmp(s, "params.", 7) == 0) {
		q->order = ATR_RQ_BY_PARAM;
		x.p = s + 7;
	} else if (strncmp(s, "metrics.", 8) == 0) {
		q->order = ATR_RQ_BY_METRIC;
		x.p = s + 8;
	} else {
		return fail(&x, "expected started_at, name, params.<key> or metrics.<key>, then :asc or :desc");
	}
	k = x.p;
	if (*k == '`') {
		n = strlen(k);
		if (n < 3 || k[n - 1] != '`' || memchr(k + 1, '`', n - 2))
			return fail(&x, "a key in backticks must be all that follows");
		k[n - 1] = 0;
		k++;
	}
	if (!key_ok(q->order == ATR_RQ_BY_METRIC ? ATR_RQ_METRIC : ATR_RQ_PARAM, k, strlen(k)))
		return fail(&x, q->order == ATR_RQ_BY_METRIC
					? "a metric key is 1-250 bytes of letters, digits, spaces and '_' '.' '/' '-'"
					: "a key is 1-256 bytes without control characters");
	q->order_key = k;
	return 0;
}
