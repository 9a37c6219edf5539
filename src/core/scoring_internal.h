#ifndef ATRIUM_SCORING_INTERNAL_H
#define ATRIUM_SCORING_INTERNAL_H
/*
 * Shared by the files of the scoring library only (src/core/scoring*.c): the record reader
 * and the CSV and JSON Lines parsers (scoring_text.c, scoring_json.c), the tables, sums and
 * sorts (scoring_util.c), the truth and the scoring (scoring.c) and the metrics
 * (scoring_metrics.c).
 */
#include "atrium/scoring.h"
#include "atrium/buf.h"

#include <stdarg.h>

struct sc_str {
	const char *p;
	size_t len;
};

/* ---- errors (scoring_text.c) ---- */

/* Fills e ("line N: " and the message when line > 0) and returns ATR_EUNPROCESSABLE
 * (ATR_EINVAL for ATR_SCORING_E_SPEC). */
int sc_fail(struct atr_scoring_error *e, enum atr_scoring_errkind kind, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* 'text' for a message: cut to 48 bytes (on a character boundary, "..." added), quotes,
 * backslashes and control characters escaped as \xNN. out holds at least 64 bytes. */
void sc_quote(char *out, size_t cap, const char *p, size_t len);
/* The line of byte i of a record that starts on line (records may span lines). */
uint64_t sc_line_at(const char *rec, size_t i, uint64_t line);

/* ---- the record reader (scoring_text.c) ---- */

/* A record (a CSV record or a JSON line, its end of line removed) and its first line. */
typedef int (*sc_record_fn)(void *arg, const char *p, size_t len, uint64_t line);

struct sc_reader {
	enum atr_scoring_format fmt;
	struct atr_buf carry; /* a record that crosses chunks */
	uint64_t line;	      /* first line of the record being read */
	uint64_t nl;	      /* line feeds inside its quotes so far */
	bool quoted;	      /* CSV: inside a quoted field */
	bool started;	      /* the first record was seen (byte-order mark) */
	sc_record_fn fn;
	void *arg;
	struct atr_scoring_error *err;
};

void sc_reader_init(struct sc_reader *r, enum atr_scoring_format fmt, sc_record_fn fn, void *arg,
		    struct atr_scoring_error *err);
void sc_reader_release(struct sc_reader *r);
int sc_reader_feed(struct sc_reader *r, const char *p, size_t len);
int sc_reader_end(struct sc_reader *r);

/* ---- values ---- */

enum sc_kind {
	SC_TEXT,  /* a CSV field */
	SC_JSTR,  /* a JSON string (unescaped) */
	SC_JNUM,  /* a JSON number (its text) */
	SC_JLIT,  /* true or false */
	SC_JNULL, /* null */
	SC_JNAN,  /* NaN, Infinity, -Infinity (not JSON; Python writes them) */
	SC_JOBJ,  /* an object or an array */
};

struct sc_val {
	struct sc_str s;
	enum sc_kind kind;
};

/* ---- CSV (scoring_text.c) ---- */

struct sc_fields {
	struct sc_str *f;
	size_t n, cap;
	char *scratch; /* unescaped quoted fields */
	size_t scratch_cap, used;
};

/* Splits one record into fields (fs->f[0..n)), pointing into rec or fs->scratch. */
int sc_csv_split(struct sc_fields *fs, const char *rec, size_t len, uint64_t line, struct atr_scoring_error *err);
void sc_fields_release(struct sc_fields *fs);

/* ---- JSON Lines (scoring_json.c) ---- */

struct sc_member {
	struct sc_str key;
	struct sc_val val;
	bool nested;   /* a member of the object under the expanded key */
	bool expanded; /* the object under the expanded key (its members follow, nested) */
};

struct sc_jline {
	struct sc_member *m;
	size_t n, cap;
	char *scratch; /* unescaped strings */
	size_t scratch_cap, used;
};

/* Parses one line holding a JSON object into its members (jl->m[0..n)); the members of an
 * object under the key expand (may be NULL) follow it, nested. Other objects and arrays are
 * checked and skipped (SC_JOBJ). */
int sc_json_line(struct sc_jline *jl, const char *p, size_t len, uint64_t line, const char *expand,
		 struct atr_scoring_error *err);
void sc_jline_release(struct sc_jline *jl);

/* ---- numbers (scoring_json.c) ---- */

enum { SC_NUM_OK = 0, SC_NUM_BAD, SC_NUM_NAN, SC_NUM_RANGE };
/* A decimal number (the grammar of scoring.h), correctly rounded: SC_NUM_*. */
int sc_number(const char *p, size_t len, double *out);

/* ---- interned strings (scoring_util.c) ---- */

/* Strings by index (insertion order) and a hash index over them. Each string is stored
 * NUL-terminated, so a pointer to it is a C string. A slot holds the hash and where the
 * string's record is, [index][length][payload][bytes][NUL], so that a lookup touches two
 * places: its slot and the record. */
struct sc_slot {
	uint32_t hash;
	uint32_t at; /* 0: empty, else 1 + the record's offset in bytes */
};

struct sc_intern {
	char *bytes; /* the records */
	size_t used, bcap;
	uint64_t *off; /* n: where string i starts in bytes */
	struct sc_slot *slot;
	size_t n, cap, nslots;
};

uint32_t sc_hash(const char *p, size_t len);
/* Zeroes n bytes by writing them (never folded into a calloc): memory read before written. */
void sc_zero(void *p, size_t n);
/* true when found: *idx its index, *payload (when not NULL) what was added with it */
bool sc_intern_find(const struct sc_intern *t, const char *p, size_t len, uint32_t h, uint32_t *idx, uint64_t *payload);
/* The same in steps, for a batch of lookups whose memory accesses overlap: prefetch the
 * slot of h; then sc_intern_probe: the first slot of h's sequence that is empty or holds h,
 * its record prefetched; then sc_intern_find_at from that slot. */
void sc_intern_prefetch(const struct sc_intern *t, uint32_t h);
size_t sc_intern_probe(const struct sc_intern *t, uint32_t h);
bool sc_intern_find_at(const struct sc_intern *t, size_t slot, const char *p, size_t len, uint32_t h, uint32_t *idx,
		       uint64_t *payload);
/* Adds a string the table does not hold, with a payload kept in its record (read by a
 * lookup at no extra cost): 0, ATR_ENOMEM, ATR_ETOOBIG (over 4 GiB). */
int sc_intern_add(struct sc_intern *t, const char *p, size_t len, uint32_t h, uint64_t payload, uint32_t *idx);
const char *sc_intern_get(const struct sc_intern *t, uint32_t i, size_t *len);
void sc_intern_release(struct sc_intern *t);

/* ---- sums and sorts (scoring_util.c) ---- */

/* numpy's sum of a float64 array (np.add.reduce: pairwise, in blocks of 8192), bit for bit. */
double sc_npsum(const double *a, size_t n);
/* The same for n <= 8192 values (one block): a row's sum. */
double sc_pairwise(const double *a, size_t n);
/* The sort key of a double: ordered as the doubles, -0 as 0. */
uint64_t sc_key(double d);
/* Sorts keys ascending; tmp holds n keys. */
void sc_sort_keys(uint64_t *a, uint64_t *tmp, size_t n);
/* The ROC AUC of sorted positive and negative keys (Mann-Whitney: ties count one half). */
double sc_auc_sorted(const uint64_t *pos, size_t np, const uint64_t *neg, size_t nn);

/* ---- metrics and objects ---- */

enum sc_metric_id {
	SC_M_ACCURACY,
	SC_M_BALANCED,
	SC_M_PRECISION,
	SC_M_PRECISION_MACRO,
	SC_M_PRECISION_MICRO,
	SC_M_PRECISION_WEIGHTED,
	SC_M_RECALL,
	SC_M_RECALL_MACRO,
	SC_M_RECALL_MICRO,
	SC_M_RECALL_WEIGHTED,
	SC_M_F1,
	SC_M_F1_MACRO,
	SC_M_F1_MICRO,
	SC_M_F1_WEIGHTED,
	SC_M_ROC_AUC,
	SC_M_ROC_AUC_OVR,
	SC_M_ROC_AUC_OVR_WEIGHTED,
	SC_M_LOG_LOSS,
	SC_M_TOP_K,
	SC_M_RMSE,
	SC_M_MAE,
	SC_M_R2,
	SC_M_MAPE,
	SC_M_COUNT
};

#define SC_WANT(spec, m) (((spec)->want >> (m)) & 1u)

struct sc_spec {
	unsigned char metric[ATR_SCORING_MAX_METRICS];
	size_t n;
	uint32_t want; /* bit per enum sc_metric_id */
	enum atr_scoring_task task;
	unsigned needs;
	char *id_col, *label_col, *pred_col, *pos_label;
	unsigned top_k;
	size_t max_classes, max_scores;
};

/* A file being read: the reader, the parsers' buffers, the sticky error. */
struct sc_source {
	enum atr_scoring_format fmt;
	struct sc_reader rd;
	struct sc_fields csv;
	struct sc_jline json;
	struct atr_scoring_error err;
	int rc; /* the failed call's return, sticky */
	bool header;
	bool ended;
	size_t ncols;
	int (*flush)(void *arg); /* rows read but not yet applied: applied before an error or the end */
	void *arg;
};

/* Rows read but not yet matched to their ids: a batch of them is matched at once, so that
 * the cache misses of the lookups overlap (the truth's ids and a scoring's rows are far
 * larger than a cache, and visited at random). */
#define SC_BATCH 32

struct sc_pending {
	uint64_t line;
	size_t id_at, id_len; /* the id, in the batch's bytes */
	uint32_t hash;
	uint32_t cls;  /* classification: the class (truth) or the predicted class */
	double number; /* regression: the label or the prediction */
	size_t slot;   /* where its lookup goes on */
};

struct sc_batch {
	struct sc_pending p[SC_BATCH];
	size_t n;
	char *bytes; /* the ids */
	size_t used, cap;
};

/* Starts pending row b->p[b->n] with its id (copied) and line; sc_batch_commit takes it. */
int sc_batch_start(struct sc_batch *b, const struct sc_str *id, uint64_t line);
/* true when the batch is full */
bool sc_batch_commit(struct sc_batch *b);
/* The id of a pending row. */
const char *sc_batch_id(const struct sc_batch *b, const struct sc_pending *pd);
void sc_batch_clear(struct sc_batch *b);
void sc_batch_release(struct sc_batch *b);

struct atr_scoring_truth {
	struct sc_spec spec;
	struct sc_source src;
	size_t col_id, col_label; /* CSV */
	struct sc_intern ids;	  /* row i: id i */
	struct sc_intern classes; /* class labels (classification) */
	uint32_t *label;	  /* per row: its class */
	double *value;		  /* per row: its number (regression) */
	uint64_t *line;		  /* per row: its line */
	size_t cap;
	struct sc_batch batch;
};

/* What a scoring keeps of row i of the truth: one cache line's part, read and written
 * together as the predictions are matched to their ids in a random order. */
struct sc_pred {
	uint64_t line; /* the prediction's line (valid once its bit in seen is set) */
	union {
		double number;	 /* regression: the prediction */
		double log_loss; /* classification: the row's log loss term */
	} u;
	double score;	/* roc_auc: the positive label's probability */
	uint32_t cls;	/* classification: the predicted class */
	uint32_t flags; /* SC_F_* */
};

/* bits of sc_pred.flags */
#define SC_F_TOPK 1u  /* a top-k hit (two classes: the greater's score over 0.5) */
#define SC_F_TOPK0 2u /* two classes: the greater's score over 0 */
#define SC_F_IN01 4u  /* two classes: the greater's score in [0, 1] */
#define SC_F_SUM1 8u  /* probabilities sum to one (np.allclose) */

struct atr_scoring {
	const struct atr_scoring_truth *t;
	struct sc_source src;
	size_t col_id, col_pred; /* CSV */
	int32_t *col_proba;	 /* CSV: per column, its probability column or -1 */
	struct sc_intern extra;	 /* labels the truth does not have: class ntruth + i */
	/* the probability columns (k == 0: no metric needs them) */
	bool cols_set;
	size_t k;
	uint32_t *k_class;  /* the class of each */
	uint32_t *k_order;  /* rank -> column: the columns in the order of their class names */
	uint32_t *k_rank;   /* column -> rank */
	int32_t *class_col; /* per class (at the time the columns were set): its column or -1 */
	size_t nclass_col;
	size_t pos_col;	   /* roc_auc: the positive label's */
	double *row;	   /* the current row's probabilities: its place in pend_proba */
	double *row_tmp;   /* k */
	uint32_t *row_gen; /* JSON Lines: the row that set each column */
	uint32_t gen;
	struct sc_batch batch;
	double *pend_proba;    /* SC_BATCH x k: the pending rows' probabilities */
	uint64_t *seen;	       /* per row of the truth, a bit: it has its prediction */
	struct sc_pred *preds; /* per row of the truth, 64-byte aligned */
	double *ovr;	       /* roc_auc_ovr: per row its k probabilities, in k_order */
	/* after the end: all classes in name order */
	uint32_t *order; /* rank -> class */
	uint32_t *rank;	 /* class -> rank */
	size_t nclasses;
	size_t rows;
};

extern const struct atr_scoring_metric sc_metric_table[SC_M_COUNT];

/* ---- shared by the truth and the scoring (scoring.c) ---- */

int sc_spec_init(struct sc_spec *out, const struct atr_scoring_spec *in, struct atr_scoring_error *err);
void sc_spec_release(struct sc_spec *sp);
void sc_source_init(struct sc_source *src, enum atr_scoring_format fmt, sc_record_fn fn, void *arg);
void sc_source_release(struct sc_source *src);
/* Feeds the reader unless an error stuck or the file ended; keeps a failure's code. */
int sc_source_feed(struct sc_source *src, const void *data, size_t len);
int sc_source_end(struct sc_source *src);
/* Keeps rc (not 0) as the source's sticky failure; returns it. */
int sc_source_rc(struct sc_source *src, int rc);
bool sc_eq(const struct sc_str *s, const char *z);
/* v as text (an id, a class label: not empty) or as a number; what names it in errors. */
int sc_val_text(const struct sc_val *v, uint64_t line, const char *what, struct atr_scoring_error *err,
		struct sc_str *out);
int sc_val_number(const struct sc_val *v, uint64_t line, const char *what, struct atr_scoring_error *err, double *out);
/* The top-level member of a JSON line named key: 0 (*out), or an error (none, or twice). */
int sc_json_find(const struct sc_jline *jl, const char *key, uint64_t line, struct atr_scoring_error *err,
		 const struct sc_val **out);
/* The record's field count checked against the header's. */
int sc_csv_count(struct sc_source *src, uint64_t line);
/* The column of a CSV header named name: 0 (*col), or an error (none, or twice). */
int sc_header_column(struct sc_source *src, const char *name, uint64_t line, size_t *col);

/* ---- classes of a scoring (scoring_pred.c) ---- */

/* The name of class c of a scoring (the truth's classes, then its own). */
const char *sc_class_name(const struct atr_scoring *s, uint32_t c, size_t *len);
/* The class named p[0..len), if the truth or the scoring has it. */
bool sc_class_find(const struct atr_scoring *s, const char *p, size_t len, uint32_t *c);

#endif
