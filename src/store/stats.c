/*
 * stats.c: the adoption figures of the admin dashboard, all computed in SQL (counts and
 * per-bucket aggregates over indexed ranges), never by reading rows into C. Not
 * responsible for parsing or checking the range: src/api/stats.c does that.
 */
#include "atrium/store_stats.h"
#include "atrium/store_jobs.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdbool.h>
#include <stdlib.h>

#define ACTIVE ATR_JOBS_ACTIVE("state")

int64_t atr_stats_bucket_start(int64_t ms, int64_t width_ms)
{
	int64_t day = ms / ATR_STATS_DAY_MS;

	if (width_ms != ATR_STATS_WEEK_MS)
		return day * ATR_STATS_DAY_MS;
	/* 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays. */
	return (day - (day + 3) % 7) * ATR_STATS_DAY_MS;
}

/* totals.queue.oldest: the job waiting longest in the queue (since it was last queued), or null. */
static int add_oldest_queued(struct atr_store *s, json_t *totals)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT j.id, p.name AS project, j.name, j.priority,"
		" j.created_at AS submitted_at, j.queued_at, j.pending_reason"
		" FROM jobs j JOIN projects p ON p.id = j.project_id"
		" WHERE " ATR_JOBS_ACTIVE("j.state") " AND j.state = 'queued' ORDER BY j.queued_at, j.id LIMIT 1");
	json_t *oldest;
	int rc;

	if (!st)
		return ATR_EDB;
	oldest = atr_store_one(st, &rc);
	if (!oldest && rc != ATR_ENOTFOUND)
		return rc;
	return json_object_set_new(json_object_get(totals, "queue"), "oldest", oldest ? oldest : json_null()) < 0
		       ? ATR_ENOMEM
		       : 0;
}

/*
 * totals.gpu_hours: GPU time of the current ISO week by team. A job counts its GPUs times the
 * part of [started_at, ended_at] (now while it runs) inside the week; started_at is its latest
 * start. Summed in SQL as integer GPU-milliseconds, made hours here, so clients can check the
 * figure exactly.
 */
static int add_gpu_hours(struct atr_store *s, int64_t now_ms, json_t *totals)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "WITH spans(team_id, gpus, a, b) AS ("
				   " SELECT team_id, gpus, max(started_at, ?1), min(ended_at, ?2) FROM jobs"
				   "  WHERE ended_at > ?1 AND started_at IS NOT NULL AND gpus > 0"
				   " UNION ALL SELECT team_id, gpus, max(started_at, ?1), ?2 FROM jobs"
				   "  WHERE " ACTIVE " AND state = 'running' AND started_at IS NOT NULL AND gpus > 0)"
				   " SELECT t.name AS team, sum(spans.gpus * (b - a)) AS gpu_ms, count(*) AS jobs"
				   " FROM spans LEFT JOIN teams t ON t.id = spans.team_id WHERE b > a"
				   " GROUP BY spans.team_id ORDER BY gpu_ms DESC, t.name");
	json_t *teams = json_array(), *o = NULL, *team;
	int64_t week = atr_stats_bucket_start(now_ms, ATR_STATS_WEEK_MS), total_ms = 0;
	char since[40];
	bool more;
	size_t i;
	int rc;

	if (!teams)
		return ATR_ENOMEM;
	if (!st) {
		rc = ATR_EDB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, week);
	sqlite3_bind_int64(st, 2, now_ms);
	/* One row per team: bounded by the teams table, which the dashboard lists whole too. */
	if ((rc = atr_store_collect(st, 100000, teams, &more)) < 0)
		goto out;
	json_array_foreach(teams, i, team)
	{
		int64_t ms = json_integer_value(json_object_get(team, "gpu_ms"));
		total_ms += ms;
		if (json_object_set_new(team, "hours", json_real((double)ms / 3600000.0)) < 0) {
			rc = ATR_ENOMEM;
			goto out;
		}
		json_object_del(team, "gpu_ms");
	}
	atr_time_format(week, since, sizeof(since));
	o = json_pack("{s:s, s:f, s:O}", "since", since, "total", (double)total_ms / 3600000.0, "by_team", teams);
	rc = o && json_object_set_new(totals, "gpu_hours", o) == 0 ? 0 : ATR_ENOMEM;
