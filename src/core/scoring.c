/*
 * scoring.c: the scoring library's metric table and spec, what the truth and a scoring
 * share (a file being read, values as text or numbers), and the ground truth: its header,
 * its rows held by id. Not here: the predictions (scoring_pred.c), the metrics'
 * arithmetic (scoring_metrics.c), the text formats (scoring_text.c, scoring_json.c).
 */
#include "scoring_internal.h"
#include "atrium/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLS ATR_SCORING_CLASSIFICATION
#define REG ATR_SCORING_REGRESSION
#define HI ATR_SCORING_HIGHER
#define LO ATR_SCORING_LOWER
#define LAB ATR_SCORING_NEEDS_LABELS
#define PRB ATR_SCORING_NEEDS_PROBA
#define NUM ATR_SCORING_NEEDS_NUMBERS

const struct atr_scoring_metric sc_metric_table[SC_M_COUNT] = {
	[SC_M_ACCURACY] = { "accuracy", CLS, HI, LAB, "accuracy_score" },
	[SC_M_BALANCED] = { "balanced_accuracy", CLS, HI, LAB, "balanced_accuracy_score" },
	[SC_M_PRECISION] = { "precision", CLS, HI, LAB, "precision_score(average='binary', pos_label=pos_label)" },
	[SC_M_PRECISION_MACRO] = { "precision_macro", CLS, HI, LAB, "precision_score(average='macro')" },
	[SC_M_PRECISION_MICRO] = { "precision_micro", CLS, HI, LAB, "precision_score(average='micro')" },
	[SC_M_PRECISION_WEIGHTED] = { "precision_weighted", CLS, HI, LAB, "precision_score(average='weighted')" },
	[SC_M_RECALL] = { "recall", CLS, HI, LAB, "recall_score(average='binary', pos_label=pos_label)" },
	[SC_M_RECALL_MACRO] = { "recall_macro", CLS, HI, LAB, "recall_score(average='macro')" },
	[SC_M_RECALL_MICRO] = { "recall_micro", CLS, HI, LAB, "recall_score(average='micro')" },
	[SC_M_RECALL_WEIGHTED] = { "recall_weighted", CLS, HI, LAB, "recall_score(average='weighted')" },
	[SC_M_F1] = { "f1", CLS, HI, LAB, "f1_score(average='binary', pos_label=pos_label)" },
	[SC_M_F1_MACRO] = { "f1_macro", CLS, HI, LAB, "f1_score(average='macro')" },
	[SC_M_F1_MICRO] = { "f1_micro", CLS, HI, LAB, "f1_score(average='micro')" },
	[SC_M_F1_WEIGHTED] = { "f1_weighted", CLS, HI, LAB, "f1_score(average='weighted')" },
	[SC_M_ROC_AUC] = { "roc_auc", CLS, HI, PRB, "roc_auc_score(y_true == pos_label, proba[pos_label])" },
	[SC_M_ROC_AUC_OVR] = { "roc_auc_ovr", CLS, HI, PRB, "roc_auc_score(multi_class='ovr', average='macro')" },
	[SC_M_ROC_AUC_OVR_WEIGHTED] = { "roc_auc_ovr_weighted", CLS, HI, PRB,
					"roc_auc_score(multi_class='ovr', average='weighted')" },
	[SC_M_LOG_LOSS] = { "log_loss", CLS, LO, PRB, "log_loss" },
	[SC_M_TOP_K] = { "top_k_accuracy", CLS, HI, PRB, "top_k_accuracy_score(k=top_k)" },
	[SC_M_RMSE] = { "rmse", REG, LO, NUM, "mean_squared_error(squared=False)" },
	[SC_M_MAE] = { "mae", REG, LO, NUM, "mean_absolute_error" },
	[SC_M_R2] = { "r2", REG, HI, NUM, "r2_score" },
	[SC_M_MAPE] = { "mape", REG, LO, NUM, "mean_absolute_percentage_error" },
};

