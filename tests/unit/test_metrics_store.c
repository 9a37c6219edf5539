/*
 * test_metrics_store.c: metric series in a real database (the real migrations): appends of
 * every size read back exactly (also across chunk boundaries and out of step order), the
 * summary rows, default steps and timestamps, the chunk layout invariants, all-or-nothing
 * batches, and the cascade when a run is deleted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_metrics.h"
#include "atrium/store_projects.h"
#include "atrium/store_runs.h"

static char dir[64];
static struct atr_store *S;
static int64_t project, run;

static int setup(void **state)
{
	struct atr_run_spec spec = { 0 };
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/atrium-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(atr_store_open(dir, 0, &S), 0);
	assert_int_equal(atr_store_project_create(S, "p", "", 0, false, NULL, 0, &project), 0);
	spec.project_id = project;
	assert_int_equal(atr_store_run_create(S, &spec, &run), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	atr_store_close(S);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Appends points (key k, values v, steps s or -1, ts t or -1) through the JSON parser. */
static int append(int64_t run_id, const char *key, const double *v, const int64_t *steps, size_t n, int64_t now)
{
	struct atr_metric_batch b;
	size_t cap = 64 + n * 96, len = 0, stored = 0;
	char *json = malloc(cap);
	int rc;

	len += (size_t)snprintf(json + len, cap - len, "{\"metrics\":[");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(json + len, cap - len, "%s{\"key\":\"%s\",\"value\":%.17g", i ? "," : "", key,
					v[i]);
		if (steps && steps[i] >= 0)
			len += (size_t)snprintf(json + len, cap - len, ",\"step\":%lld", (long long)steps[i]);
		len += (size_t)snprintf(json + len, cap - len, "}");
	}
	snprintf(json + len, cap - len, "]}");
	atr_metric_batch_init(&b);
	assert_int_equal(atr_metric_batch_parse(&b, json, strlen(json), 10000), 0);
	rc = atr_store_metrics_append(S, run_id, project, &b, now, &stored);
	if (rc == 0)
		assert_int_equal(stored, n);
	atr_metric_batch_release(&b);
	free(json);
	return rc;
}

static int64_t one(const char *sql, int64_t arg)
{
	sqlite3_stmt *st = atr_db_stmt(S->db, sql);
	int64_t v = -1;
	assert_non_null(st);
	sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return v;
}

/* Every chunk of the series but its tail is full; the tail has room for tail_n. */
static void check_chunks(const char *key)
{
	sqlite3_stmt *st = atr_db_stmt(S->db, "SELECT m.id, m.tail_id, m.tail_n, m.count FROM run_metrics m"
					      " WHERE m.run_id = ? AND m.key = ?");
	int64_t id, tail, tail_n, count, total = 0;
	assert_non_null(st);
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	id = sqlite3_column_int64(st, 0);
	tail = sqlite3_column_int64(st, 1);
	tail_n = sqlite3_column_int64(st, 2);
	count = sqlite3_column_int64(st, 3);
	atr_db_done(st);
	st = atr_db_stmt(S->db, "SELECT id, length(data) FROM metric_chunks WHERE series_id = ? ORDER BY id");
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t cid = sqlite3_column_int64(st, 0), bytes = sqlite3_column_int64(st, 1);
		assert_int_equal(bytes % ATR_METRIC_REC, 0);
		if (cid == tail) {
			assert_true(bytes >= tail_n * ATR_METRIC_REC);
			total += tail_n;
		} else {
			assert_int_equal(bytes, ATR_METRIC_CHUNK_POINTS * ATR_METRIC_REC);
			assert_true(cid < tail);
			total += ATR_METRIC_CHUNK_POINTS;
		}
	}
	atr_db_done(st);
	assert_int_equal(total, count);
}

