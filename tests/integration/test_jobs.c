/*
 * test_jobs.c: jobs end to end with the real server and two real workers (fake GPUs) on
 * loopback: GPU isolation, feasibility (422), team quotas under a burst, priorities, cancel
 * and timeout killing the whole process group, following logs live, 100 MB of log, job-token
 * scope, losing a worker mid-job, restarting the server mid-job, idempotent submission,
 * access and bad input.
 */
#include "fixtures.h"
#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct h_server S;
static struct h_worker W1, W2;
static char editor[128], viewer[128], outsider[128];
static int port;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long long submit(const char *project, const char *token, const char *body)
{
	json_t *j = h_call(&S, "POST", h_fmt("/api/v1/projects/%s/jobs", project), token, body, 201);
	long long id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

static json_t *job(long long id)
{
	return h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", id), S.admin_token, NULL, 200);
}

static const char *state_of(const json_t *j)
{
	return json_string_value(json_object_get(j, "state"));
}

/* Waits (server side, /wait) until the job ends; returns the job. */
/* Long-polls in 30 s slices (the harness's HTTP timeout is 60 s) until the job ends or timeout_s passes. */
static json_t *wait_job(long long id, int timeout_s)
{
	for (int waited = 0;; waited += 30) {
		int slice = timeout_s - waited < 30 ? timeout_s - waited : 30;
		json_t *j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=%d", id, slice > 0 ? slice : 0),
				   S.admin_token, NULL, 200);
		const char *st = state_of(j);
		if (!strcmp(st, "succeeded") || !strcmp(st, "failed") || !strcmp(st, "cancelled"))
			return j;
		if (waited + 30 >= timeout_s) {
			fprintf(stderr, "job %lld did not end in %d s: %s\n", id, timeout_s, st);
			json_decref(j);
			fail();
		}
		json_decref(j);
	}
}

/* Polls until the job reaches state (or fails the test after timeout_ms). */
static void wait_state(long long id, const char *state, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 100) {
		json_t *j = job(id);
		bool ok = strcmp(state_of(j), state) == 0;
		json_decref(j);
		if (ok)
			return;
		sleep_ms(100);
	}
	fprintf(stderr, "job %lld never reached %s\n", id, state);
	fail();
}

static char *logs(long long id)
{
	struct h_resp r;
	char *s;
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", id), S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	s = r.body;
	r.body = NULL;
	h_resp_free(&r);
	return s;
}

