#ifndef ATRIUM_ENGINE_H
#define ATRIUM_ENGINE_H
/*
 * engine.h: the job engine of `atrium serve`, on the loop. It keeps the active jobs and the
 * workers in memory (loaded from the store at start), runs scheduling passes with the pure
 * planner (sched.h) when something changes, dispatches placements to workers with libcurl
 * multi (src/dispatch/dispatch.c), applies every state change through the store (one
 * job_events row each), reconciles with workers' heartbeats and reports, and wakes the
 * requests that wait on a job (wait, log follow).
 *
 * The store is the truth: after a restart the engine rebuilds itself from it and from the
 * workers' next heartbeats; no job is forgotten and none runs twice.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "atrium/store_jobs.h"

struct atr_app;
struct atr_engine;

int atr_engine_new(struct atr_app *app, struct atr_engine **out);
/* Stops timers and transfers; frees after the loop ran their close callbacks. */
void atr_engine_free(struct atr_engine *e);

/* Run a scheduling pass soon (passes are coalesced). */
void atr_engine_kick(struct atr_engine *e);
/* Whether any registered worker could ever run the job (else why, for a 422). */
bool atr_engine_feasible(struct atr_engine *e, const struct atr_job_spec *spec, char *why, size_t whylen);
/* A job was created in the store (queued): take it in and schedule soon. */
int atr_engine_job_added(struct atr_engine *e, int64_t job_id);
/* Cancels: queued -> cancelled now; on a worker: cancel requested, the worker is told.
 * ATR_ECONFLICT when the job already ended, ATR_ENOTFOUND when unknown. */
int atr_engine_cancel(struct atr_engine *e, int64_t job_id);

/* ---- from the worker registry (src/api/workers.c, worker_jobs.c) ---- */
/* Registered, (un)cordoned, drained, inventory changed: reload it. existed_before: a
 * registration under a known name, whose earlier jobs are lost. */
void atr_engine_worker_changed(struct atr_engine *e, int64_t worker_id, bool registered_again);
/* Offline (missed heartbeats), deregistered or deleted: its jobs are lost. */
void atr_engine_worker_gone(struct atr_engine *e, int64_t worker_id, const char *why);
/* A heartbeat listing the jobs the worker holds: reconciles, returns the ids to cancel. */
json_t *atr_engine_heartbeat(struct atr_engine *e, int64_t worker_id, const json_t *running);
/* Whether the job is (or was last) placed on this worker: logs and reports are accepted. */
bool atr_engine_job_is_on(struct atr_engine *e, int64_t job_id, int64_t worker_id);
/* Whether the job is active (dispatched or running) on this worker in this attempt: a
 * service's readiness report counts only then (deployments, src/deploy/). */
bool atr_engine_job_current(struct atr_engine *e, int64_t job_id, int64_t worker_id, int64_t attempt);

struct atr_job_report;
/* A worker's final report: applies it once (a repeat or a stale attempt is ignored). */
int atr_engine_report(struct atr_engine *e, const struct atr_job_report *rep);
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
