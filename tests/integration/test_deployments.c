/*
 * test_deployments.c: deployments end to end with the real server, two real workers (fake
 * GPUs) and the tiny V2 model server (tests/tools/modelserver.c) as the serving process:
 * deploy and infer through the gateway (V2 and predict), statistics, load shared by two
 * replicas, a killed replica restarted, a killed worker's replicas placed elsewhere, 503
 * while nothing is ready, 504 past the timeout, a rolling update under continuous requests
 * with no failed request, a broken version leaving the old one serving, canary weights over
 * 1,000 requests, promote and rollback, following the production alias, invoke keys,
 * prediction capture with retention, lineage (model versions and batch-inference outputs),
 * history and audit, a server restart, deletion, access and bad input; the list of every
 * readable project's deployments and the statistics over time.
 */
#include "fixtures.h"

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 90000

static struct h_server S;
static struct h_worker W1, W2;
static char tok[4][128];  /* owner, editor, viewer, outsider of project "serve" */
static char ms[PATH_MAX]; /* the model server binary */
static int port;

#define OWNER tok[0]
#define EDITOR tok[1]
#define VIEWER tok[2]
#define OUTSIDER tok[3]

static void sleep_ms(int ms_)
{
	struct timespec ts = { ms_ / 1000, (long)(ms_ % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- set-up helpers ---- */

/* A committed version of model "lin" with model.json (NULL: a broken version without it). */
static void model_version(int n, const char *model_json)
{
	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/models/lin/versions", OWNER, "{}", 201));
	json_decref(f_put(&S,
			  h_fmt("/api/v1/projects/serve/models/lin/versions/%d/files/%s", n,
				model_json ? "model.json" : "README"),
			  OWNER, model_json ? model_json : "no model here",
			  strlen(model_json ? model_json : "no model here"), NULL, 201));
	json_decref(
		h_call(&S, "POST", h_fmt("/api/v1/projects/serve/models/lin/versions/%d/commit", n), OWNER, "{}", 200));
}

static json_t *dep(const char *name)
{
	return h_call(&S, "GET", h_fmt("/api/v1/deployments/%s", name), OWNER, NULL, 200);
}

static void create(const char *name, const char *extra)
{
	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/deployments", EDITOR,
			   h_fmt("{\"name\":\"%s\",\"model\":\"lin\",\"command\":[\"%s\"]%s%s}", name, ms,
				 *extra ? "," : "", extra),
			   201));
}

static void patch(const char *name, const char *body)
{
	json_decref(h_call(&S, "PATCH", h_fmt("/api/v1/deployments/%s", name), EDITOR, body, 200));
}

/* Polls the deployment until check(d, arg) holds; fails the test after WAIT_MS. */
static json_t *wait_for(const char *name, bool (*check)(const json_t *d, const void *arg), const void *arg,
			const char *what)
{
	for (int t = 0; t < WAIT_MS; t += 200) {
		json_t *d = dep(name);
		if (check(d, arg))
			return d;
		if (t + 200 >= WAIT_MS) {
			char *dump = json_dumps(d, JSON_INDENT(1));
			fprintf(stderr, "deployment '%s' never became %s:\n%s\n", name, what, dump);
			free(dump);
			json_decref(d);
			fail();
		}
		json_decref(d);
		sleep_ms(200);
	}
	return NULL;
}

static bool is_state(const json_t *d, const void *arg)
{
	return !strcmp(f_str(d, "state"), arg);
}

/* Ready, and every replica is ready (none left draining or starting). */
static bool settled(const json_t *d, const void *arg)
{
	size_t i;
	json_t *in;
	(void)arg;
	if (strcmp(f_str(d, "state"), "ready") != 0 || f_int(d, "ready_replicas") != f_int(d, "replicas") ||
	    !strcmp(f_str(json_object_get(d, "rollout"), "state"), "in_progress"))
		return false;
	json_array_foreach(json_object_get(d, "instances"), i,
			   in) if (strcmp(f_str(in, "state"), "ready") != 0) return false;
	return true;
}

static bool rollout_is(const json_t *d, const void *arg)
{
	return !strcmp(f_str(json_object_get(d, "rollout"), "state"), arg);
}

static json_t *wait_ready(const char *name)
{
	return wait_for(name, settled, NULL, "ready with every replica ready");
}

/* POST .../predict with body; returns the status, *version the answering version (-1: none). */
static long predict(const char *name, const char *token, const char *body, int *version)
{
	struct h_resp r;
	long st;
	h_req(&S, "POST", h_fmt("/api/v1/deployments/%s/predict", name), token, body, NULL, &r);
	st = r.status;
	if (version)
		*version = st == 200 && r.json ? atoi(f_str(r.json, "model_version")) : -1;
	h_resp_free(&r);
	return st;
}

/* Successful audit entries of an action by an actor. */
static int audited(const char *action, const char *actor)
{
	json_t *d = h_call(&S, "GET", h_fmt("/api/v1/audit?action=%s&limit=1000", action), S.admin_token, NULL, 200),
	       *e;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(d, "items"), i, e) if (f_int(e, "status") < 300 &&
								  !strcmp(f_str(e, "actor"), actor) &&
								  !strcmp(f_str(e, "action"), action)) n++;
	json_decref(d);
	return n;
}

/* ---- a client sending requests in a loop on its own connection (a thread) ---- */

struct load {
	pthread_t th;
	char url[256], auth[200];
	volatile int stop;
	int ok, failed, by_version[8];
	char last_error[300];
};

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	struct h_resp *r = ud;
	size_t len = size * n;
	char *b = realloc(r->body, r->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, p, len);
	r->body = b;
	r->len += len;
	b[r->len] = 0;
	return len;
}

static void *load_main(void *arg)
{
	struct load *l = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, l->auth);

	h = curl_slist_append(h, "Content-Type: application/json");
	while (!l->stop) {
		struct h_resp r = { 0 };
		long st = 0;
		curl_easy_setopt(c, CURLOPT_URL, l->url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"x\":[1,1]}");
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		if (st == 200) {
			json_t *j = json_loads(r.body, 0, NULL);
			int v = j ? atoi(f_str(j, "model_version")) : 0;
			l->by_version[v >= 0 && v < 8 ? v : 0]++;
			l->ok++;
			json_decref(j);
		} else {
			l->failed++;
			snprintf(l->last_error, sizeof(l->last_error), "HTTP %ld: %s", st, r.body ? r.body : "");
		}
		free(r.body);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static void load_start(struct load *l, const char *name, const char *token)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->url, sizeof(l->url), "%s/api/v1/deployments/%s/predict", S.base, name);
	snprintf(l->auth, sizeof(l->auth), "Authorization: Bearer %s", token);
	assert_int_equal(pthread_create(&l->th, NULL, load_main, l), 0);
}

