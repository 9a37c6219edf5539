/*
 * test_alloc.c: allocation failures, like curl's torture tests. Each scenario (a request body
 * through jansson and its route's schema, the metric batch parsers, the run filter and MLflow
 * search parsers, scoring, a captured V2 body) runs once without failures for its reference
 * result, then again with its 1st, 2nd, ... N-th allocation failing, until a run makes no
 * more allocations than N. Each run must end without a crash or a leak (ASan), and either
 * with the reference result or with a clear error: ATR_ENOMEM (a 503), never another error
 * (a 400 for a body that is fine) and never a success with a different result.
 * `make alloc-torture` runs it; `make test` too (it takes seconds).
 */
#include "alloc_hook.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/http.h"
#include "atrium/json.h"
#include "atrium/metric_batch.h"
#include "atrium/mlflow_query.h"
#include "atrium/runquery.h"
#include "atrium/scoring.h"
#include "atrium/store_deployments.h"

#define OUT_MAX 8192

struct out {
	char s[OUT_MAX];
	size_t n;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n >= sizeof(o->s))
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->s + o->n, sizeof(o->s) - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k;
}

/* ---- scenarios: 0 or an error code; the result written to o ---- */

static const struct atr_field *route_body(const char *name)
{
	for (size_t i = 0; i < atr_routes_count; i++)
		if (atr_routes[i].name && strcmp(atr_routes[i].name, name) == 0)
			return atr_routes[i].body;
	return NULL;
}

/* A body as the pipeline takes it (src/http/pipeline.c, finish), then written back. */
static int body_through(const char *route, const char *text, struct out *o)
{
	const struct atr_field *schema = route_body(route);
	char field[128], msg[400], *w;
	json_error_t jerr;
	json_t *v;
	int rc;

	if (!schema)
		return ATR_EINTERNAL;
	(void)atr_json_oom_take();
	v = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return atr_json_oom_take() ? ATR_ENOMEM : ATR_EINVAL; /* (as the pipeline decides) */
	rc = atr_json_validate(v, schema, field, sizeof(field), msg, sizeof(msg));
	if (rc < 0) {
		outf(o, "%s: %s", field, msg);
		json_decref(v);
		return rc;
	}
	w = atr_json_write(v, NULL);
	json_decref(v);
	if (!w)
		return ATR_ENOMEM;
	outf(o, "%s", w);
	free(w);
	return 0;
}

static int s_job_body(struct out *o)
{
	return body_through(
		"jobs.create",
		"{\"command\":[\"python\",\"train.py\",\"--lr\",\"0.1\"],\"env\":{\"SEED\":\"1\",\"X\":\"y\"},"
		"\"resources\":{\"gpus\":1,\"cpus\":2}}",
		o);
}

static int s_run_body(struct out *o)
{
	return body_through("runs.create",
			    "{\"name\":\"r\",\"params\":{\"lr\":\"0.1\",\"depth\":\"3\"},\"tags\":{\"team\":"
			    "\"vision\"},\"status\":\"running\"}",
			    o);
}

static int s_metric_batch(struct out *o)
{
	static const char body[] = "{\"metrics\":[{\"key\":\"loss\",\"value\":0.5,\"step\":1},{\"key\":\"acc\","
				   "\"value\":0.25},{\"key\":\"loss\",\"value\":0.4,\"step\":2},{\"key\":\"lr\","
				   "\"value\":1e-3,\"timestamp\":1767225600000},{\"key\":\"k4\",\"value\":4},"
				   "{\"key\":\"k5\",\"value\":5},{\"key\":\"k6\",\"value\":6}]}";
	struct atr_metric_batch b;
	int rc;

	atr_metric_batch_init(&b);
	rc = atr_metric_batch_parse(&b, body, sizeof(body) - 1, 1000);
	if (rc == 0)
		for (size_t i = 0; i < b.n; i++)
			outf(o, "%s=%g@%lld;", b.keys[b.pts[i].key].name, b.pts[i].value, (long long)b.pts[i].step);
	else
		outf(o, "%s: %s", b.field, b.msg);
	atr_metric_batch_release(&b);
	return rc;
}

