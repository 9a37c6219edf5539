/*
 * benchmarks.c: the benchmarks table (what a benchmark scores and against which ground
 * truth). Evaluations and the leaderboard are benchmarks_eval.c, the gate benchmarks_gate.c.
 * What a valid metric or file is, is decided in src/api/ (with the scoring library).
 */
#include "atrium/store_benchmarks.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

#define BENCH_COLS                                                                               \
	"id, project_id, dataset_version_id, name, truth_path, format, id_column, label_column," \
	" prediction_column, pos_label, top_k, metrics, primary_metric"

static void fill(sqlite3_stmt *st, void *p)
{
	struct atr_benchmark *b = p;
	json_t *m, *it;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(st, 0);
	b->project_id = sqlite3_column_int64(st, 1);
	b->dataset_version_id = sqlite3_column_int64(st, 2);
	atr_copy(b->name, sizeof(b->name), (const char *)sqlite3_column_text(st, 3));
	atr_copy(b->truth_path, sizeof(b->truth_path), (const char *)sqlite3_column_text(st, 4));
	atr_copy(b->format, sizeof(b->format), (const char *)sqlite3_column_text(st, 5));
	atr_copy(b->id_column, sizeof(b->id_column), (const char *)sqlite3_column_text(st, 6));
	atr_copy(b->label_column, sizeof(b->label_column), (const char *)sqlite3_column_text(st, 7));
	atr_copy(b->prediction_column, sizeof(b->prediction_column), (const char *)sqlite3_column_text(st, 8));
	atr_copy(b->pos_label, sizeof(b->pos_label), (const char *)sqlite3_column_text(st, 9));
	b->top_k = sqlite3_column_int(st, 10);
	m = json_loads((const char *)sqlite3_column_text(st, 11), 0, NULL);
	json_array_foreach(m, i, it)
	{
		if (b->n_metrics < ATR_BENCH_METRICS_MAX)
			atr_copy(b->metrics[b->n_metrics++], sizeof(b->metrics[0]), json_string_value(it));
	}
	json_decref(m);
	atr_copy(b->primary_metric, sizeof(b->primary_metric), (const char *)sqlite3_column_text(st, 12));
}

