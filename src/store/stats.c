/*
 * stats.c: the adoption figures of the admin dashboard, all computed in SQL (counts and
 * per-bucket aggregates over indexed ranges), never by reading rows into C. Not
 * responsible for parsing or checking the range: src/api/stats.c does that.
 */
#include "atrium/store_stats.h"
#include "atrium/db.h"
#include "atrium/err.h"

#include <stdbool.h>

int64_t atr_stats_bucket_start(int64_t ms, int64_t width_ms)
{
	int64_t day = ms / ATR_STATS_DAY_MS;

	if (width_ms != ATR_STATS_WEEK_MS)
		return day * ATR_STATS_DAY_MS;
	/* 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays. */
	return (day - (day + 3) % 7) * ATR_STATS_DAY_MS;
}

json_t *atr_store_stats_totals(struct atr_store *s, int64_t now_ms, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT json_object("
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
		       "'promotions', json_object('pending', (SELECT count(*) FROM model_promotions WHERE state = 'pending')),"
		       /* A subquery's JSON is text to the outer json_object: json() keeps it an object. GPUs
		        * are counted on online workers, as in /metrics (store/workers.c). */
		       "'workers', json((SELECT json_object('online', coalesce(sum(state = 'online'), 0),"
		       "  'offline', coalesce(sum(state <> 'online'), 0),"
		       "  'schedulable', coalesce(sum(state = 'online' AND NOT cordoned AND NOT draining), 0)) FROM workers)),"
		       "'gpus', json((SELECT json_object("
		       "  'total', coalesce(sum(CASE WHEN state = 'online' THEN json_array_length(gpus) END), 0),"
		       "  'busy', coalesce(sum(CASE WHEN state = 'online' THEN (SELECT count(*) FROM json_each(workers.gpus)"
		       "   WHERE json_extract(value, '$.busy') = 1) END), 0)) FROM workers))) AS totals__json");
	json_t *row, *totals;

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, now_ms);
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

int atr_store_stats_series(struct atr_store *s, int64_t since_ms, int64_t until_ms, int64_t width_ms, json_t *arr)
{
	/* The recursive CTE makes every bucket, so empty weeks are zeros rather than gaps; each
	 * bucket joins its range of audit_log through the created_at index. */
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "WITH RECURSIVE b(start) AS (SELECT ?1 UNION ALL SELECT start + ?2 FROM b"
		       " WHERE start + ?2 < ?3 LIMIT ?4)"
		       " SELECT strftime('%Y-%m-%dT%H:%M:%fZ', b.start / 1000.0, 'unixepoch') AS bucket_start,"
		       " count(DISTINCT a.actor_id) AS active_users, count(a.id) AS requests"
		       " FROM b LEFT JOIN audit_log a ON a.created_at >= b.start AND a.created_at < b.start + ?2"
		       " GROUP BY b.start ORDER BY b.start");
	bool more;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int64(st, 2, width_ms);
	sqlite3_bind_int64(st, 3, until_ms);
	sqlite3_bind_int(st, 4, ATR_STATS_MAX_BUCKETS);
	return atr_store_collect(st, ATR_STATS_MAX_BUCKETS, arr, &more);
}
