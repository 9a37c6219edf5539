/*
 * sweeps.c: the sweeps and sweep_trials tables. A sweep is a launcher version run over a
 * search space; each trial is one job (with its run) and what ASHA recorded about it. The
 * decisions are src/sweeps/'s; the checks of a search space, the API's.
 */
#include "atrium/store_sweeps.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

#define SWEEP_COLS                                                                                 \
	"id, project_id, launcher_id, launcher_version, name, method, search_space, fixed_values," \
	" max_trials, parallelism, metric, direction, asha, seed, state, created_by"

void atr_sweep_row_release(struct atr_sweep_row *r)
{
	json_decref(r->space);
	json_decref(r->fixed);
	json_decref(r->asha);
	r->space = r->fixed = r->asha = NULL;
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? json_loads(t, 0, NULL) : NULL;
}

static void fill(sqlite3_stmt *st, void *p)
{
	struct atr_sweep_row *r = p;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->project_id = sqlite3_column_int64(st, 1);
	r->launcher_id = sqlite3_column_int64(st, 2);
	r->launcher_version = sqlite3_column_int64(st, 3);
	atr_copy(r->name, sizeof(r->name), (const char *)sqlite3_column_text(st, 4));
	atr_copy(r->method, sizeof(r->method), (const char *)sqlite3_column_text(st, 5));
	r->space = col_json(st, 6);
	r->fixed = col_json(st, 7);
	r->max_trials = sqlite3_column_int64(st, 8);
	r->parallelism = sqlite3_column_int64(st, 9);
	atr_copy(r->metric, sizeof(r->metric), (const char *)sqlite3_column_text(st, 10));
	atr_copy(r->direction, sizeof(r->direction), (const char *)sqlite3_column_text(st, 11));
	r->asha = col_json(st, 12);
	r->seed = (uint64_t)sqlite3_column_int64(st, 13);
	atr_copy(r->state, sizeof(r->state), (const char *)sqlite3_column_text(st, 14));
	r->created_by = sqlite3_column_int64(st, 15);
}

int atr_store_sweep_create(struct atr_store *s, struct atr_sweep_row *row)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"INSERT INTO sweeps(project_id, launcher_id, launcher_version, name, method, search_space,"
		" fixed_values, max_trials, parallelism, metric, direction, asha, seed, state, created_by,"
		" created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,'running',?14,?15,?15)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, row->project_id);
	sqlite3_bind_int64(st, 2, row->launcher_id);
	sqlite3_bind_int64(st, 3, row->launcher_version);
	atr_db_bind_text(st, 4, row->name);
	atr_db_bind_text(st, 5, row->method);
	if ((rc = atr_db_bind_json(st, 6, row->space)) < 0 || (rc = atr_db_bind_json(st, 7, row->fixed)) < 0) {
		atr_db_done(st);
		return rc;
	}
	if (!row->fixed)
		atr_db_bind_text(st, 7, "{}");
	sqlite3_bind_int64(st, 8, row->max_trials);
	sqlite3_bind_int64(st, 9, row->parallelism);
	atr_db_bind_text(st, 10, row->metric);
	atr_db_bind_text(st, 11, row->direction);
	if (row->asha && (rc = atr_db_bind_json(st, 12, row->asha)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 13, (int64_t)row->seed);
	if (row->created_by)
		sqlite3_bind_int64(st, 14, row->created_by);
	sqlite3_bind_int64(st, 15, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	row->id = atr_db_last_id(s->db);
	atr_copy(row->state, sizeof(row->state), "running");
	return 0;
}

int atr_store_sweep_get(struct atr_store *s, int64_t project_id, int64_t id, struct atr_sweep_row *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " SWEEP_COLS " FROM sweeps WHERE id = ?1 AND"
					      " (?2 = 0 OR project_id = ?2)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, project_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill(st, out);
	return atr_db_row_done(st, rc);
}

int atr_store_sweep_delete(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM sweeps WHERE id = ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return atr_db_step_write(st);
}

int atr_store_sweep_set_state(struct atr_store *s, int64_t id, const char *state)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE sweeps SET state = ?2, updated_at = ?3 WHERE id = ?1");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_sweeps_active(struct atr_store *s, int (*fn)(void *cls, int64_t id), void *cls)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT id FROM sweeps WHERE state = 'running' OR state = 'paused' ORDER BY id");
	int64_t ids[256];
	size_t n = 0;
	int rc;

	if (!st)
		return ATR_EDB;
	/* collected first: fn reads the store, and a statement stays stepped across it otherwise */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < sizeof(ids) / sizeof(ids[0]))
		ids[n++] = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ATR_EDB;
	for (size_t i = 0; i < n; i++)
		if ((rc = fn(cls, ids[i])) < 0)
			return rc;
	return 0;
}

