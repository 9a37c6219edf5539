/*
 * test_scorer.c: custom metrics, against a real daemon and a real worker. A benchmark's
 * scorer (a command, here awk computing a weighted error) runs as a job on the ground truth
 * and an evaluation's predictions after the built-in metrics are scored; its metrics.json
 * joins the evaluation's metrics. A failing scorer marks the custom metrics failed with the
 * reason, shown to editors only. Bad input names the field; viewers and outsiders are refused.
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

#define P "/api/v1/projects/sc"
#define BM P "/benchmarks"

#define TRUTH "id,w,label\n1,1,cat\n2,3,dog\n3,1,cat\n4,1,dog\n"
#define PRED "id,prediction\n1,cat\n2,cat\n3,cat\n4,dog\n" /* wrong on id 2 (weight 3 of 6) */

/* sum of the weights of the wrong predictions over the sum of all weights */
#define WERR                                                                                           \
	"awk -F, 'NR==FNR{if(FNR>1){w[$1]=$2;l[$1]=$3};next} FNR>1{t+=w[$1]; if($2!=l[$1])e+=w[$1]} "  \
	"END{printf \"{\\\"weighted_error\\\": %g}\\n\", e/t}' \"$TRUTH_FILE\" \"$PREDICTIONS_FILE\" " \
	"> \"$ATRIUM_OUTPUT_DIR/metrics.json\""

/* A scorer computing weighted_error with the command cmd (JSON, in a rotating buffer). */
static const char *scorer(const char *cmd)
{
	static char buf[4][2048];
	static int n;
	json_t *o = json_pack("{s:s, s:[{s:s, s:s}]}", "command", cmd, "metrics", "name", "weighted_error", "direction",
			      "lower");
	char *s = json_dumps(o, JSON_COMPACT);
	char *b = buf[n++ % 4];

	snprintf(b, sizeof(buf[0]), "%s", s);
	free(s);
	json_decref(o);
	return b;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	(void)state;

	json_decref(h_call(&S, "POST", P "/datasets", ed, "{\"name\":\"labels\"}", 201));
	json_decref(h_call(&S, "POST", P "/datasets/labels/versions", ed, "{}", 201));
	json_decref(f_put(&S, P "/datasets/labels/versions/1/files/truth.csv", ed, TRUTH, strlen(TRUTH), NULL, 201));
	json_decref(h_call(&S, "POST", P "/datasets/labels/versions/1/commit", ed, "{}", 200));
	json_decref(h_call(&S, "POST", P "/models", ed, "{\"name\":\"clf\"}", 201));
	json_decref(h_call(&S, "POST", P "/models/clf/versions", ed, "{}", 201));
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

static const char *bench_body(const char *name, const char *scorer)
{
	return h_fmt("{\"name\":\"%s\",\"dataset\":\"labels\",\"version\":1,\"file\":\"truth.csv\","
		     "\"metrics\":[{\"name\":\"accuracy\"}],\"scorer\":%s}",
		     name, scorer);
}

/* Uploads PRED to benchmark b: the new evaluation's id. */
static long long upload(const char *b)
{
	struct h_resp r;
	long long id;

	h_req(&S, "POST", h_fmt(BM "/%s/evaluations?model=clf&version=1", b), ed, PRED, NULL, &r);
	assert_int_equal(r.status, 201);
	id = f_int(r.json, "id");
	assert_string_equal(f_str(json_object_get(r.json, "scorer"), "state"), "pending");
	h_resp_free(&r);
	return id;
}

/* Polls the evaluation (as token) until its scorer leaves pending/running (60 s at most). */
static json_t *wait_scorer(const char *b, long long id, const char *token)
{
	for (int i = 0; i < 600; i++) {
		json_t *e = h_call(&S, "GET", h_fmt(BM "/%s/evaluations/%lld", b, id), token, NULL, 200);
		const char *st = f_str(json_object_get(e, "scorer"), "state");
		if (strcmp(st, "pending") != 0 && strcmp(st, "running") != 0)
			return e;
		json_decref(e);
		sleep_ms(100);
	}
	fail_msg("the scorer of evaluation %lld did not end", id);
	return NULL;
}

static double metric(const json_t *e, const char *name)
{
	return json_number_value(json_object_get(json_object_get(e, "metrics"), name));
}

/* Whether job id is in the list at path as token (one page of 200). */
static bool listed(const char *path, const char *token, long long id)
{
	json_t *j = h_call(&S, "GET", path, token, NULL, 200), *it;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(j, "items"), i, it) found = found || f_int(it, "id") == id;
	json_decref(j);
	return found;
}