static void test_appends_read_back(void **state)
{
	/* batch sizes crossing the small-tail growth and the 1024-point chunk boundaries */
	static const size_t sizes[] = { 1, 1, 2, 5, 100, 1, 1000, 1023, 1, 3000, 7, 1024, 2048, 1 };
	size_t total = 0, n, n2;
	double *v = malloc(20000 * sizeof(*v));
	struct atr_metric_pt *pts, *pts2;
	bool in_order;
	(void)state;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t i = 0; i < sizes[s]; i++)
			v[total + i] = (double)(total + i) * 0.5 - 3.25;
		assert_int_equal(append(run, "loss", v + total, NULL, sizes[s], 1000 + (int64_t)s), 0);
		total += sizes[s];
		check_chunks("loss");
	}
	assert_int_equal(atr_store_metric_read(S, run, "loss", &pts, &n, &in_order), 0);
	assert_true(in_order);
	assert_int_equal(n, total);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(pts[i].step, (int64_t)i); /* default steps: 0, 1, 2, ... */
		assert_true(pts[i].value == v[i]);
	}
	assert_int_equal(pts[0].ts, 1000);
	assert_int_equal(pts[n - 1].ts, 1000 + 13);
	/* a worker thread's private connection reads the same */
	assert_int_equal(atr_store_metric_read_at(S->db_path, run, "loss", &pts2, &n2, &in_order), 0);
	assert_int_equal(n2, n);
	assert_memory_equal(pts2, pts, n * sizeof(*pts));
	free(pts2);
	assert_int_equal(atr_store_metric_read_at(S->db_path, run, "nope", &pts2, &n2, &in_order), ATR_ENOTFOUND);
	assert_int_equal(atr_store_metric_read_at("/nonexistent/x.db", run, "loss", &pts2, &n2, &in_order), ATR_EDB);
	free(pts);
	/* the summary */
	int err;
	json_t *sum = atr_store_metric_summary(S, run, "loss", &err);
	assert_non_null(sum);
	assert_int_equal(json_integer_value(json_object_get(sum, "count")), (json_int_t)total);
	assert_int_equal(json_integer_value(json_object_get(sum, "last_step")), (json_int_t)total - 1);
	assert_true(json_real_value(json_object_get(sum, "last")) == v[total - 1]);
	assert_true(json_real_value(json_object_get(sum, "min")) == v[0]);
	assert_true(json_real_value(json_object_get(sum, "max")) == v[total - 1]);
	json_decref(sum);
	assert_int_equal(atr_store_metric_read(S, run, "nope", &pts, &n, &in_order), ATR_ENOTFOUND);
	free(v);
}

static void test_out_of_order(void **state)
{
	double v[] = { 1, 2, 3, 4, 5, 6 };
	int64_t steps[] = { 10, 5, 10, -1, 0, 7 };
	struct atr_metric_pt *pts;
	size_t n;
	bool in_order;
	int err;
	(void)state;

	assert_int_equal(append(run, "acc", v, steps, 6, 5), 0);
	/* the default step after 10 is 11; last is the value at the greatest step, the later
	 * one among equal steps (3 at step 10, then 4 at step 11) */
	assert_int_equal(atr_store_metric_read(S, run, "acc", &pts, &n, &in_order), 0);
	assert_false(in_order);
	assert_int_equal(atr_metric_sort(pts, n), 0);
	assert_int_equal(n, 6);
	int64_t want_steps[] = { 0, 5, 7, 10, 10, 11 };
	double want_values[] = { 5, 2, 6, 1, 3, 4 };
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(pts[i].step, want_steps[i]);
		assert_true(pts[i].value == want_values[i]);
	}
	free(pts);
	json_t *sum = atr_store_metric_summary(S, run, "acc", &err);
	assert_true(json_real_value(json_object_get(sum, "last")) == 4);
	assert_int_equal(json_integer_value(json_object_get(sum, "last_step")), 11);
	json_decref(sum);
	assert_int_equal(one("SELECT sorted FROM run_metrics WHERE key = 'acc' AND run_id = ?", run), 0);
	/* a point at a smaller step later does not change last */
	double w = 99;
	int64_t s2 = 3;
	assert_int_equal(append(run, "acc", &w, &s2, 1, 6), 0);
	sum = atr_store_metric_summary(S, run, "acc", &err);
	assert_true(json_real_value(json_object_get(sum, "last")) == 4);
	assert_true(json_real_value(json_object_get(sum, "max")) == 99);
	json_decref(sum);
}

