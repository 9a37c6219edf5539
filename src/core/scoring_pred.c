/*
 * scoring_pred.c: a predictions file read against a ground truth: its columns (the
 * probability columns and their classes), each row matched to its id as it is read and
 * reduced to what the metrics need (the predicted class or number; the log loss term, the
 * top-k hit, the scores of the ROC AUCs), the missing ids at the end, and the order of the
 * class names. Not here: the metrics over the rows (scoring_metrics.c).
 */
#include "scoring_internal.h"
#include "atrium/err.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBA_PREFIX "proba_"
#define PROBA_KEY "proba"

static int pred_record(void *arg, const char *p, size_t len, uint64_t line);
static int pred_flush(void *arg);

static bool needs_proba(const struct atr_scoring *s)
{
	return (s->t->spec.needs & ATR_SCORING_NEEDS_PROBA) != 0;
}

int atr_scoring_new(const struct atr_scoring_truth *t, enum atr_scoring_format fmt, struct atr_scoring **out)
{
	struct atr_scoring *s;
	size_t n;

	*out = NULL;
	if (!t || !t->src.ended || t->src.rc || (fmt != ATR_SCORING_CSV && fmt != ATR_SCORING_JSONL))
		return ATR_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ATR_ENOMEM;
	s->t = t;
	sc_source_init(&s->src, fmt, pred_record, s);
	s->src.flush = pred_flush;
	s->src.arg = s;
	n = t->ids.n;
	/* preds is written before it is read (seen, a bit a row, says which are): it needs no
	 * zeroing, which for a million rows would cost more than reading them */
	s->preds = aligned_alloc(64, ((n ? n : 1) * sizeof(*s->preds) + 63) / 64 * 64);
	s->seen = calloc((n + 63) / 64 + 1, sizeof(*s->seen));
	if (!s->preds || !s->seen) {
		atr_scoring_free(s);
		return ATR_ENOMEM;
	}
	*out = s;
	return 0;
}

void atr_scoring_free(struct atr_scoring *s)
{
	if (!s)
		return;
	sc_source_release(&s->src);
	sc_intern_release(&s->extra);
	free(s->col_proba);
	free(s->k_class);
	free(s->k_order);
	free(s->k_rank);
	free(s->class_col);
	free(s->pend_proba);
	sc_batch_release(&s->batch);
	free(s->row_tmp);
	free(s->row_gen);
	free(s->preds);
	free(s->seen);
	free(s->ovr);
	free(s->order);
	free(s->rank);
	free(s);
}

const struct atr_scoring_error *atr_scoring_error(const struct atr_scoring *s)
{
	return &s->src.err;
}

/* ---- classes ---- */

const char *sc_class_name(const struct atr_scoring *s, uint32_t c, size_t *len)
{
	size_t nt = s->t->classes.n;
	return c < nt ? sc_intern_get(&s->t->classes, c, len) : sc_intern_get(&s->extra, (uint32_t)(c - nt), len);
}

bool sc_class_find(const struct atr_scoring *s, const char *p, size_t len, uint32_t *c)
{
	uint32_t h = sc_hash(p, len), i;

	if (sc_intern_find(&s->t->classes, p, len, h, c, NULL))
		return true;
	if (!sc_intern_find(&s->extra, p, len, h, &i, NULL))
		return false;
	*c = (uint32_t)s->t->classes.n + i;
	return true;
}

/* The class of a label of the predictions, added to the scoring's own when new. */
static int pred_class(struct atr_scoring *s, const char *p, size_t len, uint64_t line, uint32_t *c)
{
	size_t nt = s->t->classes.n;
	uint32_t i;
	int rc;

	if (sc_class_find(s, p, len, c))
		return 0;
	if (nt + s->extra.n >= s->t->spec.max_classes)
		return sc_fail(&s->src.err, ATR_SCORING_E_LIMIT, line, "more than %zu distinct labels",
			       s->t->spec.max_classes);
	if ((rc = sc_intern_add(&s->extra, p, len, sc_hash(p, len), 0, &i)) == ATR_ETOOBIG)
		return sc_fail(&s->src.err, ATR_SCORING_E_LIMIT, line, "the labels take more than 4 GiB");
	if (rc)
		return rc;
	*c = (uint32_t)(nt + i);
	return 0;
}

/* ---- the probability columns ---- */