/* The scorer's job, its log and outputs show the ground truth: editors only. */
static void scorer_job_hidden(long long job)
{
	static const char *const sub[] = { "", "/logs", "/events", "/outputs", "/outputs/metrics.json", "/wait" };
	struct h_resp r;

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld%s", job, sub[i]), vic, NULL, 403, NULL);
		h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld%s", job, sub[i]), out, NULL, 404, NULL);
		h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld%s", job, sub[i]), ed, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
	f_expect_message(&S, "GET", h_fmt("/api/v1/jobs/%lld", job), vic, NULL, 403,
			 "only the editors of project 'sc'");
	assert_false(listed(P "/jobs?limit=200", vic, job));
	assert_false(listed("/api/v1/jobs?limit=200", vic, job));
	assert_false(listed("/api/v1/jobs?limit=200&project=sc", vic, job));
	assert_true(listed(P "/jobs?limit=200", ed, job));
	assert_true(listed("/api/v1/jobs?limit=200", ed, job));
	assert_true(listed("/api/v1/jobs?limit=200", olga, job));
	assert_true(listed("/api/v1/jobs?limit=200", S.admin_token, job));
}

static void test_scored(void **state)
{
	json_t *b, *e, *j;
	long long id, job;
	(void)state;

	b = h_call(&S, "POST", BM, ed, bench_body("weighted", scorer(WERR)), 201);
	assert_string_equal(f_str(json_array_get(json_object_get(json_object_get(b, "scorer"), "metrics"), 0), "name"),
			    "weighted_error");
	json_decref(b);
	id = upload("weighted");
	e = wait_scorer("weighted", id, ed);
	assert_string_equal(f_str(json_object_get(e, "scorer"), "state"), "scored");
	assert_true(fabs(metric(e, "accuracy") - 0.75) < 1e-12);
	assert_true(fabs(metric(e, "weighted_error") - 0.5) < 1e-12);
	job = f_int(json_object_get(e, "scorer"), "job_id");
	assert_true(job > 0);
	json_decref(e);
	/* the job ran in the benchmark's project, as its creator, with both inputs */
	j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", job), ed, NULL, 200);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "inputs"), 0), "as"), "truth");
	assert_string_equal(f_str(json_array_get(json_object_get(j, "inputs"), 1), "as"), "predictions");
	json_decref(j);
	scorer_job_hidden(job);
	/* a viewer sees the values and the state, not the scorer's job */
	e = h_call(&S, "GET", h_fmt(BM "/weighted/evaluations/%lld", id), vic, NULL, 200);
	assert_true(fabs(metric(e, "weighted_error") - 0.5) < 1e-12);
	assert_string_equal(f_str(json_object_get(e, "scorer"), "state"), "scored");
	assert_null(json_object_get(json_object_get(e, "scorer"), "job_id"));
	json_decref(e);
	j = h_call(&S, "GET", BM "/weighted/evaluations", vic, NULL, 200);
	assert_null(
		json_object_get(json_object_get(json_array_get(json_object_get(j, "items"), 0), "scorer"), "job_id"));
	json_decref(j);
}