static void test_all_or_nothing(void **state)
{
	double v[3] = { 1, 2, 3 };
	int64_t before = one("SELECT count(*) FROM metric_chunks WHERE ? > 0", 1);
	(void)state;

	/* run 999 does not exist: the foreign key fails, nothing stays */
	assert_int_not_equal(append(999, "x", v, NULL, 3, 1), 0);
	assert_int_equal(one("SELECT count(*) FROM run_metrics WHERE run_id = ?", 999), 0);
	assert_int_equal(one("SELECT count(*) FROM metric_chunks WHERE ? > 0", 1), before);
	/* and the connection is usable (no transaction left open) */
	assert_int_equal(append(run, "x", v, NULL, 3, 1), 0);
	assert_int_equal(one("SELECT count FROM run_metrics WHERE key = 'x' AND run_id = ?", run), 3);
}

static void test_many_keys_one_batch(void **state)
{
	struct atr_metric_batch b;
	char json[64 * 600];
	size_t len = 0, stored;
	(void)state;

	len += (size_t)snprintf(json + len, sizeof(json) - len, "{\"metrics\":[");
	for (int i = 0; i < 500; i++)
		len += (size_t)snprintf(json + len, sizeof(json) - len, "%s{\"key\":\"k/%d\",\"value\":%d,\"step\":%d}",
					i ? "," : "", i % 50, i, i / 50);
	snprintf(json + len, sizeof(json) - len, "]}");
	atr_metric_batch_init(&b);
	assert_int_equal(atr_metric_batch_parse(&b, json, strlen(json), 10000), 0);
	assert_int_equal(atr_store_metrics_append(S, run, project, &b, 1, &stored), 0);
	atr_metric_batch_release(&b);
	assert_int_equal(one("SELECT count(*) FROM run_metrics WHERE key LIKE 'k/%' AND run_id = ?", run), 50);
	assert_int_equal(one("SELECT sum(count) FROM run_metrics WHERE key LIKE 'k/%' AND run_id = ?", run), 500);
	assert_int_equal(one("SELECT last FROM run_metrics WHERE key = 'k/7' AND run_id = ?", run), 457);
}

static void test_delete_cascades(void **state)
{
	struct atr_run_spec spec = { 0 };
	char why[200];
	int64_t r2;
	double v[2] = { 1, 2 };
	(void)state;

	spec.project_id = project;
	assert_int_equal(atr_store_run_create(S, &spec, &r2), 0);
	assert_int_equal(append(r2, "a", v, NULL, 2, 1), 0);
	assert_false(atr_store_run_in_use(S, r2)); /* no model version names it */
	assert_int_equal(atr_store_run_delete(S, r2, NULL, 0), 0);
	assert_int_equal(one("SELECT count(*) FROM run_metrics WHERE run_id = ?", r2), 0);
	assert_int_equal(one("SELECT count(*) FROM metric_chunks c WHERE NOT EXISTS (SELECT 1 FROM run_metrics m"
			     " WHERE m.id = c.series_id) AND ? > 0",
			     1),
			 0);
	assert_int_equal(atr_store_run_delete(S, r2, NULL, 0), ATR_ENOTFOUND);
	/* with a model registry that names the run as a source, it stays */
	assert_int_equal(atr_store_run_create(S, &spec, &r2), 0);
	/* the registry's table, or a stand-in where it is not built yet; model 999 need not exist */
	assert_int_equal(atr_db_exec(S->db, "CREATE TABLE IF NOT EXISTS model_versions (id INTEGER PRIMARY KEY,"
					    " model_id INTEGER NOT NULL, version INTEGER NOT NULL,"
					    " source_run_id INTEGER, created_at INTEGER NOT NULL)"),
			 0);
	assert_int_equal(atr_db_exec(S->db, "PRAGMA foreign_keys=OFF"), 0);
	sqlite3_stmt *st = atr_db_stmt(S->db, "INSERT INTO model_versions(model_id, version, source_run_id, created_at)"
					      " VALUES (999, 1, ?, 0)");
	sqlite3_bind_int64(st, 1, r2);
	assert_int_equal(atr_db_step_write(st), 0);
	assert_int_equal(atr_db_exec(S->db, "PRAGMA foreign_keys=ON"), 0);
	assert_true(atr_store_run_in_use(S, r2));
	assert_int_equal(atr_store_run_delete(S, r2, why, sizeof(why)), ATR_ECONFLICT);
	assert_non_null(strstr(why, "source run of version"));
	assert_false(atr_store_run_in_use(S, run));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appends_read_back), cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_all_or_nothing),	  cmocka_unit_test(test_many_keys_one_batch),
		cmocka_unit_test(test_delete_cascades),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
