/*
 * competition_models.c: a submission to a competition whose submission kind is
 * `model_version`: the body names a model version the participant can read, and Atrium runs it
 * as a batch_inference job over the hidden inputs (the ground truth without its label
 * column), then scores the predictions it writes (competition_model_watch.c follows the job).
 *
 * Where the job runs: in the competition's project, as the organiser who made the competition,
 * never in the participant's project. Its one input is the inputs-only copy, version 1 of the
 * project's dataset "competition-<id>-inputs", made at the first such submission and hidden
 * like the test set (access.c, api_dsv_hidden) from everyone but the organisers and the jobs
 * that read it (made as evaluation_jobs.c makes a benchmark's: api_inputs_open/strip). Its token reads exactly the submitted model version, wherever it lives (the
 * grant in access.c: the submission row names both). The participant sees the submission's
 * state, its reason and its rounded scores; never the job, its logs, its inputs or outputs.
 */
#include "competitions_internal.h"
#include "evaluations_internal.h"
#include "atrium/artifacts.h"
#include "atrium/engine.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_models.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct atr_field model_sub_schema[] = {
	{ "model", ATR_F_STRING, ATR_FF_REQUIRED, 3, 128, NULL, NULL },
	{ "version", ATR_F_INT_OR_STRING, 0, 0, 64, NULL, NULL },
	{ 0 },
};

#define PREDICT "predict"
#define JOB_TIMEOUT_S 3600
#define COMMAND "sh \"$ATRIUM_MODEL_DIR/" PREDICT "\" \"$EVAL_INPUT\" \"$EVAL_OUTPUT\""

struct model_sub {
	struct atr_competition k;
	struct atr_comp_model m;
	int64_t sub_id, mv_id;
	char fmt[8], truth_blob[1300];
	struct atr_upload *u;
	int rc; /* the pool's */
};

static void model_sub_free(struct model_sub *c)
{
	if (!c)
		return;
	atr_upload_free(c->u);
	free(c);
}

bool api_comp_model_kind(struct atr_req *r)
{
	struct atr_comp_model m;
	return atr_store_comp_model_get(STORE(r), RES(r)->comp.id, &m) == 0 && m.model_kind;
}

int api_comp_model_chunk(struct atr_req *r, char **body, int64_t *received, const char *data, size_t len)
{
	char *nb;

	if (*received + (int64_t)len > API_COMP_MODEL_BODY_MAX) {
		atr_reply_too_large(r, NULL, "a model submission is a JSON object of at most %d bytes",
				    API_COMP_MODEL_BODY_MAX);
		return -1;
	}
	if (!(nb = realloc(*body, (size_t)*received + len + 1))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	memcpy(nb + *received, data, len);
	*received += (int64_t)len;
	nb[*received] = 0;
	*body = nb;
	return 0;
}

/* ---- the model version named by the body ---- */

/* {"model": "project/model", "version": N | "alias" | "latest"}: the committed version, which
 * the caller can read and which brings its `predict` script; -1 after a 400/404/422. */
static int version_or_reply(struct atr_req *r, const json_t *b, int64_t *mv_id)
{
	const char *ref = atr_json_str(b, "model", ""), *slash = strchr(ref, '/'), *vref = "latest";
	const json_t *vj = json_object_get(b, "version");
	char project[64], num[32];
	struct atr_project p;
	struct atr_model m;
	struct atr_model_version v;
	struct atr_file f;

	if (!slash || slash == ref || (size_t)(slash - ref) >= sizeof(project) || !slash[1]) {
		atr_reply_invalid(r, "model", "'model' must be '<project>/<model>'");
		return -1;
	}
	snprintf(project, sizeof(project), "%.*s", (int)(slash - ref), ref);
	if (json_is_integer(vj)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(vj));
		vref = num;
	} else if (json_is_string(vj)) {
		vref = json_string_value(vj);
	}
	if (atr_store_project_find(STORE(r), project, &p) < 0 || api_project_role(r, &p) == ATR_PROLE_NONE ||
	    atr_store_model_find(STORE(r), p.id, slash + 1, &m) < 0) {
		atr_reply_not_found(r, "model", "model '%s' does not exist", ref);
		return -1;
	}
	if (atr_store_model_version_resolve(STORE(r), m.id, vref, &v) < 0 || !v.committed) {
		atr_reply_not_found(r, "version", "model '%s' has no committed version '%s'", ref, vref);
		return -1;
	}
	if (atr_store_file_get(STORE(r), "model_version", v.id, PREDICT, &f) < 0) {
		atr_reply_unprocessable(r, "version",
					"model '%s' version %lld has no file '" PREDICT
					"': the script that writes $2 (the predictions) from $1 (the inputs)",
					ref, (long long)v.version);
		return -1;
	}
	*mv_id = v.id;
	return 0;
}

