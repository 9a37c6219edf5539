/*
 * test_stats.c: GET /api/v1/admin/stats against a real daemon: the totals and the series
 * match what the test did (users, teams, tokens; projects, datasets, models, promotions,
 * workers and their GPUs; jobs by state, the queue, GPUs in use and GPU-hours by team, with a
 * real worker running the jobs; jobs and runs per bucket; deployments by state, with the
 * example model server), buckets are aligned and
 * zero-filled, bad since/bucket are 400 naming the parameter, members get 403 and callers
 * without a token 401.
 */
#include "harness.h"
#include "fixtures.h"

#include <math.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct h_server S;

/* SIGTERM, and exit status 0: a leak or a sanitizer report in the stats code fails the run. */
static int teardown(void **state)
{
	int rc;
	(void)state;
	rc = h_server_stop(&S, SIGTERM);
	h_server_cleanup(&S);
	return rc == 0 ? 0 : -1;
}

static long long num(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	assert_true(json_is_integer(v));
	return (long long)json_integer_value(v);
}

/* Sums a field of the series; *n gets the bucket count. */
static long long series_sum(const json_t *stats, const char *field, size_t *n)
{
	const json_t *series = json_object_get(stats, "series"), *b;
	long long sum = 0;
	size_t i;

	assert_true(json_is_array(series));
	json_array_foreach(series, i, b)
	{
		assert_true(json_is_string(json_object_get(b, "bucket_start")));
		sum += num(b, field, NULL);
	}
	*n = json_array_size(series);
	return sum;
}

/* Day of the week (0 = Sunday) of an RFC 3339 UTC date, asserting midnight. */
static int midnight_weekday(const char *ts)
{
	struct tm tm = { 0 };
	assert_non_null(ts);
	assert_non_null(strstr(ts, "T00:00:00.000Z"));
	assert_int_equal(sscanf(ts, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = 12;
	assert_true(timegm(&tm) != (time_t)-1);
	return tm.tm_wday;
}

static void test_stats_match_what_happened(void **state)
{
	const char *admin = S.admin_token, *u1;
	json_t *j, *t;
	long long token_id;
	size_t n;
	(void)state;

	/* 11 audited requests by 2 users (the sign-in has no actor yet) */
	u1 = h_user(&S, "ana", false);
	h_user(&S, "ben", false);
	h_user(&S, "cid", false);
	h_user(&S, "dee", true);
	j = h_call(&S, "POST", "/api/v1/tokens", u1, "{\"name\":\"ci\"}", 201);
	token_id = num(j, "id", NULL);
	json_decref(j);
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/tokens/%lld", token_id), u1, NULL, 204));
	json_decref(h_call(&S, "PATCH", "/api/v1/users/cid", admin, "{\"disabled\":true}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/teams", admin, "{\"name\":\"vision\",\"max_gpus\":4}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/teams", admin, "{\"name\":\"nlp\"}", 201));
	json_decref(h_call(&S, "PATCH", "/api/v1/users/ben", admin, "{\"password\":\"correct horse\"}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/auth/login", NULL,
			   "{\"username\":\"ben\",\"password\":\"correct horse\"}", 200));

	j = h_call(&S, "GET", "/api/v1/admin/stats", admin, NULL, 200);
	t = json_object_get(j, "totals");
	assert_int_equal(num(t, "users", "total"), 5);
	assert_int_equal(num(t, "users", "admins"), 2);
	assert_int_equal(num(t, "users", "disabled"), 1);
	assert_int_equal(num(t, "teams", "total"), 2);
	/* bootstrap + four first tokens; "ci" was revoked */
	assert_int_equal(num(t, "tokens", "active"), 5);
	assert_int_equal(num(t, "tokens", "sessions"), 1);
	/* nothing registered yet: the registry and worker figures are there, as zeros */
	assert_int_equal(num(t, "projects", "total") + num(t, "projects", "archived"), 0);
	assert_int_equal(num(t, "datasets", "total") + num(t, "datasets", "versions"), 0);
	assert_int_equal(num(t, "models", "total") + num(t, "models", "versions"), 0);
	assert_int_equal(num(t, "promotions", "pending"), 0);
	assert_int_equal(num(t, "workers", "online") + num(t, "workers", "offline") + num(t, "workers", "schedulable"),
			 0);
	assert_int_equal(num(t, "gpus", "total") + num(t, "gpus", "busy"), 0);
	assert_string_equal(json_string_value(json_object_get(j, "bucket")), "week");
	/* default: 12 weeks back, aligned to a Monday, so 13 weekly buckets up to now */
	assert_int_equal(midnight_weekday(json_string_value(json_object_get(j, "since"))), 1);
	assert_int_equal(series_sum(j, "requests", &n), 11);
	assert_int_equal(n, 13);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(j, "series"), 0), "bucket_start")),
		json_string_value(json_object_get(j, "since")));
	/* all of it happened in the last bucket (or the last two, across a Monday midnight) */
	assert_int_equal(num(json_array_get(json_object_get(j, "series"), 0), "requests", NULL), 0);
	assert_true(series_sum(j, "active_users", &n) >= 2);
	assert_true(num(json_array_get(json_object_get(j, "series"), n - 1), "active_users", NULL) <= 2);
	json_decref(j);
}

