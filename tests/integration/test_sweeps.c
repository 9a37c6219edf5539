/*
 * test_sweeps.c: sweeps end to end with the real server and a real worker on loopback: each
 * trial is a launcher job whose script logs a loss curve that depends on its parameter through
 * its run's metrics (curl with the job's token); ASHA stops the trials that fall behind and
 * the sweep finishes with the best one; pause, resume and cancel (which stops the running
 * trials); bad input (400 naming the field) and callers without the role.
 */
#include "fixtures.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static struct h_worker W;
static char owner[128], editor[128], viewer[128], outsider[128];
static char script[300];

/* The trial: loss = q + 1/step for `steps` steps, one point each `pause` seconds. */
static const char TRIAL_SH[] =
	"q=$1; steps=$2; pause=$3\n"
	"s=1\n"
	"while [ $s -le $steps ]; do\n"
	"  v=$(awk \"BEGIN{print $q + 1/$s}\")\n"
	"  curl -sf -o /dev/null -X POST -H \"Authorization: Bearer $ATRIUM_TOKEN\" \\\n"
	"    -H 'Content-Type: application/json' \\\n"
	"    -d \"{\\\"metrics\\\":[{\\\"key\\\":\\\"loss\\\",\\\"value\\\":$v,\\\"step\\\":$s}]}\" \\\n"
	"    \"$ATRIUM_URL/api/v1/runs/$ATRIUM_RUN_ID/metrics\" || exit 3\n"
	"  sleep $pause\n"
	"  s=$((s + 1))\n"
	"done\n";

/* The same trial reporting through the MLflow-compatible API with its job's token: its run's
 * MLflow id read first, then odd steps with runs/log-metric, even ones with runs/log-batch. */
static const char MLFLOW_SH[] =
	"q=$1; steps=$2; pause=$3; auth=\"Authorization: Bearer $ATRIUM_TOKEN\"; M=$ATRIUM_URL/api/2.0/mlflow/runs\n"
	"uuid=$(curl -sf -H \"$auth\" \"$ATRIUM_URL/api/v1/runs/$ATRIUM_RUN_ID\" |"
	" sed -n 's/.*\"uuid\": *\"\\([0-9a-f]*\\)\".*/\\1/p')\n"
	"[ -n \"$uuid\" ] || exit 4\n"
	"s=1\n"
	"while [ $s -le $steps ]; do\n"
	"  v=$(awk \"BEGIN{print $q + 1/$s}\")\n"
	"  p=\"{\\\"key\\\":\\\"loss\\\",\\\"value\\\":$v,\\\"timestamp\\\":1,\\\"step\\\":$s}\"\n"
	"  if [ $((s % 2)) -eq 1 ]; then\n"
	"    b=\"{\\\"run_id\\\":\\\"$uuid\\\",${p#\\{}\"; u=$M/log-metric\n"
	"  else\n"
	"    b=\"{\\\"run_id\\\":\\\"$uuid\\\",\\\"metrics\\\":[$p]}\"; u=$M/log-batch\n"
	"  fi\n"
	"  curl -sf -o /dev/null -X POST -H \"$auth\" -H 'Content-Type: application/json' -d \"$b\" \"$u\" || exit 3\n"
	"  sleep $pause\n"
	"  s=$((s + 1))\n"
	"done\n";

static int setup(void **state)
{
	static const char *const extra[] = { "--heartbeat-timeout", "3", NULL };
	const char *wargs[] = { "--heartbeat", "1", NULL };
	const char *const people[4] = { "own", "ed", "vi", "out" };
	char tokens[4][128];
	FILE *f;
	(void)state;

	h_server_start(&S, extra);
	f_people(&S, "sw", people, tokens);
	snprintf(owner, sizeof(owner), "%s", tokens[0]);
	snprintf(editor, sizeof(editor), "%s", tokens[1]);
	snprintf(viewer, sizeof(viewer), "%s", tokens[2]);
	snprintf(outsider, sizeof(outsider), "%s", tokens[3]);
	snprintf(script, sizeof(script), "%s/trial.sh", S.dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(TRIAL_SH, f);
	fclose(f);
	/* q: the parameter searched; steps and pause: how long a trial runs */
	json_decref(
		h_call(&S, "POST", "/api/v1/projects/sw/launchers", owner,
		       h_fmt("{\"name\":\"train\",\"spec\":{\"command\":[\"sh\",\"%s\",\"{{q}}\",\"{{steps}}\",\"{{"
			     "pause}}\"]},"
			     "\"parameters\":[{\"name\":\"q\",\"type\":\"integer\",\"min\":1,\"max\":9,\"default\":1},"
			     "{\"name\":\"steps\",\"type\":\"integer\",\"min\":1,\"max\":1000,\"default\":6},"
			     "{\"name\":\"pause\",\"type\":\"float\",\"min\":0,\"max\":60,\"default\":0.2}]}",
			     script),
		       201));
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 0, wargs);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_worker_stop(&W, SIGTERM);
	return f_finish(&S, 0);
}

