/*
 * evaluation_jobs.c: POST .../benchmarks/{benchmark}/evaluate evaluates a model version of
 * the project by running it: Atrium submits a batch_inference job over the benchmark's
 * inputs and scores the predictions file it writes (evaluation_watch.c follows the job).
 *
 * The job never sees the labels. Its one input is an inputs-only copy of the ground truth
 * (the file without its label column), kept as version 1 of the project's dataset
 * "benchmark-<id>-inputs", made once per benchmark on the thread pool (the truth is a
 * committed, frozen version: the copy never goes stale). The job's token reaches that
 * version and the model version only (src/store/jobs.c, atr_store_job_reach), never the
 * ground truth's version. The copy itself (api_inputs_open, api_inputs_strip) is shared
 * with competition_models.c, which makes one per competition.
 */
#include "api.h"
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

const struct atr_field api_evaluation_run_schema[] = {
	{ "model", ATR_F_NAME, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "version", ATR_F_INT_OR_STRING, 0, 0, 64, NULL, NULL },
	{ "command", ATR_F_COMMAND, 0, 0, 1 << 20, NULL, NULL },
	{ "env", ATR_F_ENV, 0, 0, 256, NULL, NULL },
	{ "resources", ATR_F_OBJECT, 0, 0, 0, NULL, api_job_resources_schema },
	{ "labels", ATR_F_STRMAP, 0, 0, 32, NULL, NULL },
	{ "priority", ATR_F_INT, 0, -1000, 1000, NULL, NULL },
	{ "max_attempts", ATR_F_INT, 0, 1, 20, NULL, NULL },
	{ "timeout_s", ATR_F_INT, 0, 0, 30LL * 86400, NULL, NULL },
	{ "format", ATR_F_STRING, 0, 0, 0, "csv|jsonl", NULL },
	{ 0 },
};

/* The command when none is given: the model version's own `predict` script, run with sh. */
#define DEFAULT_PREDICT "predict"
#define DEFAULT_COMMAND "sh \"$ATRIUM_MODEL_DIR/" DEFAULT_PREDICT "\" \"$EVAL_INPUT\" \"$EVAL_OUTPUT\""

struct run_ctx {
	struct atr_benchmark b;
	int64_t model_version_id, version;
	char model[64], fmt[8];
	char truth_blob[1300];
	struct atr_upload *u;
	/* the pool's */
	int rc;
	struct atr_scoring_error err;
};

static void ctx_free(struct run_ctx *c)
{
	if (!c)
		return;
	atr_upload_free(c->u);
	free(c);
}

/* The committed model version named by the body, in the benchmark's project. */
static int version_or_reply(struct atr_req *r, struct run_ctx *c)
{
	const json_t *body = atr_req_body(r), *vj = json_object_get(body, "version");
	const char *name = atr_json_str(body, "model", "");
	struct atr_model m;
	struct atr_model_version v;
	char num[32];
	const char *ref = "latest";

	if (json_is_integer(vj)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(vj));
		ref = num;
	} else if (json_is_string(vj)) {
		ref = json_string_value(vj);
	}
	if (atr_store_model_find(STORE(r), RES(r)->project.id, name, &m) < 0) {
		atr_reply_invalid(r, "model", "model '%s' does not exist in this project", name);
		return -1;
	}
	if (atr_store_model_version_resolve(STORE(r), m.id, ref, &v) < 0 || !v.committed) {
		atr_reply_invalid(r, "version", "model '%s' has no committed version '%s'", m.name, ref);
		return -1;
	}
	atr_copy(c->model, sizeof(c->model), m.name);
	c->model_version_id = v.id;
	c->version = v.version;
	return 0;
}

/* Without a command, the model version must bring its `predict` script. */
static int command_or_reply(struct atr_req *r, const struct run_ctx *c)
{
	struct atr_file f;

	if (json_object_get(atr_req_body(r), "command"))
		return 0;
	if (atr_store_file_get(STORE(r), "model_version", c->model_version_id, DEFAULT_PREDICT, &f) == 0)
		return 0;
	atr_reply_unprocessable(r, "command",
				"model '%s' version %lld has no file '" DEFAULT_PREDICT
				"' to run: give the command that writes $EVAL_OUTPUT from $EVAL_INPUT",
				c->model, (long long)c->version);
	return -1;
}

static void inputs_name(const struct atr_benchmark *b, char *out, size_t len)
{
	snprintf(out, len, "benchmark-%lld-inputs", (long long)b->id);
}

/* The inputs-only version made earlier for this benchmark: 0 and its id, or ATR_ENOTFOUND. */
static int inputs_find(struct atr_store *s, const struct atr_benchmark *b, struct atr_dataset_version *v)
{
	char name[64];
	int64_t ds;
	int rc;

	inputs_name(b, name, sizeof(name));
	if ((rc = atr_store_dataset_find(s, b->project_id, name, &ds)) < 0)
		return rc;
	return atr_store_dsv_find(s, ds, 1, v); /* its first: what Atrium made, whatever came later */
}

/* ---- submitting the job ---- */

