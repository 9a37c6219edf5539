/* tokens.c: the api_tokens table (every kind of credential), stored as sha256 only. */
#include "atrium/store_identity.h"
#include "atrium/credentials.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

#define TOKEN_COLS "id, kind, name, prefix, project_id, scope_id, created_at, last_used_at, expires_at, revoked_at"

int atr_store_token_create(struct atr_store *s, const struct atr_token_spec *spec, char token_out[ATR_TOKEN_MAX],
			   int64_t *id_out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO api_tokens(kind, user_id, name, token_hash, prefix,"
				   " project_id, scope_id, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)");
	char hash[65], prefix[12];
	int rc;

	if (!st)
		return ATR_EDB;
	rc = atr_token_new(token_out, hash);
	if (rc < 0)
		return rc;
	snprintf(prefix, sizeof(prefix), "%.8s", token_out);
	atr_db_bind_text(st, 1, spec->kind);
	if (spec->user_id > 0)
		sqlite3_bind_int64(st, 2, spec->user_id);
	atr_db_bind_text(st, 3, spec->name ? spec->name : "");
	atr_db_bind_text(st, 4, hash);
	atr_db_bind_text(st, 5, prefix);
	if (spec->project_id > 0)
		sqlite3_bind_int64(st, 6, spec->project_id);
	if (spec->scope_id > 0)
		sqlite3_bind_int64(st, 7, spec->scope_id);
	sqlite3_bind_int64(st, 8, atr_now_ms());
	if (spec->expires_at > 0)
		sqlite3_bind_int64(st, 9, spec->expires_at);
	rc = atr_db_step_write(st);
	if (rc == 0 && id_out)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

static enum atr_principal_kind kind_of(const char *k)
{
	if (!strcmp(k, "user") || !strcmp(k, "session"))
		return ATR_P_USER;
	if (!strcmp(k, "job"))
		return ATR_P_JOB;
	if (!strcmp(k, "worker"))
		return ATR_P_WORKER;
	if (!strcmp(k, "invoke"))
		return ATR_P_INVOKE;
	if (!strcmp(k, "join"))
		return ATR_P_JOIN;
	if (!strcmp(k, "scrape"))
		return ATR_P_SCRAPE;
	return ATR_P_NONE;
}

int atr_store_token_lookup(struct atr_store *s, const char *hash_hex, struct atr_principal *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT t.id, t.kind, t.user_id, t.project_id, t.scope_id,"
					      " t.expires_at, t.revoked_at, u.username, u.role, u.disabled"
					      " FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id"
					      " WHERE t.token_hash = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, hash_hex);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		atr_db_done(st);
		return rc == SQLITE_DONE ? ATR_EUNAUTH : ATR_EDB;
	}
	memset(out, 0, sizeof(*out));
	out->token_id = sqlite3_column_int64(st, 0);
	out->kind = kind_of((const char *)sqlite3_column_text(st, 1));
	out->user_id = sqlite3_column_int64(st, 2);
	out->project_id = sqlite3_column_int64(st, 3);
	out->scope_id = sqlite3_column_int64(st, 4);
	out->expires_at = sqlite3_column_int64(st, 5);
	if (sqlite3_column_type(st, 7) == SQLITE_TEXT)
		atr_copy(out->username, sizeof(out->username), (const char *)sqlite3_column_text(st, 7));
	out->admin = sqlite3_column_type(st, 8) == SQLITE_TEXT &&
		     strcmp((const char *)sqlite3_column_text(st, 8), "admin") == 0;
	rc = 0;
	if (sqlite3_column_type(st, 6) != SQLITE_NULL)
		rc = ATR_EUNAUTH; /* revoked */
	if (out->user_id && sqlite3_column_int(st, 9))
		rc = ATR_EUNAUTH; /* disabled user */
	if (out->expires_at && out->expires_at <= atr_now_ms())
		rc = ATR_EUNAUTH;
	if (out->kind == ATR_P_NONE)
		rc = ATR_EUNAUTH;
	/* Only user tokens carry the user's admin role; a job or invoke key never does. */
	if (out->kind != ATR_P_USER)
		out->admin = false;
	atr_db_done(st);
	return rc;
}

json_t *atr_store_token_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " TOKEN_COLS " FROM api_tokens WHERE id = ?", id, err);
}

int atr_store_token_list(struct atr_store *s, int64_t user_id, const char *kind, const struct atr_page *p, json_t *arr,
			 bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ?"
					      " AND (? IS NULL OR kind = ?) AND (? = 0 OR id < ?)"
					      " ORDER BY id DESC LIMIT ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	atr_db_bind_text(st, 2, kind);
	atr_db_bind_text(st, 3, kind);
	sqlite3_bind_int64(st, 4, p->after_id);
	sqlite3_bind_int64(st, 5, p->after_id);
	sqlite3_bind_int(st, 6, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_token_revoke(struct atr_store *s, int64_t id, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?)"
		       " WHERE id = ? AND (? = 0 OR user_id = ?) AND kind IN ('user','session','join','invoke')");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, user_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int atr_store_token_revoke_scope(struct atr_store *s, const char *kind, int64_t scope_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE api_tokens SET revoked_at = ? WHERE kind = ? AND scope_id = ?"
					      " AND revoked_at IS NULL");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	atr_db_bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, scope_id);
	return atr_db_step_write(st);
}

int atr_store_token_touch(struct atr_store *s, int64_t id, int64_t at_ms)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, at_ms);
	sqlite3_bind_int64(st, 2, id);
	return atr_db_step_write(st);
}

#define SERVICE_TOKENS(kind)                                                                                   \
	"SELECT t.id, t.name, t.prefix, u.username AS created_by, t.created_at, t.last_used_at, t.expires_at," \
	" t.revoked_at FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.kind = '" kind "'"      \
	" AND (?2 = 0 OR t.id < ?2) ORDER BY t.id DESC LIMIT ?3"

int atr_store_service_token_list(struct atr_store *s, const char *kind, const struct atr_page *p, json_t *arr,
				 bool *more)
{
	/* one statement per kind (the list helper binds only an integer key, ?1 unused) */
	const char *sql = !strcmp(kind, "join") ? SERVICE_TOKENS("join") : SERVICE_TOKENS("scrape");
	return atr_store_list_keyed(s, sql, 0, p, arr, more);
}

int atr_store_service_token_revoke(struct atr_store *s, const char *kind, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?)"
					      " WHERE id = ? AND kind = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, id);
	atr_db_bind_text(st, 3, kind);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}