static void test_stats_day_buckets(void **state)
{
	char since[40], path[128];
	time_t now = time(NULL) - 3 * 24 * 3600;
	json_t *j;
	size_t n;
	(void)state;

	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	snprintf(path, sizeof(path), "/api/v1/admin/stats?bucket=day&since=%s", since);
	j = h_call(&S, "GET", path, S.admin_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "bucket")), "day");
	/* since is rounded down to its midnight: 4 days (5 if a midnight passed meanwhile) */
	assert_int_equal(series_sum(j, "requests", &n), 11);
	assert_true(n == 4 || n == 5);
	midnight_weekday(json_string_value(json_object_get(j, "since")));
	assert_int_equal(strncmp(json_string_value(json_object_get(j, "since")), since, 10), 0);
	json_decref(j);
	/* an offset is accepted */
	json_decref(
		h_call(&S, "GET", "/api/v1/admin/stats?since=2024-01-01T00:00:00%2B02:00", S.admin_token, NULL, 200));
}

static void test_stats_bad_input(void **state)
{
	const char *a = S.admin_token;
	(void)state;

	h_expect_error(&S, "GET", "/api/v1/admin/stats?bucket=month", a, NULL, 400, "bucket");
	h_expect_error(&S, "GET", "/api/v1/admin/stats?bucket=", a, NULL, 400, "bucket");
	h_expect_error(&S, "GET", "/api/v1/admin/stats?bucket=DAY", a, NULL, 400, "bucket");
	h_expect_error(&S, "GET", "/api/v1/admin/stats?since=yesterday", a, NULL, 400, "since");
	h_expect_error(&S, "GET", "/api/v1/admin/stats?since=", a, NULL, 400, "since");
	h_expect_error(&S, "GET", "/api/v1/admin/stats?since=2999-01-01T00:00:00Z", a, NULL, 400, "since");
	/* too many buckets: 1000 days back is refused, 1000 weeks back is not */
	h_expect_error(&S, "GET", "/api/v1/admin/stats?bucket=day&since=2020-01-01T00:00:00Z", a, NULL, 400, "since");
	h_expect_error(&S, "GET", "/api/v1/admin/stats?since=1901-01-01T00:00:00Z", a, NULL, 400, "since");
	json_decref(h_call(&S, "GET", "/api/v1/admin/stats?bucket=week&since=2020-01-01T00:00:00Z", a, NULL, 200));
}

/* The bucket limit counts the current bucket: 999 days back is 1000 buckets, 1000 is refused. */
static void test_stats_bucket_limit(void **state)
{
	char since[40];
	time_t t = time(NULL) - 999 * 24 * 3600;
	json_t *j;
	size_t n;
	(void)state;

	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	j = h_call(&S, "GET", h_fmt("/api/v1/admin/stats?bucket=day&since=%s", since), S.admin_token, NULL, 200);
	series_sum(j, "requests", &n);
	assert_int_equal(n, 1000);
	json_decref(j);
	t -= 24 * 3600;
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	h_expect_error(&S, "GET", h_fmt("/api/v1/admin/stats?bucket=day&since=%s", since), S.admin_token, NULL, 400,
		       "since");
}

