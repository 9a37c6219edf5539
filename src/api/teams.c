/*
 * teams.c: /api/v1/teams. Admins create teams and set quotas; admins and a team's
 * maintainers manage its members; every user can read teams.
 */
#include "api.h"
#include "atrium/store_clusters.h"
#include "atrium/store_identity.h"

#include <string.h>

const struct atr_field api_team_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 1024, NULL, NULL },
	{ "max_gpus", ATR_F_INT, ATR_FF_NULLABLE, 0, 100000, NULL, NULL },
	{ "max_concurrent_jobs", ATR_F_INT, ATR_FF_NULLABLE, 0, 1000000, NULL, NULL },
	{ 0 },
};

const struct atr_field api_team_patch_schema[] = {
	{ "description", ATR_F_STRING, 0, 0, 1024, NULL, NULL },
	{ "max_gpus", ATR_F_INT, ATR_FF_NULLABLE, 0, 100000, NULL, NULL },
	{ "max_concurrent_jobs", ATR_F_INT, ATR_FF_NULLABLE, 0, 1000000, NULL, NULL },
	{ "default_cluster", ATR_F_STRING, ATR_FF_NULLABLE, 1, 63, NULL, NULL }, /* issue 19 */
	{ 0 },
};

const struct atr_field api_team_member_schema[] = {
	{ "role", ATR_F_STRING, 0, 0, 0, "maintainer|member", NULL },
	{ 0 },
};

/* A quota from the body: absent -1 (keep), null -2 (unlimited), else the value. */
static int64_t quota(const json_t *body, const char *key)
{
	const json_t *v = json_object_get(body, key);
	if (!v)
		return -1;
	if (json_is_null(v))
		return -2;
	return json_integer_value(v);
}

static void reply_team(struct atr_req *r, unsigned status, int64_t id)
{
	int err;
	json_t *t = atr_store_team_json(STORE(r), id, &err);
	if (!t) {
		atr_reply_err(r, err, NULL, "could not read the team");
		return;
	}
	api_default_cluster_json(r, ATR_CLUSTER_TEAM, id, t);
	atr_reply_json(r, status, t);
}

void api_teams_create(struct atr_req *r)
{
	const char *name = atr_json_str(atr_req_body(r), "name", "");
	int64_t gpus = quota(atr_req_body(r), "max_gpus"), jobs = quota(atr_req_body(r), "max_concurrent_jobs");
	int64_t id;
	int rc = atr_store_team_create(STORE(r), name, atr_json_str(atr_req_body(r), "description", ""),
				       gpus < 0 ? -1 : gpus, jobs < 0 ? -1 : jobs, &id);

	atr_req_audit_object(r, "team:%s", name);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "team '%s' already exists", name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create team '%s'", name);
		return;
	}
	reply_team(r, 201, id);
}

static int all_teams(struct atr_store *s, int64_t unused, const struct atr_page *p, json_t *arr, bool *more)
{
	(void)unused;
	return atr_store_team_list(s, p, arr, more);
}

void api_teams_list(struct atr_req *r)
{
	api_reply_list(r, all_teams, 0, "teams");
}

void api_teams_get(struct atr_req *r)
{
	int64_t id;
	if (api_team_or_reply(r, atr_req_param(r, "team"), &id) < 0)
		return;
	reply_team(r, 200, id);
}

void api_teams_patch(struct atr_req *r)
{
	int64_t id;
	int rc;

	if (api_team_or_reply(r, atr_req_param(r, "team"), &id) < 0)
		return;
	atr_req_audit_object(r, "team:%s", atr_req_param(r, "team"));
	if (api_default_cluster_or_reply(r, ATR_CLUSTER_TEAM, id) < 0)
		return;
	rc = atr_store_team_update(STORE(r), id, atr_json_str(atr_req_body(r), "description", NULL),
				   quota(atr_req_body(r), "max_gpus"), quota(atr_req_body(r), "max_concurrent_jobs"));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update the team");
		return;
	}
	reply_team(r, 200, id);
}

/* Admins and the team's maintainers manage members; others get 403. */
static int team_manager_or_reply(struct atr_req *r, int64_t *team_id, struct atr_user *u)
{
	const char *role;

	if (api_team_or_reply(r, atr_req_param(r, "team"), team_id) < 0)
		return -1;
	role = atr_store_team_role(STORE(r), *team_id, atr_req_who(r)->user_id);
	if (!atr_req_who(r)->admin && (!role || strcmp(role, "maintainer") != 0)) {
		atr_reply_forbidden(r, NULL, "only admins and maintainers of team '%s' manage its members",
				    atr_req_param(r, "team"));
		return -1;
	}
	return api_user_or_reply(r, atr_req_param(r, "user"), u);
}

void api_teams_member_put(struct atr_req *r)
{
	int64_t team_id;
	struct atr_user u;
	int rc;

	if (team_manager_or_reply(r, &team_id, &u) < 0)
		return;
	atr_req_audit_object(r, "team:%s/member:%s", atr_req_param(r, "team"), u.username);
	rc = atr_store_team_member_set(STORE(r), team_id, u.id, atr_json_str(atr_req_body(r), "role", "member"));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not add the member");
		return;
	}
	reply_team(r, 200, team_id);
}

void api_teams_member_delete(struct atr_req *r)
{
	int64_t team_id;
	struct atr_user u;
	int rc;

	if (team_manager_or_reply(r, &team_id, &u) < 0)
		return;
	atr_req_audit_object(r, "team:%s/member:%s", atr_req_param(r, "team"), u.username);
	rc = atr_store_team_member_remove(STORE(r), team_id, u.id);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "'%s' is not a member of team '%s'", u.username, atr_req_param(r, "team"));
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not remove the member");
		return;
	}
	atr_reply_empty(r, 204);
}
