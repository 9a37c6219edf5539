/*
 * datasets.c: /api/v1/projects/{project}/datasets and their versions. Viewers read, editors
 * write; a version is a draft (files may be added, replaced, removed) until committed, then
 * every write to it is 409.
 */
#include "api.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <string.h>

#define KIND "dataset_version"

const struct atr_field api_dataset_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "tags", ATR_F_STRLIST, 0, 0, 64, NULL, NULL },
	{ 0 },
};

const struct atr_field api_dsv_create_schema[] = {
	{ "message", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "parent", ATR_F_INT, ATR_FF_NULLABLE, 1, INT32_MAX, NULL, NULL },
	{ 0 },
};

const struct atr_field api_dsv_commit_schema[] = {
	{ "rows", ATR_F_INT, ATR_FF_NULLABLE, 0, INT64_MAX, NULL, NULL },
	{ "schema", ATR_F_ANY, ATR_FF_NULLABLE, 0, 65536, NULL, NULL },
	{ "metadata", ATR_F_ANY, ATR_FF_NULLABLE, 0, 65536, NULL, NULL },
	{ 0 },
};

/* The dataset named by {dataset} in the project named by {project}. */
static int dataset_or_reply(struct atr_req *r, enum atr_prole need, struct atr_project *p, int64_t *dataset_id)
{
	const char *name = atr_req_param(r, "dataset");
	int rc;

	if (api_project_or_reply(r, "project", need, p, NULL) < 0)
		return -1;
	rc = atr_store_dataset_find(STORE(r), p->id, name, dataset_id);
	if (rc < 0) {
		api_reply_store_err(r, rc, "dataset", name);
		return -1;
	}
	return 0;
}

/* {version}: a number, or "latest" for the newest committed version. */
int api_version_param_or_reply(struct atr_req *r, int64_t *version)
{
	const char *v = atr_req_param(r, "version");
	if (v && strcmp(v, "latest") == 0) {
		*version = 0;
		return 0;
	}
	if (!v || atr_parse_i64(v, 1, INT32_MAX, version) < 0) {
		atr_reply_error(r, 400, "invalid", "version", "'version' must be a version number or 'latest'");
		return -1;
	}
	return 0;
}

int api_dsv_or_reply(struct atr_req *r, enum atr_prole need, bool draft, struct atr_dataset_version *out)
{
	struct atr_project p;
	int64_t dataset_id, version;
	int rc;

	if (dataset_or_reply(r, need, &p, &dataset_id) < 0 || api_version_param_or_reply(r, &version) < 0)
		return -1;
	rc = atr_store_dsv_find(STORE(r), dataset_id, version, out);
	if (rc < 0) {
		api_reply_store_err(r, rc, "version", atr_req_param(r, "version"));
		return -1;
	}
	atr_req_audit_object(r, "project:%s/dataset:%s/version:%lld", p.name, atr_req_param(r, "dataset"),
			     (long long)out->version);
	if (draft && out->committed) {
		atr_reply_error(r, 409, "conflict", NULL, "version %lld of dataset '%s' is committed and cannot change",
				(long long)out->version, atr_req_param(r, "dataset"));
		return -1;
	}
	return 0;
}

