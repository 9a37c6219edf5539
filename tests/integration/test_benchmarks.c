/*
 * test_benchmarks.c: benchmarks, evaluations, leaderboards and the evaluation gate over HTTP:
 * the access matrix (owner, editor, viewer, outsider) of every route, bad definitions (400
 * naming the field, 409 for a draft dataset version), predictions files scored (metric values,
 * confusion matrix, lineage) and refused with a 422 naming the first bad line, the leaderboard
 * (direction, best per model version, ties, pages, CSV), and the gate on `production` through
 * every way of moving it: a direct move, an approved promotion, MLflow's alias and stages.
 */
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static char people[4][128];
static const char *const olga = people[0], *const ed = people[1], *const vic = people[2], *const out = people[3];

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

#define P "/api/v1/projects/bm"
#define BM P "/benchmarks"
#define MD P "/models"

#define TRUTH "id,label\n1,cat\n2,dog\n3,cat\n4,dog\n"
#define PRED_HALF "id,prediction\n1,cat\n2,cat\n3,dog\n4,dog\n"		 /* accuracy 0.5 */
#define PRED_3Q "id,prediction\n4,dog\n3,cat\n2,cat\n1,cat\n"		 /* 0.75 (any row order) */
#define PRED_ALL "id,prediction\r\n1,cat\r\n2,dog\r\n3,cat\r\n4,dog\r\n" /* 1.0 */

/* POST of a predictions file to an evaluations path (with its query); asserts the status. */
static json_t *post_eval(const char *path, const char *token, const char *body, long expect)
{
	struct h_resp r;
	json_t *j;

	h_req(&S, "POST", path, token, body, NULL, &r);
	if (r.status != expect) {
		fprintf(stderr, "POST %s: expected %ld, got %ld: %s\n", path, expect, r.status, r.body ? r.body : "");
		fail();
	}
	j = json_incref(r.json);
	h_resp_free(&r);
	return j;
}

/* A 422 of a predictions file whose message holds needle (the line and the kind). */
static void expect_bad_file(const char *body, const char *needle)
{
	json_t *j = post_eval(BM "/holdout/evaluations?model=clf&version=1", ed, body, 422);
	json_t *e = json_object_get(j, "error");
	const char *msg = f_str(e, "message");

	assert_string_equal(f_str(e, "field"), "predictions");
	if (!strstr(msg, needle)) {
		fprintf(stderr, "expected '%s' in '%s'\n", needle, msg);
		fail();
	}
	json_decref(j);
}

static void committed_version(const char *model)
{
	json_t *v = h_call(&S, "POST", h_fmt(MD "/%s/versions", model), ed, "{}", 201);
	long long n = f_int(v, "version");
	json_decref(v);
	json_decref(h_call(&S, "POST", h_fmt(MD "/%s/versions/%lld/commit", model, n), ed, "{}", 200));
}

static void dataset_version(const char *name, const char *file, const char *text, bool commit)
{
	json_t *v = h_call(&S, "POST", h_fmt(P "/datasets/%s/versions", name), ed, "{}", 201);
	long long n = f_int(v, "version");
	json_decref(v);
	json_decref(f_put(&S, h_fmt(P "/datasets/%s/versions/%lld/files/%s", name, n, file), ed, text, strlen(text),
			  NULL, 201));
	if (commit)
		json_decref(h_call(&S, "POST", h_fmt(P "/datasets/%s/versions/%lld/commit", name, n), ed, "{}", 200));
}

static int setup(void **state)
{
	(void)state;
	json_decref(h_call(&S, "POST", P "/datasets", ed, "{\"name\":\"labels\"}", 201));
	dataset_version("labels", "truth.csv", TRUTH, true);			   /* 1 */
	dataset_version("labels", "truth.csv", TRUTH, false);			   /* 2: a draft */
	dataset_version("labels", "values.csv", "id,label\n1,1.0\n2,2.0\n", true); /* 3 */
	json_decref(h_call(&S, "POST", MD, ed, "{\"name\":\"clf\"}", 201));
	for (int i = 0; i < 3; i++)
		committed_version("clf");
	return 0;
}

