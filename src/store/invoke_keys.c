/*
 * invoke_keys.c: a deployment's invoke keys, which are api_tokens rows of kind 'invoke'
 * with scope_id = the deployment id (created through atr_store_token_create). Only the
 * per-deployment list and revocation live here; lookups go through the token cache.
 */
#include "atrium/store_deployments.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

int atr_store_invoke_key_list(struct atr_store *s, int64_t deployment_id, const struct atr_page *p, json_t *arr,
			      bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT t.id, t.name, t.prefix, u.username AS created_by, t.created_at,"
				    " t.last_used_at, t.expires_at, t.revoked_at FROM api_tokens t"
				    " LEFT JOIN users u ON u.id = t.user_id WHERE t.kind = 'invoke'"
				    " AND t.scope_id = ?1 AND (?2 = 0 OR t.id < ?2) ORDER BY t.id DESC LIMIT ?3",
				    deployment_id, p, arr, more);
}

int atr_store_invoke_key_revoke(struct atr_store *s, int64_t deployment_id, int64_t key_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?)"
					      " WHERE id = ? AND kind = 'invoke' AND scope_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, key_id);
	sqlite3_bind_int64(st, 3, deployment_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}