static int64_t ms_of(const json_t *j, const char *key)
{
	struct tm tm = { 0 };
	int ms = 0;
	const char *s = json_string_value(json_object_get(j, key));
	if (!s)
		return 0;
	sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	       &ms);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static int setup(void **state)
{
	static const char *const extra[] = {
		"--heartbeat-timeout", "3", "--job-log-retention-days", "1", "--housekeeping", "1", NULL
	};
	const char *wargs[] = { "--heartbeat", "1", NULL };
	json_t *j;
	(void)state;

	h_server_start(&S, extra);
	sscanf(S.base, "http://127.0.0.1:%d", &port);
	snprintf(editor, sizeof(editor), "%s", h_user(&S, "ed", false));
	snprintf(viewer, sizeof(viewer), "%s", h_user(&S, "vi", false));
	snprintf(outsider, sizeof(outsider), "%s", h_user(&S, "out", false));
	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"vision\",\"max_gpus\":2}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"nlp\",\"max_gpus\":3}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token,
			   "{\"name\":\"serial\",\"max_concurrent_jobs\":1}", 201));
	json_decref(
		h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"cv\",\"team\":\"vision\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"nl\",\"team\":\"nlp\"}", 201));
	json_decref(
		h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"ser\",\"team\":\"serial\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"free\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/free/members/ed", S.admin_token, "{\"role\":\"editor\"}", 200));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/free/members/vi", S.admin_token, "{\"role\":\"viewer\"}", 200));
	h_worker_start(&W1, &S, h_join_token(&S, "w1"), "w1", 4, wargs);
	h_worker_start(&W2, &S, h_join_token(&S, "w2"), "w2", 4, wargs);
	assert_true(h_worker_wait_registered(&W1, 0, 20000));
	assert_true(h_worker_wait_registered(&W2, 0, 20000));
	j = h_call(&S, "GET", "/api/v1/workers?state=online", S.admin_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
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

/* Every job sees exactly its GPUs; jobs running at once on one worker never share one. */
static void test_gpu_isolation(void **state)
{
	long long ids[6];
	json_t *jobs[6];
	(void)state;

	for (int i = 0; i < 6; i++)
		ids[i] = submit("free", editor,
				h_fmt("{\"name\":\"iso-%d\",\"command\":\"echo CVD=$CUDA_VISIBLE_DEVICES; sleep 1.5\","
				      "\"resources\":{\"gpus\":%d}}",
				      i, i % 3 + 1));
	for (int i = 0; i < 6; i++) {
		char *log, want[64] = "CVD=";
		json_t *g;
		jobs[i] = wait_job(ids[i], 120);
		assert_string_equal(state_of(jobs[i]), "succeeded");
		g = json_object_get(jobs[i], "gpus");
		assert_int_equal(json_array_size(g), (size_t)(i % 3 + 1));
		for (size_t k = 0; k < json_array_size(g); k++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%lld", k ? "," : "",
				 (long long)json_integer_value(json_array_get(g, k)));
		log = logs(ids[i]);
		if (!strstr(log, want)) {
			fprintf(stderr, "job %lld: log '%s' lacks '%s'\n", ids[i], log, want);
			fail();
		}
		free(log);
	}
	for (int a = 0; a < 6; a++)
		for (int b = a + 1; b < 6; b++) {
			json_t *ga = json_object_get(jobs[a], "gpus"), *gb = json_object_get(jobs[b], "gpus");
			bool overlap_time = ms_of(jobs[a], "dispatched_at") < ms_of(jobs[b], "ended_at") &&
					    ms_of(jobs[b], "dispatched_at") < ms_of(jobs[a], "ended_at");
			if (!overlap_time || json_integer_value(json_object_get(jobs[a], "worker_id")) !=
						     json_integer_value(json_object_get(jobs[b], "worker_id")))
				continue;
			for (size_t x = 0; x < json_array_size(ga); x++)
				for (size_t y = 0; y < json_array_size(gb); y++)
					assert_int_not_equal(json_integer_value(json_array_get(ga, x)),
							     json_integer_value(json_array_get(gb, y)));
		}
	for (int i = 0; i < 6; i++)
		json_decref(jobs[i]);
}

static void test_infeasible_and_bad_input(void **state)
{
	(void)state;
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"resources\":{\"gpus\":5}}", 422, "resources");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"resources\":{\"gpus\":1,\"gpu_type\":\"A100\"}}", 422, "resources");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"labels\":{\"pool\":\"x\"}}", 422, "resources");
	/* a team quota below what the job asks can never be met either */
	h_expect_error(&S, "POST", "/api/v1/projects/cv/jobs", S.admin_token,
		       "{\"command\":\"true\",\"resources\":{\"gpus\":3}}", 422, "resources");
	{ /* and says which team (issue 18: it read team '(null)') */
		json_t *e = h_call(&S, "POST", "/api/v1/projects/cv/jobs", S.admin_token,
				   "{\"command\":\"true\",\"resources\":{\"gpus\":3}}", 422);
		const char *msg = json_string_value(json_object_get(json_object_get(e, "error"), "message"));
		assert_non_null(msg);
		assert_non_null(strstr(msg, "team 'vision' may use at most 2 GPUs"));
		json_decref(e);
	}
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor, "{}", 400, "command");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"command\":[]}", 400, "command");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"command\":[\"\"]}", 400, "command[0]");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"command\":[\"a\",3]}", 400, "command[1]");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"command\":\"\"}", 400, "command");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"env\":{\"ATRIUM_X\":\"1\"}}", 400, "env.ATRIUM_X");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"env\":{\"1A\":\"1\"}}", 400, "env.1A");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"resources\":{\"gpus\":-1}}", 400, "resources.gpus");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"command\":\"true\",\"kind\":\"service\"}",
		       400, "kind");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"command\":\"true\",\"priority\":\"high\"}",
		       400, "priority");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"inputs\":[{\"dataset\":\"nope\",\"version\":1}]}", 400,
		       "inputs[0].dataset");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"kind\":\"batch_inference\"}", 400, "model");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"model\":{\"name\":\"nope\",\"version\":1}}", 400, "model.name");
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", editor,
		       "{\"command\":\"true\",\"outputs\":{\"model\":\"bad name\"}}", 400, "outputs.model");
	/* access */
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", viewer, "{\"command\":\"true\"}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", outsider, "{\"command\":\"true\"}", 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/free/jobs", outsider, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/jobs/abc", editor, NULL, 400, "job");
	h_expect_error(&S, "GET", "/api/v1/jobs/999999", editor, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/free/jobs?state=sleeping", editor, NULL, 400, "state");
	h_expect_error(&S, "GET", "/api/v1/jobs?user=ghost", editor, NULL, 400, "user");
}