out:
	json_decref(teams);
	return rc;
}

/* The object in column "totals" of a one-row statement (new reference), or NULL with *err. */
static json_t *totals_object(sqlite3_stmt *st, int *err)
{
	json_t *row, *totals;

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	row = atr_store_one(st, err);
	if (!row)
		return NULL;
	totals = json_incref(json_object_get(row, "totals"));
	json_decref(row);
	if (!json_is_object(totals)) {
		json_decref(totals);
		*err = ATR_EDB;
		return NULL;
	}
	return totals;
}

/* What exists and who: users, teams, live tokens, projects, datasets, models, pending promotions. */
static json_t *catalog_totals(struct atr_store *s, int64_t now_ms, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT json_object("
		"'users', json_object('total', (SELECT count(*) FROM users),"
		" 'admins', (SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0),"
		" 'disabled', (SELECT count(*) FROM users WHERE disabled <> 0)),"
		"'teams', json_object('total', (SELECT count(*) FROM teams)),"
		"'tokens', json_object("
		" 'active', (SELECT count(*) FROM api_tokens WHERE kind = 'user' AND revoked_at IS NULL"
		"  AND (expires_at IS NULL OR expires_at > ?1)),"
		" 'sessions', (SELECT count(*) FROM api_tokens WHERE kind = 'session' AND revoked_at IS NULL"
		"  AND (expires_at IS NULL OR expires_at > ?1))),"
		"'projects', json_object('total', (SELECT count(*) FROM projects),"
		" 'archived', (SELECT count(*) FROM projects WHERE archived_at IS NOT NULL)),"
		"'datasets', json_object('total', (SELECT count(*) FROM datasets),"
		" 'versions', (SELECT count(*) FROM dataset_versions)),"
		"'models', json_object('total', (SELECT count(*) FROM models),"
		" 'versions', (SELECT count(*) FROM model_versions)),"
		"'promotions', json_object('pending', (SELECT count(*) FROM model_promotions WHERE state = 'pending'))"
		") AS totals__json");

	if (st)
		sqlite3_bind_int64(st, 1, now_ms);
	return totals_object(st, err);
}

/* The capacity and the work on it: workers, GPUs, jobs, the queue's length, deployments. */
static int add_work_totals(struct atr_store *s, json_t *totals)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT json_object("
		/* A subquery's JSON is text to the outer json_object: json() keeps it an object. GPUs
		        * are counted on online workers, as in /metrics (store/workers.c). */
		"'workers', json((SELECT json_object('online', coalesce(sum(state = 'online'), 0),"
		"  'offline', coalesce(sum(state <> 'online'), 0),"
		"  'schedulable', coalesce(sum(state = 'online' AND NOT cordoned AND NOT draining), 0)) FROM workers)),"
		"'gpus', json((SELECT json_object("
		"  'total', coalesce(sum(CASE WHEN state = 'online' THEN json_array_length(gpus) END), 0),"
		"  'busy', coalesce(sum(CASE WHEN state = 'online' THEN (SELECT count(*) FROM json_each(workers.gpus)"
		"   WHERE json_extract(value, '$.busy') = 1) END), 0),"
		/* The GPUs placed jobs hold: what the scheduler counts against the inventory. The
			* ACTIVE term matches the jobs_active partial index. */
		"  'in_use', (SELECT coalesce(sum(gpus), 0) FROM jobs WHERE " ACTIVE
		"   AND state IN ('dispatched', 'running'))) FROM workers)),"
		"'jobs', json((SELECT json_object('total', count(*),"
		"  'queued', coalesce(sum(state = 'queued'), 0), 'dispatched', coalesce(sum(state = 'dispatched'), 0),"
		"  'running', coalesce(sum(state = 'running'), 0), 'succeeded', coalesce(sum(state = 'succeeded'), 0),"
		"  'failed', coalesce(sum(state = 'failed'), 0), 'cancelled', coalesce(sum(state = 'cancelled'), 0),"
		"  'lost', coalesce(sum(state = 'lost'), 0)) FROM jobs)),"
		"'queue', json_object('length', (SELECT count(*) FROM jobs WHERE " ACTIVE " AND state = 'queued')),"
		/* The state the deployment controller last wrote (it writes every change at once). */
		"'deployments', json((SELECT json_object('total', count(*),"
		"  'ready', coalesce(sum(state = 'ready'), 0), 'degraded', coalesce(sum(state = 'degraded'), 0),"
		"  'deploying', coalesce(sum(state = 'deploying'), 0), 'failed', coalesce(sum(state = 'failed'), 0))"
		"  FROM deployments))"
		") AS totals__json");
	int rc;
	json_t *work = totals_object(st, &rc);

	if (!work)
		return rc;
	rc = json_object_update(totals, work) < 0 ? ATR_ENOMEM : 0;
	json_decref(work);
	return rc;
}

