/*
 * launchers.c: /api/v1/projects/{project}/launchers: a project's launchers (a job spec with
 * typed parameters), their versions, and running one with values (a job with its run). What a
 * parameter or a value may be is atrium/launch_params.h's; submitting is atr_launcher_submit
 * (src/jobs/launcher.c), which the sweeps call too. Access is the route table's: viewers read,
 * the launcher role runs, editors write.
 */
#include "api.h"
#include "atrium/launch_params.h"
#include "atrium/launcher.h"
#include "atrium/store_launchers.h"

#include <string.h>

static const struct atr_field param_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "type", ATR_F_STRING, ATR_FF_REQUIRED, 0, 0,
	  "string|integer|float|choice|boolean|dataset_version|model_version", NULL },
	{ "label", ATR_F_STRING, 0, 0, 256, NULL, NULL },
	{ "help", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "default", ATR_F_ANY, ATR_FF_NULLABLE, 0, ATR_LAUNCH_VALUE_MAX + 2, NULL, NULL },
	{ "min", ATR_F_NUMBER, 0, 0, 0, NULL, NULL },
	{ "max", ATR_F_NUMBER, 0, 0, 0, NULL, NULL },
	{ "max_length", ATR_F_INT, 0, 1, ATR_LAUNCH_VALUE_MAX, NULL, NULL },
	{ "choices", ATR_F_STRLIST, 0, 1, 256, NULL, NULL },
	{ "dataset", ATR_F_SLUG, 0, 1, 63, NULL, NULL },
	{ "model", ATR_F_NAME, 0, 1, 63, NULL, NULL },
	{ 0 },
};

const struct atr_field api_launcher_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "spec", ATR_F_OBJECT, ATR_FF_REQUIRED, 0, 0, NULL, api_job_create_schema },
	{ "parameters", ATR_F_ARRAY, 0, 0, ATR_LAUNCH_MAX_PARAMS, NULL, param_schema },
	{ 0 },
};

const struct atr_field api_launcher_update_schema[] = {
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "spec", ATR_F_OBJECT, ATR_FF_REQUIRED, 0, 0, NULL, api_job_create_schema },
	{ "parameters", ATR_F_ARRAY, 0, 0, ATR_LAUNCH_MAX_PARAMS, NULL, param_schema },
	{ 0 },
};

const struct atr_field api_launcher_run_schema[] = {
	{ "values", ATR_F_OBJECT, 0, 0, 0, NULL, NULL },
	{ "name", ATR_F_STRING, 0, 1, 256, NULL, NULL },
	{ "version", ATR_F_INT, 0, 1, INT32_MAX, NULL, NULL },
	{ 0 },
};

const struct atr_qparam api_launchers_list_query[] = {
	ATR_Q_PAGE,
	{ "archived", ATR_Q_BOOL, 0, 0, 0, 0, NULL, "archived launchers too" },
	{ 0 },
};

static void reply_launcher(struct atr_req *r, unsigned status, int64_t id)
{
	int rc;
	json_t *j = atr_store_launcher_json(STORE(r), id, &rc);

	if (!j) {
		atr_reply_err(r, rc, NULL, "could not read the launcher");
		return;
	}
	atr_reply_json(r, status, j);
}

/* The body's parameters (an empty array when absent) checked with its spec: -1 after a 400. */
static int params_or_reply(struct atr_req *r, json_t **params)
{
	const json_t *body = atr_req_body(r);
	char field[160], msg[320];

	*params = json_object_get(body, "parameters") ? json_incref(json_object_get(body, "parameters")) : json_array();
	if (!*params) {
		atr_reply_err(r, ATR_ENOMEM, NULL, "out of memory");
		return -1;
	}
	if (atr_launch_params_check(*params, json_object_get(body, "spec"), field, sizeof(field), msg, sizeof(msg)) <
	    0) {
		json_decref(*params);
		atr_reply_invalid(r, field, "%s", msg);
		return -1;
	}
	return 0;
}

void api_launchers_create(struct atr_req *r)
{
	const struct atr_project *p = &RES(r)->project;
	const char *name = atr_json_str(atr_req_body(r), "name", "");
	json_t *params;
	int64_t id;
	int rc;

	if (params_or_reply(r, &params) < 0)
		return;
	rc = atr_store_launcher_create(STORE(r), p->id, name, atr_json_str(atr_req_body(r), "description", ""),
				       json_object_get(atr_req_body(r), "spec"), params, atr_req_who(r)->user_id, &id);
	json_decref(params);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "launcher '%s' already exists in project '%s'", name, p->name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create the launcher");
		return;
	}
	atr_req_audit_object(r, "project:%s/launcher:%s", p->name, name);
	reply_launcher(r, 201, id);
}

