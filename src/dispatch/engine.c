/*
 * engine.c: the job engine's model and decisions. Active jobs and workers live in memory;
 * every change of a job's state is applied to the store first (a job_events row each) and
 * then mirrored here. Scheduling passes are coalesced on a timer and spaced by their own
 * cost, so a burst of submissions is placed in a few passes, not one per request.
 * Not here: HTTP to workers (dispatch.c), waiters and followers (watch.c), REST (api/jobs.c).
 */
#include "atrium/app.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/metrics.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_identity.h"
#include "atrium/store_models.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"
#include "atrium/worker_secret.h"
#include "atrium/auth.h"
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DISPATCH_GRACE_MS 15000 /* a dispatched job the worker never mentions is lost after this */
#define FAIR_SHARE_WINDOW_H 24.0

/* ---- lookups ---- */

static unsigned bucket(int64_t id)
{
	return (unsigned)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 32) & (ENG_BUCKETS - 1);
}

struct eng_job *eng_job_find(struct atr_engine *e, int64_t id)
{
	for (struct eng_job *j = e->buckets[bucket(id)]; j; j = j->hnext)
		if (j->row.id == id)
			return j;
	return NULL;
}

struct eng_worker *eng_worker_find(struct atr_engine *e, int64_t id)
{
	for (struct eng_worker *w = e->workers; w; w = w->next)
		if (w->id == id)
			return w;
	return NULL;
}

/* ---- workers ---- */

static void worker_release(struct eng_worker *w)
{
	json_decref(w->labels_json);
	w->labels_json = NULL;
}

/* Fills w (keeping its allocations) from the registry's JSON object. */
static void worker_from_json(struct atr_engine *e, struct eng_worker *w, const json_t *o)
{
	const char *k;
	json_t *v;
	size_t i;
	int64_t nonce = 0;

	worker_release(w);
	w->id = atr_json_int(o, "id", 0);
	snprintf(w->name, sizeof(w->name), "%s", atr_json_str(o, "name", ""));
	snprintf(w->url, sizeof(w->url), "%s", atr_json_str(o, "url", ""));
	w->online = strcmp(atr_json_str(o, "state", ""), "online") == 0;
	w->schedulable = atr_json_bool(o, "schedulable", false);
	w->cpus = (int)atr_json_int(o, "cpus", 0);
	w->memory_mb = atr_json_int(o, "memory_mb", 0);
	w->labels_json = json_incref(json_object_get(o, "labels"));
	w->nlabels = 0;
	json_object_foreach(w->labels_json, k, v) {
		if (w->nlabels < ENG_MAX_LABELS && json_is_string(v)) {
			w->labels[w->nlabels].key = k;
			w->labels[w->nlabels].value = json_string_value(v);
			w->nlabels++;
		}
	}
	w->ngpus = 0;
	json_array_foreach(json_object_get(o, "gpus"), i, v) {
		struct atr_sched_gpu *g;
		if (w->ngpus >= ATR_SCHED_MAX_GPUS)
			break;
		g = &w->gpus[w->ngpus];
		g->index = (int)atr_json_int(v, "index", w->ngpus);
		snprintf(w->gpu_names[w->ngpus], sizeof(w->gpu_names[0]), "%s", atr_json_str(v, "name", ""));
		g->name = w->gpu_names[w->ngpus];
		g->busy = atr_json_bool(v, "busy", false);
		w->ngpus++;
	}
	if (atr_store_worker_nonce(e->app->store, w->id, &nonce) == 0)
		api_worker_secret(e->app, w->id, nonce, w->secret);
}

/* Reloads a worker from the registry; a deleted one leaves memory (NULL). */
static struct eng_worker *worker_load(struct atr_engine *e, int64_t id)
{
	struct eng_worker *w = eng_worker_find(e, id);
	json_t *o;
	int err;

	o = atr_store_worker_json(e->app->store, id, &err);
	if (!o) {
		if (w && err == ATR_ENOTFOUND) {
			struct eng_worker **pp = &e->workers;
			while (*pp != w)
				pp = &(*pp)->next;
			*pp = w->next;
			worker_release(w);
			free(w);
		}
		return NULL;
	}
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w) {
			json_decref(o);
			return NULL;
		}
		w->next = e->workers;
		e->workers = w;
	}
	worker_from_json(e, w, o);
	json_decref(o);
	return w;
}

