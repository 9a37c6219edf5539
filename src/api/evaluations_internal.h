#ifndef ATRIUM_API_EVALUATIONS_INTERNAL_H
#define ATRIUM_API_EVALUATIONS_INTERNAL_H
/*
 * Shared by evaluations.c (uploaded predictions) and evaluation_jobs.c (predictions a
 * batch-inference job wrote): scoring a predictions file against a benchmark's ground truth
 * on the thread pool, and its result as the store records it.
 */
#include "atrium/scoring.h"
#include "atrium/store_benchmarks.h"

#include <jansson.h>

struct api_scoring {
	struct atr_benchmark b; /* a copy: the spec's strings stay valid on the pool */
	enum atr_scoring_format fmt;
	char fmt_name[8];
	char truth_blob[1300], pred_blob[1300];
	/* results (the pool's) */
	int rc;
	bool truth_bad;
	struct atr_scoring_error err;
	struct atr_scoring_result res;
	json_t *confusion; /* owned; freed by api_scoring_release */
};

/* On the thread pool (touches no store): reads both files and scores; results into sc. */
void api_scoring_work(struct api_scoring *sc);
/* On the loop: {name: value | null}, {name: why} (new references) and the primary value into e. */
int api_scoring_values(const struct api_scoring *sc, struct atr_evaluation_new *e, json_t **metrics, json_t **undef);
void api_scoring_release(struct api_scoring *sc);

/* Streams the file at path into feed in chunks (0, ATR_EIO, ATR_ENOMEM or feed's error). */
typedef int (*api_feed_fn)(void *obj, const void *data, size_t len);
int api_feed_file(const char *path, api_feed_fn feed, void *obj);

/* The inputs-only copy of a ground truth (its label column dropped), made by evaluation_jobs.c
 * for a benchmark and by competition_models.c for a competition. Open: finds the ground truth
 * (file path of dataset version dsv_id), writes its blob's path into truth_blob and opens the
 * upload *u the copy goes to. Strip, on the thread pool: the copy (err, when not NULL, says why
 * on ATR_EUNPROCESSABLE). */
struct atr_store;
struct atr_upload;
int api_inputs_open(struct atr_store *s, int64_t dsv_id, const char *path, char *truth_blob, size_t len,
		    struct atr_upload **u);
int api_inputs_strip(const char *truth_blob, enum atr_scoring_format fmt, const char *label_column,
		     struct atr_upload *u, struct atr_scoring_error *err);

#endif