static json_t *metric_names(const struct atr_benchmark *b)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < b->n_metrics; i++)
		if (json_array_append_new(a, json_string(b->metrics[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int atr_store_benchmark_create(struct atr_store *s, struct atr_benchmark *b, const char *description, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO benchmarks(project_id, name, description, dataset_version_id, truth_path, format,"
		       " id_column, label_column, prediction_column, pos_label, top_k, metrics, primary_metric,"
		       " created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	json_t *m = metric_names(b);
	int64_t now = atr_now_ms();
	int rc;

	if (!st || !m) {
		json_decref(m);
		atr_db_done(st);
		return st ? ATR_ENOMEM : ATR_EDB;
	}
	sqlite3_bind_int64(st, 1, b->project_id);
	atr_db_bind_text(st, 2, b->name);
	atr_db_bind_text(st, 3, description ? description : "");
	sqlite3_bind_int64(st, 4, b->dataset_version_id);
	atr_db_bind_text(st, 5, b->truth_path);
	atr_db_bind_text(st, 6, b->format);
	atr_db_bind_text(st, 7, b->id_column);
	atr_db_bind_text(st, 8, b->label_column);
	atr_db_bind_text(st, 9, b->prediction_column);
	atr_db_bind_text(st, 10, b->pos_label);
	sqlite3_bind_int(st, 11, b->top_k);
	rc = atr_db_bind_json(st, 12, m);
	json_decref(m);
	atr_db_bind_text(st, 13, b->primary_metric);
	if (user_id > 0)
		sqlite3_bind_int64(st, 14, user_id);
	sqlite3_bind_int64(st, 15, now);
	sqlite3_bind_int64(st, 16, now);
	if (rc < 0) {
		atr_db_done(st);
		return rc;
	}
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	b->id = atr_db_last_id(s->db);
	return 0;
}

int atr_store_benchmark_find(struct atr_store *s, int64_t project_id, const char *ref, struct atr_benchmark *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " BENCH_COLS " FROM benchmarks WHERE project_id = ?1 AND"
					      " (name = ?2 OR CAST(id AS TEXT) = ?2) ORDER BY name = ?2 DESC LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	atr_db_bind_text(st, 2, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill(st, out);
	return atr_db_row_done(st, rc);
}

int atr_store_benchmark_get(struct atr_store *s, int64_t id, struct atr_benchmark *out)
{
	return atr_store_row_by_id(atr_db_stmt(s->db, "SELECT " BENCH_COLS " FROM benchmarks WHERE id = ?"), id, fill,
				   out);
}

/* metrics with their directions and scikit-learn calls are added by the API (the library's table) */
#define BENCH_JSON                                                                                                 \
	"SELECT b.id, p.name AS project, b.name, b.description, json_object('name', d.name, 'version', v.version," \
	" 'id', v.id) AS dataset__json, b.truth_path AS file, b.format, b.id_column, b.label_column,"              \
	" b.prediction_column, b.pos_label, b.top_k, b.metrics AS metrics__json, b.primary_metric,"                \
	" (SELECT count(*) FROM evaluations e WHERE e.benchmark_id = b.id) AS evaluation_count,"                   \
	" u.username AS created_by, b.created_at, b.updated_at FROM benchmarks b JOIN projects p"                  \
	" ON p.id = b.project_id JOIN dataset_versions v ON v.id = b.dataset_version_id JOIN datasets d"           \
	" ON d.id = v.dataset_id LEFT JOIN users u ON u.id = b.created_by"

json_t *atr_store_benchmark_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, BENCH_JSON " WHERE b.id = ?", id, err);
}

int atr_store_benchmark_list(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(s,
				    BENCH_JSON " WHERE b.project_id = ?1 AND (?2 = 0 OR b.id < ?2)"
					       " ORDER BY b.id DESC LIMIT ?3",
				    project_id, p, arr, more);
}

/* The leaderboard again from the evaluations: each subject's best by the (new) primary metric. */
static int rebuild_leaders(struct atr_store *s, int64_t id, const char *primary, int direction)
{
	int custom = atr_store_benchmark_custom_direction(s, id, primary) != 0;
	sqlite3_stmt *del = atr_db_stmt(s->db, "DELETE FROM benchmark_leaders WHERE benchmark_id = ?");
	sqlite3_stmt *ins;
	char path[48];
	int rc;

	if (!del)
		return ATR_EDB;
	sqlite3_bind_int64(del, 1, id);
	if ((rc = atr_db_step_write(del)) < 0)
		return rc;
	ins = atr_db_stmt(s->db, "INSERT INTO benchmark_leaders(benchmark_id, subject, evaluation_id, sort_key)"
				 " SELECT ?1, subject, id, k FROM (SELECT subject, id, k, row_number() OVER"
				 " (PARTITION BY subject ORDER BY k, id) AS n FROM (SELECT subject, id,"
				 " coalesce(?3 * json_extract(metrics, ?2), CASE WHEN ?4 AND scorer_state IN"
				 " ('pending', 'running', 'failed') THEN ?5 END) AS k FROM evaluations"
				 " WHERE benchmark_id = ?1)) WHERE n = 1 AND k IS NOT NULL");
	if (!ins)
		return ATR_EDB;
	snprintf(path, sizeof(path), "$.\"%s\"", primary);
	sqlite3_bind_int64(ins, 1, id);
	atr_db_bind_text(ins, 2, path);
	sqlite3_bind_int(ins, 3, -direction);
	sqlite3_bind_int(ins, 4, custom);
	sqlite3_bind_double(ins, 5, ATR_LEADER_UNRANKED);
	if ((rc = atr_db_step_write(ins)) < 0)
		return rc;
	ins = atr_db_stmt(s->db, "UPDATE evaluations SET primary_value = json_extract(metrics, ?2)"
				 " WHERE benchmark_id = ?1");
	if (!ins)
		return ATR_EDB;
	sqlite3_bind_int64(ins, 1, id);
	atr_db_bind_text(ins, 2, path);
	return atr_db_step_write(ins);
}

int atr_store_benchmark_update(struct atr_store *s, int64_t id, const char *description, const char *primary,
			       int primary_direction)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE benchmarks SET description = coalesce(?2, description),"
					      " primary_metric = coalesce(?3, primary_metric), updated_at = ?4"
					      " WHERE id = ?1");
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, description);
	atr_db_bind_text(st, 3, primary);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	if (primary && (rc = rebuild_leaders(s, id, primary, primary_direction)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

static int exec_id(struct atr_store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return atr_db_step_write(st);
}

int atr_store_benchmark_delete(struct atr_store *s, int64_t id, char *model, size_t modellen)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT m.name FROM model_gates g JOIN models m ON m.id = g.model_id"
					      " WHERE g.benchmark_id = ? ORDER BY m.name LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && model)
		atr_copy(model, modellen, (const char *)sqlite3_column_text(st, 0));
	atr_db_done(st);
	if (rc == SQLITE_ROW)
		return ATR_ECONFLICT;
	if (rc != SQLITE_DONE)
		return ATR_EDB;
	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = exec_id(s,
			  "DELETE FROM files WHERE owner_kind = 'evaluation' AND owner_id IN"
			  " (SELECT id FROM evaluations WHERE benchmark_id = ?)",
			  id)) < 0 ||
	    (rc = exec_id(s, "DELETE FROM benchmark_leaders WHERE benchmark_id = ?", id)) < 0 ||
	    (rc = exec_id(s, "DELETE FROM evaluations WHERE benchmark_id = ?", id)) < 0 ||
	    (rc = exec_id(s, "DELETE FROM benchmarks WHERE id = ?", id)) < 0) {
		atr_db_rollback(s->db);
		return rc;
	}
	return atr_db_commit(s->db);
}
