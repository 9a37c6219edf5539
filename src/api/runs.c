/*
 * runs.c: tracked runs. Created in a project (editors), read by id (the project's viewers),
 * searched within a project (filter / order_by, see include/atrium/runquery.h), updated
 * (params only grow), deleted, and their artifacts (the shared files layer, owner "run").
 * Inputs name the dataset versions a run read: the lineage link to the data.
 * Not here: metrics (run_metrics.c).
 */
#include "api.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_runs.h"
#include "atrium/store_templates.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

static const struct atr_field input_schema[] = {
	{ "dataset", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "version", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 0, 16, "latest", NULL },
	{ "project", ATR_F_SLUG, 0, 1, 63, NULL, NULL },
	{ 0 },
};

const struct atr_field api_run_create_schema[] = {
	{ "name", ATR_F_STRING, 0, 0, 256, NULL, NULL },
	{ "params", ATR_F_STRMAP, 0, 0, 1000, NULL, NULL },
	{ "tags", ATR_F_STRMAP, 0, 0, 100, NULL, NULL },
	{ "status", ATR_F_STRING, 0, 0, 0, "running|finished|failed|killed", NULL },
	{ "inputs", ATR_F_ARRAY, 0, 0, 100, NULL, input_schema },
	{ "git_commit", ATR_F_STRING, 0, 4, 64, NULL, NULL },
	{ "git_dirty", ATR_F_BOOL, 0, 0, 0, NULL, NULL },
	{ 0 },
};

const struct atr_field api_run_patch_schema[] = {
	{ "name", ATR_F_STRING, 0, 0, 256, NULL, NULL },
	{ "params", ATR_F_STRMAP, 0, 0, 1000, NULL, NULL },
	{ "tags", ATR_F_STRMAP_PATCH, 0, 0, 100, NULL, NULL }, /* string values set, null removes */
	{ "status", ATR_F_STRING, 0, 0, 0, "running|finished|failed|killed", NULL },
	{ 0 },
};

const struct atr_qparam api_runs_list_query[] = {
	ATR_Q_PAGE,
	{ "filter", ATR_Q_STRING, 0, 0, 4096, 0, NULL,
	  "run search: 'status = finished and params.lr = 0.01 and metrics.val/acc > 0.9'" },
	{ "order_by", ATR_Q_STRING, 0, 0, 512, 0, NULL, "'metrics.val/acc:desc', 'params.lr', 'created_at:asc'" },
	{ 0 },
};

/*
 * The input's dataset: in this project, or (with "project") in the project a template of which
 * this project was made from, when the template shared it (template_grants). Else 400 naming
 * inputs[i].dataset, the same whether the other project exists or not.
 */
static int input_dataset_or_reply(struct atr_req *r, int64_t project_id, const json_t *in, size_t i, int64_t *id)
{
	const char *ds = atr_json_str(in, "dataset", ""), *from = atr_json_str(in, "project", NULL);
	struct atr_project p = { .id = project_id };
	bool shared = !from;
	char field[64];

	snprintf(field, sizeof(field), "inputs[%zu].dataset", i);
	if (from && atr_store_project_find(STORE(r), from, &p) < 0)
		p.id = 0;
	if (p.id > 0 && atr_store_dataset_find(STORE(r), p.id, ds, id) == 0 &&
	    (shared || p.id == project_id ||
	     (atr_store_template_granted(STORE(r), "dataset", *id, 0, project_id, &shared) == 0 && shared)))
		return 0;
	if (from)
		atr_reply_invalid(r, field,
				  "dataset '%s' of project '%s' does not exist or is not shared with this project", ds,
				  from);
	else
		atr_reply_invalid(r, field, "dataset '%s' does not exist in this project", ds);
	return -1;
}