#define CREATE_CLF                                                                                               \
	"{\"name\":\"holdout\",\"description\":\"the holdout\",\"dataset\":\"labels\",\"version\":1,"            \
	"\"file\":\"truth.csv\",\"metrics\":[{\"name\":\"accuracy\",\"direction\":\"higher\"},{\"name\":\"f1\"," \
	"\"average\":\"macro\"},{\"name\":\"balanced_accuracy\"}]}"

static void test_benchmark_crud(void **state)
{
	json_t *j, *m;
	(void)state;

	j = h_call(&S, "POST", BM, ed, CREATE_CLF, 201);
	assert_string_equal(f_str(j, "primary_metric"), "accuracy");
	assert_string_equal(f_str(j, "format"), "csv");
	assert_string_equal(f_str(j, "id_column"), "id");
	m = json_object_get(j, "metrics");
	assert_int_equal(json_array_size(m), 3);
	assert_string_equal(f_str(json_array_get(m, 1), "name"), "f1_macro");
	assert_string_equal(f_str(json_array_get(m, 1), "direction"), "higher");
	assert_int_equal(f_int(json_object_get(j, "dataset"), "version"), 1);
	json_decref(j);
	/* bad input names the field */
	h_expect_error(&S, "POST", BM, ed, CREATE_CLF, 409, "name");
#define BAD(metrics, field)                                                                                         \
	h_expect_error(                                                                                             \
		&S, "POST", BM, ed,                                                                                 \
		"{\"name\":\"b2\",\"dataset\":\"labels\",\"version\":1,\"file\":\"truth.csv\",\"metrics\":" metrics \
		"}",                                                                                                \
		400, field)
	BAD("[{\"name\":\"acuracy\"}]", "metrics[0].name");
	BAD("[{\"name\":\"accuracy\"},{\"name\":\"accuracy\",\"average\":\"macro\"}]", "metrics[1].average");
	BAD("[{\"name\":\"f1\",\"average\":\"mean\"}]", "metrics[0].average");
	BAD("[{\"name\":\"accuracy\",\"k\":3}]", "metrics[0].k");
	BAD("[{\"name\":\"top_k_accuracy\",\"k\":0}]", "metrics[0].k");
	BAD("[{\"name\":\"rmse\",\"direction\":\"higher\"}]", "metrics[0].direction");
	BAD("[{\"name\":\"accuracy\",\"pos_label\":\"cat\"}]", "metrics[0].pos_label");
	BAD("[{\"name\":\"accuracy\"},{\"name\":\"accuracy\"}]", "metrics[1].name");
	BAD("[{\"name\":\"accuracy\"},{\"name\":\"rmse\"}]", "metrics");
	BAD("[]", "metrics");
	BAD("[\"accuracy\"]", "metrics[0]");
	h_expect_error(&S, "POST", BM, ed,
		       "{\"name\":\"b2\",\"dataset\":\"labels\",\"version\":1,\"file\":\"truth.csv\",\"metrics\":"
		       "[{\"name\":\"accuracy\"}],\"primary_metric\":\"rmse\"}",
		       400, "primary_metric");
	h_expect_error(&S, "POST", BM, ed,
		       "{\"name\":\"b2\",\"dataset\":\"labels\",\"version\":1,\"file\":\"nope.csv\",\"metrics\":"
		       "[{\"name\":\"accuracy\"}]}",
		       400, "file");
	h_expect_error(&S, "POST", BM, ed,
		       "{\"name\":\"b2\",\"dataset\":\"nope\",\"version\":1,\"file\":\"truth.csv\",\"metrics\":"
		       "[{\"name\":\"accuracy\"}]}",
		       400, "dataset");
	h_expect_error(&S, "POST", BM, ed,
		       "{\"name\":\"b2\",\"dataset\":\"labels\",\"version\":9,\"file\":\"truth.csv\",\"metrics\":"
		       "[{\"name\":\"accuracy\"}]}",
		       400, "version");
	h_expect_error(&S, "POST", BM, ed,
		       "{\"name\":\"b2\",\"dataset\":\"labels\",\"version\":2,\"file\":\"truth.csv\",\"metrics\":"
		       "[{\"name\":\"accuracy\"}]}",
		       409, "version");
	h_expect_error(&S, "POST", BM, ed, "{\"name\":\"b2\"}", 400, "dataset");
	h_expect_error(&S, "POST", BM, ed, "{\"name\":\"B 2\"}", 400, "name");
	/* access */
	h_expect_error(&S, "POST", BM, vic, CREATE_CLF, 403, NULL);
	h_expect_error(&S, "POST", BM, out, CREATE_CLF, 404, NULL);
	j = h_call(&S, "GET", BM, vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	h_expect_error(&S, "GET", BM, out, NULL, 404, NULL);
	j = h_call(&S, "GET", BM "/holdout", vic, NULL, 200);
	assert_string_equal(f_str(j, "description"), "the holdout");
	json_decref(j);
	h_expect_error(&S, "GET", BM "/holdout", out, NULL, 404, NULL);
	h_expect_error(&S, "GET", BM "/nope", vic, NULL, 404, NULL);
	/* change */
	j = h_call(&S, "PATCH", BM "/holdout", ed, "{\"description\":\"changed\"}", 200);
	assert_string_equal(f_str(j, "description"), "changed");
	json_decref(j);
	h_expect_error(&S, "PATCH", BM "/holdout", ed, "{\"primary_metric\":\"rmse\"}", 400, "primary_metric");
	h_expect_error(&S, "PATCH", BM "/holdout", ed, "{\"metrics\":[]}", 400, "metrics");
	h_expect_error(&S, "PATCH", BM "/holdout", vic, "{\"description\":\"x\"}", 403, NULL);
	h_expect_error(&S, "PATCH", BM "/holdout", out, "{\"description\":\"x\"}", 404, NULL);
	/* delete: owners */
	json_decref(h_call(&S, "POST", BM, ed,
			   "{\"name\":\"gone\",\"dataset\":\"labels\",\"version\":1,\"file\":\"truth.csv\",\"metrics\":"
			   "[{\"name\":\"accuracy\"}]}",
			   201));
	h_expect_error(&S, "DELETE", BM "/gone", ed, NULL, 403, NULL);
	h_expect_error(&S, "DELETE", BM "/gone", out, NULL, 404, NULL);
	json_decref(h_call(&S, "DELETE", BM "/gone", olga, NULL, 204));
	h_expect_error(&S, "GET", BM "/gone", olga, NULL, 404, NULL);
}

static long long eval_ids[5];

static void test_evaluations(void **state)
{
	json_t *j, *cm, *l;
	char *dump;
	(void)state;

	j = post_eval(BM "/holdout/evaluations?model=clf&version=1", ed, PRED_HALF, 201);
	assert_near(json_real_value(json_object_get(json_object_get(j, "metrics"), "accuracy")), 0.5, 1e-12);
	assert_near(json_real_value(json_object_get(j, "primary_value")), 0.5, 1e-12);
	assert_int_equal(f_int(json_object_get(j, "model_version"), "version"), 1);
	assert_string_equal(f_str(j, "created_by"), "ed");
	assert_int_equal(f_int(j, "rows"), 4);
	eval_ids[0] = f_int(j, "id");
	json_decref(j);
	j = post_eval(BM "/holdout/evaluations?model=clf&version=2", ed, PRED_3Q, 201);
	assert_near(json_real_value(json_object_get(json_object_get(j, "metrics"), "f1_macro")), (0.8 + 2.0 / 3.0) / 2,
		    1e-12);
	assert_near(json_real_value(json_object_get(json_object_get(j, "metrics"), "balanced_accuracy")), 0.75, 1e-12);
	cm = json_object_get(j, "confusion_matrix");
	assert_string_equal(json_string_value(json_array_get(json_object_get(cm, "labels"), 0)), "cat");
	dump = json_dumps(json_object_get(cm, "matrix"), JSON_COMPACT);
	assert_string_equal(dump, "[[2,0],[1,1]]");
	free(dump);
	assert_string_equal(f_str(json_object_get(j, "predictions"), "path"), "predictions.csv");
	eval_ids[1] = f_int(j, "id");
	json_decref(j);
	j = post_eval(BM "/holdout/evaluations?model=clf&version=2", ed, PRED_ALL, 201); /* v2's best */
	eval_ids[2] = f_int(j, "id");
	json_decref(j);
	l = h_call(&S, "POST", P "/runs", ed, "{\"name\":\"r1\"}", 201);
	j = post_eval(h_fmt(BM "/holdout/evaluations?run=%lld", f_int(l, "id")), ed, PRED_3Q, 201); /* ties v3 */
	json_decref(l);
	assert_true(json_is_null(json_object_get(j, "model_version")));
	eval_ids[3] = f_int(j, "id");
	json_decref(j);
	j = post_eval(BM "/holdout/evaluations?model=clf&version=3&format=csv", ed, PRED_3Q, 201);
	eval_ids[4] = f_int(j, "id");
	json_decref(j);
	/* get, list, lineage */
	j = h_call(&S, "GET", h_fmt(BM "/holdout/evaluations/%lld", eval_ids[1]), vic, NULL, 200);
	assert_int_equal(f_int(j, "id"), eval_ids[1]);
	assert_int_equal(f_int(json_object_get(j, "dataset_version"), "version"), 1);
	json_decref(j);
	h_expect_error(&S, "GET", BM "/holdout/evaluations/999", vic, NULL, 404, NULL);
	h_expect_error(&S, "GET", BM "/holdout/evaluations/abc", vic, NULL, 400, "evaluation");
	h_expect_error(&S, "GET", h_fmt(BM "/holdout/evaluations/%lld", eval_ids[1]), out, NULL, 404, NULL);
	j = h_call(&S, "GET", BM "/holdout/evaluations?limit=2", vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	assert_int_equal(f_int(json_array_get(json_object_get(j, "items"), 0), "id"), eval_ids[4]);
	assert_true(json_is_string(json_object_get(j, "next_cursor")));
	json_decref(j);
	h_expect_error(&S, "GET", BM "/holdout/evaluations", out, NULL, 404, NULL);
	j = h_call(&S, "GET", MD "/clf/versions/2", vic, NULL, 200);
	l = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", f_int(j, "id")), vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "evaluations")), 2);
	assert_string_equal(f_str(json_array_get(json_object_get(l, "evaluations"), 0), "benchmark"), "holdout");
	json_decref(l);
	json_decref(j);
	j = h_call(&S, "GET", BM "/holdout", vic, NULL, 200);
	assert_int_equal(f_int(j, "evaluation_count"), 5);
	json_decref(j);
}

static void test_bad_predictions(void **state)
{
	(void)state;
	expect_bad_file("id,prediction\n1,cat\n2,cat\n3,cat\n", "missing_id");
	expect_bad_file("id,prediction\n1,cat\n2,cat\n3,cat\n4,cat\n9,cat\n", "line 6");
	expect_bad_file("id,prediction\n1,cat\n2,cat\n3,cat\n4,cat\n9,cat\n", "extra_id");
	expect_bad_file("id,prediction\n1,cat\n1,cat\n3,cat\n4,cat\n", "line 3");
	expect_bad_file("id,prediction\n1,cat\n1,cat\n3,cat\n4,cat\n", "duplicate_id");
	expect_bad_file("ident,prediction\n1,cat\n", "line 1");
	expect_bad_file("ident,prediction\n1,cat\n", "bad_header");
	expect_bad_file("id,prediction\n1,cat\n2,c\xff"
			"at\n3,cat\n4,cat\n",
			"line 3");
	expect_bad_file("id,prediction\n1,cat\n2,c\xff"
			"at\n3,cat\n4,cat\n",
			"not_utf8");
	expect_bad_file("id,prediction\n1,cat,extra\n", "line 2");
	expect_bad_file("", "bad_header");
	/* a wrong column type: a regression benchmark */
	json_decref(
		h_call(&S, "POST", BM, ed,
		       "{\"name\":\"values\",\"dataset\":\"labels\",\"version\":3,\"file\":\"values.csv\",\"metrics\":"
		       "[{\"name\":\"rmse\"},{\"name\":\"mae\"}]}",
		       201));
	json_decref(post_eval(BM "/values/evaluations?model=clf&version=1", ed, "id,prediction\n1,1.0\n2,abc\n", 422));
	/* a ground truth that cannot be scored against is refused when the benchmark is made */
	f_expect_message(&S, "POST", BM, ed,
			 "{\"name\":\"badtruth\",\"dataset\":\"labels\",\"version\":3,\"file\":\"values.csv\","
			 "\"label_column\":\"target\",\"metrics\":[{\"name\":\"rmse\"}]}",
			 422, "line 1");
	h_expect_error(&S, "POST", BM, ed,
		       "{\"name\":\"badtruth\",\"dataset\":\"labels\",\"version\":1,\"file\":\"truth.csv\","
		       "\"metrics\":[{\"name\":\"rmse\"}]}",
		       422, "file"); /* class labels where numbers are needed */
	h_expect_error(&S, "GET", BM "/badtruth", ed, NULL, 404, NULL);
	/* the query names what is evaluated */
	h_expect_error(&S, "POST", BM "/holdout/evaluations", ed, PRED_HALF, 400, "model");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?model=nope", ed, PRED_HALF, 400, "model");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?model=clf&version=9", ed, PRED_HALF, 400, "version");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?version=1", ed, PRED_HALF, 400, "model");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?run=999", ed, PRED_HALF, 400, "run");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?run=abc", ed, PRED_HALF, 400, "run");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?model=clf&format=xml", ed, PRED_HALF, 400, "format");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?model=clf&bogus=1", ed, PRED_HALF, 400, "bogus");
	h_expect_error(&S, "POST", BM "/holdout/evaluations?model=clf", vic, PRED_HALF, 403, NULL);
	h_expect_error(&S, "POST", BM "/holdout/evaluations?model=clf", out, PRED_HALF, 404, NULL);
	h_expect_error(&S, "POST", BM "/nope/evaluations?model=clf", ed, PRED_HALF, 404, NULL);
	/* nothing of these was recorded */
	assert_int_equal(f_sql_int(&S, "SELECT count(*) FROM evaluations"), 5);
}