static void load_stop(struct load *l)
{
	l->stop = 1;
	pthread_join(l->th, NULL);
}

/* ---- set-up ---- */

static int setup(void **state)
{
	static const char *const extra[] = { "--heartbeat-timeout", "3", NULL };
	static const char *const names[4] = { "dana", "eve", "vic", "oscar" };
	const char *wargs[] = { "--heartbeat", "1", NULL };
	const char *env = getenv("ATRIUM_MODELSERVER");
	(void)state;

	if (!realpath(env ? env : "build/tests/tools/modelserver", ms)) {
		fprintf(stderr, "the model server is not built (make test-build): %s\n",
			env ? env : "build/tests/tools/modelserver");
		return -1;
	}
	h_server_start(&S, extra);
	sscanf(S.base, "http://127.0.0.1:%d", &port);
	f_people(&S, "serve", names, tok);
	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/models", OWNER, "{\"name\":\"lin\"}", 201));
	model_version(1, "{\"weights\":[1,2],\"bias\":0.5}");
	model_version(2, "{\"weights\":[10,20],\"bias\":0}");
	model_version(3, NULL); /* broken: the model server exits at once */
	model_version(4, "{\"weights\":[3,3],\"bias\":0}");
	h_worker_start(&W1, &S, h_join_token(&S, "w1"), "w1", 2, wargs);
	h_worker_start(&W2, &S, h_join_token(&S, "w2"), "w2", 2, wargs);
	assert_true(h_worker_wait_registered(&W1, 0, 20000));
	assert_true(h_worker_wait_registered(&W2, 0, 20000));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_worker_stop(&W1, SIGTERM);
	h_worker_stop(&W2, SIGTERM);
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	h_server_cleanup(&S);
	return 0;
}

/* ---- tests ---- */