const struct atr_scoring_metric *atr_scoring_metrics(size_t *n)
{
	*n = SC_M_COUNT;
	return sc_metric_table;
}

const struct atr_scoring_metric *atr_scoring_metric_find(const char *name)
{
	for (size_t i = 0; name && i < SC_M_COUNT; i++)
		if (strcmp(sc_metric_table[i].name, name) == 0)
			return &sc_metric_table[i];
	return NULL;
}

int atr_scoring_format_parse(const char *name, enum atr_scoring_format *out)
{
	if (name && strcmp(name, "csv") == 0)
		*out = ATR_SCORING_CSV;
	else if (name && (strcmp(name, "jsonl") == 0 || strcmp(name, "ndjson") == 0))
		*out = ATR_SCORING_JSONL;
	else
		return ATR_EINVAL;
	return 0;
}

const char *atr_scoring_errkind_name(enum atr_scoring_errkind kind)
{
	static const char *const names[] = {
		[ATR_SCORING_E_NONE] = "none",
		[ATR_SCORING_E_SPEC] = "bad_spec",
		[ATR_SCORING_E_HEADER] = "bad_header",
		[ATR_SCORING_E_SYNTAX] = "bad_syntax",
		[ATR_SCORING_E_COLUMNS] = "bad_columns",
		[ATR_SCORING_E_ENCODING] = "not_utf8",
		[ATR_SCORING_E_EMPTY] = "empty",
		[ATR_SCORING_E_NUMBER] = "not_a_number",
		[ATR_SCORING_E_NAN] = "nan",
		[ATR_SCORING_E_DUPLICATE] = "duplicate_id",
		[ATR_SCORING_E_EXTRA] = "extra_id",
		[ATR_SCORING_E_MISSING] = "missing_id",
		[ATR_SCORING_E_LIMIT] = "too_large",
	};
	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

/* ---- the spec ---- */

void sc_spec_release(struct sc_spec *sp)
{
	free(sp->id_col);
	free(sp->label_col);
	free(sp->pred_col);
	free(sp->pos_label);
	memset(sp, 0, sizeof(*sp));
}

/* The metrics of a spec: known, not repeated, one task. */
static int spec_metrics(struct sc_spec *out, const struct atr_scoring_spec *in, struct atr_scoring_error *err)
{
	if (in->n_metrics == 0 || in->n_metrics > ATR_SCORING_MAX_METRICS || !in->metrics)
		return sc_fail(err, ATR_SCORING_E_SPEC, 0, "a benchmark has 1 to %d metrics", ATR_SCORING_MAX_METRICS);
	for (size_t i = 0; i < in->n_metrics; i++) {
		const struct atr_scoring_metric *m = atr_scoring_metric_find(in->metrics[i]);
		char q[64];
		if (!m) {
			sc_quote(q, sizeof(q), in->metrics[i] ? in->metrics[i] : "",
				 in->metrics[i] ? strlen(in->metrics[i]) : 0);
			return sc_fail(err, ATR_SCORING_E_SPEC, 0, "unknown metric %s", q);
		}
		unsigned id = (unsigned)(m - sc_metric_table);
		if ((out->want >> id) & 1u)
			return sc_fail(err, ATR_SCORING_E_SPEC, 0, "metric '%s' appears twice", m->name);
		if (out->task && out->task != m->task)
			return sc_fail(err, ATR_SCORING_E_SPEC, 0,
				       "metric '%s' is for %s, the others for %s: a benchmark has one task", m->name,
				       m->task == CLS ? "classification" : "regression",
				       out->task == CLS ? "classification" : "regression");
		out->task = m->task;
		out->want |= 1u << id;
		out->needs |= m->needs;
		out->metric[out->n++] = (unsigned char)id;
	}
	return 0;
}

static int spec_name(char **out, const char *in, const char *def, const char *what, struct atr_scoring_error *err)
{
	const char *v = in ? in : def;

	if (!*v || strlen(v) > 256)
		return sc_fail(err, ATR_SCORING_E_SPEC, 0, "the %s must be 1 to 256 bytes", what);
	*out = strdup(v);
	return *out ? 0 : ATR_ENOMEM;
}

int sc_spec_init(struct sc_spec *out, const struct atr_scoring_spec *in, struct atr_scoring_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spec_metrics(out, in, err)) != 0 ||
	    (rc = spec_name(&out->id_col, in->id_column, "id", "id column", err)) != 0 ||
	    (rc = spec_name(&out->label_col, in->label_column, "label", "label column", err)) != 0 ||
	    (rc = spec_name(&out->pred_col, in->prediction_column, "prediction", "prediction column", err)) != 0 ||
	    (rc = spec_name(&out->pos_label, in->pos_label, "1", "positive label", err)) != 0)
		goto fail;
	rc = ATR_EINVAL;
	if (strcmp(out->id_col, out->label_col) == 0 || strcmp(out->id_col, out->pred_col) == 0) {
		sc_fail(err, ATR_SCORING_E_SPEC, 0, "the id column must differ from the label and prediction columns");
		goto fail;
	}
	out->top_k = in->top_k ? in->top_k : 2;
	out->max_classes = in->max_classes ? in->max_classes : ATR_SCORING_MAX_CLASSES;
	out->max_scores = in->max_scores ? in->max_scores : ATR_SCORING_MAX_SCORES;
	if (out->max_classes > UINT32_MAX / 2) {
		sc_fail(err, ATR_SCORING_E_SPEC, 0, "max_classes is too large");
		goto fail;
	}
	return 0;
