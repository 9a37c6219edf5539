/* tokens.c: /api/v1/tokens, the caller's own API tokens; revocation clears the auth cache. */
#include "api.h"
#include "atrium/auth.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

void api_issue_token_reply(struct atr_req *r, const char *kind, int64_t user_id, const char *name,
			   const char *expires_at)
{
	struct atr_token_spec spec = { .kind = kind, .user_id = user_id, .name = name };
	char token[ATR_TOKEN_MAX];
	int64_t id, exp = 0;
	json_t *t;
	int rc;

	if (expires_at) {
		atr_time_parse(expires_at, &exp); /* validated by the schema */
		if (exp <= atr_now_ms()) {
			atr_reply_invalid(r, "expires_at", "'expires_at' must be in the future");
			return;
		}
		spec.expires_at = exp;
	}
	rc = atr_store_token_create(STORE(r), &spec, token, &id);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create the token");
		return;
	}
	t = atr_store_token_json(STORE(r), id, &rc);
	if (!t) {
		atr_reply_err(r, rc, NULL, "could not read the token");
		return;
	}
	json_object_set_new(t, "token", json_string(token));
	atr_reply_json(r, 201, t);
}

static int own_tokens(struct atr_store *s, int64_t user_id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_token_list(s, user_id, NULL, p, arr, more);
}

void api_tokens_list(struct atr_req *r)
{
	api_reply_list(r, own_tokens, atr_req_who(r)->user_id, "tokens");
}

void api_tokens_create(struct atr_req *r)
{
	api_issue_token_reply(r, "user", atr_req_who(r)->user_id, atr_json_str(atr_req_body(r), "name", ""),
			      atr_json_str(atr_req_body(r), "expires_at", NULL));
}

void api_tokens_delete(struct atr_req *r)
{
	int64_t id;
	int rc;

	if (api_id_or_reply(r, "id", "token", &id) < 0)
		return;
	/* Admins may revoke any token; others only their own (and see 404 for the rest). */
	rc = atr_store_token_revoke(STORE(r), id, atr_req_who(r)->admin ? 0 : atr_req_who(r)->user_id);
	if (rc < 0) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_not_found(r, NULL, "token %lld does not exist", (long long)id);
		else
			atr_reply_err(r, rc, NULL, "could not revoke the token");
		return;
	}
	atr_auth_invalidate(APP(r)->auth);
	atr_req_audit_object(r, "token:%lld", (long long)id);
	atr_reply_empty(r, 204);
}