/* Two teams submit 25 one-GPU jobs each at once: neither exceeds its GPU quota, ever. */
static void test_quota_burst(void **state)
{
	long long ids[50];
	json_t *jobs[50];
	(void)state;

	for (int i = 0; i < 50; i++)
		ids[i] = submit(i % 2 ? "nl" : "cv", S.admin_token,
				"{\"command\":\"sleep 0.3\",\"resources\":{\"gpus\":1}}");
	for (int i = 0; i < 50; i++) {
		jobs[i] = wait_job(ids[i], 300);
		assert_string_equal(state_of(jobs[i]), "succeeded");
	}
	/* At every dispatch instant, count what each team held. */
	for (int i = 0; i < 50; i++) {
		int64_t t = ms_of(jobs[i], "dispatched_at");
		int held = 0;
		for (int k = 0; k < 50; k++)
			if (k % 2 == i % 2 && ms_of(jobs[k], "dispatched_at") <= t && t < ms_of(jobs[k], "ended_at"))
				held++;
		assert_true(held <= (i % 2 ? 3 : 2));
	}
	for (int i = 0; i < 50; i++)
		json_decref(jobs[i]);
}

/* One job at a time in team 'serial': the higher priority goes first, then FIFO. */
static void test_priorities_and_pending_reason(void **state)
{
	long long low, high, mid;
	json_t *a, *b, *c, *j;
	(void)state;

	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", W1.id), S.admin_token, NULL, 200));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", W2.id), S.admin_token, NULL, 200));
	low = submit("ser", S.admin_token, "{\"command\":\"sleep 0.3\",\"priority\":0}");
	high = submit("ser", S.admin_token, "{\"command\":\"sleep 0.3\",\"priority\":10}");
	mid = submit("ser", S.admin_token, "{\"command\":\"sleep 0.3\",\"priority\":5}");
	sleep_ms(1500); /* a scheduling pass has run (about every second at most) */
	j = job(low);
	assert_string_equal(state_of(j), "queued");
	assert_non_null(json_string_value(json_object_get(j, "pending_reason")));
	{ /* its run waits with it (issue 18: it read `running` from the submission on) */
		json_t *run =
			h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", json_integer_value(json_object_get(j, "run_id"))),
			       S.admin_token, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(run, "status")), "queued");
		json_decref(run);
		run = h_call(&S, "GET", "/api/v1/projects/ser/runs?filter=status%20%3D%20queued", S.admin_token, NULL,
			     200);
		assert_int_equal(json_array_size(json_object_get(run, "items")), 3);
		json_decref(run);
	}
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/uncordon", W1.id), S.admin_token, NULL, 200));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/uncordon", W2.id), S.admin_token, NULL, 200));
	a = wait_job(high, 60);
	b = wait_job(mid, 60);
	c = wait_job(low, 60);
	assert_true(ms_of(a, "started_at") < ms_of(b, "started_at"));
	{ /* the run ran from the job's start */
		json_t *run =
			h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", json_integer_value(json_object_get(c, "run_id"))),
			       S.admin_token, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(run, "status")), "finished");
		json_decref(run);
	}
	assert_true(ms_of(b, "started_at") < ms_of(c, "started_at"));
	/* the quota of one job at a time held */
	assert_true(ms_of(a, "ended_at") <= ms_of(b, "dispatched_at"));
	assert_true(ms_of(b, "ended_at") <= ms_of(c, "dispatched_at"));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

static bool pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static long grandchild_of(long long id)
{
	long pid = 0;
	for (int t = 0; t < 200 && !pid; t++) {
		char *log = logs(id), *p = strstr(log, "GC=");
		if (p)
			pid = strtol(p + 3, NULL, 10);
		free(log);
		if (!pid)
			sleep_ms(100);
	}
	return pid;
}

/* Cancel and timeout both kill the whole process group, a grandchild included. */
static void test_cancel_and_timeout_kill_group(void **state)
{
	long long id;
	long gc;
	json_t *j;
	(void)state;

	id = submit("free", editor, "{\"command\":\"sleep 300 & echo GC=$!; wait\"}");
	gc = grandchild_of(id);
	assert_true(gc > 0);
	assert_true(pid_alive(gc));
	h_expect_error(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), viewer, NULL, 403, NULL);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), editor, NULL, 202));
	j = wait_job(id, 60);
	assert_string_equal(state_of(j), "cancelled");
	json_decref(j);
	for (int t = 0; t < 100 && pid_alive(gc); t++)
		sleep_ms(100);
	assert_false(pid_alive(gc));
	h_expect_error(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), editor, NULL, 409, NULL);

	id = submit("free", editor, "{\"command\":\"sleep 300 & echo GC=$!; wait\",\"timeout_s\":2}");
	gc = grandchild_of(id);
	assert_true(gc > 0);
	j = wait_job(id, 60);
	assert_string_equal(state_of(j), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "timed out"));
	json_decref(j);
	for (int t = 0; t < 100 && pid_alive(gc); t++)
		sleep_ms(100);
	assert_false(pid_alive(gc));

	/* a queued job cancels at once */
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", W1.id), S.admin_token, NULL, 200));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", W2.id), S.admin_token, NULL, 200));
	id = submit("free", editor, "{\"command\":\"true\"}");
	j = h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), editor, NULL, 202);
	assert_string_equal(state_of(j), "cancelled");
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/uncordon", W1.id), S.admin_token, NULL, 200));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/uncordon", W2.id), S.admin_token, NULL, 200));
}

