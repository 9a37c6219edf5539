/*
 * benchmarks_eval.c: evaluations and the leaderboard. An evaluation is written in one
 * transaction with its predictions file row and its place in benchmark_leaders (the
 * subject's best so far, replaced only by a strictly better value: ties keep the earlier
 * evaluation). Reading a leaderboard page walks benchmark_leaders_rank from the cursor on.
 */
#include "atrium/store_benchmarks.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

static int insert_evaluation(struct atr_store *s, const struct atr_evaluation_new *e, const char *subject)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO evaluations(benchmark_id, subject, model_version_id, run_id, dataset_version_id,"
		       " format, rows, metrics, undefined, confusion, primary_value, created_by, actor, created_at,"
		       " state, job_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,coalesce(?15, 'scored'),?16)");
	int rc = 0;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, e->benchmark_id);
	atr_db_bind_text(st, 2, subject);
	if (e->model_version_id > 0)
		sqlite3_bind_int64(st, 3, e->model_version_id);
	if (e->run_id > 0)
		sqlite3_bind_int64(st, 4, e->run_id);
	sqlite3_bind_int64(st, 5, e->dataset_version_id);
	atr_db_bind_text(st, 6, e->format);
	sqlite3_bind_int64(st, 7, e->rows);
	if (rc == 0)
		rc = atr_db_bind_json(st, 8, e->metrics);
	if (rc == 0)
		rc = atr_db_bind_json(st, 9, e->undefined);
	if (rc == 0 && e->confusion)
		rc = atr_db_bind_json(st, 10, e->confusion);
	if (e->has_primary)
		sqlite3_bind_double(st, 11, e->primary_value);
	if (e->user_id > 0)
		sqlite3_bind_int64(st, 12, e->user_id);
	atr_db_bind_text(st, 13, e->actor);
	sqlite3_bind_int64(st, 14, atr_now_ms());
	atr_db_bind_text(st, 15, e->state);
	if (e->job_id > 0)
		sqlite3_bind_int64(st, 16, e->job_id);
	if (rc < 0) {
		atr_db_done(st);
		return rc;
	}
	return atr_db_step_write(st);
}

/* The subject's best: replaced only by a strictly better value (ties: the earlier stays). */
static int place(struct atr_store *s, const struct atr_evaluation_new *e, const char *subject, int64_t id)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO benchmark_leaders(benchmark_id, subject, evaluation_id, sort_key)"
				   " VALUES (?,?,?,?) ON CONFLICT(benchmark_id, subject) DO UPDATE SET"
				   " evaluation_id = excluded.evaluation_id, sort_key = excluded.sort_key"
				   " WHERE excluded.sort_key < benchmark_leaders.sort_key");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, e->benchmark_id);
	atr_db_bind_text(st, 2, subject);
	sqlite3_bind_int64(st, 3, id);
	sqlite3_bind_double(st, 4, -(double)e->primary_direction * e->primary_value);
	return atr_db_step_write(st);
}

static void subject_of(const struct atr_evaluation_new *e, char *subject, size_t len)
{
	if (e->model_version_id > 0)
		snprintf(subject, len, "mv:%lld", (long long)e->model_version_id);
	else
		snprintf(subject, len, "run:%lld", (long long)e->run_id);
}

