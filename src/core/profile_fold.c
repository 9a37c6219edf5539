/*
 * profile_fold.c: a profile's JSON form (stored once per dataset version and settings) and
 * folding live requests into counts over its bins: the request's rows are found (V2 tensors by
 * name or position, instances, a list of rows, one row), each row's values mapped to the
 * features (objects by key, arrays by position) and counted. Not here: building a profile
 * (profile.c), the statistics (drift.c).
 */
#include "atrium/profile.h"
#include "atrium/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_MAX_ROWS 100000 /* a larger request is folded in part */

/* ---- JSON ---- */

static json_t *num_or_null(double d)
{
	return isfinite(d) ? json_real(d) : json_null();
}

static json_t *u64_array(const uint64_t *a, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_integer((json_int_t)a[i]));
	return arr;
}

static json_t *feature_json(const struct atr_profile_feature *f, uint64_t rows)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:o}", "name", f->name, "type",
			      f->type == ATR_FEAT_NUMERIC ? "numeric" : "categorical", "nulls", (json_int_t)f->nulls,
			      "null_rate", rows ? (double)f->nulls / (double)rows : 0.0, "counts",
			      u64_array(f->counts, f->nbins));
	json_t *arr;

	if (!o)
		return NULL;
	if (f->prediction)
		json_object_set_new(o, "prediction", json_true());
	if (f->type == ATR_FEAT_NUMERIC) {
		arr = json_array();
		for (size_t i = 0; arr && i < f->nedges; i++)
			json_array_append_new(arr, json_real(f->edges[i]));
		json_object_set_new(o, "edges", arr ? arr : json_null());
		json_object_set_new(o, "mean", num_or_null(f->mean));
		json_object_set_new(o, "std", num_or_null(f->std));
		json_object_set_new(o, "min", num_or_null(f->min));
		json_object_set_new(o, "max", num_or_null(f->max));
	} else {
		arr = json_array();
		for (size_t i = 0; arr && i < f->ncats; i++)
			json_array_append_new(arr, json_string(f->cats[i]));
		json_object_set_new(o, "categories", arr ? arr : json_null());
		json_object_set_new(o, "other", json_integer((json_int_t)f->counts[f->ncats]));
	}
	return o;
}

json_t *atr_profile_json(const struct atr_profile *p)
{
	json_t *feats = json_array(), *o;

	for (size_t i = 0; feats && i < p->nfeat; i++)
		if (json_array_append_new(feats, feature_json(&p->f[i], p->rows)) < 0) {
			json_decref(feats);
			return NULL;
		}
	o = json_pack("{s:I, s:o}", "rows", (json_int_t)p->rows, "features", feats);
	return o;
}

