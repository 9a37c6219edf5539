/*
 * test_workers.c: the real server and real `atrium worker` processes (fake GPUs) on loopback:
 * join tokens (admins only), registration (bad tokens and bodies refused), the inventory in
 * the worker list, heartbeats keeping a worker online, kill -9 making it offline after the
 * (shortened, 3 s) timeout and registering again, drain/cordon/uncordon, jobs pinned to a
 * worker by label with their logs and ends arriving at the server, the worker's own API
 * (its secret, its checks), log offsets (gaps, retries, overlaps), SIGTERM deregistering
 * with exit 0 and handing unfinished jobs back, `serve --local-worker`,
 * the worker's command line, /metrics and the audit log.
 */
#include "harness.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct h_server S;
static struct h_worker W1, W2;

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static json_t *get_worker(long long id)
{
	return h_call(&S, "GET", h_fmt("/api/v1/workers/%lld", id), S.admin_token, NULL, 200);
}

static const char *worker_state(long long id)
{
	static char st[16];
	json_t *j = get_worker(id);
	snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(j, "state")));
	json_decref(j);
	return st;
}

struct state_wait {
	long long id;
	const char *state;
};

static bool has_state(void *arg)
{
	struct state_wait *w = arg;
	return strcmp(worker_state(w->id), w->state) == 0;
}

static bool wait_state(long long id, const char *state, int ms)
{
	struct state_wait w = { id, state };
	return h_wait(has_state, &w, ms);
}

/* Jobs run through the server's jobs API, pinned to a worker by its labels
 * (gpu-01: pool=large, gpu-02: pool=small). */
static long long submit(const char *body)
{
	json_t *j = h_call(&S, "POST", "/api/v1/projects/wk/jobs", S.admin_token, body, 201);
	long long id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

/* Waits until the job ends in `state`; returns the job. */
static json_t *wait_job(long long job, const char *state)
{
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=60", job), S.admin_token, NULL, 200);
	if (strcmp(json_string_value(json_object_get(j, "state")), state) != 0) {
		fprintf(stderr, "job %lld ended %s, not %s: %s\n", job, json_string_value(json_object_get(j, "state")),
			state, json_string_value(json_object_get(j, "message")));
		h_sh("tail -30 '%s/worker.log' >&2", W1.dir);
		json_decref(j);
		fail();
	}
	return j;
}

struct running_wait {
	long long job;
};

static bool is_running(void *arg)
{
	struct running_wait *w = arg;
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", w->job), S.admin_token, NULL, 200);
	bool ok = !strcmp(json_string_value(json_object_get(j, "state")), "running");
	json_decref(j);
	return ok;
}

static void wait_running(long long job)
{
	struct running_wait w = { job };
	assert_true(h_wait(is_running, &w, 30000));
}

static char *job_log(long long job)
{
	struct h_resp r;
	char *text;
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?limit=4194304", job), S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	text = strdup(r.body);
	h_resp_free(&r);
	return text;
}

/* ---- join tokens and registration ---- */

static void test_join_tokens(void **state)
{
	const char *mel = h_user(&S, "mel", false);
	json_t *j;
	long long id;
	char tok[128];
	(void)state;

	h_expect_error(&S, "POST", "/api/v1/workers/join-tokens", mel, "{\"name\":\"x\"}", 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/workers/join-tokens", mel, NULL, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/workers/join-tokens", NULL, "{\"name\":\"x\"}", 401, NULL);
	h_expect_error(&S, "POST", "/api/v1/workers/join-tokens", S.admin_token, "{}", 400, "name");
	h_expect_error(&S, "POST", "/api/v1/workers/join-tokens", S.admin_token,
		       "{\"name\":\"x\",\"expires_at\":\"2001-01-01T00:00:00Z\"}", 400, "expires_at");
	j = h_call(&S, "POST", "/api/v1/workers/join-tokens", S.admin_token,
		   "{\"name\":\"rack-7\",\"expires_at\":\"2999-01-01T00:00:00Z\"}", 201);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "join");
	snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(j, "token")));
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/workers/join-tokens", S.admin_token, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 1);
	{
		char *dump = json_dumps(j, 0);
		assert_null(strstr(dump, tok)); /* the text is shown once */
		assert_non_null(strstr(dump, "rack-7"));
		free(dump);
	}
	json_decref(j);
	/* a join token is not an API token */
	h_expect_error(&S, "GET", "/api/v1/users/me", tok, NULL, 403, NULL);
	/* revoked: registration refuses it */
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/workers/join-tokens/%lld", id), S.admin_token, NULL, 204));
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"w\",\"url\":\"http://127.0.0.1:1\"}", tok), 401,
		       "join_token");
	h_expect_error(&S, "DELETE", "/api/v1/workers/join-tokens/999999", S.admin_token, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", "/api/v1/workers/join-tokens/abc", S.admin_token, NULL, 400, "id");
}

