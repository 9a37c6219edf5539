/*
 * runs.c: the runs, run_params, run_tags and run_inputs tables. runs.params and runs.tags
 * keep a JSON copy of the key/value rows for answers; the rows are what searches use.
 * Not here: metrics (metrics.c), run search (run_search.c).
 */
#include "atrium/store_runs.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <string.h>

/*
 * Params: inserts new keys (a key already there is left alone: add_params checked it).
 * Tags: sets each key, or deletes it when its value is null.
 */
static int put_pairs(struct atr_store *s, bool tags, int64_t run_id, const json_t *map)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)map, k, v)
	{
		sqlite3_stmt *st;
		int rc;
		if (json_is_null(v))
			st = atr_db_stmt(s->db, "DELETE FROM run_tags WHERE run_id = ? AND key = ?");
		else if (tags)
			st = atr_db_stmt(s->db, "INSERT INTO run_tags(run_id, key, value) VALUES (?,?,?)"
						" ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value");
		else
			st = atr_db_stmt(s->db, "INSERT INTO run_params(run_id, key, value) VALUES (?,?,?)"
						" ON CONFLICT(run_id, key) DO NOTHING");
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, run_id);
		atr_db_bind_text(st, 2, k);
		if (!json_is_null(v))
			atr_db_bind_text(st, 3, json_string_value(v));
		if ((rc = atr_db_step_write(st)) < 0)
			return rc;
	}
	return 0;
}

/* A new run's MLflow id: 32 random lowercase hex characters. */
static int bind_new_uuid(sqlite3_stmt *st, int col)
{
	unsigned char raw[16];
	char hex[33];

	if (atr_random_bytes(raw, sizeof(raw)) < 0)
		return ATR_EIO;
	atr_hex_encode(raw, sizeof(raw), hex);
	atr_db_bind_text(st, col, hex);
	return 0;
}

/* The code version (git_commit at col, git_dirty at col + 1); NULL when not known. */
static void bind_git(sqlite3_stmt *st, int col, const struct atr_run_spec *spec)
{
	if (spec->git_commit)
		atr_db_bind_text(st, col, spec->git_commit);
	if (spec->git_dirty != ATR_GIT_UNKNOWN)
		sqlite3_bind_int(st, col + 1, spec->git_dirty == ATR_GIT_DIRTY);
}

int atr_store_run_create(struct atr_store *s, const struct atr_run_spec *spec, int64_t *id_out)
{
	sqlite3_stmt *st;
	int64_t now = atr_now_ms(), id;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	st = atr_db_stmt(
		s->db,
		"INSERT INTO runs(project_id, name, status, params, tags, job_id, created_by, started_at,"
		" ended_at, created_at, updated_at, uuid, git_commit, git_dirty) VALUES (?,?,?,coalesce(?, '{}'),"
		"coalesce(?, '{}'),?,?,?,?,?,?,?,?,?)");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, spec->project_id);
	atr_db_bind_text(st, 2, spec->name ? spec->name : "");
	atr_db_bind_text(st, 3, spec->status ? spec->status : "running");
	if ((rc = atr_db_bind_json(st, 4, spec->params)) < 0 || (rc = atr_db_bind_json(st, 5, spec->tags)) < 0)
		goto fail;
	if (spec->job_id > 0)
		sqlite3_bind_int64(st, 6, spec->job_id);
	if (spec->user_id > 0)
		sqlite3_bind_int64(st, 7, spec->user_id);
	sqlite3_bind_int64(st, 8, spec->started_at ? spec->started_at : now);
	if (spec->status && strcmp(spec->status, "running") != 0 && strcmp(spec->status, "queued") != 0)
		sqlite3_bind_int64(st, 9, spec->ended_at ? spec->ended_at : now);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now);
	if (spec->uuid)
		atr_db_bind_text(st, 12, spec->uuid);
	else if ((rc = bind_new_uuid(st, 12)) < 0)
		goto fail;
	bind_git(st, 13, spec);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	id = atr_db_last_id(s->db);
	if ((spec->params && (rc = put_pairs(s, false, id, spec->params)) < 0) ||
	    (spec->tags && (rc = put_pairs(s, true, id, spec->tags)) < 0))
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
		atr_copy(out->status, sizeof(out->status), (const char *)sqlite3_column_text(st, 2));
	}
	return atr_db_row_done(st, rc);
}

static int run_access(sqlite3_stmt *st, struct atr_run *run, struct atr_project *project, enum atr_prole *member)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		atr_store_project_row(st, 0, project);
		run->project_id = project->id;
		atr_copy(run->status, sizeof(run->status), (const char *)sqlite3_column_text(st, 5));
		*member = atr_prole_parse((const char *)sqlite3_column_text(st, 6));
		run->id = sqlite3_column_int64(st, 7);
		atr_copy(run->uuid, sizeof(run->uuid), (const char *)sqlite3_column_text(st, 8));
		run->deleted = sqlite3_column_type(st, 9) != SQLITE_NULL;
	}
	return atr_db_row_done(st, rc);
}

#define RUN_ACCESS                                                                                     \
	"SELECT p.id, p.name, p.team_id, p.visibility, p.archived_at, r.status, m.role, r.id, r.uuid," \
	" r.deleted_at FROM runs r JOIN projects p ON p.id = r.project_id"                             \
	" LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?2"

int atr_store_run_access(struct atr_store *s, int64_t id, int64_t user_id, struct atr_run *run,
			 struct atr_project *project, enum atr_prole *member)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, RUN_ACCESS " WHERE r.id = ?1");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, user_id);
	return run_access(st, run, project, member);
}

