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

const struct atr_qparam api_dsv_diff_query[] = {
	{ "against", ATR_Q_INT, ATR_QF_REQUIRED, 1, INT32_MAX, 0, NULL, "the version to compare with" },
	{ 0 },
};

void api_datasets_create(struct atr_req *r)
{
	const struct atr_project *p = &RES(r)->project;
	const char *name = atr_json_str(atr_req_body(r), "name", "");
	int64_t id;
	json_t *d;
	int rc;

	atr_req_audit_object(r, "project:%s/dataset:%s", p->name, name);
	rc = atr_store_dataset_create(STORE(r), p->id, name, atr_json_str(atr_req_body(r), "description", ""),
				      json_object_get(atr_req_body(r), "tags"), atr_req_who(r)->user_id, &id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "dataset '%s' already exists in project '%s'", name, p->name);
		return;
	}
	if (rc < 0 || !(d = atr_store_dataset_json(STORE(r), id, NULL, &rc))) {
		atr_reply_err(r, rc, NULL, "could not create dataset '%s'", name);
		return;
	}
	atr_reply_json(r, 201, d);
}

/*
 * A competition's hidden set (and its inputs copy) is absent from the lists and counts of all
 * but its organisers (api_dsv_hidden_ids): version_count and latest_version leave it out, so
 * the numbers a participant sees may have a gap where it is.
 */
static int datasets_cb(struct atr_req *r, const void *hide, const struct atr_page *p, json_t *arr, bool *more)
{
	size_t before = json_array_size(arr);
	int rc = atr_store_dataset_list(STORE(r), RES(r)->project.id, hide, p, arr, more);

	/* (a competition scorer's dataset: absent for all but the owners; a page may come back short) */
	for (size_t i = json_array_size(arr); rc == 0 && i-- > before;)
		if (api_scoring_dataset_hidden(r, RES(r)->role, atr_json_int(json_array_get(arr, i), "id", 0)))
			json_array_remove(arr, i);
	return rc;
}

void api_datasets_list(struct atr_req *r)
{
	json_t *hide = api_dsv_hidden_ids(r);

	if (hide)
		api_reply_list_cb(r, datasets_cb, hide, "datasets");
	json_decref(hide);
}

void api_datasets_get(struct atr_req *r)
{
	json_t *d, *hide = api_dsv_hidden_ids(r);
	int rc;

	if (!hide)
		return;
	d = atr_store_dataset_json(STORE(r), RES(r)->dataset_id, hide, &rc);
	json_decref(hide);
	if (!d) {
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
	const struct api_res *x = RES(r);
	struct atr_dataset_version v;
	int64_t parent = atr_json_int(atr_req_body(r), "parent", 0);
	int rc = 0;

	/* a competition's hidden set is no parent but for its organisers (the draft would copy its files) */
	if (parent > 0 && atr_store_dsv_find(STORE(r), x->dataset_id, parent, &v) == 0 && api_dsv_hidden(r, v.id))
		rc = ATR_ENOTFOUND;
	/* a job's token makes its job's versions (what it writes: src/api/access.c) */
	if (rc == 0)
		rc = atr_store_dsv_create(STORE(r), x->dataset_id, atr_json_str(atr_req_body(r), "message", ""), parent,
					  atr_req_who(r)->kind == ATR_P_JOB ? atr_req_who(r)->scope_id : 0,
					  atr_req_who(r)->user_id, &v);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "parent", "dataset '%s' has no version %lld", atr_req_param(r, "dataset"),
				  (long long)parent);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create the version");
		return;
	}
	atr_req_audit_object(r, "project:%s/dataset:%s/version:%lld", x->project.name, atr_req_param(r, "dataset"),
			     (long long)v.version);
	reply_version(r, 201, v.id);
}

static int versions_cb(struct atr_req *r, const void *hide, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_dsv_list(STORE(r), RES(r)->dataset_id, hide, p, arr, more);
}

void api_dsv_list(struct atr_req *r)
{
	json_t *hide = api_dsv_hidden_ids(r);

	if (hide)
		api_reply_list_cb(r, versions_cb, hide, "versions");
	json_decref(hide);
}

void api_dsv_get(struct atr_req *r)
{
	reply_version(r, 200, RES(r)->dsv.id);
}

void api_dsv_delete(struct atr_req *r)
{
	int rc = atr_store_dsv_delete(STORE(r), RES(r)->dsv.id);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the version");
		return;
	}
	atr_reply_empty(r, 204);
}

void api_dsv_commit(struct atr_req *r)
{
	const struct atr_dataset_version *v = &RES(r)->dsv;
	int rc;

	rc = atr_store_dsv_commit(STORE(r), v->id, atr_json_int(atr_req_body(r), "rows", -1),
				  json_object_get(atr_req_body(r), "schema"),
				  json_object_get(atr_req_body(r), "metadata"));
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL, "version %lld is committed already", (long long)v->version);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not commit the version");
		return;
	}
	reply_version(r, 200, v->id);
}

void api_dsv_files(struct atr_req *r)
{
	api_files_list(r, KIND, RES(r)->dsv.id);
}

void api_dsv_file_begin(struct atr_req *r)
{
	api_upload_begin(r, KIND, RES(r)->dsv.id);
}

int api_dsv_file_chunk(struct atr_req *r, const char *data, size_t len)
{
	return api_upload_chunk(r, data, len);
}

void api_dsv_file_put(struct atr_req *r)
{
	struct atr_dataset_version now;
	const struct atr_dataset_version *v = &RES(r)->dsv;

	/* The version may have been committed while the bytes arrived. */
	if (atr_store_dsv_find(STORE(r), v->dataset_id, v->version, &now) == 0 && now.committed) {
		atr_reply_conflict(r, NULL, "version %lld of dataset '%s' was committed during the upload",
				   (long long)v->version, atr_req_param(r, "dataset"));
		return;
	}
	api_upload_finish(r, 201);
}

void api_dsv_file_get(struct atr_req *r)
{
	api_file_download(r, KIND, RES(r)->dsv.id);
}

void api_dsv_file_delete(struct atr_req *r)
{
	const char *path = api_path_or_reply(r);
	int rc;

	if (!path)
		return;
	rc = atr_store_file_delete(STORE(r), KIND, RES(r)->dsv.id, path);
	if (rc < 0) {
		api_reply_store_err(r, rc, "file", path);
		return;
	}
	atr_reply_empty(r, 204);
}

void api_dsv_diff(struct atr_req *r)
{
	const struct atr_dataset_version *v = &RES(r)->dsv;
	struct atr_dataset_version other;
	int64_t against = atr_req_qint(r, "against");
	json_t *d;
	int rc;

	rc = atr_store_dsv_find(STORE(r), v->dataset_id, against, &other);
	if (rc == 0 && api_dsv_hidden(r, other.id))
		rc = ATR_ENOTFOUND; /* a competition's hidden set */
	if (rc < 0) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_invalid(r, "against", "version %lld does not exist", (long long)against);
		else
			atr_reply_err(r, rc, NULL, "could not read version %lld", (long long)against);
		return;
	}
	d = atr_store_files_diff(STORE(r), KIND, other.id, v->id, 1000, &rc);
	if (!d) {
		atr_reply_err(r, rc, NULL, "could not compare the versions");
		return;
	}
	json_object_set_new(d, "from", json_integer(other.version));
	json_object_set_new(d, "to", json_integer(v->version));
	atr_reply_json(r, 200, d);
}
