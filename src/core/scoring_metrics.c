/*
 * scoring_metrics.c: the metrics of an ended scoring over all its rows or a subset, as
 * scikit-learn 1.2 computes them (the formulas, their order of operations and numpy's
 * summation, so that values agree to the last bits where sklearn's do not depend on a
 * platform's libm), and the confusion matrix. Not here: reading the files (scoring_pred.c).
 */
#include "scoring_internal.h"
#include "atrium/err.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What one computation shares: the selected rows, a scratch array, the class counts. */
struct calc {
	const struct atr_scoring *s;
	const struct atr_scoring_truth *t;
	const struct sc_spec *sp;
	uint32_t *rows; /* the selected rows of the truth */
	size_t n;
	double *tmp; /* n values, at least twice the classes */
	/* classification: per class (tc: true, pc: predicted, tp: both) */
	uint64_t *tc, *pc, *tp;
	uint64_t hits;	   /* rows predicted right */
	uint32_t *present; /* the labels of the rows (a count above 0), in name order */
	size_t npresent;
};

static void set(struct atr_scoring_value *v, double x)
{
	v->value = x;
	v->defined = true;
	v->why = NULL;
}

static void undefined(struct atr_scoring_value *v, const char *why)
{
	v->value = NAN;
	v->defined = false;
	v->why = why;
}

static void calc_release(struct calc *c)
{
	free(c->rows);
	free(c->tmp);
	free(c->tc);
	free(c->pc);
	free(c->tp);
	free(c->present);
}

static int calc_init(struct calc *c, const struct atr_scoring *s, const unsigned char *select)
{
	size_t n = s->t->ids.n;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->t = s->t;
	c->sp = &s->t->spec;
	size_t ntmp = n > 2 * s->nclasses ? n : 2 * s->nclasses;

	c->rows = malloc((n ? n : 1) * sizeof(*c->rows));
	c->tmp = malloc((ntmp ? ntmp : 1) * sizeof(*c->tmp)); /* rows, or twice the classes */
	if (!c->rows || !c->tmp)
		return ATR_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!select || select[i])
			c->rows[c->n++] = (uint32_t)i;
	return 0;
}

/* The counts per class, and the labels present (sklearn's unique_labels) in name order. */
static int count_classes(struct calc *c)
{
	const struct atr_scoring *s = c->s;
	size_t k = s->nclasses;

	c->tc = calloc(k ? k : 1, sizeof(*c->tc));
	c->pc = calloc(k ? k : 1, sizeof(*c->pc));
	c->tp = calloc(k ? k : 1, sizeof(*c->tp));
	c->present = malloc((k ? k : 1) * sizeof(*c->present));
	if (!c->tc || !c->pc || !c->tp || !c->present)
		return ATR_ENOMEM;
	for (size_t j = 0; j < c->n; j++) {
		uint32_t i = c->rows[j], tl = c->t->label[i], pl = s->preds[i].cls;
		c->tc[tl]++;
		c->pc[pl]++;
		if (tl == pl) {
			c->tp[tl]++;
			c->hits++;
		}
	}
	for (size_t r = 0; r < k; r++) {
		uint32_t cl = s->order[r];
		if (c->tc[cl] || c->pc[cl])
			c->present[c->npresent++] = cl;
	}
	return 0;
}

/* ---- labels ---- */

/* balanced_accuracy_score: the mean recall of the classes the rows hold. */
static void balanced(struct calc *c, struct atr_scoring_value *v)
{
	size_t m = 0;

	for (size_t j = 0; j < c->npresent; j++) {
		uint32_t cl = c->present[j];
		if (c->tc[cl])
			c->tmp[m++] = (double)c->tp[cl] / (double)c->tc[cl];
	}
	set(v, sc_npsum(c->tmp, m) / (double)m);
}

/* precision (0), recall (1) or F1 (2) from the counts, zero_division as sklearn's "warn". */
static double prf_of(int which, uint64_t tp, uint64_t pc, uint64_t tc)
{
	double p = pc ? (double)tp / (double)pc : 0.0;
	double r = tc ? (double)tp / (double)tc : 0.0;

	if (which == 0)
		return p;
	if (which == 1)
		return r;
	return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
}