struct stream {
	char *buf;
	size_t len;
	int64_t first_ms;
};

static size_t on_stream(char *p, size_t size, size_t n, void *ud)
{
	struct stream *s = ud;
	struct timespec ts;
	char *nb = realloc(s->buf, s->len + size * n + 1);
	if (!nb)
		return 0;
	s->buf = nb;
	memcpy(s->buf + s->len, p, size * n);
	s->len += size * n;
	s->buf[s->len] = 0;
	if (!s->first_ms && strstr(s->buf, "tick 1")) {
		clock_gettime(CLOCK_REALTIME, &ts);
		s->first_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	return size * n;
}

/* logs?follow=1 sends lines as they are printed and ends when the job ends. */
static void test_logs_follow(void **state)
{
	long long id = submit("free", editor, "{\"command\":\"for i in 1 2 3 4 5; do echo tick $i; sleep 0.4; done\"}");
	struct stream s = { 0 };
	char url[256], auth[200];
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	json_t *j;
	(void)state;

	snprintf(url, sizeof(url), "%s/api/v1/jobs/%lld/logs?follow=1", S.base, id);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", viewer);
	h = curl_slist_append(h, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	for (int i = 1; i <= 5; i++)
		assert_non_null(strstr(s.buf, h_fmt("tick %d\n", i)));
	j = job(id);
	assert_string_equal(state_of(j), "succeeded");
	/* the first line reached us while the job still ran */
	assert_true(s.first_ms > 0 && s.first_ms < ms_of(j, "ended_at"));
	json_decref(j);
	free(s.buf);
	/* a finished job's log streams what there is and ends */
	{
		struct h_resp r;
		h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?follow=1&offset=5", id), viewer, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "tick 5"));
		assert_null(strstr(r.body, "tick 1\n"));
		h_resp_free(&r);
	}
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?follow=maybe", id), viewer, NULL, 400, "follow");
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?offset=-1", id), viewer, NULL, 400, "offset");
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", id), outsider, NULL, 404, NULL);
}

/* 100 MB of output: every line arrives, in order. */
static void test_big_log(void **state)
{
	long long id = submit("free", editor, "{\"command\":\"seq 1 14000000\"}");
	json_t *j = wait_job(id, 600);
	long long expect = 1, offset = 0;
	char partial[32] = "";
	(void)state;

	assert_string_equal(state_of(j), "succeeded");
	json_decref(j);
	for (;;) {
		struct h_resp r;
		const char *next;
		h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?offset=%lld&limit=4194304", id, offset), S.admin_token,
		      NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		if (r.len == 0) {
			h_resp_free(&r);
			break;
		}
		for (size_t i = 0; i < r.len; i++) {
			if (r.body[i] == '\n') {
				assert_int_equal(strtoll(partial, NULL, 10), expect);
				expect++;
				partial[0] = 0;
			} else {
				size_t n = strlen(partial);
				assert_true(n < sizeof(partial) - 1);
				partial[n] = r.body[i];
				partial[n + 1] = 0;
			}
		}
		next = h_header(&r, "X-Log-Next-Offset");
		offset = strtoll(next, NULL, 10);
		h_resp_free(&r);
	}
	assert_int_equal(expect - 1, 14000000);
	assert_true(offset > 100 * 1000 * 1000);
}

static bool log_gone(void *arg)
{
	struct h_resp r;
	long status;
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", *(long long *)arg), viewer, NULL, NULL, &r);
	status = r.status;
	h_resp_free(&r);
	return status == 410;
}

/* --job-log-retention-days 1: the log of a job that ended two days ago is deleted by the next
 * housekeeping pass (every second here) and answers 410; a recent job's log stays. */
static void test_log_retention(void **state)
{
	long long old = submit("free", editor, "{\"command\":\"echo from long ago\"}");
	long long recent = submit("free", editor, "{\"command\":\"echo still here\"}");
	struct h_resp r;
	json_t *j;
	(void)state;

	json_decref(wait_job(old, 60));
	json_decref(wait_job(recent, 60));
	f_sql_exec(&S, h_fmt("UPDATE jobs SET ended_at = ended_at - 2 * 86400000 WHERE id = %lld", old));
	assert_true(h_wait(log_gone, &old, 20000));
	f_expect_message(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", old), editor, NULL, 410, "job log retention");
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs?follow=1", old), editor, NULL, 410, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", old), outsider, NULL, 404, NULL);
	j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", old), editor, NULL, 200);
	assert_true(json_is_string(json_object_get(j, "logs_pruned_at")));
	assert_string_equal(state_of(j), "succeeded"); /* the job itself stays */
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", recent), editor, NULL, 200);
	assert_true(json_is_null(json_object_get(j, "logs_pruned_at")));
	json_decref(j);
	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/logs", recent), editor, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "still here"));
	h_resp_free(&r);
}

/* The job token reaches the job's project only, and dies with the job. */
static void test_job_token_scope(void **state)
{
	long long id =
		submit("free", editor, "{\"command\":\"echo TOKEN=$ATRIUM_TOKEN RUN=$ATRIUM_RUN_ID; sleep 60\"}");
	char token[128] = "";
	long long run = 0;
	json_t *j;
	(void)state;

	for (int t = 0; t < 200 && !token[0]; t++) {
		char *log = logs(id), *p = strstr(log, "TOKEN=");
		if (p)
			sscanf(p, "TOKEN=%127s RUN=%lld", token, &run);
		free(log);
		if (!token[0])
			sleep_ms(100);
	}
	assert_true(strncmp(token, "atr_", 4) == 0);
	j = job(id);
	assert_int_equal(json_integer_value(json_object_get(j, "run_id")), run);
	json_decref(j);
	json_decref(h_call(&S, "GET", "/api/v1/projects/free", token, NULL, 200));
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", run), token, NULL, 200));
	/* the rest of its project is out of its reach, as for an outsider: other runs, project-wide
	 * lists, new datasets (it writes its declared outputs only) */
	{
		json_t *other =
			h_call(&S, "POST", "/api/v1/projects/free/runs", editor, "{\"name\":\"not-the-job's\"}", 201);
		h_expect_error(&S, "GET", h_fmt("/api/v1/runs/%lld", f_int(other, "id")), token, NULL, 404, NULL);
		h_expect_error(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", f_int(other, "id")), token,
			       "{\"metrics\":[{\"key\":\"loss\",\"value\":1}]}", 404, NULL);
		json_decref(other);
	}
	h_expect_error(&S, "GET", "/api/v1/projects/free/runs", token, NULL, 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/free/datasets", token, "{\"name\":\"from-job\"}", 404, NULL);
	/* the job logs metrics to its run */
	{
		struct h_resp r;
		h_req(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", run), token,
		      "{\"metrics\":[{\"key\":\"loss\",\"value\":0.5,\"step\":1},{\"key\":\"loss\",\"value\":0.25,"
		      "\"step\":2}]}",
		      NULL, &r);
		assert_true(r.status >= 200 && r.status < 300);
		h_resp_free(&r);
		j = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld/metrics", run), editor, NULL, 200);
		{
			char *dump = json_dumps(j, 0);
			assert_non_null(strstr(dump, "\"loss\""));
			free(dump);
		}
		json_decref(j);
	}
	h_expect_error(&S, "GET", "/api/v1/projects/cv", token, NULL, 404, NULL);
	/* a job token never submits jobs, in its project or another */
	h_expect_error(&S, "POST", "/api/v1/projects/free/jobs", token, "{\"command\":\"true\"}", 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/users", token, NULL, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/projects", token, "{\"name\":\"x\"}", 403, NULL);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), editor, NULL, 202));
	json_decref(wait_job(id, 60));
	h_expect_error(&S, "GET", "/api/v1/projects/free", token, NULL, 401, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", run), token,
		       "{\"metrics\":[{\"key\":\"loss\",\"value\":0.1}]}", 401, NULL);
	/* the run followed the job */
	j = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", run), editor, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "killed");
	json_decref(j);
}

