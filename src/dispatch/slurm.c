/*
 * slurm.c: Slurm clusters as a dispatch backend (slurm.h). Each cluster has a poll timer:
 * GET {url}/jobs (after the first answer only what changed since, ?update_time=) maps
 * Slurm's states onto the engine's (PENDING: dispatched with Slurm's reason as the pending
 * reason; RUNNING: running; the end: a report, as a worker's), reads the jobs' output files
 * as their logs, looks up submissions whose answer never came (by their unique names) and
 * heartbeats the cluster's worker row with the jobs it holds, so the engine reconciles it
 * like any worker. Polls back off while nothing changes (to 1 s while Atrium has jobs there, so
 * an end is seen within about a second; slurmrestd's 304 means nothing changed), or while
 * slurmrestd does not answer (the jobs keep their last known state then). What is sent is in slurm_submit.c.
 */
#include "atrium/client.h"
#include "atrium/dispatch.h"
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_clusters.h"
#include "atrium/store_jobs.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"
#include "slurm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POLL_MIN_MS 500
#define POLL_IDLE_MS 5000
#define POLL_BUSY_MS 1000 /* the longest wait between polls while Atrium has jobs in the cluster */
#define POLL_DOWN_MS 10000
#define POLL_GAP_MS 100 /* the least wait between a poll's answer and the next poll */
#define MAX_CLUSTERS 256

int atr_slurm_is_cluster_url(const char *url)
{
	return url && !strncmp(url, "slurm:", 6);
}

static struct scl *cluster_find(struct atr_slurm *s, int64_t id)
{
	for (struct scl *c = s->clusters; c; c = c->next)
		if (c->c.id == id)
			return c;
	return NULL;
}

static struct scl *cluster_of_worker(struct atr_slurm *s, int64_t worker_id)
{
	for (struct scl *c = s->clusters; c; c = c->next)
		if (c->c.worker_id == worker_id)
			return c;
	return NULL;
}

static struct sjob *job_find(struct atr_slurm *s, int64_t job_id, struct scl **cl_out)
{
	for (struct scl *c = s->clusters; c; c = c->next)
		for (struct sjob *j = c->jobs; j; j = j->next)
			if (j->job_id == job_id) {
				if (cl_out)
					*cl_out = c;
				return j;
			}
	return NULL;
}

void slurm_job_free(struct sjob *j)
{
	struct sjob **pp = &j->cl->jobs;

	while (*pp && *pp != j)
		pp = &(*pp)->next;
	if (*pp)
		*pp = j->next;
	if (j->xfer)
		atr_client_cancel(j->xfer);
	slurm_log_read_detach(j);
	slurm_stage_detach(j);
	json_decref(j->end);
	free(j->body);
	free(j);
}

static struct sjob *job_new(struct scl *cl, int64_t job_id, int64_t attempt, const char *name)
{
	struct sjob *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->cl = cl;
	j->job_id = job_id;
	j->attempt = attempt;
	atr_copy(j->name, sizeof(j->name), name);
	snprintf(j->dir, sizeof(j->dir), "%s/atrium/jobs/%lld-%lld", cl->c.shared_dir, (long long)job_id,
		 (long long)attempt);
	j->next = cl->jobs;
	cl->jobs = j;
	return j;
}

/* ---- polling ---- */

static void poll_now(struct scl *cl);

static void on_timer(uv_timer_t *t)
{
	poll_now(t->data);
}

static void arm(struct scl *cl, int64_t ms)
{
	if (cl->timer)
		uv_timer_start(cl->timer, on_timer, (uint64_t)ms, 0);
}

void slurm_poll_soon(struct scl *cl)
{
	cl->interval_ms = POLL_MIN_MS;
	if (!cl->poll)
		arm(cl, 50);
}

static int64_t poll_cap_ms(const struct scl *cl)
{
	int64_t hb = cl->s->o.heartbeat_s * 1000;
	return hb > 0 && hb < POLL_IDLE_MS ? hb : POLL_IDLE_MS;
}

/* ---- states ---- */

/* The report of a Slurm end state (NULL state: not an end; "lost": requeue; "outside": a
 * cancel nobody asked Atrium for). */