fail:
	sc_spec_release(out);
	return rc;
}

int atr_scoring_spec_check(const struct atr_scoring_spec *spec, struct atr_scoring_error *err)
{
	struct atr_scoring_error local;
	struct sc_spec sp;
	int rc = sc_spec_init(&sp, spec, err ? err : &local);

	if (rc == 0)
		sc_spec_release(&sp);
	return rc;
}

/* ---- a file being read ---- */

void sc_source_init(struct sc_source *src, enum atr_scoring_format fmt, sc_record_fn fn, void *arg)
{
	memset(src, 0, sizeof(*src));
	src->fmt = fmt;
	sc_reader_init(&src->rd, fmt, fn, arg, &src->err);
}

void sc_source_release(struct sc_source *src)
{
	sc_reader_release(&src->rd);
	sc_fields_release(&src->csv);
	sc_jline_release(&src->json);
}

int sc_source_rc(struct sc_source *src, int rc)
{
	if (rc == 0)
		return 0;
	src->rc = rc;
	if (src->err.kind == ATR_SCORING_E_NONE)
		snprintf(src->err.message, sizeof(src->err.message), "%s", atr_strerror(rc));
	return rc;
}

/* A failure rc at some line: the rows read before it, not yet applied, are applied first,
 * and their error, an earlier line's, wins. */
static int source_failed(struct sc_source *src, int rc)
{
	struct atr_scoring_error saved = src->err;
	int frc;

	if (!src->flush)
		return rc;
	frc = src->flush(src->arg);
	if (frc)
		return frc;
	src->err = saved;
	return rc;
}

int sc_source_feed(struct sc_source *src, const void *data, size_t len)
{
	int rc;

	if (src->rc)
		return src->rc;
	if (src->ended)
		return ATR_EINVAL;
	rc = sc_reader_feed(&src->rd, data, len);
	if (rc)
		rc = source_failed(src, rc);
	return sc_source_rc(src, rc);
}

int sc_source_end(struct sc_source *src)
{
	int rc;

	if (src->rc)
		return src->rc;
	if (src->ended)
		return ATR_EINVAL;
	src->ended = true;
	rc = sc_reader_end(&src->rd);
	if (rc)
		rc = source_failed(src, rc);
	else if (src->flush)
		rc = src->flush(src->arg);
	if (rc == 0 && src->fmt == ATR_SCORING_CSV && !src->header)
		rc = sc_fail(&src->err, ATR_SCORING_E_HEADER, 1, "an empty file: no header");
	return sc_source_rc(src, rc);
}

