/* audit.c: the audit log (who did what, when, from where, with what result) and idempotency keys. */
#include "atrium/store_identity.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

int atr_store_audit_add(struct atr_store *s, const struct atr_audit_entry *e)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO audit_log(created_at, actor, actor_id, action, object,"
					      " status, client, request_id) VALUES (?,?,?,?,?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	atr_db_bind_text(st, 2, e->actor);
	if (e->actor_id)
		sqlite3_bind_int64(st, 3, e->actor_id);
	atr_db_bind_text(st, 4, e->action);
	atr_db_bind_text(st, 5, e->object);
	sqlite3_bind_int(st, 6, (int)e->status);
	atr_db_bind_text(st, 7, e->client);
	atr_db_bind_text(st, 8, e->request_id);
	return atr_db_step_write(st);
}

int atr_store_audit_list(struct atr_store *s, const char *actor, const char *action, int64_t since_ms,
			 const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, created_at, actor, action, object, status, client,"
					      " request_id FROM audit_log WHERE (? IS NULL OR actor = ?)"
					      " AND (? IS NULL OR action = ? OR action LIKE ? || '.%')"
					      " AND created_at >= ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, actor);
	atr_db_bind_text(st, 2, actor);
	atr_db_bind_text(st, 3, action);
	atr_db_bind_text(st, 4, action);
	atr_db_bind_text(st, 5, action);
	sqlite3_bind_int64(st, 6, since_ms);
	sqlite3_bind_int64(st, 7, p->after_id);
	sqlite3_bind_int64(st, 8, p->after_id);
	sqlite3_bind_int(st, 9, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_audit_prune(struct atr_store *s, int64_t before_ms)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM audit_log WHERE created_at < ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, before_ms);
	rc = atr_db_step_write(st);
	return rc < 0 ? rc : atr_db_changes(s->db);
}

int atr_store_idem_get(struct atr_store *s, int64_t user_id, const char *key, const char *route, unsigned *status,
		       char **body)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT route, status, body FROM idempotency_keys"
					      " WHERE user_id = ? AND key = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	atr_db_bind_text(st, 2, key);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		atr_db_done(st);
		return rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), route) != 0) {
		atr_db_done(st);
		return ATR_ECONFLICT; /* the same key used for another request */
	}
	*status = (unsigned)sqlite3_column_int(st, 1);
	*body = strdup((const char *)sqlite3_column_text(st, 2));
	atr_db_done(st);
	return *body ? 0 : ATR_ENOMEM;
}

int atr_store_idem_put(struct atr_store *s, int64_t user_id, const char *key, const char *route, unsigned status,
		       const char *body)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT OR IGNORE INTO idempotency_keys(user_id, key, route, status,"
					      " body, created_at) VALUES (?,?,?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	atr_db_bind_text(st, 2, key);
	atr_db_bind_text(st, 3, route);
	sqlite3_bind_int(st, 4, (int)status);
	atr_db_bind_text(st, 5, body);
	sqlite3_bind_int64(st, 6, atr_now_ms());
	return atr_db_step_write(st);
}