/* A worker registered with join_token and n_gpus GPUs (the first `busy` of them busy); its id. */
static long long register_worker(const char *join_token, const char *name, int n_gpus, int busy, char *secret,
				 size_t secret_len)
{
	char gpus[1024] = "";
	size_t len = 0;
	json_t *j;
	long long id;

	for (int i = 0; i < n_gpus; i++)
		len += (size_t)snprintf(
			gpus + len, sizeof(gpus) - len,
			"%s{\"index\":%d,\"uuid\":\"GPU-%s-%d\",\"name\":\"Test GPU\",\"memory_mb\":8192,"
			"\"memory_used_mb\":%d,\"utilization\":0,\"busy\":%s}",
			i ? "," : "", i, name, i, i < busy ? 4096 : 0, i < busy ? "true" : "false");
	j = h_call(&S, "POST", "/api/v1/workers/register", NULL,
		   h_fmt("{\"join_token\":\"%s\",\"name\":\"%s\",\"url\":\"http://127.0.0.1:9\",\"cpus\":4,"
			 "\"memory_mb\":8000,\"gpus\":[%s]}",
			 join_token, name, gpus),
		   201);
	id = f_int(j, "worker_id");
	if (secret)
		snprintf(secret, secret_len, "%s", f_str(j, "secret"));
	json_decref(j);
	return id;
}

static void test_stats_registry_and_workers(void **state)
{
	const char *admin = S.admin_token, *jt;
	char owner[128], editor[128], secret[128];
	json_t *j, *t;
	long long pending, cordoned;
	(void)state;

	snprintf(owner, sizeof(owner), "%s", h_user(&S, "fay", false));
	snprintf(editor, sizeof(editor), "%s", h_user(&S, "gus", false));
	/* three projects, one archived */
	f_project(&S, owner, "reg-a", "private");
	f_project(&S, owner, "reg-b", "internal");
	f_project(&S, owner, "reg-c", "internal");
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/reg-c", owner, NULL, 200));
	f_member(&S, "reg-a", "gus", "editor");
	/* two datasets with three versions (a draft among them) */
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/datasets", editor, "{\"name\":\"d1\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-b/datasets", owner, "{\"name\":\"d2\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/datasets/d1/versions", editor, "{}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/datasets/d1/versions/1/commit", editor, "{}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/datasets/d1/versions", editor, "{}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-b/datasets/d2/versions", owner, "{}", 201));
	/* one model with two committed versions and a draft; three promotions asked, one rejected */
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/models", editor, "{\"name\":\"m1\"}", 201));
	for (int v = 1; v <= 3; v++) {
		json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/models/m1/versions", editor, "{}", 201));
		if (v < 3)
			json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/reg-a/models/m1/versions/%d/commit", v),
					   editor, "{}", 200));
	}
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/models/m1/versions/1/promotions", editor,
			   "{\"alias\":\"production\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/reg-a/models/m1/versions/2/promotions", editor,
			   "{\"alias\":\"staging\"}", 201));
	j = h_call(&S, "POST", "/api/v1/projects/reg-a/models/m1/versions/2/promotions", editor,
		   "{\"alias\":\"production\"}", 201);
	pending = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/promotions/%lld/reject", pending), owner, "{}", 200));
	/* workers: w1 (2 GPUs, 1 busy), w2 (4 GPUs, cordoned), w3 (3 GPUs, stopped: offline) */
	jt = h_join_token(&S, "stats");
	register_worker(jt, "w1", 2, 1, NULL, 0);
	cordoned = register_worker(jt, "w2", 4, 0, NULL, 0);
	register_worker(jt, "w3", 3, 3, secret, sizeof(secret));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", cordoned), admin, "{}", 200));
	json_decref(h_call(&S, "POST", "/api/v1/workers/deregister", secret, "{}", 204));

	j = h_call(&S, "GET", "/api/v1/admin/stats", admin, NULL, 200);
	t = json_object_get(j, "totals");
	assert_int_equal(num(t, "projects", "total"), 3);
	assert_int_equal(num(t, "projects", "archived"), 1);
	assert_int_equal(num(t, "datasets", "total"), 2);
	assert_int_equal(num(t, "datasets", "versions"), 3);
	assert_int_equal(num(t, "models", "total"), 1);
	assert_int_equal(num(t, "models", "versions"), 3);
	assert_int_equal(num(t, "promotions", "pending"), 2);
	assert_int_equal(num(t, "workers", "online"), 2);
	assert_int_equal(num(t, "workers", "offline"), 1);
	assert_int_equal(num(t, "workers", "schedulable"), 1);
	/* the offline worker's GPUs are not counted */
	assert_int_equal(num(t, "gpus", "total"), 6);
	assert_int_equal(num(t, "gpus", "busy"), 1);
	/* the figures the earlier tests checked are still there */
	assert_int_equal(num(t, "users", "total"), 7);
	assert_int_equal(num(t, "teams", "total"), 2);
	json_decref(j);
}