static void test_register_refused(void **state)
{
	const char *tok = h_join_token(&S, "refusals");
	const char *user = h_user(&S, "ursula", false);
	(void)state;

	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       "{\"join_token\":\"atr_nope\",\"name\":\"w\",\"url\":\"http://127.0.0.1:1\"}", 401,
		       "join_token");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"w\",\"url\":\"http://127.0.0.1:1\"}", user), 403,
		       "join_token");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL, "{\"name\":\"w\",\"url\":\"http://x:1\"}", 400,
		       "join_token");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"-bad name\",\"url\":\"http://127.0.0.1:1\"}", tok), 400,
		       "name");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"w\",\"url\":\"ftp://127.0.0.1:1\"}", tok), 400, "url");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"w\",\"url\":\"http://127.0.0.1:1\",\"gpus\":"
			     "[{\"index\":0},{\"index\":0}]}",
			     tok),
		       400, "gpus");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"w\",\"url\":\"http://127.0.0.1:1\",\"gpus\":"
			     "[{\"index\":\"0\"}]}",
			     tok),
		       400, "gpus[0].index");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"w\",\"url\":\"http://127.0.0.1:1\",\"labels\":{\"a "
			     "b\":\"c\"}}",
			     tok),
		       400, "labels");
	h_expect_error(&S, "POST", "/api/v1/workers/register", NULL,
		       h_fmt("{\"join_token\":\"%s\",\"name\":\"w\",\"url\":\"http://127.0.0.1:1\",\"ram\":1}", tok),
		       400, "ram");
	/* worker-only routes refuse users and anonymous callers */
	h_expect_error(&S, "POST", "/api/v1/workers/heartbeat", user, "{}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/workers/heartbeat", NULL, "{}", 401, NULL);
	h_expect_error(&S, "POST", "/api/v1/workers/jobs/1/status", S.admin_token, "{\"state\":\"failed\"}", 403, NULL);
	/* the worker process itself gives up on a bad join token: exit 1 */
	assert_int_equal(h_sh("%s worker --server %s --join-token atr_bad --work-dir %s/bad-worker 2>/dev/null",
			      h_bin(), S.base, S.dir),
			 1);
}

static void test_worker_cli(void **state)
{
	(void)state;
	assert_int_equal(h_sh("%s worker --help >/dev/null", h_bin()), 0);
	assert_int_equal(h_sh("%s worker --join-token x 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s worker --server %s 2>/dev/null", h_bin(), S.base), 2);
	assert_int_equal(h_sh("%s worker --server %s --join-token x --labels nolabel 2>/dev/null", h_bin(), S.base), 2);
	assert_int_equal(h_sh("%s worker --server %s --join-token x --name 'bad name' 2>/dev/null", h_bin(), S.base),
			 2);
	assert_int_equal(
		h_sh("%s worker --server %s --join-token x --labels a=b --heartbeat 0 2>/dev/null", h_bin(), S.base),
		2);
}

/* ---- the registry with real workers ---- */