static json_t *sweep(long long id)
{
	return h_call(&S, "GET", h_fmt("/api/v1/projects/sw/sweeps/%lld", id), viewer, NULL, 200);
}

struct wait_state {
	long long id;
	const char *state;
};

static bool in_state(void *arg)
{
	struct wait_state *w = arg;
	json_t *j = sweep(w->id);
	bool ok = !strcmp(f_str(j, "state"), w->state);
	json_decref(j);
	return ok;
}

/* Whether no trial of the sweep is running any more. */
static bool trials_over(void *arg)
{
	json_t *j = sweep(*(long long *)arg), *t;
	size_t i;
	bool over = true;

	json_array_foreach(json_object_get(j, "trials"), i, t) over = over && strcmp(f_str(t, "state"), "running");
	json_decref(j);
	return over;
}

/* Grid over q = 1..4, one trial at a time: trial 0 (q = 1, the best curve) reaches every rung
 * first and finishes; each later one is behind at the first rung (step 1) and is stopped. */
static void test_asha_stops_the_bad_ones(void **state)
{
	json_t *j = h_call(&S, "POST", "/api/v1/projects/sw/sweeps", editor,
			   "{\"name\":\"grid\",\"launcher\":\"train\",\"method\":\"grid\","
			   "\"search_space\":{\"q\":{\"type\":\"choice\",\"values\":[1,2,3,4]}},"
			   "\"max_trials\":10,\"parallelism\":1,\"metric\":\"loss\",\"direction\":\"minimize\","
			   "\"asha\":{\"min_resource\":1,\"eta\":2,\"rungs\":3},\"seed\":5}",
			   201),
	       *t, *best;
	struct wait_state w = { f_int(j, "id"), "completed" };
	size_t i;
	(void)state;

	assert_string_equal(f_str(j, "state"), "running");
	assert_string_equal(f_str(j, "launcher"), "train");
	json_decref(j);
	assert_true(h_wait(in_state, &w, 90000));
	j = sweep(w.id);
	assert_int_equal(json_array_size(json_object_get(j, "trials")), 4); /* the grid, not max_trials */
	json_array_foreach(json_object_get(j, "trials"), i, t)
	{
		long long q = json_integer_value(json_object_get(json_object_get(t, "params"), "q"));
		assert_int_equal(q, (long long)i + 1);
		if (i == 0) {
			assert_string_equal(f_str(t, "state"), "succeeded");
			assert_int_equal(f_int(t, "step"), 6);
			assert_int_equal(f_int(t, "rungs_reached"), 3);
		} else {
			assert_string_equal(f_str(t, "state"), "stopped");
			assert_int_equal(f_int(t, "stopped_step"), 1);
		}
		/* the trial's run records its values and its sweep */
		json_t *run = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", f_int(t, "run_id")), viewer, NULL, 200);
		assert_string_equal(f_str(json_object_get(run, "params"), "q"), h_fmt("%lld", q));
		json_decref(run);
	}
	best = json_object_get(j, "best_trial");
	assert_int_equal(f_int(best, "index"), 0);
	assert_true(json_real_value(json_object_get(best, "value")) < 1.2);
	assert_int_equal(f_int(j, "stopped"), 3);
	json_decref(j);
}

static long long start_slow(const char *name, int parallelism)
{
	json_t *j = h_call(&S, "POST", "/api/v1/projects/sw/sweeps", editor,
			   h_fmt("{\"name\":\"%s\",\"launcher\":\"train\",\"method\":\"random\","
				 "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":9}},"
				 "\"values\":{\"steps\":1000,\"pause\":30},\"max_trials\":20,\"parallelism\":%d,"
				 "\"metric\":\"loss\",\"direction\":\"minimize\",\"seed\":1}",
				 name, parallelism),
			   201);
	long long id = f_int(j, "id");
	json_decref(j);
	return id;
}

struct count_state {
	long long id;
	size_t want;
};

static bool has_trials(void *arg)
{
	struct count_state *c = arg;
	json_t *j = sweep(c->id);
	bool ok = json_array_size(json_object_get(j, "trials")) == c->want;
	json_decref(j);
	return ok;
}

