/*
 * mlflow_registry_common.c: what the MLflow registry's handlers share (see mlflow.h): who
 * reads, MLflow's RegisteredModel and ModelVersion objects made from Atrium's rows (names,
 * stages derived from aliases, tags as lists), model names, stage names, and the rule on the
 * `production` alias. The handlers are in mlflow_registry.c, mlflow_versions.c and
 * mlflow_registry_search.c.
 */
#include "mlflow.h"
#include "atrium/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const api_mlflow_stage_names[ATR_STAGE_COUNT] = {
	[ATR_STAGE_NONE] = "None",
	[ATR_STAGE_STAGING] = "Staging",
	[ATR_STAGE_PRODUCTION] = "Production",
	[ATR_STAGE_ARCHIVED] = "Archived",
};

int api_mlflow_stage(const char *name)
{
	for (int i = 0; name && i < ATR_STAGE_COUNT; i++)
		if (strcasecmp(name, api_mlflow_stage_names[i]) == 0)
			return i;
	return -1;
}

void api_mlflow_viewer(struct atr_req *r, struct atr_model_viewer *v)
{
	const struct atr_principal *who = atr_req_who(r);

	memset(v, 0, sizeof(*v));
	if (who->kind == ATR_P_JOB) {
		v->project_id = who->project_id;
	} else if (who->kind == ATR_P_USER) {
		v->user_id = who->user_id;
		v->admin = who->admin;
	}
}

int api_mlflow_model_name_or_reply(struct atr_req *r, const char *name, const char *field)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n <= 63 && isalnum((unsigned char)name[0]);

	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)name[i]) || name[i] == '-' || name[i] == '_' || name[i] == '.';
	if (ok)
		return 0;
	atr_reply_invalid(r, field,
			  "'%s' must be a model name (letters, digits, '-', '_' and '.', starting with a letter or "
			  "digit, at most 63 bytes) or 'project/model', got '%s'",
			  field, name);
	return -1;
}

json_t *api_mlflow_tag_map(const json_t *list)
{
	json_t *map = json_object(), *t;
	size_t i;

	json_array_foreach(list, i, t)
	{
		const char *value = atr_json_str(t, "value", "");
		if (map && json_object_set_new(map, atr_json_str(t, "key", ""), json_string(value)) < 0) {
			json_decref(map);
			return NULL;
		}
	}
	return map;
}