int sc_csv_count(struct sc_source *src, uint64_t line)
{
	if (src->csv.n == src->ncols)
		return 0;
	return sc_fail(&src->err, ATR_SCORING_E_COLUMNS, line, "%zu fields where the header has %zu", src->csv.n,
		       src->ncols);
}

/* ---- values ---- */

bool sc_eq(const struct sc_str *s, const char *z)
{
	return strlen(z) == s->len && memcmp(s->p, z, s->len) == 0;
}

int sc_val_text(const struct sc_val *v, uint64_t line, const char *what, struct atr_scoring_error *err,
		struct sc_str *out)
{
	switch (v->kind) {
	case SC_JNULL:
		return sc_fail(err, ATR_SCORING_E_EMPTY, line, "%s is null", what);
	case SC_JNAN:
		return sc_fail(err, ATR_SCORING_E_NAN, line, "%s is NaN or infinite", what);
	case SC_JOBJ:
		return sc_fail(err, ATR_SCORING_E_SYNTAX, line, "%s is an object or an array, not a string", what);
	default:
		break;
	}
	if (v->s.len == 0)
		return sc_fail(err, ATR_SCORING_E_EMPTY, line, "%s is empty", what);
	*out = v->s;
	return 0;
}

int sc_val_number(const struct sc_val *v, uint64_t line, const char *what, struct atr_scoring_error *err, double *out)
{
	char q[64];
	int rc;

	if (v->kind == SC_JNULL || v->kind == SC_JNAN)
		return sc_fail(err, ATR_SCORING_E_NAN, line, "%s is %s: a finite number is needed", what,
			       v->kind == SC_JNULL ? "null" : "NaN or infinite");
	if (v->kind != SC_TEXT && v->kind != SC_JNUM)
		return sc_fail(err, ATR_SCORING_E_NUMBER, line, "%s is not a number", what);
	rc = sc_number(v->s.p, v->s.len, out);
	if (rc == SC_NUM_OK)
		return 0;
	sc_quote(q, sizeof(q), v->s.p, v->s.len);
	if (rc == SC_NUM_NAN)
		return sc_fail(err, ATR_SCORING_E_NAN, line, "%s is %s: NaN and infinities are not allowed", what, q);
	if (rc == SC_NUM_RANGE)
		return sc_fail(err, ATR_SCORING_E_NUMBER, line, "%s %s is out of range", what, q);
	return sc_fail(err, ATR_SCORING_E_NUMBER, line, "%s %s is not a number", what, q);
}

int sc_json_find(const struct sc_jline *jl, const char *key, uint64_t line, struct atr_scoring_error *err,
		 const struct sc_val **out)
{
	char q[64];

	*out = NULL;
	for (size_t i = 0; i < jl->n; i++) {
		if (jl->m[i].nested || !sc_eq(&jl->m[i].key, key))
			continue;
		if (*out) {
			sc_quote(q, sizeof(q), key, strlen(key));
			return sc_fail(err, ATR_SCORING_E_SYNTAX, line, "key %s appears twice", q);
		}
		*out = &jl->m[i].val;
	}
	if (*out)
		return 0;
	sc_quote(q, sizeof(q), key, strlen(key));
	return sc_fail(err, ATR_SCORING_E_COLUMNS, line, "no key %s", q);
}

/* ---- the ground truth ---- */

static int truth_record(void *arg, const char *p, size_t len, uint64_t line);
static int truth_flush(void *arg);

int atr_scoring_truth_new(const struct atr_scoring_spec *spec, enum atr_scoring_format fmt,
			  struct atr_scoring_truth **out)
{
	struct atr_scoring_truth *t;
	struct atr_scoring_error err;
	int rc;