static void expect_failed(const char *b, const char *needle)
{
	long long id = upload(b);
	json_t *e = wait_scorer(b, id, ed);

	assert_string_equal(f_str(json_object_get(e, "scorer"), "state"), "failed");
	if (!strstr(f_str(json_object_get(e, "scorer"), "error"), needle))
		fail_msg("expected '%s' in '%s'", needle, f_str(json_object_get(e, "scorer"), "error"));
	/* the built-in metrics stand; the custom one is absent */
	assert_true(fabs(metric(e, "accuracy") - 0.75) < 1e-12);
	assert_null(json_object_get(json_object_get(e, "metrics"), "weighted_error"));
	json_decref(e);
	/* a viewer sees that it failed, not why */
	e = h_call(&S, "GET", h_fmt(BM "/%s/evaluations/%lld", b, id), vic, NULL, 200);
	assert_string_equal(f_str(json_object_get(e, "scorer"), "state"), "failed");
	assert_null(json_object_get(json_object_get(e, "scorer"), "error"));
	json_decref(e);
}

static void test_failed(void **state)
{
	(void)state;
	json_decref(h_call(&S, "POST", BM, ed, bench_body("broken", scorer("echo secret >&2; exit 3")), 201));
	expect_failed("broken", "failed");
	/* no metrics.json */
	json_decref(h_call(&S, "PATCH", BM "/broken", ed, h_fmt("{\"scorer\":%s}", scorer("true")), 200));
	expect_failed("broken", "wrote no metrics.json");
	/* metrics.json without the declared metric */
	json_decref(h_call(&S, "PATCH", BM "/broken", ed,
			   h_fmt("{\"scorer\":%s}", scorer("echo '{\"other\": 1}' > $ATRIUM_OUTPUT_DIR/metrics.json")),
			   200));
	expect_failed("broken", "has no number for metric 'weighted_error'");
	/* without a scorer, nothing runs */
	json_decref(h_call(&S, "PATCH", BM "/broken", ed, "{\"scorer\":null}", 200));
	{
		struct h_resp r;
		h_req(&S, "POST", BM "/broken/evaluations?model=clf&version=1", ed, PRED, NULL, &r);
		assert_int_equal(r.status, 201);
		assert_true(json_is_null(json_object_get(r.json, "scorer")));
		h_resp_free(&r);
	}
}

#define PRED_GOOD "id,prediction\n1,cat\n2,dog\n3,cat\n4,dog\n" /* weighted_error 0 */

static void rk_version(void)
{
	json_t *v = h_call(&S, "POST", P "/models/rk/versions", ed, "{}", 201);
	long long n = f_int(v, "version");

	json_decref(v);
	json_decref(h_call(&S, "POST", h_fmt(P "/models/rk/versions/%lld/commit", n), ed, "{}", 200));
}

/* Uploads pred for version v of model rk on benchmark b: the evaluation's id. */
static long long upload_rk(const char *b, int v, const char *pred)
{
	struct h_resp r;
	long long id;

	h_req(&S, "POST", h_fmt(BM "/%s/evaluations?model=rk&version=%d", b, v), ed, pred, NULL, &r);
	assert_int_equal(r.status, 201);
	id = f_int(r.json, "id");
	h_resp_free(&r);
	return id;
}

static const char *ranked_body(const char *name, const char *scorer_json)
{
	return h_fmt("{\"name\":\"%s\",\"dataset\":\"labels\",\"version\":1,\"file\":\"truth.csv\","
		     "\"metrics\":[{\"name\":\"accuracy\"}],\"primary_metric\":\"weighted_error\",\"scorer\":%s}",
		     name, scorer_json);
}

/* A benchmark ranked by its scorer's metric: evaluations enter the board when scored; a failed
 * scorer's evaluation is shown without a rank; CSV carries the custom metric. */
