/*
 * test_monitoring.c: model monitoring against the real server, a real worker (fake GPUs) and
 * the tiny V2 model server: a deployment's reference from its model version's lineage (a run
 * that read a CSV dataset version) or named (JSON Lines), its profile, V2 traffic captured and
 * folded into drift counts, the drift report (unchanged after the captures are deleted: it
 * reads the counts), shifted traffic seen as drift and out-of-range values, ground-truth
 * labels for prediction ids (X-Request-Id) and the live quality they give by the task the model
 * version or the settings declare, bad input naming
 * the field, and access (viewer, outsider).
 */
#include "fixtures.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 90000

static struct h_server S;
static struct h_worker W;
static char tok[4][128]; /* owner, editor, viewer, outsider of project "mon" */
static char ms[PATH_MAX];

#define OWNER tok[0]
#define EDITOR tok[1]
#define VIEWER tok[2]
#define OUTSIDER tok[3]

static void sleep_ms(int n)
{
	struct timespec ts = { n / 1000, (long)(n % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void dataset(const char *name, const char *file, const char *text)
{
	json_decref(h_call(&S, "POST", "/api/v1/projects/mon/datasets", EDITOR, h_fmt("{\"name\":\"%s\"}", name), 201));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/mon/datasets/%s/versions", name), EDITOR, "{}", 201));
	json_decref(f_put(&S, h_fmt("/api/v1/projects/mon/datasets/%s/versions/1/files/%s", name, file), EDITOR, text,
			  strlen(text), NULL, 201));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/mon/datasets/%s/versions/1/commit", name), EDITOR, "{}",
			   200));
}

/* Version n of model "lin" (from run run_id when > 0, declaring the task regression then). */
static void model_version(int n, long long run_id)
{
	const char *model = "{\"weights\":[1,2],\"bias\":0.5}";

	json_decref(h_call(&S, "POST", "/api/v1/projects/mon/models/lin/versions", OWNER,
			   run_id > 0 ? h_fmt("{\"source_run\":%lld,\"signature\":{\"task\":\"regression\"}}", run_id)
				      : "{}",
			   201));
	json_decref(f_put(&S, h_fmt("/api/v1/projects/mon/models/lin/versions/%d/files/model.json", n), OWNER, model,
			  strlen(model), NULL, 201));
	json_decref(
		h_call(&S, "POST", h_fmt("/api/v1/projects/mon/models/lin/versions/%d/commit", n), OWNER, "{}", 200));
}

static void deploy(const char *name, int version)
{
	json_decref(h_call(&S, "POST", "/api/v1/projects/mon/deployments", EDITOR,
			   h_fmt("{\"name\":\"%s\",\"model\":\"lin\",\"version\":%d,\"command\":[\"%s\"],"
				 "\"capture\":{\"sample_rate\":1}}",
				 name, version, ms),
			   201));
}

static void wait_ready(const char *name)
{
	for (int t = 0; t < WAIT_MS; t += 200) {
		json_t *d = h_call(&S, "GET", h_fmt("/api/v1/deployments/%s", name), OWNER, NULL, 200);
		bool ready = !strcmp(f_str(d, "state"), "ready");
		json_decref(d);
		if (ready)
			return;
		sleep_ms(200);
	}
	fail_msg("deployment '%s' never became ready", name);
}

/* The reference: a in 0..9, b in 0..12, and y = a + 2 b + 0.5 (what the model answers); 260 rows. */
static char *reference_csv(void)
{
	size_t cap = 16384, n = 0;
	char *s = malloc(cap);

	n += (size_t)snprintf(s + n, cap - n, "a,y,b\n");
	for (int i = 0; i < 260; i++)
		n += (size_t)snprintf(s + n, cap - n, "%d,%.1f,%d\n", i % 10, i % 10 + 2.0 * ((i * 7) % 13) + 0.5,
				      (i * 7) % 13);
	return s;
}

/* One V2 call of five rows: (a0 + (k + i) % 10, (k + i) % 13), with X-Request-Id id (NULL: none). */
static void infer_id(int a0, int k, const char *id)
{
	const char *hdr[2] = { id ? h_fmt("X-Request-Id: %s", id) : NULL, NULL };
	char data[512];
	size_t n = 0;
	struct h_resp r;

	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(data + n, sizeof(data) - n, "%s%d,%d", i ? "," : "", a0 + (k + i) % 10,
				      (k + i) % 13);
	h_req(&S, "POST", "/v2/models/mon/infer", VIEWER,
	      h_fmt("{\"inputs\":[{\"name\":\"x\",\"shape\":[5,2],\"datatype\":\"FP64\",\"data\":[%s]}]}", data),
	      id ? hdr : NULL, &r);
	assert_int_equal(r.status, 200);
	if (id)
		assert_string_equal(h_header(&r, "X-Request-Id"), id);
	h_resp_free(&r);
}

static void infer(int a0, int k)
{
	infer_id(a0, k, NULL);
}

static json_t *drift(const char *query)
{
	return h_call(&S, "GET", h_fmt("/api/v1/deployments/mon/drift%s", query), VIEWER, NULL, 200);
}

/* Polls the drift report until its total counts want requests. */
static json_t *drift_until(long long want)
{
	for (int t = 0; t < WAIT_MS; t += 200) {
		json_t *d = drift("?window=5m");
		if (f_int(json_object_get(d, "total"), "requests") >= want)
			return d;
		json_decref(d);
		sleep_ms(200);
	}
	fail_msg("the drift counts never reached %lld requests", want);
	return NULL;
}

static const json_t *feature(const json_t *d, size_t i)
{
	return json_array_get(json_object_get(json_object_get(d, "total"), "features"), i);
}

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* ---- set-up ---- */

static int setup(void **state)
{
	static const char *const names[4] = { "mona", "ed", "vi", "otto" };
	const char *wargs[] = { "--heartbeat", "1", NULL };
	const char *env = getenv("ATRIUM_MODELSERVER");
	char *csv = reference_csv();
	json_t *run;
	(void)state;

	if (!realpath(env ? env : "build/tests/tools/modelserver", ms)) {
		fprintf(stderr, "the model server is not built (make test-build)\n");
		free(csv);
		return -1;
	}
	h_server_start(&S, NULL);
	f_people(&S, "mon", names, tok);
	dataset("train", "train.csv", csv);
	free(csv);
	dataset("jtrain", "part-0.jsonl",
		"{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\n{\"a\": null, \"b\": \"x\"}\n");
	run = h_call(&S, "POST", "/api/v1/projects/mon/runs", EDITOR,
		     "{\"name\":\"fit\",\"inputs\":[{\"dataset\":\"train\",\"version\":1}]}", 201);
	json_decref(h_call(&S, "POST", "/api/v1/projects/mon/models", OWNER, "{\"name\":\"lin\"}", 201));
	model_version(1, f_int(run, "id"));
	model_version(2, 0);
	json_decref(run);
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 2, wargs);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	deploy("mon", 1);
	deploy("nolin", 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_worker_stop(&W, SIGTERM);
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	h_server_cleanup(&S);
	return 0;
}

/* ---- tests ---- */

static void test_reference_from_lineage(void **state)
{
	json_t *m, *p, *f;
	(void)state;

	m = h_call(&S, "GET", "/api/v1/deployments/mon/monitoring", VIEWER, NULL, 200);
	assert_true(json_is_false(json_object_get(m, "enabled")));
	json_decref(m);
	m = h_call(&S, "PUT", "/api/v1/deployments/mon/monitoring", EDITOR, "{\"prediction\":{\"column\":\"y\"}}", 200);
	assert_true(json_is_true(json_object_get(m, "enabled")));
	assert_string_equal(f_str(json_object_get(m, "reference"), "source"), "lineage");
	assert_int_equal(f_int(json_object_get(json_object_get(m, "reference"), "dataset_version"), "version"), 1);
	p = json_object_get(m, "profile");
	assert_int_equal(f_int(p, "rows"), 260);
	f = json_array_get(json_object_get(p, "features"), 0);
	assert_string_equal(f_str(f, "name"), "a");
	assert_string_equal(f_str(f, "type"), "numeric");
	assert_true(num(f, "min") == 0 && num(f, "max") == 9);
	assert_true(json_array_size(json_object_get(f, "edges")) >= 5);
	f = json_array_get(json_object_get(p, "features"), 2); /* the prediction comes last */
	assert_string_equal(f_str(f, "name"), "y");
	assert_true(json_is_true(json_object_get(f, "prediction")));
	assert_string_equal(f_str(json_array_get(json_object_get(p, "features"), 1), "name"), "b");
	json_decref(m);
	/* the same settings again: the stored profile, the same answer */
	m = h_call(&S, "GET", "/api/v1/deployments/mon/monitoring", VIEWER, NULL, 200);
	assert_int_equal(f_int(json_object_get(m, "profile"), "rows"), 260);
	json_decref(m);
	/* named, JSON Lines, with types given */
	m = h_call(&S, "PUT", "/api/v1/deployments/nolin/monitoring", EDITOR,
		   "{\"reference\":{\"dataset\":\"jtrain\"},\"features\":[{\"name\":\"b\",\"type\":\"categorical\"},"
		   "{\"name\":\"a\"}],\"max_categories\":5}",
		   200);
	assert_string_equal(f_str(json_object_get(m, "reference"), "source"), "explicit");
	f = json_array_get(json_object_get(json_object_get(m, "profile"), "features"), 0);
	assert_string_equal(f_str(f, "name"), "b");
	assert_string_equal(f_str(f, "type"), "categorical");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "categories"), 0)), "x");
	f = json_array_get(json_object_get(json_object_get(m, "profile"), "features"), 1);
	assert_int_equal(f_int(f, "nulls"), 1);
	json_decref(m);
}

