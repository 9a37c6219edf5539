/*
 * invoke_keys.c: /api/v1/deployments/{name}/keys — keys an application holds to call one
 * deployment's inference endpoints and nothing else. They are api_tokens of kind 'invoke'
 * (scope: the deployment, project: its project), shown once, kept as sha256; project
 * editors make, list and revoke them. The gateway (gateway.c) accepts them only for their
 * own deployment.
 */
#include "api.h"
#include "atrium/auth.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

const struct atr_field api_invoke_key_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 128, NULL, NULL },
	{ "expires_at", ATR_F_TIME, 0, 0, 0, NULL, NULL },
	{ 0 },
};

void api_invoke_keys_create(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	const struct atr_project p = RES(r)->project;
	struct atr_token_spec spec = { .kind = "invoke" };
	char token[ATR_TOKEN_MAX];
	const char *exp = atr_json_str(atr_req_body(r), "expires_at", NULL);
	int64_t id;
	json_t *t;
	int rc;

	if (exp) {
		atr_time_parse(exp, &spec.expires_at); /* validated by the schema */
		if (spec.expires_at <= atr_now_ms()) {
			atr_reply_invalid(r, "expires_at", "'expires_at' must be in the future");
			return;
		}
	}
	spec.user_id = atr_req_who(r)->user_id;
	spec.name = atr_json_str(atr_req_body(r), "name", "");
	spec.project_id = d.project_id;
	spec.scope_id = d.id;
	if ((rc = atr_store_token_create(STORE(r), &spec, token, &id)) < 0 ||
	    !(t = atr_store_token_json(STORE(r), id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not create the key");
		return;
	}
	atr_req_audit_object(r, "project:%s/deployment:%s/key:%lld", p.name, d.name, (long long)id);
	json_object_set_new(t, "deployment", json_string(d.name));
	json_object_set_new(t, "token", json_string(token));
	atr_reply_json(r, 201, t);
}

void api_invoke_keys_list(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	api_reply_list(r, atr_store_invoke_key_list, d.id, "invoke keys");
}

void api_invoke_keys_revoke(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	const struct atr_project p = RES(r)->project;
	int64_t id;
	int rc;

	if (api_id_or_reply(r, "id", "key", &id) < 0)
		return;
	atr_req_audit_object(r, "project:%s/deployment:%s/key:%lld", p.name, d.name, (long long)id);
	rc = atr_store_invoke_key_revoke(STORE(r), d.id, id);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "deployment '%s' has no key %lld", d.name, (long long)id);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not revoke the key");
		return;
	}
	atr_auth_invalidate(APP(r)->auth);
	atr_reply_empty(r, 204);
}
