/*
 * jobs.c: /api/v1/projects/{project}/jobs and /api/v1/jobs/{job}: submitting (validated,
 * checked against the workers for a 422, with its run created), listing, reading, cancelling,
 * events, and the outputs a job uploads with its token. Logs and wait are in job_logs.c;
 * decisions are the engine's (src/dispatch/engine.c).
 */
#include "api.h"
#include "atrium/engine.h"
#include "atrium/store_datasets.h"
#include "atrium/store_identity.h"
#include "atrium/store_jobs.h"
#include "atrium/store_models.h"
#include "atrium/util.h"

#include <string.h>

#define ENGINE(r) (APP(r)->engine)

const struct atr_field api_job_resources_schema[] = {
	{ "gpus", ATR_F_INT, 0, 0, 64, NULL, NULL },
	{ "gpu_type", ATR_F_STRING, ATR_FF_NULLABLE, 1, 64, NULL, NULL },
	{ "cpus", ATR_F_INT, 0, 0, 1024, NULL, NULL },
	{ "memory_mb", ATR_F_INT, 0, 0, 1LL << 30, NULL, NULL },
	{ 0 },
};
static const struct atr_field input_schema[] = {
	{ "dataset", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "version", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 0, 64, "latest", NULL },
	{ "as", ATR_F_SEGMENT, 0, 1, 128, NULL, NULL },
	{ "project", ATR_F_SLUG, 0, 1, 63, NULL, NULL }, /* a dataset a template shares (0040) */
	{ 0 },
};
static const struct atr_field outputs_schema[] = {
	{ "model", ATR_F_NAME, 0, 1, 63, NULL, NULL },
	{ "dataset", ATR_F_SLUG, 0, 1, 63, NULL, NULL },
	{ 0 },
};
static const struct atr_field model_ref_schema[] = {
	{ "name", ATR_F_NAME, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "version", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 0, 64, NULL, NULL },
	{ 0 },
};

const struct atr_field api_job_create_schema[] = {
	{ "name", ATR_F_STRING, 0, 0, 256, NULL, NULL },
	{ "kind", ATR_F_STRING, 0, 0, 0, "training|batch_inference", NULL },
	{ "command", ATR_F_COMMAND, ATR_FF_REQUIRED, 0, 1 << 20, NULL, NULL },
	{ "env", ATR_F_ENV, 0, 0, 256, NULL, NULL },
	{ "resources", ATR_F_OBJECT, 0, 0, 0, NULL, api_job_resources_schema },
	{ "labels", ATR_F_STRMAP, 0, 0, 32, NULL, NULL },
	{ "priority", ATR_F_INT, 0, -1000, 1000, NULL, NULL },
	{ "max_attempts", ATR_F_INT, 0, 1, 20, NULL, NULL },
	{ "timeout_s", ATR_F_INT, 0, 0, 30LL * 86400, NULL, NULL },
	{ "inputs", ATR_F_ARRAY, 0, 0, 32, NULL, input_schema },
	{ "outputs", ATR_F_OBJECT, 0, 0, 0, NULL, outputs_schema },
	{ "model", ATR_F_OBJECT, 0, 0, 0, NULL, model_ref_schema },
	{ "cluster", ATR_F_STRING, 0, 1, 63, NULL, NULL },
	{ 0 },
};

/* inputs [{dataset, version, as}] -> [{dataset, version, as, dataset_version_id}] (new reference). */
static json_t *inputs_or_reply(struct atr_req *r, int64_t project_id, const json_t *inputs, int64_t **ids, size_t *n)
{
	json_t *out = json_array(), *in;
	size_t i;

	if (!out || api_inputs_or_reply(r, project_id, inputs, ids, n) < 0) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(inputs, i, in)
	{
		const char *as = atr_json_str(in, "as", atr_json_str(in, "dataset", ""));
		struct atr_dataset_version v;
		char f[48];

		snprintf(f, sizeof(f), "inputs[%zu].as", i);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(atr_json_str(json_array_get(out, k), "as", ""), as)) {
				atr_reply_invalid(r, f, "two inputs are both called '%s'", as);
				json_decref(out);
				return NULL;
			}
		atr_store_dsv_get(STORE(r), (*ids)[i], &v);
		json_array_append_new(out, json_pack("{s:s, s:I, s:s, s:I}", "dataset", atr_json_str(in, "dataset", ""),
						     "version", (json_int_t)v.version, "as", as, "dataset_version_id",
						     (json_int_t)v.id));
		if (json_object_get(in, "project")) /* (a dataset a template shares) */
			json_object_set(json_array_get(out, i), "project", json_object_get(in, "project"));
	}
	return out;
}