static void workers_load_all(struct atr_engine *e)
{
	struct atr_page p = {.limit = 500};
	for (;;) {
		json_t *items = json_array(), *it;
		bool more = false;
		size_t i;
		if (!items || atr_store_worker_list(e->app->store, NULL, -1, &p, items, &more) < 0) {
			json_decref(items);
			return;
		}
		json_array_foreach(items, i, it) {
			struct eng_worker *w = calloc(1, sizeof(*w));
			if (!w)
				break;
			worker_from_json(e, w, it);
			w->next = e->workers;
			e->workers = w;
			p.after_id = w->id;
		}
		json_decref(items);
		if (!more)
			return;
	}
}

static void allocate(struct eng_worker *w, const struct eng_job *j, int sign)
{
	if (!w)
		return;
	for (int i = 0; i < j->row.nassigned; i++)
		for (int g = 0; g < w->ngpus; g++)
			if (w->gpus[g].index == j->row.assigned[i])
				w->gpu_alloc[g] = sign > 0;
	w->cpus_alloc += sign * j->row.cpus;
	w->memory_alloc += sign * j->row.memory_mb;
}

/* ---- jobs in memory ---- */

static void job_index(struct atr_engine *e, struct eng_job *j)
{
	const char *k;
	json_t *v;
	unsigned b = bucket(j->row.id);

	j->hnext = e->buckets[b];
	e->buckets[b] = j;
	j->prev = e->tail;
	if (e->tail)
		e->tail->next = j;
	else
		e->head = j;
	e->tail = j;
	e->njobs++;
	j->nsel = 0;
	json_object_foreach(j->row.labels, k, v) {
		if (j->nsel < ENG_MAX_LABELS && json_is_string(v)) {
			j->sel[j->nsel].key = k;
			j->sel[j->nsel].value = json_string_value(v);
			j->nsel++;
		}
	}
}

static void job_unindex(struct atr_engine *e, struct eng_job *j)
{
	struct eng_job **pp = &e->buckets[bucket(j->row.id)];
	while (*pp && *pp != j)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = j->hnext;
	if (j->prev)
		j->prev->next = j->next;
	else
		e->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		e->tail = j->prev;
	e->njobs--;
}

static void job_free(struct eng_job *j)
{
	eng_dispatch_abort(j);
	json_decref(j->row.labels);
	free(j);
}

static int take_row(const struct atr_job_row *row, void *cls)
{
	struct atr_engine *e = cls;
	struct eng_job *j = calloc(1, sizeof(*j));

	if (!j)
		return ATR_ENOMEM;
	j->row = *row;
	j->row.labels = json_incref(row->labels);
	j->dispatched_ms = row->dispatched_at;
	job_index(e, j);
	if (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING)
		allocate(eng_worker_find(e, j->row.worker_id), j, 1);
	return 0;
}

/* ---- state changes ---- */

static void revoke_job_token(struct atr_engine *e, int64_t job_id)
{
	atr_store_token_revoke_scope(e->app->store, "job", job_id);
	atr_auth_invalidate(e->app->auth);
}

/*
 * Moves j to `to` in the store, then here. A job leaving a worker frees what it held; a
 * terminal job leaves memory (j is freed). Returns <0 when the store refused (then j is
 * reloaded from the store, which is the truth).
 */
