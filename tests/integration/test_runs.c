/*
 * test_runs.c: runs against the real daemon: get/patch/delete (immutable params, tags merge,
 * ended_at), the access matrix (non-member 404, viewer 403 on writes, internal projects,
 * job tokens of the project and of another), metrics ingest (every field's 400, a 10,000-point
 * batch, all-or-nothing batches), series reads with downsampling over HTTP, run search against
 * a brute-force model with pagination over 1,000 runs, several runs' series in one call
 * (GET /projects/{project}/metrics), and run artifacts.
 */
#include "harness.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/auth.h"

static struct h_server S;
static const char *ALICE, *BOB, *EVE; /* owner, viewer, stranger of project "vision" */
static char alice[128], bob[128], eve[128], job[128], other_job[128];

static void db_exec(const char *sql)
{
	sqlite3 *db;
	char path[300];
	snprintf(path, sizeof(path), "%s/atrium.db", S.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		fail();
	}
	sqlite3_close(db);
}

/* A job token of project_id, made the way the jobs layer will (a row in api_tokens). */
static void make_job_token(int64_t project_id, char *out)
{
	char hash[65], sql[512];
	assert_int_equal(atr_token_new(out, hash), 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO api_tokens(kind, user_id, name, token_hash, prefix, project_id, scope_id, created_at)"
		 " VALUES ('job', 2, 'job', '%s', 'atr_', %lld, 99, 0)",
		 hash, (long long)project_id);
	db_exec(sql);
}

/* The run becomes job 99's (the job of the tokens above): a job's token reaches its own runs only. */
static void job_owns(int64_t run)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE runs SET job_id = 99 WHERE id = %lld", (long long)run);
	db_exec(sql);
}

static int64_t id_of(json_t *j)
{
	int64_t id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

static int setup(void **state)
{
	int64_t vision, other;
	(void)state;
	h_server_start(&S, NULL);
	snprintf(alice, sizeof(alice), "%s", h_user(&S, "alice", false));
	snprintf(bob, sizeof(bob), "%s", h_user(&S, "bob", false));
	snprintf(eve, sizeof(eve), "%s", h_user(&S, "eve", false));
	ALICE = alice;
	BOB = bob;
	EVE = eve;
	vision = id_of(h_call(&S, "POST", "/api/v1/projects", ALICE, "{\"name\":\"vision\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/vision/members/bob", ALICE, "{\"role\":\"viewer\"}", 200));
	other = id_of(
		h_call(&S, "POST", "/api/v1/projects", ALICE, "{\"name\":\"open\",\"visibility\":\"internal\"}", 201));
	make_job_token(vision, job);
	make_job_token(other, other_job);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_server_cleanup(&S);
	return 0;
}

static int64_t new_run(const char *project, const char *token, const char *body)
{
	return id_of(h_call(&S, "POST", h_fmt("/api/v1/projects/%s/runs", project), token, body, 201));
}

static const char *str_at(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);
	return json_string_value(b ? json_object_get(v, b) : v);
}

/* ---- runs ---- */

static void test_get_patch(void **state)
{
	int64_t id = new_run("vision", ALICE, "{\"name\":\"r1\",\"params\":{\"lr\":\"0.01\"},\"tags\":{\"a\":\"1\"}}");
	const char *run = h_fmt("/api/v1/runs/%lld", (long long)id);
	char path[64];
	json_t *j;
	(void)state;

	snprintf(path, sizeof(path), "%s", run);
	j = h_call(&S, "GET", path, BOB, NULL, 200);
	assert_string_equal(str_at(j, "params", "lr"), "0.01");
	assert_string_equal(str_at(j, "status", NULL), "running");
	assert_true(json_is_object(json_object_get(j, "metrics")));
	assert_true(json_is_null(json_object_get(j, "ended_at")));
	json_decref(j);

	j = h_call(&S, "PATCH", path, ALICE,
		   "{\"name\":\"renamed\",\"status\":\"finished\",\"params\":{\"lr\":\"0.01\",\"bs\":\"32\"},"
		   "\"tags\":{\"a\":null,\"b\":\"2\"}}",
		   200);
	assert_string_equal(str_at(j, "name", NULL), "renamed");
	assert_string_equal(str_at(j, "status", NULL), "finished");
	assert_string_equal(str_at(j, "params", "bs"), "32");
	assert_string_equal(str_at(j, "params", "lr"), "0.01");
	assert_null(json_object_get(json_object_get(j, "tags"), "a"));
	assert_string_equal(str_at(j, "tags", "b"), "2");
	assert_true(json_is_string(json_object_get(j, "ended_at")));
	json_decref(j);
	/* params never change */
	h_expect_error(&S, "PATCH", path, ALICE, "{\"params\":{\"lr\":\"0.1\",\"new\":\"x\"}}", 409, "params.lr");
	j = h_call(&S, "GET", path, ALICE, NULL, 200);
	assert_string_equal(str_at(j, "params", "lr"), "0.01");
	assert_null(json_object_get(json_object_get(j, "params"), "new")); /* nothing of the patch stayed */
	json_decref(j);
	/* running again clears ended_at */
	j = h_call(&S, "PATCH", path, ALICE, "{\"status\":\"running\"}", 200);
	assert_true(json_is_null(json_object_get(j, "ended_at")));
	json_decref(j);
	/* a job token of the project may update its run (not another run of the project); one of
	 * another project may not see it */
	h_expect_error(&S, "PATCH", path, job, "{\"status\":\"failed\"}", 404, NULL);
	job_owns(id);
	json_decref(h_call(&S, "PATCH", path, job, "{\"status\":\"failed\"}", 200));
	h_expect_error(&S, "PATCH", path, other_job, "{\"status\":\"failed\"}", 404, NULL);

	/* bad input names the field */
	h_expect_error(&S, "PATCH", path, ALICE, "{\"status\":\"done\"}", 400, "status");
	h_expect_error(&S, "PATCH", path, ALICE, "{\"status\":null}", 400, "status");
	h_expect_error(&S, "PATCH", path, ALICE, "{\"tags\":{\"x\":5}}", 400, "tags.x");
	h_expect_error(&S, "PATCH", path, ALICE, "{\"tags\":[]}", 400, "tags");
	h_expect_error(&S, "PATCH", path, ALICE, "{\"params\":{\"x\":5}}", 400, "params.x");
	h_expect_error(&S, "PATCH", path, ALICE, "{\"params\":{\"x\":null}}", 400, "params.x");
	h_expect_error(&S, "PATCH", path, ALICE, "{\"bogus\":1}", 400, "bogus");
	h_expect_error(&S, "PATCH", path, ALICE, "{\"name\":7}", 400, "name");
	h_expect_error(&S, "GET", "/api/v1/runs/abc", ALICE, NULL, 400, "run");
	h_expect_error(&S, "GET", "/api/v1/runs/0", ALICE, NULL, 400, "run");
	h_expect_error(&S, "GET", "/api/v1/runs/999999", ALICE, NULL, 404, NULL);
	h_expect_error(&S, "PATCH", "/api/v1/runs/999999", ALICE, "{}", 404, NULL);
}