/* The evaluation ids of a leaderboard walked page by page (limit 1), with their ranks checked. */
static int board_ids(const char *bench, long long *ids, int max)
{
	char cursor[512] = "";
	int n = 0;

	for (;;) {
		json_t *j = h_call(&S, "GET",
				   h_fmt(BM "/%s/leaderboard?limit=1%s%s", bench, cursor[0] ? "&cursor=" : "", cursor),
				   vic, NULL, 200);
		json_t *it = json_array_get(json_object_get(j, "items"), 0), *next = json_object_get(j, "next_cursor");
		if (it) {
			assert_true(n < max);
			assert_int_equal(f_int(it, "rank"), n + 1);
			ids[n++] = f_int(it, "evaluation_id");
		}
		if (!json_is_string(next)) {
			json_decref(j);
			return n;
		}
		snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		json_decref(j);
	}
}

static void test_leaderboard(void **state)
{
	long long ids[8];
	json_t *j, *it;
	struct h_resp r;
	char want[256];
	(void)state;

	/* best per model version (v2: its 1.0, not its 0.75), ties to the earlier (the run before v3) */
	assert_int_equal(board_ids("holdout", ids, 8), 4);
	assert_int_equal(ids[0], eval_ids[2]);
	assert_int_equal(ids[1], eval_ids[3]);
	assert_int_equal(ids[2], eval_ids[4]);
	assert_int_equal(ids[3], eval_ids[0]);
	j = h_call(&S, "GET", BM "/holdout/leaderboard", vic, NULL, 200);
	it = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(f_str(it, "subject"), "model_version");
	assert_string_equal(f_str(it, "model"), "clf");
	assert_int_equal(f_int(it, "version"), 2);
	assert_near(json_real_value(json_object_get(it, "primary")), 1.0, 0);
	assert_true(json_is_real(json_object_get(json_object_get(it, "metrics"), "f1_macro")));
	assert_null(json_object_get(it, "sort_key"));
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 1), "subject"), "run");
	assert_true(json_is_null(json_object_get(j, "next_cursor")));
	json_decref(j);
	/* CSV */
	h_req(&S, "GET", BM "/holdout/leaderboard?format=csv&limit=2", vic, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(h_header(&r, "Content-Type"), "text/csv"));
	assert_non_null(h_header(&r, "X-Next-Cursor"));
	assert_memory_equal(r.body,
			    "rank,evaluation_id,subject,model,version,run_id,accuracy,f1_macro,balanced_accuracy,"
			    "created_by,created_at\r\n",
			    97);
	snprintf(want, sizeof(want), "\r\n1,%lld,model_version,clf,2,,1.0,1.0,1.0,ed,", eval_ids[2]);
	if (!strstr(r.body, want))
		fprintf(stderr, "CSV: %s\n", r.body);
	assert_non_null(strstr(r.body, want));
	h_resp_free(&r);
	h_expect_error(&S, "GET", BM "/holdout/leaderboard?format=xml", vic, NULL, 400, "format");
	h_expect_error(&S, "GET", BM "/holdout/leaderboard?cursor=zzz", vic, NULL, 400, "cursor");
	h_expect_error(&S, "GET", BM "/holdout/leaderboard", out, NULL, 404, NULL);
	/* lower is better: rmse */
	j = post_eval(BM "/values/evaluations?model=clf&version=1", ed, "id,prediction\n1,1.5\n2,2.0\n", 201);
	ids[4] = f_int(j, "id");
	json_decref(j);
	j = post_eval(BM "/values/evaluations?model=clf&version=2&format=jsonl", ed,
		      "{\"id\":1,\"prediction\":1}\n"
		      "{\"id\":2,\"prediction\":2}\n",
		      201);
	assert_true(json_is_null(json_object_get(j, "confusion_matrix")));
	ids[5] = f_int(j, "id");
	json_decref(j);
	j = h_call(&S, "GET", BM "/values/evaluations?limit=1", vic, NULL, 200);
	json_decref(j);
	assert_int_equal(board_ids("values", ids, 4), 2);
	assert_int_equal(ids[0], ids[5]);
	assert_int_equal(ids[1], ids[4]);
	/* a new primary metric re-ranks from the evaluations */
	json_decref(h_call(&S, "PATCH", BM "/holdout", ed, "{\"primary_metric\":\"f1_macro\"}", 200));
	assert_int_equal(board_ids("holdout", ids, 8), 4);
	assert_int_equal(ids[0], eval_ids[2]);
	assert_int_equal(ids[1], eval_ids[3]);
	assert_int_equal(ids[3], eval_ids[0]);
	json_decref(h_call(&S, "PATCH", BM "/holdout", ed, "{\"primary_metric\":\"accuracy\"}", 200));
}