static void test_drift_from_traffic(void **state)
{
	json_t *d, *again;
	const json_t *a;
	(void)state;

	wait_ready("mon");
	for (int k = 0; k < 12; k++)
		infer(0, k * 5);
	d = drift_until(12);
	assert_int_equal(f_int(json_object_get(d, "total"), "rows"), 60);
	assert_int_equal(f_int(json_object_get(d, "total"), "misfit"), 0);
	assert_true(json_array_size(json_object_get(d, "windows")) >= 1);
	assert_int_equal(f_int(d, "window_s"), 300);
	a = feature(d, 0);
	assert_string_equal(f_str(a, "name"), "a");
	assert_int_equal(f_int(a, "count"), 60);
	assert_true(num(a, "psi") < 0.1);
	assert_true(num(a, "ks") < 0.1);
	assert_true(num(a, "null_rate") == 0 && num(a, "out_of_range_rate") == 0);
	{ /* the range's live counts over the reference's bins (the histogram's) */
		const json_t *c = json_object_get(a, "counts");
		long long sum = 0;
		assert_true(json_array_size(c) >= 5);
		for (size_t i = 0; i < json_array_size(c); i++)
			sum += json_integer_value(json_array_get(c, i));
		assert_int_equal(sum, 60);
		assert_null(json_object_get(
			json_array_get(json_object_get(json_array_get(json_object_get(d, "windows"), 0), "features"),
				       0),
			"counts"));
	}
	a = feature(d, 2); /* the prediction, read from the answers */
	assert_string_equal(f_str(a, "name"), "y");
	assert_true(json_is_true(json_object_get(a, "prediction")));
	assert_int_equal(f_int(a, "count"), 60);
	assert_true(num(a, "out_of_range_rate") == 0);
	/* the report reads the counts, not the captures */
	f_sql_exec(&S, "DELETE FROM deployment_predictions");
	again = drift("?window=5m");
	assert_true(json_equal(json_object_get(d, "total"), json_object_get(again, "total")));
	json_decref(again);
	json_decref(d);
	/* shifted traffic: a + 50 */
	for (int k = 0; k < 12; k++)
		infer(50, k);
	d = drift_until(24);
	a = feature(d, 0);
	assert_true(num(a, "psi") > 1);
	assert_true(num(a, "ks") > 0.4);
	assert_true(fabs(num(a, "out_of_range_rate") - 0.5) < 1e-9);
	json_decref(d);
	d = drift("?window=1d&from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z");
	assert_int_equal(json_array_size(json_object_get(d, "windows")), 0);
	assert_true(json_is_null(json_object_get(feature(d, 0), "psi")));
	json_decref(d);
}