static void test_access(void **state)
{
	int64_t id = new_run("vision", ALICE, "{\"name\":\"private\"}");
	int64_t open_id = new_run("open", ALICE, "{\"name\":\"shared\"}");
	char run[64], orun[64];
	(void)state;

	snprintf(run, sizeof(run), "/api/v1/runs/%lld", (long long)id);
	snprintf(orun, sizeof(orun), "/api/v1/runs/%lld", (long long)open_id);
	job_owns(id);
	job_owns(open_id);
	json_decref(h_call(&S, "POST", h_fmt("%s/metrics", run), ALICE, "{\"metrics\":[{\"key\":\"a\",\"value\":1}]}",
			   200));
	/* a stranger sees nothing of a private project */
	h_expect_error(&S, "GET", run, EVE, NULL, 404, NULL);
	h_expect_error(&S, "PATCH", run, EVE, "{\"name\":\"x\"}", 404, NULL);
	h_expect_error(&S, "DELETE", run, EVE, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/metrics", run), EVE, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/metrics/a", run), EVE, NULL, 404, NULL);
	h_expect_error(&S, "POST", h_fmt("%s/metrics", run), EVE, "{\"metrics\":[]}", 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/artifacts", run), EVE, NULL, 404, NULL);
	h_expect_error(&S, "PUT", h_fmt("%s/artifacts/x.txt", run), EVE, "x", 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/vision/runs", EVE, NULL, 404, NULL);
	/* a viewer reads, never writes */
	json_decref(h_call(&S, "GET", run, BOB, NULL, 200));
	json_decref(h_call(&S, "GET", h_fmt("%s/metrics", run), BOB, NULL, 200));
	json_decref(h_call(&S, "GET", h_fmt("%s/metrics/a", run), BOB, NULL, 200));
	json_decref(h_call(&S, "GET", h_fmt("%s/artifacts", run), BOB, NULL, 200));
	json_decref(h_call(&S, "GET", "/api/v1/projects/vision/runs", BOB, NULL, 200));
	h_expect_error(&S, "PATCH", run, BOB, "{\"name\":\"x\"}", 403, NULL);
	h_expect_error(&S, "DELETE", run, BOB, NULL, 403, NULL);
	h_expect_error(&S, "POST", h_fmt("%s/metrics", run), BOB, "{\"metrics\":[]}", 403, NULL);
	h_expect_error(&S, "PUT", h_fmt("%s/artifacts/x.txt", run), BOB, "x", 403, NULL);
	h_expect_error(&S, "DELETE", h_fmt("%s/artifacts/x.txt", run), BOB, NULL, 403, NULL);
	/* an internal project is readable by every user, writable by its members only */
	json_decref(h_call(&S, "GET", orun, EVE, NULL, 200));
	json_decref(h_call(&S, "GET", "/api/v1/projects/open/runs", EVE, NULL, 200));
	h_expect_error(&S, "POST", h_fmt("%s/metrics", orun), EVE, "{\"metrics\":[]}", 403, NULL);
	h_expect_error(&S, "PATCH", orun, EVE, "{\"name\":\"x\"}", 403, NULL);
	/* job tokens: their own project only, and never DELETE */
	json_decref(
		h_call(&S, "POST", h_fmt("%s/metrics", run), job, "{\"metrics\":[{\"key\":\"a\",\"value\":2}]}", 200));
	json_decref(h_call(&S, "GET", h_fmt("%s/metrics/a", run), job, NULL, 200));
	h_expect_error(&S, "POST", h_fmt("%s/metrics", run), other_job, "{\"metrics\":[]}", 404, NULL);
	h_expect_error(&S, "GET", run, other_job, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", run, job, NULL, 403, NULL);
	json_decref(h_call(&S, "POST", h_fmt("%s/metrics", orun), other_job,
			   "{\"metrics\":[{\"key\":\"a\",\"value\":2}]}", 200));
	/* no token */
	h_expect_error(&S, "GET", run, NULL, NULL, 401, NULL);
	h_expect_error(&S, "POST", h_fmt("%s/metrics", run), NULL, "{\"metrics\":[]}", 401, NULL);
}

static void test_delete(void **state)
{
	int64_t id = new_run("vision", ALICE, "{\"name\":\"doomed\",\"params\":{\"p\":\"1\"}}");
	char run[64];
	json_t *j;
	(void)state;

	snprintf(run, sizeof(run), "/api/v1/runs/%lld", (long long)id);
	json_decref(h_call(&S, "POST", h_fmt("%s/metrics", run), ALICE, "{\"metrics\":[{\"key\":\"a\",\"value\":1}]}",
			   200));
	json_decref(h_call(&S, "PUT", h_fmt("%s/artifacts/model.bin", run), ALICE, "weights", 201));
	assert_int_equal(h_sh("test -n \"$(ls %s/blobs)\"", S.dir), 0);
	json_decref(h_call(&S, "DELETE", run, ALICE, NULL, 204));
	h_expect_error(&S, "GET", run, ALICE, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/metrics/a", run), ALICE, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/artifacts/model.bin", run), ALICE, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", run, ALICE, NULL, 404, NULL);
	j = h_call(&S, "GET", "/api/v1/projects/vision/runs?filter=params.p%3D1", ALICE, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);

	/* a run that a model version names as its source stays; ids are never reused (the deleted
	 * run was the newest: its id would be the next without AUTOINCREMENT) */
	{
		int64_t doomed = id;
		id = new_run("vision", ALICE, "{\"name\":\"source\"}");
		assert_true(id > doomed);
	}
	snprintf(run, sizeof(run), "/api/v1/runs/%lld", (long long)id);
	/* the registry's table, or a stand-in where it is not built yet (this connection does not
	 * enforce foreign keys, so model 999 need not exist) */
	db_exec("CREATE TABLE IF NOT EXISTS model_versions (id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL,"
		" version INTEGER NOT NULL, source_run_id INTEGER, created_at INTEGER NOT NULL)");
	db_exec(h_fmt(
		"INSERT INTO model_versions(model_id, version, source_run_id, created_at) VALUES (999, 1, %lld, 0)",
		(long long)id));
	h_expect_error(&S, "DELETE", run, ALICE, NULL, 409, NULL);
	json_decref(h_call(&S, "GET", run, ALICE, NULL, 200));
}

/* ---- metrics ---- */

static json_t *series(int64_t run, const char *key_path, const char *query)
{
	return h_call(&S, "GET", h_fmt("/api/v1/runs/%lld/metrics/%s%s", (long long)run, key_path, query), BOB, NULL,
		      200);
}

static int64_t count_of(int64_t run, const char *key_path)
{
	struct h_resp r;
	int64_t n;
	h_req(&S, "GET", h_fmt("/api/v1/runs/%lld/metrics/%s", (long long)run, key_path), ALICE, NULL, NULL, &r);
	n = r.status == 404 ? 0 : json_integer_value(json_object_get(r.json, "count"));
	assert_true(r.status == 200 || r.status == 404);
	h_resp_free(&r);
	return n;
}

static void test_metrics_basic(void **state)
{
	int64_t id = new_run("vision", ALICE, "{\"name\":\"m\"}");
	char path[64];
	json_t *j, *items;
	(void)state;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld/metrics", (long long)id);
	j = h_call(&S, "POST", path, ALICE,
		   "{\"metrics\":[{\"key\":\"train/loss\",\"value\":2.5},{\"key\":\"train/loss\",\"value\":1.5},"
		   "{\"key\":\"acc\",\"value\":0.5,\"step\":10,\"timestamp\":\"2026-01-01T00:00:00Z\"},"
		   "{\"key\":\"acc\",\"value\":0.25,\"step\":3,\"timestamp\":1767225600001}]}",
		   200);
	assert_int_equal(json_integer_value(json_object_get(j, "stored")), 4);
	json_decref(j);
	json_decref(h_call(&S, "POST", path, ALICE, "{\"metrics\":[{\"key\":\"train/loss\",\"value\":0.5}]}", 200));
	json_decref(h_call(&S, "POST", path, ALICE, "{\"metrics\":[]}", 200));

	j = h_call(&S, "GET", path, BOB, NULL, 200);
	items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(str_at(json_array_get(items, 0), "key", NULL), "acc");
	assert_true(json_real_value(json_object_get(json_array_get(items, 0), "last")) == 0.5); /* greatest step */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "last_step")), 10);
	assert_true(json_real_value(json_object_get(json_array_get(items, 0), "min")) == 0.25);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "count")), 3);
	json_decref(j);
	/* keys are paginated by name */
	j = h_call(&S, "GET", h_fmt("%s?limit=1", path), BOB, NULL, 200);
	assert_true(json_is_string(json_object_get(j, "next_cursor")));
	json_t *j2 =
		h_call(&S, "GET", h_fmt("%s?limit=1&cursor=%s", path, str_at(j, "next_cursor", NULL)), BOB, NULL, 200);
	assert_string_equal(str_at(json_array_get(json_object_get(j2, "items"), 0), "key", NULL), "train/loss");
	assert_true(json_is_null(json_object_get(j2, "next_cursor")));
	json_decref(j);
	json_decref(j2);

	/* a key with '/' is percent-encoded in the path; steps default to 0, 1, 2 */
	j = series(id, "train%2Floss", "");
	assert_string_equal(str_at(j, "key", NULL), "train/loss");
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
	assert_false(json_is_true(json_object_get(j, "downsampled")));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "steps"), 2)), 2);
	assert_true(json_number_value(json_array_get(json_object_get(j, "values"), 2)) == 0.5);
	json_decref(j);
	/* out of order steps come back in step order, timestamps as ms */
	j = series(id, "acc", "");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "steps"), 0)), 3);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "timestamps"), 0)), 1767225600001LL);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "timestamps"), 1)), 1767225600000LL);
	json_decref(j);
	/* the run and its list item carry the last values */
	j = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", (long long)id), BOB, NULL, 200);
	assert_true(json_number_value(json_object_get(json_object_get(j, "metrics"), "train/loss")) == 0.5);
	json_decref(j);

	h_expect_error(&S, "GET", h_fmt("%s/nope", path), BOB, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/a%%3Ab", path), BOB, NULL, 400, "key");
	h_expect_error(&S, "GET", h_fmt("%s/acc?max_points=3", path), BOB, NULL, 400, "max_points");
	h_expect_error(&S, "GET", h_fmt("%s/acc?max_points=100001", path), BOB, NULL, 400, "max_points");
	h_expect_error(&S, "GET", h_fmt("%s/acc?max_points=x", path), BOB, NULL, 400, "max_points");
}

