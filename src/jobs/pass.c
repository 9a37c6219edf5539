/*
 * pass.c: scheduling passes of the job engine. A pass turns the engine's in-memory view
 * (queued jobs, workers and what they hold, teams with quotas and recent GPU-hours) into the
 * pure planner's input (sched.h), applies its placements (dispatch) and records the reasons
 * of the jobs that wait. Passes are coalesced and spaced by their own cost.
 */
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_identity.h"
#include "atrium/store_jobs.h"
#include "atrium/util.h"
#include "jobs_internal.h"

#include <stdlib.h>
#include <string.h>

#define FAIR_SHARE_WINDOW_H 24.0
/* Recent GPU-hours (a scan of the team's jobs) are read again after this long: a 24-hour
 * average does not move in seconds, and passes come many times a second under load. */
#define FAIR_SHARE_TTL_MS 10000

/* ---- scheduling ---- */

struct pass_arrays {
	struct atr_sched_job *jobs;
	struct atr_sched_worker *workers;
	struct atr_sched_team *teams;
	json_t *team_rows; /* the teams as read: their names are the teams' name pointers */
	int njobs, nworkers, nteams;
};

static struct atr_sched_team *team_slot(struct pass_arrays *a, int64_t team_id)
{
	for (int i = 0; i < a->nteams; i++)
		if (a->teams[i].id == team_id)
			return &a->teams[i];
	return NULL;
}

/* The team's GPU-hours within the fair-share window, from the engine's copy (refreshed after
 * FAIR_SHARE_TTL_MS: then every team is read again). */
static double recent_gpu_hours(struct atr_engine *e, int64_t team_id, int64_t now)
{
	int64_t since = now - (int64_t)(FAIR_SHARE_WINDOW_H * 3600000.0);
	struct eng_team_usage *u;
	double hours = 0;

	if (now - e->fair_share_at > FAIR_SHARE_TTL_MS) {
		e->nfair = 0;
		e->fair_share_at = now;
	}
	for (int i = 0; i < e->nfair; i++)
		if (e->fair[i].team_id == team_id)
			return e->fair[i].gpu_hours;
	atr_store_team_gpu_hours(e->o.store, since, team_id, &hours);
	if ((u = realloc(e->fair, (size_t)(e->nfair + 1) * sizeof(*u))) != NULL) {
		e->fair = u;
		e->fair[e->nfair++] = (struct eng_team_usage){ team_id, hours };
	}
	return hours;
}

/* The teams with their quotas; with_usage: and their recent GPU-hours (a pass needs them,
 * a feasibility check does not). */
static int load_teams(struct atr_engine *e, struct pass_arrays *a, bool with_usage)
{
	struct atr_page p = { .limit = 1000 };
	json_t *items = json_array(), *it;
	bool more;
	size_t i;
	int64_t now = atr_now_ms();

	if (!items || atr_store_team_list(e->o.store, &p, items, &more) < 0) {
		json_decref(items);
		return ATR_EDB;
	}
	a->teams = calloc(json_array_size(items) + 1, sizeof(*a->teams));
	if (!a->teams) {
		json_decref(items);
		return ATR_ENOMEM;
	}
	a->team_rows = items;
	json_array_foreach(items, i, it)
	{
		struct atr_sched_team *t = &a->teams[a->nteams++];
		const json_t *g = json_object_get(it, "max_gpus"), *mj = json_object_get(it, "max_concurrent_jobs");
		t->id = atr_json_int(it, "id", 0);
		t->name = json_string_value(json_object_get(it, "name"));
		t->max_gpus = json_is_integer(g) ? json_integer_value(g) : -1;
		t->max_jobs = json_is_integer(mj) ? json_integer_value(mj) : -1;
		t->weight = 1;
		t->recent_gpu_hours = with_usage ? recent_gpu_hours(e, t->id, now) : 0;
	}
	return 0;
}

static void pass_arrays_release(struct pass_arrays *a)
{
	free(a->jobs);
	free(a->workers);
	free(a->teams);
	json_decref(a->team_rows);
}

/* The planner's input; with_jobs: the queued jobs too and what the active ones hold (a
 * feasibility check needs only the workers and the teams' quotas). */
