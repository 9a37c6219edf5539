/*
 * models.c: the models table and each model's history (model_events), with what MLflow's
 * registry adds (key/value tags, rename, delete, its answers). Versions are in
 * model_versions.c, aliases and promotions in promotions.c, MLflow's searches in
 * model_search.c, lineage in lineage.c. Access is decided by the caller.
 */
#include "atrium/store_models.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_files.h"
#include "atrium/util.h"
#include "models_internal.h"

#include <stdio.h>
#include <string.h>

int atr_store_model_event_add(struct atr_store *s, const struct model_event *e)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO model_events(model_id, kind, version, alias, from_version,"
					      " promotion_id, actor, comment, created_at) VALUES (?,?,?,?,?,?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, e->model_id);
	atr_db_bind_text(st, 2, e->kind);
	if (e->version > 0)
		sqlite3_bind_int64(st, 3, e->version);
	atr_db_bind_text(st, 4, e->alias);
	if (e->from_version > 0)
		sqlite3_bind_int64(st, 5, e->from_version);
	if (e->promotion_id > 0)
		sqlite3_bind_int64(st, 6, e->promotion_id);
	atr_db_bind_text(st, 7, e->actor);
	atr_db_bind_text(st, 8, e->comment && *e->comment ? e->comment : NULL);
	sqlite3_bind_int64(st, 9, atr_now_ms());
	return atr_db_step_write(st);
}

/* ---- models ---- */

int atr_store_model_create(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			   const json_t *tags, int64_t user_id, const char *actor, int64_t *id_out)
{
	struct model_event e = { .kind = "model_created", .actor = actor };
	sqlite3_stmt *st;
	int64_t now = atr_now_ms();
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "INSERT INTO models(project_id, name, description, tags, created_by, created_at,"
				" updated_at) VALUES (?,?,?,coalesce(?, '[]'),?,?,?)");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, project_id);
	atr_db_bind_text(st, 2, name);
	atr_db_bind_text(st, 3, description ? description : "");
	if ((rc = atr_db_bind_json(st, 4, tags)) < 0) {
		atr_db_done(st);
		goto fail;
	}
	if (user_id > 0)
		sqlite3_bind_int64(st, 5, user_id);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	e.model_id = atr_db_last_id(s->db);
	if ((rc = atr_store_model_event_add(s, &e)) < 0)
		goto fail;
	if ((rc = atr_db_commit(s->db)) < 0)
		return rc;
	if (id_out)
		*id_out = e.model_id;
	return 0;
fail:
	atr_db_rollback(s->db);
	return rc;
}

static int fill_model(sqlite3_stmt *st, struct atr_model *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->project_id = sqlite3_column_int64(st, 1);
		atr_copy(out->name, sizeof(out->name), (const char *)sqlite3_column_text(st, 2));
	}
	return atr_db_row_done(st, rc);
}

int atr_store_model_find(struct atr_store *s, int64_t project_id, const char *name, struct atr_model *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT id, project_id, name FROM models WHERE project_id = ? AND name = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	atr_db_bind_text(st, 2, name);
	return fill_model(st, out);
}

int atr_store_model_find_visible(struct atr_store *s, const char *name, int64_t user_id, bool admin,
				 struct atr_model *out, int *count)
{
	/* the visible models of that name: the first, and how many there are (2 means "at least") */
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT m.id, m.project_id, m.name FROM models m JOIN projects p ON p.id = m.project_id"
		       " WHERE m.name = ?1 AND (?3 OR p.visibility = 'internal' OR EXISTS (SELECT 1 FROM"
		       " project_members pm WHERE pm.project_id = p.id AND pm.user_id = ?2)) ORDER BY m.id LIMIT 2");
	int rc;

	*count = 0;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int(st, 3, admin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((*count)++ == 0) {
			out->id = sqlite3_column_int64(st, 0);
			out->project_id = sqlite3_column_int64(st, 1);
			atr_copy(out->name, sizeof(out->name), (const char *)sqlite3_column_text(st, 2));
		}
	}
	atr_db_done(st);
	if (rc != SQLITE_DONE)
		return ATR_EDB;
	return *count ? 0 : ATR_ENOTFOUND;
}

int atr_store_model_get(struct atr_store *s, int64_t id, struct atr_model *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, project_id, name FROM models WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return fill_model(st, out);
}

int atr_store_model_find_or_create(struct atr_store *s, int64_t project_id, const char *name, const char *actor,
				   struct atr_model *out)
{
	int64_t id;
	int rc = atr_store_model_find(s, project_id, name, out);