static void test_inventory_and_heartbeats(void **state)
{
	const char *tok = h_join_token(&S, "fleet");
	const char *const l1[] = { "--labels", "pool=large,zone=a", NULL };
	const char *const l2[] = { "--labels", "pool=small", NULL };
	json_t *j, *items, *it;
	char first_hb[40];
	size_t i;
	int seen = 0;
	(void)state;

	h_worker_start(&W1, &S, tok, "gpu-01", 4, l1);
	h_worker_start(&W2, &S, tok, "gpu-02", 2, l2);
	assert_true(h_worker_wait_registered(&W1, 0, 20000));
	assert_true(h_worker_wait_registered(&W2, 0, 20000));
	assert_true(W1.id != W2.id);

	j = h_call(&S, "GET", "/api/v1/workers", S.admin_token, NULL, 200);
	items = json_object_get(j, "items");
	json_array_foreach(items, i, it)
	{
		const char *name = json_string_value(json_object_get(it, "name"));
		if (!strcmp(name, "gpu-01")) {
			seen++;
			assert_int_equal(json_integer_value(json_object_get(it, "gpu_count")), 4);
			assert_string_equal(json_string_value(json_object_get(json_object_get(it, "labels"), "pool")),
					    "large");
			assert_string_equal(json_string_value(json_object_get(json_object_get(it, "labels"), "zone")),
					    "a");
			assert_string_equal(json_string_value(json_object_get(
						    json_array_get(json_object_get(it, "gpus"), 3), "uuid")),
					    "GPU-fake-3");
			assert_string_equal(json_string_value(json_object_get(it, "url")), W1.url);
			assert_true(json_integer_value(json_object_get(it, "cpus")) >= 1);
			assert_true(json_integer_value(json_object_get(it, "memory_mb")) > 0);
			assert_string_equal(json_string_value(json_object_get(it, "version")), "0.1.0");
		}
		if (!strcmp(name, "gpu-02")) {
			seen++;
			assert_int_equal(json_integer_value(json_object_get(it, "gpu_count")), 2);
		}
		assert_string_equal(json_string_value(json_object_get(it, "state")), "online");
		assert_true(json_is_true(json_object_get(it, "schedulable")));
	}
	assert_int_equal(seen, 2);
	json_decref(j);

	/* filters and paging */
	j = h_call(&S, "GET", "/api/v1/workers?state=offline", S.admin_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/workers?limit=1&schedulable=true", S.admin_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_true(json_is_string(json_object_get(j, "next_cursor")));
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/workers?state=sleepy", S.admin_token, NULL, 400, "state");
	h_expect_error(&S, "GET", "/api/v1/workers?schedulable=maybe", S.admin_token, NULL, 400, "schedulable");
	h_expect_error(&S, "GET", "/api/v1/workers", h_user(&S, "wendy", false), NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/workers/424242", S.admin_token, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/workers/abc", S.admin_token, NULL, 400, "id");

	/* heartbeats keep them online well past the 3 s timeout */
	j = get_worker(W1.id);
	snprintf(first_hb, sizeof(first_hb), "%s", json_string_value(json_object_get(j, "last_heartbeat_at")));
	json_decref(j);
	msleep(5000);
	j = get_worker(W1.id);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "online");
	assert_true(strcmp(json_string_value(json_object_get(j, "last_heartbeat_at")), first_hb) > 0);
	assert_true(json_is_number(json_object_get(j, "load")));
	/* the work dir's file system, from statfs */
	assert_true(json_integer_value(json_object_get(j, "disk_total_mb")) > 0);
	assert_true(json_integer_value(json_object_get(j, "disk_free_mb")) > 0);
	assert_true(json_integer_value(json_object_get(j, "disk_free_mb")) <=
		    json_integer_value(json_object_get(j, "disk_total_mb")));
	json_decref(j);
	assert_string_equal(worker_state(W2.id), "online");
	/* a heartbeat's figures are checked: free space above the total is refused, naming it */
	h_expect_error(&S, "POST", "/api/v1/workers/heartbeat", W2.secret,
		       "{\"disk_total_mb\":100,\"disk_free_mb\":200}", 400, "disk_free_mb");
	h_expect_error(&S, "POST", "/api/v1/workers/heartbeat", W2.secret, "{\"disk_free_mb\":-1}", 400,
		       "disk_free_mb");

	/* /metrics counts them */
	{
		struct h_resp r;
		h_req(&S, "GET", "/metrics", S.admin_token, NULL, NULL, &r);
		assert_non_null(strstr(r.body, "atrium_workers{state=\"online\"} 2"));
		assert_non_null(strstr(r.body, "atrium_gpus{state=\"total\"} 6"));
		assert_non_null(strstr(r.body, "atrium_gpus{state=\"busy\"} 0"));
		assert_non_null(strstr(r.body, "atrium_workers_schedulable 2"));
		h_resp_free(&r);
	}
	/* heartbeats are telemetry: not audited; registrations are */
	j = h_call(&S, "GET", "/api/v1/audit?action=workers.heartbeat", S.admin_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/audit?action=workers.register", S.admin_token, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 2);
	json_decref(j);
}

struct drain_wait {
	struct h_server *api;
	bool want;
};

static bool is_draining(void *arg)
{
	struct drain_wait *d = arg;
	json_t *j = h_call(d->api, "GET", "/v1/healthz", NULL, NULL, 200);
	bool v = json_is_true(json_object_get(j, "draining"));
	json_decref(j);
	return v == d->want;
}

/* The worker's own view, which follows the server's heartbeat answers. */
static bool wait_draining(struct h_server *api, bool want)
{
	struct drain_wait d = { api, want };
	return h_wait(is_draining, &d, 10000);
}

static void test_drain_cordon(void **state)
{
	struct h_server api = h_worker_api(&W2, &S);
	json_t *j;
	const char *body = "{\"id\":500,\"command\":\"true\"}";
	(void)state;

	j = h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", W2.id), S.admin_token, NULL, 200);
	assert_true(json_is_true(json_object_get(j, "cordoned")));
	assert_false(json_is_true(json_object_get(j, "schedulable")));
	assert_string_equal(json_string_value(json_object_get(j, "state")), "online");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/workers?schedulable=false", S.admin_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	j = h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/drain", W2.id), S.admin_token, "{}", 200);
	assert_true(json_is_true(json_object_get(j, "draining")));
	json_decref(j);
	/* the next heartbeat tells the worker: it refuses new jobs */
	assert_true(wait_draining(&api, true));
	h_expect_error(&api, "POST", "/v1/jobs", W2.secret, body, 409, NULL);
	j = h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/uncordon", W2.id), S.admin_token, NULL, 200);
	assert_false(json_is_true(json_object_get(j, "cordoned")));
	assert_false(json_is_true(json_object_get(j, "draining")));
	assert_true(json_is_true(json_object_get(j, "schedulable")));
	json_decref(j);
	assert_true(wait_draining(&api, false));
	json_decref(wait_job(submit("{\"command\":\"true\",\"labels\":{\"pool\":\"small\"}}"), "succeeded"));
	/* errors */
	h_expect_error(&S, "POST", "/api/v1/workers/424242/drain", S.admin_token, NULL, 404, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", W2.id), h_user(&S, "carl", false), NULL, 403,
		       NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", W2.id), S.admin_token, "{\"now\":true}", 400,
		       "now");
	/* an online worker is not deleted without force */
	h_expect_error(&S, "DELETE", h_fmt("/api/v1/workers/%lld", W2.id), S.admin_token, NULL, 409, NULL);
	j = h_call(&S, "GET", "/api/v1/audit?action=workers.cordon", S.admin_token, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 2); /* refused attempts are recorded too */
	json_decref(j);
}