/* average="binary": the positive label's, when the rows hold at most two labels. */
static void prf_binary(struct calc *c, int which, struct atr_scoring_value *v)
{
	const char *pos = c->sp->pos_label;
	uint32_t cl;
	bool present = false;

	if (c->npresent > 2) {
		undefined(v, "the rows hold more than two labels: average 'binary' does not apply");
		return;
	}
	if (sc_class_find(c->s, pos, strlen(pos), &cl))
		present = c->tc[cl] || c->pc[cl];
	if (!present && c->npresent == 2) {
		undefined(v, "the positive label is not one of the two labels of the rows");
		return;
	}
	if (!present) {
		set(v, 0.0);
		return;
	}
	set(v, prf_of(which, c->tp[cl], c->pc[cl], c->tc[cl]));
}

static void prf(struct calc *c, enum sc_metric_id m, struct atr_scoring_value *v)
{
	int which = (int)(m - SC_M_PRECISION) / 4, avg = (int)(m - SC_M_PRECISION) % 4;
	size_t k = c->npresent;
	double *w = c->tmp + k;

	if (avg == 0) {
		prf_binary(c, which, v);
	} else if (avg == 2) {
		/* micro: the counts summed over the labels: every row counts once */
		set(v, prf_of(which, c->hits, c->n, c->n));
	} else if (avg == 1) {
		for (size_t j = 0; j < k; j++) {
			uint32_t cl = c->present[j];
			c->tmp[j] = prf_of(which, c->tp[cl], c->pc[cl], c->tc[cl]);
		}
		set(v, sc_npsum(c->tmp, k) / (double)k);
	} else {
		/* weighted: np.average(values, weights=true counts) = sum(values * w) / sum(w) */
		for (size_t j = 0; j < k; j++) {
			uint32_t cl = c->present[j];
			w[j] = (double)c->tc[cl];
			c->tmp[j] = prf_of(which, c->tp[cl], c->pc[cl], c->tc[cl]) * w[j];
		}
		set(v, sc_npsum(c->tmp, k) / sc_npsum(w, k));
	}
}

/* ---- probabilities ---- */

#define BINARY SIZE_MAX

/* The AUC of the rows whose class is cl (positives) against the rest, by the probability of
 * column r (in name order) of roc_auc_ovr, or (r BINARY) the positive label's of roc_auc;
 * NAN when one side is empty. *npos: the positives. */
static int auc_of(struct calc *c, uint32_t cl, size_t r, double *auc, size_t *npos)
{
	const struct atr_scoring *s = c->s;
	uint64_t *keys = malloc(c->n * sizeof(*keys)), *tmp = malloc(c->n * sizeof(*tmp));
	size_t np = 0, nn = 0;

	if (!keys || !tmp) {
		free(keys);
		free(tmp);
		return ATR_ENOMEM;
	}
	for (size_t j = 0; j < c->n; j++) {
		uint32_t i = c->rows[j];
		uint64_t key = sc_key(r == BINARY ? s->preds[i].score : s->ovr[(size_t)i * s->k + r]);
		if (c->t->label[i] == cl)
			keys[np++] = key;
		else
			keys[c->n - ++nn] = key;
	}
	*npos = np;
	*auc = NAN;
	if (np && nn) {
		sc_sort_keys(keys, tmp, np);
		sc_sort_keys(keys + np, tmp, nn);
		*auc = sc_auc_sorted(keys, np, keys + np, nn);
	}
	free(keys);
	free(tmp);
	return 0;
}

static int roc_binary(struct calc *c, struct atr_scoring_value *v)
{
	const char *pos = c->sp->pos_label;
	uint32_t cl = UINT32_MAX;
	size_t np;
	double auc;
	int rc;

	sc_class_find(c->s, pos, strlen(pos), &cl);
	if ((rc = auc_of(c, cl, BINARY, &auc, &np)) != 0)
		return rc;
	if (isnan(auc))
		undefined(v, "only one class present in the ground truth: roc auc is not defined");
	else
		set(v, auc);
	return 0;
}