int atr_store_run_access_uuid(struct atr_store *s, const char *uuid, int64_t user_id, struct atr_run *run,
			      struct atr_project *project, enum atr_prole *member)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, RUN_ACCESS " WHERE r.uuid = ?1");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, uuid);
	sqlite3_bind_int64(st, 2, user_id);
	return run_access(st, run, project, member);
}

/* (a metric's last value is written with 17 digits: SQLite's JSON keeps 15, which can round the
 * largest doubles past the largest one; NaN, stored as NULL, is null) */
#define RUN_COLS                                                                                                  \
	"r.id, r.uuid, p.name AS project, r.name, r.status, r.params AS params__json, r.tags AS tags__json,"      \
	" r.job_id, r.git_commit, r.git_dirty AS git_dirty__bool,"                                                \
	" u.username AS created_by, r.started_at, r.ended_at, r.created_at, r.updated_at, r.deleted_at,"          \
	" (SELECT json_group_object(key, CASE WHEN last IS NULL THEN NULL ELSE json(printf('%!.17g', last)) END)" \
	" FROM run_metrics WHERE run_id = r.id) AS metrics__json"
#define RUN_FROM " FROM runs r JOIN projects p ON p.id = r.project_id LEFT JOIN users u ON u.id = r.created_by"

json_t *atr_store_run_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s,
				    "SELECT " RUN_COLS ", (SELECT json_group_array(json_object('dataset', d.name,"
				    " 'version', v.version, 'dataset_version_id', v.id)) FROM run_inputs i"
				    " JOIN dataset_versions v ON v.id = i.dataset_version_id JOIN datasets d"
				    " ON d.id = v.dataset_id WHERE i.run_id = r.id) AS inputs__json" RUN_FROM
				    " WHERE r.id = ?",
				    id, err);
}

json_t *atr_store_run_item(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " RUN_COLS RUN_FROM " WHERE r.id = ?", id, err);
}

/* Params: new keys only; an existing key must keep its value (ATR_ECONFLICT otherwise). */
static int add_params(struct atr_store *s, int64_t id, const json_t *params, char *conflict_key, size_t keylen)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)params, k, v)
	{
		sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT value FROM run_params WHERE run_id = ? AND key = ?");
		bool differs;
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, id);
		atr_db_bind_text(st, 2, k);
		differs = sqlite3_step(st) == SQLITE_ROW &&
			  strcmp((const char *)sqlite3_column_text(st, 0), json_string_value(v)) != 0;
		atr_db_done(st);
		if (differs) {
			atr_copy(conflict_key, keylen, k);
			return ATR_ECONFLICT;
		}
	}
	return put_pairs(s, false, id, params);
}

/* Rewrites the JSON copy (runs.params or runs.tags) from the rows; sql binds the run as ?1. */
static int refresh_copy(struct atr_store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return atr_db_step_write(st);
}

int atr_store_run_update(struct atr_store *s, int64_t id, const struct atr_run_patch *patch, char *conflict_key,
			 size_t keylen)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if (patch->params &&
	    ((rc = add_params(s, id, patch->params, conflict_key, keylen)) < 0 ||
	     (rc = refresh_copy(s,
				"UPDATE runs SET params = (SELECT json_group_object(key, value) FROM run_params"
				" WHERE run_id = ?1) WHERE id = ?1",
				id)) < 0))
		goto fail;
	if (patch->tags &&
	    ((rc = put_pairs(s, true, id, patch->tags)) < 0 ||
	     (rc = refresh_copy(s,
				"UPDATE runs SET tags = (SELECT json_group_object(key, value) FROM run_tags"
				" WHERE run_id = ?1) WHERE id = ?1",
				id)) < 0))
		goto fail;
	st = atr_db_stmt(s->db, "UPDATE runs SET name = coalesce(?1, name), status = coalesce(?2, status),"
				" ended_at = CASE WHEN ?2 IS NULL THEN ended_at WHEN ?2 = 'running' THEN NULL"
				" ELSE coalesce(ended_at, ?3) END, updated_at = ?3 WHERE id = ?4");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	atr_db_bind_text(st, 1, patch->name);
	atr_db_bind_text(st, 2, patch->status);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, id);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

bool atr_store_run_in_use(struct atr_store *s, int64_t run_id)
{
	char why[8];
	return atr_store_run_kept_by(s, run_id, why, sizeof(why));
}

bool atr_store_run_kept_by(struct atr_store *s, int64_t run_id, char *why, size_t whylen)
{
	/* the source run of a model version (lineage), or a job's run (the job points at it) */
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT 'it is the source run of version ' || v.version || ' of model ' || quote(coalesce(m.name, '?'))"
		" FROM model_versions v LEFT JOIN models m ON m.id = v.model_id WHERE v.source_run_id = ?1"
		" UNION ALL SELECT 'it is the run of job ' || j.id || ' (' || j.state || ')' FROM jobs j"
		" WHERE j.run_id = ?1 LIMIT 1");
	int rc;

	if (!st) {
		if (why && whylen)
			atr_copy(why, whylen, "it could not be checked");
		return true; /* cannot tell: keep the run */
	}
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && why && whylen)
		atr_copy(why, whylen, (const char *)sqlite3_column_text(st, 0));
	atr_db_done(st);
	return rc != SQLITE_DONE;
}

int atr_store_run_delete(struct atr_store *s, int64_t run_id, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc;

	if (atr_store_run_kept_by(s, run_id, why, whylen))
		return ATR_ECONFLICT;
	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_files_delete_owner(s, "run", run_id)) < 0)
		goto fail;
	/* params, tags, inputs, metric series and their chunks go with it (ON DELETE CASCADE) */
	st = atr_db_stmt(s->db, "DELETE FROM runs WHERE id = ?");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, run_id);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	if (atr_db_changes(s->db) == 0) {
		rc = ATR_ENOTFOUND;
		goto fail;
	}
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}
