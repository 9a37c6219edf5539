/*
 * test_evaljobs.c: evaluating a model version with a batch-inference job, against a real
 * daemon and a real worker: the job sees only the inputs-only copy of the ground truth (no
 * label column; its token cannot read the truth), its predictions are scored as an uploaded
 * file would be (metrics, leaderboard, lineage); a failed job, missing or unscorable
 * predictions fail the evaluation with the reason; bad input names the field; viewers and
 * outsiders are refused.
 */
#include "fixtures.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct h_server S;
static struct h_worker W;
static char people[4][128];
static const char *const olga = people[0], *const ed = people[1], *const vic = people[2], *const out = people[3];

#define P "/api/v1/projects/ev"
#define BM P "/benchmarks"
#define MD P "/models"

#define TRUTH "id,x,label\n1,0.1,cat\n2,0.9,dog\n3,0.2,cat\n4,\"0.8\",dog\n"

/* The model: cat below 0.5. It also records what its job could see: its input's header and
 * the status of an attempt to read the ground truth with its own token. */
#define PREDICT                                                                                    \
	"head -n 1 \"$1\" > \"$ATRIUM_OUTPUT_DIR/header.txt\"\n"                                   \
	"curl -s -o /dev/null -w '%{http_code}' -H \"Authorization: Bearer $ATRIUM_TOKEN\" "       \
	"\"$ATRIUM_URL/api/v1/projects/ev/datasets/labels/versions/1/files/truth.csv\" "           \
	"> \"$ATRIUM_OUTPUT_DIR/truth_status.txt\"\n"                                              \
	"awk -F, 'NR==1{print \"id,prediction\"; next} {gsub(/\"/,\"\",$2); print $1\",\"($2<0.5?" \
	"\"cat\":\"dog\")}' \"$1\" > \"$2\"\n"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A committed version of model clf holding the file predict (NULL: no file). */
static void model_version(const char *predict)
{
	json_t *v = h_call(&S, "POST", MD "/clf/versions", ed, "{}", 201);
	long long n = f_int(v, "version");

	json_decref(v);
	if (predict)
		json_decref(f_put(&S, h_fmt(MD "/clf/versions/%lld/files/predict", n), ed, predict, strlen(predict),
				  NULL, 201));
	json_decref(h_call(&S, "POST", h_fmt(MD "/clf/versions/%lld/commit", n), ed, "{}", 200));
}

static int setup(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	json_t *v;
	(void)state;

	json_decref(h_call(&S, "POST", P "/datasets", ed, "{\"name\":\"labels\"}", 201));
	v = h_call(&S, "POST", P "/datasets/labels/versions", ed, "{}", 201);
	json_decref(v);
	json_decref(f_put(&S, P "/datasets/labels/versions/1/files/truth.csv", ed, TRUTH, strlen(TRUTH), NULL, 201));
	json_decref(h_call(&S, "POST", P "/datasets/labels/versions/1/commit", ed, "{}", 200));
	json_decref(h_call(&S, "POST", BM, ed,
			   "{\"name\":\"holdout\",\"dataset\":\"labels\",\"version\":1,\"file\":\"truth.csv\","
			   "\"metrics\":[{\"name\":\"accuracy\"}]}",
			   201));
	json_decref(h_call(&S, "POST", MD, ed, "{\"name\":\"clf\"}", 201));
	model_version(PREDICT);			    /* 1: right */
	model_version("echo broken >&2; exit 3\n"); /* 2: fails */
	model_version(NULL);			    /* 3: no predict file */
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 0, wargs);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(h_worker_stop(&W, SIGTERM), 0);
	return 0;
}

/* Polls the evaluation until it leaves pending/running (60 s at most). */
static json_t *wait_eval(long long id)
{
	for (int i = 0; i < 600; i++) {
		json_t *e = h_call(&S, "GET", h_fmt(BM "/holdout/evaluations/%lld", id), vic, NULL, 200);
		const char *st = f_str(e, "state");
		if (strcmp(st, "pending") != 0 && strcmp(st, "running") != 0)
			return e;
		json_decref(e);
		sleep_ms(100);
	}
	fail_msg("evaluation %lld did not end", id);
	return NULL;
}

static long long run_eval(const char *body)
{
	json_t *e = h_call(&S, "POST", BM "/holdout/evaluate", ed, body, 202);
	long long id = f_int(e, "id");

	assert_string_equal(f_str(e, "state"), "pending");
	assert_true(f_int(e, "job_id") > 0);
	json_decref(e);
	return id;
}

static char *job_output(long long job, const char *path)
{
	struct h_resp r;
	char *s;

	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/outputs/%s", job, path), ed, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	s = strdup(r.body ? r.body : "");
	h_resp_free(&r);
	return s;
}