/* The best trial: the best last value in the sweep's direction (ties: the earlier trial). The
 * ORDER BY of a correlated subquery cannot name the outer row: the sweep is joined again (d). */
#define BEST_TRIAL                                                                                                     \
	"(SELECT json_object('id', t.id, 'index', t.idx, 'job_id', t.job_id, 'run_id', t.run_id,"                      \
	" 'params', json(t.params), 'value', t.last_value, 'step', t.last_step, 'state', t.state)"                     \
	" FROM sweep_trials t JOIN sweeps d ON d.id = t.sweep_id WHERE t.sweep_id = w.id AND t.last_value IS NOT NULL" \
	" ORDER BY CASE WHEN d.direction = 'maximize' THEN -t.last_value ELSE t.last_value END, t.idx LIMIT 1)"        \
	" AS best_trial__json"

#define SWEEP_JSON                                                                                                    \
	"SELECT w.id, p.name AS project, w.name, l.name AS launcher, w.launcher_version, w.method,"                   \
	" w.search_space AS search_space__json, w.fixed_values AS values__json, w.max_trials, w.parallelism,"         \
	" w.metric, w.direction, w.asha AS asha__json, w.seed, w.state,"                                              \
	" (SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = w.id) AS trial_count,"                              \
	" (SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = w.id AND t.state = 'running') AS running,"          \
	" (SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = w.id AND t.state = 'stopped') AS "                  \
	"stopped, " BEST_TRIAL ", u.username AS created_by, w.created_at, w.updated_at FROM sweeps w JOIN projects p" \
	" ON p.id = w.project_id LEFT JOIN launchers l ON l.id = w.launcher_id LEFT JOIN users u"                     \
	" ON u.id = w.created_by"

#define TRIAL_JSON                                                                                  \
	"SELECT t.id, t.idx AS \"index\", t.job_id, t.run_id, t.params AS params__json, t.state,"   \
	" t.next_rung AS rungs_reached, t.rung_values AS rung_values__json, t.last_value AS value," \
	" t.last_step AS step, t.stopped_step, t.created_at, t.ended_at FROM sweep_trials t"        \
	" WHERE t.sweep_id = ?1 AND (?2 = 0 OR t.id > ?2) ORDER BY t.idx LIMIT ?3"

json_t *atr_store_sweep_json(struct atr_store *s, int64_t id, int *err)
{
	json_t *o = atr_store_json_by_id(s, SWEEP_JSON " WHERE w.id = ?", id, err), *trials = json_array();
	struct atr_page p = { .limit = 1000 };
	bool more;

	if (!o || !trials) {
		json_decref(trials);
		if (o && err)
			*err = ATR_ENOMEM;
		json_decref(o);
		return NULL;
	}
	if ((*err = atr_store_list_keyed(s, TRIAL_JSON, id, &p, trials, &more)) < 0 ||
	    json_object_set_new(o, "trials", trials) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int atr_store_sweep_list(struct atr_store *s, int64_t project_id, const char *state, const struct atr_page *p,
			 json_t *arr, bool *more)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, SWEEP_JSON " WHERE w.project_id = ?1 AND (?2 = 0 OR w.id < ?2)"
					      " AND (?4 IS NULL OR w.state = ?4) ORDER BY w.id DESC LIMIT ?3");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_int(st, 3, p->limit + 1);
	atr_db_bind_text(st, 4, state);
	return atr_store_collect(st, p->limit, arr, more);
}