/* ---- jobs through the worker's API ---- */

static void test_job_runs_and_reports(void **state)
{
	struct h_server api = h_worker_api(&W1, &S);
	json_t *j;
	char *log;
	(void)state;

	/* only the worker's secret opens its API */
	h_expect_error(&api, "GET", "/v1/jobs", NULL, NULL, 401, NULL);
	h_expect_error(&api, "GET", "/v1/jobs", S.admin_token, NULL, 401, NULL);
	h_expect_error(&api, "GET", "/v1/jobs", W2.secret, NULL, 401, NULL);
	j = h_call(&api, "GET", "/v1/jobs", W1.secret, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	/* bad bodies name the field */
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1}", 400, "command");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1,\"command\":\"\"}", 400, "command");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1,\"command\":[]}", 400, "command");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1,\"command\":[\"ls\",3]}", 400, "command[1]");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1,\"command\":\"true\",\"gpus\":[7]}", 400,
		       "gpus[0]");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1,\"command\":\"true\",\"gpus\":[1,1]}", 400,
		       "gpus[1]");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1,\"command\":\"true\",\"env\":{\"1X\":\"y\"}}",
		       400, "env.1X");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":0,\"command\":\"true\"}", 400, "id");
	h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":1,\"command\":\"true\",\"timeout_s\":-1}", 400,
		       "timeout_s");

	/* a job sees exactly its GPUs; stdout and stderr both reach the server */
	{
		long long id =
			submit("{\"command\":\"echo $CUDA_VISIBLE_DEVICES; echo run=$ATRIUM_RUN_ID job=$ATRIUM_JOB_ID;"
			       " echo oops >&2\",\"resources\":{\"gpus\":2},\"env\":{\"MODE\":\"x\"},"
			       "\"labels\":{\"pool\":\"large\"}}");
		long long run;
		char want[128];
		j = wait_job(id, "succeeded");
		assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 0);
		assert_int_equal(json_integer_value(json_object_get(j, "worker_id")), W1.id);
		run = json_integer_value(json_object_get(j, "run_id"));
		snprintf(want, sizeof(want), "%lld,%lld\nrun=%lld job=%lld\noops\n",
			 (long long)json_integer_value(json_array_get(json_object_get(j, "gpus"), 0)),
			 (long long)json_integer_value(json_array_get(json_object_get(j, "gpus"), 1)), run, id);
		json_decref(j);
		log = job_log(id);
		assert_string_equal(log, want);
		free(log);
	}
	/* GPUs in use and ids in use: the worker's own API refuses them (409) */
	{
		long long id =
			submit("{\"command\":[\"sh\",\"-c\",\"echo started; sleep 30\"],\"resources\":{\"gpus\":4},"
			       "\"labels\":{\"pool\":\"large\"}}");
		wait_running(id);
		h_expect_error(&api, "POST", "/v1/jobs", W1.secret, "{\"id\":103,\"command\":\"true\",\"gpus\":[2]}",
			       409, NULL);
		h_expect_error(&api, "POST", "/v1/jobs", W1.secret, h_fmt("{\"id\":%lld,\"command\":\"true\"}", id),
			       409, "id");
		j = h_call(&api, "GET", "/v1/jobs", W1.secret, NULL, 200);
		assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
		assert_int_equal(
			json_integer_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "id")), id);
		json_decref(j);
		/* the heartbeat carries it */
		msleep(1500);
		j = get_worker(W1.id);
		assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "running"), 0)), id);
		json_decref(j);
		/* cancel through the server: the worker stops it and reports */
		json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), S.admin_token, NULL, 202));
		json_decref(wait_job(id, "cancelled"));
		log = job_log(id);
		assert_string_equal(log, "started\n");
		free(log);
		h_expect_error(&api, "DELETE", h_fmt("/v1/jobs/%lld", id), W1.secret, NULL, 404, NULL);
	}
	/* exit codes, time limits, a program that does not exist */
	j = wait_job(submit("{\"command\":\"exit 4\",\"labels\":{\"pool\":\"large\"}}"), "failed");
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 4);
	json_decref(j);
	j = wait_job(submit("{\"command\":\"sleep 30\",\"timeout_s\":1,\"labels\":{\"pool\":\"large\"}}"), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "timed out"));
	json_decref(j);
	j = wait_job(submit("{\"command\":[\"/no/such/train\"],\"labels\":{\"pool\":\"large\"}}"), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "cannot start"));
	json_decref(j);
	/* a chatty job: 2 MB of log arrive whole, in order */
	{
		long long id = submit("{\"command\":\"seq 1 300000\",\"labels\":{\"pool\":\"large\"}}");
		struct h_resp r;
		json_decref(wait_job(id, "succeeded"));
		h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?limit=4194304", id), S.admin_token, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.len, 1988895); /* bytes of `seq 1 300000` */
		assert_true(strncmp(r.body, "1\n2\n3\n", 6) == 0);
		assert_non_null(strstr(r.body, "\n299999\n300000\n"));
		h_resp_free(&r);
	}
}