/* Deploy, infer through both protocols, two replicas share the load, stats count the calls. */
static void test_deploy_infer_stats(void **state)
{
	struct h_resp r;
	json_t *d, *st, *in;
	size_t i;
	int v;
	(void)state;

	/* its model servers outlive a killed worker, as real ones would (see test_worker_killed) */
	create("web", "\"version\":1,\"replicas\":2,\"env\":{\"MODELSERVER_KEEP_RUNNING\":\"1\"}");
	d = wait_ready("web");
	assert_int_equal(f_int(d, "version"), 1);
	assert_int_equal(json_array_size(json_object_get(d, "instances")), 2);
	json_array_foreach(json_object_get(d, "instances"), i, in)
	{
		assert_true(f_int(in, "port") > 0);
		assert_non_null(json_string_value(json_object_get(in, "worker")));
	}
	json_decref(d);

	/* V2: y = 1*x0 + 2*x1 + 0.5 for each row */
	h_req(&S, "POST", "/v2/models/web/infer", VIEWER,
	      "{\"id\":\"r1\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP64\",\"data\":[1,1,2,3]}]}",
	      NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(h_header(&r, "X-Model-Version"), "1");
	{
		json_t *data = json_object_get(json_array_get(json_object_get(r.json, "outputs"), 0), "data");
		assert_true(json_real_value(json_array_get(data, 0)) == 3.5);
		assert_true(json_real_value(json_array_get(data, 1)) == 8.5);
		assert_string_equal(f_str(r.json, "id"), "r1");
		assert_string_equal(f_str(r.json, "model_name"), "web");
	}
	h_resp_free(&r);
	h_req(&S, "POST", "/v2/models/web/versions/1/infer", VIEWER,
	      "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\",\"data\":[0,0]}]}", NULL, &r);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	/* the model server's own errors are relayed as they are */
	h_req(&S, "POST", "/v2/models/web/infer", VIEWER, "{\"inputs\":[]}", NULL, &r);
	assert_int_equal(r.status, 400);
	h_resp_free(&r);
	d = h_call(&S, "GET", "/v2/models/web", VIEWER, NULL, 200);
	assert_string_equal(f_str(d, "name"), "web");
	json_decref(d);
	d = h_call(&S, "GET", "/v2/models/web/ready", VIEWER, NULL, 200);
	assert_true(json_is_true(json_object_get(d, "ready")));
	json_decref(d);
	json_decref(h_call(&S, "GET", "/v2/models/web/versions/1/ready", VIEWER, NULL, 200));
	json_decref(h_call(&S, "GET", "/v2/health/live", NULL, NULL, 200));
	json_decref(h_call(&S, "GET", "/v2/health/ready", NULL, NULL, 200));

	/* plain predict, 20 times: both replicas answer */
	for (int k = 0; k < 20; k++) {
		assert_int_equal(predict("web", EDITOR, "{\"x\":[1,1]}", &v), 200);
		assert_int_equal(v, 1);
	}
	d = dep("web");
	json_array_foreach(json_object_get(d, "instances"), i, in) if (f_int(in, "requests") == 0)
	{
		fprintf(stderr, "replica %lld took no request of 20\n", f_int(in, "replica"));
		fail();
	}
	json_decref(d);

	/* 2 infer + 1 model-server error + 1 metadata + 20 predicts = 24 forwarded */
	st = h_call(&S, "GET", "/api/v1/deployments/web/stats", VIEWER, NULL, 200);
	assert_int_equal(f_int(st, "requests"), 24);
	assert_int_equal(f_int(st, "errors"), 0);
	assert_int_equal(f_int(st, "in_flight"), 0);
	assert_int_equal(f_int(json_array_get(json_object_get(st, "versions"), 0), "version"), 1);
	assert_true(json_real_value(json_object_get(json_object_get(st, "latency_ms"), "p50")) > 0);
	/* the same over time: the 10 s buckets since the daemon started hold all 24 */
	{
		json_t *series = json_object_get(st, "series"), *b;
		long long sum = 0, errors = 0, with_latency = 0;
		assert_int_equal(f_int(series, "bucket_s"), 10);
		assert_true(json_array_size(json_object_get(series, "items")) >= 1);
		json_array_foreach(json_object_get(series, "items"), i, b)
		{
			assert_non_null(json_string_value(json_object_get(b, "start")));
			sum += f_int(b, "requests");
			errors += f_int(b, "errors");
			if (f_int(b, "requests") > 0) {
				assert_true(json_real_value(json_object_get(json_object_get(b, "latency_ms"), "p99")) >
					    0);
				with_latency++;
			} else {
				assert_true(json_is_null(json_object_get(b, "latency_ms")));
			}
		}
		assert_int_equal(sum, 24);
		assert_int_equal(errors, 0);
		assert_true(with_latency >= 1);
	}
	json_decref(st);
	h_req(&S, "GET", "/metrics", S.admin_token, NULL, NULL, &r);
	assert_non_null(strstr(r.body, "atrium_deployment_requests_total{deployment=\"web\",version=\"1\"} 24"));
	assert_non_null(
		strstr(r.body, "atrium_deployment_request_duration_seconds_bucket{deployment=\"web\",version=\"1\""));
	assert_non_null(strstr(r.body, "atrium_deployment_replicas{deployment=\"web\",state=\"ready\"} 2"));
	h_resp_free(&r);
	/* the list */
	d = h_call(&S, "GET", "/api/v1/projects/serve/deployments", VIEWER, NULL, 200);
	assert_string_equal(f_str(json_array_get(json_object_get(d, "items"), 0), "name"), "web");
	json_decref(d);
}

/* The names of a list's items, comma-separated ("" when empty). */
static const char *names_of(const json_t *list)
{
	static char out[512];
	const json_t *e;
	size_t i, n = 0;

	out[0] = 0;
	json_array_foreach(json_object_get(list, "items"), i, e) n +=
		(size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "," : "", f_str(e, "name"));
	return out;
}

static void expect_names(const char *path, const char *token, const char *want)
{
	json_t *l = h_call(&S, "GET", path, token, NULL, 200);
	assert_string_equal(names_of(l), want);
	assert_true(json_is_null(json_object_get(l, "next_cursor")));
	json_decref(l);
}

/* GET /api/v1/deployments: every readable project's, filtered by project and state. */
static void test_list_all(void **state)
{
	json_t *l;
	(void)state;

	expect_names("/api/v1/deployments", VIEWER, "web");
	expect_names("/api/v1/deployments", S.admin_token, "web");
	expect_names("/api/v1/deployments?state=ready", VIEWER, "web");
	expect_names("/api/v1/deployments?state=failed", VIEWER, "");
	expect_names("/api/v1/deployments?project=serve&state=ready", EDITOR, "web");
	l = h_call(&S, "GET", "/api/v1/deployments", VIEWER, NULL, 200);
	assert_string_equal(f_str(json_array_get(json_object_get(l, "items"), 0), "project"), "serve");
	assert_int_equal(f_int(json_array_get(json_object_get(l, "items"), 0), "ready_replicas"), 2);
	json_decref(l);
	/* a private project's deployments are not the outsider's to see, nor to filter by */
	expect_names("/api/v1/deployments", OUTSIDER, "");
	h_expect_error(&S, "GET", "/api/v1/deployments?project=serve", OUTSIDER, NULL, 400, "project");
	h_expect_error(&S, "GET", "/api/v1/deployments?project=nope", OWNER, NULL, 400, "project");
	h_expect_error(&S, "GET", "/api/v1/deployments?state=running", OWNER, NULL, 400, "state");
	h_expect_error(&S, "GET", "/api/v1/deployments?state=", OWNER, NULL, 400, "state");
	h_expect_error(&S, "GET", "/api/v1/deployments?limit=0", OWNER, NULL, 400, "limit");
	h_expect_error(&S, "GET", "/api/v1/deployments", NULL, NULL, 401, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments", OWNER, "{}", 405, NULL);
}

static void test_bad_input_and_access(void **state)
{
	const char *P = "/api/v1/projects/serve/deployments";
	char body[1024];
	(void)state;

#define BASE_BODY "\"model\":\"lin\",\"version\":1,\"command\":[\"x\"]"
	h_expect_error(&S, "POST", P, EDITOR, "{" BASE_BODY "}", 400, "name");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"Bad Name\"," BASE_BODY "}", 400, "name");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\",\"model\":\"lin\",\"version\":1}", 400, "command");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\",\"model\":\"lin\",\"version\":1,\"command\":[\"\"]}",
		       400, "command[0]");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\",\"model\":\"nope\",\"version\":1,\"command\":\"x\"}",
		       400, "model");
	/* model names are MLflow's (letters, digits, '-', '_', '.'): a registered "FraudModel" is
	 * deployable (tests/mlflow/client_loop.py deploys one); other characters are refused */
	json_t *e = h_call(&S, "POST", P, EDITOR,
			   "{\"name\":\"x\",\"model\":\"Fraud.Model_2\",\"version\":1,\"command\":\"x\"}", 400);
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(e, "error"), "message")), "does not exist"));
	json_decref(e);
	h_expect_error(&S, "POST", P, EDITOR,
		       "{\"name\":\"x\",\"model\":\"bad model!\",\"version\":1,\"command\":\"x\"}", 400, "model");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\",\"model\":\"lin\",\"version\":99,\"command\":\"x\"}",
		       400, "version");
	h_expect_error(&S, "POST", P, EDITOR,
		       "{\"name\":\"x\",\"model\":\"lin\",\"version\":\"nosuchalias\",\"command\":\"x\"}", 400,
		       "version");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\",\"model\":\"lin\",\"version\":null,\"command\":\"x\"}",
		       400, "version");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"replicas\":0}", 400, "replicas");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"replicas\":65}", 400, "replicas");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"replicas\":\"2\"}", 400, "replicas");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"env\":{\"ATRIUM_X\":\"1\"}}", 400,
		       "env.ATRIUM_X");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"env\":{\"PORT\":\"1\"}}", 400,
		       "env.PORT");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"health_path\":\"ready\"}", 400,
		       "health_path");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"predict_path\":\"/a b\"}", 400,
		       "predict_path");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"timeout_s\":0}", 400, "timeout_s");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"capture\":{\"sample_rate\":2}}", 400,
		       "capture.sample_rate");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"capture\":{\"max_rows\":-1}}", 400,
		       "capture.max_rows");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"bogus\":1}", 400, "bogus");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"resources\":{\"gpus\":-1}}", 400,
		       "resources.gpus");
	h_expect_error(&S, "POST", P, EDITOR, "[1]", 400, NULL);
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"web\"," BASE_BODY "}", 409, "name");
	/* no worker has 9 GPUs, or the label */
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"resources\":{\"gpus\":9}}", 422,
		       "resources");
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\"," BASE_BODY ",\"labels\":{\"pool\":\"huge\"}}", 422,
		       "resources");
	/* a draft cannot be deployed */
	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/models/lin/versions", OWNER, "{}", 201));
	h_expect_error(&S, "POST", P, EDITOR, "{\"name\":\"x\",\"model\":\"lin\",\"version\":5,\"command\":\"x\"}", 400,
		       "version");
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/serve/models/lin/versions/5", OWNER, NULL, 204));

	/* access: viewers read, editors change, outsiders see nothing */
	{ /* env values: editors see them, viewers and lists see the names only */
		json_t *d = h_call(&S, "GET", "/api/v1/deployments/web", EDITOR, NULL, 200);
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(d, "env"), "MODELSERVER_KEEP_RUNNING")), "1");
		json_decref(d);
		d = h_call(&S, "GET", "/api/v1/deployments/web", VIEWER, NULL, 200);
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(d, "env"), "MODELSERVER_KEEP_RUNNING")),
			"[hidden]");
		json_decref(d);
		d = h_call(&S, "GET", "/api/v1/projects/serve/deployments", OWNER, NULL, 200);
		{
			json_t *it;
			size_t i;
			bool seen = false;
			json_array_foreach(json_object_get(d, "items"), i,
					   it) if (!strcmp(json_string_value(json_object_get(it, "name")), "web"))
			{
				seen = true;
				assert_string_equal(json_string_value(json_object_get(json_object_get(it, "env"),
										      "MODELSERVER_KEEP_RUNNING")),
						    "[hidden]");
			}
			assert_true(seen);
		}
		json_decref(d);
	}
	snprintf(body, sizeof(body), "{\"name\":\"x\"," BASE_BODY "}");
	h_expect_error(&S, "POST", P, VIEWER, body, 403, NULL);
	h_expect_error(&S, "POST", P, OUTSIDER, body, 404, NULL);
	h_expect_error(&S, "GET", P, OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/web", OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/nope", OWNER, NULL, 404, NULL);
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", VIEWER, "{\"replicas\":1}", 403, NULL);
	h_expect_error(&S, "DELETE", "/api/v1/deployments/web", VIEWER, NULL, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments/web/promote", VIEWER, "{}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments/web/rollback", OUTSIDER, "{}", 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments/web/keys", VIEWER, "{\"name\":\"app\"}", 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/web/stats", OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/web/history", OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/web/predictions", OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/web", NULL, NULL, 401, NULL);
	json_decref(h_call(&S, "GET", "/api/v1/deployments/web", VIEWER, NULL, 200));

	/* changes */
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR, "{\"replicas\":0}", 400, "replicas");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR, "{\"model\":\"other\"}", 400, "model");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR, "{\"name\":\"other\"}", 400, "name");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR, "{\"version\":99}", 400, "version");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR,
		       "{\"traffic\":[{\"version\":1,\"weight\":90},{\"version\":2,\"weight\":20}]}", 400, "traffic");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR,
		       "{\"traffic\":[{\"version\":1,\"weight\":50},{\"version\":1,\"weight\":50}]}", 400,
		       "traffic[1].version");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR,
		       "{\"traffic\":[{\"version\":2,\"weight\":50},{\"version\":4,\"weight\":50}]}", 400, "traffic");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR,
		       "{\"version\":2,\"traffic\":[{\"version\":1,\"weight\":100}]}", 400, "traffic");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR, "{\"traffic\":[{\"version\":1,\"weight\":101}]}",
		       400, "traffic[0].weight");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR, "{\"traffic\":[]}", 400, "traffic");
	h_expect_error(&S, "PATCH", "/api/v1/deployments/web", EDITOR, "{\"resources\":{\"gpus\":9}}", 422,
		       "resources");
	h_expect_error(&S, "POST", "/api/v1/deployments/web/promote", EDITOR, "{}", 409, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments/web/promote", EDITOR, "{\"version\":99}", 400, "version");
	h_expect_error(&S, "POST", "/api/v1/deployments/web/rollback", EDITOR, "{}", 409, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments/web/rollback", EDITOR, "{\"x\":1}", 400, "x");

	/* lists and paths */
	h_expect_error(&S, "GET", "/api/v1/projects/serve/deployments?limit=0", VIEWER, NULL, 400, "limit");
	h_expect_error(&S, "GET", "/api/v1/deployments/web/history?limit=x", VIEWER, NULL, 400, "limit");
	h_expect_error(&S, "DELETE", "/api/v1/deployments/web/keys/abc", EDITOR, NULL, 400, "id");

	/* the gateway */
	json_decref(h_call(&S, "GET", "/v2/models/web/versions/1", VIEWER, NULL, 200));
	h_expect_error(&S, "POST", "/v2/models/web/infer", OUTSIDER, "{}", 404, NULL);
	h_expect_error(&S, "POST", "/v2/models/nope/infer", OWNER, "{}", 404, NULL);
	h_expect_error(&S, "POST", "/v2/models/web/infer", NULL, "{}", 401, NULL);
	h_expect_error(&S, "POST", "/v2/models/web/versions/2/infer", OWNER, "{}", 404, NULL);
	h_expect_error(&S, "POST", "/v2/models/web/versions/x/infer", OWNER, "{}", 400, "version");
	h_expect_error(&S, "POST", "/api/v1/deployments/web/predict", OUTSIDER, "{}", 404, NULL);
	h_expect_error(&S, "GET", "/v2/models/web/infer", OWNER, NULL, 405, NULL);

	/* the workers' report route: the job must be the calling worker's */
	h_expect_error(&S, "POST", "/api/v1/workers/jobs/999999/service", W1.secret,
		       "{\"attempt\":1,\"state\":\"ready\"}", 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/workers/jobs/1/service", W1.secret, "{\"attempt\":1,\"state\":\"up\"}", 400,
		       "state");
	h_expect_error(&S, "POST", "/api/v1/workers/jobs/1/service", OWNER, "{\"attempt\":1,\"state\":\"ready\"}", 403,
		       NULL);
#undef BASE_BODY
}

/* 503 (JSON) while no replica is ready; 504 past the deployment's timeout. */
static void test_unavailable_and_timeout(void **state)
{
	struct h_resp r;
	json_t *d;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/deployments", EDITOR,
			   h_fmt("{\"name\":\"slow\",\"model\":\"lin\",\"version\":1,\"timeout_s\":1,"
				 "\"command\":[\"%s\",\"--ready-delay-ms\",\"5000\"]}",
				 ms),
			   201));
	h_req(&S, "POST", "/api/v1/deployments/slow/predict", EDITOR, "{\"x\":[1,1]}", NULL, &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(f_str(json_object_get(r.json, "error"), "code"), "unavailable");
	h_resp_free(&r);
	h_expect_error(&S, "POST", "/v2/models/slow/infer", EDITOR, "{}", 503, NULL);
	h_expect_error(&S, "GET", "/v2/models/slow/ready", EDITOR, NULL, 503, NULL);
	d = wait_for("slow", is_state, "deploying", "deploying");
	json_decref(d);
	json_decref(wait_ready("slow"));
	assert_int_equal(predict("slow", EDITOR, "{\"x\":[1,1]}", NULL), 200);
	/* the model server sleeps 3 s; the deployment waits 1 s */
	h_expect_error(&S, "POST", "/api/v1/deployments/slow/predict", EDITOR, "{\"x\":[1,1],\"delay_ms\":3000}", 504,
		       NULL);
	d = h_call(&S, "GET", "/api/v1/deployments/slow/stats", EDITOR, NULL, 200);
	assert_true(f_int(d, "errors") >= 3); /* two 503, one 504 */
	assert_int_equal(f_int(d, "in_flight"), 0);
	json_decref(d);
	/* an answer over --max-body-bytes (16 MiB) is not relayed; a request over it is refused
	 * (a longer timeout first: making 17 MB under the sanitizers on a loaded host can take 1 s) */
	json_decref(h_call(&S, "PATCH", "/api/v1/deployments/slow", EDITOR, "{\"timeout_s\":60}", 200));
	h_expect_error(&S, "POST", "/api/v1/deployments/slow/predict", EDITOR, "{\"x\":[1,1],\"pad\":17000000}", 502,
		       NULL);
	{
		size_t n = 17u << 20;
		char *big = malloc(n + 1);
		assert_non_null(big);
		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		big[n] = 0;
		h_expect_error(&S, "POST", "/api/v1/deployments/slow/predict", EDITOR, big, 413, NULL);
		free(big);
	}
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/slow", EDITOR, NULL, 204));
	h_expect_error(&S, "POST", "/api/v1/deployments/slow/predict", EDITOR, "{}", 404, NULL);
}

static struct h_worker *worker_of(long long id)
{
	return id == W1.id ? &W1 : id == W2.id ? &W2 : NULL;
}

/* Killing a replica's process: the worker starts it again; the deployment is ready again. */
static void test_replica_restart(void **state)
{
	json_t *d = dep("web"), *in = json_array_get(json_object_get(d, "instances"), 0), *job;
	long long job_id = f_int(in, "job_id"), pid, pid2 = 0;
	struct h_worker *w = worker_of(f_int(in, "worker_id"));
	struct h_server api;
	(void)state;

	json_decref(d);
	assert_non_null(w);
	api = h_worker_api(w, &S);
	job = h_call(&api, "GET", h_fmt("/v1/jobs/%lld", job_id), w->secret, NULL, 200);
	pid = f_int(job, "pid");
	assert_string_equal(f_str(json_object_get(job, "service"), "state"), "ready");
	json_decref(job);
	assert_true(pid > 0);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	for (int t = 0; t < WAIT_MS && !pid2; t += 200) {
		json_t *in2;
		size_t i;
		d = dep("web");
		json_array_foreach(json_object_get(d, "instances"), i, in2) if (f_int(in2, "job_id") == job_id &&
										f_int(in2, "restarts") >= 1 &&
										!strcmp(f_str(in2, "state"), "ready"))
		{
			job = h_call(&api, "GET", h_fmt("/v1/jobs/%lld", job_id), w->secret, NULL, 200);
			pid2 = f_int(job, "pid");
			json_decref(job);
		}
		json_decref(d);
		if (!pid2)
			sleep_ms(200);
	}
	assert_true(pid2 > 0);
	assert_int_not_equal(pid2, pid);
	json_decref(wait_ready("web"));
	for (int k = 0; k < 4; k++)
		assert_int_equal(predict("web", EDITOR, "{\"x\":[1,1]}", NULL), 200);
}

static bool none_on(const json_t *d, const void *arg)
{
	const long long *worker = arg;
	size_t i;
	json_t *in;
	if (!settled(d, NULL))
		return false;
	json_array_foreach(json_object_get(d, "instances"), i, in) if (f_int(in, "worker_id") == *worker) return false;
	return true;
}

/* kill -9 of a worker: its replicas are placed on the other worker and serve again. */
static void test_worker_killed(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	json_t *d = dep("web"), *in;
	long long victim_id = f_int(json_array_get(json_object_get(d, "instances"), 0), "worker_id");
	struct h_worker *victim = worker_of(victim_id);
	long long pids[8];
	char name[64];
	int npids = 0;
	size_t i;
	(void)state;

	assert_non_null(victim);
	/* the processes of its replicas there: they die with the worker */
	json_array_foreach(json_object_get(d, "instances"), i, in)
	{
		struct h_server api = h_worker_api(victim, &S);
		json_t *job;
		if (f_int(in, "worker_id") != victim_id || npids == 8)
			continue;
		job = h_call(&api, "GET", h_fmt("/v1/jobs/%lld", f_int(in, "job_id")), victim->secret, NULL, 200);
		pids[npids++] = f_int(job, "pid");
		json_decref(job);
	}
	json_decref(d);
	assert_true(npids > 0);
	assert_int_equal(h_worker_stop(victim, SIGKILL), 128 + SIGKILL);
	for (int k = 0; k < npids; k++) {
		int t = 0;
		while (kill((pid_t)pids[k], 0) == 0 && t++ < 100)
			sleep_ms(100); /* SIGKILL was sent; the zombie is reaped by init */
		assert_int_not_equal(kill((pid_t)pids[k], 0), 0);
	}
	d = wait_for("web", none_on, &victim_id, "served by the other worker only");
	json_decref(d);
	for (int k = 0; k < 4; k++)
		assert_int_equal(predict("web", EDITOR, "{\"x\":[1,1]}", NULL), 200);
	/* the worker comes back under its name (for the tests that follow) */
	snprintf(name, sizeof(name), "%s", victim->name); /* h_worker_start clears *victim first */
	h_worker_start(victim, &S, h_join_token(&S, name), name, 2, wargs);
	assert_true(h_worker_wait_registered(victim, 0, 20000));
}

static bool only_version(const json_t *d, const void *arg)
{
	const int *v = arg;
	size_t i;
	json_t *in;
	if (!settled(d, NULL) || f_int(d, "version") != *v)
		return false;
	json_array_foreach(json_object_get(d, "instances"), i, in) if (f_int(in, "version") != *v) return false;
	return true;
}

/* A rolling update under continuous requests: none fails; only the new version answers after. */
static void test_rollout_no_failed_request(void **state)
{
	struct load l;
	json_t *d;
	int v, two = 2;
	(void)state;

	create("roll", "\"version\":1,\"replicas\":2");
	json_decref(wait_ready("roll"));
	load_start(&l, "roll", EDITOR);
	while (l.ok < 20 && !l.failed)
		sleep_ms(50);
	patch("roll", "{\"version\":2}");
	d = wait_for("roll", only_version, &two, "on version 2 only");
	json_decref(d);
	sleep_ms(300);
	load_stop(&l);
	if (l.failed) {
		fprintf(stderr, "%d of %d requests failed during the rollout; last: %s\n", l.failed, l.ok + l.failed,
			l.last_error);
		fail();
	}
	assert_true(l.by_version[1] > 0);
	assert_true(l.by_version[2] > 0);
	for (int k = 0; k < 20; k++) {
		assert_int_equal(predict("roll", EDITOR, "{\"x\":[1,1]}", &v), 200);
		assert_int_equal(v, 2);
	}
	d = dep("roll");
	assert_string_equal(f_str(json_object_get(d, "rollout"), "state"), "succeeded");
	assert_int_equal(f_int(d, "previous_version"), 1);
	json_decref(d);
}

/* A rollout to a version whose server never comes up fails; the old version keeps serving. */
static void test_rollout_broken_version(void **state)
{
	struct load l;
	json_t *d, *ro;
	int v, two = 2;
	(void)state;

	load_start(&l, "roll", EDITOR);
	patch("roll", "{\"version\":3,\"rollout_timeout_s\":60}");
	d = wait_for("roll", rollout_is, "failed", "failed");
	ro = json_object_get(d, "rollout");
	assert_int_equal(f_int(ro, "to_version"), 3);
	assert_non_null(strstr(f_str(ro, "reason"), "version 3"));
	assert_int_equal(f_int(d, "version"), 2);
	json_decref(d);
	json_decref(wait_for("roll", only_version, &two, "back on version 2 only"));
	load_stop(&l);
	assert_int_equal(l.failed, 0);
	assert_int_equal(l.by_version[3], 0);
	assert_int_equal(predict("roll", EDITOR, "{\"x\":[1,1]}", &v), 200);
	assert_int_equal(v, 2);
	/* the controller's own decision is audited */
	assert_true(audited("deployments.rollout.failed", "controller") >= 1);
}

static bool canary_ready(const json_t *d, const void *arg)
{
	size_t i;
	json_t *t;
	(void)arg;
	if (json_array_size(json_object_get(d, "traffic")) != 2)
		return false;
	json_array_foreach(json_object_get(d, "traffic"), i,
			   t) if (f_int(t, "ready_replicas") < f_int(t, "replicas")) return false;
	return true;
}

/* Canary weights hold over 1,000 requests; promote moves everything; rollback ends a split. */
static void test_canary_promote_rollback(void **state)
{
	int count[8] = { 0 }, v, four = 4;
	json_t *d;
	(void)state;

	patch("roll", "{\"traffic\":[{\"version\":2,\"weight\":90},{\"version\":4,\"weight\":10}]}");
	d = wait_for("roll", canary_ready, NULL, "a ready canary");
	assert_string_equal(f_str(json_object_get(d, "rollout"), "kind"), "canary");
	json_decref(d);
	for (int k = 0; k < 1000; k++) {
		assert_int_equal(predict("roll", EDITOR, "{\"x\":[1,1]}", &v), 200);
		count[v >= 0 && v < 8 ? v : 0]++;
	}
	/* 10 % of 1000: 100, standard deviation ~9.5; the bounds are over five of them away */
	fprintf(stderr, "canary: version 2: %d, version 4: %d\n", count[2], count[4]);
	assert_int_equal(count[2] + count[4], 1000);
	assert_true(count[4] >= 50 && count[4] <= 150);
	json_decref(h_call(&S, "POST", "/api/v1/deployments/roll/promote", EDITOR, "{}", 200));
	json_decref(wait_for("roll", only_version, &four, "on version 4 only"));
	assert_int_equal(predict("roll", EDITOR, "{\"x\":[1,1]}", &v), 200);
	assert_int_equal(v, 4);

	/* a split, then rollback: everything back on the stable version */
	patch("roll", "{\"traffic\":[{\"version\":4,\"weight\":50},{\"version\":1,\"weight\":50,\"replicas\":1}]}");
	json_decref(wait_for("roll", canary_ready, NULL, "a ready canary"));
	d = h_call(&S, "POST", "/api/v1/deployments/roll/rollback", EDITOR, "{}", 200);
	assert_string_equal(f_str(json_object_get(d, "rollout"), "state"), "rolled_back");
	json_decref(d);
	json_decref(wait_for("roll", only_version, &four, "on version 4 only"));
	for (int k = 0; k < 10; k++) {
		assert_int_equal(predict("roll", EDITOR, "{\"x\":[1,1]}", &v), 200);
		assert_int_equal(v, 4);
	}
	/* with nothing in progress, rollback goes to the previous stable version (2) */
	json_decref(h_call(&S, "POST", "/api/v1/deployments/roll/rollback", EDITOR, "{}", 200));
	{
		int two = 2;
		json_decref(wait_for("roll", only_version, &two, "back on version 2"));
	}
	assert_int_equal(audited("deployments.promote", "eve"), 1);
	assert_int_equal(audited("deployments.rollback", "eve"), 2);
}

static bool history_has(const char *name, const char *kind)
{
	json_t *h = h_call(&S, "GET", h_fmt("/api/v1/deployments/%s/history?limit=1000", name), VIEWER, NULL, 200), *e;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(h, "items"), i, e) found |= !strcmp(f_str(e, "kind"), kind);
	json_decref(h);
	return found;
}

