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
 * (its job may have ended while the daemon was down: it is settled at once).
 */
#include "competitions_internal.h"
#include "atrium/app.h"
#include "atrium/engine.h"
#include "atrium/log.h"
#include "atrium/store_files.h"
#include "atrium/store_jobs.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct cj_follow {
	struct api_compjobs *reg;
	struct cj_follow *next;
	int64_t sub_id, job_id;
	struct atr_job_watch *watch;
	uv_work_t work;
	struct api_comp_scoring *sc;
};

struct api_compjobs {
	struct atr_app *app;
	struct cj_follow *head;
	size_t busy; /* followers on the thread pool */
	bool stopping;
};

#define STORE_OF(f) ((f)->reg->app->store)

static void drop(struct cj_follow *f)
{
	struct cj_follow **pp = &f->reg->head;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	if (f->watch && f->reg->app->engine)
		atr_engine_unwatch(f->reg->app->engine, f->watch);
	free(f->sc);
	free(f);
}

/* Ends the submission in state ("failed" or "invalid") with why, and stops following it. */
static void end(struct cj_follow *f, const char *state, const char *why)
{
	if (atr_store_comp_sub_state(STORE_OF(f), f->sub_id, state, why) < 0)
		atr_warn("competition submission %lld: could not record its end", (long long)f->sub_id);
	drop(f);
}

/* ---- scoring (the job succeeded) ---- */

static void score_work(uv_work_t *w)
{
	struct cj_follow *f = w->data;
	api_comp_scoring_work(f->sc);
}

static void score_done(uv_work_t *w, int status)
{
	struct cj_follow *f = w->data;
	struct api_compjobs *reg = f->reg;
	struct api_comp_scores res;
	char why[200];
	int rc;

	(void)status;
	reg->busy--;
	if (reg->stopping) { /* scored again at the next start: its job has ended */
		drop(f);
		if (reg->busy == 0)
			free(reg);
		return;
	}
	rc = api_comp_scoring_result(f->sc, &res);
	if (rc == ATR_EUNPROCESSABLE) {
		snprintf(why, sizeof(why), "the predictions the model wrote cannot be scored (%s)",
			 atr_scoring_errkind_name(res.err_kind));
		end(f, "failed", why);
	} else if (rc < 0) {
		atr_log(ATR_LOG_ERROR, "competition submission %lld: could not be scored (%s)", (long long)f->sub_id,
			atr_strerror(rc));
		end(f, "invalid", "could not be scored: the competition's organisers were told");
	} else if (atr_store_comp_submission_scored(STORE_OF(f), f->sub_id, res.pub_ok, res.pub, res.priv_ok,
						    res.priv) < 0) {
		end(f, "invalid", "could not record the score");
	} else {
		atr_info("competition submission %lld: scored from job %lld", (long long)f->sub_id,
			 (long long)f->job_id);
		drop(f);
	}
}

/* The predictions the job wrote, scored on the pool. */
static void score(struct cj_follow *f)
{
	struct atr_store *s = STORE_OF(f);
	struct atr_comp_sub_job sj;
	struct atr_competition k;
	struct atr_file pred;
	char path[32];
	int rc;

	if (atr_store_comp_sub_job_get(s, f->sub_id, &sj) < 0 || atr_store_competition_find(s, sj.comp_name, &k) < 0) {
		end(f, "invalid", "its competition cannot be read");
		return;
	}
	snprintf(path, sizeof(path), "predictions.%s",
		 api_comp_truth_format(k.test_path) == ATR_SCORING_JSONL ? "jsonl" : "csv");
	if (atr_store_file_get(s, "job_output", f->job_id, path, &pred) < 0) {
		end(f, "failed", "the model wrote no predictions: its predict script must write the file $2");
		return;
	}
	atr_store_comp_sub_predictions(s, f->sub_id, pred.sha256, pred.size);
	f->sc = api_comp_scoring_new(s, &k, f->sub_id, pred.sha256, api_comp_truth_format(k.test_path), &rc);
	if (!f->sc) {
		end(f, "invalid", "could not be scored: the competition's organisers were told");
		return;
	}
	f->work.data = f;
	if (uv_queue_work(f->reg->app->loop, &f->work, score_work, score_done) != 0) {
		end(f, "invalid", "could not schedule the scoring");
		return;
	}
	f->reg->busy++;
}

