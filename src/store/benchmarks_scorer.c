/*
 * benchmarks_scorer.c: a benchmark's custom scorer (its command and custom metrics) and the
 * state of each evaluation's scorer job (src/api/evaluation_scorer.c runs them).
 */
#include "atrium/store_benchmarks.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

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

int atr_store_evaluation_scorer_state(struct atr_store *s, int64_t id, const char *state, int64_t job_id,
				      const char *error)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "UPDATE evaluations SET scorer_state = ?2, scorer_job_id ="
				   " coalesce(nullif(?3, 0), scorer_job_id), scorer_error = ?4 WHERE id = ?1");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, job_id);
	atr_db_bind_text(st, 4, error);
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
	return atr_db_step_write(st);
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