	if (rc != ATR_ENOTFOUND)
		return rc;
	if (!atr_is_slug(name))
		return ATR_EINVAL;
	rc = atr_store_model_create(s, project_id, name, "", NULL, 0, actor, &id);
	return rc < 0 ? rc : atr_store_model_get(s, id, out);
}

int atr_store_model_update(struct atr_store *s, int64_t id, const char *description, const json_t *tags)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE models SET description = coalesce(?, description),"
					      " tags = coalesce(?, tags), updated_at = ? WHERE id = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, description);
	if ((rc = atr_db_bind_json(st, 2, tags)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

#define MODEL_COLS                                                                                        \
	"m.id, m.name, p.name AS project, m.description, m.tags AS tags__json, u.username AS created_by," \
	" m.created_at, m.updated_at,"                                                                    \
	" (SELECT count(*) FROM model_versions v WHERE v.model_id = m.id) AS version_count,"              \
	" (SELECT max(version) FROM model_versions v WHERE v.model_id = m.id AND v.state = 'committed')"  \
	" AS latest_version,"                                                                             \
	" (SELECT json_group_object(a.alias, v.version) FROM model_aliases a JOIN model_versions v"       \
	" ON v.id = a.version_id WHERE a.model_id = m.id) AS aliases__json"
#define MODEL_FROM " FROM models m JOIN projects p ON p.id = m.project_id LEFT JOIN users u ON u.id = m.created_by"

json_t *atr_store_model_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " MODEL_COLS MODEL_FROM " WHERE m.id = ?", id, err);
}

int atr_store_model_list(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(
		s, "SELECT " MODEL_COLS MODEL_FROM " WHERE m.project_id = ? AND m.id > ? ORDER BY m.id LIMIT ?",
		project_id, p, arr, more);
}

int atr_store_model_history(struct atr_store *s, int64_t model_id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(
		s,
		"SELECT id, kind, version, alias, from_version, promotion_id, actor, comment, created_at"
		" FROM model_events WHERE model_id = ?1 AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
		model_id, p, arr, more);
}

/* ---- MLflow's registry (see store_models.h) ---- */

void atr_store_model_bind_viewer(sqlite3_stmt *st, const struct atr_model_viewer *v)
{
	sqlite3_bind_int64(st, 1, v->project_id > 0 ? 0 : v->user_id);
	sqlite3_bind_int(st, 2, v->admin && v->project_id <= 0);
	sqlite3_bind_int64(st, 3, v->project_id > 0 ? v->project_id : 0);
}

json_t *atr_store_model_viewer_one(struct atr_store *s, const char *sql, const struct atr_model_viewer *v, int64_t id,
				   int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	atr_store_model_bind_viewer(st, v);
	sqlite3_bind_int64(st, 4, id);
	return atr_store_one(st, err);
}

int atr_store_model_latest_run_project(struct atr_store *s, int64_t user_id, int64_t *project_id)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT r.project_id FROM runs r JOIN projects p ON p.id = r.project_id"
				   " WHERE r.created_by = ? AND r.deleted_at IS NULL AND p.archived_at IS NULL"
				   " ORDER BY r.id DESC LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*project_id = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

int atr_store_model_create_kv(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			      const json_t *kv_tags, int64_t user_id, const char *actor, int64_t *id_out)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_model_create(s, project_id, name, description, NULL, user_id, actor, &id)) < 0)
		goto fail;
	if (kv_tags) {
		if (!(st = atr_db_stmt(s->db, "UPDATE models SET kv_tags = ? WHERE id = ?"))) {
			rc = ATR_EDB;
			goto fail;
		}
		if ((rc = atr_db_bind_json(st, 1, kv_tags)) < 0) {
			atr_db_done(st);
			goto fail;
		}
		sqlite3_bind_int64(st, 2, id);
		if ((rc = atr_db_step_write(st)) < 0)
			goto fail;
	}
	if ((rc = atr_db_commit(s->db)) < 0)
		return rc;
	*id_out = id;
	return 0;
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_model_rename(struct atr_store *s, int64_t id, const char *new_name, const char *actor)
{
	struct model_event e = { .model_id = id, .kind = "model_renamed", .actor = actor };
	struct atr_model m;
	sqlite3_stmt *st;
	char comment[96];
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_model_get(s, id, &m)) < 0)
		goto fail;
	if (!(st = atr_db_stmt(s->db, "UPDATE models SET name = ?, updated_at = ? WHERE id = ?"))) {
		rc = ATR_EDB;
		goto fail;
	}
	atr_db_bind_text(st, 1, new_name);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, id);
	snprintf(comment, sizeof(comment), "renamed from '%s'", m.name);
	e.comment = comment;
	if ((rc = atr_db_step_write(st)) < 0 || (rc = atr_store_model_event_add(s, &e)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_model_version_ids(struct atr_store *s, int64_t model_id, json_t *arr)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM model_versions WHERE model_id = ? ORDER BY version");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, model_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(arr, json_integer(sqlite3_column_int64(st, 0))) < 0) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

/* Why a model cannot be deleted (into why), or 0 when it can: an alias, a deployment. */
static int model_in_use(struct atr_store *s, int64_t id, char *why, size_t whylen)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT 'alias ''' || a.alias || ''' points at version ' || v.version"
				   " FROM model_aliases a JOIN model_versions v ON v.id = a.version_id"
				   " WHERE a.model_id = ?1 UNION ALL SELECT 'deployment ''' || name || ''' uses it'"
				   " FROM deployments WHERE model_id = ?1 LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		atr_copy(why, whylen, (const char *)sqlite3_column_text(st, 0));
	rc = atr_db_row_done(st, rc);
	return rc == 0 ? ATR_ECONFLICT : rc == ATR_ENOTFOUND ? 0 : rc;
}

/* One statement of a model's deletion, its parameter the model's id. */
static int delete_rows(struct atr_store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return atr_db_step_write(st);
}

int atr_store_model_delete(struct atr_store *s, int64_t id, char *why, size_t whylen)
{
	static const char *const sql[] = {
		"DELETE FROM model_promotions WHERE model_id = ?",
		"DELETE FROM model_events WHERE model_id = ?",
		"DELETE FROM model_versions WHERE model_id = ?",
		"DELETE FROM models WHERE id = ?",
	};
	json_t *versions = json_array();
	size_t i;
	json_t *v;
	int rc;

	if (!versions)
		return ATR_ENOMEM;
	if ((rc = atr_db_begin(s->db)) < 0)
		goto out;
	if ((rc = model_in_use(s, id, why, whylen)) < 0 || (rc = atr_store_model_version_ids(s, id, versions)) < 0)
		goto fail;
	json_array_foreach(versions, i, v)
	{
		if ((rc = atr_store_files_delete_owner(s, "model_version", json_integer_value(v))) < 0)
			goto fail;
	}
	for (i = 0; i < ATR_ARRAY_LEN(sql); i++)
		if ((rc = delete_rows(s, sql[i], id)) < 0)
			goto fail;
	rc = atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : 0;
	if (rc < 0)
		goto fail;
	rc = atr_db_commit(s->db);
	goto out;
fail:
	atr_db_rollback(s->db);
out:
	json_decref(versions);
	return rc;
}

int atr_store_model_kv_tag(struct atr_store *s, int64_t model_id, const char *key, const char *value)
{
	/* a merge patch: {"key": "value"} sets it, {"key": null} removes it, whatever the key holds */
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE models SET kv_tags = json_patch(kv_tags, json_object(?1, ?2)),"
					      " updated_at = ?3 WHERE id = ?4");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, key);
	atr_db_bind_text(st, 2, value);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, model_id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

/* MLflow's registered model (latest_versions and the shown name are the API's). */
#define MLFLOW_MODEL_COLS                                                                                   \
	"m.id, m.name, p.name AS project, " MODEL_AMBIGUOUS " AS ambiguous__bool,"                          \
	" m.created_at AS creation_timestamp, m.updated_at AS last_updated_timestamp,"                      \
	" u.username AS user_id, m.description, m.kv_tags AS tags__json,"                                   \
	" (SELECT json_group_array(json_object('alias', x.alias, 'version', x.version)) FROM"               \
	" (SELECT a.alias, CAST(mv.version AS TEXT) AS version FROM model_aliases a JOIN model_versions mv" \
	" ON mv.id = a.version_id WHERE a.model_id = m.id ORDER BY a.alias) x) AS aliases__json"

json_t *atr_store_model_mlflow_json(struct atr_store *s, int64_t id, const struct atr_model_viewer *v, int *err)
{
	return atr_store_model_viewer_one(s, "SELECT " MLFLOW_MODEL_COLS MODEL_FROM " WHERE m.id = ?4", v, id, err);
}
