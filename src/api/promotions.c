/*
 * promotions.c: model aliases and promotion requests. Editors move any alias except
 * `production`, which needs an owner (or admin) — or an editor's promotion request that an
 * owner approves. Every move is one transaction with its history event, then the hook
 * (atr_models_alias_moved) tells whoever follows aliases.
 */
#include "api.h"
#include "atrium/model_hooks.h"
#include "atrium/store_models.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

const struct atr_field api_alias_set_schema[] = {
	{ "version", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ 0 },
};

const struct atr_field api_promotion_create_schema[] = {
	{ "alias", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "comment", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ 0 },
};

const struct atr_field api_promotion_decide_schema[] = {
	{ "comment", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ 0 },
};

/* What moving an alias takes: owners for the protected one, editors for the rest. */
static enum atr_prole alias_role(const char *alias)
{
	return strcmp(alias, ATR_ALIAS_PROTECTED) == 0 ? ATR_PROLE_OWNER : ATR_PROLE_EDITOR;
}

/* Alias names are slugs that cannot be read as a version reference (a number, "latest"). */
static int alias_name_or_reply(struct atr_req *r, const char *alias, const char *field)
{
	int64_t n;
	if (!alias || !atr_is_slug(alias) || atr_parse_i64(alias, 0, INT64_MAX, &n) == 0 ||
	    strcmp(alias, "latest") == 0) {
		atr_reply_error(r, 400, "invalid", field,
				"'%s' must be lowercase letters, digits and '-' (not only digits, not 'latest'), "
				"at most 63 characters",
				field);
		return -1;
	}
	return 0;
}

static int alias_access_or_reply(struct atr_req *r, enum atr_prole role, const char *alias, const char *project)
{
	if (role >= alias_role(alias))
		return 0;
	atr_reply_error(r, 403, "forbidden", NULL,
			"moving alias '%s' needs an owner of project '%s'; ask for a promotion instead", alias,
			project);
	return -1;
}

/* The committed version the body's "version" (number, alias or "latest") names. */
static int body_version_or_reply(struct atr_req *r, const struct atr_model *m, struct atr_model_version *v)
{
	const json_t *j = json_object_get(r->body, "version");
	char ref[64];
	int rc;

	if (json_is_integer(j))
		snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(j));
	else
		atr_copy(ref, sizeof(ref), json_string_value(j));
	rc = atr_store_model_version_resolve(STORE(r), m->id, ref, v);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_error(r, 400, "invalid", "version", "model '%s' has no version '%s'", m->name, ref);
		return -1;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read version '%s'", ref);
		return -1;
	}
	if (!v->committed) {
		atr_reply_error(r, 409, "conflict", "version", "version %lld of model '%s' is a draft; commit it first",
				(long long)v->version, m->name);
		return -1;
	}
	return 0;
}

/* The {alias} of the {model} when the caller may move it (NULL when it answered). */
static const char *alias_or_reply(struct atr_req *r, struct atr_project *p, struct atr_model *m)
{
	const char *alias = atr_req_param(r, "alias");
	enum atr_prole role;

	if (alias_name_or_reply(r, alias, "alias") < 0 || api_model_or_reply(r, ATR_PROLE_EDITOR, p, m, &role) < 0 ||
	    alias_access_or_reply(r, role, alias, p->name) < 0)
		return NULL;
	return alias;
}

void api_aliases_put(struct atr_req *r)
{
	struct atr_project p;
	struct atr_model m;
	struct atr_model_version v;
	const char *alias;
	char actor[80];
	int64_t from = 0;
	int rc;

	if (!(alias = alias_or_reply(r, &p, &m)) || body_version_or_reply(r, &m, &v) < 0)
		return;
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", p.name, m.name, (long long)v.version,
			     alias);
	rc = atr_store_model_alias_set(STORE(r), m.id, alias, v.id, api_actor(r, actor, sizeof(actor)), 0, &from);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not set alias '%s'", alias);
		return;
	}
	if (from != v.id)
		atr_models_alias_moved(APP(r), m.id, alias, from, v.id);
	atr_reply_json(r, 200,
		       json_pack("{s:s, s:s, s:I, s:o}", "model", m.name, "alias", alias, "version",
				 (json_int_t)v.version, "previous_version",
				 from ? json_integer(atr_store_model_version_number(STORE(r), from)) : json_null()));
}

void api_aliases_delete(struct atr_req *r)
{
	struct atr_project p;
	struct atr_model m;
	const char *alias;
	char actor[80];
	int64_t from = 0;
	int rc;

	if (!(alias = alias_or_reply(r, &p, &m)))
		return;
	atr_req_audit_object(r, "project:%s/model:%s/alias:%s", p.name, m.name, alias);
	rc = atr_store_model_alias_delete(STORE(r), m.id, alias, api_actor(r, actor, sizeof(actor)), &from);
	if (rc == 0) /* name the version it pointed at */
		atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", p.name, m.name,
				     (long long)atr_store_model_version_number(STORE(r), from), alias);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_error(r, 404, "not_found", NULL, "model '%s' has no alias '%s'", m.name, alias);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete alias '%s'", alias);
		return;
	}
	atr_models_alias_moved(APP(r), m.id, alias, from, 0);
	atr_reply_empty(r, 204);
}

static void reply_promotion(struct atr_req *r, unsigned status, int64_t id)
{
	int rc;
	json_t *o = atr_store_promotion_json(STORE(r), id, &rc);
	if (!o) {
		atr_reply_err(r, rc, NULL, "could not read the promotion");
		return;
	}
	atr_reply_json(r, status, o);
}

