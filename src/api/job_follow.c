/*
 * job_follow.c: a registry of followers, each following the batch job of one record through
 * the engine's watch (job_follow.h says what the user supplies). Shared by evaluation_watch.c
 * and competition_model_watch.c.
 */
#include "job_follow.h"
#include "atrium/app.h"
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store_jobs.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <uv.h>

#define ACTIVE_PAGE 256

struct follower {
	struct api_follow pub; /* first: a struct api_follow * is a struct follower * */
	uv_work_t work;
	max_align_t extra[]; /* the user's data */
};

struct api_follows {
	struct atr_app *app;
	const struct api_follow_ops *ops;
	struct api_follow *head;
	size_t busy; /* followers on the thread pool */
	bool stopping;
};

struct atr_app *api_follow_app(const struct api_follow *f)
{
	return f->reg->app;
}

struct atr_store *api_follow_store(const struct api_follow *f)
{
	return f->reg->app->store;
}

void api_follow_drop(struct api_follow *f)
{
	struct api_follow **pp = &f->reg->head;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	if (f->watch && f->reg->app->engine)
		atr_engine_unwatch(f->reg->app->engine, f->watch);
	if (f->reg->ops->release)
		f->reg->ops->release(f->data);
	free(f);
}

void api_follow_end(struct api_follow *f, const char *state, const char *why)
{
	if (f->reg->ops->set_state(api_follow_store(f), f->id, state, why) < 0)
		atr_warn("%s %lld: could not record its end", f->reg->ops->what, (long long)f->id);
	api_follow_drop(f);
}

/* ---- the work on the pool ---- */

static void on_work(uv_work_t *w)
{
	struct api_follow *f = w->data;
	f->reg->ops->work(f);
}

static void on_work_done(uv_work_t *w, int status)
{
	struct api_follow *f = w->data;
	struct api_follows *reg = f->reg;

	(void)status;
	reg->busy--;
	if (reg->stopping) { /* followed again at the next start: its job has ended */
		api_follow_drop(f);
		if (reg->busy == 0)
			free(reg);
		return;
	}
	reg->ops->done(f);
}

int api_follow_queue(struct api_follow *f)
{
	struct follower *fl = (struct follower *)f;

	fl->work.data = f;
	if (uv_queue_work(f->reg->app->loop, &fl->work, on_work, on_work_done) != 0)
		return ATR_EINTERNAL;
	f->reg->busy++;
	return 0;
}

/* ---- the job ---- */

static void on_job(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct api_follow *f = cls;
	const struct api_follow_ops *ops = f->reg->ops;

	(void)job_id;
	if (log_only)
		return;
	if (state == ATR_JOB_RUNNING)
		ops->set_state(api_follow_store(f), f->id, "running", NULL);
	else if (state == ATR_JOB_QUEUED) /* requeued (its worker was lost): waits again */
		ops->set_state(api_follow_store(f), f->id, "pending", NULL);
	if (!atr_job_state_terminal(state))
		return;
	atr_engine_unwatch(f->reg->app->engine, f->watch);
	f->watch = NULL;
	ops->settle(f, state);
}

static struct api_follow *follow_new(struct api_follows *reg, int64_t id, int64_t job_id)
{
	size_t units = (reg->ops->data_size + sizeof(max_align_t) - 1) / sizeof(max_align_t);
	struct follower *fl = calloc(1, sizeof(*fl) + units * sizeof(max_align_t));
	struct api_follow *f;

	if (!fl) {
		atr_warn("%s %lld: out of memory: not followed until the next start", reg->ops->what, (long long)id);
		return NULL;
	}
	f = &fl->pub;
	f->reg = reg;
	f->id = id;
	f->job_id = job_id;
	f->data = reg->ops->data_size ? fl->extra : NULL;
	f->next = reg->head;
	reg->head = f;
	return f;
}

void api_follows_add(struct api_follows *reg, int64_t id, int64_t job_id)
{
	struct api_follow *f;

	if (!reg || !(f = follow_new(reg, id, job_id)))
		return;
	f->watch = atr_engine_watch(reg->app->engine, job_id, on_job, f);
}

/* At start: a record still in progress, whose job may have ended meanwhile. */
static void resume(struct api_follows *reg, int64_t id)
{
	struct atr_store *s = reg->app->store;
	struct atr_job_row row;
	struct api_follow *f;
	int64_t job_id = 0;

	if (reg->ops->job_of(s, id, &job_id) < 0 || !(f = follow_new(reg, id, job_id)))
		return;
	if (!job_id || atr_store_job_row(s, job_id, &row) < 0) {
		reg->ops->gone(f);
		return;
	}
	json_decref(row.labels);
	if (atr_job_state_terminal(row.state)) {
		reg->ops->settle(f, row.state);
		return;
	}
	if (row.state == ATR_JOB_RUNNING)
		reg->ops->set_state(s, id, "running", NULL);
	f->watch = atr_engine_watch(reg->app->engine, job_id, on_job, f);
}

int api_follows_start(struct atr_app *a, const struct api_follow_ops *ops, struct api_follows **slot)
{
	struct api_follows *reg = calloc(1, sizeof(*reg));
	int64_t ids[ACTIVE_PAGE], after = 0;
	size_t n;
	int rc;

	if (!reg)
		return ATR_ENOMEM;
	reg->app = a;
	reg->ops = ops;
	*slot = reg;
	do {
		if ((rc = ops->active(a->store, after, ids, ACTIVE_PAGE, &n)) < 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			resume(reg, ids[i]);
		after = n ? ids[n - 1] : after;
	} while (n == ACTIVE_PAGE);
	return 0;
}

void api_follows_stop(struct api_follows **slot)
{
	struct api_follows *reg = *slot;
	struct api_follow *f, *next;

	if (!reg)
		return;
	*slot = NULL;
	reg->stopping = true;
	for (f = reg->head; f; f = next) {
		next = f->next;
		if (f->watch)
			api_follow_drop(f); /* the ones on the pool go when their work ends */
	}
	if (reg->busy == 0) {
		while (reg->head)
			api_follow_drop(reg->head);
		free(reg);
	}
}