static double jnum(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int feature_from_json(const json_t *j, struct atr_profile_feature *f)
{
	const json_t *counts = json_object_get(j, "counts"), *arr;
	const char *name = json_string_value(json_object_get(j, "name")),
		   *type = json_string_value(json_object_get(j, "type"));
	size_t i;

	if (!name || !type || !json_is_array(counts) || json_array_size(counts) == 0)
		return ATR_EINVAL;
	f->name = strdup(name);
	f->type = strcmp(type, "numeric") == 0 ? ATR_FEAT_NUMERIC : ATR_FEAT_CATEGORICAL;
	f->prediction = json_is_true(json_object_get(j, "prediction"));
	f->nbins = json_array_size(counts);
	f->counts = calloc(f->nbins, sizeof(uint64_t));
	f->nulls = (uint64_t)json_integer_value(json_object_get(j, "nulls"));
	if (!f->name || !f->counts)
		return ATR_ENOMEM;
	for (i = 0; i < f->nbins; i++)
		f->counts[i] = (uint64_t)json_integer_value(json_array_get(counts, i));
	f->mean = jnum(j, "mean");
	f->std = jnum(j, "std");
	f->min = jnum(j, "min");
	f->max = jnum(j, "max");
	arr = json_object_get(j, f->type == ATR_FEAT_NUMERIC ? "edges" : "categories");
	if (json_array_size(arr) != f->nbins - 1)
		return ATR_EINVAL;
	if (f->type == ATR_FEAT_NUMERIC) {
		f->nedges = f->nbins - 1;
		if (!(f->edges = calloc(f->nedges ? f->nedges : 1, sizeof(double))))
			return ATR_ENOMEM;
		for (i = 0; i < f->nedges; i++)
			f->edges[i] = json_number_value(json_array_get(arr, i));
		return 0;
	}
	if (!(f->cats = calloc(f->nbins, sizeof(char *))))
		return ATR_ENOMEM;
	for (i = 0; i < f->nbins - 1; i++) {
		const char *c = json_string_value(json_array_get(arr, i));
		if (!c || !(f->cats[i] = strdup(c)))
			return c ? ATR_ENOMEM : ATR_EINVAL;
		f->ncats = i + 1;
	}
	return 0;
}

int atr_profile_from_json(const json_t *j, struct atr_profile **out)
{
	const json_t *feats = json_object_get(j, "features");
	struct atr_profile *p = calloc(1, sizeof(*p));
	int rc = 0;

	*out = NULL;
	if (!p)
		return ATR_ENOMEM;
	if (!json_is_array(feats) || json_array_size(feats) > ATR_PROFILE_MAX_FEATURES) {
		free(p);
		return ATR_EINVAL;
	}
	p->rows = (uint64_t)json_integer_value(json_object_get(j, "rows"));
	if (!(p->f = calloc(json_array_size(feats) + 1, sizeof(*p->f)))) {
		free(p);
		return ATR_ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < json_array_size(feats); i++) {
		p->nfeat = i + 1;
		rc = feature_from_json(json_array_get(feats, i), &p->f[i]);
	}
	if (rc < 0) {
		atr_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- folding live requests ---- */

/* The features a request carries: all but the prediction (always the last one). */
static size_t nin(const struct atr_profile *p)
{
	return p->nfeat - (p->nfeat && p->f[p->nfeat - 1].prediction);
}

size_t atr_profile_offset(const struct atr_profile *p, size_t i)
{
	size_t off = ATR_LIVE_HEAD;
	for (size_t k = 0; k < i && k < p->nfeat; k++)
		off += p->f[k].nbins + 2;
	return off;
}

size_t atr_profile_slots(const struct atr_profile *p)
{
	return atr_profile_offset(p, p->nfeat);
}

/* The text of a categorical value (integers and reals as Python writes them, booleans). */
const char *atr_profile_value_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		snprintf(buf, len, "%.15g", d);
		if (strtod(buf, NULL) != d)
			snprintf(buf, len, "%.17g", d);
		return buf;
	}
	return json_is_true(v) ? "true" : json_is_false(v) ? "false" : NULL;
}

static bool num_value(const json_t *v, double *d)
{
	char *end;

	if (json_is_number(v)) {
		*d = json_number_value(v);
		return true;
	}
	if (!json_is_string(v) || !*json_string_value(v))
		return false;
	*d = strtod(json_string_value(v), &end);
	return *end == 0 && isfinite(*d);
}

static void fold_value(const struct atr_profile_feature *f, const json_t *v, uint64_t *c)
{
	char buf[40];
	const char *t;
	double d;

	if (f->type == ATR_FEAT_NUMERIC) {
		if (!num_value(v, &d)) {
			c[f->nbins]++;
			return;
		}
		size_t lo = 0, hi = f->nedges;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (f->edges[mid] < d)
				lo = mid + 1;
			else
				hi = mid;
		}
		c[lo]++;
		if (d < f->min || d > f->max)
			c[f->nbins + 1]++;
		return;
	}
	if (!(t = atr_profile_value_text(v, buf, sizeof(buf)))) {
		c[f->nbins]++;
		return;
	}
	for (size_t i = 0; i < f->ncats; i++)
		if (strcmp(f->cats[i], t) == 0) {
			c[i]++;
			return;
		}
	c[f->ncats]++;
	c[f->nbins + 1]++;
}

/* One row: an object (by key) or an array of exactly nfeat values (by position). */
static void fold_row(const struct atr_profile *p, const json_t *row, uint64_t *counts)
{
	size_t off = ATR_LIVE_HEAD;

	if (!json_is_object(row) && !(json_is_array(row) && json_array_size(row) == nin(p))) {
		counts[ATR_LIVE_MISFIT]++;
		return;
	}
	counts[ATR_LIVE_ROWS]++;
	for (size_t i = 0; i < nin(p); i++) {
		const json_t *v = json_is_object(row) ? json_object_get(row, p->f[i].name) : json_array_get(row, i);
		fold_value(&p->f[i], v, counts + off);
		off += p->f[i].nbins + 2;
	}
}

/* Leaves of a (nested) array in order into out (at most max; NULL: only counted); their number. */
static size_t leaves(const json_t *a, const json_t **out, size_t n, size_t max)
{
	size_t i;
	const json_t *v;

	if (!json_is_array(a)) {
		if (out && n < max)
			out[n] = a;
		return n + 1;
	}
	json_array_foreach(a, i, v)
	{
		n = leaves(v, out, n, max);
		if (n >= max)
			break;
	}
	return n;
}