void api_promotions_create(struct atr_req *r)
{
	struct atr_model_ref ref;
	const char *alias = atr_json_str(r->body, "alias", "");
	char actor[80];
	int64_t id;
	int rc;

	if (alias_name_or_reply(r, alias, "alias") < 0 ||
	    api_model_version_or_reply(r, ATR_PROLE_EDITOR, false, &ref) < 0)
		return;
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", ref.project.name, ref.model.name,
			     (long long)ref.version.version, alias);
	if (!ref.version.committed) {
		atr_reply_error(r, 409, "conflict", NULL, "version %lld of model '%s' is a draft; commit it first",
				(long long)ref.version.version, ref.model.name);
		return;
	}
	rc = atr_store_promotion_create(STORE(r), ref.version.id, alias, atr_json_str(r->body, "comment", ""),
					r->who.user_id, api_actor(r, actor, sizeof(actor)), &id);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not request the promotion");
		return;
	}
	reply_promotion(r, 201, id);
}

/*
 * The promotion named by {id} when the caller may read its project (404 otherwise); with
 * decide, also when the caller may move its alias (403) and the project is live (409).
 */
static int promotion_or_reply(struct atr_req *r, bool decide, struct atr_promotion *pr, struct atr_project *p)
{
	enum atr_prole role;
	int64_t id;
	int rc;

	if (api_id_or_reply(r, "id", "promotion", &id) < 0)
		return -1;
	rc = atr_store_promotion_get(STORE(r), id, pr);
	if (rc == 0)
		rc = atr_store_project_get(STORE(r), pr->project_id, p);
	if (rc < 0 && rc != ATR_ENOTFOUND) {
		atr_reply_err(r, rc, NULL, "could not read promotion %lld", (long long)id);
		return -1;
	}
	role = rc == 0 ? api_project_role(r, p) : ATR_PROLE_NONE;
	if (role == ATR_PROLE_NONE) {
		atr_reply_error(r, 404, "not_found", NULL, "promotion %lld does not exist", (long long)id);
		return -1;
	}
	atr_req_audit_object(r, "project:%s/promotion:%lld/version:%lld/alias:%s", p->name, (long long)id,
			     (long long)pr->version, pr->alias);
	if (!decide)
		return 0;
	if (alias_access_or_reply(r, role, pr->alias, p->name) < 0)
		return -1;
	if (p->archived) {
		atr_reply_error(r, 409, "conflict", NULL, "project '%s' is archived", p->name);
		return -1;
	}
	return 0;
}

void api_promotions_get(struct atr_req *r)
{
	struct atr_promotion pr;
	struct atr_project p;
	if (promotion_or_reply(r, false, &pr, &p) < 0)
		return;
	reply_promotion(r, 200, pr.id);
}

static void decide(struct atr_req *r, bool approve)
{
	struct atr_promotion pr;
	struct atr_project p;
	struct atr_model m;
	char actor[80];
	int64_t from = 0;
	int rc;

	if (promotion_or_reply(r, true, &pr, &p) < 0)
		return;
	rc = atr_store_model_get(STORE(r), pr.model_id, &m);
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s/promotion:%lld", p.name, m.name,
				     (long long)pr.version, pr.alias, (long long)pr.id);
	if (rc == 0)
		rc = atr_store_promotion_decide(STORE(r), pr.id, approve, r->who.user_id,
						api_actor(r, actor, sizeof(actor)),
						atr_json_str(r->body, "comment", ""), &from);
	if (rc == ATR_ECONFLICT) {
		atr_reply_error(r, 409, "conflict", NULL, "promotion %lld is %s, not pending", (long long)pr.id,
				strcmp(pr.state, "pending") ? pr.state : "cancelled");
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not decide promotion %lld", (long long)pr.id);
		return;
	}
	if (approve && from != pr.version_id)
		atr_models_alias_moved(APP(r), pr.model_id, pr.alias, from, pr.version_id);
	reply_promotion(r, 200, pr.id);
}

void api_promotions_approve(struct atr_req *r)
{
	decide(r, true);
}

void api_promotions_reject(struct atr_req *r)
{
	decide(r, false);
}

static int state_or_reply(struct atr_req *r, const char *dflt, const char **out)
{
	const char *s = atr_req_query(r, "state");
	if (!s) {
		*out = dflt;
		return 0;
	}
	if (strcmp(s, "pending") && strcmp(s, "approved") && strcmp(s, "rejected") && strcmp(s, "cancelled")) {
		atr_reply_error(r, 400, "invalid", "state", "'state' must be pending, approved, rejected or cancelled");
		return -1;
	}
	*out = s;
	return 0;
}

static int list(struct atr_req *r, const void *filter, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_promotion_list(STORE(r), filter, p, arr, more);
}

void api_promotions_list_project(struct atr_req *r)
{
	struct atr_project p;
	struct atr_promotion_filter f = { 0 };

	const char *model = atr_req_query(r, "model");
	struct atr_model m;
	int rc;

	if (api_project_or_reply(r, "project", ATR_PROLE_VIEWER, &p, NULL) < 0 || state_or_reply(r, NULL, &f.state) < 0)
		return;
	if (model && (rc = atr_store_model_find(STORE(r), p.id, model, &m)) < 0) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_error(r, 400, "invalid", "model", "model '%s' does not exist in this project", model);
		else
			api_reply_store_err(r, rc, "model", model);
		return;
	}
	f.project_id = p.id;
	f.model_id = model ? m.id : 0;
	api_reply_list_cb(r, list, &f, "promotions");
}

void api_promotions_list_mine(struct atr_req *r)
{
	struct atr_promotion_filter f = { 0 };

	if (state_or_reply(r, "pending", &f.state) < 0)
		return;
	f.decider_id = r->who.user_id;
	f.admin = r->who.admin;
	api_reply_list_cb(r, list, &f, "promotions");
}
