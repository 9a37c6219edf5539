/*
 * evaluation_scorer.c: custom metrics. A benchmark may have a scorer: a command and the
 * metrics it computes ({name, direction}). Once an evaluation is scored with the built-in
 * metrics (evaluations.c, evaluation_watch.c), Atrium runs the scorer as a job in the
 * benchmark's project, as the benchmark's creator (never as whoever submitted the
 * predictions), with two inputs: the ground truth's dataset version (input/truth/) and the
 * predictions, kept as a version of the project's dataset "benchmark-<id>-predictions"
 * (input/predictions/predictions.<format>; $TRUTH_FILE and $PREDICTIONS_FILE name both).
 * The job writes a JSON object {metric: number} to $ATRIUM_OUTPUT_DIR/metrics.json; its
 * declared metrics join the evaluation's. While the job waits or runs the evaluation's scorer
 * state is pending or running; a failure (the job failed, no metrics.json, a metric missing
 * or not a number) marks it failed with the reason, which only the project's editors see.
 *
 * The store is the truth: at start every scorer still pending or running is followed again.
 */
#include "api.h"
#include "atrium/app.h"
#include "atrium/artifacts.h"
#include "atrium/engine.h"
#include "atrium/log.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_jobs.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define METRICS_FILE "metrics.json"
#define METRICS_MAX (64u << 10) /* bytes of metrics.json read (on the loop: small by contract) */

struct api_scorers {
	struct sc_follow *head;
};

struct sc_follow {
	struct atr_app *app;
	struct sc_follow *next;
	int64_t eval_id, job_id, benchmark_id;
	struct atr_job_watch *watch;
};

/* ---- the benchmark's scorer ---- */

int api_scorer_check_or_reply(struct atr_req *r, const struct atr_benchmark *b, const json_t *scorer)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(scorer, "metrics"), i, it)
	{
		const char *name = atr_json_str(it, "name", "");
		bool dup = false;
		char f[64];

		for (size_t k = 0; k < b->n_metrics; k++)
			dup = dup || !strcmp(b->metrics[k], name);
		for (size_t k = 0; k < i; k++)
			dup = dup ||
			      !strcmp(atr_json_str(json_array_get(json_object_get(scorer, "metrics"), k), "name", ""),
				      name);
		if (dup) {
			const char *field;

			snprintf(f, sizeof(f), "scorer.metrics[%zu].name", i);
			field = atr_req_strdup(r, f);
			atr_reply_invalid(r, field ? field : "scorer", "metric '%s' is listed twice", name);
			return -1;
		}
	}
	return 0;
}

int api_scorer_direction(const json_t *scorer, const char *name)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(scorer, "metrics"), i, it)
	{
		if (name && !strcmp(atr_json_str(it, "name", ""), name))
			return strcmp(atr_json_str(it, "direction", ""), "lower") ? 1 : -1;
	}
	return 0;
}

json_t *api_scorer_json(struct atr_store *s, int64_t benchmark_id)
{
	int64_t creator = 0;
	int err;
	json_t *o = atr_store_benchmark_scorer(s, benchmark_id, &creator, &err);

	return o ? o : json_null();
}

/* ---- following the job ---- */

static void drop(struct sc_follow *f)
{
	struct api_scorers *reg = f->app->scorers;
	struct sc_follow **pp = reg ? &reg->head : NULL;

	while (pp && *pp && *pp != f)
		pp = &(*pp)->next;
	if (pp && *pp)
		*pp = f->next;
	if (f->watch && f->app->engine)
		atr_engine_unwatch(f->app->engine, f->watch);
	free(f);
}

static void fail(struct sc_follow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sc_follow *f, const char *fmt, ...)
{
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (atr_store_evaluation_scorer_state(f->app->store, f->eval_id, "failed", 0, why) < 0)
		atr_warn("evaluation %lld: could not record its scorer's failure", (long long)f->eval_id);
	drop(f);
}

