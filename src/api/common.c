/* common.c: the lookup-or-reply helpers shared by the REST handlers. */
#include "api.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

void api_reply_store_err(struct atr_req *r, int err, const char *what, const char *name)
{
	if (err == ATR_ENOTFOUND)
		atr_reply_not_found(r, NULL, "%s '%s' does not exist", what, name ? name : "");
	else if (err == ATR_ECONFLICT)
		atr_reply_conflict(r, NULL, "%s '%s' already exists", what, name ? name : "");
	else
		atr_reply_err(r, err, NULL, "could not access %s '%s'", what, name ? name : "");
}

int api_user_or_reply(struct atr_req *r, const char *name, struct atr_user *out)
{
	int rc = atr_store_user_get(STORE(r), name, out);
	if (rc < 0) {
		api_reply_store_err(r, rc, "user", name);
		return -1;
	}
	return 0;
}

int api_team_or_reply(struct atr_req *r, const char *name, int64_t *id)
{
	int rc = atr_store_team_id(STORE(r), name, id);
	if (rc < 0) {
		api_reply_store_err(r, rc, "team", name);
		return -1;
	}
	return 0;
}

json_t *api_new_items(struct atr_req *r)
{
	json_t *a = json_array();
	if (!a)
		atr_reply_nomem(r, NULL, "out of memory");
	return a;
}

void api_hide_env_values(json_t *o)
{
	json_t *env = json_object_get(o, "env"), *names, *v;
	const char *k;

	if (!json_is_object(env) || !(names = json_object()))
		return;
	/* a new object: o's "env" may be shared with live state (a deployment's) */
	json_object_foreach(env, k, v) json_object_set_new(names, k, json_string("[hidden]"));
	json_object_set_new(o, "env", names);
}

int api_id_or_reply(struct atr_req *r, const char *name, const char *what, int64_t *id)
{
	if (atr_parse_i64(atr_req_param(r, name), 1, INT64_MAX, id) == 0)
		return 0;
	atr_reply_invalid(r, name, "'%s' must be a %s id", name, what);
	return -1;
}