/* kill -9 of the worker running a job: the job is lost, requeued and finishes elsewhere. */
static void test_worker_loss(void **state)
{
	const char *wargs[] = { "--heartbeat", "1", NULL };
	long long id = submit("free", editor, "{\"command\":\"sleep 2; echo finished\",\"max_attempts\":3}");
	long long first_worker;
	struct h_worker *victim;
	json_t *j, *ev, *e;
	size_t i;
	bool lost = false;
	(void)state;

	wait_state(id, "running", 30000);
	j = job(id);
	first_worker = json_integer_value(json_object_get(j, "worker_id"));
	/* a running job's run stays, and the 409 names the job (issue 17 item 10: it named model versions) */
	f_expect_message(&S, "DELETE",
			 h_fmt("/api/v1/runs/%lld", (long long)json_integer_value(json_object_get(j, "run_id"))),
			 editor, NULL, 409, "is the run of job");
	json_decref(j);
	victim = first_worker == W1.id ? &W1 : &W2;
	assert_int_equal(h_worker_stop(victim, SIGKILL), 128 + SIGKILL);
	j = wait_job(id, 120);
	assert_string_equal(state_of(j), "succeeded");
	assert_int_not_equal(json_integer_value(json_object_get(j, "worker_id")), first_worker);
	assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 2);
	json_decref(j);
	ev = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/events", id), editor, NULL, 200);
	json_array_foreach(json_object_get(ev, "items"), i,
			   e) if (!strcmp(json_string_value(json_object_get(e, "to_state")), "lost")) lost = true;
	json_decref(ev);
	assert_true(lost);
	/* the same worker comes back under its name */
	h_worker_start(victim, &S, h_join_token(&S, victim->name), victim->name, 4, wargs);
	assert_true(h_worker_wait_registered(victim, 0, 20000));
	wait_state(id, "succeeded", 1000);
}