/* The model: y = a + 2 b + 0.5 per row (tests/tools/modelserver.c with weights [1, 2]). */
static double model_y(int a0, int k, int row)
{
	return a0 + (k + row) % 10 + 2.0 * ((k + row) % 13) + 0.5;
}

static void test_feedback(void **state)
{
	const char *fb = "/api/v1/deployments/mon/feedback";
	json_t *d, *res, *q;
	long long before;
	(void)state;

	d = drift("?window=5m");
	before = f_int(json_object_get(d, "total"), "requests");
	json_decref(d);
	for (int k = 1; k <= 3; k++)
		infer_id(0, k, h_fmt("fb-%d", k));
	json_decref(drift_until(before + 3)); /* captured and folded */
	res = h_call(&S, "POST", fb, EDITOR,
		     h_fmt("{\"labels\":[{\"id\":\"fb-1\",\"label\":%.1f},{\"id\":\"fb-2\",\"label\":%.1f},"
			   "{\"id\":\"fb-3\",\"label\":%.1f,\"row\":1},{\"id\":\"nope\",\"label\":1}]}",
			   model_y(0, 1, 0), model_y(0, 2, 0) + 1, model_y(0, 3, 1)),
		     200);
	assert_int_equal(f_int(res, "received"), 4);
	assert_int_equal(f_int(res, "matched"), 3);
	assert_int_equal(f_int(res, "unmatched"), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(res, "unmatched_ids"), 0)), "nope");
	json_decref(res);
	/* again: every id has its label already */
	res = h_call(&S, "POST", fb, EDITOR,
		     "{\"labels\":[{\"id\":\"fb-1\",\"label\":0},{\"id\":\"nope\",\"label\":0}]}", 200);
	assert_int_equal(f_int(res, "duplicates"), 2);
	assert_int_equal(f_int(res, "matched"), 0);
	json_decref(res);
	d = drift("?window=5m");
	q = json_object_get(json_object_get(d, "quality"), "total");
	assert_int_equal(f_int(q, "labelled"), 3);
	/* the task the model version declares in its signature */
	assert_string_equal(f_str(json_object_get(d, "quality"), "task"), "regression");
	assert_string_equal(f_str(json_object_get(d, "quality"), "task_source"), "model_version");
	assert_null(json_object_get(q, "accuracy"));
	assert_true(fabs(num(q, "mae") - 1.0 / 3) < 1e-9);
	assert_true(fabs(num(q, "rmse") - sqrt(1.0 / 3)) < 1e-9);
	assert_true(json_array_size(json_object_get(json_object_get(d, "quality"), "windows")) >= 1);
	json_decref(d);
	/* bad input and access */
	h_expect_error(&S, "POST", fb, EDITOR, "{\"labels\":[]}", 400, "labels");
	h_expect_error(&S, "POST", fb, EDITOR, "{}", 400, "labels");
	h_expect_error(&S, "POST", fb, EDITOR, "{\"labels\":[{\"label\":1}]}", 400, "labels[0].id");
	h_expect_error(&S, "POST", fb, EDITOR, "{\"labels\":[{\"id\":\"a\"}]}", 400, "labels[0].label");
	h_expect_error(&S, "POST", fb, EDITOR, "{\"labels\":[{\"id\":\"a\",\"label\":1,\"row\":-1}]}", 400,
		       "labels[0].row");
	{
		size_t cap = 10001 * 40 + 64, n = 0;
		char *big = malloc(cap);
		n += (size_t)snprintf(big, cap, "{\"labels\":[");
		for (int i = 0; i < 10001; i++)
			n += (size_t)snprintf(big + n, cap - n, "%s{\"id\":\"x%d\",\"label\":1}", i ? "," : "", i);
		snprintf(big + n, cap - n, "]}");
		h_expect_error(&S, "POST", fb, EDITOR, big, 400, "labels");
		free(big);
	}
	h_expect_error(&S, "POST", fb, VIEWER, "{\"labels\":[{\"id\":\"a\",\"label\":1}]}", 403, NULL);
	h_expect_error(&S, "POST", fb, OUTSIDER, "{\"labels\":[{\"id\":\"a\",\"label\":1}]}", 404, NULL);
}