static int move(struct atr_engine *e, struct eng_job *j, enum atr_job_state to, const struct atr_job_change *extra)
{
	struct atr_job_change c = {.from = j->row.state, .to = to, .attempts = -1};
	int64_t id = j->row.id;
	bool leaves_worker;
	int rc;

	if (extra) {
		c.worker_id = extra->worker_id;
		c.gpus = extra->gpus;
		c.ngpus = extra->ngpus;
		c.attempts = extra->attempts;
		c.set_exit = extra->set_exit;
		c.exit_code = extra->exit_code;
		c.message = extra->message;
	}
	rc = atr_store_job_transition(e->app->store, id, &c);
	if (rc < 0) {
		atr_warn("job %lld: could not move %s -> %s", (long long)id, atr_job_state_name(c.from),
			 atr_job_state_name(to));
		return rc;
	}
	leaves_worker = (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING) &&
			to != ATR_JOB_RUNNING && to != ATR_JOB_DISPATCHED;
	if (leaves_worker) {
		allocate(eng_worker_find(e, j->row.worker_id), j, -1);
		eng_dispatch_abort(j);
	}
	j->row.state = to;
	if (c.attempts >= 0)
		j->row.attempts = c.attempts;
	if (to == ATR_JOB_DISPATCHED) {
		j->row.worker_id = c.worker_id;
		memcpy(j->row.assigned, c.gpus, sizeof(int) * (size_t)c.ngpus);
		j->row.nassigned = c.ngpus;
		j->dispatched_ms = atr_now_ms();
		j->reason[0] = 0;
		allocate(eng_worker_find(e, j->row.worker_id), j, 1);
	} else if (to == ATR_JOB_QUEUED) {
		j->row.worker_id = 0;
		j->row.nassigned = 0;
		j->row.queued_at = atr_now_ms();
		j->dispatch_unknown = false;
		revoke_job_token(e, id);
	}
	if (atr_job_state_terminal(to)) {
		job_unindex(e, j);
		job_free(j);
	}
	eng_notify(e, id, to, false);
	atr_engine_kick(e);
	return 0;
}

/* What a job leaves behind when it ends: its token, its run's status, its outputs. */
static void settle(struct atr_engine *e, int64_t id, int64_t run_id, enum atr_job_state to)
{
	revoke_job_token(e, id);
	if (run_id > 0)
		atr_store_job_run_finish(e->app->store, run_id,
					 to == ATR_JOB_SUCCEEDED ? "finished" : to == ATR_JOB_CANCELLED ? "killed" : "failed");
}

/* On success with outputs.model: the job's uploaded files become a committed model version. */
static int publish_outputs(struct atr_engine *e, int64_t id, const char **why)
{
	int err;
	json_t *job = atr_store_job_json(e->app->store, id, &err), *outs;
	const char *model, *dataset;
	char actor[32];
	int64_t project_id = 0, run_id;
	int rc = 0;

	if (!job)
		return err;
	outs = json_object_get(job, "outputs");
	model = atr_json_str(outs, "model", NULL);
	dataset = atr_json_str(outs, "dataset", NULL);
	run_id = atr_json_int(job, "run_id", 0);
	snprintf(actor, sizeof(actor), "job:%lld", (long long)id);
	if (model || dataset) {
		struct atr_job_row row;
		if ((rc = atr_store_job_row(e->app->store, id, &row)) == 0) {
			project_id = row.project_id;
			json_decref(row.labels);
		}
	}
	if (rc == 0 && model) {
		struct atr_model m;
		struct atr_model_version v;
		struct atr_model_version_spec spec = {.source_run_id = run_id, .source_job_id = id, .actor = actor,
						      .copy_from_kind = "job_output", .copy_from_id = id, .commit = true,
						      .description = atr_json_str(job, "name", "")};
		rc = atr_store_model_find_or_create(e->app->store, project_id, model, actor, &m);
		spec.model_id = m.id;
		if (rc == 0)
			rc = atr_store_model_version_create(e->app->store, &spec, &v);
		if (rc == 0)
			rc = atr_store_job_set_outputs(e->app->store, id, v.id, 0);
		if (rc < 0)
			*why = "could not register the output model version";
	}
	if (rc == 0 && dataset) {
		int64_t ds_id;
		struct atr_dataset_version v;
		rc = atr_store_dataset_find(e->app->store, project_id, dataset, &ds_id);
		if (rc == ATR_ENOTFOUND)
			rc = atr_store_dataset_create(e->app->store, project_id, dataset, "", NULL, 0, &ds_id);
		if (rc == 0)
			rc = atr_store_dsv_create(e->app->store, ds_id, atr_json_str(job, "name", ""), 0, id, 0, &v);
		if (rc == 0)
			rc = atr_store_files_copy(e->app->store, "job_output", id, "dataset_version", v.id);
		if (rc == 0)
			rc = atr_store_dsv_commit(e->app->store, v.id, -1, NULL, NULL);
		if (rc == 0)
			rc = atr_store_job_set_outputs(e->app->store, id, 0, v.id);
		if (rc < 0)
			*why = "could not register the output dataset version";
	}
	json_decref(job);
	return rc;
}

