/*
 * mlflow_registry.c: MLflow's registered-models endpoints (2.9.2's model_registry.proto) over
 * Atrium's models: create, get, rename, update, delete, get-latest-versions, set-tag,
 * delete-tag and the aliases (set, get, delete). The model named in the request is loaded and
 * access decided by the pipeline (ATR_RF_MLFLOW: "name"), except for create, whose project
 * this file picks (see where_to_create). Versions are in mlflow_versions.c, searches in
 * mlflow_registry_search.c, MLflow's objects in mlflow_registry_common.c.
 */
#include "mlflow.h"
#include "atrium/model_hooks.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

/* The tag that names the project of a model created with a plain name. */
#define PROJECT_TAG "atrium.project"

const struct atr_field api_mlflow_tag_schema[] = {
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, 0, 0, 5000, NULL, NULL },
	{ 0 },
};

#define NAME                                                              \
	{                                                                 \
		"name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 127, NULL, NULL \
	}
#define ALIAS                                                              \
	{                                                                  \
		"alias", ATR_F_STRING, ATR_FF_REQUIRED, 1, 255, NULL, NULL \
	}

const struct atr_field api_mlflow_rm_create_schema[] = {
	NAME,
	{ "tags", ATR_F_ARRAY, 0, 0, 1000, NULL, api_mlflow_tag_schema },
	{ "description", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_rm_rename_schema[] = {
	NAME,
	{ "new_name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 127, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_rm_update_schema[] = {
	NAME,
	{ "description", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_rm_name_schema[] = { NAME, { 0 } };
const struct atr_field api_mlflow_rm_latest_schema[] = {
	NAME,
	{ "stages", ATR_F_STRLIST, 0, 0, 16, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_rm_set_tag_schema[] = {
	NAME,
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, ATR_FF_REQUIRED, 0, 5000, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_rm_delete_tag_schema[] = {
	NAME,
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_alias_set_schema[] = {
	NAME,
	ALIAS,
	{ "version", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 1, 20, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_alias_delete_schema[] = { NAME, ALIAS, { 0 } };

#define QNAME                                                                                  \
	{                                                                                      \
		"name", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 127, 0, NULL, "the registered model" \
	}
const struct atr_qparam api_mlflow_rm_get_query[] = { QNAME, { 0 } };
const struct atr_qparam api_mlflow_rm_latest_query[] = {
	QNAME,
	{ "stages", ATR_Q_STRING, ATR_QF_MULTI, 1, 32, 0, NULL, "None, Staging, Production or Archived (repeated)" },
	{ 0 },
};
const struct atr_qparam api_mlflow_alias_get_query[] = {
	QNAME,
	{ "alias", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 255, 0, NULL, "the alias" },
	{ 0 },
};

/* ---- create: which project ---- */

/* A project the caller may read, named in field (a 400 naming it otherwise, as if it did not
 * exist). */
static int project_or_reply(struct atr_req *r, const char *ref, const char *field, struct atr_project *p)
{
	int rc = atr_store_project_find(STORE(r), ref, p);

	if (rc == 0 && api_project_role(r, p) == ATR_PROLE_NONE)
		rc = ATR_ENOTFOUND;
	if (rc == ATR_ENOTFOUND)
		atr_reply_invalid(r, field, "'%s': project '%s' does not exist", field, ref);
	else if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not read project '%s'", ref);
	return rc < 0 ? -1 : 0;
}

/* The project a model created as `name` goes to (see docs/api.md): "project/model" names it;
 * else the tag atrium.project; else (users) the project of the caller's latest run, else their
 * Default experiment; a job's token: its project. *model_name points at the model's part. */
static int where_to_create(struct atr_req *r, const char *name, const json_t *tags, struct atr_project *p,
			   const char **model_name)
{
	const struct atr_principal *who = atr_req_who(r);
	const char *slash = strchr(name, '/');
	const char *tagged = atr_json_str(tags, PROJECT_TAG, NULL);
	char project[64];
	int64_t id;
	int rc;

	*model_name = slash ? slash + 1 : name;
	if (slash) {
		size_t n = (size_t)(slash - name);
		if (n == 0 || n >= sizeof(project)) {
			atr_reply_invalid(r, "name", "'name': project '%.*s' does not exist", (int)n, name);
			return -1;
		}
		memcpy(project, name, n);
		project[n] = 0;
		return project_or_reply(r, project, "name", p);
	}
	if (tagged)
		return project_or_reply(r, tagged, "tags", p);
	if (who->kind == ATR_P_JOB)
		rc = atr_store_project_get(STORE(r), who->project_id, p);
	else if ((rc = atr_store_model_latest_run_project(STORE(r), who->user_id, &id)) == 0)
		rc = atr_store_project_get(STORE(r), id, p);
	else if (rc == ATR_ENOTFOUND)
		rc = atr_store_project_default(STORE(r), who->user_id, who->username, p);
	if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not find a project for registered model '%s'", name);
	return rc < 0 ? -1 : 0;
}

/* RESOURCE_ALREADY_EXISTS when the caller sees a model of that name (in the project when the
 * name is "project/model", anywhere they may read when it is plain: MLflow's names are global). */
static int absent_or_reply(struct atr_req *r, const char *name, const struct atr_project *p, const char *model)
{
	const struct atr_principal *who = atr_req_who(r);
	struct atr_model m;
	int count = 0, rc = atr_store_model_find(STORE(r), p->id, model, &m);

	if (rc == 0) {
		atr_reply_conflict(r, "name", "Registered Model (name=%s) already exists.", name);
		return -1;
	}
	if (rc == ATR_ENOTFOUND && !strchr(name, '/') && who->kind == ATR_P_USER)
		rc = atr_store_model_find_visible(STORE(r), model, who->user_id, who->admin, &m, &count);
	if (rc < 0 && rc != ATR_ENOTFOUND) {
		atr_reply_err(r, rc, NULL, "could not read registered model '%s'", name);
		return -1;
	}
	if (count == 0)
		return 0;
	atr_reply_conflict(r, "name",
			   "Registered Model (name=%s) already exists (in another project you can read); name the "
			   "new one as '%s/%s'",
			   name, p->name, model);
	return -1;
}

/* The caller's role in p, as the pipeline would decide it for a route on p (RES(r) set). */
static int create_access_or_reply(struct atr_req *r, const struct atr_project *p, const char *model)
{
	struct api_res *x = atr_req_alloc(r, sizeof(*x));
	char why[160];

	if (!x) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	memset(x, 0, sizeof(*x));
	x->project = *p;
	x->role = api_project_role(r, p);
	atr_req_set_resource(r, x);
	snprintf(why, sizeof(why), "creating registered model '%s' there", model);
	if (api_need_role_or_reply(r, ATR_PROLE_EDITOR, why) < 0)
		return -1;
	if (p->archived) {
		atr_reply_unprocessable(r, NULL, "project '%s' is archived", p->name);
		return -1;
	}
	return 0;
}

void api_mlflow_rm_create(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	const char *name = atr_json_str(body, "name", ""), *model;
	json_t *tags = api_mlflow_tag_map(json_object_get(body, "tags"));
	struct atr_project p;
	char actor[80];
	int64_t id;
	int rc;

	if (!tags) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	if (where_to_create(r, name, tags, &p, &model) < 0 || api_mlflow_model_name_or_reply(r, model, "name") < 0 ||
	    absent_or_reply(r, name, &p, model) < 0 || create_access_or_reply(r, &p, model) < 0)
		goto out;
	atr_req_audit_object(r, "project:%s/model:%s", p.name, model);
	rc = atr_store_model_create_kv(STORE(r), p.id, model, atr_json_str(body, "description", ""), tags,
				       atr_req_who(r)->user_id, api_actor(r, actor, sizeof(actor)), &id);
	if (rc == ATR_ECONFLICT)
		atr_reply_conflict(r, "name", "Registered Model (name=%s) already exists.", name);
	else if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not create registered model '%s'", name);
	else
		api_mlflow_reply_obj(r, "registered_model", api_mlflow_model_json(r, id));
out:
	json_decref(tags);
}

/* ---- the others: the model is RES(r)->model ---- */

void api_mlflow_rm_get(struct atr_req *r)
{
	api_mlflow_reply_obj(r, "registered_model", api_mlflow_model_json(r, RES(r)->model.id));
}

/* new_name: a plain name, or "project/name" of the model's own project (models stay in theirs). */
static const char *new_name_or_reply(struct atr_req *r, const char *new_name)
{
	const struct api_res *x = RES(r);
	const char *slash = strchr(new_name, '/');
	size_t plen = strlen(x->project.name);

	if (slash && ((size_t)(slash - new_name) != plen || strncmp(new_name, x->project.name, plen) != 0)) {
		atr_reply_invalid(r, "new_name",
				  "registered model '%s' is in project '%s' and stays there: 'new_name' may name "
				  "that project only",
				  x->model.name, x->project.name);
		return NULL;
	}
	new_name = slash ? slash + 1 : new_name;
	return api_mlflow_model_name_or_reply(r, new_name, "new_name") < 0 ? NULL : new_name;
}

void api_mlflow_rm_rename(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	const char *full = atr_json_str(atr_req_body(r), "new_name", ""), *name;
	char actor[80];
	int rc;

	if (!(name = new_name_or_reply(r, full)))
		return;
	if (strcmp(name, x->model.name) != 0) {
		if (absent_or_reply(r, full, &x->project, name) < 0)
			return;
		rc = atr_store_model_rename(STORE(r), x->model.id, name, api_actor(r, actor, sizeof(actor)));
		if (rc == ATR_ECONFLICT) {
			atr_reply_conflict(r, "new_name", "Registered Model (name=%s) already exists.", full);
			return;
		}
		if (rc < 0) {
			atr_reply_err(r, rc, NULL, "could not rename registered model '%s'", x->model.name);
			return;
		}
	}
	api_mlflow_reply_obj(r, "registered_model", api_mlflow_model_json(r, x->model.id));
}

void api_mlflow_rm_update(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	int rc =
		atr_store_model_update(STORE(r), x->model.id, atr_json_str(atr_req_body(r), "description", NULL), NULL);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update registered model '%s'", x->model.name);
		return;
	}
	api_mlflow_reply_obj(r, "registered_model", api_mlflow_model_json(r, x->model.id));
}

/* Whether every version may go (no deployment serves one): 0, or -1 after answering why not. */
static int versions_deletable_or_reply(struct atr_req *r, const struct atr_model *m)
{
	json_t *ids = json_array(), *id;
	char why[256] = "";
	size_t i;
	int rc = ids ? atr_store_model_version_ids(STORE(r), m->id, ids) : ATR_ENOMEM;

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read the versions of '%s'", m->name);
		json_decref(ids);
		return -1;
	}
	json_array_foreach(ids, i, id)
	{
		if (atr_models_version_deletable(json_integer_value(id), why, sizeof(why)) < 0) {
			atr_reply_unprocessable(
				r, NULL, "registered model '%s' cannot be deleted: version %lld is in use (%s)",
				m->name, (long long)atr_store_model_version_number(STORE(r), json_integer_value(id)),
				why[0] ? why : "in use");
			json_decref(ids);
			return -1;
		}
	}
	json_decref(ids);
	return 0;
}

void api_mlflow_rm_delete(struct atr_req *r)
{
	const struct atr_model *m = &RES(r)->model;
	char why[256] = "";
	int rc;

	if (versions_deletable_or_reply(r, m) < 0)
		return;
	rc = atr_store_model_delete(STORE(r), m->id, why, sizeof(why));
	if (rc == ATR_ECONFLICT) {
		atr_reply_unprocessable(r, NULL, "registered model '%s' cannot be deleted: %s; %s first", m->name, why,
					strncmp(why, "alias", 5) == 0 ? "delete the alias" : "delete the deployment");
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete registered model '%s'", m->name);
		return;
	}
	atr_reply_json(r, 200, json_object());
}

/* The stages asked for (body "stages" or repeated ?stages=), as a set; all when none. -1 after
 * a 400 naming an unknown one. */
static int stages_or_reply(struct atr_req *r, bool want[ATR_STAGE_COUNT])
{
	const char *names[16];
	const json_t *list = json_object_get(atr_req_body(r), "stages");
	int n = list ? (int)json_array_size(list) : atr_req_query_all(r, "stages", names, 16);

	for (int i = 0; i < ATR_STAGE_COUNT; i++)
		want[i] = n == 0;
	for (int i = 0; i < n && i < 16; i++) {
		const char *name = list ? json_string_value(json_array_get(list, (size_t)i)) : names[i];
		int stage = api_mlflow_stage(name);
		if (stage < 0) {
			atr_reply_invalid(r, "stages",
					  "'stages': Invalid Model Version stage: %s. Value must be one of None, "
					  "Staging, Production, Archived.",
					  name ? name : "");
			return -1;
		}
		want[stage] = true;
	}
	return 0;
}

void api_mlflow_rm_latest(struct atr_req *r)
{
	bool want[ATR_STAGE_COUNT];
	json_t *rm, *latest, *out, *mv;
	size_t i;

	if (stages_or_reply(r, want) < 0 || !(rm = api_mlflow_model_json(r, RES(r)->model.id)))
		return;
	latest = json_object_get(rm, "latest_versions");
	out = json_array();
	json_array_foreach(latest, i, mv)
	{
		if (out && want[api_mlflow_stage(atr_json_str(mv, "current_stage", ""))])
			json_array_append(out, mv);
	}
	json_decref(rm);
	if (!out) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:o}", "model_versions", out));
}

void api_mlflow_rm_set_tag(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	int rc = atr_store_model_kv_tag(STORE(r), RES(r)->model.id, atr_json_str(body, "key", ""),
					atr_json_str(body, "value", ""));

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not set the tag");
		return;
	}
	atr_reply_json(r, 200, json_object());
}

void api_mlflow_rm_delete_tag(struct atr_req *r)
{
	int rc = atr_store_model_kv_tag(STORE(r), RES(r)->model.id, atr_json_str(atr_req_body(r), "key", ""), NULL);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the tag");
		return;
	}
	atr_reply_json(r, 200, json_object());
}

/* ---- aliases: Atrium's own (src/api/promotions.c), `production` needs an owner ---- */

/* MLflow's alias names as Atrium's: lowercase letters, digits and '-', not only digits, not
 * "latest", not a version reference ("v3"). -1 after a 400 naming 'alias'. */
static int alias_name_or_reply(struct atr_req *r, const char *alias)
{
	int64_t n;
	bool version_like = alias[0] == 'v' && atr_parse_i64(alias + 1, 0, INT64_MAX, &n) == 0;

	if (atr_is_slug(alias) && atr_parse_i64(alias, 0, INT64_MAX, &n) < 0 && strcmp(alias, "latest") != 0 &&
	    !version_like)
		return 0;
	atr_reply_invalid(r, "alias",
			  "Invalid alias name: '%s'. 'alias' must be lowercase letters, digits and '-' (not only "
			  "digits, not 'latest' or 'v<number>'), at most 63 characters",
			  alias);
	return -1;
}

/* The version the body's "version" names (a number), or NULL after answering. */
static int body_version_or_reply(struct atr_req *r, struct atr_model_version *v)
{
	const struct atr_model *m = &RES(r)->model;
	const json_t *j = json_object_get(atr_req_body(r), "version");
	char ref[24];
	int64_t n;
	int rc;

	if (json_is_integer(j))
		snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(j));
	else
		atr_copy(ref, sizeof(ref), json_string_value(j));
	if (atr_parse_i64(ref, 1, INT64_MAX, &n) < 0) {
		atr_reply_invalid(r, "version", "'version' must be an integer (a version number), got '%s'", ref);
		return -1;
	}
	rc = atr_store_model_version_resolve(STORE(r), m->id, ref, v);
	if (rc == ATR_ENOTFOUND)
		atr_reply_not_found(r, NULL, "Model Version (name=%s, version=%s) not found", m->name, ref);
	else if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not read version %s", ref);
	else if (!v->committed)
		atr_reply_unprocessable(r, "version", "version %s of model '%s' is a draft; commit it first", ref,
					m->name);
	return rc < 0 || !v->committed ? -1 : 0;
}

void api_mlflow_alias_set(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	const char *alias = atr_json_str(atr_req_body(r), "alias", "");
	struct atr_model_version v;
	char actor[80];
	int64_t from = 0;
	int rc;

	if (alias_name_or_reply(r, alias) < 0 || body_version_or_reply(r, &v) < 0 ||
	    api_mlflow_alias_access_or_reply(r, alias, v.id) < 0 || api_gate_or_reply(r, x->model.id, alias, v.id) < 0)
		return;
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", x->project.name, x->model.name,
			     (long long)v.version, alias);
	rc = atr_store_model_alias_set(STORE(r), x->model.id, alias, v.id, api_actor(r, actor, sizeof(actor)), 0,
				       &from);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not set alias '%s'", alias);
		return;
	}
	if (from != v.id)
		atr_models_alias_moved(x->model.id, alias, from, v.id);
	atr_reply_json(r, 200, json_object());
}

void api_mlflow_alias_get(struct atr_req *r)
{
	const struct atr_model *m = &RES(r)->model;
	const char *alias = atr_req_query(r, "alias");
	int64_t id = 0;
	int rc = atr_store_model_alias_get(STORE(r), m->id, alias, &id);

	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "Registered model alias %s not found.", alias);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read alias '%s'", alias);
		return;
	}
	api_mlflow_reply_obj(r, "model_version", api_mlflow_version_json(r, id));
}

void api_mlflow_alias_delete(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	const char *alias = atr_json_str(atr_req_body(r), "alias", "");
	char actor[80];
	int64_t from = 0;
	int rc = atr_store_model_alias_get(STORE(r), x->model.id, alias, &from);

	if (rc == 0 && api_mlflow_alias_access_or_reply(r, alias, from) < 0)
		return;
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld/alias:%s", x->project.name, x->model.name,
			     (long long)atr_store_model_version_number(STORE(r), from), alias);
	if (rc == 0)
		rc = atr_store_model_alias_delete(STORE(r), x->model.id, alias, api_actor(r, actor, sizeof(actor)),
						  &from);
	if (rc < 0 && rc != ATR_ENOTFOUND) { /* (an alias that is not set: nothing to do, as MLflow) */
		atr_reply_err(r, rc, NULL, "could not delete alias '%s'", alias);
		return;
	}
	if (rc == 0)
		atr_models_alias_moved(x->model.id, alias, from, 0);
	atr_reply_json(r, 200, json_object());
}