/* The quality of the task declared in the settings (over the model version's): the same labels
 * (3.5 = 3.5, 7.5 for 6.5, 12.5 = 12.5) as classes. */
static json_t *quality_as(const char *settings)
{
	json_t *m = h_call(&S, "PUT", "/api/v1/deployments/mon/monitoring", EDITOR, settings, 200), *d, *q;

	json_decref(m);
	d = drift("?window=5m");
	q = json_deep_copy(json_object_get(d, "quality"));
	json_decref(d);
	assert_string_equal(f_str(q, "task_source"), "settings");
	return q;
}

static void test_quality_by_task(void **state)
{
	const char *put = "/api/v1/deployments/mon/monitoring";
	json_t *q, *m;
	const json_t *t;
	(void)state;

	q = quality_as("{\"prediction\":{\"column\":\"y\"},\"task\":\"multiclass_classification\"}");
	t = json_object_get(q, "total");
	assert_string_equal(f_str(q, "task"), "multiclass_classification");
	assert_string_equal(f_str(t, "average"), "macro");
	assert_int_equal(f_int(t, "classes"), 4);
	assert_true(fabs(num(t, "accuracy") - 2.0 / 3) < 1e-9);
	assert_true(fabs(num(t, "precision") - 0.5) < 1e-9); /* classes 3.5, 6.5, 7.5, 12.5: 1, 0, 0, 1 */
	assert_true(fabs(num(t, "recall") - 0.5) < 1e-9);
	assert_true(fabs(num(t, "f1") - 0.5) < 1e-9);
	assert_null(json_object_get(t, "rmse"));
	assert_true(json_array_size(json_object_get(q, "windows")) >= 1);
	json_decref(q);
	q = quality_as("{\"prediction\":{\"column\":\"y\"},\"task\":\"binary_classification\","
		       "\"positive_class\":\"6.5\"}");
	t = json_object_get(q, "total");
	assert_string_equal(f_str(t, "positive_class"), "6.5");
	assert_true(num(t, "precision") == 0 && num(t, "recall") == 0 && num(t, "f1") == 0);
	json_decref(q);
	m = h_call(&S, "GET", put, VIEWER, NULL, 200);
	assert_string_equal(f_str(json_object_get(m, "settings"), "task"), "binary_classification");
	json_decref(m);
	q = quality_as("{\"prediction\":{\"column\":\"y\"},\"task\":\"regression\"}");
	assert_true(fabs(num(json_object_get(q, "total"), "rmse") - sqrt(1.0 / 3)) < 1e-9);
	json_decref(q);
	h_expect_error(&S, "PUT", put, EDITOR, "{\"task\":\"clustering\"}", 400, "task");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"task\":1}", 400, "task");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"positive_class\":\"1\"}", 400, "positive_class");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"task\":\"regression\",\"positive_class\":\"1\"}", 400,
		       "positive_class");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"task\":\"binary_classification\",\"positive_class\":\"\"}", 400,
		       "positive_class");
	h_expect_error(&S, "PUT", put, VIEWER, "{\"task\":\"regression\"}", 403, NULL);
	h_expect_error(&S, "PUT", put, OUTSIDER, "{\"task\":\"regression\"}", 404, NULL);
}