json_t *atr_store_stats_totals(struct atr_store *s, int64_t now_ms, int *err)
{
	json_t *totals = catalog_totals(s, now_ms, err);

	if (!totals)
		return NULL;
	if ((*err = add_work_totals(s, totals)) < 0 || (*err = add_oldest_queued(s, totals)) < 0 ||
	    (*err = add_gpu_hours(s, now_ms, totals)) < 0) {
		json_decref(totals);
		return NULL;
	}
	return totals;
}

/*
 * GPU time per bucket, grouped by a column of jobs (col; label: what the row names it by):
 * each job's GPUs times the part of [started_at, ended_at] (until now while it runs) inside
 * the bucket, as in totals.gpu_hours. Each span is cut at the buckets it crosses (cut: one
 * row per span and bucket it touches), so the work grows with the jobs, not jobs x buckets.
 * Rows: i (the bucket's index from ?1), k (the group), gpu_ms; most GPU time first.
 */
#define GPU_SERIES(col, label)                                                                    \
	"WITH RECURSIVE spans(k, gpus, a, e) AS ("                                                \
	"  SELECT " col ", gpus, max(started_at, ?1), min(ended_at, ?3) FROM jobs"                \
	"   WHERE ended_at > ?1 AND started_at IS NOT NULL AND gpus > 0"                          \
	"  UNION ALL SELECT " col ", gpus, max(started_at, ?1), ?3 FROM jobs"                     \
	"   WHERE " ACTIVE " AND state = 'running' AND started_at IS NOT NULL AND gpus > 0),"     \
	" cut(k, gpus, a, e, start) AS (SELECT k, gpus, a, e, ?1 + (a - ?1) / ?2 * ?2 FROM spans" \
	"  WHERE e > a UNION ALL SELECT k, gpus, a, e, start + ?2 FROM cut WHERE start + ?2 < e)" \
	" SELECT (start - ?1) / ?2 AS i, " label " AS k,"                                         \
	" sum(gpus * (min(e, start + ?2) - max(a, start))) AS gpu_ms"                             \
	" FROM cut GROUP BY start, cut.k ORDER BY start, gpu_ms DESC, 2"

static const char *const GPU_BY_TEAM = GPU_SERIES("team_id", "(SELECT name FROM teams WHERE id = cut.k)");
static const char *const GPU_BY_WORKER = GPU_SERIES("worker_id", "cut.k");

/* {key: the group (null: none), "hours": ...} from a row of GPU_SERIES (new reference). */
static json_t *gpu_row(sqlite3_stmt *st, const char *key, int64_t ms)
{
	json_t *k;

	switch (sqlite3_column_type(st, 1)) {
	case SQLITE_INTEGER:
		k = json_integer(sqlite3_column_int64(st, 1));
		break;
	case SQLITE_TEXT:
		k = json_string((const char *)sqlite3_column_text(st, 1));
		break;
	default:
		k = json_null();
	}
	return json_pack("{s:o?, s:f}", key, k, "hours", (double)ms / 3600000.0);
}

/*
 * Adds field (an array of {key, hours}, most hours first; groups with none left out) to each
 * entry of the series arr, and with total, "gpu_hours" (the bucket's GPU time in hours).
 */
