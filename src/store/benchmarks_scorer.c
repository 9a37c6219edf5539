/*
 * benchmarks_scorer.c: a benchmark's custom scorer (its command and custom metrics) and the
 * state of each evaluation's scorer job (src/api/evaluation_scorer.c runs them).
 */
#include "atrium/store_benchmarks.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

int atr_store_benchmark_set_scorer(struct atr_store *s, int64_t id, const json_t *scorer)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE benchmarks SET scorer = ?2 WHERE id = ?1");
	int rc = 0;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	if (scorer)
		rc = atr_db_bind_json(st, 2, scorer);
	if (rc < 0) {
		atr_db_done(st);
		return rc;
	}
	return atr_db_step_write(st);
}

json_t *atr_store_benchmark_scorer(struct atr_store *s, int64_t id, int64_t *created_by, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT scorer, coalesce(created_by, 0) FROM benchmarks WHERE id = ?");
	json_t *o = NULL;
	int rc;

	*err = 0;
	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		*created_by = sqlite3_column_int64(st, 1);
		if (!o)
			*err = ATR_ENOMEM;
	}
	atr_db_done(st);
	if (rc != SQLITE_ROW)
		*err = rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
	return o;
}

/* Whether benchmark b's primary metric is one of its scorer's (SQL over b and e: evaluations). */
#define PRIMARY_IS_CUSTOM                                                                                   \
	" EXISTS (SELECT 1 FROM json_each(b.scorer, '$.metrics') m WHERE json_extract(m.value, '$.name') =" \
	" b.primary_metric)"

/* An evaluation waiting for (or failed by) the scorer of a benchmark ranked by a custom metric:
 * on the leaderboard, unranked (ATR_LEADER_UNRANKED), unless its subject already has a row. */
static int place_unranked(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO benchmark_leaders(benchmark_id, subject, evaluation_id, sort_key)"
		       " SELECT e.benchmark_id, e.subject, e.id, ?2 FROM evaluations e JOIN benchmarks b ON"
		       " b.id = e.benchmark_id WHERE e.id = ?1 AND e.primary_value IS NULL AND" PRIMARY_IS_CUSTOM
		       " ON CONFLICT(benchmark_id, subject) DO NOTHING");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_double(st, 2, ATR_LEADER_UNRANKED);
	return atr_db_step_write(st);
}

int atr_store_evaluation_scorer_state(struct atr_store *s, int64_t id, const char *state, int64_t job_id,
				      const char *error)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "UPDATE evaluations SET scorer_state = ?2, scorer_job_id ="
				   " coalesce(nullif(?3, 0), scorer_job_id), scorer_error = ?4 WHERE id = ?1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, job_id);
	atr_db_bind_text(st, 4, error);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	return strcmp(state, "running") ? place_unranked(s, id) : 0;
}

/* A scored evaluation of a benchmark ranked by a custom metric: its primary value, and its
 * subject's place when strictly better (the sentinel of an unranked row is worse than any). */
static int place_custom(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "UPDATE evaluations AS e SET primary_value = json_extract(e.metrics, '$.\"' ||"
		       " b.primary_metric || '\"') FROM benchmarks b WHERE e.id = ?1 AND b.id = e.benchmark_id"
		       " AND" PRIMARY_IS_CUSTOM);
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "INSERT INTO benchmark_leaders(benchmark_id, subject, evaluation_id, sort_key)"
				" SELECT e.benchmark_id, e.subject, e.id, CASE WHEN json_extract(m.value,"
				" '$.direction') = 'lower' THEN 1 ELSE -1 END * e.primary_value FROM evaluations e"
				" JOIN benchmarks b ON b.id = e.benchmark_id JOIN json_each(b.scorer, '$.metrics') m"
				" ON json_extract(m.value, '$.name') = b.primary_metric WHERE e.id = ?1 AND"
				" e.primary_value IS NOT NULL ON CONFLICT(benchmark_id, subject) DO UPDATE SET"
				" evaluation_id = excluded.evaluation_id, sort_key = excluded.sort_key"
				" WHERE excluded.sort_key < benchmark_leaders.sort_key");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return atr_db_step_write(st);
}

int atr_store_evaluation_scorer_done(struct atr_store *s, int64_t id, const json_t *metrics)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE evaluations SET metrics = json_patch(metrics, ?2),"
					      " scorer_state = 'scored', scorer_error = NULL WHERE id = ?1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = atr_db_bind_json(st, 2, metrics)) < 0) {
		atr_db_done(st);
		return rc;
	}
	if ((rc = atr_db_begin(s->db)) < 0) {
		atr_db_done(st);
		return rc;
	}
	if ((rc = atr_db_step_write(st)) < 0 || (rc = place_custom(s, id)) < 0) {
		atr_db_rollback(s->db);
		return rc;
	}
	return atr_db_commit(s->db);
}

int atr_store_evaluation_scorer_active(struct atr_store *s, int64_t after_id, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM evaluations WHERE scorer_state IN ('pending', 'running')"
					      " AND id > ? ORDER BY id LIMIT ?");
	int rc;

	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_benchmark_custom_direction(struct atr_store *s, int64_t id, const char *metric)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT json_extract(m.value, '$.direction') FROM benchmarks b,"
					      " json_each(b.scorer, '$.metrics') m WHERE b.id = ?1 AND"
					      " json_extract(m.value, '$.name') = ?2");
	int rc, dir = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, metric);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		dir = strcmp((const char *)sqlite3_column_text(st, 0), "lower") ? 1 : -1;
	atr_db_done(st);
	return dir;
}

bool atr_store_job_scores(struct atr_store *s, int64_t job_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT 1 FROM evaluations WHERE scorer_job_id = ? LIMIT 1");
	int rc;

	if (!st)
		return true; /* (unknown: hidden, to be safe) */
	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	atr_db_done(st);
	return rc != SQLITE_DONE;
}