/* Pause keeps the running trials and submits none; resume goes on; cancel stops the trials. */
static void test_pause_resume_cancel(void **state)
{
	long long id = start_slow("slow", 2);
	struct count_state c = { id, 2 };
	const char *base = h_fmt("/api/v1/projects/sw/sweeps/%lld", id);
	char path[128];
	json_t *j, *t;
	size_t i;
	(void)state;

	snprintf(path, sizeof(path), "%s", base);
	assert_true(h_wait(has_trials, &c, 20000)); /* parallelism 2: two trials, no more */
	h_expect_error(&S, "POST", h_fmt("%s/resume", path), editor, "{}", 409, "state");
	j = h_call(&S, "POST", h_fmt("%s/pause", path), editor, "{}", 200);
	assert_string_equal(f_str(j, "state"), "paused");
	assert_int_equal(f_int(j, "running"), 2);
	json_decref(j);
	h_expect_error(&S, "POST", h_fmt("%s/pause", path), editor, "{}", 409, "state");
	json_decref(h_call(&S, "POST", h_fmt("%s/resume", path), editor, "{}", 200));
	j = h_call(&S, "POST", h_fmt("%s/cancel", path), owner, "{}", 200);
	assert_string_equal(f_str(j, "state"), "cancelled");
	json_decref(j);
	assert_true(h_wait(trials_over, &id, 30000));
	j = sweep(id);
	assert_int_equal(json_array_size(json_object_get(j, "trials")), 2);
	json_array_foreach(json_object_get(j, "trials"), i, t)
	{
		json_t *job = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", f_int(t, "job_id")), viewer, NULL, 200);
		assert_string_equal(f_str(t, "state"), "cancelled");
		assert_string_equal(f_str(job, "state"), "cancelled");
		json_decref(job);
	}
	json_decref(j);
	h_expect_error(&S, "POST", h_fmt("%s/resume", path), editor, "{}", 409, "state");
	j = h_call(&S, "GET", "/api/v1/projects/sw/sweeps", viewer, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 2);
	json_decref(j);
}

static void bad(const char *body, long status, const char *field)
{
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps", editor, body, status, field);
}

#define OK_HEAD "{\"name\":\"b\",\"launcher\":\"train\",\"method\":\"random\",\"max_trials\":3,\"metric\":\"loss\","
#define OK_DIR "\"direction\":\"minimize\","

static void test_bad_input(void **state)
{
	(void)state;
	bad("{}", 400, "name");
	bad(OK_HEAD OK_DIR "\"search_space\":[]}", 400, "search_space");
	bad(OK_HEAD "\"direction\":\"up\",\"search_space\":{}}", 400, "direction");
	bad(OK_HEAD OK_DIR "\"search_space\":{}}", 400, "search_space");
	bad(OK_HEAD OK_DIR "\"search_space\":{\"q\":{\"type\":\"gauss\"}}}", 400, "search_space.q.type");
	bad(OK_HEAD OK_DIR "\"search_space\":{\"zz\":{\"type\":\"int\",\"min\":1,\"max\":2}}}", 400, "search_space.zz");
	bad(OK_HEAD OK_DIR "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":3,\"max\":2}}}", 400,
	    "search_space.q.max");
	/* a float range for an integer parameter: the launcher's types say no */
	bad(OK_HEAD OK_DIR "\"search_space\":{\"q\":{\"type\":\"uniform\",\"min\":1.5,\"max\":2.5}}}", 400, "values.q");
	bad(OK_HEAD OK_DIR "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":20}}}", 400, "values.q");
	bad("{\"name\":\"b\",\"launcher\":\"train\",\"method\":\"grid\",\"max_trials\":3,\"metric\":\"loss\"," OK_DIR
	    "\"search_space\":{\"pause\":{\"type\":\"uniform\",\"min\":0,\"max\":1}}}",
	    400, "search_space.pause.count");
	bad(OK_HEAD OK_DIR
	    "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}},\"asha\":{\"min_resource\":0}}",
	    400, "asha.min_resource");
	bad(OK_HEAD OK_DIR "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}},\"asha\":{\"eta\":3}}", 400,
	    "asha.min_resource");
	bad("{\"name\":\"b\",\"launcher\":\"nope\",\"method\":\"random\",\"max_trials\":3,\"metric\":\"loss\"," OK_DIR
	    "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}}}",
	    400, "launcher");
	bad(OK_HEAD OK_DIR "\"launcher_version\":7,\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}}}",
	    400, "launcher_version");
	bad("{\"name\":\"b\",\"launcher\":\"train\",\"method\":\"random\",\"max_trials\":0,\"metric\":\"loss\"," OK_DIR
	    "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}}}",
	    400, "max_trials");
	bad(OK_HEAD OK_DIR "\"parallelism\":1000,\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}}}", 400,
	    "parallelism");
	bad(OK_HEAD OK_DIR
	    "\"values\":{\"steps\":\"x\"},\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}}}",
	    400, "values.steps");
	h_expect_error(&S, "GET", "/api/v1/projects/sw/sweeps/999999", viewer, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/sw/sweeps/abc", viewer, NULL, 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps/999999/pause", editor, "{}", 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps/1/pause", editor, "{\"x\":1}", 400, "x");
}

