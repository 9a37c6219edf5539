/*
 * trials.c: one trial of a sweep while its job lives: found by its run's id when the run logs
 * points, its metric fed to ASHA (atrium/sweep.h), its job cancelled when ASHA stops it, and
 * reaped when its job ends. What to submit next is controller.c's.
 */
#include "sweeps_internal.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/metric_batch.h"
#include "atrium/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t bucket(int64_t run_id)
{
	return (size_t)((uint64_t)run_id * 0x9E3779B97F4A7C15ULL >> 52) % RUN_BUCKETS;
}

static void on_job(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct trial *t = cls;

	(void)job_id;
	if (log_only || t->job_state == state)
		return;
	t->job_state = state;
	if (atr_job_state_terminal(state)) {
		t->ended = true;
		sw_kick(t->sw->owner);
	}
}

struct trial *trial_new(struct sweep *s, int64_t id, int64_t idx, int64_t job_id, enum atr_job_state state)
{
	struct trial *t = calloc(1, sizeof(*t));

	if (!t || !(t->rung_values = json_array())) {
		free(t);
		return NULL;
	}
	t->sw = s;
	t->id = id;
	t->idx = idx;
	t->job_id = job_id;
	t->job_state = state;
	t->stopped_step = -1;
	t->ended = atr_job_state_terminal(state);
	if (!t->ended)
		t->watch = atr_engine_watch(s->owner->engine, job_id, on_job, t);
	t->next = s->trials;
	s->trials = t;
	s->live++;
	return t;
}

void trial_set_run(struct trial *t, int64_t run_id)
{
	struct trial **head = &t->sw->owner->by_run[bucket(run_id)];

	t->run_id = run_id;
	t->hnext = *head;
	*head = t;
}

static void unlink_trial(struct trial *t)
{
	struct atr_sweeps *sw = t->sw->owner;
	struct trial **pp;

	for (pp = &sw->by_run[bucket(t->run_id)]; *pp && *pp != t; pp = &(*pp)->hnext)
		;
	if (*pp)
		*pp = t->hnext;
	for (pp = &t->sw->trials; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	t->sw->live--;
}

void trial_free(struct trial *t)
{
	unlink_trial(t);
	if (t->watch)
		atr_engine_unwatch(t->sw->owner->engine, t->watch);
	json_decref(t->rung_values);
	free(t);
}

void trial_reap(struct trial *t)
{
	const char *state = atr_job_state_name(t->job_state);

	if (t->stopping)
		state = "stopped";
	if (atr_store_trial_end(t->sw->owner->store, t->id, state, t->stopping ? t->stopped_step : -1) < 0)
		atr_warn("sweep %lld: could not record the end of trial %lld", (long long)t->sw->row.id,
			 (long long)t->idx);
	trial_free(t);
}

static struct trial *find(struct atr_sweeps *sw, int64_t run_id)
{
	struct trial *t = sw->by_run[bucket(run_id)];

	while (t && t->run_id != run_id)
		t = t->hnext;
	return t;
}

/* One point of the sweep's metric: ASHA decides; a stopped trial's job is cancelled. */
static void feed(struct trial *t, int64_t step, double value)
{
	struct sweep *s = t->sw;
	unsigned before = t->next_rung;
	int rc;

	t->last_value = value;
	t->last_step = step;
	t->has_value = true;
	if (!s->has_asha || t->stopping)
		return;
	rc = atr_asha_report(&s->asha, &t->next_rung, (double)step, value);
	for (unsigned k = before; k < t->next_rung; k++)
		json_array_append_new(t->rung_values, isfinite(value) ? json_real(value) : json_null());
	s->owner->stats.decisions++;
	if (rc == ATR_ASHA_STOP) {
		t->stopping = true;
		t->stopped_step = step;
		s->owner->stats.stopped++;
		if (atr_engine_cancel(s->owner->engine, t->job_id) < 0)
			atr_debug("sweep %lld: trial %lld's job had already ended", (long long)s->row.id,
				  (long long)t->idx);
	}
}

void atr_sweeps_metrics(struct atr_sweeps *sw, int64_t run_id, const struct atr_metric_batch *b)
{
	struct trial *t = sw ? find(sw, run_id) : NULL;
	uint32_t key = UINT32_MAX;

	uint64_t t0;

	if (!t)
		return;
	t0 = mono_ns();
	for (uint32_t k = 0; k < b->nkeys; k++)
		if (!strcmp(b->keys[k].name, t->sw->row.metric))
			key = k;
	if (key == UINT32_MAX)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (b->pts[i].key == key)
			feed(t, b->pts[i].step >= 0 ? b->pts[i].step : t->last_step + 1, b->pts[i].value);
	if (atr_store_trial_progress(sw->store, t->id, t->next_rung, t->rung_values, t->last_value, t->last_step) < 0)
		atr_warn("sweep %lld: could not record trial %lld's progress", (long long)t->sw->row.id,
			 (long long)t->idx);
	sw_timed(sw, mono_ns() - t0);
}