	*out = NULL;
	if (fmt != ATR_SCORING_CSV && fmt != ATR_SCORING_JSONL)
		return ATR_EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ATR_ENOMEM;
	if ((rc = sc_spec_init(&t->spec, spec, &err)) != 0) {
		free(t);
		return rc;
	}
	sc_source_init(&t->src, fmt, truth_record, t);
	t->src.flush = truth_flush;
	t->src.arg = t;
	*out = t;
	return 0;
}

void atr_scoring_truth_free(struct atr_scoring_truth *t)
{
	if (!t)
		return;
	sc_spec_release(&t->spec);
	sc_source_release(&t->src);
	sc_intern_release(&t->ids);
	sc_intern_release(&t->classes);
	sc_batch_release(&t->batch);
	free(t->label);
	free(t->value);
	free(t->line);
	free(t);
}

/* Finds a named column of a CSV header: *col, or an error (missing, twice). */
int sc_header_column(struct sc_source *src, const char *name, uint64_t line, size_t *col)
{
	char q[64];
	bool found = false;

	sc_quote(q, sizeof(q), name, strlen(name));
	for (size_t c = 0; c < src->csv.n; c++) {
		if (!sc_eq(&src->csv.f[c], name))
			continue;
		if (found)
			return sc_fail(&src->err, ATR_SCORING_E_HEADER, line, "column %s appears twice", q);
		found = true;
		*col = c;
	}
	if (!found)
		return sc_fail(&src->err, ATR_SCORING_E_HEADER, line, "no column %s in the header", q);
	return 0;
}

static int truth_header(struct atr_scoring_truth *t, uint64_t line)
{
	int rc = sc_header_column(&t->src, t->spec.id_col, line, &t->col_id);

	if (rc == 0)
		rc = sc_header_column(&t->src, t->spec.label_col, line, &t->col_label);
	t->src.header = true;
	t->src.ncols = t->src.csv.n;
	return rc;
}

static int truth_grow(struct atr_scoring_truth *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	uint64_t *line = realloc(t->line, cap * sizeof(*line));

	if (!line)
		return ATR_ENOMEM;
	t->line = line;
	if (t->spec.task == CLS) {
		uint32_t *label = realloc(t->label, cap * sizeof(*label));
		if (!label)
			return ATR_ENOMEM;
		t->label = label;
	} else {
		double *value = realloc(t->value, cap * sizeof(*value));
		if (!value)
			return ATR_ENOMEM;
		t->value = value;
	}
	t->cap = cap;
	return 0;
}

/* The class of a truth label, added when new (at most max_classes). */
static int truth_class(struct atr_scoring_truth *t, const struct sc_str *lab, uint64_t line, uint32_t *c)
{
	uint32_t h = sc_hash(lab->p, lab->len);

	if (sc_intern_find(&t->classes, lab->p, lab->len, h, c, NULL))
		return 0;
	if (t->classes.n >= t->spec.max_classes)
		return sc_fail(&t->src.err, ATR_SCORING_E_LIMIT, line, "more than %zu distinct labels",
			       t->spec.max_classes);
	return sc_intern_add(&t->classes, lab->p, lab->len, h, 0, c);
}

static uint64_t bits_of(double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof(u));
	return u;
}

/* Adds the pending rows of the batch, in order: the first duplicate id stops it. The
 * lookups' slots are fetched for the whole batch first (their cache misses overlap). */
static int truth_flush(void *arg)
{
	struct atr_scoring_truth *t = arg;
	struct sc_batch *b = &t->batch;
	int rc = 0;

	for (size_t j = 0; j < b->n; j++)
		sc_intern_prefetch(&t->ids, b->p[j].hash);
	for (size_t j = 0; rc == 0 && j < b->n; j++) {
		const struct sc_pending *pd = &b->p[j];
		const char *id = sc_batch_id(b, pd);
		uint32_t i;
		if (sc_intern_find(&t->ids, id, pd->id_len, pd->hash, &i, NULL)) {
			char q[64];
			sc_quote(q, sizeof(q), id, pd->id_len);
			rc = sc_fail(&t->src.err, ATR_SCORING_E_DUPLICATE, pd->line,
				     "id %s appears twice (first on line %llu)", q, (unsigned long long)t->line[i]);
			break;
		}
		if (t->ids.n >= t->cap && (rc = truth_grow(t)) != 0)
			break;
		rc = sc_intern_add(&t->ids, id, pd->id_len, pd->hash,
				   t->spec.task == CLS ? pd->cls : bits_of(pd->number), &i);
		if (rc == ATR_ETOOBIG)
			rc = sc_fail(&t->src.err, ATR_SCORING_E_LIMIT, pd->line, "the ids take more than 4 GiB");
		if (rc)
			break;
		t->line[i] = pd->line;
		if (t->spec.task == CLS)
			t->label[i] = pd->cls;
		else
			t->value[i] = pd->number;
	}
	sc_batch_clear(b);
	return rc;
}