int atr_store_evaluation_create(struct atr_store *s, const struct atr_evaluation_new *e, int64_t *id)
{
	char subject[40], path[32];
	int rc;

	subject_of(e, subject, sizeof(subject));
	snprintf(path, sizeof(path), "predictions.%s", e->format);
	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = insert_evaluation(s, e, subject)) < 0)
		goto fail;
	*id = atr_db_last_id(s->db);
	if ((rc = atr_store_file_put(s, "evaluation", *id, path, e->sha256, e->size)) < 0)
		goto fail;
	if (e->has_primary && (rc = place(s, e, subject, *id)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

#define EVAL_JSON                                                                                                 \
	"SELECT e.id, b.name AS benchmark, CASE WHEN e.model_version_id IS NULL THEN NULL ELSE json_object('id'," \
	" mv.id, 'model', m.name, 'version', mv.version) END AS model_version__json, e.run_id,"                   \
	" json_object('id', v.id, 'dataset', d.name, 'version', v.version) AS dataset_version__json, e.format,"   \
	" e.rows, e.metrics AS metrics__json, e.undefined AS undefined__json, b.primary_metric,"                  \
	" e.primary_value, e.confusion AS confusion_matrix__json, (SELECT json_object('path', f.path, 'size',"    \
	" f.size, 'sha256', f.sha256) FROM files f WHERE f.owner_kind = 'evaluation' AND f.owner_id = e.id LIMIT" \
	" 1) AS predictions__json, e.state, e.job_id, e.error, CASE WHEN e.scorer_state IS NULL THEN NULL ELSE"   \
	" json_object('state', e.scorer_state, 'job_id', e.scorer_job_id, 'error', e.scorer_error) END AS"        \
	" scorer__json, e.actor AS created_by, e.created_at FROM evaluations "                                    \
	"e JOIN benchmarks b"                                                                                     \
	" ON b.id = e.benchmark_id LEFT JOIN model_versions mv ON mv.id = e.model_version_id LEFT JOIN models m"  \
	" ON m.id = mv.model_id LEFT JOIN dataset_versions v ON v.id = e.dataset_version_id LEFT JOIN datasets d" \
	" ON d.id = v.dataset_id"

json_t *atr_store_evaluation_json(struct atr_store *s, int64_t benchmark_id, int64_t id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, EVAL_JSON " WHERE e.id = ? AND e.benchmark_id = ?");

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, benchmark_id);
	return atr_store_one(st, err);
}

int atr_store_evaluation_list(struct atr_store *s, int64_t benchmark_id, int64_t model_version_id,
			      const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, EVAL_JSON " WHERE e.benchmark_id = ?1 AND (?2 = 0 OR e.id < ?2) AND"
					     " (?4 = 0 OR e.model_version_id = ?4) ORDER BY e.id DESC LIMIT ?3");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, benchmark_id);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_int(st, 3, p->limit + 1);
	sqlite3_bind_int64(st, 4, model_version_id);
	return atr_store_collect(st, p->limit, arr, more);
}

/* ---- evaluations run as jobs ---- */

int atr_store_evaluation_pending(struct atr_store *s, const struct atr_evaluation_new *e, int64_t *id)
{
	char subject[40];
	int rc;

	subject_of(e, subject, sizeof(subject));
	if ((rc = insert_evaluation(s, e, subject)) == 0)
		*id = atr_db_last_id(s->db);
	return rc;
}

int atr_store_evaluation_job_get(struct atr_store *s, int64_t id, struct atr_evaluation_job *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, benchmark_id, coalesce(model_version_id, 0),"
					      " coalesce(job_id, 0), format, state FROM evaluations WHERE id = ?");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->benchmark_id = sqlite3_column_int64(st, 1);
		out->model_version_id = sqlite3_column_int64(st, 2);
		out->job_id = sqlite3_column_int64(st, 3);
		atr_copy(out->format, sizeof(out->format), (const char *)sqlite3_column_text(st, 4));
		atr_copy(out->state, sizeof(out->state), (const char *)sqlite3_column_text(st, 5));
	}
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
}

int atr_store_evaluation_set_state(struct atr_store *s, int64_t id, const char *state, const char *error)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE evaluations SET state = ?2, error = ?3 WHERE id = ?1"
					      " AND state IN ('pending', 'running') AND state <> ?2");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, state);
	atr_db_bind_text(st, 3, error);
	return atr_db_step_write(st);
}

