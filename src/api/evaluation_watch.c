/*
 * evaluation_watch.c: follows the batch-inference jobs of evaluations (evaluation_jobs.c
 * submits them). While the job waits the evaluation is 'pending', while it runs 'running';
 * when it succeeds, the predictions file it wrote ($EVAL_OUTPUT, uploaded as the job's output
 * "predictions.<format>") is scored on the thread pool exactly as an uploaded one
 * (evaluations.c's api_scoring_work) and the evaluation becomes 'scored' with its metrics, or
 * 'failed' with the reason (the job failed or was cancelled, wrote no predictions, wrote
 * predictions that cannot be scored).
 *
 * The store is the truth: at start every evaluation still pending or running is followed
 * again (its job may have ended while the daemon was down: it is settled at once).
 */
#include "api.h"
#include "evaluations_internal.h"
#include "atrium/app.h"
#include "atrium/artifacts.h"
#include "atrium/engine.h"
#include "atrium/log.h"
#include "atrium/store_files.h"
#include "atrium/store_jobs.h"
#include "atrium/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct ev_follow {
	struct api_evaljobs *reg;
	struct ev_follow *next;
	int64_t eval_id, job_id;
	struct atr_job_watch *watch;
	/* scoring, once the job succeeded */
	uv_work_t work;
	struct api_scoring sc;
	struct atr_evaluation_job ev;
	struct atr_file pred;
};

struct api_evaljobs {
	struct atr_app *app;
	struct ev_follow *head;
	size_t busy; /* followers on the thread pool */
	bool stopping;
};

#define STORE_OF(f) ((f)->reg->app->store)

static void drop(struct ev_follow *f)
{
	struct ev_follow **pp = &f->reg->head;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	if (f->watch && f->reg->app->engine)
		atr_engine_unwatch(f->reg->app->engine, f->watch);
	api_scoring_release(&f->sc);
	free(f);
}

static void fail(struct ev_follow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct ev_follow *f, const char *fmt, ...)
{
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (atr_store_evaluation_set_state(STORE_OF(f), f->eval_id, "failed", why) < 0)
		atr_warn("evaluation %lld: could not record its failure", (long long)f->eval_id);
	drop(f);
}

/* ---- scoring (the job succeeded) ---- */

static void score_work(uv_work_t *w)
{
	struct ev_follow *f = w->data;
	api_scoring_work(&f->sc);
}

static void record(struct ev_follow *f)
{
	struct atr_evaluation_new e = { .benchmark_id = f->ev.benchmark_id,
					.model_version_id = f->ev.model_version_id,
					.format = f->sc.fmt_name,
					.rows = (int64_t)f->sc.res.rows,
					.confusion = f->sc.confusion,
					.sha256 = f->pred.sha256,
					.size = f->pred.size };
	json_t *metrics = NULL, *undef = NULL;
	int rc = api_scoring_values(&f->sc, &e, &metrics, &undef);

	e.metrics = metrics;
	e.undefined = undef;
	if (rc == 0)
		rc = atr_store_evaluation_scored(STORE_OF(f), f->eval_id, &e);
	json_decref(metrics);
	json_decref(undef);
	if (rc < 0) {
		fail(f, "could not record the scores: %s", atr_strerror(rc));
		return;
	}
	atr_info("evaluation %lld: scored from job %lld", (long long)f->eval_id, (long long)f->job_id);
	api_scorer_start(f->reg->app, f->eval_id, &f->sc.b, f->sc.fmt_name);
	drop(f);
}

static void score_done(uv_work_t *w, int status)
{
	struct ev_follow *f = w->data;
	struct api_evaljobs *reg = f->reg;
	const struct api_scoring *sc = &f->sc;

	(void)status;
	reg->busy--;
	if (reg->stopping) { /* followed again at the next start: its job has ended */
		drop(f);
		if (reg->busy == 0)
			free(reg);
		return;
	}
	if (sc->rc == ATR_EUNPROCESSABLE && sc->truth_bad)
		fail(f, "the ground truth of benchmark '%s' cannot be read: %s", sc->b.name, sc->err.message);
	else if (sc->rc == ATR_EUNPROCESSABLE)
		fail(f, "the predictions job %lld wrote cannot be scored: %s (%s)", (long long)f->job_id,
		     sc->err.message, atr_scoring_errkind_name(sc->err.kind));
	else if (sc->rc < 0)
		fail(f, "could not score the predictions: %s", atr_strerror(sc->rc));
	else
		record(f);
}

