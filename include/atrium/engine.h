#ifndef ATRIUM_ENGINE_H
#define ATRIUM_ENGINE_H
/*
 * engine.h: the job engine of `atrium serve`, on the loop. It keeps the active jobs and the
 * workers in memory (loaded from the store at start), runs scheduling passes with the pure
 * planner (sched.h) when something changes, hands placements to a backend that runs them
 * (src/dispatch/: Atrium's workers over HTTP), applies every state change through the store
 * (one job_events row each: it is the only writer of job rows), reconciles with workers'
 * heartbeats and reports, and wakes the requests that wait on a job (wait, log follow).
 * Submitting, cancelling, requeueing: the whole life of a job is here (src/jobs/).
 *
 * The store is the truth: after a restart the engine rebuilds itself from it and from the
 * workers' next heartbeats; no job is forgotten and none runs twice.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "atrium/store_jobs.h"

struct uv_loop_s;
struct atr_store;
struct atr_metrics;
struct atr_engine;

/*
 * What starts and stops jobs on the hosts that run them (src/dispatch/: Atrium's workers over
 * HTTP; Slurm next; a fake one in the unit tests). The engine decides, the backend sends: it
 * answers each send with atr_engine_dispatch_result and each cancel with
 * atr_engine_cancel_result, later, from the loop.
 */
struct atr_job_dispatch {
	const struct atr_job_row *row; /* worker_id, assigned GPUs, attempt (borrowed: copy what is kept) */
	const char *worker_url;
	int64_t worker_nonce; /* the worker's registration (its secret derives from it) */
	const char *token;    /* the job token of this attempt */
};
struct atr_job_backend {
	void *cls;
	void (*send)(void *cls, struct atr_engine *e, const struct atr_job_dispatch *d);
	void (*cancel)(void *cls, struct atr_engine *e, const struct atr_job_dispatch *d);
	/* Forget what is in flight for the job (it moved on): no result comes for it. */
	void (*abort)(void *cls, int64_t job_id);
};

struct atr_engine_opts {
	struct uv_loop_s *loop;
	struct atr_store *store;
	struct atr_metrics *metrics;	       /* may be NULL */
	const struct atr_job_backend *backend; /* copied */
	int64_t heartbeat_timeout_s;	       /* the workers' (holds requeued attempts: worker_gone) */
	/* A job token was revoked (its job moved on): cached tokens must be forgotten. May be NULL. */
	void (*tokens_revoked)(void *cls);
	void *cls;
};

int atr_engine_new(const struct atr_engine_opts *o, struct atr_engine **out);
/* Stops timers and transfers; frees after the loop ran their close callbacks. */
void atr_engine_free(struct atr_engine *e);

/* Run a scheduling pass soon (passes are coalesced). */
void atr_engine_kick(struct atr_engine *e);
/* A job request body's resources (gpus, gpu_type, cpus, memory_mb), priority, max_attempts (3
 * when absent) and timeout_s into spec: the one reading of these fields for every route that
 * submits a job (already checked by the route's descriptors). */
void atr_job_spec_limits(struct atr_job_spec *spec, const json_t *body);
/* Whether any registered worker could ever run the job (else why, for a 422). */
bool atr_engine_feasible(struct atr_engine *e, const struct atr_job_spec *spec, char *why, size_t whylen);
/*
 * Submitting: the one way a job is created (the REST API and the deployments both use it).
 * The job, its tracked run when it has one (run_name not NULL: training and batch inference;
 * the run reads run_inputs) and what the caller adds (also(), a deployment's replica row) are
 * written in one transaction; then the engine takes the job in and schedules soon.
 */
struct atr_job_submit {
	const struct atr_job_spec *spec;
	const char *run_name; /* NULL: no run */
	int64_t run_user_id;
	const int64_t *run_inputs; /* dataset_versions ids */
	size_t run_ninputs;
	int (*also)(struct atr_store *s, int64_t job_id, void *cls);
	void *also_cls;
};
int atr_engine_submit(struct atr_engine *e, const struct atr_job_submit *sub, int64_t *id_out);
/* Cancels: queued -> cancelled now; on a worker: cancel requested, the worker is told.
 * ATR_ECONFLICT when the job already ended, ATR_ENOTFOUND when unknown. */
int atr_engine_cancel(struct atr_engine *e, int64_t job_id);