/* ---- jobs: run by a real worker (fake GPUs) that only jobs labelled pool=stats reach ---- */

static long long submit(const char *project, int gpus, const char *command)
{
	json_t *j = h_call(&S, "POST", h_fmt("/api/v1/projects/%s/jobs", project), S.admin_token,
			   h_fmt("{\"command\":\"%s\",\"resources\":{\"gpus\":%d},\"labels\":{\"pool\":\"stats\"}}",
				 command, gpus),
			   201);
	long long id = f_int(j, "id");
	json_decref(j);
	return id;
}

/* The job once it is in state (polling its /wait, or GET for a state that is not an end). */
static json_t *job_in(long long id, const char *state)
{
	for (int i = 0; i < 600; i++) {
		json_t *j =
			h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=1", id), S.admin_token, NULL, 200);
		if (strcmp(f_str(j, "state"), state) == 0)
			return j;
		json_decref(j);
	}
	fprintf(stderr, "job %lld never became %s\n", id, state);
	fail();
	return NULL;
}

/* ms since the epoch of an RFC 3339 UTC time with milliseconds, as the API writes them. */
static long long ms_of(const char *ts)
{
	struct tm tm = { 0 };
	int ms = 0;
	assert_int_equal(sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
				&tm.tm_min, &tm.tm_sec, &ms),
			 7);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/* The GPU-milliseconds a finished job adds to the week starting at week_ms. */
static long long gpu_ms_in_week(long long id, long long week_ms)
{
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", id), S.admin_token, NULL, 200);
	long long gpus = f_int(json_object_get(j, "resources"), "gpus"), a, b;

	a = ms_of(f_str(j, "started_at"));
	b = ms_of(f_str(j, "ended_at"));
	json_decref(j);
	if (a < week_ms)
		a = week_ms;
	return b > a ? gpus * (b - a) : 0;
}

static double team_hours(const json_t *gh, const char *team, long long *jobs)
{
	const json_t *t;
	size_t i;
	json_array_foreach(json_object_get(gh, "by_team"), i, t)
	{
		const json_t *name = json_object_get(t, "team");
		if (team ? json_is_string(name) && strcmp(json_string_value(name), team) == 0 : json_is_null(name)) {
			*jobs = f_int(t, "jobs");
			return json_real_value(json_object_get(t, "hours"));
		}
	}
	fprintf(stderr, "no team %s in gpu_hours\n", team ? team : "(none)");
	fail();
	return 0;
}

/*
 * The GPU-hours of group `want` (a team's name, NULL: no team; or with worker >= 0, that
 * worker's id) summed over the buckets of the series' field (gpu_hours_by_team or
 * gpu_hours_by_worker); checks each bucket's list (most hours first, none empty) and, for the
 * teams, that the bucket's gpu_hours is their sum. *in_last: that group's hours in the last bucket.
 */