/* The body as JSON against the schema; NULL after a 400 naming the field. */
static json_t *body_or_reply(struct atr_req *r, const char *body, size_t len)
{
	char field[64] = "body", msg[256];
	json_t *b = body ? json_loadb(body, len, 0, NULL) : NULL;

	if (!json_is_object(b)) {
		json_decref(b);
		atr_reply_invalid(r, "body",
				  "a model submission is a JSON object: {\"model\": \"<project>/<model>\","
				  " \"version\": N}");
		return NULL;
	}
	if (atr_json_validate(b, model_sub_schema, field, sizeof(field), msg, sizeof(msg)) < 0) {
		json_decref(b);
		atr_reply_invalid(r, field, "%s", msg);
		return NULL;
	}
	return b;
}

/* ---- the job ---- */

static int set_job(struct atr_store *s, int64_t job_id, void *cls)
{
	return atr_store_comp_sub_job_set(s, *(int64_t *)cls, job_id);
}

static void reply_sub(struct atr_req *r, int64_t id)
{
	int rc;
	json_t *o = atr_store_comp_submission_json(STORE(r), &RES(r)->comp, id, RES(r)->role == ATR_PROLE_OWNER, &rc);

	if (!o)
		atr_reply_err(r, rc, NULL, "could not read the submission");
	else
		atr_reply_json(r, 202, o);
}

/* The job's description: what it reads, where it writes, what it runs. */
static int job_parts(const struct model_sub *c, const struct atr_dataset_version *in, json_t **inputs, json_t **env,
		     json_t **outputs)
{
	char ds[64], in_path[64], out_path[64], what[96];

	snprintf(ds, sizeof(ds), "competition-%lld-inputs", (long long)c->k.id);
	snprintf(in_path, sizeof(in_path), "input/competition/inputs.%s", c->fmt);
	snprintf(out_path, sizeof(out_path), "output/predictions.%s", c->fmt);
	snprintf(what, sizeof(what), "competition:%s", c->k.name);
	*inputs = json_pack("[{s:s, s:I, s:s, s:I}]", "dataset", ds, "version", (json_int_t)in->version, "as",
			    "competition", "dataset_version_id", (json_int_t)in->id);
	*env = json_pack("{s:s, s:s}", "EVAL_INPUT", in_path, "EVAL_OUTPUT", out_path);
	*outputs = json_pack("{s:s}", "evaluation", what); /* (the worker uploads output/) */
	return *inputs && *env && *outputs ? 0 : ATR_ENOMEM;
}

