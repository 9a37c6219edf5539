/*
 * projects.c: /api/v1/projects and their members. Any user may create a project (in a team
 * they belong to, unless admin) and becomes its owner; DELETE archives.
 */
#include "api.h"
#include "atrium/store_clusters.h"
#include "atrium/store_templates.h"
#include "templates.h"
#include "atrium/store_identity.h"
#include "atrium/store_projects.h"

#include <string.h>

const struct atr_field api_project_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "team", ATR_F_SLUG, ATR_FF_NULLABLE, 1, 63, NULL, NULL },
	{ "visibility", ATR_F_STRING, 0, 0, 0, "private|internal", NULL },
	{ "tags", ATR_F_STRLIST, 0, 0, 64, NULL, NULL },
	{ "from_template", ATR_F_STRING, 0, 1, 63, NULL, NULL }, /* issue 20: a copy of its structure */
	{ 0 },
};

const struct atr_field api_project_patch_schema[] = {
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "team", ATR_F_SLUG, ATR_FF_NULLABLE, 1, 63, NULL, NULL },
	{ "visibility", ATR_F_STRING, 0, 0, 0, "private|internal", NULL },
	{ "tags", ATR_F_STRLIST, 0, 0, 64, NULL, NULL },
	{ "default_cluster", ATR_F_STRING, ATR_FF_NULLABLE, 1, 63, NULL, NULL }, /* issue 19 */
	{ 0 },
};

const struct atr_field api_project_member_schema[] = {
	{ "role", ATR_F_STRING, ATR_FF_REQUIRED, 0, 0, "owner|editor|launcher|viewer", NULL },
	{ 0 },
};

static void reply_project(struct atr_req *r, unsigned status, int64_t id, enum atr_prole role)
{
	int err;
	json_t *p = atr_store_project_json(STORE(r), id, role, &err);
	if (!p) {
		atr_reply_err(r, err, NULL, "could not read the project");
		return;
	}
	api_default_cluster_json(r, ATR_CLUSTER_PROJECT, id, p);
	atr_reply_json(r, status, p);
}

/* The team named in the body: 0 for none, -1 when it answered an error. Non-admins must
 * belong to the team they put a project in. */
static int64_t body_team_or_reply(struct atr_req *r)
{
	const char *team = atr_json_str(atr_req_body(r), "team", NULL);
	int64_t id;

	if (!team)
		return 0;
	if (atr_store_team_id(STORE(r), team, &id) < 0) {
		atr_reply_invalid(r, "team", "team '%s' does not exist", team);
		return -1;
	}
	if (!atr_req_who(r)->admin && !atr_store_team_role(STORE(r), id, atr_req_who(r)->user_id)) {
		atr_reply_forbidden(r, "team", "you are not a member of team '%s'", team);
		return -1;
	}
	return id;
}

void api_projects_create(struct atr_req *r)
{
	const char *name = atr_json_str(atr_req_body(r), "name", "");
	int64_t team, id, from;
	int rc;

	atr_req_audit_object(r, "project:%s", name);
	if ((team = body_team_or_reply(r)) < 0 || (from = api_template_or_reply(r)) < 0)
		return;
	if ((rc = atr_store_begin(STORE(r))) < 0) {
		atr_reply_err(r, rc, NULL, "could not create project '%s'", name);
		return;
	}
	rc = atr_store_project_create(STORE(r), name, atr_json_str(atr_req_body(r), "description", ""), team,
				      strcmp(atr_json_str(atr_req_body(r), "visibility", "private"), "internal") == 0,
				      json_object_get(atr_req_body(r), "tags"), atr_req_who(r)->user_id, &id);
	if (rc == 0 && from > 0) /* the template's structure, never its data */
		rc = atr_store_template_copy(STORE(r), from, id, atr_req_who(r)->user_id);
	if (rc == 0)
		rc = atr_store_commit(STORE(r));
	else
		atr_store_rollback(STORE(r));
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "project '%s' already exists", name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create project '%s'", name);
		return;
	}
	reply_project(r, 201, id, ATR_PROLE_OWNER);
}

const struct atr_qparam api_projects_list_query[] = {
	ATR_Q_PAGE,
	{ "team", ATR_Q_STRING, 0, 1, 64, 0, NULL, "projects of this team" },
	{ "archived", ATR_Q_BOOL, 0, 0, 0, 0, NULL, "archived projects instead of live ones" },
	{ 0 },
};

