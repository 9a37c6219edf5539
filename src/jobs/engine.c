/*
 * engine.c: the job engine's model and decisions. Active jobs and workers live in memory;
 * every change of a job's state is applied to the store first (a job_events row each) and
 * then mirrored here. Scheduling passes are coalesced on a timer and spaced by their own
 * cost, so a burst of submissions is placed in a few passes, not one per request.
 * Not here: how a job reaches its worker (the backend: src/dispatch/), waiters and
 * followers (watch.c), REST (api/jobs.c).
 */
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/metrics.h"
#include "atrium/store_datasets.h"
#include "atrium/store.h"
#include "atrium/store_files.h"
#include "atrium/store_identity.h"
#include "atrium/store_models.h"
#include "atrium/store_runs.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"
#include "jobs_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- a worker's jobs: the ones it holds, linked from it ---- */

static void worker_unlink(struct eng_job *j)
{
	if (!j->won)
		return;
	if (j->wprev)
		j->wprev->wnext = j->wnext;
	else
		j->won->jobs = j->wnext;
	if (j->wnext)
		j->wnext->wprev = j->wprev;
	j->won = NULL;
	j->wnext = j->wprev = NULL;
}

static void worker_link(struct eng_worker *w, struct eng_job *j)
{
	worker_unlink(j);
	j->won = w;
	j->wprev = NULL;
	j->wnext = w->jobs;
	if (w->jobs)
		w->jobs->wprev = j;
	w->jobs = j;
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
	atr_copy(w->name, sizeof(w->name), atr_json_str(o, "name", ""));
	atr_copy(w->url, sizeof(w->url), atr_json_str(o, "url", ""));
	w->online = strcmp(atr_json_str(o, "state", ""), "online") == 0;
	w->schedulable = atr_json_bool(o, "schedulable", false);
	w->cpus = (int)atr_json_int(o, "cpus", 0);
	w->memory_mb = atr_json_int(o, "memory_mb", 0);
	w->labels_json = json_incref(json_object_get(o, "labels"));
	w->nlabels = 0;
	json_object_foreach(w->labels_json, k, v)
	{
		if (w->nlabels < ENG_MAX_LABELS && json_is_string(v)) {
			w->labels[w->nlabels].key = k;
			w->labels[w->nlabels].value = json_string_value(v);
			w->nlabels++;
		}
	}
	w->ngpus = 0;
	json_array_foreach(json_object_get(o, "gpus"), i, v)
	{
		struct atr_sched_gpu *g;
		if (w->ngpus >= ATR_SCHED_MAX_GPUS)
			break;
		g = &w->gpus[w->ngpus];
		g->index = (int)atr_json_int(v, "index", w->ngpus);
		atr_copy(w->gpu_names[w->ngpus], sizeof(w->gpu_names[0]), atr_json_str(v, "name", ""));
		g->name = w->gpu_names[w->ngpus];
		g->busy = atr_json_bool(v, "busy", false);
		w->ngpus++;
	}
	if (atr_store_worker_nonce(e->o.store, w->id, &nonce) == 0)
		w->nonce = nonce;
}

/* Reloads a worker from the registry; a deleted one leaves memory (NULL). */
struct eng_worker *eng_worker_load(struct atr_engine *e, int64_t id)
{
	struct eng_worker *w = eng_worker_find(e, id);
	json_t *o;
	int err;