static void test_metrics_bad_input(void **state)
{
	int64_t id = new_run("vision", ALICE, "{\"name\":\"bad\"}");
	const char *ok = "{\"key\":\"k\",\"value\":1}";
	char path[64];
	struct h_resp r;
	const char *xml[] = { "Content-Type: application/xml", NULL };
	(void)state;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld/metrics", (long long)id);
#define BAD(point, field) \
	h_expect_error(&S, "POST", path, ALICE, h_fmt("{\"metrics\":[%s,%s,%s]}", ok, ok, point), 400, field)
	BAD("{\"key\":\"k\",\"value\":\"1\"}", "metrics[2].value");
	BAD("{\"key\":\"k\",\"value\":null}", "metrics[2].value");
	BAD("{\"key\":\"k\",\"value\":NaN}", "metrics[2].value");
	BAD("{\"key\":\"k\"}", "metrics[2].value");
	BAD("{\"value\":1}", "metrics[2].key");
	BAD("{\"key\":\"\",\"value\":1}", "metrics[2].key");
	BAD("{\"key\":\"a;b\",\"value\":1}", "metrics[2].key");
	BAD("{\"key\":\"k\",\"value\":1,\"step\":-1}", "metrics[2].step");
	BAD("{\"key\":\"k\",\"value\":1,\"step\":0.5}", "metrics[2].step");
	BAD("{\"key\":\"k\",\"value\":1,\"timestamp\":\"now\"}", "metrics[2].timestamp");
	BAD("{\"key\":\"k\",\"value\":1,\"extra\":true}", "metrics[2].extra");
	BAD("[1]", "metrics[2]");
	h_expect_error(&S, "POST", path, ALICE, "{\"metrics\":[{\"key\":\"k\",\"value\":1},]}", 400, "body");
	h_expect_error(&S, "POST", path, ALICE, "{\"metrics\":[{\"key\":\"k\",\"value\":1}", 400, "body");
	h_expect_error(&S, "POST", path, ALICE, "{}", 400, "metrics");
	h_expect_error(&S, "POST", path, ALICE, "{\"metrics\":{}}", 400, "metrics");
	h_expect_error(&S, "POST", path, ALICE, "{\"metrics\":[],\"x\":1}", 400, "x");
	h_expect_error(&S, "POST", path, ALICE, "[]", 400, "body");
	h_expect_error(&S, "POST", path, ALICE, "", 400, "body");
	h_req(&S, "POST", path, ALICE, "{\"metrics\":[]}", xml, &r);
	assert_int_equal(r.status, 415);
	h_resp_free(&r);
	h_req(&S, "POST", path, ALICE, "{\"metrics\":[{\"key\":\"k\",\"value\":1},]}", NULL, &r);
	assert_string_equal(str_at(json_object_get(r.json, "error"), "code", NULL), "invalid_json");
	h_resp_free(&r);
	/* nothing of any of these was stored */
	assert_int_equal(count_of(id, "k"), 0);
}

