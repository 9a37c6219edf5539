/*
 * competition_scorer.c: competitions ranked by a custom metric, computed by the organisers'
 * scorer (the shape of a benchmark's: evaluation_scorer.c). A submission (an uploaded file,
 * or the predictions a model-version submission's job wrote) is first checked by the scoring
 * library as any other (competition_subs.c: a bad file is a 422 and counts against nothing);
 * then, on the thread pool, the ground truth and the predictions are split by the
 * competition's secret public/private split into a public pair and a private pair of files.
 * Here, on the loop, each pair becomes a committed version of the competition project's
 * dataset "competition-<id>-scoring" (hidden like the test set: access.c, api_dsv_hidden and
 * the store's hiders know it), and the scorer runs once per subset as a one-attempt job in the
 * competition's project, as the organiser who made the competition (never as the
 * participant), with $TRUTH_FILE and $PREDICTIONS_FILE naming the pair: a benchmark's scorer
 * works unchanged. The submission stays 'scoring' until both jobs end; then its public and
 * private scores are the metric's values from the jobs' metrics.json (rounded on display as
 * any score), or, when a job failed, it is 'failed' (it counts against the daily limit: the
 * predictions may be at fault, and a failure must not be a free probe) with a generic reason;
 * the organisers see each job, its state and the real reason (api_comp_scorer_annotate).
 *
 * The store is the truth: at start every scorer job still pending or running is followed
 * again (job_follow.c), and one that ended while the daemon was down is settled at once.
 */
#include "api.h"
#include "competitions_internal.h"
#include "evaluations_internal.h"
#include "job_follow.h"
#include "atrium/app.h"
#include "atrium/artifacts.h"
#include "atrium/config.h"
#include "atrium/engine.h"
#include "atrium/log.h"
#include "atrium/store_comp_scorers.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_jobs.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GENERIC_FAIL                                                                                \
	"the competition's scorer could not score these predictions (what it printed is not shown:" \
	" check them against the competition's rules)"

enum { T_PUB, T_PRIV, P_PUB, P_PRIV, N_UP };
static const char *const subsets[2] = { "public", "private" };

struct api_comp_split {
	struct atr_upload *u[N_UP];
	int64_t comp_id, project_id;
	char name[ATR_COMP_NAME_MAX], metric[64], seed[65], id_column[ATR_COMP_TEXT_MAX];
	enum atr_scoring_format truth_fmt, pred_fmt;
	double fraction;
	size_t rows[2]; /* ids of the ground truth in each subset */
	/* the pool's */
	int base; /* the uploads being written: T_PUB or P_PUB */
	bool oom;
	char *buf;
	size_t cap;
};

static const char *fmt_name(enum atr_scoring_format f)
{
	return f == ATR_SCORING_JSONL ? "jsonl" : "csv";
}

/* ---- the split (the uploads opened on the loop, written on the pool) ---- */

struct api_comp_split *api_comp_split_new(struct atr_store *s, const struct atr_competition *k,
					  enum atr_scoring_format fmt, int *rc)
{
	struct api_comp_split *sp = calloc(1, sizeof(*sp));

	*rc = sp ? 0 : ATR_ENOMEM;
	for (int i = 0; *rc == 0 && i < N_UP; i++)
		*rc = atr_upload_open(s, &sp->u[i]) < 0 ? ATR_EIO : 0;
	if (*rc < 0) {
		api_comp_split_free(sp);
		return NULL;
	}
	sp->comp_id = k->id;
	sp->project_id = k->project_id;
	atr_copy(sp->name, sizeof(sp->name), k->name);
	atr_copy(sp->metric, sizeof(sp->metric), k->metric);
	atr_copy(sp->seed, sizeof(sp->seed), k->seed);
	atr_copy(sp->id_column, sizeof(sp->id_column), k->id_column);
	sp->truth_fmt = api_comp_truth_format(k->test_path);
	sp->pred_fmt = fmt;
	sp->fraction = k->public_fraction;
	return sp;
}

void api_comp_split_free(struct api_comp_split *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < N_UP; i++)
		atr_upload_free(sp->u[i]);
	free(sp->buf);
	free(sp);
}