static int update_scored(struct atr_store *s, int64_t id, const struct atr_evaluation_new *e)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE evaluations SET state = 'scored', error = NULL, rows = ?2,"
					      " metrics = ?3, undefined = ?4, confusion = ?5, primary_value = ?6"
					      " WHERE id = ?1 AND state IN ('pending', 'running')");
	int rc = 0;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, e->rows);
	rc = atr_db_bind_json(st, 3, e->metrics);
	if (rc == 0)
		rc = atr_db_bind_json(st, 4, e->undefined);
	if (rc == 0 && e->confusion)
		rc = atr_db_bind_json(st, 5, e->confusion);
	if (e->has_primary)
		sqlite3_bind_double(st, 6, e->primary_value);
	if (rc < 0) {
		atr_db_done(st);
		return rc;
	}
	return atr_db_step_write(st);
}

int atr_store_evaluation_scored(struct atr_store *s, int64_t id, const struct atr_evaluation_new *e)
{
	char subject[40], path[32];
	int rc;

	subject_of(e, subject, sizeof(subject));
	snprintf(path, sizeof(path), "predictions.%s", e->format);
	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = update_scored(s, id, e)) < 0)
		goto fail;
	if ((rc = atr_store_file_put(s, "evaluation", id, path, e->sha256, e->size)) < 0)
		goto fail;
	if (e->has_primary && (rc = place(s, e, subject, id)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_evaluation_active(struct atr_store *s, int64_t after_id, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM evaluations WHERE state IN ('pending', 'running')"
					      " AND id > ? ORDER BY id LIMIT ?");
	int rc;

	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

/* The rank of the first row after the cursor: 1 + the rows at or before it. */
static int first_rank(struct atr_store *s, int64_t benchmark_id, const struct atr_page *p, int64_t *rank)
{
	sqlite3_stmt *st;
	int rc;

	*rank = 1;
	if (p->after_id == 0)
		return 0;
	st = atr_db_stmt(s->db, "SELECT count(*) FROM benchmark_leaders WHERE benchmark_id = ?1 AND (sort_key < ?2"
				" OR (sort_key = ?2 AND evaluation_id <= ?3))");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, benchmark_id);
	sqlite3_bind_double(st, 2, p->after_num);
	sqlite3_bind_int64(st, 3, p->after_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*rank += sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

int atr_store_leaderboard(struct atr_store *s, int64_t benchmark_id, const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT l.evaluation_id, CASE WHEN substr(l.subject, 1, 3) = 'mv:' THEN 'model_version'"
		" ELSE 'run' END AS subject, m.name AS model, mv.version, e.run_id, e.primary_value AS \"primary\","
		" e.metrics AS metrics__json, e.scorer_state AS scorer, e.actor AS created_by, e.created_at,"
		" l.sort_key FROM benchmark_leaders l JOIN evaluations e ON e.id = l.evaluation_id LEFT JOIN"
		" model_versions mv ON mv.id = e.model_version_id LEFT JOIN models m ON m.id = mv.model_id"
		" WHERE l.benchmark_id = ?1 AND (?2 = 0 OR l.sort_key > ?3 OR (l.sort_key = ?3 AND"
		" l.evaluation_id > ?2)) ORDER BY l.sort_key, l.evaluation_id LIMIT ?4");
	int64_t rank;
	json_t *it;
	size_t i;
	int rc;

	if ((rc = first_rank(s, benchmark_id, p, &rank)) < 0)
		return rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, benchmark_id);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_double(st, 3, p->after_num);
	sqlite3_bind_int(st, 4, p->limit + 1);
	if ((rc = atr_store_collect(st, p->limit, arr, more)) < 0)
		return rc;
	json_array_foreach(arr, i, it)
	{
		bool unranked = json_number_value(json_object_get(it, "sort_key")) >= ATR_LEADER_UNRANKED;
		if (json_object_set_new(it, "rank",
					unranked ? json_null() : json_integer((json_int_t)(rank + (int64_t)i))) < 0)
			return ATR_ENOMEM;
	}
	return 0;
}