static double series_gpu(const json_t *stats, const char *field, const char *want, long long worker, double *in_last)
{
	const json_t *series = json_object_get(stats, "series"), *b, *g;
	double sum = 0;
	size_t i, k;

	*in_last = 0;
	json_array_foreach(series, i, b)
	{
		double prev = INFINITY, all = 0;
		assert_true(json_is_array(json_object_get(b, field)));
		json_array_foreach(json_object_get(b, field), k, g)
		{
			const json_t *name = json_object_get(g, worker >= 0 ? "worker" : "team");
			double hours = json_real_value(json_object_get(g, "hours"));
			bool match = worker >= 0 ? json_integer_value(name) == worker
				     : want	 ? json_is_string(name) && strcmp(json_string_value(name), want) == 0
						 : json_is_null(name);
			assert_true(hours > 0 && hours <= prev);
			prev = hours;
			all += hours;
			if (match) {
				sum += hours;
				if (i + 1 == json_array_size(series))
					*in_last = hours;
			}
		}
		if (worker < 0)
			assert_true(fabs(json_real_value(json_object_get(b, "gpu_hours")) - all) < 1e-9);
	}
	return sum;
}

/* GPU-hours over time (series): per team and per worker, each bucket's part of each job. */
static void check_gpu_series(long long worker, long long ms_team, long long ms_nlp, long long ms_none)
{
	json_t *j = h_call(&S, "GET", "/api/v1/admin/stats", S.admin_token, NULL, 200), *d;
	double last, dlast;

	/* by week: every job ran in this week, the last bucket, which counts as totals.gpu_hours does */
	assert_true(series_gpu(j, "gpu_hours_by_team", "gpu-team", -1, &last) == (double)ms_team / 3600000.0);
	assert_true(last == (double)ms_team / 3600000.0);
	assert_true(series_gpu(j, "gpu_hours_by_team", "nlp", -1, &last) == (double)ms_nlp / 3600000.0);
	assert_true(series_gpu(j, "gpu_hours_by_team", NULL, -1, &last) == (double)ms_none / 3600000.0);
	assert_true(series_gpu(j, "gpu_hours_by_team", "no-such-team", -1, &last) == 0);
	/* one worker ran them all */
	assert_true(series_gpu(j, "gpu_hours_by_worker", NULL, worker, &last) ==
		    (double)(ms_team + ms_nlp + ms_none) / 3600000.0);
	assert_true(series_gpu(j, "gpu_hours_by_worker", NULL, worker + 1000, &last) == 0);
	assert_true(json_real_value(json_object_get(json_array_get(json_object_get(j, "series"), 0), "gpu_hours")) ==
		    0);
	/* by day: the same hours, however the days cut them */
	d = h_call(&S, "GET", "/api/v1/admin/stats?bucket=day", S.admin_token, NULL, 200);
	assert_true(fabs(series_gpu(d, "gpu_hours_by_team", "gpu-team", -1, &dlast) - (double)ms_team / 3600000.0) <
		    1e-9);
	assert_true(fabs(series_gpu(d, "gpu_hours_by_worker", NULL, worker, &dlast) -
			 (double)(ms_team + ms_nlp + ms_none) / 3600000.0) < 1e-9);
	json_decref(d);
	json_decref(j);
}