static int roc_ovr(struct calc *c, bool weighted, struct atr_scoring_value *v)
{
	const struct atr_scoring *s = c->s;
	size_t k = s->k, np;
	double *auc = calloc(2 * k, sizeof(*auc)), *w = auc + k;
	int rc = 0;

	if (!auc)
		return ATR_ENOMEM;
	for (size_t j = 0; k > 2 && j < c->n; j++) {
		if (!(s->preds[c->rows[j]].flags & SC_F_SUM1)) {
			undefined(v, "probabilities do not sum to one over the classes (multiclass roc auc needs it)");
			goto out;
		}
	}
	for (size_t r = 0; r < k; r++) {
		if ((rc = auc_of(c, s->k_class[s->k_order[r]], r, &auc[r], &np)) != 0)
			goto out;
		if (isnan(auc[r])) {
			undefined(v, "a class has no rows, or every row, in the ground truth: one-vs-rest roc auc "
				     "is not defined");
			goto out;
		}
		w[r] = (double)np;
		if (weighted)
			auc[r] *= w[r];
	}
	set(v, sc_npsum(auc, k) / (weighted ? sc_npsum(w, k) : (double)k));
out:
	free(auc);
	return rc;
}

static void log_loss(struct calc *c, struct atr_scoring_value *v)
{
	if (c->s->k < 2) {
		undefined(v, "log loss needs at least two classes");
		return;
	}
	for (size_t j = 0; j < c->n; j++)
		c->tmp[j] = c->s->preds[c->rows[j]].u.log_loss;
	set(v, sc_npsum(c->tmp, c->n) / (double)c->n);
}

static void top_k(struct calc *c, struct atr_scoring_value *v)
{
	const struct atr_scoring *s = c->s;
	unsigned bit = SC_F_TOPK;
	size_t hits = 0;

	if (s->k < 2) {
		undefined(v, "top-k accuracy needs at least two classes");
		return;
	}
	if (s->k == 2 && c->sp->top_k >= 2) {
		set(v, 1.0);
		return;
	}
	if (s->k == 2) { /* the threshold: 0.5 when every score is in [0, 1], else 0 */
		for (size_t j = 0; j < c->n && bit == SC_F_TOPK; j++)
			if (!(s->preds[c->rows[j]].flags & SC_F_IN01))
				bit = SC_F_TOPK0;
	}
	for (size_t j = 0; j < c->n; j++)
		hits += (s->preds[c->rows[j]].flags & bit) != 0;
	set(v, (double)hits / (double)c->n);
}

/* ---- regression ---- */

/* tmp: f(y_true, y_pred) of each row: the squared error (0), the absolute error (1), the
 * absolute percentage error (2) */
static void reg_fill(struct calc *c, int what)
{
	const double *t = c->t->value;

	for (size_t j = 0; j < c->n; j++) {
		uint32_t i = c->rows[j];
		double p = c->s->preds[i].u.number, d = t[i] - p;
		if (what == 0)
			c->tmp[j] = d * d;
		else if (what == 1)
			c->tmp[j] = fabs(p - t[i]);
		else
			c->tmp[j] = fabs(p - t[i]) / fmax(fabs(t[i]), DBL_EPSILON);
	}
}

/* np.average of it */
static double reg_mean(struct calc *c, int what)
{
	reg_fill(c, what);
	return sc_npsum(c->tmp, c->n) / (double)c->n;
}

/* r2_score with force_finite: 1 - ss_res / ss_tot; constant y_true: 1 if exact, else 0 */
static void r2(struct calc *c, struct atr_scoring_value *v)
{
	const double *t = c->t->value;
	double mean, num, den;

	if (c->n < 2) {
		undefined(v, "r2 needs at least two rows");
		return;
	}
	reg_fill(c, 0);
	num = sc_npsum(c->tmp, c->n);
	for (size_t j = 0; j < c->n; j++)
		c->tmp[j] = t[c->rows[j]];
	mean = sc_npsum(c->tmp, c->n) / (double)c->n;
	for (size_t j = 0; j < c->n; j++) {
		double d = c->tmp[j] - mean;
		c->tmp[j] = d * d;
	}
	den = sc_npsum(c->tmp, c->n);
	if (num != 0 && den != 0)
		set(v, 1 - num / den);
	else
		set(v, num != 0 ? 0.0 : 1.0);
}