/* Side 0: the public part (the same split as the built-in metrics'). */
static int route(void *cls, const char *id, size_t len)
{
	struct api_comp_split *sp = cls;
	int pub = api_comp_public(sp->seed, sp->fraction, id, len, &sp->buf, &sp->cap);

	sp->oom = sp->oom || pub < 0;
	return pub != 1;
}

static int write2(void *cls, int side, const void *data, size_t len)
{
	struct api_comp_split *sp = cls;
	return atr_upload_write(sp->u[sp->base + (side ? 1 : 0)], data, len);
}

static int feed(void *obj, const void *data, size_t len)
{
	return atr_scoring_split_feed(obj, data, len);
}

static int split_file(struct api_comp_split *sp, const char *path, enum atr_scoring_format fmt, int base)
{
	struct atr_scoring_split *x = NULL;
	int rc = atr_scoring_split_new(fmt, sp->id_column, route, write2, sp, &x);

	sp->base = base;
	if (rc == 0 && (rc = api_feed_file(path, feed, x)) == 0)
		rc = atr_scoring_split_end(x);
	if (rc == 0 && base == T_PUB) {
		sp->rows[0] = atr_scoring_split_rows(x, 0);
		sp->rows[1] = atr_scoring_split_rows(x, 1);
	}
	atr_scoring_split_free(x);
	return sp->oom ? ATR_ENOMEM : rc;
}

int api_comp_split_work(struct api_comp_split *sp, const char *truth_path, const char *pred_path)
{
	int rc = split_file(sp, truth_path, sp->truth_fmt, T_PUB);

	return rc ? rc : split_file(sp, pred_path, sp->pred_fmt, P_PUB);
}

/* ---- staging the subsets (on the loop) ---- */

struct start_ctx {
	struct atr_app *app;
	struct api_comp_split *sp;
	int64_t sub_id, creator, dataset_id;
	char sha[N_UP][65];
	json_t *scorer;
};

static int commit_uploads(struct start_ctx *c)
{
	bool sync = strcmp(c->app->cfg->sync, "full") == 0;
	int rc = 0;

	for (int i = 0; rc == 0 && i < N_UP; i++)
		rc = atr_upload_commit(c->app->store, c->sp->u[i], NULL, sync, c->sha[i]);
	return rc;
}

/* The competition's scoring dataset (made at its first scored submission). */
static int scoring_dataset(struct start_ctx *c)
{
	struct atr_store *s = c->app->store;
	char name[64], desc[200];
	int64_t ds;
	int rc;

	snprintf(name, sizeof(name), "competition-%lld-scoring", (long long)c->sp->comp_id);
	snprintf(desc, sizeof(desc), "the subsets competition '%s' hands its scorer: hidden like its test set",
		 c->sp->name);
	if ((rc = atr_store_dataset_find(s, c->sp->project_id, name, &ds)) == ATR_ENOTFOUND)
		rc = atr_store_dataset_create(s, c->sp->project_id, name, desc, NULL, c->creator, &ds);
	return rc < 0 ? rc : atr_store_comp_scorer_dataset(s, c->sp->comp_id, ds, &c->dataset_id);
}

/* A committed version holding subset side's ground truth and predictions. */
static int stage(struct start_ctx *c, int side, struct atr_dataset_version *v)
{
	struct atr_store *s = c->app->store;
	char desc[160], tpath[24], ppath[24];
	int rc;

	snprintf(desc, sizeof(desc), "submission %lld, %s part", (long long)c->sub_id, subsets[side]);
	snprintf(tpath, sizeof(tpath), "truth.%s", fmt_name(c->sp->truth_fmt));
	snprintf(ppath, sizeof(ppath), "predictions.%s", fmt_name(c->sp->pred_fmt));
	rc = atr_store_dsv_create(s, c->dataset_id, desc, 0, 0, c->creator, v);
	if (rc == 0)
		rc = atr_store_file_put(s, "dataset_version", v->id, tpath, c->sha[T_PUB + side],
					(int64_t)atr_upload_size(c->sp->u[T_PUB + side]));
	if (rc == 0)
		rc = atr_store_file_put(s, "dataset_version", v->id, ppath, c->sha[P_PUB + side],
					(int64_t)atr_upload_size(c->sp->u[P_PUB + side]));
	if (rc == 0)
		rc = atr_store_dsv_commit(s, v->id, (int64_t)c->sp->rows[side], NULL, NULL);
	return rc;
}

