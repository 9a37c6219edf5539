#ifndef ATRIUM_STORE_RUNS_H
#define ATRIUM_STORE_RUNS_H
/*
 * Runs, their parameters, tags and inputs (src/store/runs.c), and run search
 * (src/store/run_search.c). Metrics are in store_metrics.h.
 */
#include "atrium/runquery.h"
#include "atrium/store.h"
#include "atrium/store_projects.h"

struct atr_run {
	int64_t id;
	int64_t project_id;
	char status[16];
	char uuid[33]; /* its MLflow run id */
	bool deleted;  /* deleted through MLflow (restorable): not in searches */
};

enum atr_git_tree { ATR_GIT_UNKNOWN = 0, ATR_GIT_CLEAN, ATR_GIT_DIRTY };

struct atr_run_spec {
	int64_t project_id;
	const char *name;
	const json_t *params; /* string map, may be NULL */
	const json_t *tags;   /* string map, may be NULL */
	const char *status;   /* NULL: running */
	int64_t started_at;   /* 0: now */
	int64_t job_id;	      /* 0: none */
	int64_t user_id;
	const int64_t *inputs; /* dataset_versions.id */
	size_t ninputs;
	const char *uuid;	     /* the MLflow run id (32 lowercase hex); NULL: a new random one.
			   * ATR_ECONFLICT when a run has it already (an import that ran before). */
	int64_t ended_at;	     /* 0: now for a run created ended, else none */
	const char *git_commit;	     /* the code version it came from; NULL: not known */
	enum atr_git_tree git_dirty; /* whether its working tree had changes */
};

/* What PATCH may change; NULL leaves a field as it is. */
struct atr_run_patch {
	const char *name;
	const char *status;   /* a terminal status sets ended_at (if unset); running clears it */
	const json_t *params; /* string map: new keys are added; a key's value never changes */
	const json_t *tags;   /* object: a string sets the tag, null removes it */
};

int atr_store_run_create(struct atr_store *s, const struct atr_run_spec *spec, int64_t *id_out);
int atr_store_run_get(struct atr_store *s, int64_t id, struct atr_run *out);
/* The run, its project and user_id's membership role there (ATR_PROLE_NONE when not a member
 * or user_id is 0), in one query: what a run endpoint's access check reads. 0, ATR_ENOTFOUND
 * or ATR_EDB. */
/* The same, by the run's MLflow id (32 hex characters). */
int atr_store_run_access_uuid(struct atr_store *s, const char *uuid, int64_t user_id, struct atr_run *run,
			      struct atr_project *project, enum atr_prole *member);
int atr_store_run_access(struct atr_store *s, int64_t id, int64_t user_id, struct atr_run *run,
			 struct atr_project *project, enum atr_prole *member);
/* The run with params, tags, metrics ({key: last}), inputs ([{dataset, version, dataset_version_id}]). */
json_t *atr_store_run_json(struct atr_store *s, int64_t id, int *err);
/* The run as a list item: like atr_store_run_json without inputs. */
json_t *atr_store_run_item(struct atr_store *s, int64_t id, int *err);
/*
 * Applies a patch in one transaction. A param already set to another value is ATR_ECONFLICT
 * with its key copied to conflict_key (nothing is changed then).
 */
int atr_store_run_update(struct atr_store *s, int64_t id, const struct atr_run_patch *patch, char *conflict_key,
			 size_t keylen);
/*
 * Whether something keeps the run alive: a model version names it as its source_run_id.
 * false while the model registry's table does not exist.
 */
bool atr_store_run_in_use(struct atr_store *s, int64_t run_id);
/* The same, saying why (into why): "it is the source run of version 2 of model 'x'", "it is the
 * run of job 7 (running)". */
bool atr_store_run_kept_by(struct atr_store *s, int64_t run_id, char *why, size_t whylen);
/*
 * Deletes the run, its params, tags, inputs, metrics and its files rows (the bytes are left to
 * the blob garbage collector). ATR_ECONFLICT when atr_store_run_in_use.
 */
int atr_store_run_delete(struct atr_store *s, int64_t run_id, char *why, size_t whylen);

/*
 * Search plan thresholds (src/store/run_search.c): a filter clause matching fewer runs than
 * drive_cap (default 500) drives the plan; one matching fewer than set_cap (10000) is tested as
 * a set. Tests set them to 0 or INT64_MAX to force each plan.
 */
extern int64_t atr_run_search_drive_cap, atr_run_search_set_cap;
/*
 * Runs of a project matching q in q's order, one page (list items, see atr_store_run_item);
 * runs deleted through MLflow are left out. *next is the next cursor array ([value, id], or
 * [id] for the default newest-first order; new reference) or NULL on the last page.
 * ATR_EINVAL: p's cursor is not one of this order.
 */
int atr_store_run_search(struct atr_store *s, int64_t project_id, const struct atr_runquery *q,
			 const struct atr_page *p, json_t *arr, json_t **next);

/* Which runs a search sees: live ones (the default), those deleted through MLflow, or both. */
enum atr_run_view { ATR_RUN_VIEW_ACTIVE, ATR_RUN_VIEW_DELETED, ATR_RUN_VIEW_ALL };
/* Where a search looks: one project or several (MLflow's experiment_ids), and the view. */
struct atr_run_scope {
	const int64_t *projects;
	size_t nprojects; /* at least 1 */
	enum atr_run_view view;
};
/*
 * The same search over a scope, as run ids: at most limit of them into ids (room for limit),
 * *n the count. after is the cursor array a previous page gave as *next (NULL: the first
 * page); *next is NULL on the last page. One project with one order term uses the index plans
 * above; several projects, several order terms, or an order no index serves (end time, status,
 * run id, user) sort the matching runs. ATR_EINVAL: after is not a cursor of this query.
 */
int atr_store_run_search_ids(struct atr_store *s, const struct atr_run_scope *scope, const struct atr_runquery *q,
			     int limit, const json_t *after, int64_t *ids, size_t *n, json_t **next);

#endif