static void test_history(void **state)
{
	static const char *const kinds[] = { "created",	       "rollout_started", "rollout_succeeded", "rollout_failed",
					     "canary_started", "promoted",	  "rolled_back",       "updated" };
	json_t *h;
	(void)state;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!history_has("roll", kinds[i])) {
			fprintf(stderr, "the history of 'roll' has no '%s'\n", kinds[i]);
			fail();
		}
	h = h_call(&S, "GET", "/api/v1/deployments/roll/history?limit=2", VIEWER, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(h, "items")), 2);
	assert_true(json_is_string(json_object_get(h, "next_cursor")));
	json_decref(h);
}

/* A deployment following `production` rolls out when the alias moves. */
static void test_follows_alias(void **state)
{
	json_t *d;
	int v, two = 2;
	(void)state;

	json_decref(h_call(&S, "PUT", "/api/v1/projects/serve/models/lin/aliases/production", OWNER, "{\"version\":1}",
			   200));
	create("prod", "\"version\":\"production\"");
	d = wait_ready("prod");
	assert_string_equal(f_str(d, "follows"), "production");
	assert_int_equal(f_int(d, "version"), 1);
	json_decref(d);
	json_decref(h_call(&S, "PUT", "/api/v1/projects/serve/models/lin/aliases/production", OWNER, "{\"version\":2}",
			   200));
	d = wait_for("prod", only_version, &two, "on version 2");
	assert_string_equal(f_str(json_object_get(d, "rollout"), "trigger"), "alias");
	json_decref(d);
	assert_int_equal(predict("prod", VIEWER, "{\"x\":[1,1]}", &v), 200);
	assert_int_equal(v, 2);
	assert_true(history_has("prod", "alias_moved"));
	assert_int_equal(audited("deployments.rollout.alias", "controller"), 1);
	/* a number pins it: the alias moving again changes nothing */
	patch("prod", "{\"version\":2}");
	d = dep("prod");
	assert_true(json_is_null(json_object_get(d, "follows")));
	json_decref(d);
}