static long long quiet_job; /* a silent job on gpu-01 whose log the test writes itself */

static void expect_log_post_error(const char *token, const char *const *hdrs, long status, const char *field)
{
	struct h_resp r;
	h_req(&S, "POST", h_fmt("/api/v1/workers/jobs/%lld/logs", quiet_job), token, "x", hdrs, &r);
	assert_int_equal(r.status, status);
	if (field)
		assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
				    field);
	h_resp_free(&r);
}

/* Log chunks by offset, as a worker sends them: retries never duplicate, gaps are refused. */
static void test_log_offsets(void **state)
{
	const char *hdr0[] = { "X-Log-Offset: 0", "Content-Type: application/octet-stream", NULL };
	const char *hdr3[] = { "X-Log-Offset: 3", "Content-Type: application/octet-stream", NULL };
	const char *hdr9[] = { "X-Log-Offset: 9", NULL };
	const char *hdr5[] = { "X-Log-Offset: 5", NULL };
	const char *bad[] = { "X-Log-Offset: -1", NULL };
	const char *att2[] = { "X-Log-Offset: 0", "X-Job-Attempt: 2", NULL };
	const char *other = h_fmt("%s", "");
	struct h_resp r;
	const char *logs;
	(void)state;

	quiet_job = submit("{\"command\":\"sleep 60\",\"labels\":{\"pool\":\"large\"}}");
	wait_running(quiet_job);
	logs = h_fmt("/api/v1/workers/jobs/%lld/logs", quiet_job);

	h_req(&S, "POST", logs, W1.secret, "abcdef", hdr0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "next_offset")), 6);
	h_resp_free(&r);
	/* a retried batch: nothing stored twice */
	h_req(&S, "POST", logs, W1.secret, "abcdef", hdr0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "stored")), 0);
	h_resp_free(&r);
	/* an overlapping one: only the new tail */
	h_req(&S, "POST", logs, W1.secret, "defGHI", hdr3, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "next_offset")), 9);
	assert_int_equal(json_integer_value(json_object_get(r.json, "stored")), 3);
	h_resp_free(&r);
	/* a gap: 409 with where to resume */
	h_req(&S, "POST", logs, W1.secret, "zzz", (const char *[]){ "X-Log-Offset: 20", NULL }, &r);
	assert_int_equal(r.status, 409);
	assert_int_equal(json_integer_value(json_object_get(r.json, "next_offset")), 9);
	assert_string_equal(h_header(&r, "X-Log-Next-Offset"), "9");
	h_resp_free(&r);
	h_req(&S, "POST", logs, W1.secret, "jk", hdr9, &r);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	expect_log_post_error(W1.secret, NULL, 400, "X-Log-Offset");
	expect_log_post_error(W1.secret, bad, 400, "X-Log-Offset");
	expect_log_post_error(S.admin_token, hdr5, 403, NULL);
	/* a worker that does not hold the job is refused */
	h_req(&S, "POST", logs, W2.secret, "x", hdr9, &r);
	assert_int_equal(r.status, 404);
	h_resp_free(&r);
	/* reading back by offset, through the jobs API */
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", quiet_job), S.admin_token, NULL, NULL, &r);
	assert_string_equal(r.body, "abcdefGHIjk");
	assert_string_equal(h_header(&r, "X-Log-Size"), "11");
	h_resp_free(&r);
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?offset=4&limit=4", quiet_job), S.admin_token, NULL, NULL, &r);
	assert_string_equal(r.body, "efGH");
	assert_string_equal(h_header(&r, "X-Log-Next-Offset"), "8");
	h_resp_free(&r);
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?offset=11", quiet_job), S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 0);
	h_resp_free(&r);
	/* an attempt the job never had is refused */
	h_req(&S, "POST", logs, W1.secret, "second", att2, &r);
	assert_int_equal(r.status, 400);
	h_resp_free(&r);
	(void)other;
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?offset=-3", quiet_job), S.admin_token, NULL, 400,
		       "offset");
	h_expect_error(&S, "POST", h_fmt("/api/v1/workers/jobs/%lld/status", quiet_job), W1.secret,
		       "{\"state\":\"exploded\"}", 400, "state");
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", quiet_job), S.admin_token, NULL, 202));
	json_decref(wait_job(quiet_job, "cancelled"));
}