/* A row: its id and label into the batch (added when the batch is full, or at the end). */
static int truth_row(struct atr_scoring_truth *t, const struct sc_val *vid, const struct sc_val *vlab, uint64_t line)
{
	struct atr_scoring_error *err = &t->src.err;
	struct sc_pending *pd = &t->batch.p[t->batch.n];
	struct sc_str id, lab;
	int rc;

	if ((rc = sc_val_text(vid, line, "the id", err, &id)) != 0 || (rc = sc_batch_start(&t->batch, &id, line)) != 0)
		return rc;
	if (t->spec.task == CLS)
		rc = sc_val_text(vlab, line, "the label", err, &lab);
	else
		rc = sc_val_number(vlab, line, "the label", err, &pd->number);
	if (rc == 0 && t->spec.task == CLS)
		rc = truth_class(t, &lab, line, &pd->cls);
	if (rc)
		return rc;
	return sc_batch_commit(&t->batch) ? truth_flush(t) : 0;
}

static int truth_record(void *arg, const char *p, size_t len, uint64_t line)
{
	struct atr_scoring_truth *t = arg;
	struct sc_source *src = &t->src;
	const struct sc_val *id, *lab;
	struct sc_val vid, vlab;
	int rc;

	if (src->fmt == ATR_SCORING_CSV) {
		if ((rc = sc_csv_split(&src->csv, p, len, line, &src->err)) != 0)
			return rc;
		if (!src->header)
			return truth_header(t, line);
		if ((rc = sc_csv_count(src, line)) != 0)
			return rc;
		vid = (struct sc_val){ src->csv.f[t->col_id], SC_TEXT };
		vlab = (struct sc_val){ src->csv.f[t->col_label], SC_TEXT };
		return truth_row(t, &vid, &vlab, line);
	}
	if ((rc = sc_json_line(&src->json, p, len, line, NULL, &src->err)) != 0 ||
	    (rc = sc_json_find(&src->json, t->spec.id_col, line, &src->err, &id)) != 0 ||
	    (rc = sc_json_find(&src->json, t->spec.label_col, line, &src->err, &lab)) != 0)
		return rc;
	return truth_row(t, id, lab, line);
}

int atr_scoring_truth_feed(struct atr_scoring_truth *t, const void *data, size_t len)
{
	return sc_source_feed(&t->src, data, len);
}

int atr_scoring_truth_end(struct atr_scoring_truth *t)
{
	int rc = sc_source_end(&t->src);

	if (rc == 0 && t->ids.n == 0)
		rc = sc_source_rc(&t->src,
				  sc_fail(&t->src.err, ATR_SCORING_E_EMPTY, 0, "the ground truth has no rows"));
	return rc;
}

const struct atr_scoring_error *atr_scoring_truth_error(const struct atr_scoring_truth *t)
{
	return &t->src.err;
}

size_t atr_scoring_truth_rows(const struct atr_scoring_truth *t)
{
	return t->ids.n;
}

const char *atr_scoring_truth_id(const struct atr_scoring_truth *t, size_t i, size_t *len)
{
	if (i >= t->ids.n)
		return NULL;
	return sc_intern_get(&t->ids, (uint32_t)i, len);
}
