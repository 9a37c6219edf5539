#ifndef ATRIUM_JOBSTATE_H
#define ATRIUM_JOBSTATE_H
/*
 * jobstate.h: the job state machine, as data. Every change of a job's state goes through
 * atr_job_transition_ok; an illegal one is refused (and is a bug: logged, never applied).
 *
 *   queued -> dispatched -> running -> succeeded | failed | cancelled
 *   queued -> cancelled;  dispatched -> queued (dispatch failed) | failed | cancelled
 *   dispatched | running -> lost (the worker vanished) -> queued (attempts remain) | failed
 */
#include <stdbool.h>

enum atr_job_state {
	ATR_JOB_QUEUED,
	ATR_JOB_DISPATCHED,
	ATR_JOB_RUNNING,
	ATR_JOB_SUCCEEDED,
	ATR_JOB_FAILED,
	ATR_JOB_CANCELLED,
	ATR_JOB_LOST,
	ATR_JOB_NSTATES
};

const char *atr_job_state_name(enum atr_job_state s);
/* -1 when the name is unknown. */
int atr_job_state_parse(const char *name);
bool atr_job_state_terminal(enum atr_job_state s);
/* Active: holds or waits for a place on a worker. */
bool atr_job_state_active(enum atr_job_state s);
bool atr_job_transition_ok(enum atr_job_state from, enum atr_job_state to);

#endif