json_t *api_scorer_read_metrics(struct atr_store *s, int64_t job_id, const json_t *scorer, char *why, size_t len)
{
	struct atr_file file;
	char path[1300];
	json_t *out, *got = NULL, *it;
	json_error_t jerr;
	size_t i;

	if (atr_store_file_get(s, "job_output", job_id, METRICS_FILE, &file) < 0) {
		snprintf(why, len, "scorer job %lld wrote no " METRICS_FILE " in $ATRIUM_OUTPUT_DIR",
			 (long long)job_id);
		return NULL;
	}
	atr_blob_path(s, file.sha256, path, sizeof(path));
	if (file.size > (int64_t)METRICS_MAX || !(got = json_load_file(path, 0, &jerr)) || !json_is_object(got)) {
		snprintf(why, len,
			 "scorer job %lld wrote a " METRICS_FILE " that is not a JSON object of at most %u bytes",
			 (long long)job_id, METRICS_MAX);
		json_decref(got);
		return NULL;
	}
	if (!(out = json_object()))
		snprintf(why, len, "out of memory");
	json_array_foreach(json_object_get(scorer, "metrics"), i, it)
	{
		const char *name = atr_json_str(it, "name", "");
		json_t *v = json_object_get(got, name);
		if (!out)
			break;
		if (!json_is_number(v) || !isfinite(json_number_value(v))) {
			snprintf(why, len, "scorer job %lld: " METRICS_FILE " has no number for metric '%s'",
				 (long long)job_id, name);
			json_decref(out);
			out = NULL;
			break;
		}
		json_object_set_new(out, name, json_real(json_number_value(v)));
	}
	json_decref(got);
	return out;
}

static void settle(struct sc_follow *f, enum atr_job_state state)
{
	int64_t creator = 0;
	int err;
	char why[400];
	json_t *scorer, *job, *metrics;

	if (state != ATR_JOB_SUCCEEDED) {
		job = atr_store_job_json(f->app->store, f->job_id, &err);
		fail(f, "scorer job %lld %s: %s", (long long)f->job_id, atr_job_state_name(state),
		     job ? atr_json_str(job, "message", "") : atr_strerror(err));
		json_decref(job);
		return;
	}
	if (!(scorer = atr_store_benchmark_scorer(f->app->store, f->benchmark_id, &creator, &err))) {
		fail(f, "the benchmark no longer has a scorer");
		return;
	}
	metrics = api_scorer_read_metrics(f->app->store, f->job_id, scorer, why, sizeof(why));
	json_decref(scorer);
	if (!metrics) {
		fail(f, "%s", why);
		return;
	}
	err = atr_store_evaluation_scorer_done(f->app->store, f->eval_id, metrics);
	json_decref(metrics);
	if (err < 0) {
		fail(f, "could not record the custom metrics: %s", atr_strerror(err));
		return;
	}
	atr_info("evaluation %lld: custom metrics from job %lld", (long long)f->eval_id, (long long)f->job_id);
	drop(f);
}

static void on_job(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct sc_follow *f = cls;

	(void)job_id;
	if (log_only)
		return;
	if (state == ATR_JOB_RUNNING || state == ATR_JOB_QUEUED)
		atr_store_evaluation_scorer_state(f->app->store, f->eval_id,
						  state == ATR_JOB_RUNNING ? "running" : "pending", 0, NULL);
	if (!atr_job_state_terminal(state))
		return;
	atr_engine_unwatch(f->app->engine, f->watch);
	f->watch = NULL;
	settle(f, state);
}

static struct sc_follow *follow_new(struct atr_app *a, int64_t eval_id, int64_t benchmark_id)
{
	struct sc_follow *f = a->scorers ? calloc(1, sizeof(*f)) : NULL;

	if (!f)
		return NULL;
	f->app = a;
	f->eval_id = eval_id;
	f->benchmark_id = benchmark_id;
	f->next = a->scorers->head;
	a->scorers->head = f;
	return f;
}

/* ---- submitting the job ---- */