/* An MLflow call's status (its error shape is MLflow's). */
static long mlflow_status(const char *path, const char *body, const char *needle)
{
	struct h_resp r;
	long st;

	h_req(&S, "POST", path, olga, body, NULL, &r);
	st = r.status;
	if (needle && !strstr(r.body ? r.body : "", needle)) {
		fprintf(stderr, "expected '%s' in '%s'\n", needle, r.body ? r.body : "");
		fail();
	}
	h_resp_free(&r);
	return st;
}

static void test_gate(void **state)
{
	json_t *j, *g;
	long long pid;
	(void)state;

	h_expect_error(&S, "GET", MD "/clf/gate", vic, NULL, 404, NULL);
#define GATE "{\"benchmark\":\"holdout\",\"metric\":\"accuracy\",\"threshold\":0.7}"
	h_expect_error(&S, "PUT", MD "/clf/gate", ed, GATE, 403, NULL);
	h_expect_error(&S, "PUT", MD "/clf/gate", out, GATE, 404, NULL);
	h_expect_error(&S, "PUT", MD "/clf/gate", olga,
		       "{\"benchmark\":\"nope\",\"metric\":\"accuracy\",\"threshold\":1}", 400, "benchmark");
	h_expect_error(&S, "PUT", MD "/clf/gate", olga,
		       "{\"benchmark\":\"holdout\",\"metric\":\"rmse\",\"threshold\":1}", 400, "metric");
	h_expect_error(&S, "PUT", MD "/clf/gate", olga,
		       "{\"benchmark\":\"holdout\",\"metric\":\"accuracy\",\"threshold\":\"x\"}", 400, "threshold");
	h_expect_error(&S, "PUT", MD "/clf/gate", olga, "{\"benchmark\":\"holdout\",\"metric\":\"accuracy\"}", 400,
		       "threshold");
	j = h_call(&S, "PUT", MD "/clf/gate", olga, GATE, 200);
	assert_string_equal(f_str(j, "direction"), "higher");
	json_decref(j);
	j = h_call(&S, "GET", MD "/clf/gate", vic, NULL, 200);
	assert_string_equal(f_str(j, "benchmark"), "holdout");
	assert_near(json_real_value(json_object_get(j, "threshold")), 0.7, 0);
	json_decref(j);
	/* direct moves: v1 (0.5) and v4 (no evaluation) are refused, other aliases are not gated */
	committed_version("clf"); /* 4 */
	f_expect_message(&S, "PUT", MD "/clf/aliases/production", olga, "{\"version\":1}", 409,
			 "the best of version 1 is 0.5");
	h_expect_error(&S, "PUT", MD "/clf/aliases/production", olga, "{\"version\":1}", 409, "evaluation");
	f_expect_message(&S, "PUT", MD "/clf/aliases/production", olga, "{\"version\":4}", 409,
			 "version 4 has no evaluation on that benchmark");
	json_decref(h_call(&S, "PUT", MD "/clf/aliases/staging", ed, "{\"version\":1}", 200));
	/* a promotion shows the approver the gate, and cannot be approved without the evaluation */
	j = h_call(&S, "POST", MD "/clf/versions/1/promotions", ed, "{\"alias\":\"production\"}", 201);
	g = json_object_get(j, "evaluation_gate");
	assert_false(json_is_true(json_object_get(g, "satisfied")));
	assert_true(json_is_null(json_object_get(g, "evaluation")));
	pid = f_int(j, "id");
	json_decref(j);
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), olga, "{}", 409, "evaluation");
	j = h_call(&S, "GET", h_fmt("/api/v1/promotions/%lld", pid), vic, NULL, 200);
	assert_string_equal(f_str(j, "state"), "pending");
	json_decref(j);
	j = h_call(&S, "POST", MD "/clf/versions/3/promotions", ed, "{\"alias\":\"production\"}", 201);
	pid = f_int(j, "id");
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/promotions/%lld", pid), olga, NULL, 200);
	g = json_object_get(j, "evaluation_gate");
	assert_true(json_is_true(json_object_get(g, "satisfied")));
	assert_int_equal(f_int(json_object_get(g, "evaluation"), "id"), eval_ids[4]);
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), olga, "{}", 200));
	j = h_call(&S, "GET", MD "/clf/versions/production", vic, NULL, 200);
	assert_int_equal(f_int(j, "version"), 3);
	json_decref(j);
	/* MLflow's alias and stage endpoints meet the same gate */
	assert_int_equal(mlflow_status("/api/2.0/mlflow/registered-models/alias",
				       "{\"name\":\"clf\",\"alias\":\"production\",\"version\":\"1\"}",
				       "accuracy >= 0.7"),
			 409);
	assert_int_equal(mlflow_status("/api/2.0/mlflow/model-versions/transition-stage",
				       "{\"name\":\"clf\",\"version\":\"4\",\"stage\":\"Production\","
				       "\"archive_existing_versions\":false}",
				       "version 4 has no evaluation"),
			 409);
	assert_int_equal(mlflow_status("/api/2.0/mlflow/registered-models/alias",
				       "{\"name\":\"clf\",\"alias\":\"production\",\"version\":\"2\"}", NULL),
			 200);
	/* the benchmark stays while a gate names it; without the gate, anything goes */
	f_expect_message(&S, "DELETE", BM "/holdout", olga, NULL, 409, "model 'clf'");
	h_expect_error(&S, "DELETE", MD "/clf/gate", ed, NULL, 403, NULL);
	json_decref(h_call(&S, "DELETE", MD "/clf/gate", olga, NULL, 204));
	h_expect_error(&S, "DELETE", MD "/clf/gate", olga, NULL, 404, NULL);
	json_decref(h_call(&S, "PUT", MD "/clf/aliases/production", olga, "{\"version\":1}", 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_benchmark_crud),
		cmocka_unit_test(test_evaluations),
		cmocka_unit_test(test_bad_predictions),
		cmocka_unit_test(test_leaderboard),
		cmocka_unit_test(test_gate),
	};
	const char *const names[4] = { "olga", "ed", "vic", "out" };
	int rc;

	h_server_start(&S, NULL);
	f_people(&S, "bm", names, people);
	rc = cmocka_run_group_tests(tests, setup, NULL);
	return f_finish(&S, rc);
}
