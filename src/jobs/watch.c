/*
 * watch.c: requests that wait on a job (GET .../wait, logs?follow=1) register a watch; state
 * changes and log arrivals call them. Watches may be removed from inside a callback.
 */
#include "atrium/err.h"
#include "jobs_internal.h"

#include <stdlib.h>

struct atr_job_watch *atr_engine_watch(struct atr_engine *e, int64_t job_id, atr_job_watch_fn fn, void *cls)
{
	struct atr_job_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->job_id = job_id;
	w->fn = fn;
	w->cls = cls;
	w->next = e->watches;
	e->watches = w;
	return w;
}

static void sweep(struct atr_engine *e)
{
	struct atr_job_watch **pp = &e->watches;
	while (*pp) {
		struct atr_job_watch *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

void atr_engine_unwatch(struct atr_engine *e, struct atr_job_watch *w)
{
	if (!w)
		return;
	w->dead = true;
	if (e->watch_depth == 0)
		sweep(e);
}

void eng_notify(struct atr_engine *e, int64_t job_id, enum atr_job_state state, bool log_only)
{
	e->watch_depth++;
	for (struct atr_job_watch *w = e->watches; w; w = w->next)
		if (!w->dead && w->job_id == job_id)
			w->fn(w->cls, job_id, state, log_only);
	if (--e->watch_depth == 0)
		sweep(e);
}

void eng_watches_free(struct atr_engine *e)
{
	while (e->watches) {
		struct atr_job_watch *w = e->watches;
		e->watches = w->next;
		free(w);
	}
}