struct named {
	const char *p;
	size_t len;
	uint32_t idx;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* The k columns in the order of their class names: k_order (rank -> column), k_rank. */
static int order_columns(struct atr_scoring *s)
{
	struct named *v = malloc(s->k * sizeof(*v));

	s->k_order = malloc(s->k * sizeof(*s->k_order));
	s->k_rank = malloc(s->k * sizeof(*s->k_rank));
	if (!v || !s->k_order || !s->k_rank) {
		free(v);
		return ATR_ENOMEM;
	}
	for (size_t j = 0; j < s->k; j++) {
		v[j].p = sc_class_name(s, s->k_class[j], &v[j].len);
		v[j].idx = (uint32_t)j;
	}
	qsort(v, s->k, sizeof(*v), cmp_named);
	for (size_t r = 0; r < s->k; r++) {
		s->k_order[r] = v[r].idx;
		s->k_rank[v[r].idx] = (uint32_t)r;
	}
	free(v);
	return 0;
}

/* class_col (class -> column); every class of the truth has one, the positive label too
 * when roc_auc wants it. */
static int map_columns(struct atr_scoring *s, uint64_t line)
{
	const struct sc_spec *sp = &s->t->spec;
	struct atr_scoring_error *err = &s->src.err;
	char q[64];
	uint32_t c;

	s->nclass_col = s->t->classes.n + s->extra.n;
	s->class_col = malloc(s->nclass_col * sizeof(*s->class_col));
	if (!s->class_col)
		return ATR_ENOMEM;
	memset(s->class_col, 0xff, s->nclass_col * sizeof(*s->class_col));
	for (size_t j = 0; j < s->k; j++) {
		size_t len;
		const char *name = sc_class_name(s, s->k_class[j], &len);
		sc_quote(q, sizeof(q), name, len);
		if (s->class_col[s->k_class[j]] >= 0)
			return sc_fail(err, ATR_SCORING_E_HEADER, line, "two probability columns for class %s", q);
		s->class_col[s->k_class[j]] = (int32_t)j;
	}
	for (c = 0; c < s->t->classes.n; c++) {
		size_t len;
		const char *name = sc_class_name(s, c, &len);
		sc_quote(q, sizeof(q), name, len);
		if (s->class_col[c] < 0)
			return sc_fail(err, ATR_SCORING_E_HEADER, line,
				       "no probability column (" PROBA_PREFIX "<class>) for class %s", q);
	}
	if (!SC_WANT(sp, SC_M_ROC_AUC))
		return 0;
	sc_quote(q, sizeof(q), sp->pos_label, strlen(sp->pos_label));
	if (!sc_class_find(s, sp->pos_label, strlen(sp->pos_label), &c) || c >= s->nclass_col || s->class_col[c] < 0)
		return sc_fail(err, ATR_SCORING_E_HEADER, line,
			       "no probability column for the positive label %s (roc_auc needs it)", q);
	s->pos_col = (size_t)s->class_col[c];
	return 0;
}

static int alloc_columns(struct atr_scoring *s)
{
	const struct sc_spec *sp = &s->t->spec;
	size_t n = s->t->ids.n, k = s->k;
	bool bad = false;

	s->pend_proba = calloc(SC_BATCH * k, sizeof(*s->pend_proba));
	s->row_tmp = calloc(k, sizeof(*s->row_tmp));
	s->row_gen = calloc(k, sizeof(*s->row_gen));
	bad = !s->pend_proba || !s->row_tmp || !s->row_gen;
	if (SC_WANT(sp, SC_M_ROC_AUC_OVR) || SC_WANT(sp, SC_M_ROC_AUC_OVR_WEIGHTED))
		bad |= !(s->ovr = malloc(n * k * sizeof(*s->ovr)));
	return bad ? ATR_ENOMEM : 0;
}

/* The probability columns, classes cls[0..k) (taken), of the header or the first line. */
static int set_columns(struct atr_scoring *s, uint32_t *cls, size_t k, uint64_t line)
{
	const struct sc_spec *sp = &s->t->spec;
	bool ovr = SC_WANT(sp, SC_M_ROC_AUC_OVR) || SC_WANT(sp, SC_M_ROC_AUC_OVR_WEIGHTED);
	int rc;

	s->k_class = cls;
	s->k = k;
	s->cols_set = true;
	if (k == 0)
		return sc_fail(&s->src.err, ATR_SCORING_E_HEADER, line,
			       "no probability columns (" PROBA_PREFIX
			       "<class>): a metric of the benchmark needs them");
	if (ovr && k > sp->max_scores / (s->t->ids.n ? s->t->ids.n : 1))
		return sc_fail(&s->src.err, ATR_SCORING_E_LIMIT, line,
			       "%zu ids x %zu classes: more scores than roc_auc_ovr may hold (%zu)", s->t->ids.n, k,
			       sp->max_scores);
	if ((rc = map_columns(s, line)) != 0 || (rc = order_columns(s)) != 0)
		return rc;
	return alloc_columns(s);
}

/* The class of a probability column or key ("proba_<class>", or a key nested in "proba"):
 * true when it is one. */
static bool proba_name(const struct sc_str *key, bool nested, struct sc_str *cls)
{
	size_t n = sizeof(PROBA_PREFIX) - 1;

	if (nested) {
		*cls = *key;
		return true;
	}
	if (key->len <= n || memcmp(key->p, PROBA_PREFIX, n) != 0)
		return false;
	cls->p = key->p + n;
	cls->len = key->len - n;
	return true;
}

/* ---- the CSV header ---- */

static int csv_proba_columns(struct atr_scoring *s, uint64_t line)
{
	struct sc_fields *fs = &s->src.csv;
	uint32_t *cls = malloc((fs->n ? fs->n : 1) * sizeof(*cls));
	size_t k = 0;
	int rc = 0;

	s->col_proba = malloc((fs->n ? fs->n : 1) * sizeof(*s->col_proba));
	if (!cls || !s->col_proba) {
		free(cls);
		return ATR_ENOMEM;
	}
	for (size_t c = 0; c < fs->n && rc == 0; c++) {
		struct sc_str name;
		s->col_proba[c] = -1;
		if (c == s->col_id || c == s->col_pred || !proba_name(&fs->f[c], false, &name))
			continue;
		rc = pred_class(s, name.p, name.len, line, &cls[k]);
		s->col_proba[c] = (int32_t)k++;
	}
	if (rc) {
		free(cls);
		return rc;
	}
	return set_columns(s, cls, k, line);
}

static int pred_header(struct atr_scoring *s, uint64_t line)
{
	struct sc_source *src = &s->src;
	const struct sc_spec *sp = &s->t->spec;
	int rc;

	src->header = true;
	src->ncols = src->csv.n;
	s->col_id = s->col_pred = SIZE_MAX;
	rc = sc_header_column(src, sp->id_col, line, &s->col_id);
	if (rc == 0)
		rc = sc_header_column(src, sp->pred_col, line, &s->col_pred);
	if (rc == 0 && needs_proba(s))
		rc = csv_proba_columns(s, line);
	return rc;
}

/* ---- a row ---- */

/* The probability of column j from v into the row (an error names the class). */
static int proba_value(struct atr_scoring *s, size_t j, const struct sc_val *v, uint64_t line)
{
	char what[96], q[64];
	size_t len;
	const char *name;
	int rc = sc_val_number(v, line, "a probability", &s->src.err, &s->row[j]);

	if (rc != ATR_EUNPROCESSABLE)
		return rc;
	name = sc_class_name(s, s->k_class[j], &len);
	sc_quote(q, sizeof(q), name, len);
	snprintf(what, sizeof(what), "the probability of class %s", q);
	return sc_val_number(v, line, what, &s->src.err, &s->row[j]);
}

static int csv_probas(struct atr_scoring *s, uint64_t line)
{
	const struct sc_fields *fs = &s->src.csv;
	int rc;

	for (size_t c = 0; c < fs->n; c++) {
		struct sc_val v = { fs->f[c], SC_TEXT };
		if (s->col_proba[c] >= 0 && (rc = proba_value(s, (size_t)s->col_proba[c], &v, line)) != 0)
			return rc;
	}
	return 0;
}

/* The probability keys of a JSON line: "proba" an object; the first line's make the columns. */
static int json_columns(struct atr_scoring *s, uint64_t line)
{
	const struct sc_jline *jl = &s->src.json;
	uint32_t *cls;
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < jl->n; i++)
		if (!jl->m[i].nested && !jl->m[i].expanded && sc_eq(&jl->m[i].key, PROBA_KEY))
			return sc_fail(&s->src.err, ATR_SCORING_E_SYNTAX, line,
				       "key '" PROBA_KEY "' must hold an object: {\"<class>\": probability, ...}");
	if (s->cols_set)
		return 0;
	if (!(cls = malloc((jl->n ? jl->n : 1) * sizeof(*cls))))
		return ATR_ENOMEM;
	for (size_t i = 0; i < jl->n && rc == 0; i++) {
		struct sc_str name;
		if (jl->m[i].expanded || !proba_name(&jl->m[i].key, jl->m[i].nested, &name))
			continue;
		rc = pred_class(s, name.p, name.len, line, &cls[k++]);
	}
	if (rc) {
		free(cls);
		return rc;
	}
	return set_columns(s, cls, k, line);
}