/* Submits the job in the competition's project as its organiser; 0, or an error. */
static int submit_job(struct atr_req *r, struct model_sub *c, const struct atr_dataset_version *in, char *why,
		      size_t whylen)
{
	struct atr_job_spec spec = { .kind = "batch_inference",
				     .project_id = c->k.project_id,
				     .created_by = c->m.created_by,
				     .model_version_id = c->mv_id };
	struct atr_job_submit sub = { .spec = &spec, .also = set_job, .also_cls = &c->sub_id };
	json_t *inputs = NULL, *env = NULL, *outputs = NULL, *cmd = json_string(COMMAND), *none = json_object();
	struct atr_project p;
	char name[200];
	int64_t job_id = 0;
	int rc = job_parts(c, in, &inputs, &env, &outputs);

	if (rc == 0 && (!cmd || !none))
		rc = ATR_ENOMEM;
	if (rc == 0 && (rc = atr_store_project_get(STORE(r), c->k.project_id, &p)) == 0) {
		snprintf(name, sizeof(name), "competition %s submission %lld", c->k.name, (long long)c->sub_id);
		spec.team_id = p.team_id;
		spec.name = name;
		spec.command = cmd;
		spec.env = env;
		spec.inputs = inputs;
		spec.outputs = outputs;
		atr_job_spec_limits(&spec, none);
		spec.max_attempts = 1;		/* a failing model is not run again; a lost job is 'invalid' */
		spec.timeout_s = JOB_TIMEOUT_S; /* a hanging model fails */
		if (!atr_engine_feasible(APP(r)->engine, &spec, why, whylen))
			rc = ATR_EUNPROCESSABLE;
		else if ((rc = atr_engine_submit(APP(r)->engine, &sub, &job_id)) == 0)
			api_compjobs_follow(APP(r), c->sub_id, job_id);
	}
	json_decref(inputs);
	json_decref(env);
	json_decref(outputs);
	json_decref(cmd);
	json_decref(none);
	return rc;
}

/* The inputs are ready: the job, and the answer. */
static void submit(struct atr_req *r, struct model_sub *c, const struct atr_dataset_version *in)
{
	char why[300] = "";
	int rc = c->m.created_by ? submit_job(r, c, in, why, sizeof(why)) : ATR_ECONFLICT;

	if (rc == 0) {
		reply_sub(r, c->sub_id);
		return;
	}
	atr_store_comp_sub_state(STORE(r), c->sub_id, "invalid", "its batch job could not be submitted");
	if (rc == ATR_EUNPROCESSABLE)
		atr_reply_conflict(r, NULL,
				   "competition '%s' cannot run models now (no worker could run its job):"
				   " its organisers were told",
				   c->k.name);
	else if (rc == ATR_ECONFLICT)
		atr_reply_conflict(r, NULL, "competition '%s' has no organiser to run its jobs as", c->k.name);
	else
		atr_reply_err(r, rc, NULL, "could not submit the submission's job");
	if (rc == ATR_EUNPROCESSABLE)
		atr_log(ATR_LOG_WARN, "competition %s: its model job is infeasible: %s", c->k.name, why);
}

/* ---- the inputs-only copy, made once per competition ---- */

static void strip_work(void *data)
{
	struct model_sub *c = data;

	/* (no message of the organisers' file goes to the participant) */
	c->rc = api_inputs_strip(c->truth_blob, api_comp_truth_format(c->k.test_path), c->k.label_column, c->u, NULL);
}

/* The copy's blob becomes a committed version of the competition's inputs dataset. */
static int inputs_store(struct atr_req *r, struct model_sub *c, struct atr_dataset_version *v)
{
	char name[64], sha[65], path[32], desc[200];
	int64_t ds;
	int rc = atr_upload_commit(STORE(r), c->u, NULL, strcmp(APP(r)->cfg->sync, "full") == 0, sha);

	snprintf(name, sizeof(name), "competition-%lld-inputs", (long long)c->k.id);
	snprintf(desc, sizeof(desc), "the inputs of competition '%s': its hidden ground truth without the label",
		 c->k.name);
	snprintf(path, sizeof(path), "inputs.%s", c->fmt);
	if (rc == 0 && (rc = atr_store_dataset_find(STORE(r), c->k.project_id, name, &ds)) == ATR_ENOTFOUND)
		rc = atr_store_dataset_create(STORE(r), c->k.project_id, name, desc, NULL, c->m.created_by, &ds);
	if (rc == 0)
		rc = atr_store_dsv_create(STORE(r), ds, desc, 0, 0, c->m.created_by, v);
	if (rc == 0)
		rc = atr_store_file_put(STORE(r), "dataset_version", v->id, path, sha, (int64_t)atr_upload_size(c->u));
	if (rc == 0)
		rc = atr_store_dsv_commit(STORE(r), v->id, -1, NULL, NULL);
	if (rc == 0)
		rc = atr_store_comp_inputs_set(STORE(r), c->k.id, v->id);
	return rc;
}