/* An invoke key calls its own deployment's gateway paths and nothing else. */
static void test_invoke_keys(void **state)
{
	json_t *k, *list;
	char key[128];
	long long id;
	(void)state;

	k = h_call(&S, "POST", "/api/v1/deployments/web/keys", EDITOR, "{\"name\":\"shop-frontend\"}", 201);
	snprintf(key, sizeof(key), "%s", f_str(k, "token"));
	id = f_int(k, "id");
	assert_string_equal(f_str(k, "kind"), "invoke");
	json_decref(k);
	h_expect_error(&S, "POST", "/api/v1/deployments/web/keys", EDITOR, "{}", 400, "name");
	h_expect_error(&S, "POST", "/api/v1/deployments/web/keys", EDITOR,
		       "{\"name\":\"x\",\"expires_at\":\"2001-01-01T00:00:00Z\"}", 400, "expires_at");
	assert_int_equal(predict("web", key, "{\"x\":[1,1]}", NULL), 200);
	json_decref(h_call(&S, "POST", "/v2/models/web/infer", key,
			   "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\",\"data\":[1,1]}]}",
			   200));
	json_decref(h_call(&S, "GET", "/v2/models/web/ready", key, NULL, 200));
	/* not another deployment's, nor the rest of the API */
	h_expect_error(&S, "POST", "/api/v1/deployments/roll/predict", key, "{\"x\":[1,1]}", 404, NULL);
	h_expect_error(&S, "POST", "/v2/models/roll/infer", key, "{}", 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments/web", key, NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/deployments", key, NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/serve", key, NULL, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments/web/keys", key, "{\"name\":\"again\"}", 403, NULL);
	list = h_call(&S, "GET", "/api/v1/deployments/web/keys", EDITOR, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(list, "items")), 1);
	assert_null(json_object_get(json_array_get(json_object_get(list, "items"), 0), "token"));
	json_decref(list);
	h_expect_error(&S, "GET", "/api/v1/deployments/web/keys", VIEWER, NULL, 403, NULL);
	h_expect_error(&S, "DELETE", h_fmt("/api/v1/deployments/roll/keys/%lld", id), EDITOR, NULL, 404, NULL);
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/deployments/web/keys/%lld", id), EDITOR, NULL, 204));
	h_expect_error(&S, "POST", "/api/v1/deployments/web/predict", key, "{\"x\":[1,1]}", 401, NULL);
}

