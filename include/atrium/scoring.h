#ifndef ATRIUM_SCORING_H
#define ATRIUM_SCORING_H
/*
 * Scoring: a benchmark's built-in metrics over a predictions file and its ground truth, equal
 * to scikit-learn 1.2's on the same inputs (tests/scoring/check_sklearn.py compares them).
 * Pure and streaming: the caller feeds the bytes of each file in chunks of any size (a row
 * may cross chunks); nothing here reads a file, a database or the network. Memory grows with
 * the number of ids of the ground truth (held by id in a hash table), never with the size of
 * the predictions file: a prediction is matched to its id as it is read.
 *
 * Memory: a truth holds about 70 bytes an id besides the id itself; a scoring about 33 bytes
 * a row of the truth (8 more a class for roc_auc_ovr), its classes, and one record of its
 * file (ATR_SCORING_RECORD_MAX at most).
 *
 * Use: a truth (atr_scoring_truth_new, _feed, _end) is loaded once; it is then read-only and
 * may serve any number of scorings, from several threads at once. A scoring
 * (atr_scoring_new, _feed, _end) reads one predictions file against it; atr_scoring_compute
 * then gives the metric values over all the ids, or over a subset (a competition's public
 * part), as often as asked; atr_scoring_confusion gives the confusion matrix.
 *
 * Formats (the same for both files):
 *  - CSV (RFC 4180): UTF-8 (a byte-order mark at the start is skipped); the first record is
 *    the header; fields separated by ',', records ended by LF or CRLF (the last one may have
 *    neither); a field may be quoted with '"', a '"' inside it doubled; a quoted field may
 *    hold ',', CR and LF. A '"' inside an unquoted field, anything but ',' or the end of the
 *    record after a closing quote, and a CR outside quotes that does not end the record are
 *    errors. Every record has as many fields as the header. Empty lines are skipped.
 *  - JSON Lines: one JSON object per line (LF or CRLF), UTF-8; blank lines are skipped. Keys
 *    play the part of the CSV columns. An id is a string or a number (by its text as
 *    written: 7 and "7" are the same id); a class label a string, a number or a boolean
 *    (by its text); a number a JSON number (null, NaN and Infinity, which Python writes, are
 *    the NaN error; a string is not a number).
 *  - A record (a CSV record or a JSON line) is at most ATR_SCORING_RECORD_MAX bytes.
 *  - Numbers in CSV: [+-]digits[.digits][(e|E)[+-]digits] (".5" and "5." too), spaces around
 *    allowed; "nan", "inf", "infinity" (any case, any sign) are the NaN error: NaN and
 *    infinities are never allowed (scikit-learn refuses them too).
 *
 * Columns (names from the spec; other columns or keys are ignored in both files):
 *  - ground truth: the id column (default "id") and the label column (default "label"): a
 *    class label for classification, a number for regression. An id or a class label may not
 *    be empty. At least one row.
 *  - predictions: the id column, the prediction column (default "prediction", always
 *    needed: it also gives the confusion matrix) and, when a metric needs probabilities, one
 *    column "proba_<class>" per class (CSV: in the header; JSON Lines: flat "proba_<class>"
 *    keys, or one key "proba" holding {"<class>": number, ...}; the first line fixes the set
 *    of classes and every line gives the same set). Every class of the ground truth needs a
 *    probability column; more classes may have one (they count as scikit-learn's `labels`).
 *    Each id of the ground truth has exactly one prediction.
 *
 * Errors: a function that fails on the data returns ATR_EUNPROCESSABLE and keeps the error
 * (atr_scoring_truth_error, atr_scoring_error): its kind, the 1-based line of the file where
 * it is (a record that spans lines: the line of the bad byte, else its first line; 0 when it
 * is about the file as a whole: a missing id, no rows) and a message, lowercase, that names
 * the line ("line 7: ..."). The first error sticks: later calls return it again. Messages
 * quote ids, class names and column names (cut, control characters escaped), never another
 * row's label or value: a predictions error reveals nothing of the ground truth but its ids
 * and class names.
 *
 * Metrics (atr_scoring_metrics lists them with their direction and needs), as scikit-learn
 * 1.2 computes them, with its defaults where not said:
 *  - labels: sklearn's unique_labels(y_true, y_pred) of the scored rows, sorted bytewise
 *    (code points), as strings; zero_division="warn", i.e. 0 where a precision or recall
 *    divides by zero; "precision", "recall", "f1" are average="binary" with the spec's
 *    pos_label (default "1"), undefined (as sklearn raises) when the rows hold more than two
 *    labels, or two without pos_label.
 *  - "roc_auc": roc_auc_score(y_true == pos_label, proba_<pos_label>): binary, any number
 *    of classes (pos_label against the rest). "roc_auc_ovr" / "roc_auc_ovr_weighted":
 *    roc_auc_score(multi_class="ovr", average="macro" / "weighted", labels=the probability
 *    classes); with more than two classes the rows' probabilities must sum to one as sklearn
 *    checks (np.allclose), else the value is undefined; with two, the average of both
 *    one-vs-rest AUCs (sklearn's multilabel path: no such check). Ties count one half
 *    (sklearn's trapezoid over distinct thresholds).
 *  - "log_loss": log_loss(labels=the probability classes, eps="auto"): each probability
 *    clipped to [eps, 1 - eps] (eps = DBL_EPSILON), each row renormalised to sum to one.
 *  - "top_k_accuracy": top_k_accuracy_score(k=top_k (default 2), labels=the probability
 *    classes); ties go to the greater class (sklearn's stable argsort); with two classes
 *    sklearn's binary rule: the greater class's score over 0.5 (over 0 when a score of the
 *    rows lies outside [0, 1]).
 *  - regression: "rmse" (mean_squared_error(squared=False)), "mae", "r2" (r2_score with
 *    force_finite: constant y_true gives 1 or 0; undefined under two rows), "mape"
 *    (mean_absolute_percentage_error: |y_true| floored at DBL_EPSILON).
 * Sums are numpy's (pairwise, in 8192-value blocks, in the ground truth's row order), so a
 * mean is bit for bit numpy's. A value sklearn would refuse to compute (raises ValueError or
 * gives NaN) is "undefined", with the reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATR_SCORING_MAX_METRICS 32
#define ATR_SCORING_RECORD_MAX (1u << 20)
#define ATR_SCORING_MAX_CLASSES 65536	  /* default cap on distinct labels (truth and predictions) */
#define ATR_SCORING_MAX_SCORES (1u << 25) /* default cap on ids x classes held for roc_auc_ovr */
#define ATR_SCORING_MAX_CONFUSION 1024	  /* classes of a confusion matrix */

