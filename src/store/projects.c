/* projects.c: the projects and project_members tables. */
#include "atrium/store_projects.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

void atr_store_project_row(sqlite3_stmt *st, int col, struct atr_project *out)
{
	const char *vis = (const char *)sqlite3_column_text(st, col + 3);

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, col);
	atr_copy(out->name, sizeof(out->name), (const char *)sqlite3_column_text(st, col + 1));
	out->team_id = sqlite3_column_int64(st, col + 2);
	out->internal = vis && strcmp(vis, "internal") == 0;
	out->archived = sqlite3_column_type(st, col + 4) != SQLITE_NULL;
}

static int fill(sqlite3_stmt *st, struct atr_project *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		atr_store_project_row(st, 0, out);
	return atr_db_row_done(st, rc);
}

int atr_store_project_get(struct atr_store *s, int64_t id, struct atr_project *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT id, name, team_id, visibility, archived_at FROM projects WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return fill(st, out);
}

int atr_store_project_find(struct atr_store *s, const char *ref, struct atr_project *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT id, name, team_id, visibility, archived_at FROM projects WHERE name = ?");
	int64_t id;
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, ref);
	rc = fill(st, out);
	if (rc == ATR_ENOTFOUND && atr_parse_i64(ref, 1, INT64_MAX, &id) == 0)
		rc = atr_store_project_get(s, id, out);
	return rc;
}

int atr_store_project_create(struct atr_store *s, const char *name, const char *description, int64_t team_id,
			     bool internal, const json_t *tags, int64_t creator, int64_t *id_out)
{
	sqlite3_stmt *st;
	int64_t now = atr_now_ms(), id;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "INSERT INTO projects(name, description, team_id, visibility, tags, created_by,"
				" created_at, updated_at) VALUES (?,?,?,?,coalesce(?, '[]'),?,?,?)");
	if (!st) {
		atr_db_rollback(s->db);
		return ATR_EDB;
	}
	atr_db_bind_text(st, 1, name);
	atr_db_bind_text(st, 2, description ? description : "");
	if (team_id > 0)
		sqlite3_bind_int64(st, 3, team_id);
	atr_db_bind_text(st, 4, internal ? "internal" : "private");
	atr_db_bind_json(st, 5, tags);
	if (creator > 0)
		sqlite3_bind_int64(st, 6, creator);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now);
	rc = atr_db_step_write(st);
	id = atr_db_last_id(s->db);
	if (rc == 0 && creator > 0)
		rc = atr_store_project_member_set(s, id, creator, ATR_PROLE_OWNER);
	if (rc == 0)
		rc = atr_db_commit(s->db);
	else
		atr_db_rollback(s->db);
	if (rc == 0 && id_out)
		*id_out = id;
	return rc;
}

#define PROJECT_COLS                                                                                                 \
	"p.id, p.name, p.description, t.name AS team, p.visibility, p.tags AS tags__json, u.username AS created_by," \
	" p.created_at, p.updated_at, p.archived_at,"                                                                \
	" (SELECT count(*) FROM project_members m WHERE m.project_id = p.id) AS member_count,"                       \
	" (SELECT o.name FROM projects o WHERE o.id = p.origin_project_id) AS from_template,"                        \
	" p.template_at IS NOT NULL AS template__bool, p.featured_at IS NOT NULL AS featured__bool"
#define PROJECT_FROM " FROM projects p LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN users u ON u.id = p.created_by"

json_t *atr_store_project_json(struct atr_store *s, int64_t id, enum atr_prole role, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " PROJECT_COLS PROJECT_FROM " WHERE p.id = ?");
	json_t *o;

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	o = atr_store_one(st, err);
	if (o)
		json_object_set_new(o, "role", json_string(atr_prole_name(role)));
	return o;
}