static bool captured(void *arg)
{
	int *n = arg;
	json_t *p = h_call(&S, "GET", "/api/v1/deployments/web/predictions?limit=100", VIEWER, NULL, 200);
	*n = (int)json_array_size(json_object_get(p, "items"));
	json_decref(p);
	return *n == 5;
}

/* Sampled requests and responses are stored, cut to the cap, pruned to max_rows. */
static void test_prediction_capture(void **state)
{
	json_t *p, *first;
	int n = 0;
	(void)state;

	patch("web", "{\"capture\":{\"sample_rate\":1,\"max_rows\":5,\"max_body_bytes\":64}}");
	for (int k = 0; k < 8; k++)
		assert_int_equal(predict("web", EDITOR,
					 h_fmt("{\"x\":[%d,1],\"note\":\"%s\"}", k,
					       k == 7 ? "a rather long"
							" note that makes this body longer than sixty-four bytes"
						      : "-"),
					 NULL),
				 200);
	assert_true(h_wait(captured, &n, WAIT_MS));
	p = h_call(&S, "GET", "/api/v1/deployments/web/predictions?limit=2", VIEWER, NULL, 200);
	first = json_array_get(json_object_get(p, "items"), 0);
	assert_int_equal(f_int(first, "status"), 200);
	assert_int_equal(f_int(first, "version"), 1);
	assert_true(json_is_true(json_object_get(first, "request_truncated")));
	assert_true(json_is_string(json_object_get(first, "request")));
	assert_true(f_int(first, "request_size") > 64);
	assert_true(json_is_object(json_object_get(first, "response")));
	assert_true(json_is_string(json_object_get(p, "next_cursor")));
	json_decref(p);
	p = h_call(&S, "GET", "/api/v1/deployments/web/predictions?version=2", VIEWER, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(p, "items")), 0);
	json_decref(p);
	h_expect_error(&S, "GET", "/api/v1/deployments/web/predictions?version=x", VIEWER, NULL, 400, "version");
	patch("web", "{\"capture\":{\"sample_rate\":0}}");
}