enum atr_scoring_task { ATR_SCORING_CLASSIFICATION = 1, ATR_SCORING_REGRESSION = 2 };
enum atr_scoring_direction { ATR_SCORING_HIGHER = 1, ATR_SCORING_LOWER = -1 };
/* what a metric reads from the predictions */
#define ATR_SCORING_NEEDS_LABELS 1u  /* the prediction column: a class label */
#define ATR_SCORING_NEEDS_PROBA 2u   /* the probability columns */
#define ATR_SCORING_NEEDS_NUMBERS 4u /* the prediction column: a number */

struct atr_scoring_metric {
	const char *name; /* "accuracy", "f1_macro", ... */
	enum atr_scoring_task task;
	enum atr_scoring_direction direction;
	unsigned needs;	     /* ATR_SCORING_NEEDS_* */
	const char *sklearn; /* the scikit-learn call it equals */
};

/* The built-in metrics (static table, n entries). */
const struct atr_scoring_metric *atr_scoring_metrics(size_t *n);
/* The metric of that name, or NULL. */
const struct atr_scoring_metric *atr_scoring_metric_find(const char *name);

enum atr_scoring_format { ATR_SCORING_CSV = 1, ATR_SCORING_JSONL = 2 };
/* "csv" or "jsonl" (also "ndjson"); 0 or ATR_EINVAL. */
int atr_scoring_format_parse(const char *name, enum atr_scoring_format *out);

/*
 * What a benchmark scores. Strings are borrowed only during the call that takes the spec
 * (the objects copy them); NULL or 0 fields take the defaults.
 */