struct pending_row {
	struct atr_evaluation_new e;
	int64_t id;
};

/* In the job's transaction: the evaluation that follows it. */
static int add_evaluation(struct atr_store *s, int64_t job_id, void *cls)
{
	struct pending_row *p = cls;

	p->e.job_id = job_id;
	return atr_store_evaluation_pending(s, &p->e, &p->id);
}

/* The job's env: the caller's, with where the inputs are and where the predictions go. */
static json_t *job_env(struct atr_req *r, const struct run_ctx *c)
{
	json_t *env = json_deep_copy(json_object_get(atr_req_body(r), "env"));
	char path[64];

	if (!env)
		env = json_object();
	if (!env)
		return NULL;
	snprintf(path, sizeof(path), "input/benchmark/inputs.%s", c->b.format);
	json_object_set_new(env, "EVAL_INPUT", json_string(path));
	snprintf(path, sizeof(path), "output/predictions.%s", c->fmt);
	json_object_set_new(env, "EVAL_OUTPUT", json_string(path));
	return env;
}

static void spec_fill(struct atr_req *r, const struct run_ctx *c, struct atr_job_spec *spec)
{
	const json_t *body = atr_req_body(r);

	spec->kind = "batch_inference";
	spec->project_id = RES(r)->project.id;
	spec->team_id = RES(r)->project.team_id;
	spec->created_by = atr_req_who(r)->user_id;
	spec->labels = json_object_get(body, "labels");
	atr_job_spec_limits(spec, body);
	spec->model_version_id = c->model_version_id;
}

/* The evaluation as the answer (202: it is scored once its job has run). */
static void reply_evaluation(struct atr_req *r, const struct run_ctx *c, int64_t id)
{
	int rc;
	json_t *o = atr_store_evaluation_json(STORE(r), c->b.id, id, &rc);

	if (!o) {
		atr_reply_err(r, rc, NULL, "could not read evaluation %lld", (long long)id);
		return;
	}
	atr_req_audit_object(r, "project:%s/benchmark:%s/evaluation:%lld", RES(r)->project.name, c->b.name,
			     (long long)id);
	atr_reply_json(r, 202, o);
}

static void submit(struct atr_req *r, const struct run_ctx *c, const struct atr_dataset_version *in)
{
	char name[200], actor[80];
	struct atr_job_spec spec = { 0 };
	struct pending_row p = { .e = { .benchmark_id = c->b.id,
					.model_version_id = c->model_version_id,
					.dataset_version_id = c->b.dataset_version_id,
					.user_id = atr_req_who(r)->user_id,
					.actor = api_actor(r, actor, sizeof(actor)),
					.format = c->fmt,
					.state = "pending" } };
	struct atr_job_submit sub = { .spec = &spec,
				      .run_user_id = spec.created_by,
				      .run_inputs = &in->id,
				      .run_ninputs = 1,
				      .also = add_evaluation,
				      .also_cls = &p };
	json_t *metrics = json_object(), *undef = json_object(), *env = job_env(r, c), *cmd = NULL;
	json_t *inputs = json_pack("[{s:s, s:I, s:s, s:I}]", "dataset", "", "version", (json_int_t)in->version, "as",
				   "benchmark", "dataset_version_id", (json_int_t)in->id);
	json_t *outputs = json_pack("{s:s}", "evaluation", c->b.name);
	int64_t job_id = 0;
	char why[300], ds[64];
	int rc = ATR_ENOMEM;

	inputs_name(&c->b, ds, sizeof(ds));
	cmd = json_incref(json_object_get(atr_req_body(r), "command"));
	if (!cmd)
		cmd = json_string(DEFAULT_COMMAND);
	if (!metrics || !undef || !env || !inputs || !outputs || !cmd)
		goto fail;
	json_object_set_new(json_array_get(inputs, 0), "dataset", json_string(ds));
	snprintf(name, sizeof(name), "evaluate %s:%lld on %s", c->model, (long long)c->version, c->b.name);
	spec_fill(r, c, &spec);
	spec.name = sub.run_name = name;
	spec.command = cmd;
	spec.env = env;
	spec.inputs = inputs;
	spec.outputs = outputs;
	p.e.metrics = metrics;
	p.e.undefined = undef;
	if (!atr_engine_feasible(APP(r)->engine, &spec, why, sizeof(why))) {
		atr_reply_unprocessable(r, "resources", "no worker could ever run this job: %s", why);
		goto out;
	}
	if ((rc = atr_engine_submit(APP(r)->engine, &sub, &job_id)) < 0)
		goto fail;
	api_evaljobs_follow(APP(r), p.id, job_id);
	reply_evaluation(r, c, p.id);
	goto out;
fail:
	atr_reply_err(r, rc, NULL, "could not submit the evaluation's job");
out:
	json_decref(metrics);
	json_decref(undef);
	json_decref(env);
	json_decref(inputs);
	json_decref(outputs);
	json_decref(cmd);
}

/* ---- the inputs-only copy, made once per benchmark ---- */