/* Resolves body inputs [{dataset, version}] to dataset_versions ids (committed ones only). */
int api_inputs_or_reply(struct atr_req *r, int64_t project_id, const json_t *inputs, int64_t **ids_out, size_t *n_out)
{
	size_t n = json_array_size(inputs), i;
	int64_t *ids = n ? atr_req_alloc(r, n * sizeof(*ids)) : NULL;
	json_t *in;

	*ids_out = ids;
	*n_out = 0;
	json_array_foreach(inputs, i, in)
	{
		const char *ds = atr_json_str(in, "dataset", "");
		const json_t *vj = json_object_get(in, "version");
		struct atr_dataset_version v;
		int64_t dataset_id, version = 0;
		char field[64];

		if (input_dataset_or_reply(r, project_id, in, i, &dataset_id) < 0)
			return -1;
		snprintf(field, sizeof(field), "inputs[%zu].version", i);
		if (json_is_integer(vj))
			version = json_integer_value(vj);
		else if (strcmp(json_string_value(vj), "latest") != 0)
			version = -1; /* (the schemas let no other string through: "latest" is 0) */
		if (version < 0 || atr_store_dsv_find(STORE(r), dataset_id, version, &v) < 0 ||
		    api_dsv_hidden(r, v.id)) { /* (a competition's hidden set: absent but for its organisers) */
			atr_reply_invalid(r, field, "dataset '%s' has no such committed version", ds);
			return -1;
		}
		if (!v.committed) {
			atr_reply_invalid(r, field, "version %lld of dataset '%s' is a draft; commit it first",
					  (long long)v.version, ds);
			return -1;
		}
		ids[(*n_out)++] = v.id;
	}
	return 0;
}

