#ifndef ATRIUM_STORE_SWEEPS_H
#define ATRIUM_STORE_SWEEPS_H
/*
 * Sweeps and their trials (src/store/sweeps.c). What a valid search space or ASHA setting is,
 * is decided above (atrium/sweep.h, src/api/sweeps.c); what to run next, by src/sweeps/.
 */
#include "atrium/store.h"

struct atr_sweep_row {
	int64_t id, project_id, launcher_id, launcher_version, max_trials, parallelism, created_by;
	uint64_t seed;
	char name[64];
	char method[8]; /* grid | random */
	char metric[256];
	char direction[10]; /* minimize | maximize */
	char state[12];	    /* running | paused | cancelled | completed */
	json_t *space;	    /* owned: the search space */
	json_t *fixed;	    /* owned: values every trial gets */
	json_t *asha;	    /* owned, NULL: no early stopping */
};
void atr_sweep_row_release(struct atr_sweep_row *r);

/* Creates the sweep (row->id set); the json fields are borrowed. */
int atr_store_sweep_create(struct atr_store *s, struct atr_sweep_row *row);
/* By id (within project_id unless it is 0): 0 or ATR_ENOTFOUND; release the row after. */
int atr_store_sweep_get(struct atr_store *s, int64_t project_id, int64_t id, struct atr_sweep_row *out);
/* Deletes a sweep that never ran a trial (its first could not be submitted). */
int atr_store_sweep_delete(struct atr_store *s, int64_t id);
int atr_store_sweep_set_state(struct atr_store *s, int64_t id, const char *state);
/* The ids of the running and paused sweeps (the controller loads them at start): fn per id. */
int atr_store_sweeps_active(struct atr_store *s, int (*fn)(void *cls, int64_t id), void *cls);
/* The API's view (new reference), trials and the best trial included. */
json_t *atr_store_sweep_json(struct atr_store *s, int64_t id, int *err);
/* A project's sweeps, newest first (without their trials); only those in state when not NULL. */
int atr_store_sweep_list(struct atr_store *s, int64_t project_id, const char *state, const struct atr_page *p,
			 json_t *arr, bool *more);

/* ---- trials ---- */

struct atr_trial_row {
	int64_t id, sweep_id, idx, job_id, run_id, next_rung, last_step;
	double last_value;
	bool has_value;
	char state[12];	     /* running | stopped | succeeded | failed | cancelled */
	json_t *rung_values; /* owned */
};

int atr_store_trial_add(struct atr_store *s, int64_t sweep_id, int64_t idx, int64_t job_id, const json_t *params,
			int64_t *id_out);
int atr_store_trial_set_run(struct atr_store *s, int64_t trial_id, int64_t run_id);
/* What ASHA recorded so far and the last value seen (rung_values borrowed). */
int atr_store_trial_progress(struct atr_store *s, int64_t trial_id, int64_t next_rung, const json_t *rung_values,
			     double last_value, int64_t last_step);
/* The trial ended: state, and the step at which ASHA stopped it (-1: it did not). */
int atr_store_trial_end(struct atr_store *s, int64_t trial_id, const char *state, int64_t stopped_step);
/* Every trial of the sweep in index order: fn(cls, row) (row borrowed for the call). */
int atr_store_trials_each(struct atr_store *s, int64_t sweep_id, int (*fn)(void *cls, const struct atr_trial_row *row),
			  void *cls);
/* How many trials the sweep has (its next index). */
int atr_store_trial_count(struct atr_store *s, int64_t sweep_id, int64_t *n);

#endif
