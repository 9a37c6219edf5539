#ifndef ATRIUM_PROFILE_H
#define ATRIUM_PROFILE_H
/*
 * profile.h: model monitoring's pure computations (src/core/profile*.c, src/core/drift.c):
 * the reference profile of a dataset (built streaming from CSV or JSON Lines files, two
 * passes, memory bounded whatever the file size), its JSON form, folding live requests into
 * counts over the profile's bins, and the drift statistics between two binned
 * distributions. No SQL, no HTTP, no loop: the caller runs the build on the thread pool.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATR_PROFILE_MAX_FEATURES 256
#define ATR_PROFILE_MAX_BINS 50
#define ATR_PROFILE_MAX_CATEGORIES 100

enum atr_profile_format { ATR_PROFILE_CSV, ATR_PROFILE_JSONL };
enum atr_feature_type { ATR_FEAT_INFER = 0, ATR_FEAT_NUMERIC, ATR_FEAT_CATEGORICAL };

/*
 * One feature of a profile. Numeric: nedges inner cut points (strictly increasing) make
 * nbins = nedges + 1 bins, (-inf, e0], (e0, e1], ... (e_last, +inf). Categorical: the top
 * ncats categories by count (ties by first appearance), then one "other" bin: nbins = ncats + 1.
 * counts[nbins] are the reference's counts of non-null values; nulls beside them.
 */
struct atr_profile_feature {
	char *name;
	enum atr_feature_type type;
	size_t nbins;
	uint64_t *counts;
	uint64_t nulls;
	double *edges; /* numeric: nbins - 1 */
	size_t nedges;
	double mean, std, min, max; /* numeric, of the non-null values (population std) */
	char **cats;		    /* categorical: nbins - 1 */
	size_t ncats;
	bool prediction; /* the model's output, not an input: always the profile's last feature */
};

struct atr_profile {
	uint64_t rows;
	size_t nfeat;
	struct atr_profile_feature *f;
};

/* What to profile: features (names with types, or INFER) or none (every column, inferred). */
struct atr_profile_spec {
	size_t nfeat;
	const char *const *names;
	const enum atr_feature_type *types; /* may be NULL: all inferred */
	int bins;			    /* numeric bins wanted (2..50; 0: 10) */
	int max_categories;		    /* 1..100 (0: 20) */
};

/*
 * Builds the profile of files (all of one format) into *out (atr_profile_free it). Reads each
 * file twice in chunks. On failure returns <0 (ATR_EINVAL: a named feature missing; ATR_EUNPROCESSABLE:
 * a malformed file; ATR_ENOMEM) with a lowercase message in why.
 */
int atr_profile_build_files(const char *const *paths, size_t npaths, enum atr_profile_format fmt,
			    const struct atr_profile_spec *spec, struct atr_profile **out, char *why, size_t whylen);
/* The same from memory chunks (tests): each chunk is one file. */
int atr_profile_build_mem(const char *const *data, const size_t *lens, size_t n, enum atr_profile_format fmt,
			  const struct atr_profile_spec *spec, struct atr_profile **out, char *why, size_t whylen);
void atr_profile_free(struct atr_profile *p);

/* The profile as JSON (new reference) and back (*out: free it; <0 when j is not one). */
json_t *atr_profile_json(const struct atr_profile *p);
int atr_profile_from_json(const json_t *j, struct atr_profile **out);

/*
 * Live counts. A window's vector holds ATR_LIVE_HEAD slots (requests, rows, rows that did
 * not fit the schema) then per feature nbins + 2 slots: the bins, nulls, then values outside
 * the reference's range (numeric) or not among its categories (categorical).
 */
enum { ATR_LIVE_REQUESTS = 0, ATR_LIVE_ROWS, ATR_LIVE_MISFIT, ATR_LIVE_HEAD };
size_t atr_profile_slots(const struct atr_profile *p);
/* Offset of feature i's slots. */
size_t atr_profile_offset(const struct atr_profile *p, size_t i);
/*
 * Adds one captured request body (JSON text) to counts[atr_profile_slots(p)]: V2 inputs by name
 * (one tensor per feature) or by position (one [rows, features] tensor), {"instances": [...]},
 * {"inputs": [...]}, a list of rows or one row; a row is an object (by key) or an array (by
 * position). A body that is not JSON or fits none of these counts as one misfit.
 */
void atr_profile_fold(const struct atr_profile *p, const char *body, size_t len, uint64_t *counts);

/* A categorical value's text (integers, reals as the shortest text that reads back, true,
 * false), in buf or borrowed from v; NULL for null, objects and arrays. */
const char *atr_profile_value_text(const json_t *v, char *buf, size_t len);

/* ---- live quality from ground truth (src/core/quality.c) ---- */

#define ATR_QUALITY_MAX_CLASSES 100
#define ATR_QUALITY_CLASS_LEN 64