/* The column of the probability member m of a JSON line, or an error. */
static int json_column(struct atr_scoring *s, const struct sc_str *name, uint64_t line, size_t *col)
{
	char q[64];
	uint32_t c;
	int32_t j = -1;

	if (sc_class_find(s, name->p, name->len, &c) && c < s->nclass_col)
		j = s->class_col[c];
	if (j >= 0 && s->row_gen[j] != s->gen) {
		s->row_gen[j] = s->gen;
		*col = (size_t)j;
		return 0;
	}
	sc_quote(q, sizeof(q), name->p, name->len);
	if (j < 0)
		return sc_fail(&s->src.err, ATR_SCORING_E_COLUMNS, line,
			       "a probability for class %s, which the first line does not have", q);
	return sc_fail(&s->src.err, ATR_SCORING_E_COLUMNS, line, "two probabilities for class %s", q);
}

static int json_probas(struct atr_scoring *s, uint64_t line)
{
	const struct sc_jline *jl = &s->src.json;
	size_t got = 0, col = 0;
	int rc;

	if (++s->gen == 0) {
		memset(s->row_gen, 0, s->k * sizeof(*s->row_gen));
		s->gen = 1;
	}
	for (size_t i = 0; i < jl->n; i++) {
		const struct sc_member *m = &jl->m[i];
		struct sc_str name;
		if (m->expanded || !proba_name(&m->key, m->nested, &name))
			continue;
		if ((rc = json_column(s, &name, line, &col)) != 0 || (rc = proba_value(s, col, &m->val, line)) != 0)
			return rc;
		got++;
	}
	for (size_t j = 0; got < s->k && j < s->k; j++) {
		if (s->row_gen[j] != s->gen) {
			char q[64];
			size_t len;
			const char *name = sc_class_name(s, s->k_class[j], &len);
			sc_quote(q, sizeof(q), name, len);
			return sc_fail(&s->src.err, ATR_SCORING_E_COLUMNS, line, "no probability for class %s", q);
		}
	}
	return 0;
}

