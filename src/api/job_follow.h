#ifndef ATRIUM_API_JOB_FOLLOW_H
#define ATRIUM_API_JOB_FOLLOW_H
/*
 * job_follow.c: following the batch job of a record (an evaluation, a model-version
 * competition submission) through the engine's watch until it ends, shared by
 * evaluation_watch.c and competition_model_watch.c. The record's state follows the job's
 * ('running', 'pending' again when requeued); when the job ends the user settles it, which
 * may run work on the thread pool. At start every record still in progress is followed again
 * (its job may have ended while the daemon was down: it is settled at once); stop drops the
 * followers, those on the pool when their work ends.
 *
 * A follower is owned by its registry until api_follow_end or api_follow_drop: every path of
 * the callbacks below ends in one of them, or in api_follow_queue.
 */
#include "atrium/jobstate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct atr_app;
struct atr_store;
struct atr_job_watch;
struct api_follows;

struct api_follow {
	struct api_follows *reg;
	struct api_follow *next;
	int64_t id, job_id; /* the record, its job */
	struct atr_job_watch *watch;
	void *data; /* the user's, ops->data_size bytes, zeroed; released by ops->release */
};

struct api_follow_ops {
	const char *what; /* in the log: "evaluation" */
	size_t data_size;
	/* The store's ids of records still in progress after `after`, ascending. */
	int (*active)(struct atr_store *s, int64_t after, int64_t *ids, size_t max, size_t *n);
	/* The record's job (0: none); <0: it cannot be read (not followed). */
	int (*job_of)(struct atr_store *s, int64_t id, int64_t *job_id);
	/* Records the record's state ("pending", "running" or an end) and why. */
	int (*set_state)(struct atr_store *s, int64_t id, const char *state, const char *why);
	/* At start: the record's job no longer exists (ends f). */
	void (*gone)(struct api_follow *f);
	/* The job ended in state (ends f, or queues work with api_follow_queue). */
	void (*settle)(struct api_follow *f, enum atr_job_state state);
	/* On the thread pool, after api_follow_queue (touches no store). */
	void (*work)(struct api_follow *f);
	/* Back on the loop after work (ends f). */
	void (*done)(struct api_follow *f);
	/* Frees what f->data holds (not f->data itself); may be NULL. */
	void (*release)(void *data);
};

/* Follows the records still in progress (at start); the registry is in *slot until stop. */
int api_follows_start(struct atr_app *a, const struct api_follow_ops *ops, struct api_follows **slot);
void api_follows_stop(struct api_follows **slot);
/* Follows record id's new job (reg NULL: not started, nothing). */
void api_follows_add(struct api_follows *reg, int64_t id, int64_t job_id);

struct atr_app *api_follow_app(const struct api_follow *f);
struct atr_store *api_follow_store(const struct api_follow *f);
/* Runs ops->work on the pool, then ops->done; <0 if it could not be scheduled (f still the
 * caller's to end). */
int api_follow_queue(struct api_follow *f);
/* Records the record's end (state, why) and stops following it. */
void api_follow_end(struct api_follow *f, const char *state, const char *why);
/* Stops following it (the record's state already recorded). */
void api_follow_drop(struct api_follow *f);

#endif