/* The task a model declares, which decides the live quality figures reported. */
enum atr_task { ATR_TASK_NONE = 0, ATR_TASK_BINARY, ATR_TASK_MULTICLASS, ATR_TASK_REGRESSION };

/* One class's counts over (label, prediction) pairs: label and prediction both this class
 * (tp), the prediction only (fp), the label only (fn). */
struct atr_quality_class {
	char name[ATR_QUALITY_CLASS_LEN];
	uint64_t tp, fp, fn;
};

/* Sums that add across windows: a report over any range is the sum of its windows. */
struct atr_quality {
	uint64_t labelled, correct, numeric;
	double sum_abs, sum_sq, sum_y, sum_y2; /* over the numeric pairs */
	uint64_t class_overflow;	       /* pairs with a class past the cap (or too long a name) */
	size_t nclasses;
	struct atr_quality_class classes[ATR_QUALITY_MAX_CLASSES];
};
/* The prediction for row `row` of an answer: V2 outputs[0].data, {"predictions": [...]},
 * {"prediction": v}, a list, or the answer itself when it is a scalar. Borrowed; NULL: none. */
const json_t *atr_prediction_value(const json_t *answer, size_t row);
/* Adds a (label, prediction) pair: equal (as text) counts as correct; two numbers add to the
 * error sums; the pair adds to its classes' counts (text as atr_profile_value_text). */
void atr_quality_add(struct atr_quality *q, const json_t *label, const json_t *prediction);
/* Adds a class's counts to q (a class past the cap adds tp + fp + fn to class_overflow). */
void atr_quality_add_class(struct atr_quality *q, const char *name, uint64_t tp, uint64_t fp, uint64_t fn);
/* Adds b's sums and classes to a. */
void atr_quality_merge(struct atr_quality *a, const struct atr_quality *b);
/* {"labelled", "accuracy", "mae", "rmse", "r2"} (null where undefined). New reference. */
json_t *atr_quality_json(const struct atr_quality *q);
/*
 * The figures of a task (new reference): {"labelled", "task", ...}. Classification:
 * "accuracy", "precision", "recall", "f1" (binary: of positive, default "1", named in
 * "positive_class"; multiclass: macro averages over the classes seen as label or prediction,
 * "average": "macro"), "classes" (the count of classes seen); a zero denominator gives 0 as
 * scikit-learn's zero_division default does; too many classes give nulls. Regression: "mae",
 * "rmse", "r2". ATR_TASK_NONE: as atr_quality_json.
 */
json_t *atr_quality_task_json(const struct atr_quality *q, enum atr_task task, const char *positive);
/* The task a deployment declares: its monitoring settings' "task" (settings may be NULL), else
 * its model version's signature's (may be NULL); *positive the "positive_class" beside it
 * (borrowed, NULL: none); *source "settings", "model_version" or NULL when none is declared. */
enum atr_task atr_task_declared(const json_t *settings, const json_t *signature, const char **positive,
				const char **source);
/* One figure of atr_quality_task_json (stat: "accuracy", "f1", "rmse" ...); NAN when it has none. */
double atr_quality_task_figure(const struct atr_quality *q, enum atr_task task, const char *positive, const char *stat);
/* "binary_classification" ... from the enum, and back (ATR_TASK_NONE for NULL or unknown). */
const char *atr_task_name(enum atr_task t);
enum atr_task atr_task_parse(const char *s);

/* Makes feature name the prediction: moved to the end, read from answers, not requests.
 * ATR_ENOTFOUND when the profile has no such feature. */
int atr_profile_set_prediction(struct atr_profile *p, const char *name);
/* Adds a captured answer's predictions (atr_prediction_value, row by row) to the prediction
 * feature's slots of counts; nothing when the profile has no prediction feature. */
void atr_profile_fold_answer(const struct atr_profile *p, const char *body, size_t len, uint64_t *counts);

/* ---- drift statistics between a reference and a live distribution over the same bins ---- */

#define ATR_PSI_EPS 1e-4 /* an empty bin's share counts as this in PSI (as Evidently does) */

struct atr_drift {
	double psi;	     /* population stability index (natural log), NaN when a side is empty */
	double js;	     /* Jensen-Shannon distance, base 2 (0..1) */
	double ks;	     /* Kolmogorov-Smirnov statistic over the bins in order (numeric) */
	double chi2, chi2_p; /* chi-square test of homogeneity, 2 x k (categorical) */
	int dof;
};

/* ref[n], live[n]: counts. Fills every figure; a side with no counts gives NaN figures. */
void atr_drift_compute(const uint64_t *ref, const uint64_t *live, size_t n, struct atr_drift *d);
/* The regularized upper incomplete gamma Q(a, x) (a > 0, x >= 0); chi-square's survival
 * function is Q(dof / 2, x / 2). */
double atr_gamma_q(double a, double x);

#endif