/* The model version a batch-inference job reads: {name, version|alias} in the project. */
static int model_or_reply(struct atr_req *r, int64_t project_id, const json_t *ref, int64_t *version_id)
{
	struct atr_model m;
	struct atr_model_version v;
	const json_t *vj = json_object_get(ref, "version");
	char num[32];
	const char *vref = num;

	*version_id = 0;
	if (!ref)
		return 0;
	if (atr_store_model_find(STORE(r), project_id, atr_json_str(ref, "name", ""), &m) < 0) {
		atr_reply_invalid(r, "model.name", "model '%s' does not exist in this project",
				  atr_json_str(ref, "name", ""));
		return -1;
	}
	if (json_is_integer(vj))
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(vj));
	else
		vref = json_string_value(vj);
	if (atr_store_model_version_resolve(STORE(r), m.id, vref, &v) < 0 || !v.committed) {
		atr_reply_invalid(r, "model.version", "model '%s' has no committed version '%s'", m.name, vref);
		return -1;
	}
	*version_id = v.id;
	return 0;
}

/* What launched the job, when a launcher did: "launcher": {name, version, values} (issue 20). */
static void job_launcher(struct atr_req *r, json_t *j, int64_t id)
{
	int rc;
	json_t *l = atr_store_job_launcher(STORE(r), id, &rc);

	if (l)
		json_object_set_new(j, "launcher", l);
}

static void reply_job_as(struct atr_req *r, unsigned status, int64_t id, bool show_env)
{
	int rc;
	json_t *j = atr_store_job_json(STORE(r), id, &rc);
	if (!j) {
		atr_reply_err(r, rc, NULL, "could not read job %lld", (long long)id);
		return;
	}
	if (!show_env)
		api_hide_env_values(j);
	job_launcher(r, j, id);
	atr_reply_json(r, status, j);
}

static void reply_job(struct atr_req *r, unsigned status, int64_t id)
{
	reply_job_as(r, status, id, true); /* editors: they submit and cancel */
}

/* The spec's fields read straight from the body. */
static void spec_from_body(struct atr_req *r, struct atr_job_spec *spec, const struct atr_project *p)
{
	const json_t *body = atr_req_body(r);

	spec->project_id = p->id;
	spec->team_id = p->team_id;
	spec->created_by = atr_req_who(r)->user_id;
	spec->name = atr_json_str(body, "name", "");
	spec->command = json_object_get(body, "command");
	spec->env = json_object_get(body, "env");
	spec->labels = json_object_get(body, "labels");
	spec->outputs = json_object_get(body, "outputs");
	atr_job_spec_limits(spec, body);
}

