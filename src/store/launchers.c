/*
 * launchers.c: the launchers, launcher_versions and launcher_jobs tables (migration 0031).
 * A version is immutable: editing a launcher adds one. Checking specs and parameters is the
 * caller's (atrium/launch_params.h).
 */
#include "atrium/store_launchers.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

static int insert_version(struct atr_store *s, int64_t launcher_id, int64_t version, const char *description,
			  const json_t *spec, const json_t *params, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO launcher_versions(launcher_id, version, description, spec,"
					      " parameters, created_by, created_at) VALUES (?,?,?,?,?,?,?)");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, launcher_id);
	sqlite3_bind_int64(st, 2, version);
	atr_db_bind_text(st, 3, description ? description : "");
	if (atr_db_bind_json(st, 4, spec) < 0 || atr_db_bind_json(st, 5, params) < 0) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	if (user_id > 0)
		sqlite3_bind_int64(st, 6, user_id);
	sqlite3_bind_int64(st, 7, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_launcher_create(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			      const json_t *spec, const json_t *params, int64_t user_id, int64_t *id_out)
{
	sqlite3_stmt *st;
	int64_t now = atr_now_ms();
	int rc = atr_store_begin(s);

	if (rc < 0)
		return rc;
	st = atr_db_stmt(s->db, "INSERT INTO launchers(project_id, name, created_by, created_at, updated_at)"
				" VALUES (?,?,?,?,?)");
	if (!st) {
		atr_store_rollback(s);
		return ATR_EDB;
	}
	sqlite3_bind_int64(st, 1, project_id);
	atr_db_bind_text(st, 2, name);
	if (user_id > 0)
		sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	rc = atr_db_step_write(st);
	if (rc == 0) {
		*id_out = atr_db_last_id(s->db);
		rc = insert_version(s, *id_out, 1, description, spec, params, user_id);
	}
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_launcher_add_version(struct atr_store *s, int64_t launcher_id, const char *description,
				   const json_t *spec, const json_t *params, int64_t user_id, int64_t *version_out)
{
	sqlite3_stmt *st;
	int rc = atr_store_begin(s);

	if (rc < 0)
		return rc;
	st = atr_db_stmt(s->db, "UPDATE launchers SET latest_version = latest_version + 1, updated_at = ?"
				" WHERE id = ? RETURNING latest_version");
	if (!st) {
		atr_store_rollback(s);
		return ATR_EDB;
	}
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, launcher_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_out = sqlite3_column_int64(st, 0);
	rc = atr_db_row_done(st, rc);
	if (rc == 0)
		rc = insert_version(s, launcher_id, *version_out, description, spec, params, user_id);
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_launcher_find(struct atr_store *s, int64_t project_id, const char *ref, struct atr_launcher *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT id, project_id, name, latest_version, archived_at IS NOT NULL FROM launchers"
				   " WHERE project_id = ?1 AND (name = ?2 OR CAST(id AS TEXT) = ?2)"
				   " ORDER BY name = ?2 DESC LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	atr_db_bind_text(st, 2, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(st, 0);
		out->project_id = sqlite3_column_int64(st, 1);
		atr_copy(out->name, sizeof(out->name), (const char *)sqlite3_column_text(st, 2));
		out->latest_version = sqlite3_column_int64(st, 3);
		out->archived = sqlite3_column_int(st, 4) != 0;
	}
	return atr_db_row_done(st, rc);
}

int atr_store_launcher_version(struct atr_store *s, int64_t launcher_id, int64_t version, int64_t *version_out,
			       json_t **spec, json_t **params)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT v.version, v.spec, v.parameters FROM launcher_versions v"
					      " JOIN launchers l ON l.id = v.launcher_id WHERE v.launcher_id = ?1"
					      " AND v.version = CASE WHEN ?2 = 0 THEN l.latest_version ELSE ?2 END");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, launcher_id);
	sqlite3_bind_int64(st, 2, version);
	rc = sqlite3_step(st);
	*spec = *params = NULL;
	if (rc == SQLITE_ROW) {
		*version_out = sqlite3_column_int64(st, 0);
		*spec = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		*params = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
	}
	rc = atr_db_row_done(st, rc);
	if (rc == 0 && (!*spec || !*params)) {
		json_decref(*spec);
		json_decref(*params);
		*spec = *params = NULL;
		rc = ATR_ENOMEM;
	}
	return rc;
}

