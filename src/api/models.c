/*
 * models.c: /api/v1/projects/{project}/models, their versions and version files, and
 * /api/v1/model-versions/{id}. Viewers read; editors (and job tokens of the project)
 * register, upload, commit and delete. A version is a draft until committed, then its
 * files are frozen (writes 409). Aliases and promotions are in promotions.c.
 */
#include "api.h"
#include "atrium/model_hooks.h"
#include "atrium/store_files.h"
#include "atrium/store_models.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

#define KIND "model_version"

const struct atr_field api_model_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "tags", ATR_F_STRLIST, 0, 0, 64, NULL, NULL },
	{ 0 },
};

const struct atr_field api_model_patch_schema[] = {
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "tags", ATR_F_STRLIST, 0, 0, 64, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mv_create_schema[] = {
	{ "source_run", ATR_F_INT, ATR_FF_NULLABLE, 1, INT64_MAX, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "framework", ATR_F_STRING, 0, 0, 64, NULL, NULL },
	{ "signature", ATR_F_ANY, ATR_FF_NULLABLE, 0, 65536, NULL, NULL },
	{ 0 },
};

const char *api_actor(struct atr_req *r, char *buf, size_t len)
{
	if (atr_req_who(r)->kind == ATR_P_JOB)
		snprintf(buf, len, "job:%lld", (long long)atr_req_who(r)->scope_id);
	else
		atr_copy(buf, len, atr_req_who(r)->username);
	return buf;
}

static void reply_model(struct atr_req *r, unsigned status, int64_t id)
{
	int rc;
	json_t *m = atr_store_model_json(STORE(r), id, &rc);
	if (!m) {
		atr_reply_err(r, rc, NULL, "could not read the model");
		return;
	}
	atr_reply_json(r, status, m);
}

void api_mv_reply(struct atr_req *r, unsigned status, int64_t version_id)
{
	int rc;
	json_t *v = atr_store_model_version_json(STORE(r), version_id, &rc);
	if (!v) {
		atr_reply_err(r, rc, NULL, "could not read the model version");
		return;
	}
	atr_reply_json(r, status, v);
}

void api_models_create(struct atr_req *r)
{
	const struct atr_project *p = &RES(r)->project;
	const char *name = atr_json_str(atr_req_body(r), "name", "");
	char actor[80];
	int64_t id;
	int rc;

	atr_req_audit_object(r, "project:%s/model:%s", p->name, name);
	rc = atr_store_model_create(STORE(r), p->id, name, atr_json_str(atr_req_body(r), "description", ""),
				    json_object_get(atr_req_body(r), "tags"), atr_req_who(r)->user_id,
				    api_actor(r, actor, sizeof(actor)), &id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "model '%s' already exists in project '%s'", name, p->name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create model '%s'", name);
		return;
	}
	reply_model(r, 201, id);
}

void api_models_list(struct atr_req *r)
{
	api_reply_list(r, atr_store_model_list, RES(r)->project.id, "models");
}

void api_models_get(struct atr_req *r)
{
	const struct atr_model *m = &RES(r)->model;
	struct atr_model_version v;
	json_t *o, *latest = NULL;
	int rc;

	if (!(o = atr_store_model_json(STORE(r), m->id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the model");
		return;
	}
	rc = atr_store_model_version_resolve(STORE(r), m->id, "latest", &v);
	if (rc == 0 && !(latest = atr_store_model_version_json(STORE(r), v.id, &rc))) {
		json_decref(o);
		atr_reply_err(r, rc, NULL, "could not read the latest version");
		return;
	}
	json_object_set_new(o, "latest", latest ? latest : json_null());
	atr_reply_json(r, 200, o);
}

void api_models_patch(struct atr_req *r)
{
	const struct atr_model *m = &RES(r)->model;
	int rc = atr_store_model_update(STORE(r), m->id, atr_json_str(atr_req_body(r), "description", NULL),
					json_object_get(atr_req_body(r), "tags"));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update model '%s'", m->name);
		return;
	}
	reply_model(r, 200, m->id);
}

void api_models_history(struct atr_req *r)
{
	api_reply_list(r, atr_store_model_history, RES(r)->model.id, "the history");
}

/* The body's source_run: 0 when absent, -1 when it answered 400 (unknown or another project's). */
static int64_t source_run_or_reply(struct atr_req *r, const struct atr_project *p)
{
	int64_t id = atr_json_int(atr_req_body(r), "source_run", 0);
	struct atr_run run;

	if (id <= 0)
		return 0;
	if (atr_store_run_get(STORE(r), id, &run) < 0 || run.project_id != p->id || !api_job_reaches(r, "run", id)) {
		atr_reply_invalid(r, "source_run", "run %lld does not exist in project '%s'", (long long)id, p->name);
		return -1;
	}
	return id;
}

void api_mv_create(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	struct atr_model_version v;
	struct atr_model_version_spec spec = { 0 };
	const json_t *sig = json_object_get(atr_req_body(r), "signature");
	char actor[80];
	int rc;

	if ((spec.source_run_id = source_run_or_reply(r, &x->project)) < 0)
		return;
	spec.model_id = x->model.id;
	spec.description = atr_json_str(atr_req_body(r), "description", "");
	spec.framework = atr_json_str(atr_req_body(r), "framework", "");
	spec.signature = json_is_null(sig) ? NULL : sig;
	spec.source_job_id = atr_req_who(r)->kind == ATR_P_JOB ? atr_req_who(r)->scope_id : 0;
	spec.user_id = atr_req_who(r)->user_id;
	spec.actor = api_actor(r, actor, sizeof(actor));
	rc = atr_store_model_version_create(STORE(r), &spec, &v);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create a version of model '%s'", x->model.name);
		return;
	}
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld", x->project.name, x->model.name,
			     (long long)v.version);
	api_mv_reply(r, 201, v.id);
}