static void test_bad_input(void **state)
{
	const char *put = "/api/v1/deployments/mon/monitoring";
	(void)state;

	h_expect_error(&S, "PUT", put, EDITOR, "{\"bins\":1}", 400, "bins");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"max_categories\":0}", 400, "max_categories");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"features\":[{\"name\":\"a\",\"type\":\"text\"}]}", 400,
		       "features[0].type");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"features\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", 400, "features");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"features\":[]}", 400, "features");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"features\":[{\"type\":\"numeric\"}]}", 400, "features[0].name");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"reference\":{\"dataset\":\"nope\"}}", 400, "reference.dataset");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"reference\":{\"dataset\":\"train\",\"version\":9}}", 400,
		       "reference.version");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"reference\":{}}", 400, "reference.dataset");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"extra\":1}", 400, "extra");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"prediction\":{}}", 400, "prediction.column");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"features\":[{\"name\":\"a\"}],\"prediction\":{\"column\":\"a\"}}",
		       400, "prediction.column");
	f_expect_message(&S, "PUT", put, EDITOR, "{\"prediction\":{\"column\":\"zz\"}}", 422, "'zz'");
	h_expect_error(&S, "PUT", put, EDITOR, "{\"features\":[{\"name\":\"zz\"}]}", 422, "reference");
	f_expect_message(&S, "PUT", put, EDITOR, "{\"features\":[{\"name\":\"zz\"}]}", 422, "'zz'");
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/nolin/monitoring", EDITOR, NULL, 405));
	h_expect_error(&S, "GET", "/api/v1/deployments/mon/drift?window=2m", VIEWER, NULL, 400, "window");
	h_expect_error(&S, "GET", "/api/v1/deployments/mon/drift?from=yesterday", VIEWER, NULL, 400, "from");
	h_expect_error(&S, "GET", "/api/v1/deployments/mon/drift?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
		       VIEWER, NULL, 400, "from");
	h_expect_error(&S, "GET",
		       "/api/v1/deployments/mon/drift?window=5m&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
		       VIEWER, NULL, 400, "window");
}