/* ---- failures and stops ---- */

/* A process that left a pid file: its pid; whether it still runs (a zombie does not: nobody
 * may reap an orphan in a container). */
static long read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

static bool file_has_pid(void *path)
{
	return read_pid(path) > 1;
}

static bool process_alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		alive = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return alive;
}

static bool process_gone(void *pid)
{
	return !process_alive(*(long *)pid);
}

static void test_kill9_goes_offline_and_comes_back(void **state)
{
	const char *tok = h_join_token(&S, "crashy");
	const char *const crashy[] = { "--labels", "pool=crashy", NULL };
	struct h_worker w, again;
	char old_secret[128];
	const char *pidfile;
	long long id, job;
	long leftover, escaped;
	(void)state;

	h_worker_start(&w, &S, tok, "gpu-03", 1, crashy);
	assert_true(h_worker_wait_registered(&w, 0, 20000));
	id = w.id;
	snprintf(old_secret, sizeof(old_secret), "%s", w.secret);
	assert_string_equal(worker_state(id), "online");
	/* a job it runs dies with it (the job shim's parent-death signal)... */
	pidfile = h_fmt("%s/leftover.pid", S.dir);
	job = submit(h_fmt("{\"command\":\"echo $$ > %s; exec sleep 300\",\"labels\":{\"pool\":\"crashy\"},"
			   "\"max_attempts\":1}",
			   pidfile));
	{
		struct running_wait rw = { job };
		assert_true(h_wait(is_running, &rw, 20000));
	}
	assert_true(h_wait(file_has_pid, (void *)pidfile, 60000));
	leftover = read_pid(pidfile);
	assert_int_equal(h_worker_stop(&w, SIGKILL), 128 + SIGKILL);
	assert_true(h_wait(process_gone, &leftover, 20000));
	/* ...and one that escaped it anyway (here: started by hand), still marked as the job's
	 * (its group in jobs/<id>/process.pid, ATRIUM_JOB_ID=<id> in its environment), is stopped
	 * when the worker starts again on its work dir */
	pidfile = h_fmt("%s/jobs/%lld/process.pid", w.dir, job);
	assert_int_equal(
		h_sh("ATRIUM_JOB_ID=%lld setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > '%s'", job, pidfile),
		0);
	assert_true(h_wait(file_has_pid, (void *)pidfile, 60000));
	escaped = read_pid(pidfile);
	assert_true(process_alive(escaped));
	/* --heartbeat-timeout 3: offline within a few seconds, not at once */
	assert_true(wait_state(id, "offline", 10000));
	{
		json_t *j = get_worker(id);
		assert_false(json_is_true(json_object_get(j, "schedulable")));
		assert_true(json_is_null(json_object_get(j, "deregistered_at"))); /* it did not say goodbye */
		json_decref(j);
	}
	/* the same name registers again: same id, a new secret, the old one dead */
	unlink(h_fmt("%s/worker.json", w.dir));
	h_worker_start(&again, &S, tok, "gpu-03", 1, crashy);
	assert_true(h_worker_wait_registered(&again, 0, 20000));
	/* ...the worker starts again on its work dir: what was left running is stopped */
	assert_true(h_wait(process_gone, &escaped, 5000));
	json_decref(wait_job(job, "failed")); /* lost with its worker, no attempt left */
	assert_int_equal(again.id, id);
	assert_string_not_equal(again.secret, old_secret);
	assert_string_equal(worker_state(id), "online");
	h_expect_error(&S, "POST", "/api/v1/workers/heartbeat", old_secret, "{}", 401, NULL);
	/* an offline worker can be deleted */
	assert_int_equal(h_worker_stop(&again, SIGKILL), 128 + SIGKILL);
	assert_true(wait_state(id, "offline", 10000));
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/workers/%lld", id), S.admin_token, NULL, 204));
	h_expect_error(&S, "GET", h_fmt("/api/v1/workers/%lld", id), S.admin_token, NULL, 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/workers/heartbeat", again.secret, "{}", 401, NULL);
}

static void test_secret_revoked_registers_again(void **state)
{
	json_t *j;
	long long id = W2.id;
	(void)state;

	/* an admin force-deletes an online worker: its secret dies, it registers again (new id) */
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/workers/%lld?force=true", id), S.admin_token, NULL, 204));
	assert_true(h_worker_wait_registered(&W2, id, 20000));
	assert_true(W2.id != id);
	j = get_worker(W2.id);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "gpu-02");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "online");
	json_decref(j);
}