void api_jobs_create(struct atr_req *r)
{
	const struct atr_project *p = &RES(r)->project;
	struct atr_job_spec spec = { 0 };
	struct atr_job_submit sub = { 0 };
	json_t *inputs = NULL, *labels;
	int64_t *ids = NULL, id, model_version;
	size_t n = 0;
	char why[300];
	int rc;

	if (model_or_reply(r, p->id, json_object_get(atr_req_body(r), "model"), &model_version) < 0)
		return;
	if (!(inputs = inputs_or_reply(r, p->id, json_object_get(atr_req_body(r), "inputs"), &ids, &n)))
		return;
	spec.kind = atr_json_str(atr_req_body(r), "kind", "training");
	if (!strcmp(spec.kind, "batch_inference") && !model_version) {
		json_decref(inputs);
		atr_reply_invalid(r, "model", "a batch_inference job names the model version it runs");
		return;
	}
	spec_from_body(r, &spec, p);
	spec.inputs = inputs;
	spec.model_version_id = model_version;
	if (!(labels = api_cluster_labels_or_reply(r, spec.labels, p->id, p->team_id))) {
		json_decref(inputs);
		return;
	}
	spec.labels = labels;
	if (!atr_engine_feasible(ENGINE(r), &spec, why, sizeof(why))) {
		json_decref(inputs);
		json_decref(labels);
		atr_reply_unprocessable(r, "resources", "no worker could ever run this job: %s", why);
		return;
	}
	/* The job and its run (the job's metrics land there), in one transaction. */
	sub.spec = &spec;
	sub.run_name = spec.name[0] ? spec.name : "job";
	sub.run_user_id = atr_req_who(r)->user_id;
	sub.run_inputs = ids;
	sub.run_ninputs = n;
	rc = atr_engine_submit(ENGINE(r), &sub, &id);
	json_decref(inputs);
	json_decref(labels);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not submit the job");
		return;
	}
	atr_req_audit_object(r, "project:%s/job:%lld", p->name, (long long)id);
	reply_job(r, 201, id);
}

void api_jobs_get(struct atr_req *r)
{
	reply_job_as(r, 200, RES(r)->job.id, RES(r)->role >= ATR_PROLE_EDITOR);
}

void api_jobs_cancel(struct atr_req *r)
{
	const struct atr_job_row *row = &RES(r)->job;
	int rc = atr_engine_cancel(ENGINE(r), row->id);

	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL, "job %lld has ended (%s)", (long long)row->id,
				   atr_job_state_name(row->state));
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not cancel job %lld", (long long)row->id);
		return;
	}
	reply_job(r, 202, row->id);
}

void api_jobs_events(struct atr_req *r)
{
	api_reply_list(r, atr_store_job_events, RES(r)->job.id, "the events");
}

#define JOB_STATES "queued|dispatched|running|succeeded|failed|cancelled|lost"
#define JOB_FILTERS                                                                                              \
	ATR_Q_PAGE, { "state", ATR_Q_ENUM_LIST, 0, 0, 0, 0, JOB_STATES, "one or more states, comma-separated" }, \
		{ "kind", ATR_Q_ENUM, 0, 0, 0, 0, "training|batch_inference|service", NULL },                    \
		{ "user", ATR_Q_STRING, 0, 1, 64, 0, NULL, "jobs submitted by this user" },                      \
	{                                                                                                        \
		"worker", ATR_Q_INT, 0, 1, INT64_MAX, 0, NULL, "jobs placed on this worker"                      \
	}

const struct atr_qparam api_jobs_list_query[] = { JOB_FILTERS, { 0 } };
const struct atr_qparam api_jobs_list_all_query[] = {
	JOB_FILTERS,
	{ "project", ATR_Q_STRING, 0, 1, 64, 0, NULL, "jobs of this project (a name or an id)" },
	{ "team", ATR_Q_STRING, 0, 1, 64, 0, NULL, "jobs of this team's projects" },
	{ 0 },
};

/* Filters common to both lists: state, kind, user, worker. -1 when it answered an error. */
static int filter_or_reply(struct atr_req *r, struct atr_job_filter *f)
{
	const char *user = atr_req_query(r, "user");
	struct atr_user u;

	if (user) {
		if (atr_store_user_get(STORE(r), user, &u) < 0) {
			atr_reply_invalid(r, "user", "user '%s' does not exist", user);
			return -1;
		}
		f->user_id = u.id;
	}
	f->worker_id = atr_req_qint(r, "worker");
	f->state = atr_req_query(r, "state");
	f->kind = atr_req_query(r, "kind");
	return 0;
}

/* Jobs that read a competition's hidden set are absent for all but its organisers (access.c,
 * api_job_reads_hidden): out of the page too (which may come out shorter than its limit). */
