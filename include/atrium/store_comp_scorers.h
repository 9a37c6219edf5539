#ifndef ATRIUM_STORE_COMP_SCORERS_H
#define ATRIUM_STORE_COMP_SCORERS_H
/*
 * Competitions ranked by a custom metric (src/store/competition_scorers.c, migration 0041):
 * the competition's scorer, the hidden dataset its subsets are staged in, and the scorer runs
 * of a submission (one job per subset: public, private). Who may see what is src/api/'s
 * (access.c hides the runs' jobs and versions through atr_store_comp_job and
 * atr_store_competition_hiders).
 */
#include "atrium/store.h"

/* Sets the competition's scorer ({command, metrics, resources, timeout_s}; at creation). */
int atr_store_comp_scorer_set(struct atr_store *s, int64_t comp_id, const json_t *scorer);
/* Its scorer (new reference), or NULL with *err 0 when it has none (a built-in metric). */
json_t *atr_store_comp_scorer(struct atr_store *s, int64_t comp_id, int *err);
/* Records the dataset the subsets are staged in, unless one is recorded already; *out: the
 * one recorded (the caller's, or the one another submission recorded first). */
int atr_store_comp_scorer_dataset(struct atr_store *s, int64_t comp_id, int64_t dataset_id, int64_t *out);
/* Whether dataset_id is a competition's scoring dataset (hidden with everything in it). */
int atr_store_comp_is_scorer_dataset(struct atr_store *s, int64_t dataset_id, bool *out);

struct atr_comp_scorer_run {
	int64_t id, submission_id, competition_id, dataset_version_id, job_id;
	char subset[8]; /* public | private */
	char state[8];	/* pending | running | scored | failed */
};

/* A new run of submission sub_id over subset, staged in dataset version dsv_id ('pending'). */
int atr_store_comp_scorer_run_add(struct atr_store *s, int64_t sub_id, int64_t comp_id, const char *subset,
				  int64_t dsv_id, int64_t *id_out);
int atr_store_comp_scorer_run_job(struct atr_store *s, int64_t run_id, int64_t job_id);
int atr_store_comp_scorer_run_get(struct atr_store *s, int64_t run_id, struct atr_comp_scorer_run *out);
/* Moves a run still pending or running to state (why: the real reason, organisers only). */
int atr_store_comp_scorer_run_state(struct atr_store *s, int64_t run_id, const char *state, const char *why);
/* The run's value; it becomes 'scored'. */
int atr_store_comp_scorer_run_done(struct atr_store *s, int64_t run_id, double value);
/* Runs pending or running with ids above after, ascending. */
int atr_store_comp_scorer_runs_active(struct atr_store *s, int64_t after, int64_t *ids, size_t max, size_t *n);

/* What the runs of a submission came to: how many are still pending or running, how many
 * failed, and the value of each subset (ok false: no scored run of it). */
struct atr_comp_scorer_outcome {
	int open, failed;
	bool pub_ok, priv_ok;
	double pub, priv;
};
int atr_store_comp_scorer_outcome(struct atr_store *s, int64_t sub_id, struct atr_comp_scorer_outcome *out);
/* Whether submission sub_id has scorer runs. */
int atr_store_comp_scorer_started(struct atr_store *s, int64_t sub_id, bool *out);
/* The runs of a submission, for its organisers: [{subset, job_id, state, error}] (new
 * reference; NULL with *err 0 when it has none). */
json_t *atr_store_comp_scorer_runs_json(struct atr_store *s, int64_t sub_id, int *err);

#endif