static void test_stats_jobs_queue_and_gpu_hours(void **state)
{
	const char *admin = S.admin_token;
	const char *const wargs[] = { "--labels", "pool=stats", NULL };
	struct h_worker w;
	long long ok1, bad, noteam, cpu, longjob, q1, q2, week, ms_team, ms_nlp, ms_none, n;
	json_t *j, *t, *gh, *q;
	size_t nb;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/teams", admin, "{\"name\":\"gpu-team\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", admin, "{\"name\":\"jobs-a\",\"team\":\"gpu-team\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", admin, "{\"name\":\"jobs-b\",\"team\":\"nlp\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", admin, "{\"name\":\"jobs-c\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/jobs-c/runs", admin, "{\"name\":\"by-hand\"}", 201));
	h_worker_start(&w, &S, h_join_token(&S, "stats-w"), "stats-w", 4, wargs);
	assert_true(h_worker_wait_registered(&w, 0, 20000));

	/* three that end by themselves: 2 GPUs, 1 GPU failing, 1 GPU in a project of no team, 0 GPUs */
	ok1 = submit("jobs-a", 2, "sleep 0.3");
	bad = submit("jobs-b", 1, "sleep 0.2; exit 3");
	noteam = submit("jobs-c", 1, "sleep 0.1");
	cpu = submit("jobs-a", 0, "true");
	json_decref(job_in(ok1, "succeeded"));
	json_decref(job_in(bad, "failed"));
	json_decref(job_in(noteam, "succeeded"));
	json_decref(job_in(cpu, "succeeded"));
	/* one running with 3 GPUs; then the worker is cordoned and two more wait in the queue */
	longjob = submit("jobs-a", 3, "sleep 60");
	json_decref(job_in(longjob, "running"));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/workers/%lld/cordon", w.id), admin, "{}", 200));
	q1 = submit("jobs-b", 1, "true");
	usleep(20000); /* queued_at has millisecond resolution: q1 is the older one */
	q2 = submit("jobs-a", 1, "true");

	j = h_call(&S, "GET", "/api/v1/admin/stats", admin, NULL, 200);
	t = json_object_get(j, "totals");
	assert_int_equal(num(t, "jobs", "total"), 7);
	assert_int_equal(num(t, "jobs", "running"), 1);
	assert_int_equal(num(t, "jobs", "queued"), 2);
	assert_int_equal(num(t, "jobs", "succeeded"), 3);
	assert_int_equal(num(t, "jobs", "failed"), 1);
	assert_int_equal(num(t, "jobs", "dispatched") + num(t, "jobs", "cancelled") + num(t, "jobs", "lost"), 0);
	assert_int_equal(num(t, "gpus", "in_use"), 3);
	q = json_object_get(t, "queue");
	assert_int_equal(f_int(q, "length"), 2);
	assert_int_equal(f_int(json_object_get(q, "oldest"), "id"), q1);
	assert_string_equal(f_str(json_object_get(q, "oldest"), "project"), "jobs-b");
	assert_true(json_is_string(json_object_get(json_object_get(q, "oldest"), "submitted_at")));
	assert_true(json_is_string(json_object_get(json_object_get(q, "oldest"), "pending_reason")));
	/* a running job counts up to now */
	gh = json_object_get(t, "gpu_hours");
	assert_true(json_real_value(json_object_get(gh, "total")) > 0);
	json_decref(j);

	/* everything ends: the queued ones are cancelled at once, the running one is stopped */
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", q1), admin, "{}", 202));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", q2), admin, "{}", 202));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", longjob), admin, "{}", 202));
	json_decref(job_in(longjob, "cancelled"));

	j = h_call(&S, "GET", "/api/v1/admin/stats", admin, NULL, 200);
	t = json_object_get(j, "totals");
	assert_int_equal(num(t, "jobs", "total"), 7);
	assert_int_equal(num(t, "jobs", "cancelled"), 3);
	assert_int_equal(num(t, "jobs", "queued") + num(t, "jobs", "running") + num(t, "gpus", "in_use"), 0);
	assert_int_equal(f_int(json_object_get(t, "queue"), "length"), 0);
	assert_true(json_is_null(json_object_get(json_object_get(t, "queue"), "oldest")));
	/* GPU-hours, exactly: each job's GPUs times its time inside this week; the jobs that never
	 * started (cancelled while queued) and the one with no GPU add nothing */
	gh = json_object_get(t, "gpu_hours");
	assert_int_equal(midnight_weekday(f_str(gh, "since")), 1);
	week = ms_of(f_str(gh, "since"));
	ms_team = gpu_ms_in_week(ok1, week) + gpu_ms_in_week(longjob, week);
	ms_nlp = gpu_ms_in_week(bad, week);
	ms_none = gpu_ms_in_week(noteam, week);
	assert_true(ms_team > 0 && ms_nlp > 0 && ms_none > 0);
	assert_int_equal(json_array_size(json_object_get(gh, "by_team")), 3);
	assert_true(team_hours(gh, "gpu-team", &n) == (double)ms_team / 3600000.0);
	assert_int_equal(n, 2);
	assert_true(team_hours(gh, "nlp", &n) == (double)ms_nlp / 3600000.0);
	assert_int_equal(n, 1);
	assert_true(team_hours(gh, NULL, &n) == (double)ms_none / 3600000.0);
	assert_int_equal(n, 1);
	assert_true(json_real_value(json_object_get(gh, "total")) == (double)(ms_team + ms_nlp + ms_none) / 3600000.0);
	/* the team that ran longest comes first */
	assert_string_equal(f_str(json_array_get(json_object_get(gh, "by_team"), 0), "team"), "gpu-team");
	/* per bucket: the 7 jobs submitted and the runs created (one per job, and one by hand) */
	assert_int_equal(series_sum(j, "jobs", &nb), 7);
	assert_int_equal(series_sum(j, "runs", &nb), 8);
	assert_int_equal(num(json_array_get(json_object_get(j, "series"), 0), "jobs", NULL), 0);
	json_decref(j);
	/* per day too */
	j = h_call(&S, "GET", "/api/v1/admin/stats?bucket=day", admin, NULL, 200);
	assert_int_equal(series_sum(j, "jobs", &nb), 7);
	assert_int_equal(series_sum(j, "runs", &nb), 8);
	json_decref(j);
	check_gpu_series(w.id, ms_team, ms_nlp, ms_none);
	assert_int_equal(h_worker_stop(&w, SIGTERM), 0);
}