/* The top-k flags of a row: q in class-name order, t the rank of the true class. */
static unsigned topk_flags(const struct atr_scoring *s, const double *q, size_t t)
{
	size_t k = s->k, above = 0;
	unsigned f = 0;

	if (k == 2) {
		double g = q[1]; /* sklearn's binary case: the greater class's score */
		if ((g > 0.5) == (t == 1))
			f |= SC_F_TOPK;
		if ((g > 0) == (t == 1))
			f |= SC_F_TOPK0;
		if (g >= 0 && g <= 1)
			f |= SC_F_IN01;
		return f;
	}
	/* np.argsort(kind="mergesort")[:, ::-1]: of equal scores the later class ranks higher */
	for (size_t r = 0; r < k; r++)
		above += q[r] > q[t] || (q[r] == q[t] && r > t);
	return above < s->t->spec.top_k ? SC_F_TOPK : 0;
}

/* log_loss's term of a row: clipped, renormalised (np.clip, then sum(axis=1) and divide). */
static double row_log_loss(double *q, size_t k, size_t t)
{
	const double eps = DBL_EPSILON;

	for (size_t r = 0; r < k; r++)
		q[r] = fmin(fmax(q[r], eps), 1 - eps);
	return -log(q[t] / sc_pairwise(q, k));
}

/* What the probability metrics need of row i (its true class tc), from its probabilities
 * in s->row. */
