/*
 * benchmarks_gate.c: the evaluation gate of a model's `production` alias (model_gates). The
 * check runs inside atr_store_model_alias_set, so every way of moving the alias (a direct
 * move, an approved promotion, MLflow's alias and stage endpoints) meets it; the API checks
 * it first as well, to say which evaluation is missing.
 */
#include "atrium/store_benchmarks.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/scoring.h"
#include "atrium/store_models.h"
#include "atrium/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int atr_store_gate_set(struct atr_store *s, const struct atr_gate *g, const char *actor)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO model_gates(model_id, alias, benchmark_id, metric, threshold,"
				   " updated_by, updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(model_id)"
				   " DO UPDATE SET benchmark_id = excluded.benchmark_id, metric ="
				   " excluded.metric, threshold = excluded.threshold, updated_by ="
				   " excluded.updated_by, updated_at = excluded.updated_at");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, g->model_id);
	atr_db_bind_text(st, 2, ATR_ALIAS_PROTECTED);
	sqlite3_bind_int64(st, 3, g->benchmark_id);
	atr_db_bind_text(st, 4, g->metric);
	sqlite3_bind_double(st, 5, g->threshold);
	atr_db_bind_text(st, 6, actor);
	sqlite3_bind_int64(st, 7, atr_now_ms());
	return atr_db_step_write(st);
}

/* The metric's direction, from the scoring library's table (a custom one's: the benchmark's scorer). */
static int direction_of(const char *metric)
{
	const struct atr_scoring_metric *m = atr_scoring_metric_find(metric);
	return m && m->direction == ATR_SCORING_LOWER ? -1 : 1;
}

int atr_store_gate_get(struct atr_store *s, int64_t model_id, struct atr_gate *out)
{
	int dir;
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT g.benchmark_id, b.name, g.metric, g.threshold FROM model_gates g"
					      " JOIN benchmarks b ON b.id = g.benchmark_id WHERE g.model_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, model_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->model_id = model_id;
		out->benchmark_id = sqlite3_column_int64(st, 0);
		atr_copy(out->benchmark, sizeof(out->benchmark), (const char *)sqlite3_column_text(st, 1));
		atr_copy(out->metric, sizeof(out->metric), (const char *)sqlite3_column_text(st, 2));
		out->threshold = sqlite3_column_double(st, 3);
		out->direction = direction_of(out->metric);
	}
	if ((rc = atr_db_row_done(st, rc)) == 0 &&
	    (dir = atr_store_benchmark_custom_direction(s, out->benchmark_id, out->metric)) != 0)
		out->direction = dir;
	return rc;
}

int atr_store_gate_delete(struct atr_store *s, int64_t model_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM model_gates WHERE model_id = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, model_id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

/* ?1 the version, ?2 the gate's benchmark, ?3 the JSON path of the gate's metric in metrics. */
static void bind_gate(sqlite3_stmt *st, const struct atr_gate *g, int64_t version_id)
{
	char path[48];

	snprintf(path, sizeof(path), "$.\"%s\"", g->metric);
	sqlite3_bind_int64(st, 1, version_id);
	sqlite3_bind_int64(st, 2, g->benchmark_id);
	atr_db_bind_text(st, 3, path);
}

/* The version's best evaluation on the gate's benchmark by its metric: id and value (0, NAN: none). */
static int best_of(struct atr_store *s, const struct atr_gate *g, int64_t version_id, int64_t *id, double *value)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, v FROM (SELECT id, json_extract(metrics, ?3) AS v FROM"
					      " evaluations WHERE model_version_id = ?1 AND benchmark_id = ?2)"
					      " WHERE v IS NOT NULL ORDER BY ?4 * v DESC, id LIMIT 1");
	int rc;

	*id = 0;
	*value = NAN;
	if (!st)
		return ATR_EDB;
	bind_gate(st, g, version_id);
	sqlite3_bind_int(st, 4, g->direction);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*value = sqlite3_column_double(st, 1);
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_gate_check(struct atr_store *s, int64_t model_id, const char *alias, int64_t version_id,
			 struct atr_gate *g, int64_t *evaluation_id, double *best)
{
	struct atr_gate gate;
	int64_t id;
	double v;
	int rc;

	if (evaluation_id)
		*evaluation_id = 0;
	if (best)
		*best = NAN;
	if (!alias || strcmp(alias, ATR_ALIAS_PROTECTED) != 0)
		return 0;
	rc = atr_store_gate_get(s, model_id, &gate);
	if (rc == ATR_ENOTFOUND)
		return 0;
	if (rc < 0 || (rc = best_of(s, &gate, version_id, &id, &v)) < 0)
		return rc;
	if (g)
		*g = gate;
	if (best)
		*best = v;
	if (id && (gate.direction > 0 ? v >= gate.threshold : v <= gate.threshold)) {
		if (evaluation_id)
			*evaluation_id = id;
		return 0;
	}
	return ATR_ECONFLICT;
}

int atr_store_gate_scoring(struct atr_store *s, const struct atr_gate *g, int64_t version_id, int64_t *evaluation_id,
			   char *state, size_t len)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, scorer_state FROM evaluations WHERE model_version_id = ?1"
					      " AND benchmark_id = ?2 AND scorer_state IN ('pending', 'running',"
					      " 'failed') AND json_extract(metrics, ?3) IS NULL"
					      " ORDER BY scorer_state = 'failed', id DESC LIMIT 1");
	int rc;

	*evaluation_id = 0;
	if (!st)
		return ATR_EDB;
	bind_gate(st, g, version_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*evaluation_id = sqlite3_column_int64(st, 0);
		atr_copy(state, len, (const char *)sqlite3_column_text(st, 1));
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}