/* The evaluation's predictions as a new committed version of "benchmark-<id>-predictions". */
static int stage_predictions(struct atr_store *s, const struct atr_benchmark *b, int64_t eval_id, int64_t creator,
			     const char *path, struct atr_dataset_version *v)
{
	char name[64], desc[200];
	struct atr_file file;
	int64_t ds;
	int rc = atr_store_file_get(s, "evaluation", eval_id, path, &file);

	snprintf(name, sizeof(name), "benchmark-%lld-predictions", (long long)b->id);
	snprintf(desc, sizeof(desc), "the predictions of evaluation %lld on benchmark '%s', for its scorer",
		 (long long)eval_id, b->name);
	if (rc == 0 && (rc = atr_store_dataset_find(s, b->project_id, name, &ds)) == ATR_ENOTFOUND)
		rc = atr_store_dataset_create(s, b->project_id, name, desc, NULL, creator, &ds);
	if (rc == 0)
		rc = atr_store_dsv_create(s, ds, desc, 0, 0, creator, v);
	if (rc == 0)
		rc = atr_store_file_put(s, "dataset_version", v->id, path, file.sha256, file.size);
	if (rc == 0)
		rc = atr_store_dsv_commit(s, v->id, -1, NULL, NULL);
	return rc;
}

/* [{dataset, version, as, dataset_version_id}] of the ground truth and the predictions. */
static json_t *job_inputs(struct atr_store *s, const struct atr_benchmark *b, const struct atr_dataset_version *pv)
{
	struct atr_dataset_version tv;
	json_t *tds, *inputs;
	char pname[64];
	int err;

	if (atr_store_dsv_get(s, b->dataset_version_id, &tv) < 0 ||
	    !(tds = atr_store_dataset_json(s, tv.dataset_id, NULL, &err)))
		return NULL;
	snprintf(pname, sizeof(pname), "benchmark-%lld-predictions", (long long)b->id);
	inputs = json_pack("[{s:s, s:I, s:s, s:I}, {s:s, s:I, s:s, s:I}]", "dataset", atr_json_str(tds, "name", ""),
			   "version", (json_int_t)tv.version, "as", "truth", "dataset_version_id", (json_int_t)tv.id,
			   "dataset", pname, "version", (json_int_t)pv->version, "as", "predictions",
			   "dataset_version_id", (json_int_t)pv->id);
	json_decref(tds);
	return inputs;
}

struct submit_ctx {
	int64_t eval_id;
};

static int mark_pending(struct atr_store *s, int64_t job_id, void *cls)
{
	struct submit_ctx *c = cls;
	return atr_store_evaluation_scorer_state(s, c->eval_id, "pending", job_id, NULL);
}

void api_scorer_spec_fill(struct atr_job_spec *spec, const json_t *scorer, const struct atr_project *p, int64_t creator)
{
	const json_t *res = json_object_get(scorer, "resources");

	spec->kind = "training";
	spec->project_id = p->id;
	spec->team_id = p->team_id;
	spec->created_by = creator;
	spec->command = json_object_get(scorer, "command");
	spec->gpus = (int)atr_json_int(res, "gpus", 0);
	spec->gpu_type = atr_json_str(res, "gpu_type", NULL);
	spec->cpus = (int)atr_json_int(res, "cpus", 0);
	spec->memory_mb = atr_json_int(res, "memory_mb", 0);
	spec->max_attempts = 1;
	spec->timeout_s = atr_json_int(scorer, "timeout_s", 0);
}

static int submit(struct atr_app *a, const struct atr_benchmark *b, int64_t eval_id, const char *format,
		  const json_t *scorer, int64_t creator, int64_t *job_id)
{
	struct atr_project p = { 0 };
	struct atr_dataset_version pv;
	struct atr_job_spec spec = { 0 };
	struct submit_ctx c = { eval_id };
	struct atr_job_submit sub = { .spec = &spec, .also = mark_pending, .also_cls = &c };
	char path[32], name[200], tf[1100], pf[64], idbuf[24];
	json_t *inputs = NULL, *env = NULL, *outputs = json_pack("{s:s}", "evaluation", b->name);
	int rc;

	snprintf(path, sizeof(path), "predictions.%s", format);
	if ((rc = atr_store_project_get(a->store, b->project_id, &p)) == 0)
		rc = stage_predictions(a->store, b, eval_id, creator, path, &pv);
	if (rc == 0 && !(inputs = job_inputs(a->store, b, &pv)))
		rc = ATR_ENOMEM;
	snprintf(tf, sizeof(tf), "input/truth/%s", b->truth_path);
	snprintf(pf, sizeof(pf), "input/predictions/%s", path);
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)eval_id);
	env = json_pack("{s:s, s:s, s:s}", "TRUTH_FILE", tf, "PREDICTIONS_FILE", pf, "EVALUATION_ID", idbuf);
	if (rc == 0 && (!env || !outputs))
		rc = ATR_ENOMEM;
	snprintf(name, sizeof(name), "score evaluation %lld on %s", (long long)eval_id, b->name);
	api_scorer_spec_fill(&spec, scorer, &p, creator);
	spec.name = name;
	spec.env = env;
	spec.inputs = inputs;
	spec.outputs = outputs;
	if (rc == 0 && !atr_engine_feasible(a->engine, &spec, name, sizeof(name)))
		rc = ATR_EUNPROCESSABLE;
	if (rc == 0)
		rc = atr_engine_submit(a->engine, &sub, job_id);
	json_decref(inputs);
	json_decref(env);
	json_decref(outputs);
	return rc;
}