static void test_custom_primary_board(void **state)
{
	struct h_resp r;
	json_t *j, *it;
	long long e1, e2, e3;
	char want[200];
	(void)state;

	json_decref(h_call(&S, "POST", P "/models", ed, "{\"name\":\"rk\"}", 201));
	for (int i = 0; i < 3; i++)
		rk_version();
	/* the primary metric must be a metric of the benchmark or of its scorer */
	h_expect_error(&S, "POST", BM, ed, ranked_body("x", "null"), 400, "primary_metric");
	j = h_call(&S, "POST", BM, ed, ranked_body("ranked", scorer(WERR)), 201);
	assert_string_equal(f_str(j, "primary_metric"), "weighted_error");
	json_decref(j);
	/* the scorer cannot drop the metric the board is ranked by; PATCH names a custom primary */
	h_expect_error(&S, "PATCH", BM "/ranked", ed, "{\"scorer\":null}", 400, "scorer");
	h_expect_error(&S, "PATCH", BM "/ranked", ed, "{\"primary_metric\":\"nope\"}", 400, "primary_metric");
	h_expect_error(&S, "PATCH", BM "/ranked", vic, "{\"primary_metric\":\"accuracy\"}", 403, NULL);
	e1 = upload_rk("ranked", 1, PRED);
	e2 = upload_rk("ranked", 2, PRED_GOOD);
	json_decref(wait_scorer("ranked", e1, ed));
	json_decref(wait_scorer("ranked", e2, ed));
	/* a failing scorer: version 3's evaluation is shown last, unranked, its scorer failed */
	json_decref(h_call(&S, "PATCH", BM "/ranked", ed, h_fmt("{\"scorer\":%s}", scorer("exit 3")), 200));
	e3 = upload_rk("ranked", 3, PRED_GOOD);
	json_decref(wait_scorer("ranked", e3, ed));
	j = h_call(&S, "GET", BM "/ranked/leaderboard", vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	it = json_array_get(json_object_get(j, "items"), 0);
	assert_int_equal(f_int(it, "rank"), 1);
	assert_int_equal(f_int(it, "evaluation_id"), e2);
	assert_true(fabs(json_number_value(json_object_get(it, "primary"))) < 1e-12);
	assert_string_equal(f_str(it, "scorer"), "scored");
	it = json_array_get(json_object_get(j, "items"), 1);
	assert_int_equal(f_int(it, "rank"), 2);
	assert_int_equal(f_int(it, "evaluation_id"), e1);
	assert_true(fabs(json_number_value(json_object_get(it, "primary")) - 0.5) < 1e-12);
	it = json_array_get(json_object_get(j, "items"), 2);
	assert_true(json_is_null(json_object_get(it, "rank")));
	assert_int_equal(f_int(it, "evaluation_id"), e3);
	assert_string_equal(f_str(it, "scorer"), "failed");
	json_decref(j);
	/* pages: the unranked row on a page of its own keeps no rank */
	h_req(&S, "GET", BM "/ranked/leaderboard?limit=2", vic, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	j = h_call(&S, "GET", h_fmt(BM "/ranked/leaderboard?limit=2&cursor=%s", f_str(r.json, "next_cursor")), vic,
		   NULL, 200);
	h_resp_free(&r);
	assert_int_equal(f_int(json_array_get(json_object_get(j, "items"), 0), "evaluation_id"), e3);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "items"), 0), "rank")));
	json_decref(j);
	/* CSV: the custom metric is the ranked column, the scorer's state alongside */
	h_req(&S, "GET", BM "/ranked/leaderboard?format=csv", vic, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	if (!strstr(r.body, "rank,evaluation_id,subject,model,version,run_id,weighted_error,accuracy,scorer,created_by,"
			    "created_at\r\n"))
		fail_msg("CSV: %s", r.body);
	snprintf(want, sizeof(want), "\r\n2,%lld,model_version,rk,1,,0.5,0.75,scored,ed,", e1);
	if (!strstr(r.body, want))
		fail_msg("CSV: %s", r.body);
	snprintf(want, sizeof(want), "\r\n,%lld,model_version,rk,3,,,1.0,failed,ed,", e3);
	if (!strstr(r.body, want))
		fail_msg("CSV: %s", r.body);
	h_resp_free(&r);
	/* ranking by a built-in metric again, then by the custom one: the board is rebuilt */
	json_decref(h_call(&S, "PATCH", BM "/ranked", ed, "{\"primary_metric\":\"accuracy\"}", 200));
	j = h_call(&S, "PATCH", BM "/ranked", ed, "{\"primary_metric\":\"weighted_error\"}", 200);
	json_decref(j);
	j = h_call(&S, "GET", BM "/ranked/leaderboard", vic, NULL, 200);
	assert_int_equal(f_int(json_array_get(json_object_get(j, "items"), 0), "evaluation_id"), e2);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "items"), 2), "rank")));
	json_decref(j);
}