int atr_store_project_list(struct atr_store *s, int64_t user_id, bool admin, int64_t team_id, bool archived,
			   const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT " PROJECT_COLS ", CASE WHEN ? THEN 'owner' ELSE coalesce((SELECT role FROM project_members m"
		" WHERE m.project_id = p.id AND m.user_id = ?), 'viewer') END AS role" PROJECT_FROM
		" WHERE p.id > ? AND (? OR p.visibility = 'internal' OR EXISTS (SELECT 1 FROM project_members m"
		" WHERE m.project_id = p.id AND m.user_id = ?)) AND (? = 0 OR p.team_id = ?)"
		" AND ((p.archived_at IS NULL) OR ?) ORDER BY p.id LIMIT ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int(st, 1, admin);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, p->after_id);
	sqlite3_bind_int(st, 4, admin);
	sqlite3_bind_int64(st, 5, user_id);
	sqlite3_bind_int64(st, 6, team_id);
	sqlite3_bind_int64(st, 7, team_id);
	sqlite3_bind_int(st, 8, archived);
	sqlite3_bind_int(st, 9, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_project_update(struct atr_store *s, int64_t id, const char *description, int internal, int64_t team_id,
			     const json_t *tags)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE projects SET description = coalesce(?, description),"
					      " visibility = coalesce(?, visibility),"
					      " team_id = CASE WHEN ? < 0 THEN team_id WHEN ? = 0 THEN NULL ELSE ? END,"
					      " tags = coalesce(?, tags), updated_at = ? WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, description);
	atr_db_bind_text(st, 2, internal < 0 ? NULL : internal ? "internal" : "private");
	sqlite3_bind_int64(st, 3, team_id);
	sqlite3_bind_int64(st, 4, team_id);
	sqlite3_bind_int64(st, 5, team_id);
	atr_db_bind_json(st, 6, tags);
	sqlite3_bind_int64(st, 7, atr_now_ms());
	sqlite3_bind_int64(st, 8, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int atr_store_project_archive(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "UPDATE projects SET archived_at = coalesce(archived_at, ?), updated_at = ?"
				   " WHERE id = ?");
	int64_t now = atr_now_ms();
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	return atr_db_step_write(st);
}

enum atr_prole atr_store_project_member_role(struct atr_store *s, int64_t project_id, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT role FROM project_members WHERE project_id = ? AND user_id = ?");
	enum atr_prole r = ATR_PROLE_NONE;

	if (!st)
		return r;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, user_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = atr_prole_parse((const char *)sqlite3_column_text(st, 0));
	atr_db_done(st);
	return r;
}

int atr_store_project_member_set(struct atr_store *s, int64_t project_id, int64_t user_id, enum atr_prole role)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO project_members(project_id, user_id, role, added_at)"
		       " VALUES (?,?,?,?) ON CONFLICT(project_id, user_id) DO UPDATE SET role = excluded.role");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, user_id);
	atr_db_bind_text(st, 3, atr_prole_name(role));
	sqlite3_bind_int64(st, 4, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_project_member_remove(struct atr_store *s, int64_t project_id, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM project_members WHERE project_id = ? AND user_id = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, user_id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int64_t atr_store_project_owner_count(struct atr_store *s, int64_t project_id)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT count(*) FROM project_members WHERE project_id = ? AND role = 'owner'");
	int64_t n = -1;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, project_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return n;
}

int atr_store_project_members(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr,
			      bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT u.id, u.username, u.display_name, m.role, m.added_at"
				    " FROM project_members m JOIN users u ON u.id = m.user_id"
				    " WHERE m.project_id = ? AND u.id > ? ORDER BY u.id LIMIT ?",
				    project_id, p, arr, more);
}

/* ---- projects as MLflow experiments (the MLflow API, src/api/mlflow_*.c) ---- */

/* A slug from free text: lowercase letters and digits, '-' for the rest, at most 50 bytes. */
void atr_store_project_slug(const char *text, char *out, size_t len)
{
	size_t n = 0;
	bool dash = false;

	for (const char *p = text; *p && n + 1 < len && n < 50; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n > 0)
				out[n++] = '-';
			dash = false;
			if (n + 1 < len)
				out[n++] = c;
		} else {
			dash = true;
		}
	}
	if (n == 0 && len > 3) {
		memcpy(out, "exp", 3);
		n = 3;
	}
	out[n] = 0;
}

int atr_store_experiment_create(struct atr_store *s, const char *experiment_name, int64_t team_id, int64_t creator,
				int64_t default_of, int64_t *id_out)
{
	char slug[64], name[64];
	int64_t id = 0;
	int rc = ATR_ECONFLICT;
	sqlite3_stmt *st;

	atr_store_project_slug(experiment_name, slug, sizeof(slug));
	/* the slug, or the slug with a number when a project (anyone's) has it */
	for (int i = 1; i < 1000 && rc == ATR_ECONFLICT; i++) {
		if (i == 1)
			atr_copy(name, sizeof(name), slug);
		else
			snprintf(name, sizeof(name), "%s-%d", slug, i);
		rc = atr_store_project_create(s, name, "", team_id, false, NULL, creator, &id);
	}
	if (rc < 0)
		return rc;
	st = atr_db_stmt(s->db, "UPDATE projects SET experiment_name = ?, default_of = ? WHERE id = ?");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, experiment_name);
	if (default_of > 0)
		sqlite3_bind_int64(st, 2, default_of);
	sqlite3_bind_int64(st, 3, id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*id_out = id;
	return 0;
}

int atr_store_project_default(struct atr_store *s, int64_t user_id, const char *username, struct atr_project *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM projects WHERE default_of = ?");
	char name[80];
	int64_t id = 0;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	if ((rc = atr_db_row_done(st, rc)) < 0 && rc != ATR_ENOTFOUND)
		return rc;
	if (!id) {
		snprintf(name, sizeof(name), "default %s", username);
		if ((rc = atr_db_begin(s->db)) < 0)
			return rc;
		rc = atr_store_experiment_create(s, name, 0, user_id, user_id, &id);
		/* its MLflow name is "Default", as in every MLflow server */
		if (rc == 0 &&
		    !(st = atr_db_stmt(s->db, "UPDATE projects SET experiment_name = 'Default' WHERE id = ?")))
			rc = ATR_EDB;
		if (rc == 0) {
			sqlite3_bind_int64(st, 1, id);
			rc = atr_db_step_write(st);
		}
		if (rc == 0)
			rc = atr_db_commit(s->db);
		else
			atr_db_rollback(s->db);
		if (rc < 0)
			return rc;
	}
	return atr_store_project_get(s, id, out);
}

int atr_store_experiment_find(struct atr_store *s, const char *experiment_name, int64_t user_id, bool admin,
			      struct atr_project *out)
{
	/* the visible project with that MLflow name (or, made natively, that project name), the
	 * caller's own Default first */
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT p.id FROM projects p WHERE (p.experiment_name = ?1 OR (p.experiment_name IS NULL AND"
		       " p.name = ?1)) AND (p.default_of IS NULL OR p.default_of = ?2) AND (?3 OR p.visibility ="
		       " 'internal' OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND"
		       " m.user_id = ?2)) ORDER BY p.default_of IS NULL, p.id LIMIT 1");
	int64_t id = 0;
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, experiment_name);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int(st, 3, admin);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	if ((rc = atr_db_row_done(st, rc)) < 0)
		return rc;
	return atr_store_project_get(s, id, out);
}
