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
 * again (its job may have ended while the daemon was down: it is settled at once). The
 * following itself (the engine's watch, the pool, resume and stop) is job_follow.c's.
 */
#include "api.h"
#include "evaluations_internal.h"
#include "job_follow.h"
#include "atrium/app.h"
#include "atrium/artifacts.h"
#include "atrium/log.h"
#include "atrium/store_files.h"
#include "atrium/store_jobs.h"
#include "atrium/util.h"

#include <stdarg.h>
#include <stdio.h>

/* What a follower holds once its job succeeded: the scoring. */
struct ev_data {
	struct api_scoring sc;
	struct atr_evaluation_job ev;
	struct atr_file pred;
};

#define DATA(f) ((struct ev_data *)(f)->data)

static void fail(struct api_follow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct api_follow *f, const char *fmt, ...)
{
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	api_follow_end(f, "failed", why);
}

static void release(void *data)
{
	struct ev_data *d = data;
	api_scoring_release(&d->sc);
}

/* ---- scoring (the job succeeded) ---- */

static void score_work(struct api_follow *f)
{
	api_scoring_work(&DATA(f)->sc);
}

static void record(struct api_follow *f)
{
	struct ev_data *d = DATA(f);
	struct atr_evaluation_new e = { .benchmark_id = d->ev.benchmark_id,
					.model_version_id = d->ev.model_version_id,
					.format = d->sc.fmt_name,
					.rows = (int64_t)d->sc.res.rows,
					.confusion = d->sc.confusion,
					.sha256 = d->pred.sha256,
					.size = d->pred.size };
	json_t *metrics = NULL, *undef = NULL;
	int rc = api_scoring_values(&d->sc, &e, &metrics, &undef);

	e.metrics = metrics;
	e.undefined = undef;
	if (rc == 0)
		rc = atr_store_evaluation_scored(api_follow_store(f), f->id, &e);
	json_decref(metrics);
	json_decref(undef);
	if (rc < 0) {
		fail(f, "could not record the scores: %s", atr_strerror(rc));
		return;
	}
	atr_info("evaluation %lld: scored from job %lld", (long long)f->id, (long long)f->job_id);
	api_scorer_start(api_follow_app(f), f->id, &d->sc.b, d->sc.fmt_name);
	api_follow_drop(f);
}

static void score_done(struct api_follow *f)
{
	const struct api_scoring *sc = &DATA(f)->sc;

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
static int prepare(struct api_follow *f)
{
	struct atr_store *s = api_follow_store(f);
	struct ev_data *d = DATA(f);
	struct atr_file truth;
	char path[32];
	int rc = atr_store_evaluation_job_get(s, f->id, &d->ev);

	if (rc == 0)
		rc = atr_store_benchmark_get(s, d->ev.benchmark_id, &d->sc.b);
	if (rc == 0)
		rc = atr_store_file_get(s, "dataset_version", d->sc.b.dataset_version_id, d->sc.b.truth_path, &truth);
	if (rc < 0) {
		fail(f, "could not read the benchmark's ground truth: %s", atr_strerror(rc));
		return rc;
	}
	atr_copy(d->sc.fmt_name, sizeof(d->sc.fmt_name), d->ev.format);
	atr_scoring_format_parse(d->ev.format, &d->sc.fmt);
	snprintf(path, sizeof(path), "predictions.%s", d->ev.format);
	if (atr_store_file_get(s, "job_output", f->job_id, path, &d->pred) < 0) {
		fail(f, "job %lld succeeded but wrote no predictions: it must write $EVAL_OUTPUT (output/%s)",
		     (long long)f->job_id, path);
		return ATR_ENOTFOUND;
	}
	atr_blob_path(s, truth.sha256, d->sc.truth_blob, sizeof(d->sc.truth_blob));
	atr_blob_path(s, d->pred.sha256, d->sc.pred_blob, sizeof(d->sc.pred_blob));
	return 0;
}

/* ---- the job ---- */

/* The job ended: scored when it succeeded, else failed with its reason. */
static void settle(struct api_follow *f, enum atr_job_state state)
{
	int err;
	json_t *job;

	if (state == ATR_JOB_SUCCEEDED) {
		if (prepare(f) == 0 && api_follow_queue(f) < 0)
			fail(f, "could not schedule the scoring");
		return;
	}
	job = atr_store_job_json(api_follow_store(f), f->job_id, &err);
	fail(f, "job %lld %s: %s", (long long)f->job_id, atr_job_state_name(state),
	     job ? atr_json_str(job, "message", "") : atr_strerror(err));
	json_decref(job);
}

static void gone(struct api_follow *f)
{
	fail(f, "its job no longer exists");
}

static int job_of(struct atr_store *s, int64_t eval_id, int64_t *job_id)
{
	struct atr_evaluation_job ev;
	int rc = atr_store_evaluation_job_get(s, eval_id, &ev);

	*job_id = rc < 0 ? 0 : ev.job_id;
	return rc;
}

static const struct api_follow_ops ops = {
	.what = "evaluation",
	.data_size = sizeof(struct ev_data),
	.active = atr_store_evaluation_active,
	.job_of = job_of,
	.set_state = atr_store_evaluation_set_state,
	.gone = gone,
	.settle = settle,
	.work = score_work,
	.done = score_done,
	.release = release,
};

void api_evaljobs_follow(struct atr_app *a, int64_t eval_id, int64_t job_id)
{
	api_follows_add(a->evaljobs, eval_id, job_id);
}

int api_evaljobs_start(struct atr_app *a)
{
	return api_follows_start(a, &ops, &a->evaljobs);
}

void api_evaljobs_stop(struct atr_app *a)
{
	api_follows_stop(&a->evaljobs);
}