static int list_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	(void)arg;
	return atr_store_launcher_list(STORE(r), RES(r)->project.id, atr_req_qbool(r, "archived"), p, arr, more);
}

void api_launchers_list(struct atr_req *r)
{
	api_reply_list_cb(r, list_cb, NULL, "launchers");
}

void api_launchers_get(struct atr_req *r)
{
	reply_launcher(r, 200, RES(r)->launcher.id);
}

void api_launchers_update(struct atr_req *r)
{
	const struct atr_launcher *l = &RES(r)->launcher;
	json_t *params;
	int64_t version;
	int rc;

	if (l->archived) {
		atr_reply_conflict(r, NULL, "launcher '%s' is archived", l->name);
		return;
	}
	if (params_or_reply(r, &params) < 0)
		return;
	rc = atr_store_launcher_add_version(STORE(r), l->id, atr_json_str(atr_req_body(r), "description", ""),
					    json_object_get(atr_req_body(r), "spec"), params, atr_req_who(r)->user_id,
					    &version);
	json_decref(params);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not save the launcher");
		return;
	}
	reply_launcher(r, 200, l->id);
}

void api_launchers_delete(struct atr_req *r)
{
	int rc = atr_store_launcher_archive(STORE(r), RES(r)->launcher.id, true);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not archive the launcher");
		return;
	}
	atr_reply_empty(r, 204);
}

/* An archived launcher runs again, at its latest version; 409 when it is not archived. */
void api_launchers_restore(struct atr_req *r)
{
	const struct atr_launcher *l = &RES(r)->launcher;
	int rc;

	if (!l->archived) {
		atr_reply_conflict(r, NULL, "launcher '%s' is not archived", l->name);
		return;
	}
	rc = atr_store_launcher_archive(STORE(r), l->id, false);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not restore the launcher");
		return;
	}
	reply_launcher(r, 200, l->id);
}

void api_launchers_versions(struct atr_req *r)
{
	api_reply_list(r, atr_store_launcher_versions, RES(r)->launcher.id, "launcher versions");
}

void api_launchers_jobs(struct atr_req *r)
{
	api_reply_list(r, atr_store_launcher_jobs, RES(r)->launcher.id, "launcher runs");
}

static bool hidden(void *cls, int64_t dsv_id)
{
	return api_dsv_hidden(cls, dsv_id);
}

/* The answer of a run: {job_id, run_id, launcher, version, values, job}. */
static void reply_run(struct atr_req *r, const struct atr_launcher_ver *ver, struct atr_launch_result *res)
{
	int rc;
	json_t *job = atr_store_job_json(STORE(r), res->job_id, &rc);

	if (!job) {
		json_decref(res->values);
		atr_reply_err(r, rc, NULL, "could not read job %lld", (long long)res->job_id);
		return;
	}
	atr_reply_json(r, 201,
		       json_pack("{s:I, s:I, s:s, s:I, s:o, s:o}", "job_id", (json_int_t)res->job_id, "run_id",
				 (json_int_t)res->run_id, "launcher", ver->name, "version", (json_int_t)ver->version,
				 "values", res->values, "job", job));
}

void api_launchers_run(struct atr_req *r)
{
	const struct atr_launcher *l = &RES(r)->launcher;
	struct atr_launcher_ver ver = { .launcher_id = l->id, .project_id = l->project_id, .name = l->name };
	struct atr_launch_req q = { .ver = &ver, .user_id = atr_req_who(r)->user_id, .dsv_hidden = hidden };
	struct atr_launch_result res;
	json_t *spec = NULL, *params = NULL;
	int rc;

	if (l->archived) {
		atr_reply_conflict(r, NULL, "launcher '%s' is archived: it runs no more", l->name);
		return;
	}
	rc = atr_store_launcher_version(STORE(r), l->id, atr_json_int(atr_req_body(r), "version", 0), &ver.version,
					&spec, &params);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "version", "launcher '%s' has no version %lld", l->name,
				  (long long)atr_json_int(atr_req_body(r), "version", 0));
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read launcher '%s'", l->name);
		return;
	}
	ver.team_id = RES(r)->project.team_id;
	ver.spec = spec;
	ver.parameters = params;
	q.values = json_object_get(atr_req_body(r), "values");
	q.run_name = atr_json_str(atr_req_body(r), "name", NULL);
	q.hidden_cls = r;
	rc = atr_launcher_submit(APP(r)->engine, STORE(r), &q, &res);
	if (rc < 0)
		atr_reply_err(r, rc, res.field[0] ? res.field : NULL, "%s", res.msg);
	else {
		atr_req_audit_object(r, "project:%s/launcher:%s/job:%lld", RES(r)->project.name, l->name,
				     (long long)res.job_id);
		reply_run(r, &ver, &res);
	}
	json_decref(spec);
	json_decref(params);
}