/* The files to score: the benchmark's ground truth and the job's predictions output. */
static int prepare(struct ev_follow *f)
{
	struct atr_store *s = STORE_OF(f);
	struct atr_file truth;
	char path[32];
	int rc = atr_store_evaluation_job_get(s, f->eval_id, &f->ev);

	if (rc == 0)
		rc = atr_store_benchmark_get(s, f->ev.benchmark_id, &f->sc.b);
	if (rc == 0)
		rc = atr_store_file_get(s, "dataset_version", f->sc.b.dataset_version_id, f->sc.b.truth_path, &truth);
	if (rc < 0) {
		fail(f, "could not read the benchmark's ground truth: %s", atr_strerror(rc));
		return rc;
	}
	atr_copy(f->sc.fmt_name, sizeof(f->sc.fmt_name), f->ev.format);
	atr_scoring_format_parse(f->ev.format, &f->sc.fmt);
	snprintf(path, sizeof(path), "predictions.%s", f->ev.format);
	if (atr_store_file_get(s, "job_output", f->job_id, path, &f->pred) < 0) {
		fail(f, "job %lld succeeded but wrote no predictions: it must write $EVAL_OUTPUT (output/%s)",
		     (long long)f->job_id, path);
		return ATR_ENOTFOUND;
	}
	atr_blob_path(s, truth.sha256, f->sc.truth_blob, sizeof(f->sc.truth_blob));
	atr_blob_path(s, f->pred.sha256, f->sc.pred_blob, sizeof(f->sc.pred_blob));
	return 0;
}

static void score(struct ev_follow *f)
{
	if (prepare(f) < 0)
		return;
	f->work.data = f;
	if (uv_queue_work(f->reg->app->loop, &f->work, score_work, score_done) != 0) {
		fail(f, "could not schedule the scoring");
		return;
	}
	f->reg->busy++;
}

/* ---- the job ---- */

/* The job ended: scored when it succeeded, else failed with its reason. */
static void settle(struct ev_follow *f, enum atr_job_state state)
{
	int err;
	json_t *job;

	if (state == ATR_JOB_SUCCEEDED) {
		score(f);
		return;
	}
	job = atr_store_job_json(STORE_OF(f), f->job_id, &err);
	fail(f, "job %lld %s: %s", (long long)f->job_id, atr_job_state_name(state),
	     job ? atr_json_str(job, "message", "") : atr_strerror(err));
	json_decref(job);
}

static void on_job(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct ev_follow *f = cls;

	(void)job_id;
	if (log_only)
		return;
	if (state == ATR_JOB_RUNNING)
		atr_store_evaluation_set_state(STORE_OF(f), f->eval_id, "running", NULL);
	else if (state == ATR_JOB_QUEUED) /* requeued (its worker was lost): waits again */
		atr_store_evaluation_set_state(STORE_OF(f), f->eval_id, "pending", NULL);
	if (!atr_job_state_terminal(state))
		return;
	atr_engine_unwatch(f->reg->app->engine, f->watch);
	f->watch = NULL;
	settle(f, state);
}

static struct ev_follow *follow_new(struct api_evaljobs *reg, int64_t eval_id, int64_t job_id)
{
	struct ev_follow *f = calloc(1, sizeof(*f));

	if (!f) {
		atr_warn("evaluation %lld: out of memory: not followed until the next start", (long long)eval_id);
		return NULL;
	}
	f->reg = reg;
	f->eval_id = eval_id;
	f->job_id = job_id;
	f->next = reg->head;
	reg->head = f;
	return f;
}

void api_evaljobs_follow(struct atr_app *a, int64_t eval_id, int64_t job_id)
{
	struct ev_follow *f;

	if (!a->evaljobs || !(f = follow_new(a->evaljobs, eval_id, job_id)))
		return;
	f->watch = atr_engine_watch(a->engine, job_id, on_job, f);
}

/* At start: an evaluation still pending or running, whose job may have ended meanwhile. */
static void resume(struct api_evaljobs *reg, int64_t eval_id)
{
	struct atr_evaluation_job ev;
	struct atr_job_row row;
	struct ev_follow *f;

	if (atr_store_evaluation_job_get(reg->app->store, eval_id, &ev) < 0 || !(f = follow_new(reg, eval_id, 0)))
		return;
	f->job_id = ev.job_id;
	if (!ev.job_id || atr_store_job_row(reg->app->store, ev.job_id, &row) < 0) {
		fail(f, "its job no longer exists");
		return;
	}
	json_decref(row.labels);
	if (atr_job_state_terminal(row.state)) {
		settle(f, row.state);
		return;
	}
	if (row.state == ATR_JOB_RUNNING)
		atr_store_evaluation_set_state(reg->app->store, eval_id, "running", NULL);
	f->watch = atr_engine_watch(reg->app->engine, ev.job_id, on_job, f);
}

int api_evaljobs_start(struct atr_app *a)
{
	struct api_evaljobs *reg = calloc(1, sizeof(*reg));
	int64_t ids[256], after = 0;
	size_t n;
	int rc;

	if (!reg)
		return ATR_ENOMEM;
	reg->app = a;
	a->evaljobs = reg;
	do {
		if ((rc = atr_store_evaluation_active(a->store, after, ids, 256, &n)) < 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			resume(reg, ids[i]);
		after = n ? ids[n - 1] : after;
	} while (n == 256);
	return 0;
}

void api_evaljobs_stop(struct atr_app *a)
{
	struct api_evaljobs *reg = a->evaljobs;
	struct ev_follow *f, *next;

	if (!reg)
		return;
	a->evaljobs = NULL;
	reg->stopping = true;
	for (f = reg->head; f; f = next) {
		next = f->next;
		if (f->watch)
			drop(f); /* the ones on the pool go when their scoring ends */
	}
	if (reg->busy == 0) {
		while (reg->head)
			drop(reg->head);
		free(reg);
	}
}