static void proba_row(struct atr_scoring *s, uint32_t i, uint32_t tc)
{
	const struct sc_spec *sp = &s->t->spec;
	struct sc_pred *pr = &s->preds[i];
	double *q = s->row_tmp;
	size_t k = s->k, t = s->k_rank[s->class_col[tc]];
	unsigned f = 0;

	for (size_t r = 0; r < k; r++)
		q[r] = s->row[s->k_order[r]];
	if (s->ovr) {
		memcpy(s->ovr + (size_t)i * k, q, k * sizeof(*q));
		double sum = sc_pairwise(q, k);
		if (fabs(1 - sum) <= 1e-8 + 1e-5 * fabs(sum)) /* np.allclose(1, sum) */
			f |= SC_F_SUM1;
	}
	if (SC_WANT(sp, SC_M_ROC_AUC))
		pr->score = s->row[s->pos_col];
	if (SC_WANT(sp, SC_M_TOP_K))
		f |= topk_flags(s, q, t);
	if (SC_WANT(sp, SC_M_LOG_LOSS))
		pr->u.log_loss = row_log_loss(q, k, t);
	pr->flags = f;
}

/* A pending row matched to its id (i, its truth row; tc, its class): an extra or a
 * duplicate id, else what the metrics need of it. */
static int apply(struct atr_scoring *s, const struct sc_pending *pd, bool found, uint32_t i, uint32_t tc)
{
	const char *id = sc_batch_id(&s->batch, pd);
	struct sc_pred *pr;
	uint64_t bit;
	char q[64];

	if (!found) {
		sc_quote(q, sizeof(q), id, pd->id_len);
		return sc_fail(&s->src.err, ATR_SCORING_E_EXTRA, pd->line, "id %s is not in the ground truth", q);
	}
	pr = &s->preds[i];
	bit = 1ULL << (i % 64);
	if (s->seen[i / 64] & bit) {
		sc_quote(q, sizeof(q), id, pd->id_len);
		return sc_fail(&s->src.err, ATR_SCORING_E_DUPLICATE, pd->line,
			       "id %s appears twice (first on line %llu)", q, (unsigned long long)pr->line);
	}
	s->seen[i / 64] |= bit;
	pr->line = pd->line;
	if (s->t->spec.task == ATR_SCORING_REGRESSION) {
		pr->u.number = pd->number;
		return 0;
	}
	pr->cls = pd->cls;
	if (s->k) {
		s->row = s->pend_proba + (size_t)(pd - s->batch.p) * s->k;
		proba_row(s, i, tc);
	}
	return 0;
}

/* Matches the pending rows to their ids, in three passes over the batch so that the cache
 * misses of the lookups (the slot, the record, the row's sc_pred) overlap; then applies
 * them in order: the first bad row stops it. */
static int pred_flush(void *arg)
{
	struct atr_scoring *s = arg;
	const struct sc_intern *ids = &s->t->ids;
	struct sc_batch *b = &s->batch;
	uint32_t idx[SC_BATCH], tc[SC_BATCH];
	bool found[SC_BATCH];
	int rc = 0;

	for (size_t j = 0; j < b->n; j++)
		sc_intern_prefetch(ids, b->p[j].hash);
	for (size_t j = 0; j < b->n; j++)
		b->p[j].slot = sc_intern_probe(ids, b->p[j].hash);
	for (size_t j = 0; j < b->n; j++) {
		const struct sc_pending *pd = &b->p[j];
		uint64_t truth = 0;
		found[j] = sc_intern_find_at(ids, pd->slot, sc_batch_id(b, pd), pd->id_len, pd->hash, &idx[j], &truth);
		tc[j] = (uint32_t)truth;
		if (found[j])
			__builtin_prefetch(&s->preds[idx[j]], 1);
	}
	for (size_t j = 0; rc == 0 && j < b->n; j++)
		rc = apply(s, &b->p[j], found[j], idx[j], tc[j]);
	sc_batch_clear(b);
	return rc;
}

/* The id and the prediction of a row, into a new pending row (its place taken only once
 * the whole row is read: pred_record). */
static int pred_row(struct atr_scoring *s, const struct sc_val *vid, const struct sc_val *vpred, uint64_t line)
{
	struct atr_scoring_error *err = &s->src.err;
	struct sc_pending *pd = &s->batch.p[s->batch.n];
	struct sc_str id, lab;
	int rc;

	if ((rc = sc_val_text(vid, line, "the id", err, &id)) != 0 || (rc = sc_batch_start(&s->batch, &id, line)) != 0)
		return rc;
	if (s->t->spec.task == ATR_SCORING_REGRESSION)
		return sc_val_number(vpred, line, "the prediction", err, &pd->number);
	if ((rc = sc_val_text(vpred, line, "the prediction", err, &lab)) != 0)
		return rc;
	return pred_class(s, lab.p, lab.len, line, &pd->cls);
}