static int s_mlflow_batch(struct out *o)
{
	static const char body[] = "{\"run_id\":\"abc\",\"metrics\":[{\"key\":\"m\",\"value\":\"NaN\",\"timestamp\":1},"
				   "{\"key\":\"n\",\"value\":2,\"timestamp\":2,\"step\":3}],\"params\":[{\"key\":"
				   "\"p\",\"value\":\"v\"},{\"key\":\"q\",\"value\":\"w\"}],\"tags\":[{\"key\":\"t\","
				   "\"value\":\"x\"}]}";
	struct atr_mlflow_batch b;
	int rc;

	atr_mlflow_batch_init(&b);
	rc = atr_mlflow_batch_parse(&b, body, sizeof(body) - 1);
	if (rc == 0) {
		outf(o, "%s %zu %zu %zu;", b.run_id, b.m.n, b.nparams, b.ntags);
		for (size_t i = 0; i < b.nparams; i++)
			outf(o, "%s=%s;", b.params[i].key, b.params[i].value);
	}
	atr_mlflow_batch_release(&b);
	return rc;
}

static int s_run_filter(struct out *o)
{
	char f[] = "params.lr = '0.1' and metrics.loss < 0.5 and tags.`a b` != x and status = running";
	char ord[] = "metrics.loss:desc";
	char msg[400];
	struct atr_runquery q;
	int rc;

	atr_rq_init(&q);
	rc = atr_rq_parse_filter(f, &q, msg, sizeof(msg));
	if (rc == 0)
		rc = atr_rq_parse_order(ord, &q, msg, sizeof(msg));
	if (rc == 0)
		outf(o, "%d clauses, order %d %s", q.n, (int)q.order, q.order_key ? q.order_key : "");
	return rc;
}

static int s_mlflow_search(struct out *o)
{
	char f[] = "metrics.rmse < 1 and params.alpha = '0.5' and attributes.run_id IN ('a','b','c')";
	char ord[] = "metrics.rmse DESC";
	char ef[] = "name LIKE 'exp%' AND tags.team = 'vision'";
	char msg[400];
	struct atr_runquery q;
	struct atr_mlq_exp e;
	int rc;

	atr_rq_init(&q);
	rc = atr_mlq_parse_filter(f, &q, msg, sizeof(msg));
	if (rc == 0)
		rc = atr_mlq_parse_order(ord, &q, true, msg, sizeof(msg));
	atr_mlq_exp_init(&e);
	if (rc == 0)
		rc = atr_mlq_parse_exp_filter(ef, &e, msg, sizeof(msg));
	if (rc == 0)
		outf(o, "%d clauses, %d in lists, %d experiment clauses", q.n, q.nlist, e.n);
	return rc;
}

static int feed_all(int (*feed)(void *, const void *, size_t), void *x, const char *text)
{
	size_t len = strlen(text);
	int rc = 0;
	/* in pieces, as uploads arrive */
	for (size_t i = 0; rc == 0 && i < len; i += 7)
		rc = feed(x, text + i, len - i < 7 ? len - i : 7);
	return rc;
}

static int truth_feed(void *t, const void *d, size_t n)
{
	return atr_scoring_truth_feed(t, d, n);
}

static int pred_feed(void *s, const void *d, size_t n)
{
	return atr_scoring_feed(s, d, n);
}

static int s_scoring(struct out *o)
{
	static const char *const metrics[] = { "accuracy", "f1_macro" };
	struct atr_scoring_spec spec = { .metrics = metrics, .n_metrics = 2 };
	struct atr_scoring_truth *t = NULL;
	struct atr_scoring *s = NULL;
	struct atr_scoring_result res;
	struct atr_scoring_confusion cm = { 0 };
	int rc;

	rc = atr_scoring_truth_new(&spec, ATR_SCORING_CSV, &t);
	if (rc == 0)
		rc = feed_all(truth_feed, t, "id,label\na,cat\nb,dog\nc,cat\nd,bird\ne,dog\nf,cat\n");
	if (rc == 0)
		rc = atr_scoring_truth_end(t);
	if (rc == 0)
		rc = atr_scoring_new(t, ATR_SCORING_JSONL, &s);
	if (rc == 0)
		rc = feed_all(pred_feed, s,
			      "{\"id\":\"a\",\"prediction\":\"cat\"}\n{\"id\":\"b\",\"prediction\":\"cat\"}\n"
			      "{\"id\":\"c\",\"prediction\":\"cat\"}\n{\"id\":\"d\",\"prediction\":\"bird\"}\n"
			      "{\"id\":\"e\",\"prediction\":\"dog\"}\n{\"id\":\"f\",\"prediction\":\"dog\"}\n");
	if (rc == 0)
		rc = atr_scoring_end(s);
	if (rc == 0)
		rc = atr_scoring_compute(s, NULL, &res);
	if (rc == 0)
		for (size_t i = 0; i < res.n; i++)
			outf(o, "%s=%.6f;", res.values[i].metric, res.values[i].value);
	if (rc == 0 && (rc = atr_scoring_confusion(s, NULL, &cm)) == 0) {
		for (size_t i = 0; i < cm.k * cm.k; i++)
			outf(o, "%llu,", (unsigned long long)cm.counts[i]);
		atr_scoring_confusion_release(&cm);
	}
	if (rc && s && atr_scoring_error(s)->kind)
		outf(o, "error: %s", atr_scoring_error(s)->message);
	else if (rc && t && atr_scoring_truth_error(t)->kind)
		outf(o, "error: %s", atr_scoring_truth_error(t)->message);
	atr_scoring_free(s);
	atr_scoring_truth_free(t);
	return rc;
}