static int write_upload(void *u, const void *data, size_t len)
{
	return atr_upload_write(u, data, len);
}

static int feed_strip(void *s, const void *d, size_t n)
{
	return atr_scoring_strip_feed(s, d, n);
}

int api_inputs_strip(const char *truth_blob, enum atr_scoring_format fmt, const char *label_column,
		     struct atr_upload *u, struct atr_scoring_error *err)
{
	struct atr_scoring_strip *s = NULL;
	int rc = atr_scoring_strip_new(fmt, label_column, write_upload, u, &s);

	if (rc == 0 && (rc = api_feed_file(truth_blob, feed_strip, s)) == 0)
		rc = atr_scoring_strip_end(s);
	if (rc == ATR_EUNPROCESSABLE && err)
		*err = *atr_scoring_strip_error(s);
	atr_scoring_strip_free(s);
	return rc;
}

int api_inputs_open(struct atr_store *s, int64_t dsv_id, const char *path, char *truth_blob, size_t len,
		    struct atr_upload **u)
{
	struct atr_file truth;
	int rc = atr_store_file_get(s, "dataset_version", dsv_id, path, &truth);

	if (rc == 0)
		rc = atr_upload_open(s, u);
	if (rc == 0)
		atr_blob_path(s, truth.sha256, truth_blob, len);
	return rc;
}

static void strip_work(void *data)
{
	struct run_ctx *c = data;
	enum atr_scoring_format fmt = ATR_SCORING_CSV;

	atr_scoring_format_parse(c->b.format, &fmt);
	c->rc = api_inputs_strip(c->truth_blob, fmt, c->b.label_column, c->u, &c->err);
}

/* The copy's blob becomes version 1 of the benchmark's inputs dataset (made when missing). */
static int inputs_store(struct atr_req *r, struct run_ctx *c, struct atr_dataset_version *v)
{
	char name[64], sha[65], path[32], desc[200];
	int64_t ds;
	int rc = atr_upload_commit(STORE(r), c->u, NULL, strcmp(APP(r)->cfg->sync, "full") == 0, sha);

	inputs_name(&c->b, name, sizeof(name));
	snprintf(desc, sizeof(desc), "the inputs of benchmark '%s': its ground truth without the label column",
		 c->b.name);
	snprintf(path, sizeof(path), "inputs.%s", c->b.format);
	if (rc == 0 && (rc = atr_store_dataset_find(STORE(r), c->b.project_id, name, &ds)) == ATR_ENOTFOUND)
		rc = atr_store_dataset_create(STORE(r), c->b.project_id, name, desc, NULL, atr_req_who(r)->user_id,
					      &ds);
	if (rc == 0)
		rc = atr_store_dsv_create(STORE(r), ds, desc, 0, 0, atr_req_who(r)->user_id, v);
	if (rc == 0)
		rc = atr_store_file_put(STORE(r), "dataset_version", v->id, path, sha, (int64_t)atr_upload_size(c->u));
	if (rc == 0)
		rc = atr_store_dsv_commit(STORE(r), v->id, -1, NULL, NULL);
	return rc;
}

static void strip_after(struct atr_req *r, void *data)
{
	struct run_ctx *c = data;
	struct atr_dataset_version v;
	int rc = c->rc;

	if (rc == ATR_EUNPROCESSABLE)
		atr_reply_unprocessable(r, "benchmark", "the ground truth of benchmark '%s' cannot be read: %s",
					c->b.name, c->err.message);
	else if (rc < 0 || (rc = inputs_store(r, c, &v)) < 0)
		atr_reply_err(r, rc, NULL, "could not make the inputs of benchmark '%s'", c->b.name);
	else
		submit(r, c, &v);
	ctx_free(c);
}

static int derive(struct atr_req *r, struct run_ctx *c)
{
	int rc = api_inputs_open(STORE(r), c->b.dataset_version_id, c->b.truth_path, c->truth_blob,
				 sizeof(c->truth_blob), &c->u);

	return rc < 0 ? rc : atr_req_offload(r, strip_work, strip_after, c);
}

void api_evaluations_run(struct atr_req *r)
{
	struct run_ctx *c = calloc(1, sizeof(*c));
	struct atr_dataset_version v;
	int rc;

	if (!c) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	c->b = RES(r)->benchmark;
	atr_copy(c->fmt, sizeof(c->fmt), atr_json_str(atr_req_body(r), "format", c->b.format));
	if (version_or_reply(r, c) < 0 || command_or_reply(r, c) < 0)
		goto out;
	rc = inputs_find(STORE(r), &c->b, &v);
	if (rc == 0) {
		submit(r, c, &v);
	} else if (rc != ATR_ENOTFOUND) {
		atr_reply_err(r, rc, NULL, "could not read the inputs of benchmark '%s'", c->b.name);
	} else if ((rc = derive(r, c)) < 0) {
		atr_reply_err(r, rc, NULL, "could not make the inputs of benchmark '%s'", c->b.name);
	} else {
		return; /* the pool's now: strip_after frees it */
	}
out:
	ctx_free(c);
}