static void test_no_lineage(void **state)
{
	(void)state;
	/* nolin's version 2 has no source run: no training data to default to */
	f_sql_exec(
		&S,
		"DELETE FROM monitor_settings WHERE deployment_id = (SELECT id FROM deployments WHERE name = 'nolin')");
	h_expect_error(&S, "PUT", "/api/v1/deployments/nolin/monitoring", EDITOR, "{}", 422, "reference");
	f_expect_message(&S, "GET", "/api/v1/deployments/nolin/drift", VIEWER, NULL, 409, "no reference profile");
}

static void test_access(void **state)
{
	(void)state;
	h_expect_error(&S, "PUT", "/api/v1/deployments/mon/monitoring", VIEWER, "{}", 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/mon/monitoring", OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "PUT", "/api/v1/deployments/mon/monitoring", OUTSIDER, "{}", 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/mon/drift", OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/mon/drift", NULL, NULL, 401, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/nope/monitoring", VIEWER, NULL, 404, NULL);
}

/* A monitor of live quality by the declared task: F1 (macro) and recall of the same three
 * labels reach their states; precision, recall and F1 need a classification task. */
static json_t *wait_monitor(long long id, const char *state)
{
	for (int t = 0; t < WAIT_MS; t += 200) {
		json_t *m = h_call(&S, "GET", h_fmt("/api/v1/deployments/mon/monitors/%lld", id), VIEWER, NULL, 200);
		if (!strcmp(f_str(m, "state"), state))
			return m;
		json_decref(m);
		sleep_ms(200);
	}
	fail_msg("monitor %lld never became %s", id, state);
	return NULL;
}