/* ---- the job ---- */

static void settle(struct cj_follow *f, enum atr_job_state state)
{
	if (state == ATR_JOB_SUCCEEDED)
		score(f);
	else if (state == ATR_JOB_FAILED)
		end(f, "failed",
		    "the model's batch job failed (its logs are not shown: run the model on the training"
		    " data to see why)");
	else
		end(f, "invalid", "the model's batch job was cancelled or lost before it ended");
}

static void on_job(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct cj_follow *f = cls;

	(void)job_id;
	if (log_only)
		return;
	if (state == ATR_JOB_RUNNING)
		atr_store_comp_sub_state(STORE_OF(f), f->sub_id, "running", NULL);
	else if (state == ATR_JOB_QUEUED) /* requeued (its worker was lost): waits again */
		atr_store_comp_sub_state(STORE_OF(f), f->sub_id, "pending", NULL);
	if (!atr_job_state_terminal(state))
		return;
	atr_engine_unwatch(f->reg->app->engine, f->watch);
	f->watch = NULL;
	settle(f, state);
}

static struct cj_follow *follow_new(struct api_compjobs *reg, int64_t sub_id, int64_t job_id)
{
	struct cj_follow *f = calloc(1, sizeof(*f));

	if (!f) {
		atr_warn("competition submission %lld: out of memory: not followed until the next start",
			 (long long)sub_id);
		return NULL;
	}
	f->reg = reg;
	f->sub_id = sub_id;
	f->job_id = job_id;
	f->next = reg->head;
	reg->head = f;
	return f;
}

void api_compjobs_follow(struct atr_app *a, int64_t sub_id, int64_t job_id)
{
	struct cj_follow *f;

	if (!a->compjobs || !(f = follow_new(a->compjobs, sub_id, job_id)))
		return;
	f->watch = atr_engine_watch(a->engine, job_id, on_job, f);
}

/* At start: a submission still in progress, whose job may have ended meanwhile. */
static void resume(struct api_compjobs *reg, int64_t sub_id)
{
	struct atr_comp_sub_job sj;
	struct atr_job_row row;
	struct cj_follow *f;

	if (atr_store_comp_sub_job_get(reg->app->store, sub_id, &sj) < 0 || !(f = follow_new(reg, sub_id, sj.job_id)))
		return;
	if (!sj.job_id || atr_store_job_row(reg->app->store, sj.job_id, &row) < 0) {
		end(f, "invalid", "its batch job was never submitted");
		return;
	}
	json_decref(row.labels);
	if (atr_job_state_terminal(row.state)) {
		settle(f, row.state);
		return;
	}
	if (row.state == ATR_JOB_RUNNING)
		atr_store_comp_sub_state(reg->app->store, sub_id, "running", NULL);
	f->watch = atr_engine_watch(reg->app->engine, sj.job_id, on_job, f);
}

int api_compjobs_start(struct atr_app *a)
{
	struct api_compjobs *reg = calloc(1, sizeof(*reg));
	int64_t ids[256], after = 0;
	size_t n;
	int rc;

	if (!reg)
		return ATR_ENOMEM;
	reg->app = a;
	a->compjobs = reg;
	do {
		if ((rc = atr_store_comp_subs_active(a->store, after, ids, 256, &n)) < 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			resume(reg, ids[i]);
		after = n ? ids[n - 1] : after;
	} while (n == 256);
	return 0;
}

void api_compjobs_stop(struct atr_app *a)
{
	struct api_compjobs *reg = a->compjobs;
	struct cj_follow *f, *next;

	if (!reg)
		return;
	a->compjobs = NULL;
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
