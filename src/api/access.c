/*
 * access.c: who may do what in a project. One function decides the caller's effective role
 * (admins: owner; job tokens: editor of their own project only; members: their role;
 * everyone: viewer of internal projects); one helper answers 404/403/409 for handlers.
 * Private projects answer 404 to non-members, exactly as if they did not exist.
 */
#include "api.h"
#include "atrium/store_projects.h"

enum atr_prole api_project_role(struct atr_req *r, const struct atr_project *p)
{
	bool member_counts = r->who.kind == ATR_P_USER && !r->who.admin;
	return api_project_role_as(
		r, p, member_counts ? atr_store_project_member_role(STORE(r), p->id, r->who.user_id) : ATR_PROLE_NONE);
}

enum atr_prole api_project_role_as(struct atr_req *r, const struct atr_project *p, enum atr_prole member)
{
	switch (r->who.kind) {
	case ATR_P_USER:
		if (r->who.admin)
			return ATR_PROLE_OWNER;
		return member == ATR_PROLE_NONE && p->internal ? ATR_PROLE_VIEWER : member;
	case ATR_P_JOB:
		return r->who.project_id == p->id ? ATR_PROLE_EDITOR : ATR_PROLE_NONE;
	default:
		return ATR_PROLE_NONE;
	}
}

int api_project_or_reply(struct atr_req *r, const char *param, enum atr_prole need, struct atr_project *out,
			 enum atr_prole *role_out)
{
	const char *ref = atr_req_param(r, param);
	enum atr_prole role;
	int rc;

	if (!ref)
		ref = "";
	rc = atr_store_project_find(STORE(r), ref, out);
	if (rc < 0 && rc != ATR_ENOTFOUND) {
		atr_reply_err(r, rc, NULL, "could not read project '%s'", ref);
		return -1;
	}
	role = rc == 0 ? api_project_role(r, out) : ATR_PROLE_NONE;
	if (role == ATR_PROLE_NONE) {
		atr_reply_error(r, 404, "not_found", NULL, "project '%s' does not exist", ref);
		return -1;
	}
	if (role < need) {
		atr_reply_error(r, 403, "forbidden", NULL, "you are %s of project '%s'; this needs %s",
				role == ATR_PROLE_VIEWER ? "a viewer" : "an editor", out->name, atr_prole_name(need));
		return -1;
	}
	if (need >= ATR_PROLE_EDITOR && out->archived) {
		atr_reply_error(r, 409, "conflict", NULL, "project '%s' is archived", out->name);
		return -1;
	}
	if (role_out)
		*role_out = role;
	return 0;
}