/* {"metrics": [...]} with n points of key; value i unless bad_at names a point to spoil. */
static char *big_batch(const char *key, int n, int first_step, long bad_at)
{
	size_t cap = 64 + (size_t)n * 80, len = 0;
	char *b = malloc(cap);
	len += (size_t)snprintf(b + len, cap - len, "{\"metrics\":[");
	for (int i = 0; i < n; i++) {
		double v = sin(i / 100.0);
		if (i == 4321)
			v = 1000.0; /* a spike */
		if (i == 777)
			v = -1000.0; /* a dip */
		if (i == bad_at)
			len += (size_t)snprintf(b + len, cap - len, "%s{\"key\":\"%s\",\"value\":\"oops\"}",
						i ? "," : "", key);
		else
			len += (size_t)snprintf(b + len, cap - len, "%s{\"key\":\"%s\",\"value\":%.17g,\"step\":%d}",
						i ? "," : "", key, v, first_step + i);
	}
	snprintf(b + len, cap - len, "]}");
	return b;
}

static void test_metrics_batches(void **state)
{
	int64_t id = new_run("vision", ALICE, "{\"name\":\"big\"}");
	char path[64];
	struct h_resp r;
	char *body;
	json_t *j, *before, *after;
	(void)state;

	snprintf(path, sizeof(path), "/api/v1/runs/%lld/metrics", (long long)id);
	body = big_batch("loss", 10000, 0, -1);
	h_req(&S, "POST", path, ALICE, body, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "stored")), 10000);
	h_resp_free(&r);
	free(body);
	assert_int_equal(count_of(id, "loss"), 10000);

	/* one more than allowed */
	body = big_batch("loss", 10001, 10000, -1);
	h_req(&S, "POST", path, ALICE, body, NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(str_at(json_object_get(r.json, "error"), "field", NULL), "metrics");
	h_resp_free(&r);
	free(body);

	/* a batch with one bad point stores nothing: the series is exactly as before */
	before = series(id, "loss", "?max_points=100000");
	body = big_batch("loss", 9000, 10000, 5000);
	h_req(&S, "POST", path, ALICE, body, NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(str_at(json_object_get(r.json, "error"), "field", NULL), "metrics[5000].value");
	h_resp_free(&r);
	free(body);
	after = series(id, "loss", "?max_points=100000");
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	j = h_call(&S, "GET", path, ALICE, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);

	/* 15,000 points: past the inline limit, so read and formatted on the thread pool */
	body = big_batch("loss", 5000, 10000, -1);
	h_req(&S, "POST", path, ALICE, body, NULL, &r);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
	free(body);
	/* downsampling over HTTP keeps the extremes, the ends and the order */
	j = series(id, "loss", "?max_points=200");
	json_t *steps = json_object_get(j, "steps"), *values = json_object_get(j, "values");
	size_t n = json_array_size(steps);
	bool spike = false, dip = false;
	assert_true(n <= 200 && n > 100);
	assert_true(json_is_true(json_object_get(j, "downsampled")));
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 15000);
	assert_int_equal(json_integer_value(json_object_get(j, "returned")), (json_int_t)n);
	assert_int_equal(json_array_size(values), n);
	assert_int_equal(json_array_size(json_object_get(j, "timestamps")), n);
	assert_int_equal(json_integer_value(json_array_get(steps, 0)), 0);
	assert_int_equal(json_integer_value(json_array_get(steps, n - 1)), 14999);
	for (size_t i = 0; i < n; i++) {
		double v = json_number_value(json_array_get(values, i));
		if (i)
			assert_true(json_integer_value(json_array_get(steps, i - 1)) <
				    json_integer_value(json_array_get(steps, i)));
		spike = spike || v == 1000.0;
		dip = dip || v == -1000.0;
	}
	assert_true(spike);
	assert_true(dip);
	json_decref(j);
	/* the whole series, in order, both ways (inline and off the loop agree) */
	j = series(id, "loss", "?max_points=100000");
	assert_int_equal(json_array_size(json_object_get(j, "steps")), 15000);
	assert_false(json_is_true(json_object_get(j, "downsampled")));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "steps"), 12345)), 12345);
	json_decref(j);
	h_expect_error(&S, "GET", h_fmt("%s/lossy", path), BOB, NULL, 404, NULL);
}