/* The gate of rk's production alias on the custom metric: met, not met, and not met while the
 * version's evaluation waits for its scorer (409 saying so). */
static void test_custom_gate(void **state)
{
	json_t *j;
	long long e4, job;
	(void)state;

	h_expect_error(&S, "PUT", P "/models/rk/gate", olga,
		       "{\"benchmark\":\"ranked\",\"metric\":\"nope\",\"threshold\":0.4}", 400, "metric");
	h_expect_error(&S, "PUT", P "/models/rk/gate", ed,
		       "{\"benchmark\":\"ranked\",\"metric\":\"weighted_error\",\"threshold\":0.4}", 403, NULL);
	j = h_call(&S, "PUT", P "/models/rk/gate", olga,
		   "{\"benchmark\":\"ranked\",\"metric\":\"weighted_error\",\"threshold\":0.4}", 200);
	assert_string_equal(f_str(j, "direction"), "lower");
	json_decref(j);
	f_expect_message(&S, "PUT", P "/models/rk/aliases/production", olga, "{\"version\":1}", 409,
			 "the best of version 1 is 0.5");
	f_expect_message(&S, "PUT", P "/models/rk/aliases/production", olga, "{\"version\":3}", 409, "is failed");
	json_decref(h_call(&S, "PUT", P "/models/rk/aliases/production", olga, "{\"version\":2}", 200));
	/* a scorer that waits: version 4 is not promoted while its evaluation is being scored */
	rk_version();
	json_decref(h_call(&S, "PATCH", BM "/ranked", ed, h_fmt("{\"scorer\":%s}", scorer("sleep 600")), 200));
	e4 = upload_rk("ranked", 4, PRED_GOOD);
	f_expect_message(&S, "PUT", P "/models/rk/aliases/production", olga, "{\"version\":4}", 409,
			 "the gate is not met until it has scored");
	h_expect_error(&S, "PUT", P "/models/rk/aliases/production", olga, "{\"version\":4}", 409, "evaluation");
	j = h_call(&S, "GET", h_fmt(BM "/ranked/evaluations/%lld", e4), ed, NULL, 200);
	job = f_int(json_object_get(j, "scorer"), "job_id");
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", job), ed, NULL, 202));
	json_decref(wait_scorer("ranked", e4, ed));
	f_expect_message(&S, "PUT", P "/models/rk/aliases/production", olga, "{\"version\":4}", 409, "is failed");
	json_decref(h_call(&S, "PATCH", BM "/ranked", ed, h_fmt("{\"scorer\":%s}", scorer(WERR)), 200));
}

/* The daemon killed while the scorer's job runs (it waits for a file the test makes after the
 * restart): once restarted, the daemon follows the scorer again and the custom metric lands,
 * on the evaluation and on the board it ranks. */
