/*
 * competition_scorers.c: what competitions ranked by a custom metric add (migration 0041):
 * the competitions' scorer and scoring dataset, and the competition_scorer_runs table (one
 * scorer job per submission and subset). Who may see what is src/api/'s.
 */
#include "atrium/store_comp_scorers.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

int atr_store_comp_scorer_set(struct atr_store *s, int64_t comp_id, const json_t *scorer)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competitions SET scorer = ? WHERE id = ?");
	char *text = scorer ? json_dumps(scorer, JSON_COMPACT) : NULL;
	int rc;

	if (!st || (scorer && !text)) {
		free(text);
		return st ? ATR_ENOMEM : ATR_EDB;
	}
	atr_db_bind_text(st, 1, text);
	sqlite3_bind_int64(st, 2, comp_id);
	rc = atr_db_step_write(st);
	free(text);
	return rc;
}

json_t *atr_store_comp_scorer(struct atr_store *s, int64_t comp_id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT scorer FROM competitions WHERE id = ?");
	json_t *o = NULL;
	int rc;

	*err = 0;
	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, comp_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    !(o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL)))
		*err = ATR_EDB;
	rc = atr_db_row_done(st, rc);
	if (rc < 0 && rc != ATR_ENOTFOUND)
		*err = rc;
	if (*err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int atr_store_comp_scorer_dataset(struct atr_store *s, int64_t comp_id, int64_t dataset_id, int64_t *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competitions SET scorer_dataset_id = ? WHERE id = ?"
					      " AND scorer_dataset_id IS NULL");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dataset_id);
	sqlite3_bind_int64(st, 2, comp_id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	if (!(st = atr_db_stmt(s->db, "SELECT scorer_dataset_id FROM competitions WHERE id = ?")))
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

int atr_store_comp_is_scorer_dataset(struct atr_store *s, int64_t dataset_id, bool *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT EXISTS (SELECT 1 FROM competitions WHERE scorer_dataset_id = ?)");
	int rc;

	*out = false;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dataset_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0) != 0;
	return atr_db_row_done(st, rc);
}

/* ---- runs ---- */

int atr_store_comp_scorer_run_add(struct atr_store *s, int64_t sub_id, int64_t comp_id, const char *subset,
				  int64_t dsv_id, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO competition_scorer_runs(submission_id, competition_id,"
					      " subset, dataset_version_id, state) VALUES (?, ?, ?, ?, 'pending')");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sub_id);
	sqlite3_bind_int64(st, 2, comp_id);
	atr_db_bind_text(st, 3, subset);
	sqlite3_bind_int64(st, 4, dsv_id);
	rc = atr_db_step_write(st);
	if (rc == 0)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

int atr_store_comp_scorer_run_job(struct atr_store *s, int64_t run_id, int64_t job_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competition_scorer_runs SET job_id = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, run_id);
	return atr_db_step_write(st);
}

int atr_store_comp_scorer_run_get(struct atr_store *s, int64_t run_id, struct atr_comp_scorer_run *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, submission_id, competition_id, dataset_version_id, job_id,"
					      " subset, state FROM competition_scorer_runs WHERE id = ?");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->submission_id = sqlite3_column_int64(st, 1);
		out->competition_id = sqlite3_column_int64(st, 2);
		out->dataset_version_id = sqlite3_column_int64(st, 3);
		out->job_id = sqlite3_column_int64(st, 4);
		atr_db_col_copy(st, 5, out->subset, sizeof(out->subset));
		atr_db_col_copy(st, 6, out->state, sizeof(out->state));
	}
	return atr_db_row_done(st, rc);
}

int atr_store_comp_scorer_run_state(struct atr_store *s, int64_t run_id, const char *state, const char *why)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competition_scorer_runs SET state = ?, error = ? WHERE id = ?"
					      " AND state IN ('pending', 'running')");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, state);
	atr_db_bind_text(st, 2, why);
	sqlite3_bind_int64(st, 3, run_id);
	return atr_db_step_write(st);
}

int atr_store_comp_scorer_run_done(struct atr_store *s, int64_t run_id, double value)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competition_scorer_runs SET state = 'scored', value = ?,"
					      " error = NULL WHERE id = ? AND state IN ('pending', 'running')");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_double(st, 1, value);
	sqlite3_bind_int64(st, 2, run_id);
	return atr_db_step_write(st);
}

int atr_store_comp_scorer_runs_active(struct atr_store *s, int64_t after, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM competition_scorer_runs WHERE id > ? AND"
					      " state IN ('pending', 'running') ORDER BY id LIMIT ?");
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

int atr_store_comp_scorer_outcome(struct atr_store *s, int64_t sub_id, struct atr_comp_scorer_outcome *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT subset, state, value FROM competition_scorer_runs"
					      " WHERE submission_id = ?");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sub_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 1);
		bool pub = strcmp((const char *)sqlite3_column_text(st, 0), "public") == 0;

		if (!strcmp(state, "pending") || !strcmp(state, "running"))
			out->open++;
		else if (!strcmp(state, "failed"))
			out->failed++;
		else if (pub) {
			out->pub_ok = true;
			out->pub = sqlite3_column_double(st, 2);
		} else {
			out->priv_ok = true;
			out->priv = sqlite3_column_double(st, 2);
		}
	}
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_comp_scorer_started(struct atr_store *s, int64_t sub_id, bool *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT EXISTS (SELECT 1 FROM competition_scorer_runs WHERE submission_id = ?)");
	int rc;

	*out = false;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sub_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0) != 0;
	return atr_db_row_done(st, rc);
}

json_t *atr_store_comp_scorer_runs_json(struct atr_store *s, int64_t sub_id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT subset, job_id, state, error FROM competition_scorer_runs"
					      " WHERE submission_id = ? ORDER BY id");
	json_t *arr = json_array();
	int rc;

	*err = 0;
	if (!st || !arr) {
		json_decref(arr);
		*err = st ? ATR_ENOMEM : ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, sub_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *why = (const char *)sqlite3_column_text(st, 3);
		json_t *o = json_pack("{s:s, s:I, s:s, s:s?}", "subset", (const char *)sqlite3_column_text(st, 0),
				      "job_id", (json_int_t)sqlite3_column_int64(st, 1), "state",
				      (const char *)sqlite3_column_text(st, 2), "error", why);
		if (!o || json_array_append_new(arr, o) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	atr_db_done(st);
	if (rc != SQLITE_DONE) {
		*err = rc == SQLITE_NOMEM ? ATR_ENOMEM : ATR_EDB;
		json_decref(arr);
		return NULL;
	}
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}