static int count_events(long long id, const char *to)
{
	json_t *ev = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/events?limit=1000", id), S.admin_token, NULL, 200), *e;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(ev, "items"), i,
			   e) if (!strcmp(json_string_value(json_object_get(e, "to_state")), to)) n++;
	json_decref(ev);
	return n;
}

/* kill -9 of the server mid-job, then a restart: the job's end is recorded, once. The daemon
 * gets a long heartbeat timeout first, and the workers register again under it: this test is
 * about the restart. A worker learns the timeout when it registers and fences its jobs once it
 * has had no contact for that long, so with the suite's 3 s a restart that is slow on a loaded
 * machine fences the job (a real loss that re-runs it: a second 'running'), which
 * test_worker_loss covers. */
static void test_server_restart(void **state)
{
	const char *extra[] = { "--heartbeat-timeout", "30", "--listen", h_fmt("127.0.0.1:%d", port), NULL };
	const char *wargs[] = { "--heartbeat", "1", NULL };
	struct h_worker *w[] = { &W1, &W2 };
	long long id;
	json_t *j;
	char *log;
	(void)state;

	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	h_server_restart(&S, extra);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(h_worker_stop(w[i], SIGTERM), 0);
		h_sh("rm -f '%s/worker.json'", w[i]->dir); /* (written when it has registered) */
		h_worker_start(w[i], &S, h_join_token(&S, w[i]->name), w[i]->name, 4, wargs);
		assert_true(h_worker_wait_registered(w[i], 0, 20000));
	}
	id = submit("free", editor, "{\"command\":\"sleep 3; echo survived\"}");
	wait_state(id, "running", 30000);
	assert_int_equal(h_server_stop(&S, SIGKILL), 128 + SIGKILL);
	sleep_ms(500);
	h_server_restart(&S, extra);
	j = wait_job(id, 120);
	assert_string_equal(state_of(j), "succeeded");
	json_decref(j);
	assert_int_equal(count_events(id, "succeeded"), 1);
	assert_int_equal(count_events(id, "running"), 1);
	log = logs(id);
	assert_non_null(strstr(log, "survived"));
	free(log);
}

static void test_idempotent_submit(void **state)
{
	const char *key[] = { "Idempotency-Key: ci-build-77", NULL };
	struct h_resp a, b;
	json_t *list;
	int n = 0;
	size_t i;
	json_t *it;
	(void)state;

	h_req(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"name\":\"once\",\"command\":\"true\"}", key, &a);
	h_req(&S, "POST", "/api/v1/projects/free/jobs", editor, "{\"name\":\"once\",\"command\":\"true\"}", key, &b);
	assert_int_equal(a.status, 201);
	assert_int_equal(b.status, 201);
	assert_int_equal(json_integer_value(json_object_get(a.json, "id")),
			 json_integer_value(json_object_get(b.json, "id")));
	assert_string_equal(h_header(&b, "Idempotency-Replayed"), "true");
	h_resp_free(&a);
	h_resp_free(&b);
	list = h_call(&S, "GET", "/api/v1/projects/free/jobs?limit=1000", editor, NULL, 200);
	json_array_foreach(json_object_get(list, "items"), i,
			   it) if (!strcmp(json_string_value(json_object_get(it, "name")), "once")) n++;
	json_decref(list);
	assert_int_equal(n, 1);
}

