/*
 * models.c: the models table and each model's history (model_events). Versions are in
 * model_versions.c, aliases and promotions in promotions.c, lineage in lineage.c. Access is
 * decided by the caller.
 */
#include "atrium/store_models.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"
#include "models_internal.h"

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
