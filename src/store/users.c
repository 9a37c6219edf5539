/* users.c: the users table. Passwords arrive already hashed (see src/http/password.c). */
#include "atrium/store_identity.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

#define USER_COLS                                                        \
	"id, username, display_name, role, disabled AS disabled__bool, " \
	"password_hash IS NOT NULL AS has_password__bool, created_at, updated_at"

int atr_store_user_create(struct atr_store *s, const char *username, const char *display_name, bool admin,
			  const char *password_hash, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO users(username, display_name, role, password_hash,"
					      " created_at, updated_at) VALUES (?,?,?,?,?,?)");
	int64_t now = atr_now_ms();
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, username);
	atr_db_bind_text(st, 2, display_name ? display_name : "");
	atr_db_bind_text(st, 3, admin ? "admin" : "member");
	atr_db_bind_text(st, 4, password_hash);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	rc = atr_db_step_write(st);
	if (rc == 0 && id_out)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

static int fill_user(sqlite3_stmt *st, struct atr_user *out)
{
	int rc = sqlite3_step(st);
	const char *ph;

	if (rc != SQLITE_ROW) {
		atr_db_done(st);
		return rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
	}
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	atr_copy(out->username, sizeof(out->username), (const char *)sqlite3_column_text(st, 1));
	atr_copy(out->display_name, sizeof(out->display_name), (const char *)sqlite3_column_text(st, 2));
	out->admin = strcmp((const char *)sqlite3_column_text(st, 3), "admin") == 0;
	out->disabled = sqlite3_column_int(st, 4) != 0;
	ph = (const char *)sqlite3_column_text(st, 5);
	atr_copy(out->password_hash, sizeof(out->password_hash), ph ? ph : "");
	atr_db_done(st);
	return 0;
}

int atr_store_user_get(struct atr_store *s, const char *username, struct atr_user *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, username, display_name, role, disabled, password_hash"
					      " FROM users WHERE username = ?");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, username);
	return fill_user(st, out);
}

int atr_store_user_get_by_id(struct atr_store *s, int64_t id, struct atr_user *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, username, display_name, role, disabled, password_hash"
					      " FROM users WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return fill_user(st, out);
}

json_t *atr_store_user_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s,
				    "SELECT " USER_COLS ", (SELECT json_group_array(json_object("
				    "'team', t.name, 'role', m.role)) FROM team_members m JOIN teams t"
				    " ON t.id = m.team_id WHERE m.user_id = users.id) AS teams__json"
				    " FROM users WHERE id = ?",
				    id, err);
}

int atr_store_user_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " USER_COLS " FROM users WHERE id > ? ORDER BY id LIMIT ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, p->after_id);
	sqlite3_bind_int(st, 2, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_user_update(struct atr_store *s, int64_t id, const char *display_name, int admin, int disabled,
			  const char *password_hash)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "UPDATE users SET display_name = coalesce(?, display_name),"
				   " role = coalesce(?, role), disabled = coalesce(?, disabled),"
				   " password_hash = coalesce(?, password_hash), updated_at = ? WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, display_name);
	atr_db_bind_text(st, 2, admin < 0 ? NULL : admin ? "admin" : "member");
	if (disabled >= 0)
		sqlite3_bind_int(st, 3, disabled);
	atr_db_bind_text(st, 4, password_hash);
	sqlite3_bind_int64(st, 5, atr_now_ms());
	sqlite3_bind_int64(st, 6, id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int64_t atr_store_user_count(struct atr_store *s)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*) FROM users");
	int64_t n = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return n;
}

int64_t atr_store_admin_count(struct atr_store *s)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0");
	int64_t n = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return n;
}