static void test_lists_and_wait(void **state)
{
	long long id = submit("free", editor, "{\"name\":\"slow\",\"command\":\"sleep 5\"}");
	struct h_resp r;
	json_t *j;
	(void)state;

	h_req(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=1", id), viewer, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(h_header(&r, "X-Job-Terminal"), "false");
	h_resp_free(&r);
	h_expect_error(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=99999", id), viewer, NULL, 400, "timeout_s");
	/* several states, one worker (the worker of a job that succeeded) */
	{
		json_t *one = h_call(&S, "GET", "/api/v1/jobs?state=succeeded&limit=1", S.admin_token, NULL, 200);
		long long wid = json_integer_value(
			json_object_get(json_array_get(json_object_get(one, "items"), 0), "worker_id"));
		size_t i;
		json_t *it;
		json_decref(one);
		assert_true(wid > 0);
		j = h_call(&S, "GET", h_fmt("/api/v1/jobs?state=succeeded,failed&worker=%lld&limit=50", wid),
			   S.admin_token, NULL, 200);
		assert_true(json_array_size(json_object_get(j, "items")) > 0);
		json_array_foreach(json_object_get(j, "items"), i, it)
		{
			const char *st = json_string_value(json_object_get(it, "state"));
			assert_true(!strcmp(st, "succeeded") || !strcmp(st, "failed"));
			assert_int_equal(json_integer_value(json_object_get(it, "worker_id")), wid);
		}
		json_decref(j);
	}
	h_expect_error(&S, "GET", "/api/v1/jobs?state=succeeded,sleeping", viewer, NULL, 400, "state");
	h_expect_error(&S, "GET", "/api/v1/jobs?worker=x", viewer, NULL, 400, "worker");
	/* environment values: editors see them, viewers and lists see names only */
	{
		long long e = submit("free", editor, "{\"command\":\"true\",\"env\":{\"API_KEY\":\"s3cret\"}}");
		json_t *je = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", e), editor, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(json_object_get(je, "env"), "API_KEY")),
				    "s3cret");
		json_decref(je);
		je = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", e), viewer, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(json_object_get(je, "env"), "API_KEY")),
				    "[hidden]");
		json_decref(je);
		je = h_call(&S, "GET", "/api/v1/projects/free/jobs?limit=1", editor, NULL, 200);
		assert_string_equal(
			json_string_value(json_object_get(
				json_object_get(json_array_get(json_object_get(je, "items"), 0), "env"), "API_KEY")),
			"[hidden]");
		json_decref(je);
		json_decref(wait_job(e, 60));
	}
	j = h_call(&S, "GET", "/api/v1/projects/free/jobs?state=succeeded&user=ed&limit=5", viewer, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "items")) > 0);
	json_decref(j);
	/* the global list shows a member only what they may read */
	j = h_call(&S, "GET", "/api/v1/jobs?limit=1000", viewer, NULL, 200);
	{
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(j, "items"), i, it)
			assert_string_equal(json_string_value(json_object_get(it, "project")), "free");
	}
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/jobs?team=nlp&limit=5", S.admin_token, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "items")) > 0);
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), editor, NULL, 202));
	json_decref(wait_job(id, 60));
	h_req(&S, "GET", "/metrics", S.admin_token, NULL, NULL, &r);
	assert_non_null(strstr(r.body, "atrium_jobs{state=\"queued\"}"));
	h_resp_free(&r);
}