void api_projects_list(struct atr_req *r)
{
	struct atr_page p;
	const char *team = atr_req_query(r, "team");
	int64_t team_id = 0;
	json_t *items;
	bool more;
	int rc;

	if (atr_page_from_req(r, &p) < 0)
		return;
	if (team && atr_store_team_id(STORE(r), team, &team_id) < 0) {
		atr_reply_invalid(r, "team", "team '%s' does not exist", team);
		return;
	}
	if (!(items = api_new_items(r)))
		return;
	rc = atr_store_project_list(STORE(r), atr_req_who(r)->user_id, atr_req_who(r)->admin, team_id,
				    atr_req_qbool(r, "archived"), &p, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list projects");
		return;
	}
	atr_reply_page(r, items, more);
}

void api_projects_get(struct atr_req *r)
{
	reply_project(r, 200, RES(r)->project.id, RES(r)->role);
}

void api_projects_patch(struct atr_req *r)
{
	const struct atr_project p = RES(r)->project;
	const char *vis = atr_json_str(atr_req_body(r), "visibility", NULL);
	int64_t team = -1;
	int rc;

	atr_req_audit_object(r, "project:%s", p.name);
	if (atr_json_has(atr_req_body(r), "team") && (team = body_team_or_reply(r)) < 0)
		return;
	if (api_default_cluster_or_reply(r, ATR_CLUSTER_PROJECT, p.id) < 0)
		return;
	rc = atr_store_project_update(STORE(r), p.id, atr_json_str(atr_req_body(r), "description", NULL),
				      vis ? strcmp(vis, "internal") == 0 : -1, team,
				      json_object_get(atr_req_body(r), "tags"));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update project '%s'", p.name);
		return;
	}
	reply_project(r, 200, p.id, ATR_PROLE_OWNER);
}

void api_projects_delete(struct atr_req *r)
{
	const struct atr_project p = RES(r)->project;
	int rc;

	atr_req_audit_object(r, "project:%s", p.name);
	rc = atr_store_project_archive(STORE(r), p.id);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not archive project '%s'", p.name);
		return;
	}
	reply_project(r, 200, p.id, ATR_PROLE_OWNER);
}

void api_projects_members(struct atr_req *r)
{
	const struct atr_project p = RES(r)->project;

	api_reply_list(r, atr_store_project_members, p.id, "members");
}

/* Would removing or demoting this member leave the project without an owner? */
static bool last_owner(struct atr_req *r, int64_t project_id, int64_t user_id)
{
	return atr_store_project_member_role(STORE(r), project_id, user_id) == ATR_PROLE_OWNER &&
	       atr_store_project_owner_count(STORE(r), project_id) <= 1;
}

void api_projects_member_put(struct atr_req *r)
{
	const struct atr_project p = RES(r)->project;
	struct atr_user u;
	enum atr_prole role = atr_prole_parse(atr_json_str(atr_req_body(r), "role", ""));
	int rc;

	if (api_user_or_reply(r, atr_req_param(r, "user"), &u) < 0)
		return;
	atr_req_audit_object(r, "project:%s/member:%s", p.name, u.username);
	if (role != ATR_PROLE_OWNER && last_owner(r, p.id, u.id)) {
		atr_reply_conflict(r, "role", "'%s' is the last owner of project '%s'", u.username, p.name);
		return;
	}
	rc = atr_store_project_member_set(STORE(r), p.id, u.id, role);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not set the member");
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:s, s:s}", "username", u.username, "role", atr_prole_name(role)));
}

void api_projects_member_delete(struct atr_req *r)
{
	const struct atr_project p = RES(r)->project;
	struct atr_user u;
	int rc;

	if (api_user_or_reply(r, atr_req_param(r, "user"), &u) < 0)
		return;
	atr_req_audit_object(r, "project:%s/member:%s", p.name, u.username);
	if (last_owner(r, p.id, u.id)) {
		atr_reply_conflict(r, NULL, "'%s' is the last owner of project '%s'", u.username, p.name);
		return;
	}
	rc = atr_store_project_member_remove(STORE(r), p.id, u.id);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "'%s' is not a member of project '%s'", u.username, p.name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not remove the member");
		return;
	}
	atr_reply_empty(r, 204);
}