/* Lineage: a model version lists the deployments serving it (and cannot be deleted);
 * a batch-inference output names its model version and input dataset versions. */
static void test_lineage(void **state)
{
	json_t *l, *d;
	long long mv, job;
	size_t i;
	json_t *e;
	bool web = false;
	(void)state;

	d = h_call(&S, "GET", "/api/v1/projects/serve/models/lin/versions/1", VIEWER, NULL, 200);
	mv = f_int(d, "id");
	json_decref(d);
	l = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", mv), VIEWER, NULL, 200);
	json_array_foreach(json_object_get(l, "deployments"), i, e) if (!strcmp(f_str(e, "name"), "web"))
	{
		web = true;
		assert_int_equal(f_int(e, "weight"), 100);
		assert_true(json_is_true(json_object_get(e, "stable")));
	}
	json_decref(l);
	assert_true(web);
	f_expect_message(&S, "DELETE", "/api/v1/projects/serve/models/lin/versions/1", OWNER, NULL, 409, "web");

	/* batch inference: its output dataset version's lineage */
	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/datasets", EDITOR, "{\"name\":\"inputs\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/datasets/inputs/versions", EDITOR, "{}", 201));
	json_decref(f_put(&S, "/api/v1/projects/serve/datasets/inputs/versions/1/files/x.csv", EDITOR, "1,1\n", 4, NULL,
			  201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/serve/datasets/inputs/versions/1/commit", EDITOR, "{}", 200));
	d = h_call(&S, "POST", "/api/v1/projects/serve/jobs", EDITOR,
		   "{\"name\":\"score\",\"kind\":\"batch_inference\",\"model\":{\"name\":\"lin\",\"version\":1},"
		   "\"inputs\":[{\"dataset\":\"inputs\",\"version\":1,\"as\":\"data\"}],\"outputs\":{\"dataset\":"
		   "\"scores\"},"
		   "\"command\":\"cat $ATRIUM_MODEL_DIR/model.json $ATRIUM_INPUT_DIR/data/x.csv > "
		   "$ATRIUM_OUTPUT_DIR/out.txt\"}",
		   201);
	job = f_int(d, "id");
	json_decref(d);
	d = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=120", job), EDITOR, NULL, 200);
	assert_string_equal(f_str(d, "state"), "succeeded");
	json_decref(d);
	l = h_call(&S, "GET", "/api/v1/projects/serve/datasets/scores/versions/1/lineage", VIEWER, NULL, 200);
	assert_int_equal(f_int(json_object_get(l, "job"), "id"), job);
	assert_string_equal(f_str(json_object_get(l, "job"), "kind"), "batch_inference");
	assert_int_equal(f_int(json_object_get(l, "model_version"), "id"), mv);
	assert_int_equal(f_int(json_object_get(l, "model_version"), "version"), 1);
	e = json_array_get(json_object_get(l, "inputs"), 0);
	assert_string_equal(f_str(e, "dataset"), "inputs");
	assert_int_equal(f_int(e, "version"), 1);
	json_decref(l);
	/* a version uploaded by hand has no job */
	l = h_call(&S, "GET", "/api/v1/projects/serve/datasets/inputs/versions/1/lineage", VIEWER, NULL, 200);
	assert_true(json_is_null(json_object_get(l, "job")));
	json_decref(l);
	h_expect_error(&S, "GET", "/api/v1/projects/serve/datasets/inputs/versions/9/lineage", VIEWER, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/serve/datasets/inputs/versions/abc/lineage", VIEWER, NULL, 400,
		       "version");
	h_expect_error(&S, "GET", "/api/v1/projects/serve/datasets/inputs/versions/1/lineage", OUTSIDER, NULL, 404,
		       NULL);
}

/* kill -9 of the server: deployments and their replicas carry on after the restart. */
static void test_server_restart(void **state)
{
	const char *extra[] = { "--heartbeat-timeout", "3", "--listen", h_fmt("127.0.0.1:%d", port), NULL };
	json_t *d;
	(void)state;

	assert_int_equal(h_server_stop(&S, SIGKILL), 128 + SIGKILL);
	h_server_restart(&S, extra);
	d = wait_ready("web");
	assert_int_equal(f_int(d, "version"), 1);
	json_decref(d);
	assert_int_equal(predict("web", EDITOR, "{\"x\":[1,1]}", NULL), 200);
	assert_true(history_has("roll", "promoted"));
}

static bool jobs_ended(void *arg)
{
	json_t *list = h_call(&S, "GET", "/api/v1/projects/serve/jobs?kind=service&state=running&limit=1000", OWNER,
			      NULL, 200),
	       *j;
	const char *prefix = arg;
	size_t i;
	bool none = true;
	json_array_foreach(json_object_get(list, "items"), i, j) if (!strncmp(f_str(j, "name"), prefix, strlen(prefix)))
		none = false;
	json_decref(list);
	return none;
}

/* Deleting stops the replicas and the endpoint. */
/* Whether /metrics has a series of this deployment. */
static bool in_metrics(const char *name)
{
	struct h_resp r;
	bool found;

	h_req(&S, "GET", "/metrics", S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	found = strstr(r.body, h_fmt("deployment=\"%s\"", name)) != NULL;
	h_resp_free(&r);
	return found;
}

static void test_delete(void **state)
{
	(void)state;
	assert_true(in_metrics("roll"));
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/roll", EDITOR, NULL, 204));
	assert_false(in_metrics("roll")); /* a deleted deployment's series go with it */
	h_expect_error(&S, "GET", "/api/v1/deployments/roll", EDITOR, NULL, 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/deployments/roll/predict", EDITOR, "{}", 404, NULL);
	{
		char prefix[] = "deployment roll:";
		assert_true(h_wait(jobs_ended, prefix, WAIT_MS));
	}
	/* the name is free again */
	create("roll", "\"version\":4");
	json_decref(wait_ready("roll"));
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/roll", OWNER, NULL, 204));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deploy_infer_stats),
		cmocka_unit_test(test_list_all),
		cmocka_unit_test(test_bad_input_and_access),
		cmocka_unit_test(test_unavailable_and_timeout),
		cmocka_unit_test(test_replica_restart),
		cmocka_unit_test(test_worker_killed),
		cmocka_unit_test(test_rollout_no_failed_request),
		cmocka_unit_test(test_rollout_broken_version),
		cmocka_unit_test(test_canary_promote_rollback),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_follows_alias),
		cmocka_unit_test(test_invoke_keys),
		cmocka_unit_test(test_prediction_capture),
		cmocka_unit_test(test_lineage),
		cmocka_unit_test(test_server_restart),
		cmocka_unit_test(test_delete),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