static void test_sigterm_drains_and_deregisters(void **state)
{
	struct h_server api = h_worker_api(&W1, &S);
	json_t *j;
	(void)state;

	/* a job that finishes within --grace runs to its end; the worker then deregisters */
	long long id = submit("{\"command\":\"sleep 1; echo finished\",\"labels\":{\"pool\":\"large\"}}");
	(void)api;
	wait_running(id);
	assert_int_equal(h_worker_stop(&W1, SIGTERM), 0);
	json_decref(wait_job(id, "succeeded"));
	{
		char *log = job_log(id);
		assert_string_equal(log, "finished\n");
		free(log);
	}
	j = get_worker(W1.id);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "offline");
	assert_true(json_is_string(json_object_get(j, "deregistered_at")));
	json_decref(j);
	h_expect_error(&S, "POST", "/api/v1/workers/heartbeat", W1.secret, "{}", 401, NULL);

	/* one that outlives --grace is cancelled and reported so */
	{
		const char *const g[] = { "--grace", "1", "--labels", "pool=grace", NULL };
		struct h_worker w;
		h_worker_start(&w, &S, h_join_token(&S, "short-grace"), "gpu-04", 2, g);
		assert_true(h_worker_wait_registered(&w, 0, 20000));
		id = submit("{\"command\":\"sleep 60\",\"resources\":{\"gpus\":1},\"labels\":{\"pool\":\"grace\"}}");
		wait_running(id);
		assert_int_equal(h_worker_stop(&w, SIGTERM), 0);
		/* handed back: the job goes back to the queue (no other worker has pool=grace) */
		j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", id), S.admin_token, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(j, "state")), "queued");
		json_decref(j);
		json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), S.admin_token, NULL, 202));
		assert_string_equal(worker_state(w.id), "offline");
		/* it stopped cleanly: no sanitizer report, no handle left open */
		assert_int_equal(h_sh("grep -q -e 'ERROR: ' -e 'open handles' '%s/worker.log'", w.dir), 1);
	}
}