/* A lost job goes back to the queue while attempts remain; else it fails (or, when a cancel
 * was asked for, it is cancelled). */
static void requeue_or_fail(struct atr_engine *e, struct eng_job *j, const char *requeue_msg)
{
	struct atr_job_change c = {.attempts = -1, .message = requeue_msg};
	int64_t id = j->row.id, run = j->row.run_id;
	enum atr_job_state to;

	if (j->row.attempts < j->row.max_attempts && !j->row.cancel_requested) {
		move(e, j, ATR_JOB_QUEUED, &c);
		return;
	}
	to = j->row.cancel_requested ? ATR_JOB_CANCELLED : ATR_JOB_FAILED;
	c.message = to == ATR_JOB_CANCELLED ? "cancelled: its worker was lost"
					    : "failed: its worker was lost and no attempts remain";
	if (move(e, j, to, &c) == 0)
		settle(e, id, run, to);
}

/* A job whose worker vanished: lost, then requeued or failed. */
static void lose(struct atr_engine *e, struct eng_job *j, const char *why)
{
	struct atr_job_change c = {.message = why, .attempts = -1};

	if (move(e, j, ATR_JOB_LOST, &c) == 0)
		requeue_or_fail(e, j, "requeued after its worker was lost");
}

/* ---- dispatch results (from dispatch.c) ---- */

void eng_dispatch_accepted(struct atr_engine *e, struct eng_job *j)
{
	j->dispatch_unknown = false;
	if (j->row.state != ATR_JOB_DISPATCHED)
		return;
	move(e, j, ATR_JOB_RUNNING, NULL);
	if (j->row.cancel_requested)
		eng_dispatch_cancel(e, j);
}

void eng_dispatch_failed(struct atr_engine *e, struct eng_job *j, const char *why, bool worker_suspect)
{
	struct atr_job_change c = {.message = why};
	struct eng_worker *w = eng_worker_find(e, j->row.worker_id);

	if (worker_suspect && w) {
		w->suspect_until = atr_now_ms() + 30000;
		atr_warn("worker '%s' did not take job %lld (%s); not offered jobs for 30 s", w->name,
			 (long long)j->row.id, why);
	}
	if (j->row.state != ATR_JOB_DISPATCHED)
		return;
	/* Never started: the attempt is given back. */
	c.attempts = j->row.attempts > 0 ? j->row.attempts - 1 : 0;
	if (j->row.cancel_requested) {
		int64_t id = j->row.id, run = j->row.run_id;
		c.message = "cancelled before it started";
		move(e, j, ATR_JOB_CANCELLED, &c);
		settle(e, id, run, ATR_JOB_CANCELLED);
		return;
	}
	move(e, j, ATR_JOB_QUEUED, &c);
}

void eng_dispatch_rejected(struct atr_engine *e, struct eng_job *j, const char *why)
{
	struct atr_job_change c = {.message = why, .attempts = -1};
	int64_t id = j->row.id, run = j->row.run_id;

	if (j->row.state != ATR_JOB_DISPATCHED)
		return;
	if (move(e, j, ATR_JOB_FAILED, &c) == 0)
		settle(e, id, run, ATR_JOB_FAILED);
}

/* ---- scheduling ---- */

struct pass_arrays {
	struct atr_sched_job *jobs;
	struct eng_job **jobrefs;
	struct atr_sched_worker *workers;
	struct atr_sched_team *teams;
	int njobs, nworkers, nteams;
};

static struct atr_sched_team *team_slot(struct pass_arrays *a, int64_t team_id)
{
	for (int i = 0; i < a->nteams; i++)
		if (a->teams[i].id == team_id)
			return &a->teams[i];
	return NULL;
}