static int s_v2_body(struct out *o)
{
	static const char *const bodies[] = {
		"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[1.5,2]}]}",
		"plain text caf\xc3\xa9",
		"\xff\xfe\x01 binary",
	};
	for (size_t i = 0; i < 3; i++) {
		const char *enc = NULL;
		json_t *v = atr_prediction_body_json(bodies[i], strlen(bodies[i]), true, &enc);
		char *w;
		if (!v || json_is_null(v)) {
			json_decref(v);
			return ATR_ENOMEM;
		}
		w = atr_json_write(v, NULL);
		json_decref(v);
		if (!w)
			return ATR_ENOMEM;
		outf(o, "%s %s;", w, enc ? enc : "-");
		free(w);
	}
	return 0;
}

/* ---- the loop ---- */

static const struct {
	const char *name;
	int (*fn)(struct out *o);
} scenarios[] = {
	{ "json body (jobs.create)", s_job_body },
	{ "json body (runs.create)", s_run_body },
	{ "metric batch", s_metric_batch },
	{ "mlflow log-batch", s_mlflow_batch },
	{ "run filter", s_run_filter },
	{ "mlflow search", s_mlflow_search },
	{ "scoring", s_scoring },
	{ "v2 captured body", s_v2_body },
};

static int torture(const char *name, int (*fn)(struct out *o), long *points)
{
	static struct out ref, got;
	int rc0, rc, bad = 0;
	long n;

	memset(&ref, 0, sizeof(ref));
	alloc_fail_at(0);
	rc0 = fn(&ref);
	if (rc0 != 0) {
		printf("alloc: %s: the reference run failed (%d): %s\n", name, rc0, ref.s);
		return 1;
	}
	for (n = 1;; n++) {
		memset(&got, 0, sizeof(got));
		alloc_fail_at(n);
		rc = fn(&got);
		bool failed = alloc_failed();
		alloc_fail_at(0);
		if (!failed) {
			if (rc != 0 || strcmp(got.s, ref.s) != 0) {
				printf("alloc: %s: not repeatable (%d: %s)\n", name, rc, got.s);
				bad++;
			}
			break;
		}
		if (rc == 0 && strcmp(got.s, ref.s) != 0) {
			printf("alloc: %s: allocation %ld failed, yet it succeeded with another result:\n  %s\n  %s\n",
			       name, n, got.s, ref.s);
			bad++;
		} else if (rc != 0 && rc != ATR_ENOMEM) {
			printf("alloc: %s: allocation %ld failed and it answered %s (%d), not out of memory: %s\n",
			       name, n, atr_err_code(rc), rc, got.s);
			bad++;
		}
	}
	printf("alloc: %-32s %4ld allocations, each failed once: %s\n", name, n - 1, bad ? "FAILED" : "ok");
	*points += n - 1;
	return bad;
}

int main(void)
{
	long points = 0;
	int bad = 0;

	atr_json_setup(); /* jansson through malloc, so through the hook, as the daemon does */
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		bad += torture(scenarios[i].name, scenarios[i].fn, &points);
	printf("alloc: %zu scenarios, %ld failure points, %d findings\n", sizeof(scenarios) / sizeof(scenarios[0]),
	       points, bad);
	return bad ? 1 : 0;
}