struct atr_scoring_spec {
	const char *const *metrics;    /* names from atr_scoring_metrics, one task, no repeats */
	size_t n_metrics;	       /* 1 .. ATR_SCORING_MAX_METRICS */
	const char *id_column;	       /* "id" */
	const char *label_column;      /* "label" (ground truth) */
	const char *prediction_column; /* "prediction" */
	const char *pos_label;	       /* "1": the positive class of the binary metrics */
	unsigned top_k;		       /* 2 */
	size_t max_classes;	       /* ATR_SCORING_MAX_CLASSES */
	size_t max_scores;	       /* ATR_SCORING_MAX_SCORES */
};

enum atr_scoring_errkind {
	ATR_SCORING_E_NONE = 0,
	ATR_SCORING_E_SPEC,	 /* the spec: unknown metric, tasks mixed, ... (ATR_EINVAL) */
	ATR_SCORING_E_HEADER,	 /* bad header: a needed column missing or twice, empty file */
	ATR_SCORING_E_SYNTAX,	 /* CSV quoting, JSON syntax */
	ATR_SCORING_E_COLUMNS,	 /* wrong column count; a JSON line without a needed key */
	ATR_SCORING_E_ENCODING,	 /* a byte that is not UTF-8, or a NUL */
	ATR_SCORING_E_EMPTY,	 /* an empty id or label; a ground truth without rows */
	ATR_SCORING_E_NUMBER,	 /* not a number where a number is needed */
	ATR_SCORING_E_NAN,	 /* NaN, infinity or null where a number is needed */
	ATR_SCORING_E_DUPLICATE, /* an id twice in the same file */
	ATR_SCORING_E_EXTRA,	 /* a prediction for an id the ground truth does not have */
	ATR_SCORING_E_MISSING,	 /* an id of the ground truth without a prediction */
	ATR_SCORING_E_LIMIT,	 /* a record over ATR_SCORING_RECORD_MAX, too many classes */
};

struct atr_scoring_error {
	enum atr_scoring_errkind kind;
	uint64_t line;	   /* 1-based; 0: the file as a whole */
	char message[320]; /* "line 7: ...", lowercase */
};

/* A short stable name of an error kind ("bad_header", "missing_id", ...). */
const char *atr_scoring_errkind_name(enum atr_scoring_errkind kind);

/*
 * Checks a spec: 0, or ATR_EINVAL with err (when not NULL) saying what is wrong. The API
 * calls it to validate a benchmark's definition.
 */
int atr_scoring_spec_check(const struct atr_scoring_spec *spec, struct atr_scoring_error *err);

/* ---- the ground truth ---- */

struct atr_scoring_truth;

/* A new, empty truth for spec (checked: ATR_EINVAL) read in format fmt; ATR_ENOMEM. */
int atr_scoring_truth_new(const struct atr_scoring_spec *spec, enum atr_scoring_format fmt,
			  struct atr_scoring_truth **out);
/* The next len bytes of the file: 0, ATR_EUNPROCESSABLE, ATR_ENOMEM, ATR_EINVAL (after _end). */
int atr_scoring_truth_feed(struct atr_scoring_truth *t, const void *data, size_t len);
/* The end of the file: the last record, and the checks of the whole (at least one row). */
int atr_scoring_truth_end(struct atr_scoring_truth *t);
/* The error of the last failed call (kind ATR_SCORING_E_NONE when none). Borrowed. */
const struct atr_scoring_error *atr_scoring_truth_error(const struct atr_scoring_truth *t);
/* Rows (ids) read so far. */
size_t atr_scoring_truth_rows(const struct atr_scoring_truth *t);
/* The id of row i (0-based, file order), NUL-terminated, borrowed; *len its length. */
const char *atr_scoring_truth_id(const struct atr_scoring_truth *t, size_t i, size_t *len);
void atr_scoring_truth_free(struct atr_scoring_truth *t);

/* ---- scoring one predictions file ---- */

struct atr_scoring;

/* A scoring of a predictions file in format fmt against t, which must have ended without
 * error (else ATR_EINVAL) and must outlive the scoring (borrowed). ATR_ENOMEM. */
int atr_scoring_new(const struct atr_scoring_truth *t, enum atr_scoring_format fmt, struct atr_scoring **out);
/* As atr_scoring_truth_feed / _end, for the predictions; _end finds missing ids. */
int atr_scoring_feed(struct atr_scoring *s, const void *data, size_t len);
int atr_scoring_end(struct atr_scoring *s);
const struct atr_scoring_error *atr_scoring_error(const struct atr_scoring *s);
void atr_scoring_free(struct atr_scoring *s);