/* ---- deployments: one in each state, served by the example model server ---- */

static char modelserver[PATH_MAX];

/* Polls deployment name until its state is want (90 s at most). */
static void deployment_in(const char *name, const char *want)
{
	for (int i = 0; i < 450; i++) {
		json_t *d = h_call(&S, "GET", h_fmt("/api/v1/deployments/%s", name), S.admin_token, NULL, 200);
		bool ok = strcmp(f_str(d, "state"), want) == 0;
		json_decref(d);
		if (ok)
			return;
		usleep(200000);
	}
	fprintf(stderr, "deployment %s never became %s\n", name, want);
	fail();
}

static void deploy(const char *project, const char *name, int version, const char *args)
{
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/%s/deployments", project), S.admin_token,
			   h_fmt("{\"name\":\"%s\",\"model\":\"lin\",\"version\":%d,\"labels\":{\"pool\":\"deploy\"},"
				 "\"command\":[\"%s\"%s]}",
				 name, version, modelserver, args),
			   201));
}

/* A model "lin" in project with version 1 (servable) and 2 (no model.json: it exits at once). */
static void servable_model(const char *project)
{
	const char *m = h_fmt("/api/v1/projects/%s/models", project);
	char base[256];

	snprintf(base, sizeof(base), "%s/lin/versions", m);
	json_decref(h_call(&S, "POST", m, S.admin_token, "{\"name\":\"lin\"}", 201));
	for (int v = 1; v <= 2; v++) {
		const char *body = v == 1 ? "{\"weights\":[1],\"bias\":0}" : "broken";
		json_decref(h_call(&S, "POST", base, S.admin_token, "{}", 201));
		json_decref(f_put(&S, h_fmt("%s/%d/files/%s", base, v, v == 1 ? "model.json" : "README"), S.admin_token,
				  body, strlen(body), NULL, 201));
		json_decref(h_call(&S, "POST", h_fmt("%s/%d/commit", base, v), S.admin_token, "{}", 200));
	}
}

static long long deployments_with(const char *state)
{
	json_t *l = h_call(&S, "GET", h_fmt("/api/v1/deployments?state=%s", state), S.admin_token, NULL, 200);
	long long n = (long long)json_array_size(json_object_get(l, "items"));
	json_decref(l);
	return n;
}