int atr_store_launcher_archive(struct atr_store *s, int64_t launcher_id, bool archived)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE launchers SET archived_at = CASE WHEN ?2 THEN ?3 END,"
					      " updated_at = ?3 WHERE id = ?1");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, launcher_id);
	sqlite3_bind_int(st, 2, archived);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	return atr_db_step_write(st);
}

#define LAUNCHER_JSON                                                                                               \
	"SELECT l.id, p.name AS project, l.name, v.description, l.latest_version AS version,"                       \
	" v.spec AS spec__json, v.parameters AS parameters__json, l.archived_at IS NOT NULL AS archived__bool,"     \
	" (SELECT count(*) FROM launcher_jobs j WHERE j.launcher_id = l.id) AS job_count,"                          \
	" u.username AS created_by, l.created_at, l.updated_at FROM launchers l JOIN projects p"                    \
	" ON p.id = l.project_id JOIN launcher_versions v ON v.launcher_id = l.id AND v.version = l.latest_version" \
	" LEFT JOIN users u ON u.id = l.created_by"

json_t *atr_store_launcher_json(struct atr_store *s, int64_t launcher_id, int *err)
{
	return atr_store_json_by_id(s, LAUNCHER_JSON " WHERE l.id = ?", launcher_id, err);
}

int atr_store_launcher_list(struct atr_store *s, int64_t project_id, bool with_archived, const struct atr_page *p,
			    json_t *arr, bool *more)
{
	if (with_archived)
		return atr_store_list_keyed(s,
					    LAUNCHER_JSON " WHERE l.project_id = ?1 AND (?2 = 0 OR l.id < ?2)"
							  " ORDER BY l.id DESC LIMIT ?3",
					    project_id, p, arr, more);
	return atr_store_list_keyed(s,
				    LAUNCHER_JSON " WHERE l.project_id = ?1 AND l.archived_at IS NULL AND (?2 = 0 OR"
						  " l.id < ?2) ORDER BY l.id DESC LIMIT ?3",
				    project_id, p, arr, more);
}

int atr_store_launcher_versions(struct atr_store *s, int64_t launcher_id, const struct atr_page *p, json_t *arr,
				bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT v.id, v.version, v.description, v.spec AS spec__json, v.parameters AS"
				    " parameters__json, u.username AS created_by, v.created_at FROM launcher_versions v"
				    " LEFT JOIN users u ON u.id = v.created_by WHERE v.launcher_id = ?1 AND"
				    " (?2 = 0 OR v.id < ?2) ORDER BY v.id DESC LIMIT ?3",
				    launcher_id, p, arr, more);
}

int atr_store_launcher_job_add(struct atr_store *s, int64_t job_id, int64_t launcher_id, int64_t version,
			       const json_t *values, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO launcher_jobs(job_id, launcher_id, version, param_values,"
					      " created_by, created_at) VALUES (?,?,?,?,?,?)");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, launcher_id);
	sqlite3_bind_int64(st, 3, version);
	if (atr_db_bind_json(st, 4, values) < 0) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	if (user_id > 0)
		sqlite3_bind_int64(st, 5, user_id);
	sqlite3_bind_int64(st, 6, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_launcher_jobs(struct atr_store *s, int64_t launcher_id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT j.id, j.name, j.state, j.run_id, lj.version, lj.param_values AS"
				    " values__json, u.username AS created_by, lj.created_at FROM launcher_jobs lj"
				    " JOIN jobs j ON j.id = lj.job_id LEFT JOIN users u ON u.id = lj.created_by"
				    " WHERE lj.launcher_id = ?1 AND (?2 = 0 OR lj.job_id < ?2)"
				    " ORDER BY lj.job_id DESC LIMIT ?3",
				    launcher_id, p, arr, more);
}

json_t *atr_store_job_launcher(struct atr_store *s, int64_t job_id, int *err)
{
	return atr_store_json_by_id(s,
				    "SELECT l.name, lj.version, lj.param_values AS values__json FROM launcher_jobs lj"
				    " JOIN launchers l ON l.id = lj.launcher_id WHERE lj.job_id = ?",
				    job_id, err);
}