void api_mv_list(struct atr_req *r)
{
	api_reply_list(r, atr_store_model_version_list, RES(r)->model.id, "versions");
}

void api_mv_get(struct atr_req *r)
{
	api_mv_reply(r, 200, RES(r)->version.id);
}

void api_mv_commit(struct atr_req *r)
{
	const struct atr_model_version *v = &RES(r)->version;
	char actor[80];
	int rc = atr_store_model_version_commit(STORE(r), v->id, api_actor(r, actor, sizeof(actor)));

	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL, "version %lld is committed already", (long long)v->version);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not commit the version");
		return;
	}
	api_mv_reply(r, 200, v->id);
}

void api_mv_delete(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	char actor[80], why[256] = "", alias[64] = "";
	int rc;

	if (atr_models_version_deletable(x->version.id, why, sizeof(why)) < 0) {
		atr_reply_conflict(r, NULL, "version %lld of model '%s' cannot be deleted: %s",
				   (long long)x->version.version, x->model.name, why[0] ? why : "it is in use");
		return;
	}
	rc = atr_store_model_version_delete(STORE(r), x->version.id, api_actor(r, actor, sizeof(actor)), alias);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "alias",
				   "alias '%s' points at version %lld of model '%s'; move or delete the alias first",
				   alias, (long long)x->version.version, x->model.name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the version");
		return;
	}
	atr_reply_empty(r, 204);
}

void api_mv_files(struct atr_req *r)
{
	api_files_list(r, KIND, RES(r)->version.id);
}

void api_mv_file_begin(struct atr_req *r)
{
	api_upload_begin(r, KIND, RES(r)->version.id);
}

int api_mv_file_chunk(struct atr_req *r, const char *data, size_t len)
{
	return api_upload_chunk(r, data, len);
}

void api_mv_file_put(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	struct atr_model_version now;
	int rc = atr_store_model_version_get(STORE(r), x->version.id, &now);

	/* The version may have been committed or deleted while the bytes arrived. */
	if (rc < 0 || now.committed) {
		atr_reply_conflict(r, NULL, "version %lld of model '%s' was %s during the upload",
				   (long long)x->version.version, x->model.name, rc < 0 ? "deleted" : "committed");
		return;
	}
	api_upload_finish(r, 201);
}

void api_mv_file_get(struct atr_req *r)
{
	api_file_download(r, KIND, RES(r)->version.id);
}

void api_mv_file_delete(struct atr_req *r)
{
	const char *path = api_path_or_reply(r);
	int rc;

	if (!path)
		return;
	rc = atr_store_file_delete(STORE(r), KIND, RES(r)->version.id, path);
	if (rc < 0) {
		api_reply_store_err(r, rc, "file", path);
		return;
	}
	atr_reply_empty(r, 204);
}
