/*
 * competition_model_watch.c: follows the batch jobs of model-version submissions
 * (competition_models.c submits them). While the job waits the submission is 'pending', while
 * it runs 'running'; when it succeeds, the predictions it wrote ($EVAL_OUTPUT, uploaded as the
 * job's output "predictions.<format>") are scored on the thread pool exactly as an uploaded
 * file (competition_subs.c) and the submission becomes 'scored'.
 *
 * A failure's reason leaks nothing of the hidden inputs: no log, no exit code, no message of
 * the job or of the scoring (a model could write the inputs into them): only which step failed
 * and, for unscorable predictions, the kind of error. The model's failures ('failed': the job
 * failed or timed out, wrote no predictions, or predictions that cannot be scored) count
 * against the daily limit; Atrium's ('invalid': the job was cancelled or lost, the ground
 * truth cannot be read) count against none.
 *
 * The store is the truth: at start every model submission still in progress is followed again
 * (its job may have ended while the daemon was down: it is settled at once). The following
 * itself (the engine's watch, the pool, resume and stop) is job_follow.c's.
 */
#include "competitions_internal.h"
#include "job_follow.h"
#include "atrium/app.h"
#include "atrium/log.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>

/* What a follower holds once its job succeeded: the scoring (freed with free()). */
struct cj_data {
	struct api_comp_scoring *sc;
};

#define DATA(f) ((struct cj_data *)(f)->data)

static void release(void *data)
{
	struct cj_data *d = data;
	api_comp_scoring_free(d->sc);
}

/* ---- scoring (the job succeeded) ---- */

static void score_work(struct api_follow *f)
{
	api_comp_scoring_work(DATA(f)->sc);
}

static void score_done(struct api_follow *f)
{
	struct api_comp_scores res;
	char why[200];
	int rc = api_comp_scoring_result(DATA(f)->sc, &res);

	if (rc == ATR_EUNPROCESSABLE) {
		snprintf(why, sizeof(why), "the predictions the model wrote cannot be scored (%s)",
			 atr_scoring_errkind_name(res.err_kind));
		api_follow_end(f, "failed", why);
	} else if (rc < 0) {
		atr_log(ATR_LOG_ERROR, "competition submission %lld: could not be scored (%s)", (long long)f->id,
			atr_strerror(rc));
		api_follow_end(f, "invalid", "could not be scored: the competition's organisers were told");
	} else if (res.custom) { /* the competition's scorer takes it from here (competition_scorer.c) */
		rc = api_comp_scorer_start(api_follow_app(f), f->id, api_comp_scoring_take_split(DATA(f)->sc));
		if (rc < 0)
			api_follow_end(f, "invalid", "could not be scored: the competition's organisers were told");
		else
			api_follow_drop(f);
	} else if (atr_store_comp_submission_scored(api_follow_store(f), f->id, res.pub_ok, res.pub, res.priv_ok,
						    res.priv) < 0) {
		api_follow_end(f, "invalid", "could not record the score");
	} else {
		atr_info("competition submission %lld: scored from job %lld", (long long)f->id, (long long)f->job_id);
		api_follow_drop(f);
	}
}

/* The predictions the job wrote, scored on the pool. */
static void score(struct api_follow *f)
{
	struct atr_store *s = api_follow_store(f);
	struct atr_comp_sub_job sj;
	struct atr_competition k;
	struct atr_file pred;
	char path[32];
	int rc;

	if (atr_store_comp_sub_job_get(s, f->id, &sj) < 0 || atr_store_competition_find(s, sj.comp_name, &k) < 0) {
		api_follow_end(f, "invalid", "its competition cannot be read");
		return;
	}
	snprintf(path, sizeof(path), "predictions.%s",
		 api_comp_truth_format(k.test_path) == ATR_SCORING_JSONL ? "jsonl" : "csv");
	if (atr_store_file_get(s, "job_output", f->job_id, path, &pred) < 0) {
		api_follow_end(f, "failed",
			       "the model wrote no predictions: its predict script must write the file $2");
		return;
	}
	atr_store_comp_sub_predictions(s, f->id, pred.sha256, pred.size);
	DATA(f)->sc = api_comp_scoring_new(s, &k, f->id, pred.sha256, api_comp_truth_format(k.test_path), &rc);
	if (!DATA(f)->sc)
		api_follow_end(f, "invalid", "could not be scored: the competition's organisers were told");
	else if (api_follow_queue(f) < 0)
		api_follow_end(f, "invalid", "could not schedule the scoring");
}

/* ---- the job ---- */

static void settle(struct api_follow *f, enum atr_job_state state)
{
	if (state == ATR_JOB_SUCCEEDED)
		score(f);
	else if (state == ATR_JOB_FAILED)
		api_follow_end(f, "failed",
			       "the model's batch job failed (its logs are not shown: run the model on the training"
			       " data to see why)");
	else
		api_follow_end(f, "invalid", "the model's batch job was cancelled or lost before it ended");
}

static void gone(struct api_follow *f)
{
	api_follow_end(f, "invalid", "its batch job was never submitted");
}

static int job_of(struct atr_store *s, int64_t sub_id, int64_t *job_id)
{
	struct atr_comp_sub_job sj;
	int rc = atr_store_comp_sub_job_get(s, sub_id, &sj);

	*job_id = rc < 0 ? 0 : sj.job_id;
	return rc;
}

static const struct api_follow_ops ops = {
	.what = "competition submission",
	.data_size = sizeof(struct cj_data),
	.active = atr_store_comp_subs_active,
	.job_of = job_of,
	.set_state = atr_store_comp_sub_state,
	.gone = gone,
	.settle = settle,
	.work = score_work,
	.done = score_done,
	.release = release,
};

void api_compjobs_follow(struct atr_app *a, int64_t sub_id, int64_t job_id)
{
	api_follows_add(a->compjobs, sub_id, job_id);
}

int api_compjobs_start(struct atr_app *a)
{
	return api_follows_start(a, &ops, &a->compjobs);
}

void api_compjobs_stop(struct atr_app *a)
{
	api_follows_stop(&a->compjobs);
}