/* ---- from the backend ---- */
enum atr_dispatch_result {
	ATR_DISPATCH_ACCEPTED, /* the worker runs it */
	ATR_DISPATCH_REFUSED,  /* the worker could not or would not take it: requeued, the worker suspect */
	ATR_DISPATCH_FAILED,   /* not sent (nothing to blame the worker for): requeued */
	ATR_DISPATCH_REJECTED, /* the job itself is impossible: it fails */
	ATR_DISPATCH_UNKNOWN,  /* no answer: the worker's next heartbeat says whether it runs */
};
void atr_engine_dispatch_result(struct atr_engine *e, int64_t job_id, enum atr_dispatch_result res, const char *why);
/* A cancel reached the worker (or it no longer has the job); !delivered: the next heartbeat retries. */
void atr_engine_cancel_result(struct atr_engine *e, int64_t job_id, bool delivered);

/* ---- from the worker registry (src/registry/, src/api/workers.c, worker_jobs.c) ---- */
/* Registered, (un)cordoned, drained, inventory changed: reload it. existed_before: a
 * registration under a known name, whose earlier jobs are lost. */
void atr_engine_worker_changed(struct atr_engine *e, int64_t worker_id, bool registered_again);
/*
 * Offline (missed heartbeats), deregistered or deleted: its jobs are lost, and requeued while
 * attempts remain. may_still_run: the worker went out of contact (offline, or deleted while
 * online), so its agent may still run them until it stops them by itself (it does once it has
 * had no answer to its heartbeats for the heartbeat timeout): the requeued attempts are held
 * until the last heartbeat + the timeout + ATR_FENCE_MARGIN_MS, and the job's events say so.
 */
#define ATR_FENCE_MARGIN_MS 20000
void atr_engine_worker_gone(struct atr_engine *e, int64_t worker_id, const char *why, bool may_still_run);
/* A heartbeat listing the jobs the worker holds: reconciles, returns the ids to cancel. */
json_t *atr_engine_heartbeat(struct atr_engine *e, int64_t worker_id, const json_t *running);
/* Whether the job is (or was last) placed on this worker: logs and reports are accepted. */
bool atr_engine_job_is_on(struct atr_engine *e, int64_t job_id, int64_t worker_id);
/* Whether the job is active (dispatched or running) on this worker in this attempt: a
 * service's readiness report counts only then (deployments, src/deploy/). */
bool atr_engine_job_current(struct atr_engine *e, int64_t job_id, int64_t worker_id, int64_t attempt);

struct atr_job_report;
/* A worker's final report: kept, and applied once (a repeat or a stale attempt changes nothing:
 * 0 too). <0 when it could not be kept. */
int atr_engine_report(struct atr_engine *e, const struct atr_job_report *rep);
/* A backend lost that attempt of the job on its own side (a Slurm job requeued by node failure or
 * preemption): like the loss of a worker, it is requeued while max_attempts allow, else failed
 * (cancelled when a cancel was asked for) with why in its message. A stale attempt changes
 * nothing (0); <0 when the move could not be written. */
int atr_engine_attempt_lost(struct atr_engine *e, int64_t job_id, int64_t worker_id, int64_t attempt, const char *why);
/* The port a service job listens on, as its worker reported it. */
int atr_engine_set_port(struct atr_engine *e, int64_t job_id, int port);
/* Log bytes arrived for the job: wake its followers. */
void atr_engine_log_appended(struct atr_engine *e, int64_t job_id);

/* ---- watching a job (wait, log follow) ---- */
struct atr_job_watch;
/* fn(cls, job_id, state) runs on every state change and log arrival of the job. */
typedef void (*atr_job_watch_fn)(void *cls, int64_t job_id, enum atr_job_state state, bool log_only);
struct atr_job_watch *atr_engine_watch(struct atr_engine *e, int64_t job_id, atr_job_watch_fn fn, void *cls);
void atr_engine_unwatch(struct atr_engine *e, struct atr_job_watch *w);

/* Figures for /metrics and the stats endpoint. */
struct atr_engine_counts {
	int64_t by_state[ATR_JOB_NSTATES];
	int64_t queued_oldest_ms; /* submit time of the oldest queued job, 0 when none */
	int64_t gpus_allocated;
};
void atr_engine_counts(struct atr_engine *e, struct atr_engine_counts *out);

#endif