static const char *end_state(const char *st, bool cancel_asked)
{
	static const struct {
		const char *slurm, *atrium;
	} map[] = {
		{ "COMPLETED", "succeeded" }, { "FAILED", "failed" },	     { "TIMEOUT", "timeout" },
		{ "DEADLINE", "timeout" },    { "OUT_OF_MEMORY", "failed" }, { "NODE_FAIL", "lost" },
		{ "PREEMPTED", "lost" },      { "BOOT_FAIL", "lost" },	     { "REVOKED", "lost" },
		{ "CANCELLED", "cancelled" }, { "SPECIAL_EXIT", "failed" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(st, map[i].slurm))
			return !strcmp(map[i].atrium, "cancelled") && !cancel_asked ? "outside" : map[i].atrium;
	return NULL;
}

/* Slurm lost the attempt (node failure, preemption: it ended so, or Slurm requeued it by
 * itself, which 22.05 does whatever the submission said): what Slurm still holds of it is
 * cancelled, and the engine requeues the job as a new attempt (a new Slurm job) within
 * max_attempts, or fails it with why. */
static void lose(struct sjob *j, const char *lost_why)
{
	struct atr_slurm *s = j->cl->s;
	int64_t id = j->job_id, worker = j->cl->c.worker_id, attempt = j->attempt;
	char why[200];

	atr_copy(why, sizeof(why), lost_why); /* (it may be the job's, freed below) */
	atr_warn("job %lld: %s", (long long)id, why);
	if (j->sending) {
		j->sending = false;
		atr_engine_dispatch_result(s->e, id, ATR_DISPATCH_ACCEPTED, NULL);
	}
	atr_slurm_abort(s, id); /* (cancels it in Slurm, forgets it here) */
	atr_engine_attempt_lost(s->e, id, worker, attempt, why);
}

static void report_end(struct sjob *j, const json_t *sj, const char *st)
{
	struct atr_slurm *s = j->cl->s;
	const char *to = end_state(st, j->cancel);
	int64_t raw = atr_json_int(sj, "exit_code", 0);
	char msg[300];
	struct atr_job_report rep = { .job_id = j->job_id, .attempt = j->attempt, .worker_id = j->cl->c.worker_id };

	snprintf(msg, sizeof(msg), "slurm job %lld ended %s (%s)", (long long)j->slurm_id, st,
		 atr_json_str(sj, "state_reason", "None"));
	if (j->sending) {
		j->sending = false;
		atr_engine_dispatch_result(s->e, j->job_id, ATR_DISPATCH_ACCEPTED, NULL);
	}
	if (!strcmp(to, "outside"))
		snprintf(msg, sizeof(msg), "cancelled in Slurm outside Atrium (scancel or an admin): slurm job %lld",
			 (long long)j->slurm_id);
	rep.state = !strcmp(to, "outside") ? "failed" : to;
	rep.message = msg;
	rep.has_exit_code = (raw & 0x7f) == 0 && strcmp(to, "outside") != 0;
	rep.exit_code = (raw >> 8) & 0xff;
	rep.has_signal = (raw & 0x7f) != 0;
	rep.signal = raw & 0x7f;
	rep.log_bytes = j->log_off;
	rep.started_at = atr_json_int(sj, "start_time", 0) * 1000;
	rep.finished_at = atr_json_int(sj, "end_time", 0) * 1000;
	atr_store_cluster_job_done(s->o.store, j->job_id, j->attempt);
	/* (freed first: the engine moves the job on, and forgets it here through abort) */
	slurm_job_free(j);
	atr_engine_report(s->e, &rep);
}

void slurm_job_concluded(struct sjob *j)
{
	if (j->lost_why[0])
		lose(j, j->lost_why);
	else
		report_end(j, j->end, atr_json_str(j->end, "job_state", "FAILED"));
}

/* The attempt ended (lost_why: Slurm lost it): reported once the tail of its log is read. */
static void conclude(struct sjob *j, const json_t *sj, const char *lost_why)
{
	j->ended = true;
	j->end = json_deep_copy(sj);
	if (lost_why)
		atr_copy(j->lost_why, sizeof(j->lost_why), lost_why);
	else if (!strcmp(end_state(atr_json_str(sj, "job_state", ""), true), "lost"))
		snprintf(j->lost_why, sizeof(j->lost_why), "slurm job %lld ended %s (%s)", (long long)j->slurm_id,
			 atr_json_str(sj, "job_state", ""), atr_json_str(sj, "state_reason", "None"));
	slurm_log_read(j);
}

/* Whether Slurm requeued the attempt by itself: a restart counted, a requeue state, or pending
 * again after it ran. */
static bool requeued(const struct sjob *j, const json_t *sj, const char *st)
{
	return atr_json_int(sj, "restart_cnt", 0) > 0 || !strncmp(st, "REQUEUE", 7) ||
	       (j->ran && !strcmp(st, "PENDING"));
}

/* One job of the answer: ours by id, or by name while its submission's answer is missing. */
static struct sjob *match(struct scl *cl, const json_t *sj)
{
	int64_t id = atr_json_int(sj, "job_id", 0);
	const char *name = atr_json_str(sj, "name", "");

	for (struct sjob *j = cl->jobs; j; j = j->next) {
		if (j->slurm_id && j->slurm_id == id)
			return j;
		if (!j->slurm_id && !strcmp(j->name, name)) {
			j->slurm_id = id;
			j->lookup = false;
			atr_store_cluster_job_set_slurm_id(cl->s->o.store, j->job_id, j->attempt, id);
			atr_info("job %lld: found as Slurm job %lld on cluster '%s'", (long long)j->job_id,
				 (long long)id, cl->c.name);
			return j;
		}
	}
	return NULL;
}

/* Applies one job's Slurm state; true when something changed. */
static bool apply(struct scl *cl, const json_t *sj)
{
	struct sjob *j = match(cl, sj);
	const char *st = atr_json_str(sj, "job_state", "");
	char reason[200];

	if (!j || j->ended)
		return false;
	if (end_state(st, true)) { /* (an end wins: a run Slurm restarted may have completed) */
		conclude(j, sj, NULL);
		return true;
	}
	if (requeued(j, sj, st)) {
		snprintf(reason, sizeof(reason), "slurm requeued its job %lld (node failure or preemption)",
			 (long long)j->slurm_id);
		conclude(j, sj, reason);
		return true;
	}
	if (!strcmp(st, "PENDING") || !strcmp(st, "CONFIGURING")) {
		snprintf(reason, sizeof(reason), "slurm: %s %s", st, atr_json_str(sj, "state_reason", ""));
		atr_store_job_set_pending(cl->s->o.store, j->job_id, reason);
		return false;
	}
	j->ran = true; /* RUNNING, COMPLETING, SUSPENDED...: it started */
	if (j->sending) {
		j->sending = false;
		atr_engine_dispatch_result(cl->s->e, j->job_id, ATR_DISPATCH_ACCEPTED, NULL);
		return true;
	}
	return false;
}

/* The cluster's worker row is alive while we can speak for its jobs: the engine reconciles
 * them (a job it placed there that we do not hold is lost); cancels it still wants go out. */
static void heartbeat(struct scl *cl)
{
	json_t *running = json_array(), *cancel, *v;
	struct atr_worker_usage u = { -1, -1, -1, -1 };
	struct atr_worker_flags f;
	size_t i;

	for (struct sjob *j = cl->jobs; running && j; j = j->next)
		json_array_append_new(running, json_integer(j->job_id));
	if (!running || atr_store_worker_heartbeat(cl->s->o.store, cl->c.worker_id, NULL, running, &u, &f) < 0) {
		json_decref(running);
		return;
	}
	cancel = atr_engine_heartbeat(cl->s->e, cl->c.worker_id, running);
	json_array_foreach(cancel, i, v)
	{
		struct sjob *j = job_find(cl->s, json_integer_value(v), NULL);
		if (j && !j->cancel_sent)
			slurm_send_cancel(j);
	}
	json_decref(cancel);
	json_decref(running);
}

/* Submissions whose answer never came and that Slurm does not know by name: sent again. A
 * lookup needs a whole list (since_s 0), not only what changed. */
static void resubmit_missing(struct scl *cl, bool whole)
{
	for (struct sjob *j = cl->jobs; j; j = j->next)
		if (j->lookup && !j->slurm_id && !j->xfer && whole && j->body) {
			atr_info("job %lld: not in cluster '%s'; submitting it (again)", (long long)j->job_id,
				 cl->c.name);
			slurm_submit(j);
		}
	for (struct sjob *j = cl->jobs, *next; whole && j; j = next) {
		next = j->next;
		if (!j->slurm_id && !j->body) { /* (found at start-up, never reached Slurm: lost) */
			atr_store_cluster_job_done(cl->s->o.store, j->job_id, j->attempt);
			slurm_job_free(j);
		}
	}
}

static bool any_lookup(const struct scl *cl)
{
	for (const struct sjob *j = cl->jobs; j; j = j->next)
		if (j->lookup && !j->slurm_id)
			return true;
	return false;
}

/* The next poll: interval_ms after this one was sent (a slow slurmrestd's answer time is not
 * added to the wait), but never sooner than POLL_GAP_MS after its answer. */
static void next_poll(struct scl *cl, int64_t took_ms)
{
	int64_t wait = cl->jobs && cl->interval_ms > POLL_IDLE_MS / 2 && cl->up ? POLL_IDLE_MS / 2 : cl->interval_ms;

	wait -= took_ms > 0 ? took_ms : 0;
	arm(cl, wait > POLL_GAP_MS ? wait : POLL_GAP_MS);
}

static void on_polled(void *cls, const struct atr_client_resp *resp)
{
	struct scl *cl = cls;
	json_t *o = NULL, *jobs, *sj;
	bool changed = false, whole = cl->since_s == 0;
	int64_t asked_at = cl->poll_sent_ms / 1000, took_ms = atr_now_ms() - cl->poll_sent_ms;
	size_t i;

	cl->poll = NULL;
	if (resp->status == 200)
		o = json_loadb(resp->body, resp->len, 0, NULL);
	else if (resp->status == 304) /* (nothing changed since update_time: an idle poll's answer) */
		o = json_pack("{s:[]}", "jobs");
	jobs = json_object_get(o, "jobs");
	if (!json_is_array(jobs)) {
		if (cl->up)
			atr_warn("cluster '%s': slurmrestd does not answer (HTTP %ld%s%s); jobs keep their last state",
				 cl->c.name, resp->status, resp->error ? ": " : "", resp->error ? resp->error : "");
		cl->up = false;
		cl->since_s = 0;
		/* (never past the heartbeat's cap: the worker row must stay online meanwhile) */
		cl->interval_ms = cl->interval_ms * 2 > POLL_DOWN_MS ? POLL_DOWN_MS : cl->interval_ms * 2;
		if (cl->interval_ms > poll_cap_ms(cl))
			cl->interval_ms = poll_cap_ms(cl);
	} else {
		if (!cl->up)
			atr_info("cluster '%s': slurmrestd answers", cl->c.name);
		cl->up = true;
		json_array_foreach(jobs, i, sj) changed |= apply(cl, sj);
		for (struct sjob *j = cl->jobs; j; j = j->next)
			if (!j->ended && j->slurm_id)
				slurm_log_read(j);
		resubmit_missing(cl, whole);
		/* (two seconds of overlap: a change while this poll was on its way is asked again) */
		cl->since_s = any_lookup(cl) ? 0 : asked_at - 2;
		cl->interval_ms = changed ? POLL_MIN_MS : cl->interval_ms * 3 / 2;
		if (cl->interval_ms > poll_cap_ms(cl))
			cl->interval_ms = poll_cap_ms(cl);
		if (cl->jobs && cl->interval_ms > POLL_BUSY_MS) /* (a job's end seen within about a second) */
			cl->interval_ms = POLL_BUSY_MS;
	}
	json_decref(o);
	heartbeat(cl);
	next_poll(cl, took_ms);
}

static void poll_now(struct scl *cl)
{
	char path[64];

	if (cl->poll)
		return;
	cl->poll_sent_ms = atr_now_ms();
	slurm_secret_refresh(cl, cl->secret_err != 0); /* (for the next requests) */
	if (cl->since_s > 0)
		snprintf(path, sizeof(path), "/jobs?update_time=%lld", (long long)cl->since_s);
	else
		atr_copy(path, sizeof(path), "/jobs");
	if (slurm_rest_get(cl, path, on_polled, cl, &cl->poll) < 0) {
		struct atr_client_resp none = { .error = "no request" };
		cl->poll = NULL;
		on_polled(cl, &none);
	}
}

/* ---- the backend ---- */

static struct scl *cluster_for(struct atr_slurm *s, int64_t worker_id)
{
	struct scl *cl = cluster_of_worker(s, worker_id);
	struct atr_cluster c;

	if (!cl && atr_store_cluster_by_worker(s->o.store, worker_id, &c) == 0) {
		atr_slurm_cluster_changed(s, c.id);
		cl = cluster_of_worker(s, worker_id);
	}
	return cl;
}

static int in_flight(const struct scl *cl)
{
	int n = 0;
	for (const struct sjob *j = cl->jobs; j; j = j->next)
		n++;
	return n;
}

/* Its folder in the shared directory, writable by the job's user (another uid). */
static int make_dirs(const struct sjob *j)
{
	char d[1300];
	const char *sub[] = { "", "/input", "/output" };

	for (int i = 0; i < 3; i++) {
		snprintf(d, sizeof(d), "%s%s", j->dir, sub[i]);
		if (atr_mkdirs(d, 0755) < 0 || chmod(d, 0777) < 0)
			return ATR_EIO;
	}
	return 0;
}

void atr_slurm_send(struct atr_slurm *s, struct atr_engine *e, const struct atr_job_dispatch *jd)
{
	struct scl *cl = cluster_for(s, jd->row->worker_id);
	struct sjob *j;
	struct atr_cluster_job cj = { .job_id = jd->row->id, .attempt = jd->row->attempts };
	char why[200];

	if (!cl) {
		atr_engine_dispatch_result(e, jd->row->id, ATR_DISPATCH_FAILED, "its cluster is gone");
		return;
	}
	if (cl->c.max_jobs > 0 && in_flight(cl) >= cl->c.max_jobs) {
		snprintf(why, sizeof(why), "cluster '%s' has its max_jobs (%lld) in flight", cl->c.name,
			 (long long)cl->c.max_jobs);
		atr_engine_dispatch_result(e, jd->row->id, ATR_DISPATCH_REFUSED, why);
		return;
	}
	atr_slurm_abort(s, jd->row->id); /* (an earlier attempt's submission, if any) */
	snprintf(cj.slurm_name, sizeof(cj.slurm_name), "atrium-%lld-%lld-%04x", (long long)cj.job_id,
		 (long long)cj.attempt, (unsigned)(atr_fast_rand() & 0xffff));
	cj.cluster_id = cl->c.id;
	if (!(j = job_new(cl, cj.job_id, cj.attempt, cj.slurm_name))) {
		atr_engine_dispatch_result(e, jd->row->id, ATR_DISPATCH_FAILED, "out of memory");
		return;
	}
	j->sending = true;
	if (make_dirs(j) < 0 || !(j->body = slurm_submit_body(s, cl, j, jd)) ||
	    atr_store_cluster_job_put(s->o.store, &cj) < 0) {
		slurm_job_free(j);
		atr_engine_dispatch_result(e, jd->row->id, ATR_DISPATCH_FAILED,
					   "could not prepare its folder in the shared directory");
		return;
	}
	if (slurm_stage(j) < 0) /* (then submitted) */
		slurm_reject(j, "could not stage its inputs into the shared directory");
}

void atr_slurm_cancel(struct atr_slurm *s, struct atr_engine *e, const struct atr_job_dispatch *jd)
{
	struct sjob *j = job_find(s, jd->row->id, NULL);

	if (!j) {
		atr_engine_cancel_result(e, jd->row->id, false);
		return;
	}
	if (j->slurm_id && !j->xfer)
		slurm_send_cancel(j);
	else {
		j->cancel = true; /* sent once Slurm answers the submission */
		atr_engine_cancel_result(e, jd->row->id, false);
	}
}

/* The job moved on (lost, requeued): what Slurm still runs of it is cancelled, unasked. */
static void on_abort_cancelled(void *cls, const struct atr_client_resp *resp)
{
	(void)cls;
	(void)resp;
}

void atr_slurm_abort(struct atr_slurm *s, int64_t job_id)
{
	struct scl *cl;
	struct sjob *j = job_find(s, job_id, &cl);
	char path[64];

	if (!j || s->closing)
		return; /* (a daemon that stops leaves its jobs running: it finds them again at start) */
	if (j->slurm_id) {
		snprintf(path, sizeof(path), "/job/%lld", (long long)j->slurm_id);
		slurm_rest_delete(cl, path, on_abort_cancelled, NULL);
	}
	atr_store_cluster_job_done(s->o.store, j->job_id, j->attempt);
	slurm_job_free(j);
}

/* ---- clusters ---- */

static int load_job(const struct atr_cluster_job *cj, void *cls)
{
	struct scl *cl = cls;
	struct sjob *j = job_new(cl, cj->job_id, cj->attempt, cj->slurm_name);

	if (!j)
		return ATR_ENOMEM;
	j->slurm_id = cj->slurm_job_id;
	j->lookup = !j->slurm_id;
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	free(h);
}

static void cluster_free(struct scl *cl)
{
	struct scl **pp = &cl->s->clusters;

	while (*pp && *pp != cl)
		pp = &(*pp)->next;
	if (*pp)
		*pp = cl->next;
	while (cl->jobs)
		slurm_job_free(cl->jobs);
	if (cl->poll)
		atr_client_cancel(cl->poll);
	slurm_secret_detach(cl);
	if (cl->timer) {
		uv_timer_stop(cl->timer);
		uv_close((uv_handle_t *)cl->timer, timer_closed);
	}
	free(cl);
}

void atr_slurm_cluster_changed(struct atr_slurm *s, int64_t cluster_id)
{
	struct scl *cl = cluster_find(s, cluster_id);
	struct atr_cluster c;

	if (atr_store_cluster_get_id(s->o.store, cluster_id, &c) < 0) {
		if (cl) /* deleted */
			cluster_free(cl);
		return;
	}
	if (cl) {
		cl->c = c;
		slurm_secret_refresh(cl, true); /* (its path may have changed) */
		slurm_poll_soon(cl);
		return;
	}
	if (!(cl = calloc(1, sizeof(*cl))) || !(cl->timer = malloc(sizeof(*cl->timer)))) {
		free(cl);
		return;
	}
	cl->s = s;
	cl->c = c;
	cl->up = true;
	cl->interval_ms = POLL_MIN_MS;
	uv_timer_init(s->o.loop, cl->timer);
	cl->timer->data = cl;
	cl->next = s->clusters;
	s->clusters = cl;
	atr_store_cluster_jobs_active(s->o.store, c.id, load_job, cl);
	slurm_secret_refresh(cl, true); /* (its first poll once the secret is read) */
}

void slurm_cluster_ready(struct scl *cl)
{
	if (cl->s->e)
		arm(cl, 0);
}

int atr_slurm_new(const struct atr_slurm_opts *o, struct atr_slurm **out)
{
	struct atr_slurm *s = calloc(1, sizeof(*s));

	if (!s)
		return ATR_ENOMEM;
	s->o = *o;
	*out = s;
	return 0;
}

void atr_slurm_start(struct atr_slurm *s, struct atr_engine *e)
{
	int64_t ids[MAX_CLUSTERS];
	int n = atr_store_cluster_ids(s->o.store, ids, MAX_CLUSTERS);

	s->e = e;
	for (int i = 0; i < n; i++)
		atr_slurm_cluster_changed(s, ids[i]);
	for (struct scl *cl = s->clusters; cl; cl = cl->next)
		if (cl->secret_at_ms)
			arm(cl, 0);
	slurm_gc_start(s);
}

void atr_slurm_stop(struct atr_slurm *s)
{
	if (s)
		s->closing = true;
}

void atr_slurm_free(struct atr_slurm *s)
{
	if (!s)
		return;
	slurm_gc_free(s);
	while (s->clusters)
		cluster_free(s->clusters);
	free(s);
}