static int feature_index(const struct atr_profile *p, const char *name)
{
	for (size_t i = 0; name && i < nin(p); i++)
		if (strcmp(p->f[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* V2 with one tensor per feature: row r is element r of each named tensor. */
static bool fold_v2_named(const struct atr_profile *p, const json_t *inputs, uint64_t *counts)
{
	const json_t **col[ATR_PROFILE_MAX_FEATURES] = { 0 };
	size_t len[ATR_PROFILE_MAX_FEATURES] = { 0 }, rows = 0, i;
	const json_t *in;
	bool any = false;

	json_array_foreach(inputs, i, in)
	{
		int fi = feature_index(p, json_string_value(json_object_get(in, "name")));
		if (fi < 0 || col[fi])
			continue;
		len[fi] = leaves(json_object_get(in, "data"), NULL, 0, FOLD_MAX_ROWS);
		len[fi] = len[fi] < FOLD_MAX_ROWS ? len[fi] : FOLD_MAX_ROWS;
		if (!(col[fi] = malloc((len[fi] + 1) * sizeof(json_t *))))
			break;
		leaves(json_object_get(in, "data"), col[fi], 0, len[fi]);
		rows = len[fi] > rows ? len[fi] : rows;
		any = true;
	}
	for (size_t r = 0; any && r < rows; r++) {
		size_t off = ATR_LIVE_HEAD;
		counts[ATR_LIVE_ROWS]++;
		for (size_t f = 0; f < nin(p); f++) {
			fold_value(&p->f[f], col[f] && r < len[f] ? col[f][r] : NULL, counts + off);
			off += p->f[f].nbins + 2;
		}
	}
	for (size_t f = 0; f < p->nfeat; f++)
		free(col[f]);
	return any;
}

/* V2 with one [rows, features] tensor: by position. */
static bool fold_v2_matrix(const struct atr_profile *p, const json_t *inputs, uint64_t *counts)
{
	const json_t *in = json_array_get(inputs, 0), *shape = json_object_get(in, "shape"), **v;
	size_t n, rows;

	if (json_array_size(inputs) != 1 || json_array_size(shape) != 2 || nin(p) == 0 ||
	    json_integer_value(json_array_get(shape, 1)) != (json_int_t)nin(p))
		return false;
	n = leaves(json_object_get(in, "data"), NULL, 0, FOLD_MAX_ROWS);
	n = n < FOLD_MAX_ROWS ? n : FOLD_MAX_ROWS;
	if (!(v = malloc((n + 1) * sizeof(*v))))
		return false;
	leaves(json_object_get(in, "data"), v, 0, n);
	rows = n / nin(p);
	for (size_t r = 0; r < rows; r++) {
		size_t off = ATR_LIVE_HEAD;
		counts[ATR_LIVE_ROWS]++;
		for (size_t f = 0; f < nin(p); f++) {
			fold_value(&p->f[f], v[r * nin(p) + f], counts + off);
			off += p->f[f].nbins + 2;
		}
	}
	free(v);
	return rows > 0;
}

static bool is_v2(const json_t *inputs)
{
	const json_t *first = json_array_get(inputs, 0);
	return json_is_object(first) && json_object_get(first, "data");
}

static void fold_rows(const struct atr_profile *p, const json_t *rows, uint64_t *counts)
{
	size_t i;
	const json_t *row;

	json_array_foreach(rows, i, row)
	{
		if (i >= FOLD_MAX_ROWS)
			break;
		fold_row(p, row, counts);
	}
}

void atr_profile_fold(const struct atr_profile *p, const char *body, size_t len, uint64_t *counts)
{
	json_t *j = json_loadb(body, len, JSON_DECODE_ANY, NULL), *inputs;

	counts[ATR_LIVE_REQUESTS]++;
	if (!j) {
		counts[ATR_LIVE_MISFIT]++;
		return;
	}
	inputs = json_object_get(j, "inputs");
	if (json_is_array(inputs) && is_v2(inputs)) {
		if (!fold_v2_named(p, inputs, counts) && !fold_v2_matrix(p, inputs, counts))
			counts[ATR_LIVE_MISFIT]++;
	} else if (json_is_array(json_object_get(j, "instances"))) {
		fold_rows(p, json_object_get(j, "instances"), counts);
	} else if (json_is_array(inputs)) {
		fold_rows(p, inputs, counts);
	} else if (json_is_array(json_object_get(j, "dataframe_records"))) {
		fold_rows(p, json_object_get(j, "dataframe_records"), counts);
	} else if (json_is_array(j)) {
		fold_rows(p, j, counts);
	} else {
		fold_row(p, j, counts);
	}
	json_decref(j);
}

void atr_profile_fold_answer(const struct atr_profile *p, const char *body, size_t len, uint64_t *counts)
{
	const struct atr_profile_feature *f = p->nfeat ? &p->f[p->nfeat - 1] : NULL;
	json_t *j;
	const json_t *v;

	if (!f || !f->prediction)
		return;
	j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
	for (size_t r = 0; j && r < FOLD_MAX_ROWS && (v = atr_prediction_value(j, r)); r++)
		fold_value(f, v, counts + atr_profile_offset(p, p->nfeat - 1));
	json_decref(j);
}

int atr_profile_set_prediction(struct atr_profile *p, const char *name)
{
	struct atr_profile_feature f;
	size_t i;

	for (i = 0; i < p->nfeat && strcmp(p->f[i].name, name) != 0; i++)
		;
	if (i == p->nfeat)
		return ATR_ENOTFOUND;
	f = p->f[i];
	memmove(&p->f[i], &p->f[i + 1], (p->nfeat - i - 1) * sizeof(f));
	f.prediction = true;
	p->f[p->nfeat - 1] = f;
	return 0;
}