static const char *sha_of_file(const char *project, const char *dataset, const char *path)
{
	static char sha[80];
	struct h_resp r;
	h_req(&S, "GET", h_fmt("/api/v1/projects/%s/datasets/%s/versions/1/files/%s", project, dataset, path), editor,
	      NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	snprintf(sha, sizeof(sha), "%s", h_header(&r, "X-Content-SHA256"));
	h_resp_free(&r);
	return sha;
}

/* Inputs arrive under $ATRIUM_INPUT_DIR/<as>/; outputs become a committed model version whose
 * lineage names the job, its run and the dataset version it read. */
static void test_inputs_outputs_lineage(void **state)
{
	long long id, mv, run;
	json_t *j, *lin, *dsv, *files, *f;
	char b_sha[80];
	bool found = false;
	size_t i;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/projects/free/datasets", editor, "{\"name\":\"cifar\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/free/datasets/cifar/versions", editor, "{}", 201));
	{
		struct h_resp r;
		h_req(&S, "PUT", "/api/v1/projects/free/datasets/cifar/versions/1/files/a.csv", editor, "1,2\n", NULL,
		      &r);
		assert_int_equal(r.status, 201);
		h_resp_free(&r);
		h_req(&S, "PUT", "/api/v1/projects/free/datasets/cifar/versions/1/files/sub/b.txt", editor, "weights!",
		      NULL, &r);
		assert_int_equal(r.status, 201);
		h_resp_free(&r);
	}
	json_decref(h_call(&S, "POST", "/api/v1/projects/free/datasets/cifar/versions/1/commit", editor, "{}", 200));
	snprintf(b_sha, sizeof(b_sha), "%s", sha_of_file("free", "cifar", "sub/b.txt"));
	id = submit("free", editor,
		    "{\"name\":\"train\",\"inputs\":[{\"dataset\":\"cifar\",\"version\":1,\"as\":\"train\"}],"
		    "\"outputs\":{\"model\":\"resnet\"},\"command\":\"cat $ATRIUM_INPUT_DIR/train/a.csv;"
		    " mkdir -p $ATRIUM_OUTPUT_DIR/w && cp $ATRIUM_INPUT_DIR/train/sub/b.txt "
		    "$ATRIUM_OUTPUT_DIR/w/weights.bin"
		    " && echo meta > $ATRIUM_OUTPUT_DIR/model.json\"}");
	j = wait_job(id, 120);
	assert_string_equal(state_of(j), "succeeded");
	mv = json_integer_value(json_object_get(j, "output_model_version_id"));
	run = json_integer_value(json_object_get(j, "run_id"));
	assert_true(mv > 0);
	json_decref(j);
	/* the run stays, and the 409 says why */
	f_expect_message(&S, "DELETE", h_fmt("/api/v1/runs/%lld", run), editor, NULL, 409,
			 "source run of version 1 of model 'resnet'");
	{
		char *log = logs(id);
		assert_non_null(strstr(log, "1,2"));
		free(log);
	}
	j = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld", mv), editor, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "committed");
	json_decref(j);
	files = h_call(&S, "GET", "/api/v1/projects/free/models/resnet/versions/1/files", editor, NULL, 200);
	json_array_foreach(json_object_get(files, "items"), i,
			   f) if (!strcmp(json_string_value(json_object_get(f, "path")), "w/weights.bin"))
	{
		found = true;
		assert_string_equal(json_string_value(json_object_get(f, "sha256")), b_sha);
	}
	assert_true(found);
	json_decref(files);
	/* lineage: job -> run -> dataset version, with its files' hashes */
	lin = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", mv), editor, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(lin, "run"), "id")), run);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(lin, "job"), "id")), id);
	dsv = json_array_get(json_object_get(lin, "datasets"), 0);
	assert_non_null(dsv);
	{
		char *dump = json_dumps(lin, 0);
		assert_non_null(strstr(dump, b_sha));
		assert_non_null(strstr(dump, "cifar"));
		free(dump);
	}
	json_decref(lin);
	/* and the other way: the dataset version names the job's run and the model version it made */
	lin = h_call(&S, "GET", "/api/v1/projects/free/datasets/cifar/versions/1/lineage", editor, NULL, 200);
	dsv = json_object_get(lin, "used_by");
	f = json_array_get(json_object_get(dsv, "runs"), 0);
	assert_int_equal(json_integer_value(json_object_get(f, "id")), run);
	assert_int_equal(json_integer_value(json_object_get(f, "job_id")), id);
	f = json_array_get(json_object_get(dsv, "model_versions"), 0);
	assert_int_equal(json_integer_value(json_object_get(f, "id")), mv);
	json_decref(lin);

	/* batch inference: the model's files under $ATRIUM_MODEL_DIR, outputs a dataset version */
	id = submit("free", editor,
		    "{\"name\":\"score\",\"kind\":\"batch_inference\",\"model\":{\"name\":\"resnet\",\"version\":1},"
		    "\"inputs\":[{\"dataset\":\"cifar\",\"version\":\"latest\",\"as\":\"data\"}],\"outputs\":{"
		    "\"dataset\":\"preds\"},"
		    "\"command\":\"ls $ATRIUM_MODEL_DIR > $ATRIUM_OUTPUT_DIR/listing.txt; wc -c < "
		    "$ATRIUM_INPUT_DIR/data/a.csv"
		    " >> $ATRIUM_OUTPUT_DIR/listing.txt\"}");
	j = wait_job(id, 120);
	assert_string_equal(state_of(j), "succeeded");
	assert_int_equal(json_integer_value(json_object_get(j, "model_version_id")), mv);
	assert_true(json_integer_value(json_object_get(j, "output_dataset_version_id")) > 0);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/free/datasets/preds/versions/1", editor, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "committed");
	assert_int_equal(json_integer_value(json_object_get(j, "source_job_id")), id);
	json_decref(j);
	{
		struct h_resp r;
		h_req(&S, "GET", "/api/v1/projects/free/datasets/preds/versions/1/files/listing.txt", editor, NULL,
		      NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "model.json\nw\n4\n");
		h_resp_free(&r);
	}
	/* outputs are the job's own to write */
	h_expect_error(&S, "PUT", h_fmt("/api/v1/jobs/%lld/outputs/x", id), editor, "x", 403, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpu_isolation),
		cmocka_unit_test(test_infeasible_and_bad_input),
		cmocka_unit_test(test_quota_burst),
		cmocka_unit_test(test_priorities_and_pending_reason),
		cmocka_unit_test(test_cancel_and_timeout_kill_group),
		cmocka_unit_test(test_logs_follow),
		cmocka_unit_test(test_big_log),
		cmocka_unit_test(test_log_retention),
		cmocka_unit_test(test_job_token_scope),
		cmocka_unit_test(test_inputs_outputs_lineage),
		cmocka_unit_test(test_worker_loss),
		cmocka_unit_test(test_server_restart),
		cmocka_unit_test(test_idempotent_submit),
		cmocka_unit_test(test_lists_and_wait),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