static int drop_hidden_readers(struct atr_req *r, json_t *items)
{
	json_t *hide, *in;

	if (!json_array_size(items))
		return 0;
	if (!(hide = api_dsv_hidden_ids(r)))
		return -1;
	for (size_t i = json_array_size(hide) ? json_array_size(items) : 0; i-- > 0;) {
		size_t n = json_array_size(in = json_object_get(json_array_get(items, i), "inputs"));
		api_dsv_strip_hidden(r, hide, in, "dataset_version_id");
		if (json_array_size(in) < n)
			json_array_remove(items, i);
	}
	json_decref(hide);
	return 0;
}

static void reply_list(struct atr_req *r, const struct atr_job_filter *f)
{
	struct atr_page pg;
	json_t *items, *last, *next;
	bool more;
	int rc;

	if (atr_page_from_req(r, &pg) < 0 || !(items = api_new_items(r)))
		return;
	rc = atr_store_job_list(STORE(r), f, &pg, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list jobs");
		return;
	}
	{
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) api_hide_env_values(it);
	}
	/* (the cursor is the page's last job as read, whether or not it is dropped) */
	last = json_incref(json_object_get(json_array_get(items, json_array_size(items) - 1), "id"));
	if (drop_hidden_readers(r, items) < 0) {
		json_decref(items);
		json_decref(last);
		return;
	}
	next = more && last ? json_pack("[O]", last) : NULL;
	json_decref(last);
	atr_reply_page_cursor(r, items, next);
}

void api_jobs_list(struct atr_req *r)
{
	struct atr_job_filter f = { 0 };

	if (filter_or_reply(r, &f) < 0)
		return;
	f.project_id = RES(r)->project.id;
	if (RES(r)->role < ATR_PROLE_OWNER) /* (competitions' model jobs: organisers only) */
		f.comp_jobs_for = atr_req_who(r)->kind == ATR_P_USER ? atr_req_who(r)->user_id : -1;
	f.scorers_to = api_scorer_jobs_visible_to(r, true);
	reply_list(r, &f);
}

void api_jobs_list_all(struct atr_req *r)
{
	struct atr_job_filter f = { 0 };
	const char *project = atr_req_query(r, "project"), *team = atr_req_query(r, "team");

	if (filter_or_reply(r, &f) < 0)
		return;
	if (project) {
		struct atr_project p;
		if (api_project_visible_or_reply(r, project, "project", &p) < 0)
			return;
		f.project_id = p.id;
	}
	if (team && atr_store_team_id(STORE(r), team, &f.team_id) < 0) {
		atr_reply_invalid(r, "team", "team '%s' does not exist", team);
		return;
	}
	if (!atr_req_who(r)->admin)
		f.visible_to = f.comp_jobs_for = atr_req_who(r)->user_id;
	f.scorers_to = api_scorer_jobs_visible_to(r, false);
	reply_list(r, &f);
}

/* ---- outputs: what the job uploads with its own token, then they become a model/dataset version ---- */

/* Outputs are written while the job runs (checked again at the end: it may have ended meanwhile). */
static int running_or_reply(struct atr_req *r)
{
	struct atr_job_row now;
	int64_t id = RES(r)->job.id;
	int rc = atr_store_job_row(STORE(r), id, &now);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read job %lld", (long long)id);
		return -1;
	}
	json_decref(now.labels);
	/* (dispatched too: a Slurm job can run and end before a poll shows it running) */
	if (now.state != ATR_JOB_RUNNING && now.state != ATR_JOB_DISPATCHED) {
		atr_reply_conflict(r, NULL, "job %lld is %s, not running", (long long)id,
				   atr_job_state_name(now.state));
		return -1;
	}
	return 0;
}

void api_job_output_begin(struct atr_req *r)
{
	if (running_or_reply(r) == 0)
		api_upload_begin(r, "job_output", RES(r)->job.id);
}

int api_job_output_chunk(struct atr_req *r, const char *data, size_t len)
{
	return api_upload_chunk(r, data, len);
}

void api_job_output_put(struct atr_req *r)
{
	if (running_or_reply(r) == 0)
		api_upload_finish(r, 201);
}

void api_job_outputs(struct atr_req *r)
{
	api_files_list(r, "job_output", RES(r)->job.id);
}

void api_job_output_get(struct atr_req *r)
{
	api_file_download(r, "job_output", RES(r)->job.id);
}