static int load_teams(struct atr_engine *e, struct pass_arrays *a)
{
	struct atr_page p = {.limit = 1000};
	json_t *items = json_array(), *it;
	bool more;
	size_t i;
	int64_t since = atr_now_ms() - (int64_t)(FAIR_SHARE_WINDOW_H * 3600000.0);

	if (!items || atr_store_team_list(e->app->store, &p, items, &more) < 0) {
		json_decref(items);
		return ATR_EDB;
	}
	a->teams = calloc(json_array_size(items) + 1, sizeof(*a->teams));
	if (!a->teams) {
		json_decref(items);
		return ATR_ENOMEM;
	}
	json_array_foreach(items, i, it) {
		struct atr_sched_team *t = &a->teams[a->nteams++];
		const json_t *g = json_object_get(it, "max_gpus"), *mj = json_object_get(it, "max_concurrent_jobs");
		t->id = atr_json_int(it, "id", 0);
		t->name = NULL; /* reasons name teams by id lookups below */
		t->max_gpus = json_is_integer(g) ? json_integer_value(g) : -1;
		t->max_jobs = json_is_integer(mj) ? json_integer_value(mj) : -1;
		t->weight = 1;
		atr_store_team_gpu_hours(e->app->store, since, t->id, &t->recent_gpu_hours);
	}
	json_decref(items);
	return 0;
}

static void pass_arrays_release(struct pass_arrays *a)
{
	free(a->jobs);
	free(a->jobrefs);
	free(a->workers);
	free(a->teams);
}

