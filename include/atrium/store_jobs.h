#ifndef ATRIUM_STORE_JOBS_H
#define ATRIUM_STORE_JOBS_H
/* Jobs and job events (src/store/jobs.c). The engine (src/dispatch/engine.c) decides; this stores. */
#include "atrium/jobstate.h"
#include "atrium/store.h"

#define ATR_JOB_MAX_GPUS 64

/*
 * The SQL term for the jobs that may hold or wait for GPUs, on the state column c ("state",
 * "j.state"): the exact condition of the jobs_active partial index (migration 0012), so that
 * queries naming it read the index rather than every job ever run. ORs, not IN: SQLite builds
 * a temporary b-tree for an IN list of more than two constants each time a statement runs.
 */
#define ATR_JOBS_ACTIVE(c) "(" c " = 'queued' OR " c " = 'dispatched' OR " c " = 'running' OR " c " = 'lost')"

struct atr_job_spec {
	int64_t project_id;
	int64_t team_id; /* 0: none */
	int64_t run_id;	 /* 0: none */
	int64_t created_by;
	const char *name;
	const char *kind;      /* training | batch_inference | service */
	const json_t *command; /* array of strings or a string */
	const json_t *env, *labels, *inputs, *outputs;
	int gpus, cpus;
	const char *gpu_type;
	int64_t memory_mb;
	int priority, max_attempts;
	int64_t timeout_s;
	int64_t model_version_id, deployment_id; /* 0: none */
	int replica;
};

/* Creates a queued job with its first event. */
int atr_store_job_create(struct atr_store *s, const struct atr_job_spec *spec, int64_t *id_out);

/* What the engine keeps of an active job. labels is a new reference (or NULL). */
struct atr_job_row {
	int64_t id, project_id, team_id, run_id, worker_id, created_by, deployment_id;
	enum atr_job_state state;
	char kind[24];
	char gpu_type[64];
	int gpus, cpus, priority, max_attempts, attempts, timeout_s;
	int64_t memory_mb, queued_at, dispatched_at;
	bool cancel_requested;
	int assigned[ATR_JOB_MAX_GPUS];
	int nassigned;
	json_t *labels;
	int64_t not_before; /* ms: a requeued attempt is held until then (0: not held) */
};
int atr_store_job_row(struct atr_store *s, int64_t id, struct atr_job_row *out);
/* Calls fn for every active job (queued, dispatched, running, lost), oldest first. */
int atr_store_jobs_active(struct atr_store *s, int (*fn)(const struct atr_job_row *row, void *cls), void *cls);

/* A change of state, with what goes with it. */
struct atr_job_change {
	enum atr_job_state from, to;
	int64_t worker_id; /* to dispatched: the worker; requeue: cleared */
	const int *gpus;   /* to dispatched: the GPU indices */
	int ngpus;
	int attempts; /* >= 0: set */
	bool set_exit;
	int64_t exit_code;
	const char *message; /* the event's message; also the job's for terminal states */
};
/* Applies the change only if the job is still in c->from: ATR_ECONFLICT otherwise. */
int atr_store_job_transition(struct atr_store *s, int64_t id, const struct atr_job_change *c);
int atr_store_job_set_pending(struct atr_store *s, int64_t id, const char *reason);
/* Holds a queued job back until until_ms (0: no longer held): see atr_job_row.not_before. */
int atr_store_job_hold(struct atr_store *s, int64_t id, int64_t until_ms);
int atr_store_job_request_cancel(struct atr_store *s, int64_t id);
int atr_store_job_set_outputs(struct atr_store *s, int64_t id, int64_t model_version_id, int64_t dataset_version_id);

/*
 * What a job's token reaches of its project (src/api/access.c narrows job tokens to it), by
 * kind: "run", "dataset_version", "model_version" (row ids), "dataset", "model" (ids).
 *   ATR_REACH_WRITE: what the job writes: its run and runs it created, the dataset and model
 *     versions it created or that are its outputs, its declared output dataset or model;
 *   ATR_REACH_READ: its declared inputs: the dataset versions it reads, the model version of
 *     batch inference or serving;
 *   ATR_REACH_NONE: anything else.
 */
enum atr_job_reach { ATR_REACH_NONE = 0, ATR_REACH_READ = 1, ATR_REACH_WRITE = 2 };
int atr_store_job_reach(struct atr_store *s, int64_t job_id, const char *kind, int64_t id, enum atr_job_reach *out);
int atr_store_job_set_port(struct atr_store *s, int64_t id, int port);
/* Links a job and its run both ways. */
int atr_store_job_set_run(struct atr_store *s, int64_t id, int64_t run_id);

/* The body the worker gets: command, env, timeout_s, kind, inputs (with project and files),
 * and for a deployment's replica (kind service) "service": {"health_path"}. */
json_t *atr_store_job_dispatch_json(struct atr_store *s, int64_t id, int *err);
/* The API object. */
json_t *atr_store_job_json(struct atr_store *s, int64_t id, int *err);

struct atr_job_filter {
	int64_t project_id; /* 0: any (admins) */
	int64_t team_id;    /* 0: any */
	int64_t user_id;    /* 0: any */
	const char *state;  /* NULL: any; "a,b": either */
	int64_t worker_id;  /* 0: any */
	const char *kind;   /* NULL: any */
	int64_t visible_to; /* non-admin user: only projects they may read; 0: no restriction */
	/* non-zero: the jobs of competitions' model submissions only where this user (-1: nobody)
	 * owns the project (src/api/competition_models.c) */
	int64_t comp_jobs_for;
	int64_t scorers_to; /* benchmark scorers' jobs only where this user is an editor (-1: none); 0: all */
};
/* Newest first. */
int atr_store_job_list(struct atr_store *s, const struct atr_job_filter *f, const struct atr_page *p, json_t *arr,
		       bool *more);
int atr_store_job_events(struct atr_store *s, int64_t id, const struct atr_page *p, json_t *arr, bool *more);

/* GPU-hours per team over [since, now] (jobs that ran, running ones counted to now). */
int atr_store_team_gpu_hours(struct atr_store *s, int64_t since_ms, int64_t team_id, double *hours);

/* The job's run starts when the job does (not when it was submitted). */
int atr_store_job_run_started(struct atr_store *s, int64_t run_id);
/* The job's run follows the job: status finished | failed | killed, ended now (if running). */
int atr_store_job_run_finish(struct atr_store *s, int64_t run_id, const char *status);

#endif
