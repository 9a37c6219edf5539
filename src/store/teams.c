/* teams.c: teams, their members and their quotas (enforced by the scheduler). */
#include "atrium/store_identity.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

static void bind_quota(sqlite3_stmt *st, int idx, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, idx, v);
	else
		sqlite3_bind_null(st, idx);
}

int atr_store_team_create(struct atr_store *s, const char *name, const char *description, int64_t max_gpus,
			  int64_t max_jobs, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO teams(name, description, max_gpus, max_concurrent_jobs,"
					      " created_at) VALUES (?,?,?,?,?)");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	atr_db_bind_text(st, 2, description ? description : "");
	bind_quota(st, 3, max_gpus);
	bind_quota(st, 4, max_jobs);
	sqlite3_bind_int64(st, 5, atr_now_ms());
	rc = atr_db_step_write(st);
	if (rc == 0 && id_out)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

int atr_store_team_id(struct atr_store *s, const char *name, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM teams WHERE name = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id_out = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

#define TEAM_COLS "id, name, description, max_gpus, max_concurrent_jobs, created_at"

json_t *atr_store_team_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s,
				    "SELECT " TEAM_COLS ", (SELECT json_group_array(json_object("
				    "'username', u.username, 'role', m.role)) FROM team_members m JOIN users u"
				    " ON u.id = m.user_id WHERE m.team_id = teams.id) AS members__json"
				    " FROM teams WHERE id = ?",
				    id, err);
}

int atr_store_team_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " TEAM_COLS ", (SELECT count(*) FROM team_members m"
					      " WHERE m.team_id = teams.id) AS member_count FROM teams WHERE id > ?"
					      " ORDER BY id LIMIT ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, p->after_id);
	sqlite3_bind_int(st, 2, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_team_update(struct atr_store *s, int64_t id, const char *description, int64_t max_gpus, int64_t max_jobs)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE teams SET description = coalesce(?, description),"
					      " max_gpus = CASE ? WHEN 1 THEN max_gpus ELSE ? END,"
					      " max_concurrent_jobs = CASE ? WHEN 1 THEN max_concurrent_jobs ELSE ? END"
					      " WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, description);
	sqlite3_bind_int(st, 2, max_gpus == -1);
	bind_quota(st, 3, max_gpus);
	sqlite3_bind_int(st, 4, max_jobs == -1);
	bind_quota(st, 5, max_jobs);
	sqlite3_bind_int64(st, 6, id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int atr_store_team_member_set(struct atr_store *s, int64_t team_id, int64_t user_id, const char *role)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO team_members(team_id, user_id, role, added_at)"
		       " VALUES (?,?,?,?) ON CONFLICT(team_id, user_id) DO UPDATE SET role = excluded.role");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, team_id);
	sqlite3_bind_int64(st, 2, user_id);
	atr_db_bind_text(st, 3, role);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_team_member_remove(struct atr_store *s, int64_t team_id, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM team_members WHERE team_id = ? AND user_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, team_id);
	sqlite3_bind_int64(st, 2, user_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

const char *atr_store_team_role(struct atr_store *s, int64_t team_id, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT role FROM team_members WHERE team_id = ? AND user_id = ?");
	const char *role = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, team_id);
	sqlite3_bind_int64(st, 2, user_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		role = strcmp((const char *)sqlite3_column_text(st, 0), "maintainer") == 0 ? "maintainer" : "member";
	atr_db_done(st);
	return role;
}
