#ifndef ATRIUM_STORE_WORKERS_H
#define ATRIUM_STORE_WORKERS_H
/*
 * store_workers.h: the worker registry (src/store/workers.c): workers and their inventory,
 * their secrets and the join tokens that admit them (rows of api_tokens), the log chunks
 * they ship and the final reports of the jobs they ran.
 */
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "atrium/buf.h"
#include "atrium/store.h"

struct atr_worker_reg {
	const char *name;
	const char *url;
	const char *version;
	const json_t *labels; /* object of strings (borrowed) */
	const json_t *gpus;   /* array (borrowed) */
	int64_t cpus;
	int64_t memory_mb;
	int64_t join_token_id;
};

/*
 * Registers a worker: a new row, or (same name) the existing one, which becomes online with
 * the new inventory, a new random secret nonce and deregistered_at cleared; every secret it
 * had is revoked. Fills *id and *nonce; *existed says whether the name was known. Call
 * inside a transaction together with atr_store_worker_secret_add.
 */
int atr_store_worker_register(struct atr_store *s, const struct atr_worker_reg *reg, int64_t *id, int64_t *nonce,
			      bool *existed);
/* Records a worker secret (its sha256 only) as an api_tokens row of kind 'worker'. */
int atr_store_worker_secret_add(struct atr_store *s, int64_t worker_id, const char *name, const char *hash_hex,
				const char *prefix);

struct atr_worker_flags {
	bool was_offline; /* the heartbeat brought it back */
	bool cordoned;
	bool draining;
};
/* A heartbeat: online, last_heartbeat_at now, and what is given (gpus/running NULL, load < 0,
 * memory_used_mb < 0: kept). ATR_ENOTFOUND when the worker is gone. */
/* What a heartbeat says of the host; a negative field was not reported (kept as it was). */
struct atr_worker_usage {
	double load;
	int64_t memory_used_mb, disk_total_mb, disk_free_mb;
};
int atr_store_worker_heartbeat(struct atr_store *s, int64_t id, const json_t *gpus, const json_t *running,
			       const struct atr_worker_usage *u, struct atr_worker_flags *out);
/* A clean stop: offline, deregistered_at now, its secrets revoked. */
int atr_store_worker_deregister(struct atr_store *s, int64_t id);
/* cordoned / draining: 0 or 1, -1 keeps. ATR_ENOTFOUND when absent. */
int atr_store_worker_set_flags(struct atr_store *s, int64_t id, int cordoned, int draining);
/* Removes the worker and revokes its secrets. */
int atr_store_worker_delete(struct atr_store *s, int64_t id);
/* "online" / "offline" into state (16 bytes). */
int atr_store_worker_state(struct atr_store *s, int64_t id, char state[16]);
/* The nonce the worker's current secret was derived with (see api_worker_secret). */
int atr_store_worker_nonce(struct atr_store *s, int64_t id, int64_t *nonce);

/* The API object (new reference), or NULL with *err. */
json_t *atr_store_worker_json(struct atr_store *s, int64_t id, int *err);
/* state: NULL, "online" or "offline"; schedulable: -1 any, 0, 1. By id. */
int atr_store_worker_list(struct atr_store *s, const char *state, int schedulable, const struct atr_page *p,
			  json_t *arr, bool *more);

/* Marks offline the online workers whose last heartbeat is older than before_ms; their ids
 * go to ids (at most max; *n says how many were marked, which may be more). */
int atr_store_workers_sweep(struct atr_store *s, int64_t before_ms, int64_t *ids, int max, int *n);

struct atr_worker_counts {
	int64_t online, offline, schedulable;
	int64_t gpus, gpus_busy; /* on online workers */
};
int atr_store_worker_counts(struct atr_store *s, struct atr_worker_counts *out);

/* Revokes the unrevoked join tokens with this name (the local worker's, from an earlier start). */
int atr_store_join_token_revoke_named(struct atr_store *s, const char *name);

/* Job logs: chunks by byte offset within (job, attempt). */
/* The offset after the last byte stored (0 when none). */
int atr_store_job_log_end(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t *end);
int atr_store_job_log_add(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t offset, const void *data,
			  size_t len, int64_t worker_id);
/* Appends to out the stored bytes from offset on, at most max. */
int atr_store_job_log_read(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t offset, size_t max,
			   struct atr_buf *out);
/* Deletes the logs of at most max_jobs jobs that ended before before_ms (oldest first) and
 * marks them pruned: the number of jobs, or an atr_err. */
int atr_store_job_logs_prune(struct atr_store *s, int64_t before_ms, int max_jobs);
/* When the job's logs were pruned (0: they were not). */
int atr_store_job_logs_pruned_at(struct atr_store *s, int64_t job_id, int64_t *at);
/* The highest attempt with log chunks or a report (0 when none). */
int atr_store_job_last_attempt(struct atr_store *s, int64_t job_id, int64_t *attempt);

struct atr_job_report {
	int64_t job_id, attempt, worker_id;
	const char *state;
	bool has_exit_code, has_signal;
	int64_t exit_code, signal;
	const char *message;
	int64_t log_bytes;
	int64_t started_at, finished_at; /* 0: unknown */
};
/* Records (or replaces: a retried report) the final report of (job, attempt). */
int atr_store_job_report_put(struct atr_store *s, const struct atr_job_report *r);
/* The report (new reference) of that attempt, or NULL with *err. */
json_t *atr_store_job_report_json(struct atr_store *s, int64_t job_id, int64_t attempt, int *err);

#endif