static int add_gpu_series(struct atr_store *s, const char *sql, const char *key, const char *field, int64_t since_ms,
			  int64_t until_ms, int64_t width_ms, json_t *arr, bool total)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	size_t n = json_array_size(arr), i;
	int64_t *sum = calloc(n ? n : 1, sizeof(*sum));
	int rc = 0, step = SQLITE_DONE;

	if (!st || !sum) {
		free(sum);
		return st ? ATR_ENOMEM : ATR_EDB;
	}
	for (i = 0; i < n; i++)
		if (json_object_set_new(json_array_get(arr, i), field, json_array()) < 0)
			rc = ATR_ENOMEM;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int64(st, 2, width_ms);
	sqlite3_bind_int64(st, 3, until_ms);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0), ms = sqlite3_column_int64(st, 2);
		json_t *list = json_object_get(json_array_get(arr, (size_t)b), field);
		if (b < 0 || (size_t)b >= n || !list || ms <= 0)
			continue;
		sum[b] += ms;
		if (json_array_append_new(list, gpu_row(st, key, ms)) < 0)
			rc = ATR_ENOMEM;
	}
	if (rc == 0 && step != SQLITE_DONE) {
		atr_error("GPU series query failed: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
		rc = ATR_EDB;
	}
	atr_db_done(st);
	for (i = 0; total && rc == 0 && i < n; i++)
		if (json_object_set_new(json_array_get(arr, i), "gpu_hours", json_real((double)sum[i] / 3600000.0)) < 0)
			rc = ATR_ENOMEM;
	free(sum);
	return rc;
}

static int series_counts(struct atr_store *s, int64_t since_ms, int64_t until_ms, int64_t width_ms, json_t *arr)
{
	/* The recursive CTE makes every bucket, so empty weeks are zeros rather than gaps; each
	 * bucket joins its range of audit_log through the created_at index. Jobs and runs are
	 * counted in one pass each, grouped by the bucket their creation falls in. */
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"WITH RECURSIVE b(start) AS (SELECT ?1 UNION ALL SELECT start + ?2 FROM b"
		" WHERE start + ?2 < ?3 LIMIT ?4),"
		" audit(start, active_users, requests) AS (SELECT b.start, count(DISTINCT a.actor_id), count(a.id)"
		"  FROM b LEFT JOIN audit_log a ON a.created_at >= b.start AND a.created_at < b.start + ?2"
		"  GROUP BY b.start),"
		" jb(start, n) AS (SELECT ?1 + (created_at - ?1) / ?2 * ?2, count(*) FROM jobs"
		"  WHERE created_at >= ?1 AND created_at < ?3 GROUP BY 1),"
		" rb(start, n) AS (SELECT ?1 + (created_at - ?1) / ?2 * ?2, count(*) FROM runs"
		"  WHERE created_at >= ?1 AND created_at < ?3 GROUP BY 1)"
		" SELECT strftime('%Y-%m-%dT%H:%M:%fZ', audit.start / 1000.0, 'unixepoch') AS bucket_start,"
		" audit.active_users, audit.requests, coalesce(jb.n, 0) AS jobs, coalesce(rb.n, 0) AS runs"
		" FROM audit LEFT JOIN jb ON jb.start = audit.start LEFT JOIN rb ON rb.start = audit.start"
		" ORDER BY audit.start");
	bool more;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int64(st, 2, width_ms);
	sqlite3_bind_int64(st, 3, until_ms);
	sqlite3_bind_int(st, 4, ATR_STATS_MAX_BUCKETS);
	return atr_store_collect(st, ATR_STATS_MAX_BUCKETS, arr, &more);
}

int atr_store_stats_series(struct atr_store *s, int64_t since_ms, int64_t until_ms, int64_t width_ms, json_t *arr)
{
	int rc = series_counts(s, since_ms, until_ms, width_ms, arr);

	if (rc == 0)
		rc = add_gpu_series(s, GPU_BY_TEAM, "team", "gpu_hours_by_team", since_ms, until_ms, width_ms, arr,
				    true);
	if (rc == 0)
		rc = add_gpu_series(s, GPU_BY_WORKER, "worker", "gpu_hours_by_worker", since_ms, until_ms, width_ms,
				    arr, false);
	return rc;
}
