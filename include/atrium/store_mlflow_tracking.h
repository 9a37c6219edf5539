#ifndef ATRIUM_STORE_MLFLOW_TRACKING_H
#define ATRIUM_STORE_MLFLOW_TRACKING_H
/*
 * What MLflow's tracking API (src/api/mlflow_experiments.c, mlflow_runs.c) reads and writes
 * beside the projects and runs stores: experiments (projects as MLflow sees them:
 * src/store/experiments.c) and runs in MLflow's shape, loaded a page at a time
 * (src/store/mlflow_runs.c). Everything here is ordinary Atrium data.
 */
#include "atrium/store.h"
#include "atrium/store_runs.h"

/* ---- experiments (src/store/experiments.c) ---- */

struct atr_experiment {
	int64_t id;
	char *name;		  /* its MLflow name (owned) */
	int64_t created, updated; /* ms */
	bool deleted;		  /* archived */
	json_t *tags;		  /* object of strings (owned) */
};

void atr_experiment_release(struct atr_experiment *e);
void atr_experiments_free(struct atr_experiment *e, size_t n);
/*
 * The project id as an experiment, as viewer_id sees it: named by its experiment_name (a
 * native project: its name), except another user's Default experiment, shown by its project
 * name (every user has a "Default"). 0 or ATR_ENOTFOUND / ATR_EDB / ATR_ENOMEM.
 */
int atr_store_experiment_get(struct atr_store *s, int64_t id, int64_t viewer_id, struct atr_experiment *out);
/*
 * The experiments user_id may read (admin: every one; only_project > 0: that project alone,
 * what a job's token reaches), by id, in a view (active: not archived). *out is an array of
 * *n (atr_experiments_free it).
 */
int atr_store_experiments_visible(struct atr_store *s, int64_t user_id, bool admin, int64_t only_project,
				  enum atr_run_view view, struct atr_experiment **out, size_t *n);
/* Sets the tags of the object (strings), keeping the others. */
int atr_store_experiment_set_tags(struct atr_store *s, int64_t id, const json_t *tags);
/* A new MLflow name (the project keeps its name, its slug). */
int atr_store_experiment_rename(struct atr_store *s, int64_t id, const char *name);
/* Un-archives a project. */
int atr_store_project_restore(struct atr_store *s, int64_t id);
/* The user's team when they belong to exactly one; 0 when none or several. */
int64_t atr_store_user_only_team(struct atr_store *s, int64_t user_id);

/* ---- runs in MLflow's shape (src/store/mlflow_runs.c) ---- */

struct atr_mlflow_metric {
	const char *key;
	double value; /* NaN when the last value logged was NaN */
	int64_t ts, step;
};

struct atr_mlflow_run {
	int64_t id, project_id, started_at, ended_at; /* ended_at 0: not ended */
	char uuid[33];
	const char *name, *status;  /* status: Atrium's ("running") */
	const char *user;	    /* the creator's user name; NULL: none */
	const char *dataset_inputs; /* MLflow's dataset inputs, a JSON array as text */
	const char *params, *tags;  /* the run's JSON copies of its params and tags: objects of strings */
	bool deleted;
	struct atr_mlflow_metric *metrics; /* each series' last point */
	size_t nmetrics;
};

struct atr_mlflow_runs {
	struct atr_mlflow_run *runs;
	size_t n;
	void *mem; /* what the strings and arrays live in */
};

/* The runs ids[0..n) with their params, tags and last metrics, in that order (a run that does
 * not exist is left out), in two queries whatever n is. Release with atr_mlflow_runs_release. */
int atr_store_mlflow_runs(struct atr_store *s, const int64_t *ids, size_t n, struct atr_mlflow_runs *out);
void atr_mlflow_runs_release(struct atr_mlflow_runs *r);
/* MLflow's soft delete (runs/delete) and restore: runs.deleted_at. */
int atr_store_run_set_deleted(struct atr_store *s, int64_t run_id, bool deleted);
/* Adds MLflow dataset inputs (an array of {dataset: {name, digest, ...}, tags}) to the run's;
 * one with a name and digest the run has already is not added twice. */
int atr_store_run_add_dataset_inputs(struct atr_store *s, int64_t run_id, const json_t *inputs);
/* A tag's value (*value malloc'd), or ATR_ENOTFOUND. */
int atr_store_run_tag(struct atr_store *s, int64_t run_id, const char *key, char **value);
/* A run's end time set by MLflow's runs/update (ms). */
int atr_store_run_set_ended(struct atr_store *s, int64_t run_id, int64_t ended_at);

#endif