/* ---- search ---- */

#define NBULK 1000

struct bulk {
	int64_t id;
	int lr, bs; /* bs < 0: no such param */
	bool has_acc, has_loss, finished;
	double acc, loss;
};

static struct bulk B[NBULK];
static const char *const lrs[] = { "0.1", "0.01", "0.001" };

static void seed_bulk(void)
{
	static const double accs[] = { 0.5, 0.6, 0.7 };
	static bool done;
	if (done)
		return;
	done = true;
	json_decref(h_call(&S, "POST", "/api/v1/projects", ALICE, "{\"name\":\"bulk\"}", 201));
	for (int i = 0; i < NBULK; i++) {
		struct bulk *b = &B[i];
		char body[256], mbody[256];
		size_t m = 0;
		b->lr = i % 3;
		b->bs = i % 7 == 0 ? -1 : 16 << (i % 4);
		b->finished = i % 4 == 0;
		b->has_acc = i % 5 != 0;
		b->acc = accs[(i * 7) % 3]; /* many ties */
		b->has_loss = i % 3 != 1;
		b->loss = (double)((i * 37) % 101) / 100.0;
		if (b->bs < 0)
			snprintf(body, sizeof(body),
				 "{\"name\":\"b%04d\",\"status\":\"%s\",\"params\":{\"lr\":\"%s\"}}", i,
				 b->finished ? "finished" : "running", lrs[b->lr]);
		else
			snprintf(body, sizeof(body),
				 "{\"name\":\"b%04d\",\"status\":\"%s\",\"params\":{\"lr\":\"%s\",\"bs\":\"%d\"}}", i,
				 b->finished ? "finished" : "running", lrs[b->lr], b->bs);
		b->id = new_run("bulk", ALICE, body);
		m += (size_t)snprintf(mbody + m, sizeof(mbody) - m, "{\"metrics\":[");
		if (b->has_acc)
			m += (size_t)snprintf(mbody + m, sizeof(mbody) - m, "{\"key\":\"acc\",\"value\":%.17g}",
					      b->acc);
		if (b->has_loss)
			m += (size_t)snprintf(mbody + m, sizeof(mbody) - m,
					      "%s{\"key\":\"loss\",\"value\":9},"
					      "{\"key\":\"loss\",\"value\":%.17g}",
					      b->has_acc ? "," : "", b->loss);
		snprintf(mbody + m, sizeof(mbody) - m, "]}");
		json_decref(
			h_call(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", (long long)b->id), ALICE, mbody, 200));
	}
}

static void urlenc(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && n + 4 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
	}
	out[n] = 0;
}

/* Pages through a search of project bulk; returns how many ids it wrote to out (each once). */
static size_t paginate(const char *filter, const char *order, int limit, int64_t *out)
{
	char f[512], o[128], cursor[512] = "";
	size_t n = 0;

	urlenc(filter, f, sizeof(f));
	urlenc(order, o, sizeof(o));
	for (int pages = 0; pages <= NBULK + 1; pages++) {
		json_t *j = h_call(&S, "GET",
				   h_fmt("/api/v1/projects/bulk/runs?filter=%s&order_by=%s&limit=%d%s%s", f, o, limit,
					 *cursor ? "&cursor=" : "", cursor),
				   ALICE, NULL, 200);
		json_t *items = json_object_get(j, "items"), *it, *next = json_object_get(j, "next_cursor");
		size_t i;
		assert_true(json_array_size(items) <= (size_t)limit);
		json_array_foreach(items, i, it)
		{
			int64_t id = json_integer_value(json_object_get(it, "id"));
			for (size_t k = 0; k < n; k++)
				assert_true(out[k] != id); /* each run once */
			assert_true(n < NBULK);
			out[n++] = id;
		}
		if (!json_is_string(next)) {
			json_decref(j);
			return n;
		}
		snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		json_decref(j);
	}
	fail_msg("pagination did not end");
	return 0;
}

enum border { BY_ID, BY_ACC_DESC, BY_LOSS, BY_BS_DESC, BY_NAME };
static enum border ORDER;

/* A present value before a missing one; then the value in the order's direction; then id. */
static int cmp_bulk(const void *pa, const void *pb)
{
	const struct bulk *a = *(const struct bulk *const *)pa, *b = *(const struct bulk *const *)pb;
	int c = 0, sign = 1;
	bool ha = true, hb = true;
	char x[16], y[16];

	switch (ORDER) {
	case BY_ID:
		return a->id < b->id ? 1 : -1;
	case BY_ACC_DESC:
		ha = a->has_acc, hb = b->has_acc, sign = -1;
		c = ha && hb ? (a->acc < b->acc ? -1 : a->acc > b->acc) : 0;
		break;
	case BY_LOSS:
		ha = a->has_loss, hb = b->has_loss;
		c = ha && hb ? (a->loss < b->loss ? -1 : a->loss > b->loss) : 0;
		break;
	case BY_BS_DESC:
		ha = a->bs >= 0, hb = b->bs >= 0, sign = -1;
		snprintf(x, sizeof(x), "%d", a->bs);
		snprintf(y, sizeof(y), "%d", b->bs);
		c = ha && hb ? strcmp(x, y) : 0; /* params compare as strings: "128" < "16" */
		break;
	case BY_NAME:
		break; /* names b0000.. follow ids */
	}
	if (ha != hb)
		return ha ? -1 : 1;
	if (c)
		return c * sign;
	return (a->id < b->id ? -1 : 1) * sign;
}

static bool f_none(const struct bulk *b)
{
	(void)b;
	return true;
}
static bool f_lr(const struct bulk *b)
{
	return b->lr == 1;
}
static bool f_acc_finished(const struct bulk *b)
{
	return b->has_acc && b->acc >= 0.6 && b->finished;
}
static bool f_bs16(const struct bulk *b)
{
	return b->bs == 16;
}
static bool f_loss_lr(const struct bulk *b)
{
	return b->has_loss && b->loss < 0.3 && b->lr != 0;
}

static void check_search(const char *filter, bool (*pred)(const struct bulk *), const char *order, enum border ord,
			 int limit)
{
	static const struct bulk *want[NBULK];
	static int64_t got[NBULK];
	size_t nw = 0, ng;

	for (int i = 0; i < NBULK; i++)
		if (pred(&B[i]))
			want[nw++] = &B[i];
	ORDER = ord;
	qsort(want, nw, sizeof(want[0]), cmp_bulk);
	ng = paginate(filter, order, limit, got);
	if (ng != nw)
		fail_msg("filter '%s' order '%s': %zu runs, want %zu", filter, order, ng, nw);
	for (size_t i = 0; i < nw; i++)
		if (want[i]->id != got[i])
			fail_msg("filter '%s' order '%s' limit %d: item %zu is run %lld, want %lld", filter, order,
				 limit, i, (long long)got[i], (long long)want[i]->id);
}

static void test_search(void **state)
{
	json_t *j;
	(void)state;

	seed_bulk();
	/* every run exactly once, across pages, ordered by a metric with ties and gaps */
	check_search("", f_none, "metrics.acc:desc", BY_ACC_DESC, 37);
	check_search("", f_none, "", BY_ID, 100);
	check_search("params.lr = 0.01", f_lr, "metrics.loss", BY_LOSS, 50);
	check_search("metrics.acc >= 0.6 and status = finished", f_acc_finished, "metrics.acc:desc", BY_ACC_DESC, 20);
	check_search("params.bs = 16", f_bs16, "name", BY_NAME, 30);
	check_search("", f_none, "params.bs:desc", BY_BS_DESC, 111);
	check_search("metrics.loss < 0.3 AND params.lr != 0.1", f_loss_lr, "metrics.loss", BY_LOSS, 9);

	/* items carry params, tags and metric summaries */
	j = h_call(&S, "GET", "/api/v1/projects/bulk/runs?limit=1&order_by=name", ALICE, NULL, 200);
	json_t *it = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(str_at(it, "name", NULL), "b0000");
	assert_string_equal(str_at(it, "params", "lr"), "0.1");
	assert_true(json_is_object(json_object_get(it, "tags")));
	assert_true(json_number_value(json_object_get(json_object_get(it, "metrics"), "loss")) == B[0].loss);
	json_decref(j);

	/* bad queries are 400 naming the parameter, never an SQL error */
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?filter=params.lr%3D%3D1", ALICE, NULL, 400, "filter");
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?filter=lr%3D1", ALICE, NULL, 400, "filter");
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?filter=metrics.acc%3Dhigh", ALICE, NULL, 400, "filter");
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?filter=status%3Ddone", ALICE, NULL, 400, "filter");
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?order_by=metrics.acc%3Bdrop", ALICE, NULL, 400,
		       "order_by");
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?order_by=id", ALICE, NULL, 400, "order_by");
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?cursor=bm9wZQ", ALICE, NULL, 400, "cursor");
	h_expect_error(&S, "GET", "/api/v1/projects/bulk/runs?limit=0", ALICE, NULL, 400, "limit");
	/* a cursor from another order */
	j = h_call(&S, "GET", "/api/v1/projects/bulk/runs?limit=2&order_by=name", ALICE, NULL, 200);
	h_expect_error(
		&S, "GET",
		h_fmt("/api/v1/projects/bulk/runs?order_by=metrics.acc&cursor=%s", str_at(j, "next_cursor", NULL)),
		ALICE, NULL, 400, "cursor");
	json_decref(j);
	/* quotes are data */
	j = h_call(&S, "GET", "/api/v1/projects/bulk/runs?filter=params.lr%3D%221%27%20OR%20%271%27%3D%271%22", ALICE,
		   NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
}

/* ---- artifacts ---- */

static void test_artifacts(void **state)
{
	int64_t id = new_run("vision", ALICE, "{\"name\":\"art\"}"),
		id2 = new_run("vision", ALICE, "{\"name\":\"art2\"}");
	char base[64];
	const char *range[] = { "Range: bytes=2-5", NULL };
	const char *badsum[] = { "X-Content-SHA256: 0000000000000000000000000000000000000000000000000000000000000000",
				 NULL };
	struct h_resp r;
	json_t *j, *k;
	(void)state;

	snprintf(base, sizeof(base), "/api/v1/runs/%lld/artifacts", (long long)id);
	job_owns(id2);
	j = h_call(&S, "PUT", h_fmt("%s/model/weights.bin", base), ALICE, "0123456789", 201);
	assert_int_equal(json_integer_value(json_object_get(j, "size")), 10);
	k = h_call(&S, "PUT", h_fmt("/api/v1/runs/%lld/artifacts/copy.bin", (long long)id2), job, "0123456789", 201);
	/* the same bytes are the same blob */
	assert_string_equal(str_at(j, "sha256", NULL), str_at(k, "sha256", NULL));
	assert_int_equal(h_sh("test -f %s/blobs/%.2s/%s || test -n \"$(find %s/blobs -name '%s*')\"", S.dir,
			      str_at(j, "sha256", NULL), str_at(j, "sha256", NULL), S.dir, str_at(j, "sha256", NULL)),
			 0);
	json_decref(k);

	h_req(&S, "GET", h_fmt("%s/model/weights.bin", base), BOB, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 10);
	assert_memory_equal(r.body, "0123456789", 10);
	assert_string_equal(h_header(&r, "X-Content-SHA256"), str_at(j, "sha256", NULL));
	h_resp_free(&r);
	h_req(&S, "GET", h_fmt("%s/model/weights.bin", base), BOB, NULL, range, &r);
	assert_int_equal(r.status, 206);
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.body, "2345", 4);
	assert_string_equal(h_header(&r, "Content-Range"), "bytes 2-5/10");
	h_resp_free(&r);
	json_decref(j);

	j = h_call(&S, "GET", base, BOB, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_string_equal(str_at(json_array_get(json_object_get(j, "items"), 0), "path", NULL), "model/weights.bin");
	json_decref(j);

	/* replace, checksum mismatch, bad paths */
	json_decref(h_call(&S, "PUT", h_fmt("%s/model/weights.bin", base), ALICE, "new bytes", 201));
	h_req(&S, "PUT", h_fmt("%s/x.bin", base), ALICE, "abc", badsum, &r);
	assert_int_equal(r.status, 400);
	h_resp_free(&r);
	h_expect_error(&S, "GET", h_fmt("%s/x.bin", base), ALICE, NULL, 404, NULL);
	h_expect_error(&S, "PUT", h_fmt("%s/a/%%2e%%2e/b", base), ALICE, "x", 400, "path");
	h_expect_error(&S, "PUT", h_fmt("%s/a//b", base), ALICE, "x", 400, "path");
	h_expect_error(&S, "GET", h_fmt("%s/missing.txt", base), BOB, NULL, 404, NULL);

	json_decref(h_call(&S, "DELETE", h_fmt("%s/model/weights.bin", base), ALICE, NULL, 204));
	h_expect_error(&S, "DELETE", h_fmt("%s/model/weights.bin", base), ALICE, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/model/weights.bin", base), ALICE, NULL, 404, NULL);
	j = h_call(&S, "GET", base, BOB, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
}

/* ---- the code version: git_commit and git_dirty at creation ---- */

static void test_git(void **state)
{
	json_t *j;
	(void)state;

	j = h_call(
		&S, "POST", "/api/v1/projects/vision/runs", ALICE,
		"{\"name\":\"coded\",\"git_commit\":\"3f2a9c1e0b7d4a6f8e5c2b1a0d9e8f7c6b5a4d3e\",\"git_dirty\":true}",
		201);
	assert_string_equal(str_at(j, "git_commit", NULL), "3f2a9c1e0b7d4a6f8e5c2b1a0d9e8f7c6b5a4d3e");
	assert_true(json_is_true(json_object_get(j, "git_dirty")));
	int64_t id = id_of(j);
	/* the run and the list show it */
	j = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", (long long)id), BOB, NULL, 200);
	assert_true(json_is_true(json_object_get(j, "git_dirty")));
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/projects/vision/runs?filter=name%20%3D%20coded", BOB, NULL, 200);
	assert_string_equal(str_at(json_array_get(json_object_get(j, "items"), 0), "git_commit", NULL),
			    "3f2a9c1e0b7d4a6f8e5c2b1a0d9e8f7c6b5a4d3e");
	json_decref(j);
	/* a clean tree, an abbreviated hash */
	j = h_call(&S, "POST", "/api/v1/projects/vision/runs", ALICE,
		   "{\"git_commit\":\"3F2A9C1\",\"git_dirty\":false}", 201);
	assert_string_equal(str_at(j, "git_commit", NULL), "3F2A9C1");
	assert_true(json_is_false(json_object_get(j, "git_dirty")));
	json_decref(j);
	/* not given: null */
	j = h_call(&S, "POST", "/api/v1/projects/vision/runs", ALICE, "{\"name\":\"uncoded\"}", 201);
	assert_true(json_is_null(json_object_get(j, "git_commit")));
	assert_true(json_is_null(json_object_get(j, "git_dirty")));
	json_decref(j);
	/* bad input names its field */
	h_expect_error(&S, "POST", "/api/v1/projects/vision/runs", ALICE, "{\"git_commit\":\"main\"}", 400,
		       "git_commit");
	h_expect_error(&S, "POST", "/api/v1/projects/vision/runs", ALICE, "{\"git_commit\":\"abc\"}", 400,
		       "git_commit");
	h_expect_error(&S, "POST", "/api/v1/projects/vision/runs", ALICE, "{\"git_commit\":\"abcd;rm\"}", 400,
		       "git_commit");
	h_expect_error(&S, "POST", "/api/v1/projects/vision/runs", ALICE, "{\"git_commit\":12345}", 400, "git_commit");
	h_expect_error(&S, "POST", "/api/v1/projects/vision/runs", ALICE, "{\"git_dirty\":\"yes\"}", 400, "git_dirty");
	/* no permission: a viewer cannot create runs */
	h_expect_error(&S, "POST", "/api/v1/projects/vision/runs", BOB, "{\"git_commit\":\"abcd\"}", 403, NULL);
}

/* ---- several runs' series in one call: GET /projects/{project}/metrics ---- */

static json_t *find_series(json_t *answer, int64_t run, const char *key)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(answer, "series"), i, s)
	{
		if (json_integer_value(json_object_get(s, "run")) == run &&
		    !strcmp(json_string_value(json_object_get(s, "key")), key))
			return s;
	}
	return NULL;
}

static void test_metrics_many(void **state)
{
	int64_t a = new_run("vision", ALICE, "{\"name\":\"many-a\"}"),
		b = new_run("vision", ALICE, "{\"name\":\"many-b\"}");
	int64_t other = new_run("open", ALICE, "{\"name\":\"elsewhere\"}");
	json_t *j, *s;
	(void)state;

	/* a: 2,000 points of loss and 3 of val/acc; b: 5 points of loss only */
	for (int batch = 0; batch < 2; batch++) {
		char *body = malloc(200000);
		size_t n = (size_t)snprintf(body, 200000, "{\"metrics\":[");
		for (int i = 0; i < 1000; i++)
			n += (size_t)snprintf(body + n, 200000 - n, "%s{\"key\":\"loss\",\"value\":%d,\"step\":%d}",
					      i ? "," : "", batch * 1000 + i, batch * 1000 + i);
		snprintf(body + n, 200000 - n, "]}");
		json_decref(h_call(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", (long long)a), ALICE, body, 200));
		free(body);
	}
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", (long long)a), ALICE,
			   "{\"metrics\":[{\"key\":\"val/acc\",\"value\":0.5},{\"key\":\"val/acc\",\"value\":0.75},"
			   "{\"key\":\"val/acc\",\"value\":0.25}]}",
			   200));
	json_decref(
		h_call(&S, "POST", h_fmt("/api/v1/runs/%lld/metrics", (long long)b), ALICE,
		       "{\"metrics\":[{\"key\":\"loss\",\"value\":5},{\"key\":\"loss\",\"value\":4},{\"key\":\"loss\","
		       "\"value\":3},{\"key\":\"loss\",\"value\":2},{\"key\":\"loss\",\"value\":1}]}",
		       200));

	/* a viewer reads both runs' series in one call, downsampled; (b, val/acc) has none */
	j = h_call(&S, "GET",
		   h_fmt("/api/v1/projects/vision/metrics?runs=%lld,%lld&keys=loss,val/acc&max_points=100",
			 (long long)a, (long long)b),
		   BOB, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "max_points")), 100);
	assert_int_equal(json_array_size(json_object_get(j, "series")), 3);
	s = find_series(j, a, "loss");
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 2000);
	assert_true(json_is_true(json_object_get(s, "downsampled")));
	assert_true(json_array_size(json_object_get(s, "values")) <= 100);
	assert_int_equal(json_array_size(json_object_get(s, "steps")), json_array_size(json_object_get(s, "values")));
	/* the extremes are kept */
	assert_true(json_number_value(json_array_get(json_object_get(s, "values"), 0)) == 0);
	{
		json_t *v = json_object_get(s, "values");
		assert_true(json_number_value(json_array_get(v, json_array_size(v) - 1)) == 1999);
	}
	s = find_series(j, a, "val/acc");
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 3);
	assert_true(json_number_value(json_array_get(json_object_get(s, "values"), 1)) == 0.75);
	s = find_series(j, b, "loss");
	assert_non_null(s);
	assert_false(json_is_true(json_object_get(s, "downsampled")));
	assert_true(json_number_value(json_array_get(json_object_get(s, "values"), 4)) == 1);
	assert_null(find_series(j, b, "val/acc"));
	json_decref(j);
	/* the same as the one-series endpoint gives */
	j = h_call(&S, "GET", h_fmt("/api/v1/projects/vision/metrics?runs=%lld&keys=loss,loss", (long long)b), BOB,
		   NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "series")), 1); /* a key named twice counts once */
	assert_int_equal(json_integer_value(json_object_get(j, "max_points")), 500);
	json_decref(j);

	/* bad input names its field */
	const char *m = "/api/v1/projects/vision/metrics";
	h_expect_error(&S, "GET", h_fmt("%s?keys=loss", m), BOB, NULL, 400, "runs");
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld", m, (long long)a), BOB, NULL, 400, "keys");
	h_expect_error(&S, "GET", h_fmt("%s?runs=x&keys=loss", m), BOB, NULL, 400, "runs");
	h_expect_error(&S, "GET", h_fmt("%s?runs=1,,2&keys=loss", m), BOB, NULL, 400, "runs");
	h_expect_error(&S, "GET", h_fmt("%s?runs=-1&keys=loss", m), BOB, NULL, 400, "runs");
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld&keys=a%%3Ab", m, (long long)a), BOB, NULL, 400, "keys");
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld&keys=loss,", m, (long long)a), BOB, NULL, 400, "keys");
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld&keys=loss&max_points=3", m, (long long)a), BOB, NULL, 400,
		       "max_points");
	h_expect_error(&S, "GET", h_fmt("%s?runs=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21&keys=loss", m),
		       BOB, NULL, 400, "runs");
	/* a run of another project, or none */
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld,%lld&keys=loss", m, (long long)a, (long long)other), BOB, NULL,
		       404, "runs");
	h_expect_error(&S, "GET", h_fmt("%s?runs=99999999&keys=loss", m), BOB, NULL, 404, "runs");
	/* no permission: a stranger does not see the project; no token */
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld&keys=loss", m, (long long)a), EVE, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld&keys=loss", m, (long long)a), NULL, NULL, 401, NULL);
	/* job tokens reach their own runs only (issue 17, item 9): this reads any run of the project */
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld&keys=loss", m, (long long)a), job, NULL, 403, NULL);
	h_expect_error(&S, "GET", h_fmt("%s?runs=%lld&keys=loss", m, (long long)a), other_job, NULL, 403, NULL);
}

/* Last: the daemon stops cleanly after all of the above (under ASan: no leak, no error). */
static void test_clean_shutdown(void **state)
{
	(void)state;
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	assert_int_not_equal(h_sh("grep -q 'Sanitizer' %s/server.log", S.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_patch),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_metrics_basic),
		cmocka_unit_test(test_metrics_bad_input),
		cmocka_unit_test(test_metrics_batches),
		cmocka_unit_test(test_metrics_many),
		cmocka_unit_test(test_git),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_artifacts),
		cmocka_unit_test(test_clean_shutdown),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