void api_runs_create(struct atr_req *r)
{
	int64_t project_id = RES(r)->project.id;
	struct atr_run_spec spec = { 0 };
	int64_t *inputs, id;
	size_t n;
	json_t *run;
	int rc;

	spec.git_commit = atr_json_str(atr_req_body(r), "git_commit", NULL);
	if (spec.git_commit && !atr_git_commit_valid(spec.git_commit)) {
		atr_reply_invalid(r, "git_commit", "'git_commit' must be 4-64 hexadecimal digits (a commit hash)");
		return;
	}
	if (json_is_boolean(json_object_get(atr_req_body(r), "git_dirty")))
		spec.git_dirty =
			json_is_true(json_object_get(atr_req_body(r), "git_dirty")) ? ATR_GIT_DIRTY : ATR_GIT_CLEAN;
	if (api_inputs_or_reply(r, project_id, json_object_get(atr_req_body(r), "inputs"), &inputs, &n) < 0)
		return;
	spec.project_id = project_id;
	spec.name = atr_json_str(atr_req_body(r), "name", "");
	spec.params = json_object_get(atr_req_body(r), "params");
	spec.tags = json_object_get(atr_req_body(r), "tags");
	spec.status = atr_json_str(atr_req_body(r), "status", NULL);
	spec.user_id = atr_req_who(r)->user_id;
	spec.job_id = atr_req_who(r)->kind == ATR_P_JOB ? atr_req_who(r)->scope_id : 0;
	spec.inputs = inputs;
	spec.ninputs = n;
	rc = atr_store_run_create(STORE(r), &spec, &id);
	if (rc < 0 || !(run = atr_store_run_json(STORE(r), id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not create the run");
		return;
	}
	atr_req_audit_object(r, "run:%lld", (long long)id);
	atr_reply_json(r, 201, run);
}

void api_runs_get(struct atr_req *r)
{
	json_t *j;
	int rc;

	if (!(j = atr_store_run_json(STORE(r), RES(r)->run.id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the run");
		return;
	}
	/* an organiser's run that read a competition's hidden set: absent from its inputs for others */
	api_dsv_strip_hidden(r, NULL, json_object_get(j, "inputs"), "dataset_version_id");
	atr_reply_json(r, 200, j);
}

/* A query parameter parsed by fn into q, or 400 naming it. The text is copied: q points into it. */
static int query_or_reply(struct atr_req *r, const char *name, struct atr_runquery *q,
			  int (*fn)(char *, struct atr_runquery *, char *, size_t))
{
	const char *v = atr_req_query(r, name);
	char msg[256], *copy;

	if (!v || !*v)
		return 0; /* absent: no filter, the default order */
	if (!(copy = atr_req_strdup(r, v))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	if (fn(copy, q, msg, sizeof(msg)) < 0) {
		atr_reply_invalid(r, name, "%s", msg);
		return -1;
	}
	return 0;
}

void api_runs_list(struct atr_req *r)
{
	struct atr_page pg;
	struct atr_runquery q;
	json_t *items, *next;
	int rc;

	atr_rq_init(&q);
	if (atr_page_from_req(r, &pg) < 0 || query_or_reply(r, "filter", &q, atr_rq_parse_filter) < 0 ||
	    query_or_reply(r, "order_by", &q, atr_rq_parse_order) < 0 || !(items = api_new_items(r)))
		return;
	rc = atr_store_run_search(STORE(r), RES(r)->project.id, &q, &pg, items, &next);
	if (rc < 0) {
		json_decref(items);
		if (rc == ATR_EINVAL)
			atr_reply_invalid(r, "cursor", "'cursor' comes from a list with another order_by");
		else
			atr_reply_err(r, rc, NULL, "could not list runs");
		return;
	}
	atr_reply_page_cursor(r, items, next);
}

void api_runs_patch(struct atr_req *r)
{
	const struct atr_run *run = &RES(r)->run;
	struct atr_run_patch patch = { 0 };
	char key[300] = "", field[320];
	json_t *j;
	int rc;

	patch.name = atr_json_str(atr_req_body(r), "name", NULL);
	patch.status = atr_json_str(atr_req_body(r), "status", NULL);
	patch.params = json_object_get(atr_req_body(r), "params");
	patch.tags = json_object_get(atr_req_body(r), "tags");
	rc = atr_store_run_update(STORE(r), run->id, &patch, key, sizeof(key));
	if (rc == ATR_ECONFLICT) {
		snprintf(field, sizeof(field), "params.%s", key);
		atr_reply_conflict(r, field,
				   "param '%s' of run %lld already has another value; a run's params never change", key,
				   (long long)run->id);
		return;
	}
	if (rc < 0 || !(j = atr_store_run_json(STORE(r), run->id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not update run %lld", (long long)run->id);
		return;
	}
	api_dsv_strip_hidden(r, NULL, json_object_get(j, "inputs"), "dataset_version_id");
	atr_reply_json(r, 200, j);
}

void api_runs_delete(struct atr_req *r)
{
	int64_t id = RES(r)->run.id;
	char why[200] = "";
	int rc = atr_store_run_delete(STORE(r), id, why, sizeof(why));

	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL, "run %lld cannot be deleted: %s", (long long)id, why);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete run %lld", (long long)id);
		return;
	}
	atr_reply_empty(r, 204);
}

/* ---- artifacts: the files layer with owner kind "run" ---- */

#define KIND "run"

void api_run_artifacts_list(struct atr_req *r)
{
	api_files_list(r, KIND, RES(r)->run.id);
}

void api_run_artifact_begin(struct atr_req *r)
{
	api_upload_begin(r, KIND, RES(r)->run.id);
}

void api_run_artifact_put(struct atr_req *r)
{
	struct atr_run now;
	enum atr_prole member;
	struct atr_project p;

	/* The run may have been deleted while the bytes arrived. */
	if (atr_store_run_access(STORE(r), RES(r)->run.id, 0, &now, &p, &member) == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "run %lld was deleted during the upload", (long long)RES(r)->run.id);
		return;
	}
	api_upload_finish(r, 201);
}

void api_run_artifact_get(struct atr_req *r)
{
	api_file_download(r, KIND, RES(r)->run.id);
}

void api_run_artifact_delete(struct atr_req *r)
{
	const char *path = api_path_or_reply(r);
	int rc;

	if (!path)
		return;
	rc = atr_store_file_delete(STORE(r), KIND, RES(r)->run.id, path);
	if (rc < 0) {
		api_reply_store_err(r, rc, "artifact", path);
		return;
	}
	atr_reply_empty(r, 204);
}