static void test_stats_deployments(void **state)
{
	const char *admin = S.admin_token;
	const char *const wargs[] = { "--labels", "pool=deploy", "--heartbeat", "1", NULL };
	const char *env = getenv("ATRIUM_MODELSERVER");
	static const char *const states[] = { "ready", "degraded", "deploying", "failed" };
	struct h_worker w;
	json_t *j, *t;
	(void)state;

	if (!realpath(env ? env : "build/tests/tools/modelserver", modelserver)) {
		fprintf(stderr, "the model server is not built (make test-build)\n");
		fail();
	}
	/* none yet: the figures are there, as zeros */
	j = h_call(&S, "GET", "/api/v1/admin/stats", admin, NULL, 200);
	t = json_object_get(j, "totals");
	assert_int_equal(num(t, "deployments", "total"), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(num(t, "deployments", states[i]), 0);
	json_decref(j);

	/* dep-b's team runs one job at a time: its deployment's second replica waits */
	json_decref(h_call(&S, "POST", "/api/v1/teams", admin, "{\"name\":\"tight\",\"max_concurrent_jobs\":1}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", admin, "{\"name\":\"dep-a\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", admin, "{\"name\":\"dep-b\",\"team\":\"tight\"}", 201));
	servable_model("dep-a");
	servable_model("dep-b");
	h_worker_start(&w, &S, h_join_token(&S, "dep-w"), "dep-w", 0, wargs);
	assert_true(h_worker_wait_registered(&w, 0, 20000));

	deploy("dep-a", "ok", 1, "");
	deploy("dep-a", "slow", 1, ",\"--ready-delay-ms\",\"600000\"");
	deploy("dep-a", "broken", 2, "");
	deploy("dep-b", "half", 1, "");
	deployment_in("ok", "ready");
	deployment_in("half", "ready");
	json_decref(h_call(&S, "PATCH", "/api/v1/deployments/half", admin, "{\"replicas\":2}", 200));
	deployment_in("half", "degraded");
	deployment_in("broken", "failed");
	deployment_in("slow", "deploying");

	j = h_call(&S, "GET", "/api/v1/admin/stats", admin, NULL, 200);
	t = json_object_get(j, "totals");
	assert_int_equal(num(t, "deployments", "total"), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(num(t, "deployments", states[i]), 1);
		/* the same as the list says */
		assert_int_equal(deployments_with(states[i]), 1);
	}
	json_decref(j);

	/* deleted ones are gone from the figures */
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/broken", admin, NULL, 204));
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/slow", admin, NULL, 204));
	j = h_call(&S, "GET", "/api/v1/admin/stats", admin, NULL, 200);
	t = json_object_get(j, "totals");
	assert_int_equal(num(t, "deployments", "total"), 2);
	assert_int_equal(num(t, "deployments", "deploying") + num(t, "deployments", "failed"), 0);
	json_decref(j);
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/ok", admin, NULL, 204));
	json_decref(h_call(&S, "DELETE", "/api/v1/deployments/half", admin, NULL, 204));
	assert_int_equal(h_worker_stop(&w, SIGTERM), 0);
}

static void test_stats_access(void **state)
{
	const char *member = h_user(&S, "eli", false);
	(void)state;

	h_expect_error(&S, "GET", "/api/v1/admin/stats", member, NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/admin/stats", NULL, NULL, 401, NULL);
	h_expect_error(&S, "GET", "/api/v1/admin/stats", "atr_nonsense", NULL, 401, NULL);
	h_expect_error(&S, "POST", "/api/v1/admin/stats", S.admin_token, "{}", 405, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_match_what_happened),
		cmocka_unit_test(test_stats_day_buckets),
		cmocka_unit_test(test_stats_bad_input),
		cmocka_unit_test(test_stats_bucket_limit),
		cmocka_unit_test(test_stats_registry_and_workers),
		cmocka_unit_test(test_stats_jobs_queue_and_gpu_hours),
		cmocka_unit_test(test_stats_deployments),
		cmocka_unit_test(test_stats_access),
	};
	memset(&S, 0, sizeof(S));
	h_server_start(&S, NULL);
	return h_finish(cmocka_run_group_tests(tests, NULL, teardown));
}