/* {key: value} as MLflow's [{key, value}] (new reference). */
static json_t *tag_list(const json_t *map)
{
	json_t *arr = json_array(), *v;
	const char *key;

	json_object_foreach((json_t *)map, key, v)
	{
		if (arr && json_array_append_new(arr, json_pack("{s:s, s:O}", "key", key, "value", v)) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The name MLflow shows: the plain one unless the reader sees more than one model of it. */
static json_t *shown_name(const json_t *o, const char *name_key)
{
	const char *name = atr_json_str(o, name_key, "");

	if (json_is_true(json_object_get(o, "ambiguous")))
		return json_sprintf("%s/%s", atr_json_str(o, "project", ""), name);
	return json_string(name);
}

static const char *stage_of(const json_t *v)
{
	const json_t *aliases = json_object_get(v, "aliases"), *a;
	bool staging = false;
	size_t i;

	json_array_foreach(aliases, i, a)
	{
		if (strcmp(json_string_value(a), ATR_ALIAS_PROTECTED) == 0)
			return api_mlflow_stage_names[ATR_STAGE_PRODUCTION];
		staging = staging || strcmp(json_string_value(a), ATR_ALIAS_STAGING) == 0;
	}
	if (staging)
		return api_mlflow_stage_names[ATR_STAGE_STAGING];
	return api_mlflow_stage_names[json_is_true(json_object_get(v, "archived")) ? ATR_STAGE_ARCHIVED
										   : ATR_STAGE_NONE];
}

/* Copies o[key] into mv as it is when it is a string (null: left out, as MLflow leaves out
 * what is unset). */
static void copy_string(json_t *mv, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		json_object_set(mv, key, (json_t *)v);
}

static json_t *version_object(const json_t *o)
{
	bool ready = strcmp(atr_json_str(o, "state", ""), "committed") == 0;
	json_t *mv = json_pack("{s:o, s:o, s:O, s:O, s:s, s:s, s:o, s:O}", "name", shown_name(o, "model"), "version",
			       json_sprintf("%lld", (long long)atr_json_int(o, "version", 0)), "creation_timestamp",
			       json_object_get(o, "creation_timestamp"), "last_updated_timestamp",
			       json_object_get(o, "last_updated_timestamp"), "current_stage", stage_of(o), "status",
			       ready ? "READY" : "PENDING_REGISTRATION", "tags", tag_list(json_object_get(o, "tags")),
			       "aliases", json_object_get(o, "aliases"));

	if (!mv)
		return NULL;
	copy_string(mv, o, "user_id");
	copy_string(mv, o, "description");
	copy_string(mv, o, "source");
	copy_string(mv, o, "run_id");
	copy_string(mv, o, "run_link");
	if (!ready)
		json_object_set_new(mv, "status_message",
				    json_string("a draft: its files are still being uploaded through Atrium's API; "
						"it is READY once committed"));
	return mv;
}

json_t *api_mlflow_version_json(struct atr_req *r, int64_t version_id)
{
	struct atr_model_viewer v;
	json_t *o, *mv;
	int rc;

	api_mlflow_viewer(r, &v);
	if (!(o = atr_store_model_version_mlflow_json(STORE(r), version_id, &v, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the model version");
		return NULL;
	}
	mv = version_object(o);
	json_decref(o);
	if (!mv)
		atr_reply_nomem(r, NULL, "out of memory");
	return mv;
}

/* MLflow's latest_versions: the newest version of each stage (None, Staging, Production,
 * Archived, those that have one). */
static json_t *latest_versions(struct atr_req *r, int64_t model_id)
{
	int64_t stages[ATR_STAGE_COUNT];
	json_t *arr = json_array(), *mv;
	int rc = atr_store_model_latest_by_stage(STORE(r), model_id, stages);

	if (rc < 0 || !arr) {
		json_decref(arr);
		atr_reply_err(r, rc < 0 ? rc : ATR_ENOMEM, NULL, "could not read the model's latest versions");
		return NULL;
	}
	for (int i = 0; i < ATR_STAGE_COUNT; i++) {
		if (!stages[i])
			continue;
		if (!(mv = api_mlflow_version_json(r, stages[i]))) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, mv);
	}
	return arr;
}

json_t *api_mlflow_model_json(struct atr_req *r, int64_t model_id)
{
	struct atr_model_viewer v;
	json_t *o, *rm, *latest;
	int rc;

	api_mlflow_viewer(r, &v);
	if (!(o = atr_store_model_mlflow_json(STORE(r), model_id, &v, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the registered model");
		return NULL;
	}
	if (!(latest = latest_versions(r, model_id))) {
		json_decref(o);
		return NULL;
	}
	rm = json_pack("{s:o, s:O, s:O, s:o, s:o, s:O}", "name", shown_name(o, "name"), "creation_timestamp",
		       json_object_get(o, "creation_timestamp"), "last_updated_timestamp",
		       json_object_get(o, "last_updated_timestamp"), "latest_versions", latest, "tags",
		       tag_list(json_object_get(o, "tags")), "aliases", json_object_get(o, "aliases"));
	if (rm) {
		copy_string(rm, o, "user_id");
		copy_string(rm, o, "description");
	}
	json_decref(o);
	if (!rm)
		atr_reply_nomem(r, NULL, "out of memory");
	return rm;
}

void api_mlflow_reply_obj(struct atr_req *r, const char *key, json_t *obj)
{
	if (obj)
		atr_reply_json(r, 200, json_pack("{s:o}", key, obj));
}

int api_mlflow_alias_access_or_reply(struct atr_req *r, const char *alias, int64_t version_id)
{
	const struct api_res *x = RES(r);
	int64_t n = atr_store_model_version_number(STORE(r), version_id);
	char why[512], version[24] = "{version}";

	if (strcmp(alias, ATR_ALIAS_PROTECTED) != 0)
		return 0; /* (editors: the route's role) */
	if (n > 0)
		snprintf(version, sizeof(version), "%lld", (long long)n);
	snprintf(
		why, sizeof(why),
		"moving alias '%s' directly (an editor asks for it with POST /api/v1/projects/%s/models/%s/versions/%s/"
		"promotions {\"alias\": \"%s\"}, which an owner approves)",
		alias, x->project.name, x->model.name, version, alias);
	return api_need_role_or_reply(r, ATR_PROLE_OWNER, why);
}
