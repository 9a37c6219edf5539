/* runs.c: the runs, run_params and run_inputs tables. */
#include "atrium/store_runs.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

static int put_params(struct atr_store *s, int64_t run_id, const json_t *params)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)params, k, v) {
		sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO run_params(run_id, key, value) VALUES (?,?,?)"
						      " ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value");
		int rc;
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, run_id);
		atr_db_bind_text(st, 2, k);
		atr_db_bind_text(st, 3, json_string_value(v));
		if ((rc = atr_db_step_write(st)) < 0)
			return rc;
	}
	return 0;
}

int atr_store_run_create(struct atr_store *s, const struct atr_run_spec *spec, int64_t *id_out)
{
	sqlite3_stmt *st;
	int64_t now = atr_now_ms(), id;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "INSERT INTO runs(project_id, name, status, params, tags, job_id, created_by, started_at,"
				" ended_at, created_at, updated_at) VALUES (?,?,?,coalesce(?, '{}'),coalesce(?, '{}'),?,?,?,?,?,?)");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, spec->project_id);
	atr_db_bind_text(st, 2, spec->name ? spec->name : "");
	atr_db_bind_text(st, 3, spec->status ? spec->status : "running");
	atr_db_bind_json(st, 4, spec->params);
	atr_db_bind_json(st, 5, spec->tags);
	if (spec->job_id > 0)
		sqlite3_bind_int64(st, 6, spec->job_id);
	if (spec->user_id > 0)
		sqlite3_bind_int64(st, 7, spec->user_id);
	sqlite3_bind_int64(st, 8, spec->started_at ? spec->started_at : now);
	if (spec->status && strcmp(spec->status, "running") != 0)
		sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	id = atr_db_last_id(s->db);
	if (spec->params && (rc = put_params(s, id, spec->params)) < 0)
		goto fail;
	for (size_t i = 0; i < spec->ninputs; i++) {
		st = atr_db_stmt(s->db, "INSERT OR IGNORE INTO run_inputs(run_id, dataset_version_id) VALUES (?,?)");
		if (!st) {
			rc = ATR_EDB;
			goto fail;
		}
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, spec->inputs[i]);
		if ((rc = atr_db_step_write(st)) < 0)
			goto fail;
	}
	if ((rc = atr_db_commit(s->db)) < 0)
		return rc;
	if (id_out)
		*id_out = id;
	return 0;
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_run_get(struct atr_store *s, int64_t id, struct atr_run *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, project_id, status FROM runs WHERE id = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->project_id = sqlite3_column_int64(st, 1);
		snprintf(out->status, sizeof(out->status), "%s", (const char *)sqlite3_column_text(st, 2));
	}
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
}

#define RUN_COLS                                                                                                       \
	"r.id, p.name AS project, r.name, r.status, r.params AS params__json, r.tags AS tags__json, r.job_id,"         \
	" u.username AS created_by, r.started_at, r.ended_at, r.created_at, r.updated_at"
#define RUN_FROM " FROM runs r JOIN projects p ON p.id = r.project_id LEFT JOIN users u ON u.id = r.created_by"

json_t *atr_store_run_json(struct atr_store *s, int64_t id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " RUN_COLS ", (SELECT json_group_array(json_object('dataset', d.name,"
					      " 'version', v.version, 'dataset_version_id', v.id)) FROM run_inputs i"
					      " JOIN dataset_versions v ON v.id = i.dataset_version_id JOIN datasets d"
					      " ON d.id = v.dataset_id WHERE i.run_id = r.id) AS inputs__json" RUN_FROM
					      " WHERE r.id = ?");
	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	return atr_store_one(st, err);
}

int atr_store_run_list(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " RUN_COLS RUN_FROM " WHERE r.project_id = ? AND (? = 0 OR r.id < ?)"
					      " ORDER BY r.id DESC LIMIT ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_int64(st, 3, p->after_id);
	sqlite3_bind_int(st, 4, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}