void api_scorer_start(struct atr_app *a, int64_t eval_id, const struct atr_benchmark *b, const char *format)
{
	int64_t creator = 0, job_id = 0;
	int err;
	json_t *scorer = atr_store_benchmark_scorer(a->store, b->id, &creator, &err);
	struct sc_follow *f;

	if (!scorer)
		return;
	err = a->engine ? submit(a, b, eval_id, format, scorer, creator, &job_id) : ATR_EBUSY;
	json_decref(scorer);
	if (err < 0) {
		atr_store_evaluation_scorer_state(a->store, eval_id, "failed", 0,
						  err == ATR_EUNPROCESSABLE
							  ? "no worker could ever run the scorer's job (its resources)"
							  : atr_strerror(err));
		return;
	}
	if (!(f = follow_new(a, eval_id, b->id))) {
		atr_warn("evaluation %lld: scorer job %lld not followed until the next start", (long long)eval_id,
			 (long long)job_id);
		return;
	}
	f->job_id = job_id;
	f->watch = atr_engine_watch(a->engine, job_id, on_job, f);
}

/* ---- start and stop ---- */

static void resume(struct atr_app *a, int64_t eval_id)
{
	struct atr_evaluation_job ev;
	struct atr_job_row row;
	struct sc_follow *f;
	json_t *e;
	int err;

	if (atr_store_evaluation_job_get(a->store, eval_id, &ev) < 0 || !(f = follow_new(a, eval_id, ev.benchmark_id)))
		return;
	e = atr_store_evaluation_json(a->store, ev.benchmark_id, eval_id, &err);
	f->job_id = e ? atr_json_int(json_object_get(e, "scorer"), "job_id", 0) : 0;
	json_decref(e);
	if (!f->job_id || atr_store_job_row(a->store, f->job_id, &row) < 0) {
		fail(f, "its scorer job no longer exists");
		return;
	}
	json_decref(row.labels);
	if (atr_job_state_terminal(row.state)) {
		settle(f, row.state);
		return;
	}
	f->watch = atr_engine_watch(a->engine, f->job_id, on_job, f);
}

int api_scorers_start(struct atr_app *a)
{
	int64_t ids[256], after = 0;
	size_t n;
	int rc;

	if (!(a->scorers = calloc(1, sizeof(*a->scorers))))
		return ATR_ENOMEM;
	do {
		if ((rc = atr_store_evaluation_scorer_active(a->store, after, ids, 256, &n)) < 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			resume(a, ids[i]);
		after = n ? ids[n - 1] : after;
	} while (n == 256);
	return 0;
}

void api_scorers_stop(struct atr_app *a)
{
	if (!a->scorers)
		return;
	while (a->scorers->head)
		drop(a->scorers->head);
	free(a->scorers);
	a->scorers = NULL;
}

void api_scorer_redact(struct atr_req *r, json_t *evaluation)
{
	json_t *sc = json_object_get(evaluation, "scorer");

	if (!json_is_object(sc) || RES(r)->role >= ATR_PROLE_EDITOR)
		return;
	json_object_del(sc, "job_id");
	json_object_del(sc, "error");
}

const json_t *api_scorer_of(const json_t *body)
{
	const json_t *sc = json_object_get(body, "scorer");
	return json_is_object(sc) ? sc : NULL;
}