static int set_job(struct atr_store *s, int64_t job_id, void *cls)
{
	return atr_store_comp_scorer_run_job(s, *(int64_t *)cls, job_id);
}

/* Inputs, environment and outputs of subset side's job. */
static int job_parts(const struct start_ctx *c, int side, const struct atr_dataset_version *v, json_t **inputs,
		     json_t **env, json_t **outputs)
{
	char ds[64], tf[64], pf[64], what[96];

	snprintf(ds, sizeof(ds), "competition-%lld-scoring", (long long)c->sp->comp_id);
	snprintf(tf, sizeof(tf), "input/scoring/truth.%s", fmt_name(c->sp->truth_fmt));
	snprintf(pf, sizeof(pf), "input/scoring/predictions.%s", fmt_name(c->sp->pred_fmt));
	snprintf(what, sizeof(what), "competition:%s", c->sp->name);
	*inputs = json_pack("[{s:s, s:I, s:s, s:I}]", "dataset", ds, "version", (json_int_t)v->version, "as", "scoring",
			    "dataset_version_id", (json_int_t)v->id);
	*env = json_pack("{s:s, s:s, s:s, s:s}", "TRUTH_FILE", tf, "PREDICTIONS_FILE", pf, "SUBSET", subsets[side],
			 "COMPETITION", c->sp->name);
	*outputs = json_pack("{s:s}", "evaluation", what);
	return *inputs && *env && *outputs ? 0 : ATR_ENOMEM;
}

static int submit_run(struct start_ctx *c, int side, const struct atr_dataset_version *v, int64_t run_id)
{
	struct atr_job_spec spec = { 0 };
	struct atr_job_submit sub = { .spec = &spec, .also = set_job, .also_cls = &run_id };
	json_t *inputs = NULL, *env = NULL, *outputs = NULL;
	struct atr_project p;
	char name[200];
	int64_t job_id = 0;
	int rc = job_parts(c, side, v, &inputs, &env, &outputs);

	if (rc == 0 && (rc = atr_store_project_get(c->app->store, c->sp->project_id, &p)) == 0) {
		api_scorer_spec_fill(&spec, c->scorer, &p, c->creator);
		snprintf(name, sizeof(name), "score competition %s submission %lld (%s)", c->sp->name,
			 (long long)c->sub_id, subsets[side]);
		spec.name = name;
		spec.env = env;
		spec.inputs = inputs;
		spec.outputs = outputs;
		if (!atr_engine_feasible(c->app->engine, &spec, name, sizeof(name)))
			rc = ATR_EUNPROCESSABLE;
		else if ((rc = atr_engine_submit(c->app->engine, &sub, &job_id)) == 0)
			api_follows_add(c->app->compscorers, run_id, job_id);
	}
	json_decref(inputs);
	json_decref(env);
	json_decref(outputs);
	return rc;
}

/* The submission's end once none of its runs is open: scored, or failed. */
static void finish(struct atr_store *s, int64_t sub_id)
{
	struct atr_comp_scorer_outcome o;

	if (atr_store_comp_scorer_outcome(s, sub_id, &o) < 0 || o.open)
		return;
	if (o.failed)
		atr_store_comp_sub_state(s, sub_id, "failed", GENERIC_FAIL);
	else if (atr_store_comp_submission_scored(s, sub_id, o.pub_ok, o.pub, o.priv_ok, o.priv) < 0)
		atr_store_comp_sub_state(s, sub_id, "invalid", "could not record the score");
	else
		atr_info("competition submission %lld: scored by the competition's scorer", (long long)sub_id);
}

