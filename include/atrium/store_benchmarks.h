#ifndef ATRIUM_STORE_BENCHMARKS_H
#define ATRIUM_STORE_BENCHMARKS_H
/*
 * Benchmarks, evaluations, leaderboards and the evaluation gate (src/store/benchmarks*.c).
 * A benchmark: a committed dataset version's file as ground truth and the metrics it scores.
 * An evaluation: one scored predictions file for a model version or a run (its subject).
 * The leaderboard: each subject's best evaluation by the benchmark's primary metric (ties: the
 * earlier evaluation), kept in benchmark_leaders as evaluations arrive. The gate: a model's
 * `production` alias may only point at a version with an evaluation on a named benchmark
 * whose metric is at or past a threshold; atr_store_model_alias_set checks it.
 */
#include "atrium/store.h"

#define ATR_BENCH_METRICS_MAX 32

struct atr_benchmark {
	int64_t id, project_id, dataset_version_id;
	char name[64];
	char truth_path[1025];
	char format[8]; /* "csv" | "jsonl" */
	char id_column[256], label_column[256], prediction_column[256], pos_label[256];
	int top_k;
	size_t n_metrics;
	char metrics[ATR_BENCH_METRICS_MAX][32];
	char primary_metric[32];
};

/* Creates b (id set on success); ATR_ECONFLICT when the name is taken in the project. */
int atr_store_benchmark_create(struct atr_store *s, struct atr_benchmark *b, const char *description, int64_t user_id);
/* By name or id within a project: 0 or ATR_ENOTFOUND. */
int atr_store_benchmark_find(struct atr_store *s, int64_t project_id, const char *ref, struct atr_benchmark *out);
int atr_store_benchmark_get(struct atr_store *s, int64_t id, struct atr_benchmark *out);
/* The API's view (new reference): id, project, name, description, dataset {name, version},
 * file, format, columns, metrics [{name, direction}], primary_metric, evaluation_count, ... */
json_t *atr_store_benchmark_json(struct atr_store *s, int64_t id, int *err);
/* A project's benchmarks by id (newest first). */
int atr_store_benchmark_list(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr,
			     bool *more);
/* Changes the description (NULL: kept) and the primary metric (NULL: kept; the leaderboard
 * is rebuilt from the evaluations). */
int atr_store_benchmark_update(struct atr_store *s, int64_t id, const char *description, const char *primary,
			       int primary_direction);
/* Deletes it with its evaluations (their files' blobs become garbage); ATR_ECONFLICT and the
 * gating model's name in model (may be NULL) while a model's gate names it. */
int atr_store_benchmark_delete(struct atr_store *s, int64_t id, char *model, size_t modellen);

/* ---- evaluations ---- */

struct atr_evaluation_new {
	int64_t benchmark_id, model_version_id, run_id, dataset_version_id, user_id;
	const char *actor;
	const char *format;
	int64_t rows;
	const json_t *metrics;	 /* {name: number | null} */
	const json_t *undefined; /* {name: why} */
	const json_t *confusion; /* {labels, matrix} or NULL */
	bool has_primary;
	double primary_value;
	int primary_direction; /* 1: higher is better, -1: lower */
	const char *sha256;    /* the predictions file's blob */
	int64_t size;
	const char *state; /* NULL: scored; "pending" (evaluations run as jobs) */
	int64_t job_id;	   /* the batch-inference job that makes the predictions, or 0 */
};

/* Records an evaluation, its predictions file ("predictions.<format>") and its leaderboard
 * place, in one transaction; id into *id. */
int atr_store_evaluation_create(struct atr_store *s, const struct atr_evaluation_new *e, int64_t *id);
/* One evaluation of the benchmark (new reference; ATR_ENOTFOUND in *err otherwise). */
json_t *atr_store_evaluation_json(struct atr_store *s, int64_t benchmark_id, int64_t id, int *err);
/* A benchmark's evaluations by id, newest first; model_version_id > 0 filters. */
int atr_store_evaluation_list(struct atr_store *s, int64_t benchmark_id, int64_t model_version_id,
			      const struct atr_page *p, json_t *arr, bool *more);
/*
 * A page of the leaderboard: best first; the cursor is [sort_key, evaluation id] of the last
 * row (p->after_kind ATR_PAGE_NUM). Items: {rank, evaluation_id, subject: model_version|run,
 * model, version, run_id, primary, metrics, scorer (its scorer's state or null), created_by,
 * created_at}; rank is null on the unranked rows (ATR_LEADER_UNRANKED), which come last.
 */
int atr_store_leaderboard(struct atr_store *s, int64_t benchmark_id, const struct atr_page *p, json_t *arr, bool *more);

