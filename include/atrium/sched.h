#ifndef ATRIUM_SCHED_H
#define ATRIUM_SCHED_H
/*
 * sched.h: placement, as pure functions: no I/O, no SQL, no clock. The caller (the jobs
 * phase's dispatcher) builds the inputs from the store, calls atr_sched_plan, and acts on the
 * placements; tests call it with hand-made and random inputs.
 *
 * The rules (docs/workers.md has them with examples):
 *  - Jobs are considered by priority, highest first. Within one priority, the next job is
 *    the oldest queued job (FIFO) of the team with the lowest fair-share score, where
 *        score = (GPUs in use now + GPUs placed in this pass + recent_gpu_hours / window) / weight
 *    (ties: the older head job, then the lower job id). Placing a job raises its team's
 *    score, so equal teams alternate.
 *  - A team's max_gpus and max_concurrent_jobs are never exceeded.
 *  - A job goes to an online, schedulable (not cordoned, not draining) worker that has
 *    every selector label, enough free CPUs and memory, and enough free GPUs of its type:
 *    not busy (used by something else), not allocated to a running job, not placed in this
 *    pass. gpu_type matches a GPU whose name contains it, ignoring case ("A100").
 *  - Best fit: the worker left with the fewest free matching GPUs, then the fewest free
 *    GPUs, then the fewest free CPUs, then the lowest id, so small jobs pack onto partly
 *    used hosts and whole hosts stay free for large jobs. GPUs are taken lowest index first.
 *  - A job that cannot be placed stays queued with a reason; later jobs may still be
 *    placed (no reservations: a large job can wait while small ones keep fitting).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATR_SCHED_MAX_GPUS 64 /* per worker */
/* A worker with this label (a Slurm cluster's) takes only jobs whose selector names it. */
#define ATR_SCHED_EXCLUSIVE_LABEL "atrium.cluster"

struct atr_sched_label {
	const char *key;
	const char *value;
};

struct atr_sched_job {
	int64_t id;
	int64_t team_id;      /* 0: no team (no quota, weight 1) */
	int priority;	      /* higher runs first */
	int64_t submitted_at; /* FIFO within a priority */
	int gpus;
	const char *gpu_type; /* NULL or "": any */
	int cpus;	      /* 0: no request */
	int64_t memory_mb;    /* 0: no request */
	const struct atr_sched_label *selector;
	int nselector;
};

struct atr_sched_gpu {
	int index;
	const char *name;
	bool busy;	/* used by processes Atrium did not start */
	bool allocated; /* held by a running Atrium job */
};

struct atr_sched_worker {
	int64_t id;
	const char *name;
	bool online;
	bool schedulable; /* neither cordoned nor draining */
	const struct atr_sched_label *labels;
	int nlabels;
	const struct atr_sched_gpu *gpus;
	int ngpus;
	int cpus;
	int64_t memory_mb;
	int cpus_allocated;	     /* by running jobs */
	int64_t memory_allocated_mb; /* by running jobs */
};

struct atr_sched_team {
	int64_t id;
	const char *name;
	int64_t max_gpus;  /* -1: unlimited */
	int64_t max_jobs;  /* max_concurrent_jobs; -1: unlimited */
	int64_t gpus_used; /* by running jobs */
	int64_t jobs_running;
	double recent_gpu_hours; /* GPU-hours used within the fair-share window */
	double weight;		 /* share; <= 0 counts as 1 */
};

struct atr_sched_input {
	const struct atr_sched_job *jobs;
	int njobs;
	const struct atr_sched_worker *workers;
	int nworkers;
	const struct atr_sched_team *teams;
	int nteams;
	double window_hours; /* the window of recent_gpu_hours; <= 0 counts as 24 */
};

struct atr_sched_placement {
	int64_t job_id;
	int64_t worker_id;
	int ngpus;
	int gpus[ATR_SCHED_MAX_GPUS]; /* GPU indices on that worker, ascending */
};

struct atr_sched_pending {
	int64_t job_id;
	char reason[200]; /* "team 'vision' is at its quota of 4 GPUs" */
};

struct atr_sched_plan {
	struct atr_sched_placement *placements; /* in the order they were decided */
	int nplacements;
	struct atr_sched_pending *pending;
	int npending;
	int64_t *order; /* every job id, in the order the jobs were considered */
	int norder;
};

/* Decides a pass. out's arrays are allocated (atr_sched_plan_release frees them).
 * 0 or ATR_ENOMEM / ATR_EINVAL (a worker with more than ATR_SCHED_MAX_GPUS GPUs). */
int atr_sched_plan(const struct atr_sched_input *in, struct atr_sched_plan *out);
void atr_sched_plan_release(struct atr_sched_plan *p);

/*
 * Whether the job could ever run: some registered worker, whatever its state and load, has
 * its labels, GPUs of its type, CPUs and memory, and its team's quota (team may be NULL) is
 * not below what it asks. false with the reason in why (for a 422 at submit time).
 */
bool atr_sched_feasible(const struct atr_sched_job *job, const struct atr_sched_team *team,
			const struct atr_sched_worker *workers, int nworkers, char *why, size_t whylen);

#endif