static int start_runs(struct start_ctx *c)
{
	struct atr_dataset_version v;
	int64_t run_id;
	int rc = 0;

	for (int side = 0; rc == 0 && side < 2; side++) {
		if (!c->sp->rows[side]) /* no id in this part: no score for it, as with a built-in metric */
			continue;
		rc = stage(c, side, &v);
		if (rc == 0)
			rc = atr_store_comp_scorer_run_add(c->app->store, c->sub_id, c->sp->comp_id, subsets[side],
							   v.id, &run_id);
		if (rc == 0)
			rc = submit_run(c, side, &v, run_id);
	}
	return rc;
}

int api_comp_scorer_start(struct atr_app *a, int64_t sub_id, struct api_comp_split *sp)
{
	struct start_ctx c = { .app = a, .sp = sp, .sub_id = sub_id };
	struct atr_comp_model m;
	int err = 0, rc = sp ? 0 : ATR_ENOMEM;

	if (rc == 0 && !(c.scorer = atr_store_comp_scorer(a->store, sp->comp_id, &err)))
		rc = err ? err : ATR_ENOTFOUND;
	if (rc == 0 && (rc = atr_store_comp_model_get(a->store, sp->comp_id, &m)) == 0 && !(c.creator = m.created_by))
		rc = ATR_ECONFLICT; /* no organiser to run its jobs as */
	if (rc == 0 && !a->engine)
		rc = ATR_EBUSY;
	if (rc == 0 && (rc = commit_uploads(&c)) == 0 && (rc = scoring_dataset(&c)) == 0)
		rc = start_runs(&c);
	if (rc < 0)
		atr_log(ATR_LOG_ERROR, "competition %s: submission %lld: its scorer could not start (%s)",
			sp ? sp->name : "?", (long long)sub_id, atr_strerror(rc));
	else
		finish(a->store, sub_id); /* (nothing to wait for when no run started) */
	json_decref(c.scorer);
	api_comp_split_free(sp);
	return rc;
}