static long long monitor(const char *stat, double alerting, double warning)
{
	json_t *m = h_call(&S, "POST", "/api/v1/deployments/mon/monitors", EDITOR,
			   h_fmt("{\"name\":\"q-%s\",\"watch\":\"quality\",\"statistic\":\"%s\",\"alerting\":%g,"
				 "\"warning\":%g,\"min_samples\":1,\"interval_s\":1}",
				 stat, stat, alerting, warning),
			   201);
	long long id = f_int(m, "id");

	assert_string_equal(f_str(json_object_get(m, "spec"), "direction"), "below");
	json_decref(m);
	return id;
}

static void test_quality_monitors(void **state)
{
	const char *p = "/api/v1/deployments/mon/monitors", *put = "/api/v1/deployments/mon/monitoring";
	json_t *m;
	long long f1, rec, prec;
	(void)state;

	json_decref(quality_as("{\"prediction\":{\"column\":\"y\"},\"task\":\"regression\"}"));
	h_expect_error(&S, "POST", p, EDITOR,
		       "{\"name\":\"x\",\"watch\":\"quality\",\"statistic\":\"f1\",\"alerting\":0.5}", 400,
		       "statistic");
	json_decref(quality_as("{\"prediction\":{\"column\":\"y\"},\"task\":\"multiclass_classification\"}"));
	h_expect_error(&S, "POST", p, EDITOR,
		       "{\"name\":\"x\",\"watch\":\"quality\",\"statistic\":\"rmse\",\"alerting\":0.5}", 400,
		       "statistic");
	h_expect_error(&S, "POST", p, EDITOR,
		       "{\"name\":\"x\",\"watch\":\"drift\",\"statistic\":\"f1\",\"alerting\":0.5}", 400, "statistic");
	h_expect_error(&S, "POST", p, VIEWER,
		       "{\"name\":\"x\",\"watch\":\"quality\",\"statistic\":\"f1\",\"alerting\":0.5}", 403, NULL);
	f1 = monitor("f1", 0.6, 0.7);	   /* macro F1 0.5: alerting */
	rec = monitor("recall", 0.4, 0.6); /* macro recall 0.5: warning */
	m = wait_monitor(f1, "alerting");
	assert_true(fabs(num(m, "value") - 0.5) < 1e-9);
	assert_int_equal(f_int(m, "samples"), 3);
	json_decref(m);
	json_decref(wait_monitor(rec, "warning"));
	/* binary, positive class 3.5 (predicted once, rightly): precision 1 */
	json_decref(quality_as("{\"prediction\":{\"column\":\"y\"},\"task\":\"binary_classification\","
			       "\"positive_class\":\"3.5\"}"));
	prec = monitor("precision", 0.5, 0.9);
	m = wait_monitor(prec, "ok");
	assert_true(fabs(num(m, "value") - 1.0) < 1e-9);
	json_decref(m);
	json_decref(wait_monitor(f1, "ok")); /* F1 of 3.5 is 1 too */
	for (long long *id = (long long[]){ f1, rec, prec, 0 }; *id; id++)
		json_decref(h_call(&S, "DELETE", h_fmt("%s/%lld", p, *id), EDITOR, NULL, 204));
	json_decref(quality_as("{\"prediction\":{\"column\":\"y\"},\"task\":\"regression\"}"));
	json_decref(h_call(&S, "GET", put, VIEWER, NULL, 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_from_lineage),
		cmocka_unit_test(test_drift_from_traffic),
		cmocka_unit_test(test_feedback),
		cmocka_unit_test(test_quality_by_task),
		cmocka_unit_test(test_quality_monitors),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_no_lineage),
		cmocka_unit_test(test_access),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
