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
		atr_reply_invalid(r, field,
				  "'%s' must be lowercase letters, digits and '-' (not only digits, not 'latest'), "
				  "at most 63 characters",
				  field);
		return -1;
	}
	return 0;
}

/* Moving the protected alias needs an owner: a rule on the request's content, so it goes
 * through the one access decision (api_need_role_or_reply) with its reason. */
static int alias_access_or_reply(struct atr_req *r, const char *alias)
{
	char why[160];

	snprintf(why, sizeof(why), "moving alias '%s' (ask for a promotion instead)", alias);
	return api_need_role_or_reply(r, alias_role(alias), why);
}

/* The committed version the body's "version" (number, alias or "latest") names. */
static int body_version_or_reply(struct atr_req *r, const struct atr_model *m, struct atr_model_version *v)
{
	const json_t *j = json_object_get(atr_req_body(r), "version");
	char ref[64];
	int rc;

	if (json_is_integer(j))
		snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(j));
	else
		atr_copy(ref, sizeof(ref), json_string_value(j));
	rc = atr_store_model_version_resolve(STORE(r), m->id, ref, v);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "version", "model '%s' has no version '%s'", m->name, ref);
		return -1;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read version '%s'", ref);
		return -1;
	}
	if (!v->committed) {
		atr_reply_conflict(r, "version", "version %lld of model '%s' is a draft; commit it first",
				   (long long)v->version, m->name);
		return -1;
	}
	return 0;
}

/* The {alias} of the {model} when the caller may move it (NULL when it answered). */
static const char *alias_or_reply(struct atr_req *r)
{
	const char *alias = atr_req_param(r, "alias");

	if (alias_name_or_reply(r, alias, "alias") < 0 || alias_access_or_reply(r, alias) < 0)
		return NULL;
	return alias;
}

void api_aliases_put(struct atr_req *r)
{
	const struct atr_project *p = &RES(r)->project;
	const struct atr_model *m = &RES(r)->model;
	struct atr_model_version v;
	const char *alias;
	char actor[80];
	int64_t from = 0;
	int rc;

	if (!(alias = alias_or_reply(r)) || body_version_or_reply(r, m, &v) < 0 ||
	    api_gate_or_reply(r, m->id, alias, v.id) < 0)
		return;
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", p->name, m->name, (long long)v.version,
			     alias);
	rc = atr_store_model_alias_set(STORE(r), m->id, alias, v.id, api_actor(r, actor, sizeof(actor)), 0, &from);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not set alias '%s'", alias);
		return;
	}
	if (from != v.id)
		atr_models_alias_moved(m->id, alias, from, v.id);
	atr_reply_json(r, 200,
		       json_pack("{s:s, s:s, s:I, s:o}", "model", m->name, "alias", alias, "version",
				 (json_int_t)v.version, "previous_version",
				 from ? json_integer(atr_store_model_version_number(STORE(r), from)) : json_null()));
}

void api_aliases_delete(struct atr_req *r)
{
	const struct atr_project *p = &RES(r)->project;
	const struct atr_model *m = &RES(r)->model;
	const char *alias;
	char actor[80];
	int64_t from = 0;
	int rc;

	if (!(alias = alias_or_reply(r)))
		return;
	atr_req_audit_object(r, "project:%s/model:%s/alias:%s", p->name, m->name, alias);
	rc = atr_store_model_alias_delete(STORE(r), m->id, alias, api_actor(r, actor, sizeof(actor)), &from);
	if (rc == 0) /* name the version it pointed at */
		atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", p->name, m->name,
				     (long long)atr_store_model_version_number(STORE(r), from), alias);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "model '%s' has no alias '%s'", m->name, alias);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete alias '%s'", alias);
		return;
	}
	atr_models_alias_moved(m->id, alias, from, 0);
	atr_reply_empty(r, 204);
}

static void reply_promotion(struct atr_req *r, unsigned status, int64_t id)
{
	struct atr_promotion pr;
	int rc;
	json_t *o = atr_store_promotion_json(STORE(r), id, &rc), *gate = NULL;
	if (!o) {
		atr_reply_err(r, rc, NULL, "could not read the promotion");
		return;
	}
	/* the evaluation gate of its alias, and the evaluation that passes it (benchmarks_gate.c) */
	if (atr_store_promotion_get(STORE(r), id, &pr) == 0 && pr.version_id)
		gate = api_gate_evidence(r, pr.model_id, pr.alias, pr.version_id);
	if (gate)
		json_object_set_new(o, "evaluation_gate", gate);
	atr_reply_json(r, status, o);
}