/* ---- the result ---- */

static int metric(struct calc *c, enum sc_metric_id m, struct atr_scoring_value *v)
{
	switch (m) {
	case SC_M_ACCURACY:
		set(v, (double)c->hits / (double)c->n);
		return 0;
	case SC_M_BALANCED:
		balanced(c, v);
		return 0;
	case SC_M_ROC_AUC:
		return roc_binary(c, v);
	case SC_M_ROC_AUC_OVR:
	case SC_M_ROC_AUC_OVR_WEIGHTED:
		return roc_ovr(c, m == SC_M_ROC_AUC_OVR_WEIGHTED, v);
	case SC_M_LOG_LOSS:
		log_loss(c, v);
		return 0;
	case SC_M_TOP_K:
		top_k(c, v);
		return 0;
	case SC_M_RMSE:
		set(v, sqrt(reg_mean(c, 0)));
		return 0;
	case SC_M_MAE:
		set(v, reg_mean(c, 1));
		return 0;
	case SC_M_MAPE:
		set(v, reg_mean(c, 2));
		return 0;
	case SC_M_R2:
		r2(c, v);
		return 0;
	default:
		prf(c, m, v);
		return 0;
	}
}

static bool usable(const struct atr_scoring *s)
{
	return s && s->src.ended && !s->src.rc;
}

int atr_scoring_compute(const struct atr_scoring *s, const unsigned char *select, struct atr_scoring_result *out)
{
	const struct sc_spec *sp;
	struct calc c;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!usable(s))
		return ATR_EINVAL;
	sp = &s->t->spec;
	out->n = sp->n;
	for (size_t j = 0; j < sp->n; j++) {
		out->values[j].metric = sc_metric_table[sp->metric[j]].name;
		undefined(&out->values[j], "no rows selected");
	}
	rc = calc_init(&c, s, select);
	if (rc == 0 && c.n > 0 && sp->task == ATR_SCORING_CLASSIFICATION)
		rc = count_classes(&c);
	for (size_t j = 0; rc == 0 && c.n > 0 && j < sp->n; j++)
		rc = metric(&c, (enum sc_metric_id)sp->metric[j], &out->values[j]);
	out->rows = c.n;
	calc_release(&c);
	return rc;
}

int atr_scoring_confusion(const struct atr_scoring *s, const unsigned char *select, struct atr_scoring_confusion *out)
{
	uint32_t *at = NULL;
	struct calc c;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!usable(s) || s->t->spec.task != ATR_SCORING_CLASSIFICATION)
		return ATR_EINVAL;
	if ((rc = calc_init(&c, s, select)) != 0 || (rc = count_classes(&c)) != 0)
		goto out;
	rc = ATR_ETOOBIG;
	if (c.npresent > ATR_SCORING_MAX_CONFUSION)
		goto out;
	rc = ATR_ENOMEM;
	out->k = c.npresent;
	out->labels = malloc((out->k ? out->k : 1) * sizeof(*out->labels));
	out->counts = calloc(out->k ? out->k * out->k : 1, sizeof(*out->counts));
	at = malloc((s->nclasses ? s->nclasses : 1) * sizeof(*at));
	if (!out->labels || !out->counts || !at)
		goto out;
	for (size_t j = 0; j < out->k; j++) {
		out->labels[j] = sc_class_name(s, c.present[j], NULL);
		at[c.present[j]] = (uint32_t)j;
	}
	for (size_t j = 0; j < c.n; j++) {
		uint32_t i = c.rows[j];
		out->counts[(size_t)at[s->t->label[i]] * out->k + at[s->preds[i].cls]]++;
	}
	rc = 0;
out:
	if (rc)
		atr_scoring_confusion_release(out);
	free(at);
	calc_release(&c);
	return rc;
}

void atr_scoring_confusion_release(struct atr_scoring_confusion *c)
{
	free(c->labels);
	free(c->counts);
	memset(c, 0, sizeof(*c));
}
