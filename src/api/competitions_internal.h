#ifndef ATRIUM_API_COMPETITIONS_INTERNAL_H
#define ATRIUM_API_COMPETITIONS_INTERNAL_H
/*
 * Shared by competition_subs.c (submissions: a predictions file), competition_models.c (a
 * model version, run as a batch job) and competition_model_watch.c (following those jobs):
 * scoring a predictions file against a competition's hidden ground truth on the thread pool.
 */
#include "api.h"
#include "atrium/scoring.h"
#include "atrium/store_competitions.h"

/* The most bytes of a model-version submission's JSON body. */
#define API_COMP_MODEL_BODY_MAX 16384

struct api_comp_scoring;
struct api_comp_scores {
	bool pub_ok, priv_ok;
	double pub, priv;
	enum atr_scoring_errkind err_kind;
	bool custom; /* the competition's scorer scores it: no scores here (api_comp_scorer_start) */
};

/* A scoring of submission id's predictions (blob sha) against k's ground truth; NULL with
 * *rc (ATR_ENOMEM, or the ground truth's file is missing). Freed with free(). */
struct api_comp_scoring *api_comp_scoring_new(struct atr_store *s, const struct atr_competition *k, int64_t id,
					      const char *sha, enum atr_scoring_format fmt, int *rc);
/* Frees j and what it holds (NULL: nothing). */
void api_comp_scoring_free(struct api_comp_scoring *j);
/* On the thread pool (touches no store). */
void api_comp_scoring_work(void *data);
/* Its result: 0 (scores in out), ATR_EUNPROCESSABLE (the predictions: out->err_kind),
 * ATR_EINVAL (the ground truth), other errors. */
int api_comp_scoring_result(const struct api_comp_scoring *j, struct api_comp_scores *out);
/* 429 naming when the team's next submission is allowed. */
void api_comp_reply_limit(struct atr_req *r, int64_t arrived_at);
/* The format of a ground truth file by its name (.jsonl/.ndjson: JSON Lines, else CSV). */
enum atr_scoring_format api_comp_truth_format(const char *path);

/* Whether test id (len bytes) is in k's public part (seed and fraction: the competition's):
 * 1 or 0; -1 out of memory. *buf (cap bytes, grown as needed; the caller frees it) is scratch. */
int api_comp_public(const char *seed, double fraction, const char *id, size_t len, char **buf, size_t *cap);

/* ---- competitions ranked by a custom metric (competition_scorer.c) ---- */

/* How a submission is checked before a scorer runs: its ids, header and syntax, each
 * prediction a non-empty value (what it means is the scorer's). */
#define API_COMP_CHECK_METRIC "accuracy"

struct api_comp_split;
/* The subsets of submission predictions (format fmt) for k's scorer: four uploads opened here
 * (NULL with *rc). */
struct api_comp_split *api_comp_split_new(struct atr_store *s, const struct atr_competition *k,
					  enum atr_scoring_format fmt, int *rc);
void api_comp_split_free(struct api_comp_split *sp);
/* On the thread pool: the ground truth and the predictions (both checked) split in two. */
int api_comp_split_work(struct api_comp_split *sp, const char *truth_path, const char *pred_path);
/* j's subsets (the caller's now; NULL when j's competition has no scorer). */
struct api_comp_split *api_comp_scoring_take_split(struct api_comp_scoring *j);
/* On the loop, after the work: stages the subsets as hidden dataset versions and submits the
 * scorer's jobs for submission sub_id, which stays 'scoring' until they end (takes sp). */
int api_comp_scorer_start(struct atr_app *a, int64_t sub_id, struct api_comp_split *sp);
/* The same for an uploaded file: 202 with the submission, or an error (takes sp). */
void api_comp_scorer_submit_reply(struct atr_req *r, int64_t sub_id, struct api_comp_split *sp);

/* ---- model-version submissions (competition_models.c) ---- */

/* Whether the route's competition takes model versions. */
bool api_comp_model_kind(struct atr_req *r);
/* Collects the JSON body (at most API_COMP_MODEL_BODY_MAX bytes: 413). */
int api_comp_model_chunk(struct atr_req *r, char **body, int64_t *received, const char *data, size_t len);
/* The body is complete: checks it, records the submission, submits its job (202). */
void api_comp_model_submit(struct atr_req *r, const char *body, size_t len, int64_t entry_id, int64_t arrived_at);
/* Follows submission sub_id's job (competition_model_watch.c). */
void api_compjobs_follow(struct atr_app *a, int64_t sub_id, int64_t job_id);

#endif