struct atr_scoring_value {
	const char *metric; /* static: the name in atr_scoring_metrics */
	double value;	    /* NAN when undefined */
	bool defined;
	const char *why; /* static, lowercase, when undefined */
};

struct atr_scoring_result {
	size_t rows; /* rows scored */
	size_t n;    /* values, in the spec's order */
	struct atr_scoring_value values[ATR_SCORING_MAX_METRICS];
};

/*
 * The spec's metrics over the rows of the ground truth whose byte in select (indexed by
 * row, file order, atr_scoring_truth_rows bytes) is not 0; all rows when select is NULL.
 * The scoring must have ended without error (else ATR_EINVAL). 0 or ATR_ENOMEM.
 */
int atr_scoring_compute(const struct atr_scoring *s, const unsigned char *select, struct atr_scoring_result *out);

/* A confusion matrix: labels as for the metrics (sorted, those of the scored rows). */
struct atr_scoring_confusion {
	size_t k;
	const char **labels; /* k names, borrowed from the scoring and its truth */
	uint64_t *counts;    /* k * k: counts[true * k + predicted] */
};

/* The confusion matrix of the selected rows (select as for atr_scoring_compute) of a
 * classification: 0, ATR_EINVAL (regression, not ended), ATR_ETOOBIG (over
 * ATR_SCORING_MAX_CONFUSION labels), ATR_ENOMEM. Release it with _release. */
int atr_scoring_confusion(const struct atr_scoring *s, const unsigned char *select, struct atr_scoring_confusion *out);
void atr_scoring_confusion_release(struct atr_scoring_confusion *c);

/* ---- the inputs-only copy of a ground truth (scoring_strip.c) ---- */

/*
 * What a model evaluated by a job is given instead of the ground truth: each record of the
 * file, checked as the truth is read, with the label column (CSV: re-quoted where needed) or
 * key (JSON Lines: the object re-written compactly) removed, through write(cls, ...), which
 * returns <0 to stop (ATR_EIO). Errors as the truth's: ATR_EUNPROCESSABLE with
 * atr_scoring_strip_error (a header without the label column among them), ATR_ENOMEM.
 */
typedef int (*atr_scoring_write_fn)(void *cls, const void *data, size_t len);
struct atr_scoring_strip;
int atr_scoring_strip_new(enum atr_scoring_format fmt, const char *label_column, atr_scoring_write_fn write, void *cls,
			  struct atr_scoring_strip **out);
int atr_scoring_strip_feed(struct atr_scoring_strip *s, const void *data, size_t len);
int atr_scoring_strip_end(struct atr_scoring_strip *s);
const struct atr_scoring_error *atr_scoring_strip_error(const struct atr_scoring_strip *s);
void atr_scoring_strip_free(struct atr_scoring_strip *s);

/* ---- a file split in two by its ids (scoring_split.c) ---- */
/*
 * A competition's custom scorer is given the public and the private part of the ground truth
 * and of the predictions. Each record of the file (read and checked as the scoring reads it:
 * syntax, field counts, a non-empty id) goes whole, as it was written, with "\n" after it,
 * to side route(cls, id, len) (0 or not 0: 1) through write(cls, side, ...), which returns <0
 * to stop (ATR_EIO); a CSV header goes to both sides. Errors: ATR_EUNPROCESSABLE with
 * atr_scoring_split_error, ATR_ENOMEM.
 */
typedef int (*atr_scoring_route_fn)(void *cls, const char *id, size_t len);
typedef int (*atr_scoring_write2_fn)(void *cls, int side, const void *data, size_t len);
struct atr_scoring_split;
int atr_scoring_split_new(enum atr_scoring_format fmt, const char *id_column, atr_scoring_route_fn route,
			  atr_scoring_write2_fn write, void *cls, struct atr_scoring_split **out);
int atr_scoring_split_feed(struct atr_scoring_split *s, const void *data, size_t len);
int atr_scoring_split_end(struct atr_scoring_split *s);
/* The records (not the header) that went to side so far. */
size_t atr_scoring_split_rows(const struct atr_scoring_split *s, int side);
const struct atr_scoring_error *atr_scoring_split_error(const struct atr_scoring_split *s);
void atr_scoring_split_free(struct atr_scoring_split *s);

#endif