	o = atr_store_worker_json(e->o.store, id, &err);
	if (!o) {
		if (w && err == ATR_ENOTFOUND) {
			struct eng_worker **pp = &e->workers;
			while (*pp != w)
				pp = &(*pp)->next;
			*pp = w->next;
			while (w->jobs)
				worker_unlink(w->jobs);
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
		w->id = atr_json_int(o, "id", 0);
		/* (a worker known again: the jobs the store says it holds are its list) */
		for (struct eng_job *j = e->head; j; j = j->next)
			if (j->row.worker_id == w->id && !j->won &&
			    (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING))
				worker_link(w, j);
	}
	worker_from_json(e, w, o);
	json_decref(o);
	return w;
}

static void workers_load_all(struct atr_engine *e)
{
	struct atr_page p = { .limit = 500 };
	for (;;) {
		json_t *items = json_array(), *it;
		bool more = false;
		size_t i;
		if (!items || atr_store_worker_list(e->o.store, NULL, -1, &p, items, &more) < 0) {
			json_decref(items);
			return;
		}
		json_array_foreach(items, i, it)
		{
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

/* The team's row of what its jobs hold (added when missing; NULL only without memory). */
struct eng_team_hold *eng_team_hold(struct atr_engine *e, int64_t team_id)
{
	struct eng_team_hold *h;

	for (int i = 0; i < e->nholds; i++)
		if (e->holds[i].team_id == team_id)
			return &e->holds[i];
	if (!(h = realloc(e->holds, (size_t)(e->nholds + 1) * sizeof(*h))))
		return NULL;
	e->holds = h;
	h = &e->holds[e->nholds++];
	*h = (struct eng_team_hold){ .team_id = team_id };
	return h;
}

/* A job joins (sign 1) or leaves (-1) a worker: what it holds there and in its team's count. */
static void allocate(struct atr_engine *e, struct eng_worker *w, struct eng_job *j, int sign)
{
	struct eng_team_hold *h = j->row.team_id ? eng_team_hold(e, j->row.team_id) : NULL;

	if (sign < 0)
		worker_unlink(j);
	else if (w)
		worker_link(w, j);

	if (h) {
		h->gpus += sign * j->row.gpus;
		h->jobs += sign;
	}
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

static void queue_add(struct atr_engine *e, struct eng_job *j)
{
	j->qnext = NULL;
	j->qprev = e->qtail;
	if (e->qtail)
		e->qtail->qnext = j;
	else
		e->qhead = j;
	e->qtail = j;
	e->nqueued++;
}

static void queue_remove(struct atr_engine *e, struct eng_job *j)
{
	if (j->qprev)
		j->qprev->qnext = j->qnext;
	else
		e->qhead = j->qnext;
	if (j->qnext)
		j->qnext->qprev = j->qprev;
	else
		e->qtail = j->qprev;
	j->qnext = j->qprev = NULL;
	e->nqueued--;
}

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
	if (j->row.state == ATR_JOB_QUEUED)
		queue_add(e, j);
	j->nsel = 0;
	json_object_foreach(j->row.labels, k, v)
	{
		if (j->nsel < ENG_MAX_LABELS && json_is_string(v)) {
			j->sel[j->nsel].key = k;
			j->sel[j->nsel].value = json_string_value(v);
			j->nsel++;
		}
	}
}

static void job_unindex(struct atr_engine *e, struct eng_job *j)
{
	worker_unlink(j);
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
	if (j->row.state == ATR_JOB_QUEUED)
		queue_remove(e, j);
}

static void job_free(struct atr_engine *e, struct eng_job *j)
{
	eng_dispatch_abort(e, j);
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
		allocate(e, eng_worker_find(e, j->row.worker_id), j, 1);
	return 0;
}

/* ---- state changes ---- */

static void revoke_job_token(struct atr_engine *e, int64_t job_id)
{
	atr_store_token_revoke_scope(e->o.store, "job", job_id);
	if (e->o.tokens_revoked)
		e->o.tokens_revoked(e->o.cls);
}

/*
 * eng_move: moves j to `to` in the store, then here. A job leaving a worker frees what it held; a
 * terminal job leaves memory (j is freed). Returns <0 when the store refused (then j is
 * reloaded from the store, which is the truth).
 */
int eng_move(struct atr_engine *e, struct eng_job *j, enum atr_job_state to, const struct atr_job_change *extra)
{
	struct atr_job_change c = { .from = j->row.state, .to = to, .attempts = -1 };
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
	rc = atr_store_job_transition(e->o.store, id, &c);
	if (rc < 0) {
		atr_warn("job %lld: could not move %s -> %s", (long long)id, atr_job_state_name(c.from),
			 atr_job_state_name(to));
		return rc;
	}
	leaves_worker = (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING) &&
			to != ATR_JOB_RUNNING && to != ATR_JOB_DISPATCHED;
	if (leaves_worker) {
		allocate(e, eng_worker_find(e, j->row.worker_id), j, -1);
		eng_dispatch_abort(e, j);
	}
	if (j->row.gpus > 0 && (leaves_worker || to == ATR_JOB_RUNNING))
		e->fair_share_at = 0; /* its team's GPU-hours change: read them again at the next pass */
	if (j->row.state == ATR_JOB_QUEUED && to != ATR_JOB_QUEUED)
		queue_remove(e, j);
	else if (j->row.state != ATR_JOB_QUEUED && to == ATR_JOB_QUEUED)
		queue_add(e, j);
	j->row.state = to;
	if (c.attempts >= 0)
		j->row.attempts = c.attempts;
	if (to == ATR_JOB_DISPATCHED) {
		j->row.worker_id = c.worker_id;
		memcpy(j->row.assigned, c.gpus, sizeof(int) * (size_t)c.ngpus);
		j->row.nassigned = c.ngpus;
		j->dispatched_ms = atr_now_ms();
		j->reason[0] = 0;
		allocate(e, eng_worker_find(e, j->row.worker_id), j, 1);
	} else if (to == ATR_JOB_QUEUED) {
		j->row.worker_id = 0;
		j->row.nassigned = 0;
		j->row.queued_at = atr_now_ms();
		j->dispatch_unknown = false;
		revoke_job_token(e, id);
	}
	if (atr_job_state_terminal(to)) {
		job_unindex(e, j);
		job_free(e, j);
	}
	eng_notify(e, id, to, false);
	atr_engine_kick(e);
	return 0;
}

/* What a job leaves behind when it ends: its token, its run's status, its outputs. */
void eng_settle(struct atr_engine *e, int64_t id, int64_t run_id, enum atr_job_state to)
{
	revoke_job_token(e, id);
	if (run_id > 0)
		atr_store_job_run_finish(e->o.store, run_id,
					 to == ATR_JOB_SUCCEEDED   ? "finished"
					 : to == ATR_JOB_CANCELLED ? "killed"
								   : "failed");
}

/* A lost job goes back to the queue while attempts remain; else it fails (or, when a cancel
 * was asked for, it is cancelled). */
void eng_requeue_or_fail(struct atr_engine *e, struct eng_job *j, const char *requeue_msg, int64_t hold_until)
{
	struct atr_job_change c = { .attempts = -1, .message = requeue_msg };
	int64_t id = j->row.id, run = j->row.run_id;
	enum atr_job_state to;
	char msg[400], when[40];

	if (j->row.attempts < j->row.max_attempts && !j->row.cancel_requested) {
		if (hold_until > atr_now_ms()) {
			atr_time_format(hold_until, when, sizeof(when));
			snprintf(msg, sizeof(msg),
				 "%s; held until %s: the previous attempt may still run on the lost worker until its "
				 "agent, out of contact, stops it by itself",
				 requeue_msg, when);
			c.message = msg;
		}
		if (eng_move(e, j, ATR_JOB_QUEUED, &c) == 0 && hold_until > atr_now_ms()) {
			j->row.not_before = hold_until;
			atr_store_job_hold(e->o.store, id, hold_until);
		}
		return;
	}
	to = j->row.cancel_requested ? ATR_JOB_CANCELLED : ATR_JOB_FAILED;
	c.message = to == ATR_JOB_CANCELLED ? "cancelled: its worker was lost"
					    : "failed: its worker was lost and no attempts remain";
	if (eng_move(e, j, to, &c) == 0)
		eng_settle(e, id, run, to);
}

/* A job whose worker vanished: lost, then requeued or failed. */
void eng_lose(struct atr_engine *e, struct eng_job *j, const char *why, int64_t hold_until)
{
	struct atr_job_change c = { .message = why, .attempts = -1 };

	if (eng_move(e, j, ATR_JOB_LOST, &c) == 0)
		eng_requeue_or_fail(e, j, "requeued after its worker was lost", hold_until);
}

/* ---- the backend: sending, cancelling, and what it reports ---- */

static struct atr_job_dispatch dispatch_of(struct eng_job *j, const struct eng_worker *w)
{
	return (struct atr_job_dispatch){
		.row = &j->row, .worker_url = w->url, .worker_nonce = w->nonce, .token = j->token
	};
}

/* A placed job goes to its worker with a new job token (the attempt's; revoked when it ends). */
void eng_dispatch_send(struct atr_engine *e, struct eng_job *j)
{
	struct atr_token_spec spec = { .kind = "job",
				       .name = "job token",
				       .user_id = j->row.created_by,
				       .project_id = j->row.project_id,
				       .scope_id = j->row.id };
	struct eng_worker *w = eng_worker_find(e, j->row.worker_id);
	struct atr_job_dispatch d;

	j->cancel_sent = false;
	j->dispatch_unknown = false;
	if (!w) {
		eng_dispatch_failed(e, j, "its worker is gone", false);
		return;
	}
	if (atr_store_token_create(e->o.store, &spec, j->token, NULL) < 0) {
		eng_dispatch_failed(e, j, "could not make the job's token", false);
		return;
	}
	d = dispatch_of(j, w);
	j->sending = true;
	e->backend.send(e->backend.cls, e, &d);
}

void eng_dispatch_cancel(struct atr_engine *e, struct eng_job *j)
{
	struct eng_worker *w = eng_worker_find(e, j->row.worker_id);
	struct atr_job_dispatch d;

	if (!w || j->sending || j->cancel_sent)
		return; /* no worker, or a dispatch in flight: its answer sends the cancel */
	d = dispatch_of(j, w);
	j->cancel_sent = true;
	e->backend.cancel(e->backend.cls, e, &d);
}

void eng_dispatch_abort(struct atr_engine *e, struct eng_job *j)
{
	j->sending = false;
	e->backend.abort(e->backend.cls, j->row.id);
}

void atr_engine_dispatch_result(struct atr_engine *e, int64_t job_id, enum atr_dispatch_result res, const char *why)
{
	struct eng_job *j = eng_job_find(e, job_id);

	if (!j || !j->sending)
		return; /* it moved on meanwhile */
	j->sending = false;
	switch (res) {
	case ATR_DISPATCH_ACCEPTED:
		eng_dispatch_accepted(e, j);
		break;
	case ATR_DISPATCH_REFUSED:
		eng_dispatch_failed(e, j, why ? why : "the worker refused it", true);
		break;
	case ATR_DISPATCH_FAILED:
		eng_dispatch_failed(e, j, why ? why : "it could not be sent", false);
		break;
	case ATR_DISPATCH_REJECTED:
		eng_dispatch_rejected(e, j, why ? why : "the worker rejected it");
		break;
	case ATR_DISPATCH_UNKNOWN:
		/* It may have started: the worker's next heartbeat says (see atr_engine_heartbeat). */
		j->dispatch_unknown = true;
		atr_warn("job %lld: no answer from its worker in time; waiting for its heartbeat", (long long)job_id);
		break;
	}
}

void atr_engine_cancel_result(struct atr_engine *e, int64_t job_id, bool delivered)
{
	struct eng_job *j = eng_job_find(e, job_id);

	if (j && !delivered)
		j->cancel_sent = false; /* the heartbeat's cancel list tries again */
}

/* ---- dispatch results ---- */

void eng_dispatch_accepted(struct atr_engine *e, struct eng_job *j)
{
	j->dispatch_unknown = false;
	if (j->row.state != ATR_JOB_DISPATCHED)
		return;
	if (eng_move(e, j, ATR_JOB_RUNNING, NULL) == 0 && j->row.run_id && j->row.attempts == 1)
		atr_store_job_run_started(e->o.store, j->row.run_id);
	if (j->row.cancel_requested)
		eng_dispatch_cancel(e, j);
}

void eng_dispatch_failed(struct atr_engine *e, struct eng_job *j, const char *why, bool worker_suspect)
{
	struct atr_job_change c = { .message = why };
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
		eng_move(e, j, ATR_JOB_CANCELLED, &c);
		eng_settle(e, id, run, ATR_JOB_CANCELLED);
		return;
	}
	eng_move(e, j, ATR_JOB_QUEUED, &c);
}

void eng_dispatch_rejected(struct atr_engine *e, struct eng_job *j, const char *why)
{
	struct atr_job_change c = { .message = why, .attempts = -1 };
	int64_t id = j->row.id, run = j->row.run_id;

	if (j->row.state != ATR_JOB_DISPATCHED)
		return;
	if (eng_move(e, j, ATR_JOB_FAILED, &c) == 0)
		eng_settle(e, id, run, ATR_JOB_FAILED);
}

/* Every second: a pass (pending reasons age, suspect workers return) and dispatch timeouts. */
void eng_tick(struct atr_engine *e)
{
	int64_t now = atr_now_ms();
	struct eng_job *j = e->head, *next;

	for (; j; j = next) {
		next = j->next;
		/* Sent, never confirmed, and the worker's heartbeats do not mention it. */
		if (j->row.state == ATR_JOB_DISPATCHED && !j->sending && now - j->dispatched_ms > DISPATCH_GRACE_MS)
			eng_dispatch_failed(e, j, "the worker never confirmed the job", false);
	}
	atr_engine_kick(e);
}

static void on_tick(uv_timer_t *t)
{
	eng_tick(t->data);
}

/* ---- public ---- */

static void render_metrics(void *cls, struct atr_buf *out)
{
	struct atr_engine_counts c;
	atr_engine_counts(cls, &c);
	atr_buf_puts(out, "# HELP atrium_jobs Active jobs by state.\n# TYPE atrium_jobs gauge\n");
	for (int s = 0; s < ATR_JOB_NSTATES; s++)
		if (atr_job_state_active((enum atr_job_state)s))
			atr_buf_printf(out, "atrium_jobs{state=\"%s\"} %lld\n",
				       atr_job_state_name((enum atr_job_state)s), (long long)c.by_state[s]);
	atr_buf_printf(out,
		       "# HELP atrium_jobs_oldest_queued_seconds Age of the oldest queued job.\n"
		       "# TYPE atrium_jobs_oldest_queued_seconds gauge\natrium_jobs_oldest_queued_seconds %.3f\n"
		       "# HELP atrium_gpus_allocated GPUs held by dispatched and running jobs.\n"
		       "# TYPE atrium_gpus_allocated gauge\natrium_gpus_allocated %lld\n",
		       c.queued_oldest_ms ? (double)(atr_now_ms() - c.queued_oldest_ms) / 1000.0 : 0.0,
		       (long long)c.gpus_allocated);
}

int atr_engine_new(const struct atr_engine_opts *o, struct atr_engine **out)
{
	struct atr_engine *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return ATR_ENOMEM;
	e->o = *o;
	e->backend = *o->backend;
	e->o.backend = &e->backend;
	uv_timer_init(o->loop, &e->pass_timer);
	uv_timer_init(o->loop, &e->tick);
	e->pass_timer.data = e->tick.data = e;
	workers_load_all(e);
	rc = atr_store_jobs_active(o->store, take_row, e);
	if (rc < 0) {
		atr_engine_free(e);
		return rc;
	}
	/*
	 * Jobs left lost by an earlier run (it stopped between the two steps): settle them. Jobs
	 * left dispatched: their answers were lost with that run, not with the workers, so the
	 * grace starts again now and the workers' next heartbeats say whether they run them (the
	 * tick would otherwise take them back at once, revoking the token a worker runs one with).
	 */
	for (struct eng_job *j = e->head, *next; j; j = next) {
		next = j->next;
		if (j->row.state == ATR_JOB_DISPATCHED)
			j->dispatched_ms = atr_now_ms();
		else if (j->row.state == ATR_JOB_LOST)
			eng_requeue_or_fail(e, j, "requeued after a restart", /* its worker may still run it */
					    atr_now_ms() + e->o.heartbeat_timeout_s * 1000 + ATR_FENCE_MARGIN_MS);
	}
	uv_unref((uv_handle_t *)&e->tick);
	uv_timer_start(&e->tick, on_tick, 1000, 1000);
	if (o->metrics)
		atr_metrics_add_source(o->metrics, render_metrics, e);
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
		job_free(e, j);
	}
	while (e->workers) {
		struct eng_worker *w = e->workers;
		e->workers = w->next;
		worker_release(w);
		free(w);
	}
	eng_watches_free(e);
	free(e->fair);
	e->fair = NULL;
	free(e->holds);
	e->holds = NULL;
	e->closing = 3; /* two handles to close; 1 means "closing, nothing left" */
	uv_close((uv_handle_t *)&e->pass_timer, on_engine_closed);
	uv_close((uv_handle_t *)&e->tick, on_engine_closed);
}

/* The job just written: take it in and schedule soon. */
static int job_added(struct atr_engine *e, int64_t job_id)
{
	struct atr_job_row row;
	int rc = atr_store_job_row(e->o.store, job_id, &row);

	if (rc < 0)
		return rc;
	rc = take_row(&row, e);
	json_decref(row.labels);
	atr_engine_kick(e);
	return rc;
}

/* The code version of a job's run, from ATRIUM_GIT_COMMIT / ATRIUM_GIT_DIRTY in the job's env
 * (a commit that is not a hash is left out). */
static void run_git_from_env(struct atr_run_spec *run, const json_t *env)
{
	const char *commit = json_string_value(json_object_get(env, "ATRIUM_GIT_COMMIT"));
	int dirty = atr_git_dirty_parse(json_string_value(json_object_get(env, "ATRIUM_GIT_DIRTY")));

	run->git_commit = atr_git_commit_valid(commit) ? commit : NULL;
	run->git_dirty = dirty < 0 ? ATR_GIT_UNKNOWN : dirty ? ATR_GIT_DIRTY : ATR_GIT_CLEAN;
}

int atr_engine_submit(struct atr_engine *e, const struct atr_job_submit *sub, int64_t *id_out)
{
	struct atr_run_spec run = { 0 };
	int64_t id = 0, run_id;
	int rc = atr_store_begin(e->o.store);

	if (rc < 0)
		return rc;
	rc = atr_store_job_create(e->o.store, sub->spec, &id);
	if (rc == 0 && sub->run_name) {
		run.project_id = sub->spec->project_id;
		run.name = sub->run_name;
		run.job_id = id;
		run.status = "queued"; /* running from the job's first start */
		run.user_id = sub->run_user_id;
		run.inputs = sub->run_inputs;
		run.ninputs = sub->run_ninputs;
		run_git_from_env(&run, sub->spec->env);
		rc = atr_store_run_create(e->o.store, &run, &run_id);
		if (rc == 0)
			rc = atr_store_job_set_run(e->o.store, id, run_id);
	}
	if (rc == 0 && sub->also)
		rc = sub->also(e->o.store, id, sub->also_cls);
	if (rc == 0)
		rc = atr_store_commit(e->o.store);
	else
		atr_store_rollback(e->o.store);
	if (rc < 0)
		return rc;
	*id_out = id;
	return job_added(e, id);
}

int atr_engine_cancel(struct atr_engine *e, int64_t job_id)
{
	struct eng_job *j = eng_job_find(e, job_id);
	struct atr_job_change c = { .attempts = -1, .message = "cancelled by request" };
	int rc;

	if (!j)
		return ATR_ECONFLICT; /* not active: ended (or unknown; the caller checked it exists) */
	if (j->row.state == ATR_JOB_QUEUED || j->row.state == ATR_JOB_LOST) {
		int64_t run = j->row.run_id;
		rc = eng_move(e, j, ATR_JOB_CANCELLED, &c);
		if (rc == 0)
			eng_settle(e, job_id, run, ATR_JOB_CANCELLED);
		return rc;
	}
	rc = atr_store_job_request_cancel(e->o.store, job_id);
	if (rc < 0)
		return rc;
	j->row.cancel_requested = true;
	eng_dispatch_cancel(e, j);
	eng_notify(e, job_id, j->row.state, false);
	return 0;
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
		if (j->row.state == ATR_JOB_QUEUED &&
		    (!out->queued_oldest_ms || j->row.queued_at < out->queued_oldest_ms))
			out->queued_oldest_ms = j->row.queued_at;
		if (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING)
			out->gpus_allocated += j->row.gpus;
	}
}