static int pred_record(void *arg, const char *p, size_t len, uint64_t line)
{
	struct atr_scoring *s = arg;
	struct sc_source *src = &s->src;
	const struct sc_spec *sp = &s->t->spec;
	const struct sc_val *id, *pred;
	struct sc_val vid, vpred;
	int rc;

	if (src->fmt == ATR_SCORING_CSV) {
		if ((rc = sc_csv_split(&src->csv, p, len, line, &src->err)) != 0)
			return rc;
		if (!src->header)
			return pred_header(s, line);
		if ((rc = sc_csv_count(src, line)) != 0)
			return rc;
		vid = (struct sc_val){ src->csv.f[s->col_id], SC_TEXT };
		vpred = (struct sc_val){ src->csv.f[s->col_pred], SC_TEXT };
		rc = pred_row(s, &vid, &vpred, line);
		s->row = s->k ? s->pend_proba + s->batch.n * s->k : NULL;
		if (rc == 0 && s->k)
			rc = csv_probas(s, line);
	} else {
		if ((rc = sc_json_line(&src->json, p, len, line, needs_proba(s) ? PROBA_KEY : NULL, &src->err)) != 0 ||
		    (rc = sc_json_find(&src->json, sp->id_col, line, &src->err, &id)) != 0 ||
		    (rc = sc_json_find(&src->json, sp->pred_col, line, &src->err, &pred)) != 0 ||
		    (rc = pred_row(s, id, pred, line)) != 0)
			return rc;
		if (needs_proba(s) && (rc = json_columns(s, line)) != 0)
			return rc;
		s->row = s->k ? s->pend_proba + s->batch.n * s->k : NULL;
		if (needs_proba(s))
			rc = json_probas(s, line);
	}
	if (rc)
		return rc;
	s->rows++;
	return sc_batch_commit(&s->batch) ? pred_flush(s) : 0;
}

int atr_scoring_feed(struct atr_scoring *s, const void *data, size_t len)
{
	return sc_source_feed(&s->src, data, len);
}

/* ---- the end ---- */

static int missing_ids(struct atr_scoring *s)
{
	size_t n = s->t->ids.n, first = n, len;
	const char *id;
	char q[64];

	for (size_t i = 0; i < n && first == n; i++)
		if (!(s->seen[i / 64] >> (i % 64) & 1))
			first = i;
	id = sc_intern_get(&s->t->ids, (uint32_t)first, &len);
	sc_quote(q, sizeof(q), id, len);
	/* (not its line in the ground truth: a competition's participant reads this) */
	return sc_fail(&s->src.err, ATR_SCORING_E_MISSING, 0,
		       "id %s of the ground truth has no prediction: %zu of %zu ids have none", q, n - s->rows, n);
}

/* All classes (the truth's and the scoring's) in the order of their names: order, rank. */
static int order_classes(struct atr_scoring *s)
{
	size_t n = s->t->classes.n + s->extra.n;
	struct named *v = malloc((n ? n : 1) * sizeof(*v));

	s->order = malloc((n ? n : 1) * sizeof(*s->order));
	s->rank = malloc((n ? n : 1) * sizeof(*s->rank));
	if (!v || !s->order || !s->rank) {
		free(v);
		return ATR_ENOMEM;
	}
	for (uint32_t c = 0; c < n; c++) {
		v[c].p = sc_class_name(s, c, &v[c].len);
		v[c].idx = c;
	}
	qsort(v, n, sizeof(*v), cmp_named);
	for (size_t r = 0; r < n; r++) {
		s->order[r] = v[r].idx;
		s->rank[v[r].idx] = (uint32_t)r;
	}
	s->nclasses = n;
	free(v);
	return 0;
}

int atr_scoring_end(struct atr_scoring *s)
{
	int rc = sc_source_end(&s->src);

	if (rc)
		return rc;
	if (s->rows < s->t->ids.n)
		rc = missing_ids(s);
	else if (s->t->spec.task == ATR_SCORING_CLASSIFICATION)
		rc = order_classes(s);
	return sc_source_rc(&s->src, rc);
}