static int build_pass(struct atr_engine *e, struct pass_arrays *a, bool with_jobs)
{
	int nw = 0;
	int64_t now = atr_now_ms();
	size_t nj = with_jobs ? (size_t)e->nqueued : 0;

	memset(a, 0, sizeof(*a));
	for (struct eng_worker *w = e->workers; w; w = w->next)
		nw++;
	a->jobs = calloc(nj + 1, sizeof(*a->jobs));
	a->workers = calloc((size_t)nw + 1, sizeof(*a->workers));
	if (!a->jobs || !a->workers || load_teams(e, a, with_jobs) < 0)
		return ATR_ENOMEM;
	for (struct eng_worker *w = e->workers; w; w = w->next) {
		struct atr_sched_worker *s = &a->workers[a->nworkers++];
		s->id = w->id;
		s->name = w->name;
		s->online = w->online;
		s->schedulable = w->schedulable && w->suspect_until <= now && w->url[0] && w->nonce;
		s->labels = w->labels;
		s->nlabels = w->nlabels;
		for (int g = 0; g < w->ngpus; g++)
			w->gpus[g].allocated = w->gpu_alloc[g];
		s->gpus = w->gpus;
		s->ngpus = w->ngpus;
		s->cpus = w->cpus;
		s->memory_mb = w->memory_mb;
		s->cpus_allocated = w->cpus_alloc;
		s->memory_allocated_mb = w->memory_alloc;
	}
	for (int i = 0; with_jobs && i < a->nteams; i++) {
		const struct eng_team_hold *h = eng_team_hold(e, a->teams[i].id);
		a->teams[i].gpus_used = h ? h->gpus : 0;
		a->teams[i].jobs_running = h ? h->jobs : 0;
	}
	for (struct eng_job *j = with_jobs ? e->qhead : NULL; j; j = j->qnext) {
		struct atr_sched_team *t = j->row.team_id ? team_slot(a, j->row.team_id) : NULL;
		struct atr_sched_job *s;

		if (j->row.not_before > now)
			continue; /* held: its previous attempt may still run (hold_reason) */
		s = &a->jobs[a->njobs++];

		s->id = j->row.id;
		s->team_id = t ? j->row.team_id : 0;
		s->priority = j->row.priority;
		s->submitted_at = j->row.queued_at;
		s->gpus = j->row.gpus;
		s->gpu_type = j->row.gpu_type[0] ? j->row.gpu_type : NULL;
		s->cpus = j->row.cpus;
		s->memory_mb = j->row.memory_mb;
		s->selector = j->sel;
		s->nselector = j->nsel;
	}
	return 0;
}

/* A held job's pending reason (see atr_engine_worker_gone). */
static void hold_reason(struct atr_engine *e, struct eng_job *j)
{
	char when[40], reason[sizeof(j->reason)];

	atr_time_format(j->row.not_before, when, sizeof(when));
	snprintf(
		reason, sizeof(reason),
		"held until %s: its previous attempt may still run on a lost worker until that worker's agent stops it",
		when);
	if (strcmp(j->reason, reason) != 0) {
		atr_copy(j->reason, sizeof(j->reason), reason);
		atr_store_job_set_pending(e->o.store, j->row.id, j->reason);
	}
}

static void place(struct atr_engine *e, struct eng_job *j, const struct atr_sched_placement *pl)
{
	struct atr_job_change c = { .worker_id = pl->worker_id,
				    .gpus = pl->gpus,
				    .ngpus = pl->ngpus,
				    .attempts = j->row.attempts + 1,
				    .message = NULL };
	struct eng_worker *w = eng_worker_find(e, pl->worker_id);
	char msg[160];

	snprintf(msg, sizeof(msg), "placed on worker '%s'", w ? w->name : "?");
	c.message = msg;
	if (eng_move(e, j, ATR_JOB_DISPATCHED, &c) < 0)
		return;
	eng_dispatch_send(e, j);
}