/* ---- trials ---- */

int atr_store_trial_add(struct atr_store *s, int64_t sweep_id, int64_t idx, int64_t job_id, const json_t *params,
			int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO sweep_trials(sweep_id, idx, job_id, params, state,"
					      " created_at) VALUES (?,?,?,?,'running',?)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sweep_id);
	sqlite3_bind_int64(st, 2, idx);
	sqlite3_bind_int64(st, 3, job_id);
	if ((rc = atr_db_bind_json(st, 4, params)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 5, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*id_out = atr_db_last_id(s->db);
	return 0;
}

int atr_store_trial_set_run(struct atr_store *s, int64_t trial_id, int64_t run_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE sweep_trials SET run_id = ?2 WHERE id = ?1");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, trial_id);
	sqlite3_bind_int64(st, 2, run_id);
	return atr_db_step_write(st);
}

int atr_store_trial_progress(struct atr_store *s, int64_t trial_id, int64_t next_rung, const json_t *rung_values,
			     double last_value, int64_t last_step)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE sweep_trials SET next_rung = ?2, rung_values = ?3,"
					      " last_value = ?4, last_step = ?5 WHERE id = ?1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, trial_id);
	sqlite3_bind_int64(st, 2, next_rung);
	if ((rc = atr_db_bind_json(st, 3, rung_values)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_double(st, 4, last_value);
	sqlite3_bind_int64(st, 5, last_step);
	return atr_db_step_write(st);
}

int atr_store_trial_end(struct atr_store *s, int64_t trial_id, const char *state, int64_t stopped_step)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE sweep_trials SET state = ?2, stopped_step = ?3, ended_at = ?4"
					      " WHERE id = ?1");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, trial_id);
	atr_db_bind_text(st, 2, state);
	if (stopped_step >= 0)
		sqlite3_bind_int64(st, 3, stopped_step);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	return atr_db_step_write(st);
}

static void fill_trial(sqlite3_stmt *st, struct atr_trial_row *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	t->sweep_id = sqlite3_column_int64(st, 1);
	t->idx = sqlite3_column_int64(st, 2);
	t->job_id = sqlite3_column_int64(st, 3);
	t->run_id = sqlite3_column_int64(st, 4);
	atr_copy(t->state, sizeof(t->state), (const char *)sqlite3_column_text(st, 5));
	t->next_rung = sqlite3_column_int64(st, 6);
	t->rung_values = col_json(st, 7);
	t->has_value = sqlite3_column_type(st, 8) != SQLITE_NULL;
	t->last_value = sqlite3_column_double(st, 8);
	t->last_step = sqlite3_column_int64(st, 9);
}

int atr_store_trials_each(struct atr_store *s, int64_t sweep_id, int (*fn)(void *cls, const struct atr_trial_row *row),
			  void *cls)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, sweep_id, idx, job_id, run_id, state, next_rung,"
					      " rung_values, last_value, last_step FROM sweep_trials WHERE sweep_id = ?"
					      " ORDER BY idx");
	struct atr_trial_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sweep_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct atr_trial_row *m = realloc(rows, nc * sizeof(*m));
			if (!m)
				break;
			rows = m;
			cap = nc;
		}
		fill_trial(st, &rows[n++]);
	}
	atr_db_done(st);
	rc = rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? ATR_ENOMEM : ATR_EDB;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = fn(cls, &rows[i]);
		json_decref(rows[i].rung_values);
	}
	free(rows);
	return rc;
}

int atr_store_trial_count(struct atr_store *s, int64_t sweep_id, int64_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*) FROM sweep_trials WHERE sweep_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sweep_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}