void api_promotions_create(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	const char *alias = atr_json_str(atr_req_body(r), "alias", "");
	char actor[80];
	int64_t id;
	int rc;

	if (alias_name_or_reply(r, alias, "alias") < 0)
		return;
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", x->project.name, x->model.name,
			     (long long)x->version.version, alias);
	if (!x->version.committed) {
		atr_reply_conflict(r, NULL, "version %lld of model '%s' is a draft; commit it first",
				   (long long)x->version.version, x->model.name);
		return;
	}
	rc = atr_store_promotion_create(STORE(r), x->version.id, alias, atr_json_str(atr_req_body(r), "comment", ""),
					atr_req_who(r)->user_id, api_actor(r, actor, sizeof(actor)), &id);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not request the promotion");
		return;
	}
	reply_promotion(r, 201, id);
}

void api_promotions_get(struct atr_req *r)
{
	reply_promotion(r, 200, RES(r)->promotion.id);
}

/* Approving or rejecting: whoever may move the promotion's alias (owners for the protected one). */
static void decide(struct atr_req *r, bool approve)
{
	const struct atr_promotion *pr = &RES(r)->promotion;
	const struct atr_project *p = &RES(r)->project;
	struct atr_model m;
	char actor[80];
	int64_t from = 0;
	int rc;

	if (alias_access_or_reply(r, pr->alias) < 0 ||
	    (approve && api_gate_or_reply(r, pr->model_id, pr->alias, pr->version_id) < 0))
		return;
	rc = atr_store_model_get(STORE(r), pr->model_id, &m);
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s/promotion:%lld", p->name, m.name,
				     (long long)pr->version, pr->alias, (long long)pr->id);
	if (rc == 0)
		rc = atr_store_promotion_decide(STORE(r), pr->id, approve, atr_req_who(r)->user_id,
						api_actor(r, actor, sizeof(actor)),
						atr_json_str(atr_req_body(r), "comment", ""), &from);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL, "promotion %lld is %s, not pending", (long long)pr->id,
				   strcmp(pr->state, "pending") ? pr->state : "cancelled");
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not decide promotion %lld", (long long)pr->id);
		return;
	}
	if (approve && from != pr->version_id)
		atr_models_alias_moved(pr->model_id, pr->alias, from, pr->version_id);
	reply_promotion(r, 200, pr->id);
}

void api_promotions_approve(struct atr_req *r)
{
	decide(r, true);
}

void api_promotions_reject(struct atr_req *r)
{
	decide(r, false);
}

#define PROMOTION_STATES "pending|approved|rejected|cancelled"
const struct atr_qparam api_promotions_list_project_query[] = {
	ATR_Q_PAGE,
	{ "state", ATR_Q_ENUM, 0, 0, 0, 0, PROMOTION_STATES, NULL },
	{ "model", ATR_Q_STRING, 0, 1, 63, 0, NULL, "promotions of this model" },
	{ 0 },
};
const struct atr_qparam api_promotions_list_mine_query[] = {
	ATR_Q_PAGE,
	{ "state", ATR_Q_ENUM, 0, 0, 0, 0, PROMOTION_STATES, "default: pending" },
	{ 0 },
};

static int list(struct atr_req *r, const void *filter, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_promotion_list(STORE(r), filter, p, arr, more);
}

void api_promotions_list_project(struct atr_req *r)
{
	const struct atr_project *p = &RES(r)->project;
	struct atr_promotion_filter f = { 0 };
	const char *model = atr_req_query(r, "model");
	struct atr_model m;
	int rc;

	if (model && (rc = atr_store_model_find(STORE(r), p->id, model, &m)) < 0) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_invalid(r, "model", "model '%s' does not exist in this project", model);
		else
			api_reply_store_err(r, rc, "model", model);
		return;
	}
	f.state = atr_req_query(r, "state");
	f.project_id = p->id;
	f.model_id = model ? m.id : 0;
	api_reply_list_cb(r, list, &f, "promotions");
}

void api_promotions_list_mine(struct atr_req *r)
{
	struct atr_promotion_filter f = { 0 };
	const char *state = atr_req_query(r, "state");

	f.state = state ? state : "pending";
	f.decider_id = atr_req_who(r)->user_id;
	f.admin = atr_req_who(r)->admin;
	api_reply_list_cb(r, list, &f, "promotions");
}