static void test_scored(void **state)
{
	json_t *e, *j, *lin;
	long long id, job, mv;
	char *s;
	(void)state;

	id = run_eval("{\"model\":\"clf\",\"version\":1}");
	e = wait_eval(id);
	assert_string_equal(f_str(e, "state"), "scored");
	assert_true(fabs(json_real_value(json_object_get(json_object_get(e, "metrics"), "accuracy")) - 1.0) < 1e-12);
	assert_int_equal(f_int(json_object_get(e, "model_version"), "version"), 1);
	assert_string_equal(f_str(json_object_get(e, "predictions"), "path"), "predictions.csv");
	job = f_int(e, "job_id");
	mv = f_int(json_object_get(e, "model_version"), "id");
	json_decref(e);
	/* the job saw the inputs without the label column, and its token could not read the truth */
	s = job_output(job, "header.txt");
	assert_string_equal(s, "id,x\n");
	free(s);
	s = job_output(job, "truth_status.txt");
	assert_string_equal(s, "404");
	free(s);
	j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", job), ed, NULL, 200);
	assert_string_equal(f_str(j, "kind"), "batch_inference");
	assert_int_equal(f_int(j, "model_version_id"), mv);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "inputs"), 0), "as"), "benchmark");
	json_decref(j);
	/* ranked, and in the model version's lineage */
	j = h_call(&S, "GET", BM "/holdout/leaderboard", vic, NULL, 200);
	assert_int_equal(f_int(json_array_get(json_object_get(j, "items"), 0), "evaluation_id"), id);
	json_decref(j);
	lin = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", mv), vic, NULL, 200);
	assert_int_equal(f_int(json_array_get(json_object_get(lin, "evaluations"), 0), "evaluation_id"), id);
	json_decref(lin);
	/* a second evaluation reuses the inputs copy (one version of it) */
	e = wait_eval(run_eval("{\"model\":\"clf\",\"version\":1,\"resources\":{\"cpus\":0}}"));
	assert_string_equal(f_str(e, "state"), "scored");
	json_decref(e);
	j = h_call(&S, "GET",
		   h_fmt(P "/datasets/benchmark-%lld-inputs/versions", f_sql_int(&S, "SELECT id FROM benchmarks")), ed,
		   NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
}

static void expect_failed(long long id, const char *needle)
{
	json_t *e = wait_eval(id);

	assert_string_equal(f_str(e, "state"), "failed");
	if (!strstr(f_str(e, "error"), needle))
		fail_msg("expected '%s' in '%s'", needle, f_str(e, "error"));
	assert_true(json_is_null(json_object_get(e, "primary_value")));
	json_decref(e);
}

static void test_failed(void **state)
{
	(void)state;
	/* the job fails: the evaluation fails with the job's reason */
	expect_failed(run_eval("{\"model\":\"clf\",\"version\":2,\"max_attempts\":1}"), "failed");
	/* the job writes no predictions */
	expect_failed(run_eval("{\"model\":\"clf\",\"version\":3,\"command\":\"true\"}"), "wrote no predictions");
	/* the job writes predictions that miss ids: the first bad line is named */
	expect_failed(run_eval("{\"model\":\"clf\",\"version\":3,\"command\":\"printf 'id,prediction\\\\n1,cat\\\\n' "
			       "> $EVAL_OUTPUT\"}"),
		      "cannot be scored");
	/* none of them is ranked */
	{
		json_t *j = h_call(&S, "GET", BM "/holdout/leaderboard", vic, NULL, 200);
		assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
		json_decref(j);
	}
}

static void test_bad_input_and_access(void **state)
{
	(void)state;
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{\"model\":\"nope\"}", 400, "model");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{\"model\":\"clf\",\"version\":9}", 400, "version");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{\"model\":\"clf\",\"version\":\"staging\"}", 400,
		       "version");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{\"model\":\"clf\",\"version\":3}", 422, "command");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{}", 400, "model");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{\"model\":7}", 400, "model");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{\"model\":\"clf\",\"format\":\"xml\"}", 400, "format");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed, "{\"model\":\"clf\",\"env\":{\"ATRIUM_X\":\"1\"}}", 400,
		       "env.ATRIUM_X");
	h_expect_error(&S, "POST", BM "/holdout/evaluate", ed,
		       "{\"model\":\"clf\",\"version\":1,\"resources\":{\"gpus\":8}}", 422, "resources");
	h_expect_error(&S, "POST", BM "/nope/evaluate", ed, "{\"model\":\"clf\"}", 404, NULL);
	/* viewers may not run jobs; outsiders do not see the project */
	h_expect_error(&S, "POST", BM "/holdout/evaluate", vic, "{\"model\":\"clf\",\"version\":1}", 403, NULL);
	h_expect_error(&S, "POST", BM "/holdout/evaluate", out, "{\"model\":\"clf\",\"version\":1}", 404, NULL);
	(void)olga;
}

/* The daemon killed while the job runs: after its restart the evaluation is followed again
 * and scored once the job ends. */
static void test_restart(void **state)
{
	int port = 0;
	const char *extra[4] = { "--listen", NULL, NULL };
	long long id;
	json_t *e;
	(void)state;

	sscanf(S.base, "http://127.0.0.1:%d", &port);
	extra[1] = h_fmt("127.0.0.1:%d", port);
	id = run_eval("{\"model\":\"clf\",\"version\":1,\"command\":\"sleep 3; sh $ATRIUM_MODEL_DIR/predict "
		      "$EVAL_INPUT $EVAL_OUTPUT\"}");
	for (int i = 0; i < 600; i++) {
		e = h_call(&S, "GET", h_fmt(BM "/holdout/evaluations/%lld", id), vic, NULL, 200);
		bool running = !strcmp(f_str(e, "state"), "running");
		json_decref(e);
		if (running)
			break;
		sleep_ms(50);
	}
	assert_int_equal(h_server_stop(&S, SIGKILL), 128 + SIGKILL);
	h_server_restart(&S, extra);
	e = wait_eval(id);
	assert_string_equal(f_str(e, "state"), "scored");
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_and_access),
		cmocka_unit_test(test_scored),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_restart),
	};
	const char *const names[4] = { "olga", "ed", "vic", "out" };
	int rc;

	h_server_start(&S, NULL);
	f_people(&S, "ev", names, people);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	return f_finish(&S, rc);
}