/* ---- evaluations of a model version run as a batch-inference job (evaluation_jobs.c) ---- */

struct atr_evaluation_job {
	int64_t id, benchmark_id, model_version_id, job_id;
	char format[8];
	char state[12]; /* pending | running | scored | failed */
};
/* Records e (state "pending", e->job_id its job; no metrics, no file, not ranked yet). */
int atr_store_evaluation_pending(struct atr_store *s, const struct atr_evaluation_new *e, int64_t *id);
int atr_store_evaluation_job_get(struct atr_store *s, int64_t id, struct atr_evaluation_job *out);
/* pending|running -> state (running, failed with error); an ended evaluation is left as it is. */
int atr_store_evaluation_set_state(struct atr_store *s, int64_t id, const char *state, const char *error);
/* A pending or running evaluation scored: its values, its predictions file, its leaderboard
 * place, in one transaction (e->metrics ... as atr_store_evaluation_create's). */
int atr_store_evaluation_scored(struct atr_store *s, int64_t id, const struct atr_evaluation_new *e);
/* Up to max ids (> after_id, ascending) of the evaluations still pending or running. */
int atr_store_evaluation_active(struct atr_store *s, int64_t after_id, int64_t *ids, size_t max, size_t *n);

/* ---- the evaluation gate ---- */

struct atr_gate {
	int64_t model_id, benchmark_id;
	char benchmark[64];
	char metric[32];
	double threshold;
	int direction; /* of the metric: 1 higher is better (value >= threshold), -1 (value <= threshold) */
};

/* Sets (replaces) the gate of a model's `production` alias. */
int atr_store_gate_set(struct atr_store *s, const struct atr_gate *g, const char *actor);
/* 0 and *out, or ATR_ENOTFOUND when the model has no gate. */
int atr_store_gate_get(struct atr_store *s, int64_t model_id, struct atr_gate *out);
int atr_store_gate_delete(struct atr_store *s, int64_t model_id);
/*
 * Whether version_id may become the model's alias: 0 (no gate on that alias, or an
 * evaluation passes: its id into *evaluation_id when not NULL), ATR_ECONFLICT (none passes:
 * the gate into *g when not NULL, and the best value found into *best, NAN when the version
 * has no evaluation on the benchmark), or a store error.
 */
int atr_store_gate_check(struct atr_store *s, int64_t model_id, const char *alias, int64_t version_id,
			 struct atr_gate *g, int64_t *evaluation_id, double *best);

/* ---- custom scorers (benchmarks_scorer.c) ---- */

/* Sets a benchmark's scorer: {command, metrics [{name, direction}], resources} (NULL: none). */
int atr_store_benchmark_set_scorer(struct atr_store *s, int64_t id, const json_t *scorer);
/* Its scorer (new reference) and its creator into *created_by; NULL with *err 0 when it has none. */
json_t *atr_store_benchmark_scorer(struct atr_store *s, int64_t id, int64_t *created_by, int *err);
/* An evaluation's scorer: state (pending | running | failed), its job (0: kept), the reason. */
int atr_store_evaluation_scorer_state(struct atr_store *s, int64_t id, const char *state, int64_t job_id,
				      const char *error);
/* The scorer's metrics joined to the evaluation's; its scorer state 'scored'. */
int atr_store_evaluation_scorer_done(struct atr_store *s, int64_t id, const json_t *metrics);
/*
 * A benchmark may be ranked by one of its scorer's metrics (its primary metric). Its
 * evaluations then enter the leaderboard when their scorer ends: while it is pending or
 * running, or when it failed, the subject's row (if it has no better one) carries this
 * sort key, worse than any value, and is shown without a rank.
 */
#define ATR_LEADER_UNRANKED 1e300
/* The direction of the benchmark's custom metric: 1 higher is better, -1 lower, 0 not one. */
int atr_store_benchmark_custom_direction(struct atr_store *s, int64_t id, const char *metric);
/* The version's newest evaluation on the gate's benchmark still lacking the gate's metric
 * because its scorer is pending, running (first) or failed: its id and scorer state (0: none). */
int atr_store_gate_scoring(struct atr_store *s, const struct atr_gate *g, int64_t version_id, int64_t *evaluation_id,
			   char *state, size_t len);
/* Whether the job is a scorer's job (it reads the ground truth and prints the scorer's output:
 * only the project's editors see it). True when it cannot tell. */
bool atr_store_job_scores(struct atr_store *s, int64_t job_id);
/* Up to max ids (> after_id, ascending) of the evaluations whose scorer is pending or running. */
int atr_store_evaluation_scorer_active(struct atr_store *s, int64_t after_id, int64_t *ids, size_t max, size_t *n);

#endif