void api_datasets_create(struct atr_req *r)
{
	struct atr_project p;
	const char *name = atr_json_str(r->body, "name", "");
	int64_t id;
	json_t *d;
	int rc;

	if (api_project_or_reply(r, "project", ATR_PROLE_EDITOR, &p, NULL) < 0)
		return;
	atr_req_audit_object(r, "project:%s/dataset:%s", p.name, name);
	rc = atr_store_dataset_create(STORE(r), p.id, name, atr_json_str(r->body, "description", ""),
				      json_object_get(r->body, "tags"), r->who.user_id, &id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_error(r, 409, "conflict", "name", "dataset '%s' already exists in project '%s'", name,
				p.name);
		return;
	}
	if (rc < 0 || !(d = atr_store_dataset_json(STORE(r), id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not create dataset '%s'", name);
		return;
	}
	atr_reply_json(r, 201, d);
}

void api_datasets_list(struct atr_req *r)
{
	struct atr_project p;

	if (api_project_or_reply(r, "project", ATR_PROLE_VIEWER, &p, NULL) == 0)
		api_reply_list(r, atr_store_dataset_list, p.id, "datasets");
}

void api_datasets_get(struct atr_req *r)
{
	struct atr_project p;
	int64_t id;
	json_t *d;
	int rc;

	if (dataset_or_reply(r, ATR_PROLE_VIEWER, &p, &id) < 0)
		return;
	if (!(d = atr_store_dataset_json(STORE(r), id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the dataset");
		return;
	}
	atr_reply_json(r, 200, d);
}

static void reply_version(struct atr_req *r, unsigned status, int64_t id)
{
	int rc;
	json_t *v = atr_store_dsv_json(STORE(r), id, &rc);
	if (!v) {
		atr_reply_err(r, rc, NULL, "could not read the version");
		return;
	}
	atr_reply_json(r, status, v);
}

void api_dsv_create(struct atr_req *r)
{
	struct atr_project p;
	struct atr_dataset_version v;
	int64_t dataset_id, parent = atr_json_int(r->body, "parent", 0);
	int rc;

	if (dataset_or_reply(r, ATR_PROLE_EDITOR, &p, &dataset_id) < 0)
		return;
	rc = atr_store_dsv_create(STORE(r), dataset_id, atr_json_str(r->body, "message", ""), parent, 0, r->who.user_id,
				  &v);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_error(r, 400, "invalid", "parent", "dataset '%s' has no version %lld",
				atr_req_param(r, "dataset"), (long long)parent);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create the version");
		return;
	}
	atr_req_audit_object(r, "project:%s/dataset:%s/version:%lld", p.name, atr_req_param(r, "dataset"),
			     (long long)v.version);
	reply_version(r, 201, v.id);
}

void api_dsv_list(struct atr_req *r)
{
	struct atr_project p;
	int64_t dataset_id;

	if (dataset_or_reply(r, ATR_PROLE_VIEWER, &p, &dataset_id) == 0)
		api_reply_list(r, atr_store_dsv_list, dataset_id, "versions");
}

void api_dsv_get(struct atr_req *r)
{
	struct atr_dataset_version v;
	if (api_dsv_or_reply(r, ATR_PROLE_VIEWER, false, &v) < 0)
		return;
	reply_version(r, 200, v.id);
}

void api_dsv_delete(struct atr_req *r)
{
	struct atr_dataset_version v;
	int rc;

	if (api_dsv_or_reply(r, ATR_PROLE_EDITOR, true, &v) < 0)
		return;
	rc = atr_store_dsv_delete(STORE(r), v.id);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the version");
		return;
	}
	atr_reply_empty(r, 204);
}

void api_dsv_commit(struct atr_req *r)
{
	struct atr_dataset_version v;
	int rc;

	if (api_dsv_or_reply(r, ATR_PROLE_EDITOR, true, &v) < 0)
		return;
	rc = atr_store_dsv_commit(STORE(r), v.id, atr_json_int(r->body, "rows", -1), json_object_get(r->body, "schema"),
				  json_object_get(r->body, "metadata"));
	if (rc == ATR_ECONFLICT) {
		atr_reply_error(r, 409, "conflict", NULL, "version %lld is committed already", (long long)v.version);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not commit the version");
		return;
	}
	reply_version(r, 200, v.id);
}

void api_dsv_files(struct atr_req *r)
{
	struct atr_dataset_version v;
	if (api_dsv_or_reply(r, ATR_PROLE_VIEWER, false, &v) < 0)
		return;
	api_files_list(r, KIND, v.id);
}

void api_dsv_file_begin(struct atr_req *r)
{
	struct atr_dataset_version v;
	if (api_dsv_or_reply(r, ATR_PROLE_EDITOR, true, &v) < 0)
		return;
	api_upload_begin(r, KIND, v.id);
}

int api_dsv_file_chunk(struct atr_req *r, const char *data, size_t len)
{
	return api_upload_chunk(r, data, len);
}

void api_dsv_file_put(struct atr_req *r)
{
	struct atr_dataset_version v;
	/* The version may have been committed while the bytes arrived. */
	if (api_dsv_or_reply(r, ATR_PROLE_EDITOR, true, &v) < 0)
		return;
	api_upload_finish(r, 201);
}

void api_dsv_file_get(struct atr_req *r)
{
	struct atr_dataset_version v;
	if (api_dsv_or_reply(r, ATR_PROLE_VIEWER, false, &v) < 0)
		return;
	api_file_download(r, KIND, v.id);
}

void api_dsv_file_delete(struct atr_req *r)
{
	struct atr_dataset_version v;
	const char *path;
	int rc;

	if (api_dsv_or_reply(r, ATR_PROLE_EDITOR, true, &v) < 0 || !(path = api_path_or_reply(r)))
		return;
	rc = atr_store_file_delete(STORE(r), KIND, v.id, path);
	if (rc < 0) {
		api_reply_store_err(r, rc, "file", path);
		return;
	}
	atr_reply_empty(r, 204);
}

void api_dsv_diff(struct atr_req *r)
{
	struct atr_dataset_version v, other;
	int64_t against;
	json_t *d;
	int rc;

	if (api_dsv_or_reply(r, ATR_PROLE_VIEWER, false, &v) < 0)
		return;
	if (atr_req_query_int(r, "against", 1, INT32_MAX, 0, &against) < 0)
		return;
	if (!against) {
		atr_reply_error(r, 400, "invalid", "against", "'against' (the version to compare with) is required");
		return;
	}
	rc = atr_store_dsv_find(STORE(r), v.dataset_id, against, &other);
	if (rc < 0) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_error(r, 400, "invalid", "against", "version %lld does not exist",
					(long long)against);
		else
			atr_reply_err(r, rc, NULL, "could not read version %lld", (long long)against);
		return;
	}
	d = atr_store_files_diff(STORE(r), KIND, other.id, v.id, 1000, &rc);
	if (!d) {
		atr_reply_err(r, rc, NULL, "could not compare the versions");
		return;
	}
	json_object_set_new(d, "from", json_integer(other.version));
	json_object_set_new(d, "to", json_integer(v.version));
	atr_reply_json(r, 200, d);
}
