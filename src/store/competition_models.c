/*
 * competition_models.c: what competitions whose submission is a model version add to the
 * competitions and competition_submissions tables (migration 0036): the submission kind, the
 * inputs-only copy of the hidden set, a submission's model version and job. Who may do what is
 * src/api/'s (competition_models.c, access.c).
 */
#include "competitions_internal.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

int atr_store_comp_model_get(struct atr_store *s, int64_t comp_id, struct atr_comp_model *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT submission_kind = 'model_version', inputs_version_id, created_by"
					      " FROM competitions WHERE id = ?");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->model_kind = sqlite3_column_int(st, 0) != 0;
		out->inputs_version_id = sqlite3_column_int64(st, 1);
		out->created_by = sqlite3_column_int64(st, 2);
	}
	return atr_db_row_done(st, rc);
}

int atr_store_comp_kind_set(struct atr_store *s, int64_t comp_id, const char *kind)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competitions SET submission_kind = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, comp_id);
	return atr_db_step_write(st);
}

int atr_store_comp_inputs_set(struct atr_store *s, int64_t comp_id, int64_t dsv_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competitions SET inputs_version_id = ? WHERE id = ?"
					      " AND inputs_version_id IS NULL");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dsv_id);
	sqlite3_bind_int64(st, 2, comp_id);
	return atr_db_step_write(st);
}

int atr_store_comp_is_inputs(struct atr_store *s, int64_t dsv_id, bool *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT EXISTS (SELECT 1 FROM competitions WHERE inputs_version_id = ?1)"
				   " OR EXISTS (SELECT 1 FROM competition_scorer_runs WHERE dataset_version_id = ?1)");
	int rc;

	*out = false;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dsv_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0) != 0;
	return atr_db_row_done(st, rc);
}

/* A model version's: pending until its job is submitted (cls: the model version's id). */
static int insert_model_sub(struct atr_store *s, const struct atr_comp_submission *sub, int64_t day, const void *cls,
			    int64_t *id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO competition_submissions(competition_id, entry_id, user_id,"
					      " format, sha256, size, day, state, arrived_at, model_version_id)"
					      " VALUES (?,?,?,?,'',0,?,'pending',?,?)");
	int64_t mv_id = *(const int64_t *)cls;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sub->comp_id);
	sqlite3_bind_int64(st, 2, sub->entry_id);
	if (sub->user_id > 0)
		sqlite3_bind_int64(st, 3, sub->user_id);
	atr_db_bind_text(st, 4, sub->format);
	sqlite3_bind_int64(st, 5, day);
	sqlite3_bind_int64(st, 6, sub->arrived_at);
	sqlite3_bind_int64(st, 7, mv_id);
	if ((rc = atr_db_step_write(st)) >= 0)
		*id = atr_db_last_id(s->db);
	return rc;
}

int atr_store_comp_model_sub_add(struct atr_store *s, const struct atr_comp_submission *sub, int64_t model_version_id,
				 int64_t daily_limit, int64_t *id_out)
{
	return atr_store_comp_sub_admit(s, sub, daily_limit, insert_model_sub, &model_version_id, id_out);
}

int atr_store_comp_sub_job_set(struct atr_store *s, int64_t sub_id, int64_t job_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competition_submissions SET job_id = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, sub_id);
	return atr_db_step_write(st);
}

int atr_store_comp_sub_state(struct atr_store *s, int64_t sub_id, const char *state, const char *error)
{
	bool ended = strcmp(state, "failed") == 0 || strcmp(state, "invalid") == 0;
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "UPDATE competition_submissions SET state = ?, error = ?,"
				   " scored_at = ? WHERE id = ? AND state IN ('pending', 'running', 'scoring')");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, state);
	atr_db_bind_text(st, 2, error);
	if (ended)
		sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, sub_id);
	return atr_db_step_write(st);
}

int atr_store_comp_sub_predictions(struct atr_store *s, int64_t sub_id, const char *sha256, int64_t size)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competition_submissions SET state = 'scoring', sha256 = ?,"
					      " size = ? WHERE id = ? AND state IN ('pending', 'running', 'scoring')");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, sha256);
	sqlite3_bind_int64(st, 2, size);
	sqlite3_bind_int64(st, 3, sub_id);
	return atr_db_step_write(st);
}

int atr_store_comp_sub_job_get(struct atr_store *s, int64_t sub_id, struct atr_comp_sub_job *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT x.competition_id, x.job_id, x.model_version_id, c.name FROM"
				   " competition_submissions x JOIN competitions c ON c.id = x.competition_id"
				   " WHERE x.id = ?");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sub_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->comp_id = sqlite3_column_int64(st, 0);
		out->job_id = sqlite3_column_int64(st, 1);
		out->model_version_id = sqlite3_column_int64(st, 2);
		atr_db_col_copy(st, 3, out->comp_name, sizeof(out->comp_name));
	}
	return atr_db_row_done(st, rc);
}

int atr_store_comp_subs_active(struct atr_store *s, int64_t after, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT id FROM competition_submissions WHERE id > ? AND"
		       " model_version_id IS NOT NULL AND state IN ('pending', 'running', 'scoring') AND NOT EXISTS"
		       " (SELECT 1 FROM competition_scorer_runs y WHERE y.submission_id = competition_submissions.id)"
		       " ORDER BY id LIMIT ?");
	int rc;

	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_comp_job(struct atr_store *s, int64_t job_id, int64_t mv_id, bool *out, bool *grants)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*) + (SELECT count(*) FROM competition_scorer_runs y WHERE"
					      " y.job_id = ?1), coalesce(max(model_version_id = ?2), 0) FROM"
					      " competition_submissions WHERE job_id = ?1");
	int rc;

	*out = *grants = false;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, mv_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0) > 0;
		*grants = sqlite3_column_int(st, 1) != 0;
	}
	return atr_db_row_done(st, rc);
}