static int build_pass(struct atr_engine *e, struct pass_arrays *a)
{
	int nw = 0;
	int64_t now = atr_now_ms();

	memset(a, 0, sizeof(*a));
	for (struct eng_worker *w = e->workers; w; w = w->next)
		nw++;
	a->jobs = calloc((size_t)e->njobs + 1, sizeof(*a->jobs));
	a->jobrefs = calloc((size_t)e->njobs + 1, sizeof(*a->jobrefs));
	a->workers = calloc((size_t)nw + 1, sizeof(*a->workers));
	if (!a->jobs || !a->jobrefs || !a->workers || load_teams(e, a) < 0)
		return ATR_ENOMEM;
	for (struct eng_worker *w = e->workers; w; w = w->next) {
		struct atr_sched_worker *s = &a->workers[a->nworkers++];
		s->id = w->id;
		s->name = w->name;
		s->online = w->online;
		s->schedulable = w->schedulable && w->suspect_until <= now && w->url[0] && w->secret[0];
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
	for (struct eng_job *j = e->head; j; j = j->next) {
		struct atr_sched_team *t = j->row.team_id ? team_slot(a, j->row.team_id) : NULL;
		if (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING) {
			if (t) {
				t->gpus_used += j->row.gpus;
				t->jobs_running++;
			}
			continue;
		}
		if (j->row.state != ATR_JOB_QUEUED)
			continue;
		struct atr_sched_job *s = &a->jobs[a->njobs];
		a->jobrefs[a->njobs++] = j;
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

static struct eng_job *ref_of(struct pass_arrays *a, int64_t id)
{
	for (int i = 0; i < a->njobs; i++)
		if (a->jobrefs[i]->row.id == id)
			return a->jobrefs[i];
	return NULL;
}

static void place(struct atr_engine *e, struct eng_job *j, const struct atr_sched_placement *pl)
{
	struct atr_job_change c = {.worker_id = pl->worker_id, .gpus = pl->gpus, .ngpus = pl->ngpus,
				   .attempts = j->row.attempts + 1, .message = NULL};
	struct eng_worker *w = eng_worker_find(e, pl->worker_id);
	char msg[160];

	snprintf(msg, sizeof(msg), "placed on worker '%s'", w ? w->name : "?");
	c.message = msg;
	if (move(e, j, ATR_JOB_DISPATCHED, &c) < 0)
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
	if (build_pass(e, &a) < 0 || a.njobs == 0) {
		pass_arrays_release(&a);
		e->last_pass_us = atr_mono_us();
		return;
	}
	in = (struct atr_sched_input){.jobs = a.jobs, .njobs = a.njobs, .workers = a.workers, .nworkers = a.nworkers,
				      .teams = a.teams, .nteams = a.nteams, .window_hours = FAIR_SHARE_WINDOW_H};
	if (atr_sched_plan(&in, &plan) < 0) {
		pass_arrays_release(&a);
		atr_error("scheduling pass failed");
		return;
	}
	/* One transaction for the whole pass: placements and reasons commit together. */
	atr_store_begin(e->app->store);
	for (int i = 0; i < plan.nplacements; i++) {
		struct eng_job *j = ref_of(&a, plan.placements[i].job_id);
		if (j && j->row.state == ATR_JOB_QUEUED)
			place(e, j, &plan.placements[i]);
	}
	for (int i = 0; i < plan.npending; i++) {
		struct eng_job *j = eng_job_find(e, plan.pending[i].job_id);
		if (j && j->row.state == ATR_JOB_QUEUED && strcmp(j->reason, plan.pending[i].reason) != 0) {
			snprintf(j->reason, sizeof(j->reason), "%s", plan.pending[i].reason);
			atr_store_job_set_pending(e->app->store, j->row.id, j->reason);
		}
	}
	if (atr_store_commit(e->app->store) < 0)
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

/* Every second: a pass (pending reasons age, suspect workers return) and dispatch timeouts. */
static void on_tick(uv_timer_t *t)
{
	struct atr_engine *e = t->data;
	int64_t now = atr_now_ms();
	struct eng_job *j = e->head, *next;

	for (; j; j = next) {
		next = j->next;
		/* Sent, never confirmed, and the worker's heartbeats do not mention it. */
		if (j->row.state == ATR_JOB_DISPATCHED && !j->xfer && !j->retry &&
		    now - j->dispatched_ms > DISPATCH_GRACE_MS)
			eng_dispatch_failed(e, j, "the worker never confirmed the job", false);
	}
	atr_engine_kick(e);
}

/* ---- public ---- */

static void render_metrics(void *cls, struct atr_buf *out)
{
	struct atr_engine_counts c;
	atr_engine_counts(cls, &c);
	atr_buf_puts(out, "# HELP atrium_jobs Active jobs by state.\n# TYPE atrium_jobs gauge\n");
	for (int s = 0; s < ATR_JOB_NSTATES; s++)
		if (atr_job_state_active((enum atr_job_state)s))
			atr_buf_printf(out, "atrium_jobs{state=\"%s\"} %lld\n", atr_job_state_name((enum atr_job_state)s),
				       (long long)c.by_state[s]);
	atr_buf_printf(out,
		       "# HELP atrium_jobs_oldest_queued_seconds Age of the oldest queued job.\n"
		       "# TYPE atrium_jobs_oldest_queued_seconds gauge\natrium_jobs_oldest_queued_seconds %.3f\n"
		       "# HELP atrium_gpus_allocated GPUs held by dispatched and running jobs.\n"
		       "# TYPE atrium_gpus_allocated gauge\natrium_gpus_allocated %lld\n",
		       c.queued_oldest_ms ? (double)(atr_now_ms() - c.queued_oldest_ms) / 1000.0 : 0.0,
		       (long long)c.gpus_allocated);
}

int atr_engine_new(struct atr_app *app, struct atr_engine **out)
{
	struct atr_engine *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return ATR_ENOMEM;
	e->app = app;
	uv_timer_init(app->loop, &e->pass_timer);
	uv_timer_init(app->loop, &e->tick);
	e->pass_timer.data = e->tick.data = e;
	workers_load_all(e);
	rc = atr_store_jobs_active(app->store, take_row, e);
	if (rc < 0) {
		atr_engine_free(e);
		return rc;
	}
	/* Jobs left lost by an earlier run (it stopped between the two steps): settle them. */
	for (struct eng_job *j = e->head, *next; j; j = next) {
		next = j->next;
		if (j->row.state == ATR_JOB_LOST)
			requeue_or_fail(e, j, "requeued after a restart");
	}
	uv_unref((uv_handle_t *)&e->tick);
	uv_timer_start(&e->tick, on_tick, 1000, 1000);
	if (app->metrics)
		atr_metrics_add_source(app->metrics, render_metrics, e);
	*out = e;
	atr_info("job engine: %lld active jobs, %s workers known", (long long)e->njobs, e->workers ? "some" : "no");
	atr_engine_kick(e);
	return 0;
}

static void on_engine_closed(uv_handle_t *h)
{
	struct atr_engine *e = h->data;
	if (--e->closing > 1)
		return;
	free(e);
}

void atr_engine_free(struct atr_engine *e)
{
	if (!e)
		return;
	while (e->head) {
		struct eng_job *j = e->head;
		job_unindex(e, j);
		job_free(j);
	}
	while (e->workers) {
		struct eng_worker *w = e->workers;
		e->workers = w->next;
		worker_release(w);
		free(w);
	}
	eng_watches_free(e);
	e->closing = 3; /* two handles to close; 1 means "closing, nothing left" */
	uv_close((uv_handle_t *)&e->pass_timer, on_engine_closed);
	uv_close((uv_handle_t *)&e->tick, on_engine_closed);
}

bool atr_engine_feasible(struct atr_engine *e, const struct atr_job_spec *spec, char *why, size_t whylen)
{
	struct atr_sched_job job = {0};
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
	json_object_foreach((json_t *)spec->labels, k, v) {
		if (job.nselector < ENG_MAX_LABELS) {
			sel[job.nselector].key = k;
			sel[job.nselector].value = json_string_value(v);
			job.nselector++;
		}
	}
	job.selector = sel;
	if (build_pass(e, &a) < 0) {
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

int atr_engine_job_added(struct atr_engine *e, int64_t job_id)
{
	struct atr_job_row row;
	int rc = atr_store_job_row(e->app->store, job_id, &row);

	if (rc < 0)
		return rc;
	rc = take_row(&row, e);
	json_decref(row.labels);
	atr_engine_kick(e);
	return rc;
}

int atr_engine_cancel(struct atr_engine *e, int64_t job_id)
{
	struct eng_job *j = eng_job_find(e, job_id);
	struct atr_job_change c = {.attempts = -1, .message = "cancelled by request"};
	int rc;

	if (!j)
		return ATR_ECONFLICT; /* not active: ended (or unknown; the caller checked it exists) */
	if (j->row.state == ATR_JOB_QUEUED || j->row.state == ATR_JOB_LOST) {
		int64_t run = j->row.run_id;
		rc = move(e, j, ATR_JOB_CANCELLED, &c);
		if (rc == 0)
			settle(e, job_id, run, ATR_JOB_CANCELLED);
		return rc;
	}
	rc = atr_store_job_request_cancel(e->app->store, job_id);
	if (rc < 0)
		return rc;
	j->row.cancel_requested = true;
	eng_dispatch_cancel(e, j);
	eng_notify(e, job_id, j->row.state, false);
	return 0;
}

void atr_engine_worker_changed(struct atr_engine *e, int64_t worker_id, bool registered_again)
{
	struct eng_worker *w;

	if (registered_again) {
		/* A new registration under a known name: the processes of the old one are gone. */
		for (struct eng_job *j = e->head, *next; j; j = next) {
			next = j->next;
			if (j->row.worker_id == worker_id &&
			    (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING))
				lose(e, j, "lost: its worker registered again");
		}
	}
	w = worker_load(e, worker_id);
	if (w && !w->online)
		atr_engine_worker_gone(e, worker_id, "lost: its worker went offline");
	atr_engine_kick(e);
}

void atr_engine_worker_gone(struct atr_engine *e, int64_t worker_id, const char *why)
{
	for (struct eng_job *j = e->head, *next; j; j = next) {
		next = j->next;
		if (j->row.worker_id == worker_id &&
		    (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING))
			lose(e, j, why);
	}
	worker_load(e, worker_id);
	atr_engine_kick(e);
}

static bool listed(const json_t *running, int64_t id)
{
	size_t i;
	json_t *v;
	json_array_foreach(running, i, v)
		if (json_integer_value(v) == id)
			return true;
	return false;
}

json_t *atr_engine_heartbeat(struct atr_engine *e, int64_t worker_id, const json_t *running)
{
	json_t *cancel = json_array();
	int64_t now = atr_now_ms();
	size_t i;
	json_t *v;

	worker_load(e, worker_id);
	for (struct eng_job *j = e->head, *next; j; j = next) {
		next = j->next;
		if (j->row.worker_id != worker_id ||
		    (j->row.state != ATR_JOB_DISPATCHED && j->row.state != ATR_JOB_RUNNING))
			continue;
		if (listed(running, j->row.id)) {
			if (j->row.state == ATR_JOB_DISPATCHED && !j->xfer)
				eng_dispatch_accepted(e, j); /* the answer was lost, the job runs */
			else if (j->row.cancel_requested)
				json_array_append_new(cancel, json_integer(j->row.id));
			continue;
		}
		if (j->row.state == ATR_JOB_RUNNING || now - j->dispatched_ms > DISPATCH_GRACE_MS)
			lose(e, j, "lost: its worker no longer has it");
	}
	/* Jobs the worker holds that are not (or no longer) its to run: stop them. */
	json_array_foreach(running, i, v) {
		struct eng_job *j = eng_job_find(e, json_integer_value(v));
		if (!j || j->row.worker_id != worker_id)
			json_array_append_new(cancel, json_integer(json_integer_value(v)));
	}
	return cancel;
}

bool atr_engine_job_is_on(struct atr_engine *e, int64_t job_id, int64_t worker_id)
{
	struct eng_job *j = eng_job_find(e, job_id);
	struct atr_job_row row;
	bool on;

	if (j)
		return j->row.worker_id == worker_id;
	/* Ended: its last worker may still ship the tail of its log and its report. */
	if (atr_store_job_row(e->app->store, job_id, &row) < 0)
		return false;
	on = row.worker_id == worker_id;
	json_decref(row.labels);
	return on;
}

int atr_engine_report(struct atr_engine *e, const struct atr_job_report *rep)
{
	struct eng_job *j = eng_job_find(e, rep->job_id);
	struct atr_job_change c = {.attempts = -1};
	enum atr_job_state to;
	char msg[600];
	const char *why = NULL;
	int64_t id = rep->job_id, run;
	int rc;

	if (!j || j->row.worker_id != rep->worker_id || j->row.attempts != rep->attempt ||
	    (j->row.state != ATR_JOB_RUNNING && j->row.state != ATR_JOB_DISPATCHED))
		return ATR_ECONFLICT; /* ended already, or a stale attempt: recorded, not applied */
	if (j->row.state == ATR_JOB_DISPATCHED && move(e, j, ATR_JOB_RUNNING, NULL) < 0)
		return ATR_EDB;
	run = j->row.run_id;
	c.set_exit = rep->has_exit_code;
	c.exit_code = rep->exit_code;
	if (!strcmp(rep->state, "succeeded")) {
		to = ATR_JOB_SUCCEEDED;
		if (publish_outputs(e, id, &why) < 0)
			to = ATR_JOB_FAILED;
		snprintf(msg, sizeof(msg), "%s", why ? why : rep->message && *rep->message ? rep->message : "succeeded");
	} else if (!strcmp(rep->state, "cancelled") && !j->row.cancel_requested) {
		/* Nobody asked: the worker stopped and could not wait for it. Hand it back. */
		lose(e, j, "handed back: its worker stopped before it ended");
		return 0;
	} else if (!strcmp(rep->state, "cancelled")) {
		to = ATR_JOB_CANCELLED;
		snprintf(msg, sizeof(msg), "%s", rep->message && *rep->message ? rep->message : "cancelled");
	} else if (!strcmp(rep->state, "timeout")) {
		to = ATR_JOB_FAILED;
		snprintf(msg, sizeof(msg), "timed out after %d s", j->row.timeout_s);
	} else {
		to = ATR_JOB_FAILED;
		snprintf(msg, sizeof(msg), "%s", rep->message && *rep->message ? rep->message : "failed");
	}
	c.message = msg;
	rc = move(e, j, to, &c);
	if (rc == 0)
		settle(e, id, run, to);
	return rc;
}

void atr_engine_log_appended(struct atr_engine *e, int64_t job_id)
{
	struct eng_job *j = eng_job_find(e, job_id);
	eng_notify(e, job_id, j ? j->row.state : ATR_JOB_SUCCEEDED, true);
}

void atr_engine_counts(struct atr_engine *e, struct atr_engine_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (struct eng_job *j = e->head; j; j = j->next) {
		out->by_state[j->row.state]++;
		if (j->row.state == ATR_JOB_QUEUED && (!out->queued_oldest_ms || j->row.queued_at < out->queued_oldest_ms))
			out->queued_oldest_ms = j->row.queued_at;
		if (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING)
			out->gpus_allocated += j->row.gpus;
	}
}
