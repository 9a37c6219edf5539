/*
 * service_tokens.c: tokens no one signs in with, made by admins for a machine. Join tokens
 * (/api/v1/workers/join-tokens, kind 'join') admit workers: `atrium worker --join-token`
 * presents one to POST /api/v1/workers/register (workers.c), and it reaches no other endpoint.
 * Scrape tokens (/api/v1/metrics/tokens, kind 'scrape') let Prometheus read GET /metrics and
 * nothing else (its `authorization: credentials_file`). Also the local worker's join token.
 */
#include "api.h"
#include "atrium/auth.h"
#include "atrium/store_identity.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"

const struct atr_field api_service_token_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 128, NULL, NULL },
	{ "expires_at", ATR_F_TIME, ATR_FF_NULLABLE, 0, 0, NULL, NULL },
	{ 0 },
};

static void create(struct atr_req *r, const char *kind, const char *what)
{
	atr_req_audit_object(r, "%s:%s", what, atr_json_str(atr_req_body(r), "name", ""));
	api_issue_token_reply(r, kind, atr_req_who(r)->user_id, atr_json_str(atr_req_body(r), "name", ""),
			      atr_json_str(atr_req_body(r), "expires_at", NULL));
}

static void list(struct atr_req *r, const char *kind, const char *what)
{
	struct atr_page p;
	json_t *items;
	bool more;
	int rc;

	if (atr_page_from_req(r, &p) < 0 || !(items = api_new_items(r)))
		return;
	rc = atr_store_service_token_list(STORE(r), kind, &p, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list %ss", what);
		return;
	}
	atr_reply_page(r, items, more);
}

static void revoke(struct atr_req *r, const char *kind, const char *what)
{
	int64_t id;
	int rc;

	if (api_id_or_reply(r, "id", what, &id) < 0)
		return;
	atr_req_audit_object(r, "%s:%lld", what, (long long)id);
	rc = atr_store_service_token_revoke(STORE(r), kind, id);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "%s %lld does not exist", what, (long long)id);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not revoke the %s", what);
		return;
	}
	atr_auth_invalidate(APP(r)->auth);
	atr_reply_empty(r, 204);
}

void api_workers_join_create(struct atr_req *r)
{
	create(r, "join", "join token");
}

void api_workers_join_list(struct atr_req *r)
{
	list(r, "join", "join token");
}

void api_workers_join_delete(struct atr_req *r)
{
	revoke(r, "join", "join token");
}

void api_scrape_tokens_create(struct atr_req *r)
{
	create(r, "scrape", "scrape token");
}

void api_scrape_tokens_list(struct atr_req *r)
{
	list(r, "scrape", "scrape token");
}

void api_scrape_tokens_delete(struct atr_req *r)
{
	revoke(r, "scrape", "scrape token");
}

int api_workers_local_join_token(struct atr_app *app, char token[ATR_TOKEN_MAX])
{
	struct atr_token_spec spec = { .kind = "join", .name = "local-worker" };
	int rc = atr_store_begin(app->store);

	/* the one from an earlier start (a crash left it unrevoked) goes first */
	if (rc == 0)
		rc = atr_store_join_token_revoke_named(app->store, spec.name);
	if (rc == 0)
		rc = atr_store_token_create(app->store, &spec, token, NULL);
	if (rc == 0)
		rc = atr_store_commit(app->store);
	if (rc < 0)
		atr_store_rollback(app->store);
	else
		atr_auth_invalidate(app->auth);
	return rc;
}
