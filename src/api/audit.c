/* audit.c: GET /api/v1/audit (admins) and the hook that records every mutating request. */
#include "api.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#include <stdio.h>

void api_audit_record(void *app, struct atr_req *r)
{
	struct atr_app *a = app;
	struct atr_audit_entry e = { 0 };
	char actor[80];

	switch (atr_req_who(r)->kind) {
	case ATR_P_USER:
		atr_copy(actor, sizeof(actor), atr_req_who(r)->username);
		break;
	case ATR_P_JOB:
		snprintf(actor, sizeof(actor), "job:%lld", (long long)atr_req_who(r)->scope_id);
		break;
	case ATR_P_WORKER:
		snprintf(actor, sizeof(actor), "worker:%lld", (long long)atr_req_who(r)->scope_id);
		break;
	case ATR_P_INVOKE:
		snprintf(actor, sizeof(actor), "invoke-key:%lld", (long long)atr_req_who(r)->token_id);
		break;
	default:
		actor[0] = 0;
	}
	e.actor = actor[0] ? actor : NULL;
	e.actor_id = atr_req_who(r)->user_id;
	e.action = atr_req_route(r)->name;
	e.object = atr_req_audit_text(r);
	e.status = atr_req_status(r);
	e.client = atr_req_client(r);
	e.request_id = atr_req_id(r);
	if (atr_store_audit_add(a->store, &e) < 0)
		atr_log(ATR_LOG_ERROR, "could not write the audit entry of request %s", atr_req_id(r));
}

const struct atr_qparam api_audit_query[] = {
	ATR_Q_PAGE,
	{ "actor", ATR_Q_STRING, 0, 1, 128, 0, NULL, "entries of this actor (a user name, job:ID, worker:ID)" },
	{ "action", ATR_Q_STRING, 0, 1, 128, 0, NULL,
	  "entries whose action starts with this (teams, projects.create)" },
	{ "since", ATR_Q_TIME, 0, 0, 0, 0, NULL, "entries from this time on" },
	{ 0 },
};

void api_audit_list(struct atr_req *r)
{
	struct atr_page p;
	json_t *items;
	bool more;
	int rc;

	if (atr_page_from_req(r, &p) < 0 || !(items = api_new_items(r)))
		return;
	rc = atr_store_audit_list(STORE(r), atr_req_query(r, "actor"), atr_req_query(r, "action"),
				  atr_req_qint(r, "since"), &p, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list the audit log");
		return;
	}
	atr_reply_page(r, items, more);
}