static void strip_after(struct atr_req *r, void *data)
{
	struct model_sub *c = data;
	struct atr_comp_model now;
	struct atr_dataset_version v;
	int rc = c->rc;

	/* (on the loop: another submission may have made the copy meanwhile; then it is used) */
	if (rc == 0 && atr_store_comp_model_get(STORE(r), c->k.id, &now) == 0 && now.inputs_version_id)
		rc = atr_store_dsv_get(STORE(r), now.inputs_version_id, &v);
	else if (rc == 0)
		rc = inputs_store(r, c, &v);
	if (rc == 0) {
		submit(r, c, &v);
	} else {
		atr_log(ATR_LOG_ERROR, "competition %s: could not make its inputs (%s)", c->k.name, atr_strerror(rc));
		atr_store_comp_sub_state(STORE(r), c->sub_id, "invalid", "the competition's inputs cannot be read");
		atr_reply_conflict(r, NULL, "competition '%s' cannot run models now: its organisers were told",
				   c->k.name);
	}
	model_sub_free(c);
}

/* Makes the copy on the thread pool (strip_after goes on); < 0 when it could not start. */
static int derive(struct atr_req *r, struct model_sub *c)
{
	int rc = api_inputs_open(STORE(r), c->k.test_version_id, c->k.test_path, c->truth_blob, sizeof(c->truth_blob),
				 &c->u);

	return rc < 0 ? rc : atr_req_offload(r, strip_work, strip_after, c);
}

/* ---- the request ---- */

/* Records the submission (counting the team's day); -1 after an answer. */
static int record_or_reply(struct atr_req *r, struct model_sub *c, int64_t entry_id, int64_t arrived_at)
{
	struct atr_comp_submission sub = { .comp_id = c->k.id,
					   .entry_id = entry_id,
					   .user_id = atr_req_who(r)->user_id,
					   .format = c->fmt,
					   .arrived_at = arrived_at };
	int rc = atr_store_comp_model_sub_add(STORE(r), &sub, c->mv_id, c->k.daily_limit, &c->sub_id);

	if (rc == ATR_ELIMIT)
		api_comp_reply_limit(r, arrived_at);
	else if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not record the submission");
	if (rc < 0)
		return -1;
	atr_req_audit_object(r, "competition:%s/submission:%lld", c->k.name, (long long)c->sub_id);
	return 0;
}

void api_comp_model_submit(struct atr_req *r, const char *body, size_t len, int64_t entry_id, int64_t arrived_at)
{
	struct model_sub *c = calloc(1, sizeof(*c));
	struct atr_dataset_version v;
	json_t *b = NULL;
	int rc;

	if (!c) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	c->k = RES(r)->comp;
	atr_copy(c->fmt, sizeof(c->fmt), api_comp_truth_format(c->k.test_path) == ATR_SCORING_JSONL ? "jsonl" : "csv");
	if (!(b = body_or_reply(r, body, len)) || version_or_reply(r, b, &c->mv_id) < 0)
		goto out;
	if ((rc = atr_store_comp_model_get(STORE(r), c->k.id, &c->m)) < 0) {
		atr_reply_err(r, rc, NULL, "could not read the competition");
		goto out;
	}
	if (record_or_reply(r, c, entry_id, arrived_at) < 0)
		goto out;
	if (c->m.inputs_version_id && (rc = atr_store_dsv_get(STORE(r), c->m.inputs_version_id, &v)) == 0) {
		submit(r, c, &v);
	} else if ((rc = derive(r, c)) < 0) {
		atr_store_comp_sub_state(STORE(r), c->sub_id, "invalid", "the competition's inputs cannot be read");
		atr_reply_err(r, rc, NULL, "could not make the competition's inputs");
	} else {
		c = NULL; /* the pool's now: strip_after frees it */
	}
out:
	json_decref(b);
	model_sub_free(c);
}