void api_comp_scorer_submit_reply(struct atr_req *r, int64_t sub_id, struct api_comp_split *sp)
{
	int rc = api_comp_scorer_start(APP(r), sub_id, sp);
	json_t *o;

	if (rc < 0) {
		atr_store_comp_sub_state(STORE(r), sub_id, "invalid", "could not be scored: the organisers were told");
		atr_reply_conflict(r, NULL, "competition '%s' cannot score now: its organisers were told",
				   RES(r)->comp.name);
		return;
	}
	if (!(o = atr_store_comp_submission_json(STORE(r), &RES(r)->comp, sub_id, RES(r)->role == ATR_PROLE_OWNER,
						 &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the submission");
		return;
	}
	api_comp_scorer_annotate(r, o);
	atr_reply_json(r, 202, o);
}

/* ---- following the jobs ---- */

/* The metric's value from the run's job's metrics.json; -1 with the reason in why. */
static int value_of(struct atr_store *s, const struct atr_comp_scorer_run *run, double *v, char *why, size_t len)
{
	int err = 0;
	json_t *scorer = atr_store_comp_scorer(s, run->competition_id, &err), *metrics = NULL;
	json_t *comp = scorer ? atr_store_competition_json(s, run->competition_id, &err) : NULL;
	const json_t *x = NULL;

	if (!comp)
		snprintf(why, len, "the competition or its scorer cannot be read");
	else if ((metrics = api_scorer_read_metrics(s, run->job_id, scorer, why, len)) &&
		 !json_is_number(x = json_object_get(metrics, atr_json_str(comp, "metric", ""))))
		snprintf(why, len, "scorer job %lld: metrics.json has no number for metric '%s'",
			 (long long)run->job_id, atr_json_str(comp, "metric", ""));
	else if (metrics)
		*v = json_number_value(x);
	err = comp && metrics && json_is_number(x) ? 0 : -1;
	json_decref(metrics);
	json_decref(comp);
	json_decref(scorer);
	return err;
}

static void settle(struct api_follow *f, enum atr_job_state state)
{
	struct atr_store *s = api_follow_store(f);
	struct atr_comp_scorer_run run;
	char why[600] = "";
	double v = 0;
	json_t *job;
	int err;

	if (atr_store_comp_scorer_run_get(s, f->id, &run) < 0) {
		api_follow_drop(f);
		return;
	}
	if (state != ATR_JOB_SUCCEEDED) {
		job = atr_store_job_json(s, run.job_id, &err);
		snprintf(why, sizeof(why), "scorer job %lld %s: %s", (long long)run.job_id, atr_job_state_name(state),
			 job ? atr_json_str(job, "message", "") : atr_strerror(err));
		json_decref(job);
	} else if (value_of(s, &run, &v, why, sizeof(why)) == 0) {
		atr_store_comp_scorer_run_done(s, run.id, v);
	}
	if (why[0])
		atr_store_comp_scorer_run_state(s, run.id, "failed", why);
	finish(s, run.submission_id);
	api_follow_drop(f);
}

static void gone(struct api_follow *f)
{
	struct atr_comp_scorer_run run;

	atr_store_comp_scorer_run_state(api_follow_store(f), f->id, "failed", "its scorer job no longer exists");
	if (atr_store_comp_scorer_run_get(api_follow_store(f), f->id, &run) == 0)
		finish(api_follow_store(f), run.submission_id);
	api_follow_drop(f);
}

static int job_of(struct atr_store *s, int64_t run_id, int64_t *job_id)
{
	struct atr_comp_scorer_run run;
	int rc = atr_store_comp_scorer_run_get(s, run_id, &run);

	*job_id = rc < 0 ? 0 : run.job_id;
	return rc;
}

static const struct api_follow_ops ops = {
	.what = "competition scorer run",
	.active = atr_store_comp_scorer_runs_active,
	.job_of = job_of,
	.set_state = atr_store_comp_scorer_run_state,
	.gone = gone,
	.settle = settle,
};

int api_compscorers_start(struct atr_app *a)
{
	return api_follows_start(a, &ops, &a->compscorers);
}

void api_compscorers_stop(struct atr_app *a)
{
	api_follows_stop(&a->compscorers);
}

/* ---- what the API shows ---- */

int api_comp_scorer_or_reply(struct atr_req *r, const char *metric)
{
	const json_t *sc = api_scorer_of(atr_req_body(r));
	struct atr_benchmark none = { 0 };

	if (!sc)
		return 0;
	if (api_scorer_check_or_reply(r, &none, sc) < 0)
		return -1;
	if (atr_scoring_metric_find(metric)) { /* (the name says which computes it) */
		atr_reply_invalid(r, "metric", "'%s' is a built-in metric: a scorer's metric needs a name of its own",
				  metric);
		return -1;
	}
	if (!api_scorer_direction(sc, metric)) {
		atr_reply_invalid(r, "metric",
				  "'metric' must name one of the scorer's metrics (scorer.metrics), not '%s'", metric);
		return -1;
	}
	return 1;
}

json_t *api_comp_scorer_view(struct atr_req *r, int64_t comp_id)
{
	int err;
	json_t *sc = atr_store_comp_scorer(STORE(r), comp_id, &err), *out;

	if (!sc)
		return json_null();
	if (RES(r)->role >= ATR_PROLE_OWNER)
		return sc;
	out = json_pack("{s:O}", "metrics", json_object_get(sc, "metrics"));
	json_decref(sc);
	return out ? out : json_null();
}

bool api_comp_higher_better(struct atr_store *s, int64_t comp_id, const char *metric)
{
	int err;
	json_t *sc = atr_store_comp_scorer(s, comp_id, &err);
	bool higher = api_scorer_direction(sc, metric) >= 0;

	json_decref(sc);
	return higher;
}

void api_comp_scorer_annotate(struct atr_req *r, json_t *sub)
{
	int err;
	json_t *runs;

	if (RES(r)->role < ATR_PROLE_OWNER || !json_is_object(sub))
		return;
	runs = atr_store_comp_scorer_runs_json(STORE(r), json_integer_value(json_object_get(sub, "id")), &err);
	if (runs)
		json_object_set_new(sub, "scorer_jobs", runs);
}