static void test_no_permission(void **state)
{
	const char *body = "{\"name\":\"p\",\"launcher\":\"train\",\"method\":\"random\",\"max_trials\":1,"
			   "\"metric\":\"loss\",\"direction\":\"minimize\","
			   "\"search_space\":{\"q\":{\"type\":\"int\",\"min\":1,\"max\":2}}}";
	(void)state;
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps", viewer, body, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps", outsider, body, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/sw/sweeps", outsider, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/sw/sweeps/1", outsider, NULL, 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps/1/pause", viewer, "{}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps/1/cancel", viewer, "{}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/sw/sweeps/1/resume", outsider, "{}", 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/sw/sweeps", NULL, NULL, 401, NULL);
}

/* The worker goes away mid-trial: only that trial's job is requeued (its attempts), and the
 * sweep goes on with it when a worker is back. */
static void test_worker_lost_mid_trial(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	long long id = start_slow("lost", 1);
	struct count_state c = { id, 1 };
	json_t *j, *t, *job;
	long long job_id;
	(void)state;

	assert_true(h_wait(has_trials, &c, 20000));
	j = sweep(id);
	t = json_array_get(json_object_get(j, "trials"), 0);
	job_id = f_int(t, "job_id");
	json_decref(j);
	h_worker_stop(&W, SIGKILL);
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 0, wargs);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	/* still one trial, the same job, running again or queued for its next attempt */
	j = sweep(id);
	assert_int_equal(json_array_size(json_object_get(j, "trials")), 1);
	t = json_array_get(json_object_get(j, "trials"), 0);
	assert_int_equal(f_int(t, "job_id"), job_id);
	assert_string_equal(f_str(t, "state"), "running");
	json_decref(j);
	job = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", job_id), viewer, NULL, 200);
	assert_true(strcmp(f_str(job, "state"), "failed") && strcmp(f_str(job, "state"), "cancelled"));
	json_decref(job);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/sw/sweeps/%lld/cancel", id), editor, "{}", 200));
	assert_true(h_wait(trials_over, &id, 60000));
}

/* The daemon restarts mid-sweep: the sweep, its trial and ASHA's rungs are rebuilt from the
 * store, so it can still be cancelled (the controller knows it) and its trial stops. */
static bool first_point(void *arg)
{
	json_t *j = sweep(*(long long *)arg), *t = json_array_get(json_object_get(j, "trials"), 0);
	bool ok = t && json_is_number(json_object_get(t, "value"));
	json_decref(j);
	return ok;
}

static void test_server_restart(void **state)
{
	int port = 0;
	char listen[32];
	const char *extra[] = { "--heartbeat-timeout", "3", "--listen", listen, NULL };
	long long id = start_slow("again", 1);
	json_t *j;
	(void)state;

	sscanf(S.base, "http://127.0.0.1:%d", &port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port); /* the worker and the trial go on talking to it */
	assert_true(h_wait(first_point, &id, 30000));		/* the trial logged step 1 and sleeps 30 s */
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);	/* a clean stop: its leak check too */
	h_server_restart(&S, extra);
	j = sweep(id);
	assert_string_equal(f_str(j, "state"), "running");
	assert_int_equal(json_array_size(json_object_get(j, "trials")), 1);
	json_decref(j);
	j = h_call(&S, "POST", h_fmt("/api/v1/projects/sw/sweeps/%lld/pause", id), editor, "{}", 200);
	assert_string_equal(f_str(j, "state"), "paused");
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/sw/sweeps/%lld/cancel", id), editor, "{}", 200));
	assert_true(h_wait(trials_over, &id, 60000));
}

