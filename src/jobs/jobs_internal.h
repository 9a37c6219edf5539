#ifndef ATRIUM_JOBS_INTERNAL_H
#define ATRIUM_JOBS_INTERNAL_H
/* Shared by the files of src/jobs/ only: the engine's in-memory model. */
#include <uv.h>

#include "atrium/principal.h"
#include "atrium/engine.h"
#include "atrium/sched.h"

#define ENG_BUCKETS 1024 /* power of two */
#define ENG_MAX_LABELS 32
#define DISPATCH_GRACE_MS 15000 /* a dispatched job its worker never mentions is lost after this */

struct eng_worker {
	struct eng_worker *next;
	int64_t id;
	char name[64];
	char url[256];
	bool online, schedulable;
	int cpus;
	int64_t memory_mb;
	json_t *labels_json; /* keeps the label strings alive */
	struct atr_sched_label labels[ENG_MAX_LABELS];
	int nlabels;
	struct atr_sched_gpu gpus[ATR_SCHED_MAX_GPUS];
	char gpu_names[ATR_SCHED_MAX_GPUS][64];
	int ngpus;
	bool gpu_alloc[ATR_SCHED_MAX_GPUS]; /* held by an active job of ours */
	int cpus_alloc;
	int64_t memory_alloc;
	int64_t suspect_until; /* ms: dispatch failed; not offered until then */
	int64_t nonce;	       /* its registration (0: none): the backend derives its secret from it */
	int64_t last_seen_ms;  /* its last heartbeat (0: none since the engine started) */
	struct eng_job *jobs;  /* the dispatched and running jobs it holds (wnext): a heartbeat reads these */
};

struct eng_job {
	struct eng_job *hnext;	       /* hash chain */
	struct eng_job *next, *prev;   /* all active jobs, by id */
	struct eng_job *qnext, *qprev; /* the queued ones (a pass reads only these) */
	struct eng_job *wnext, *wprev; /* the jobs of one worker (eng_worker.jobs) */
	struct eng_worker *won;	       /* the worker whose list holds it, or NULL */
	struct atr_job_row row;
	struct atr_sched_label sel[ENG_MAX_LABELS];
	int nsel;
	char reason[200];
	bool sending; /* handed to the backend, no result yet */
	int64_t dispatched_ms;
	bool dispatch_unknown;	   /* sent, no answer: the worker's heartbeat decides */
	bool cancel_sent;	   /* the worker was told to cancel */
	char token[ATR_TOKEN_MAX]; /* the job token of the current attempt */
	struct atr_engine *e;
};

struct eng_team_usage {
	int64_t team_id;
	double gpu_hours;
};

/* What a team's dispatched and running jobs hold, kept as jobs move (like a worker's
 * cpus_alloc), so that a pass does not walk every active job to count it. */
struct eng_team_hold {
	int64_t team_id;
	int64_t gpus, jobs;
};

struct atr_job_watch {
	struct atr_job_watch *next;
	int64_t job_id;
	atr_job_watch_fn fn;
	void *cls;
	bool dead;
};

struct atr_engine {
	struct atr_engine_opts o;
	struct atr_job_backend backend;
	struct eng_worker *workers;
	struct eng_job *buckets[ENG_BUCKETS];
	struct eng_job *head, *tail;
	int64_t njobs;
	struct eng_job *qhead, *qtail; /* queued jobs, in the order they were queued */
	int64_t nqueued;
	struct eng_team_hold *holds;
	int nholds;
	uv_timer_t pass_timer;
	uv_timer_t tick; /* periodic: pending reasons, reconciliation timeouts */
	bool pass_scheduled;
	uint64_t last_pass_us, last_pass_cost_us;
	struct atr_job_watch *watches;
	int watch_depth;	     /* > 0 while watchers run: unwatch only marks */
	int64_t fair_share_at;	     /* when recent usage was last read (pass.c keeps it FAIR_SHARE_TTL_MS) */
	struct eng_team_usage *fair; /* recent GPU-hours per team, as read then */
	int nfair;
	int closing;
};

struct eng_job *eng_job_find(struct atr_engine *e, int64_t id);
struct eng_worker *eng_worker_find(struct atr_engine *e, int64_t id);
/* What team_id's dispatched and running jobs hold (a new zero row when it holds nothing yet). */
struct eng_team_hold *eng_team_hold(struct atr_engine *e, int64_t team_id);

/* engine.c: moves j to `to` (store first, then memory); a terminal job is freed. */
int eng_move(struct atr_engine *e, struct eng_job *j, enum atr_job_state to, const struct atr_job_change *extra);

/* Reloads a worker from the registry (a deleted one leaves memory: NULL). */
struct eng_worker *eng_worker_load(struct atr_engine *e, int64_t id);
/* A job whose worker vanished: lost, then requeued while attempts remain, else failed.
 * hold_until (ms, 0: none): the requeued attempt waits until then (its previous attempt may
 * still run: atr_engine_worker_gone). */
void eng_lose(struct atr_engine *e, struct eng_job *j, const char *why, int64_t hold_until);
/* Lost jobs go back to the queue (held until hold_until) while attempts remain, else fail. */
void eng_requeue_or_fail(struct atr_engine *e, struct eng_job *j, const char *requeue_msg, int64_t hold_until);
/* What an ended job leaves: its token revoked, its run's status set. */
void eng_settle(struct atr_engine *e, int64_t id, int64_t run_id, enum atr_job_state to);

/* engine.c: through the backend (atr_job_backend). */
void eng_dispatch_send(struct atr_engine *e, struct eng_job *j);
void eng_dispatch_cancel(struct atr_engine *e, struct eng_job *j);
void eng_dispatch_abort(struct atr_engine *e, struct eng_job *j); /* forget what is in flight for j */

/* engine.c: what the backend reports back (atr_engine_dispatch_result). */
void eng_dispatch_accepted(struct atr_engine *e, struct eng_job *j);
/* The worker refused or could not be reached: back to the queue (no attempt used). */
void eng_dispatch_failed(struct atr_engine *e, struct eng_job *j, const char *why, bool worker_suspect);
/* The worker said the job is impossible (400): the job fails. */
void eng_dispatch_rejected(struct atr_engine *e, struct eng_job *j, const char *why);

/* engine.c: the tick's work (every second on the loop): dispatches never confirmed within
 * DISPATCH_GRACE_MS of atr_now_ms() go back to the queue, then a pass (suspect workers
 * return). The unit tests call it after moving the fake clock (see atr_clock_set). */
void eng_tick(struct atr_engine *e);

/* watch.c */
void eng_notify(struct atr_engine *e, int64_t job_id, enum atr_job_state state, bool log_only);
void eng_watches_free(struct atr_engine *e);

#endif