static void test_restart(void **state)
{
	char dir[] = "/tmp/atrium-scorer-XXXXXX";
	const char *extra[4] = { "--listen", NULL, NULL };
	int port = 0;
	long long id;
	json_t *e;
	(void)state;

	assert_non_null(mkdtemp(dir));
	sscanf(S.base, "http://127.0.0.1:%d", &port);
	extra[1] = h_fmt("127.0.0.1:%d", port);
	json_decref(h_call(
		&S, "POST", BM, ed,
		ranked_body("survives", scorer(h_fmt("while [ ! -e %s/go ]; do sleep 0.1; done; %s", dir, WERR))),
		201));
	id = upload_rk("survives", 1, PRED);
	for (int i = 0; i < 600; i++) {
		e = h_call(&S, "GET", h_fmt(BM "/survives/evaluations/%lld", id), ed, NULL, 200);
		bool running = !strcmp(f_str(json_object_get(e, "scorer"), "state"), "running");
		json_decref(e);
		if (running)
			break;
		sleep_ms(50);
	}
	assert_int_equal(h_server_stop(&S, SIGKILL), 128 + SIGKILL);
	h_server_restart(&S, extra);
	assert_int_equal(h_sh("touch %s/go", dir), 0);
	e = wait_scorer("survives", id, ed);
	assert_string_equal(f_str(json_object_get(e, "scorer"), "state"), "scored");
	assert_true(fabs(metric(e, "weighted_error") - 0.5) < 1e-12);
	json_decref(e);
	e = h_call(&S, "GET", BM "/survives/leaderboard", vic, NULL, 200);
	assert_int_equal(f_int(json_array_get(json_object_get(e, "items"), 0), "rank"), 1);
	assert_int_equal(f_int(json_array_get(json_object_get(e, "items"), 0), "evaluation_id"), id);
	json_decref(e);
	h_sh("rm -rf %s", dir);
}

static void test_bad_input_and_access(void **state)
{
	(void)state;
	h_expect_error(&S, "POST", BM, ed,
		       bench_body("x", "{\"command\":\"true\",\"metrics\":[{\"name\":\"m\",\"direction\":\"up\"}]}"),
		       400, "scorer.metrics[0].direction");
	h_expect_error(&S, "POST", BM, ed, bench_body("x", "{\"command\":\"true\",\"metrics\":[{\"name\":\"m\"}]}"),
		       400, "scorer.metrics[0].direction");
	h_expect_error(&S, "POST", BM, ed, bench_body("x", "{\"metrics\":[{\"name\":\"m\",\"direction\":\"lower\"}]}"),
		       400, "scorer.command");
	h_expect_error(&S, "POST", BM, ed, bench_body("x", "{\"command\":\"true\",\"metrics\":[]}"), 400,
		       "scorer.metrics");
	h_expect_error(&S, "POST", BM, ed,
		       bench_body("x", "{\"command\":\"true\",\"metrics\":[{\"name\":\"accuracy\",\"direction\":"
				       "\"higher\"}]}"),
		       400, "scorer.metrics[0].name");
	h_expect_error(&S, "POST", BM, ed, bench_body("x", "\"true\""), 400, "scorer");
	/* viewers may not set a scorer (it runs commands); outsiders do not see the project */
	h_expect_error(&S, "POST", BM, vic, bench_body("x", scorer("true")), 403, NULL);
	h_expect_error(&S, "POST", BM, out, bench_body("x", scorer("true")), 404, NULL);
	json_decref(h_call(&S, "POST", BM, ed, bench_body("patched", "null"), 201));
	h_expect_error(&S, "PATCH", BM "/patched", vic, h_fmt("{\"scorer\":%s}", scorer("true")), 403, NULL);
	h_expect_error(&S, "PATCH", BM "/patched", out, h_fmt("{\"scorer\":%s}", scorer("true")), 404, NULL);
	h_expect_error(&S, "PATCH", BM "/patched", ed, "{\"scorer\":{\"command\":\"true\"}}", 400, "scorer.metrics");
	(void)olga;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_and_access),
		cmocka_unit_test(test_scored),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_custom_primary_board),
		cmocka_unit_test(test_custom_gate),
		cmocka_unit_test(test_restart),
	};
	const char *const names[4] = { "olga", "ed", "vic", "out" };
	int rc;

	h_server_start(&S, NULL);
	f_people(&S, "sc", names, people);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	return f_finish(&S, rc);
}