static void test_local_worker(void **state)
{
	static const char *const extra[] = { "--local-worker", "--heartbeat-timeout", "3", NULL };
	struct h_server s;
	json_t *j, *it;
	int found = 0;
	(void)state;

	setenv("ATRIUM_FAKE_GPUS", "2", 1);
	h_server_start(&s, extra);
	unsetenv("ATRIUM_FAKE_GPUS");
	for (int i = 0; i < 300 && !found; i++) {
		size_t k;
		j = h_call(&s, "GET", "/api/v1/workers", s.admin_token, NULL, 200);
		json_array_foreach(json_object_get(j, "items"), k,
				   it) if (!strncmp(json_string_value(json_object_get(it, "name")), "local-", 6) &&
					   !strcmp(json_string_value(json_object_get(it, "state")), "online"))
		{
			found = 1;
			assert_int_equal(json_integer_value(json_object_get(it, "gpu_count")), 2);
		}
		json_decref(j);
		if (!found)
			msleep(50);
	}
	assert_true(found);
	/* SIGTERM: the server stops its worker (which deregisters), then itself, exit 0 */
	assert_int_equal(h_server_stop(&s, SIGTERM), 0);
	{
		sqlite3 *db;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(h_fmt("%s/atrium.db", s.dir), &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db,
						    "SELECT count(*) FROM workers WHERE name LIKE 'local-%'"
						    " AND state = 'offline' AND deregistered_at IS NOT NULL",
						    -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 1);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	assert_int_equal(h_sh("grep -q -e 'ERROR: ' -e 'open handles' '%s/server.log'", s.dir), 1);
	h_server_cleanup(&s);
}

static int teardown(void **state)
{
	(void)state;
	h_worker_stop(&W1, SIGTERM); /* (checked: exit 0) */
	h_worker_stop(&W2, SIGTERM);
	h_server_cleanup(&S);
	return 0;
}

int main(void)
{
	static const char *const extra[] = { "--heartbeat-timeout", "3", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_tokens),
		cmocka_unit_test(test_register_refused),
		cmocka_unit_test(test_worker_cli),
		cmocka_unit_test(test_inventory_and_heartbeats),
		cmocka_unit_test(test_drain_cordon),
		cmocka_unit_test(test_job_runs_and_reports),
		cmocka_unit_test(test_log_offsets),
		cmocka_unit_test(test_kill9_goes_offline_and_comes_back),
		cmocka_unit_test(test_secret_revoked_registers_again),
		cmocka_unit_test(test_sigterm_drains_and_deregisters),
		cmocka_unit_test(test_local_worker),
	};
	memset(&S, 0, sizeof(S));
	memset(&W1, 0, sizeof(W1));
	memset(&W2, 0, sizeof(W2));
	h_server_start(&S, (const char *const *)extra);
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"wk\"}", 201));
	return h_finish(cmocka_run_group_tests(tests, NULL, teardown));
}