static size_t listed(const char *query, const char *want_state)
{
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/projects/sw/sweeps%s", query), viewer, NULL, 200), *it;
	size_t i, n = json_array_size(json_object_get(j, "items"));

	json_array_foreach(json_object_get(j, "items"), i, it) assert_string_equal(f_str(it, "state"), want_state);
	json_decref(j);
	return n;
}

/* ?state= filters the list; only a finished sweep may be deleted (its trials go, its jobs stay). */
static void test_filter_and_delete(void **state)
{
	long long id = start_slow("gone", 1), job_id;
	struct count_state c = { id, 1 };
	const char *path = h_fmt("/api/v1/projects/sw/sweeps/%lld", id);
	char p[128];
	json_t *j;
	(void)state;

	snprintf(p, sizeof(p), "%s", path);
	assert_true(h_wait(has_trials, &c, 20000));
	assert_int_equal(listed("?state=running", "running"), 1);
	assert_true(listed("?state=completed", "completed") >= 1);
	h_expect_error(&S, "GET", "/api/v1/projects/sw/sweeps?state=done", viewer, NULL, 400, "state");
	h_expect_error(&S, "DELETE", p, editor, NULL, 409, "state");
	h_expect_error(&S, "DELETE", p, viewer, NULL, 403, NULL);
	h_expect_error(&S, "DELETE", p, outsider, NULL, 404, NULL);
	j = sweep(id);
	job_id = f_int(json_array_get(json_object_get(j, "trials"), 0), "job_id");
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("%s/cancel", p), editor, "{}", 200));
	assert_int_equal(listed("?state=running", "running"), 0);
	assert_true(listed("?state=cancelled", "cancelled") >= 2);
	json_decref(h_call(&S, "DELETE", p, editor, NULL, 204));
	h_expect_error(&S, "GET", p, viewer, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", p, editor, NULL, 404, NULL);
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", job_id), viewer, NULL, 200));
}

/* A trial that reports through the MLflow API feeds ASHA exactly as the native path does:
 * the same grid, the same curves, the same decisions as test_asha_stops_the_bad_ones. */
static void test_mlflow_metrics(void **state)
{
	char path[300];
	FILE *f;
	json_t *j, *t;
	struct wait_state w;
	size_t i;
	(void)state;

	snprintf(path, sizeof(path), "%s/mlflow_trial.sh", S.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(MLFLOW_SH, f);
	fclose(f);
	json_decref(h_call(&S, "POST", "/api/v1/projects/sw/launchers", owner,
			   h_fmt("{\"name\":\"mltrain\",\"spec\":{\"command\":[\"sh\",\"%s\",\"{{q}}\",\"6\",\"0.2\"]},"
				 "\"parameters\":[{\"name\":\"q\",\"type\":\"integer\",\"min\":1,\"max\":9}]}",
				 path),
			   201));
	j = h_call(&S, "POST", "/api/v1/projects/sw/sweeps", editor,
		   "{\"name\":\"mlgrid\",\"launcher\":\"mltrain\",\"method\":\"grid\","
		   "\"search_space\":{\"q\":{\"type\":\"choice\",\"values\":[1,2,3,4]}},"
		   "\"max_trials\":10,\"parallelism\":1,\"metric\":\"loss\",\"direction\":\"minimize\","
		   "\"asha\":{\"min_resource\":1,\"eta\":2,\"rungs\":3},\"seed\":5}",
		   201);
	w.id = f_int(j, "id");
	w.state = "completed";
	json_decref(j);
	assert_true(h_wait(in_state, &w, 90000));
	j = sweep(w.id);
	assert_int_equal(json_array_size(json_object_get(j, "trials")), 4);
	json_array_foreach(json_object_get(j, "trials"), i, t)
	{
		if (i == 0) {
			assert_string_equal(f_str(t, "state"), "succeeded");
			assert_int_equal(f_int(t, "step"), 6);
			assert_int_equal(f_int(t, "rungs_reached"), 3);
		} else {
			assert_string_equal(f_str(t, "state"), "stopped");
			assert_int_equal(f_int(t, "stopped_step"), 1);
		}
	}
	assert_int_equal(f_int(json_object_get(j, "best_trial"), "index"), 0);
	assert_int_equal(f_int(j, "stopped"), 3);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asha_stops_the_bad_ones),
		cmocka_unit_test(test_pause_resume_cancel),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_no_permission),
		cmocka_unit_test(test_worker_lost_mid_trial),
		cmocka_unit_test(test_server_restart),
		cmocka_unit_test(test_filter_and_delete),
		cmocka_unit_test(test_mlflow_metrics),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