static void run_pass(struct atr_engine *e)
{
	struct pass_arrays a;
	struct atr_sched_plan plan;
	struct atr_sched_input in;
	uint64_t t0 = atr_mono_us();

	e->pass_scheduled = false;
	if (e->closing)
		return;
	if (e->nqueued == 0) { /* nothing waits */
		e->last_pass_us = atr_mono_us();
		return;
	}
	if (build_pass(e, &a, true) < 0 || a.njobs == 0) {
		for (struct eng_job *j = e->qhead; j; j = j->qnext)
			if (j->row.not_before > atr_now_ms())
				hold_reason(e, j);
		pass_arrays_release(&a);
		e->last_pass_us = atr_mono_us();
		return;
	}
	in = (struct atr_sched_input){ .jobs = a.jobs,
				       .njobs = a.njobs,
				       .workers = a.workers,
				       .nworkers = a.nworkers,
				       .teams = a.teams,
				       .nteams = a.nteams,
				       .window_hours = FAIR_SHARE_WINDOW_H };
	if (atr_sched_plan(&in, &plan) < 0) {
		pass_arrays_release(&a);
		atr_error("scheduling pass failed");
		return;
	}
	/* One transaction for the whole pass: placements and reasons commit together. */
	atr_store_begin(e->o.store);
	for (int i = 0; i < plan.nplacements; i++) {
		struct eng_job *j = eng_job_find(e, plan.placements[i].job_id);
		if (j && j->row.state == ATR_JOB_QUEUED)
			place(e, j, &plan.placements[i]);
	}
	for (struct eng_job *j = e->qhead; j; j = j->qnext)
		if (j->row.not_before > atr_now_ms())
			hold_reason(e, j);
	for (int i = 0; i < plan.npending; i++) {
		struct eng_job *j = eng_job_find(e, plan.pending[i].job_id);
		if (j && j->row.state == ATR_JOB_QUEUED && strcmp(j->reason, plan.pending[i].reason) != 0) {
			atr_copy(j->reason, sizeof(j->reason), plan.pending[i].reason);
			atr_store_job_set_pending(e->o.store, j->row.id, j->reason);
		}
	}
	if (atr_store_commit(e->o.store) < 0)
		atr_error("could not record a scheduling pass");
	atr_sched_plan_release(&plan);
	pass_arrays_release(&a);
	e->last_pass_us = atr_mono_us();
	e->last_pass_cost_us = e->last_pass_us - t0;
}

static void on_pass(uv_timer_t *t)
{
	run_pass(t->data);
}

void atr_engine_kick(struct atr_engine *e)
{
	uint64_t now, gap, since;

	if (e->pass_scheduled || e->closing)
		return;
	/* Space passes by twice their cost (at most 20 ms): bursts coalesce, latency stays low. */
	now = atr_mono_us();
	gap = e->last_pass_cost_us * 2;
	if (gap > 20000)
		gap = 20000;
	since = now - e->last_pass_us;
	e->pass_scheduled = true;
	uv_timer_start(&e->pass_timer, on_pass, since >= gap ? 0 : (gap - since + 999) / 1000, 0);
}

void atr_job_spec_limits(struct atr_job_spec *spec, const json_t *body)
{
	const json_t *res = json_object_get(body, "resources");

	spec->gpus = (int)atr_json_int(res, "gpus", 0);
	spec->gpu_type = atr_json_str(res, "gpu_type", NULL);
	spec->cpus = (int)atr_json_int(res, "cpus", 0);
	spec->memory_mb = atr_json_int(res, "memory_mb", 0);
	spec->priority = (int)atr_json_int(body, "priority", 0);
	spec->max_attempts = (int)atr_json_int(body, "max_attempts", 3);
	spec->timeout_s = atr_json_int(body, "timeout_s", 0);
}

bool atr_engine_feasible(struct atr_engine *e, const struct atr_job_spec *spec, char *why, size_t whylen)
{
	struct atr_sched_job job = { 0 };
	struct atr_sched_label sel[ENG_MAX_LABELS];
	struct pass_arrays a;
	struct atr_sched_team *team = NULL;
	const char *k;
	json_t *v;
	bool ok;

	job.gpus = spec->gpus;
	job.gpu_type = spec->gpu_type && *spec->gpu_type ? spec->gpu_type : NULL;
	job.cpus = spec->cpus;
	job.memory_mb = spec->memory_mb;
	json_object_foreach((json_t *)spec->labels, k, v)
	{
		if (job.nselector < ENG_MAX_LABELS) {
			sel[job.nselector].key = k;
			sel[job.nselector].value = json_string_value(v);
			job.nselector++;
		}
	}
	job.selector = sel;
	if (build_pass(e, &a, false) < 0) {
		pass_arrays_release(&a);
		snprintf(why, whylen, "the scheduler is not available");
		return false;
	}
	if (spec->team_id)
		team = team_slot(&a, spec->team_id);
	job.team_id = team ? team->id : 0;
	ok = atr_sched_feasible(&job, team, a.workers, a.nworkers, why, whylen);
	pass_arrays_release(&a);
	return ok;
}
