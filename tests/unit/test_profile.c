/*
 * test_profile.c: reference profiles (building from CSV and JSON Lines, inference, errors,
 * the JSON form), folding live requests, the drift statistics and live quality
 * (src/core/profile*.c, src/core/drift.c, src/core/quality.c).
 *
 * With "--drift" as its first argument it is instead the reference tool of
 * tests/drift/check_scipy.py: it reads {"cases": [{"ref": [...], "live": [...]}]} on stdin
 * and prints each case's statistics; with "--check REFERENCE.csv LIVE.jsonl" it profiles the
 * reference, folds each live line as one request and prints the profile, the live counts and
 * the drift of each feature, as JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/profile.h"

static struct atr_profile *build(const char *text, enum atr_profile_format fmt, const struct atr_profile_spec *spec,
				 int want_rc, char *why)
{
	const char *data[1] = { text };
	size_t lens[1] = { strlen(text) };
	struct atr_profile *p = NULL;
	struct atr_profile_spec none = { 0 };
	char buf[256] = "";
	int rc = atr_profile_build_mem(data, lens, 1, fmt, spec ? spec : &none, &p, why ? why : buf, 256);

	assert_int_equal(rc, want_rc);
	return p;
}

/* ---- statistics ---- */

static void test_gamma_q(void **state)
{
	(void)state;
	for (double x = 0; x < 30; x += 0.7) {
		assert_true(fabs(atr_gamma_q(1, x) - exp(-x)) <= 1e-13 * exp(-x) + 1e-300);
		assert_true(fabs(atr_gamma_q(0.5, x) - erfc(sqrt(x))) <= 1e-12 * erfc(sqrt(x)) + 1e-300);
	}
	assert_true(atr_gamma_q(3, 0) == 1);
	assert_true(isnan(atr_gamma_q(0, 1)));
	assert_true(isnan(atr_gamma_q(1, -1)));
}

static void test_drift_identical(void **state)
{
	uint64_t a[4] = { 10, 20, 0, 30 }, b[4] = { 20, 40, 0, 60 };
	struct atr_drift d;

	(void)state;
	atr_drift_compute(a, b, 4, &d);
	assert_true(fabs(d.psi) < 1e-15 && fabs(d.js) < 1e-7 && fabs(d.ks) < 1e-15);
	assert_int_equal(d.dof, 2);
	assert_true(fabs(d.chi2_p - 1) < 1e-12);
}

static void test_drift_known(void **state)
{
	uint64_t a[2] = { 50, 50 }, b[2] = { 90, 10 };
	struct atr_drift d;
	double psi = (0.9 - 0.5) * log(0.9 / 0.5) + (0.1 - 0.5) * log(0.1 / 0.5);

	(void)state;
	atr_drift_compute(a, b, 2, &d);
	assert_true(fabs(d.psi - psi) < 1e-12);
	assert_true(fabs(d.ks - 0.4) < 1e-12);
	/* 2x2: chi2 = N (ad - bc)^2 / (r1 r2 c1 c2) */
	assert_true(fabs(d.chi2 -
			 200.0 * (50.0 * 10 - 50.0 * 90) * (50.0 * 10 - 50.0 * 90) / (100.0 * 100 * 140 * 60)) < 1e-9);
	assert_int_equal(d.dof, 1);
	assert_true(d.chi2_p < 1e-8);
}

static void test_drift_empty_side(void **state)
{
	uint64_t a[2] = { 5, 5 }, z[2] = { 0, 0 }, one[1] = { 7 }, one2[1] = { 3 };
	struct atr_drift d;

	(void)state;
	atr_drift_compute(a, z, 2, &d);
	assert_true(isnan(d.psi) && isnan(d.js) && isnan(d.ks) && isnan(d.chi2_p));
	atr_drift_compute(one, one2, 1, &d); /* one category: nothing can differ */
	assert_true(d.psi == 0 && d.ks == 0 && d.chi2_p == 1 && d.dof == 0);
}

/* ---- profiles ---- */

static const char *CSV = "x,color,y\n"
			 "1,red,a\n2,blue,b\n3,red,\n4,,c\n5,red,NA\n6,green,d\n7,red,e\n8,blue,f\n9,red,g\n10,NaN,h\n";

static void test_profile_csv(void **state)
{
	struct atr_profile *p = build(CSV, ATR_PROFILE_CSV, NULL, 0, NULL);
	const struct atr_profile_feature *x, *c;
	uint64_t n = 0;

	(void)state;
	assert_int_equal(p->rows, 10);
	assert_int_equal(p->nfeat, 3);
	x = &p->f[0];
	c = &p->f[1];
	assert_string_equal(x->name, "x");
	assert_int_equal(x->type, ATR_FEAT_NUMERIC);
	assert_int_equal(x->nulls, 0);
	assert_true(fabs(x->mean - 5.5) < 1e-12 && x->min == 1 && x->max == 10);
	assert_true(fabs(x->std - sqrt(8.25)) < 1e-12);
	assert_int_equal(x->nbins, 10);
	for (size_t i = 0; i < x->nbins; i++)
		n += x->counts[i];
	assert_int_equal(n, 10);
	for (size_t i = 1; i < x->nedges; i++)
		assert_true(x->edges[i] > x->edges[i - 1]);
	assert_int_equal(c->type, ATR_FEAT_CATEGORICAL);
	assert_int_equal(c->nulls, 2);
	assert_int_equal(c->ncats, 3);
	assert_string_equal(c->cats[0], "red");
	assert_int_equal(c->counts[0], 5);
	assert_string_equal(c->cats[1], "blue");
	assert_int_equal(c->counts[3], 0);
	assert_int_equal(p->f[2].nulls, 2);
	atr_profile_free(p);
}

static void test_profile_spec(void **state)
{
	const char *names[2] = { "color", "x" };
	enum atr_feature_type types[2] = { ATR_FEAT_CATEGORICAL, ATR_FEAT_CATEGORICAL };
	struct atr_profile_spec spec = { .nfeat = 2, .names = names, .types = types, .max_categories = 1 };
	struct atr_profile *p = build(CSV, ATR_PROFILE_CSV, &spec, 0, NULL);
	char why[256];

	(void)state;
	assert_int_equal(p->nfeat, 2);
	assert_int_equal(p->f[0].ncats, 1);
	assert_int_equal(p->f[0].counts[0], 5); /* red */
	assert_int_equal(p->f[0].counts[1], 3); /* blue, blue, green */
	assert_int_equal(p->f[1].type, ATR_FEAT_CATEGORICAL);
	atr_profile_free(p);
	names[1] = "nope";
	assert_null(build(CSV, ATR_PROFILE_CSV, &spec, ATR_EUNPROCESSABLE, why));
	assert_non_null(strstr(why, "'nope'"));
	assert_null(build("a,b\n1,2\n3\n", ATR_PROFILE_CSV, NULL, ATR_EUNPROCESSABLE, why));
	assert_non_null(strstr(why, "line 3"));
	assert_null(build("", ATR_PROFILE_CSV, NULL, ATR_EUNPROCESSABLE, why));
}

static void test_profile_jsonl(void **state)
{
	const char *text = "{\"a\": 1.5, \"b\": \"x\"}\n{\"a\": null, \"b\": \"y\"}\n\n{\"b\": \"x\", \"a\": 2.5}\n"
			   "{\"a\": NaN}\n";
	struct atr_profile *p = build(text, ATR_PROFILE_JSONL, NULL, 0, NULL);
	char why[256];

	(void)state;
	assert_int_equal(p->rows, 4);
	assert_int_equal(p->f[0].type, ATR_FEAT_NUMERIC);
	assert_int_equal(p->f[0].nulls, 2);
	assert_true(fabs(p->f[0].mean - 2) < 1e-12);
	assert_int_equal(p->f[1].nulls, 1);
	assert_string_equal(p->f[1].cats[0], "x");
	atr_profile_free(p);
	assert_null(build("{\"a\": 1\n", ATR_PROFILE_JSONL, NULL, ATR_EUNPROCESSABLE, why));
}

static void test_profile_json_roundtrip(void **state)
{
	struct atr_profile *p = build(CSV, ATR_PROFILE_CSV, NULL, 0, NULL), *q = NULL;
	json_t *j = atr_profile_json(p), *j2;

	(void)state;
	assert_non_null(j);
	assert_int_equal(atr_profile_from_json(j, &q), 0);
	j2 = atr_profile_json(q);
	assert_true(json_equal(j, j2));
	assert_int_equal(atr_profile_slots(q), ATR_LIVE_HEAD + (10 + 2) + (4 + 2) + (9 + 2));
	json_decref(j);
	json_decref(j2);
	atr_profile_free(p);
	atr_profile_free(q);
	j = json_pack("{s:[{s:s}]}", "features", "name", "x");
	assert_int_equal(atr_profile_from_json(j, &q), ATR_EINVAL);
	assert_null(q);
	json_decref(j);
}

static void fold(const struct atr_profile *p, const char *body, uint64_t *c)
{
	atr_profile_fold(p, body, strlen(body), c);
}

static void test_fold_forms(void **state)
{
	struct atr_profile *p = build(CSV, ATR_PROFILE_CSV, NULL, 0, NULL);
	size_t n = atr_profile_slots(p), ox = atr_profile_offset(p, 0), oc = atr_profile_offset(p, 1);
	uint64_t *c = calloc(n, sizeof(uint64_t));

	(void)state;
	fold(p, "{\"x\": 1, \"color\": \"red\", \"y\": \"a\"}", c);
	fold(p, "{\"instances\": [{\"x\": 100, \"color\": \"purple\"}, [2, \"blue\", \"b\"]]}", c);
	fold(p,
	     "{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"data\": [1, null]},"
	     " {\"name\": \"color\", \"shape\": [2], \"datatype\": \"BYTES\", \"data\": [\"red\", \"red\"]}]}",
	     c);
	fold(p,
	     "{\"inputs\": [{\"name\": \"in0\", \"shape\": [1, 3], \"datatype\": \"BYTES\", \"data\": [[3, \"green\", "
	     "\"c\"]]}]}",
	     c);
	fold(p, "not json", c);
	fold(p, "[1, 2]", c);
	assert_int_equal(c[ATR_LIVE_REQUESTS], 6);
	assert_int_equal(c[ATR_LIVE_ROWS], 6);
	assert_int_equal(c[ATR_LIVE_MISFIT], 3);			  /* not JSON, 1 and 2 are not rows */
	assert_int_equal(c[ox + p->f[0].nbins], 1);			  /* x null */
	assert_int_equal(c[ox + p->f[0].nbins + 1], 1);			  /* 100: out of range */
	assert_int_equal(c[ox + p->f[0].nbins - 1], 1);			  /* 100 in the last bin */
	assert_int_equal(c[oc + 0], 3);					  /* red */
	assert_int_equal(c[oc + p->f[1].ncats], 1);			  /* purple: other */
	assert_int_equal(c[oc + p->f[1].nbins + 1], 1);			  /* and unseen */
	assert_int_equal(c[atr_profile_offset(p, 2) + p->f[2].nbins], 3); /* y missing: once, then twice in V2 */
	free(c);
	atr_profile_free(p);
}

static void test_fold_prediction(void **state)
{
	const char *names[2] = { "y", "x" };
	struct atr_profile_spec spec = { .nfeat = 2, .names = names };
	struct atr_profile *p = build(CSV, ATR_PROFILE_CSV, &spec, 0, NULL), *q = NULL;
	const char *answer = "{\"predictions\": [\"a\", \"zz\", null]}";
	size_t oy;
	uint64_t *c;
	json_t *j;
	(void)state;

	assert_int_equal(atr_profile_set_prediction(p, "nope"), ATR_ENOTFOUND);
	assert_int_equal(atr_profile_set_prediction(p, "y"), 0);
	assert_string_equal(p->f[1].name, "y");
	assert_true(p->f[1].prediction && !p->f[0].prediction);
	j = atr_profile_json(p);
	assert_int_equal(atr_profile_from_json(j, &q), 0);
	assert_true(q->f[1].prediction);
	json_decref(j);
	oy = atr_profile_offset(q, 1);
	c = calloc(atr_profile_slots(q), sizeof(uint64_t));
	fold(q, "{\"instances\": [{\"x\": 3}, [4]]}", c); /* by position: x only */
	assert_int_equal(c[ATR_LIVE_ROWS], 2);
	assert_int_equal(c[ATR_LIVE_MISFIT], 0);
	assert_int_equal(c[oy + q->f[1].nbins], 0); /* the request says nothing of y */
	atr_profile_fold_answer(q, answer, strlen(answer), c);
	assert_int_equal(c[oy + 0] + c[oy + 1] + c[oy + 2], 1); /* "a" among y's categories */
	assert_int_equal(c[oy + q->f[1].nbins - 1], 1);		/* "zz": other */
	assert_int_equal(c[oy + q->f[1].nbins], 1);		/* null */
	assert_int_equal(c[oy + q->f[1].nbins + 1], 1);		/* unseen */
	atr_profile_fold_answer(p, "not json", 8, c);
	free(c);
	atr_profile_free(p);
	atr_profile_free(q);
}

/* ---- live quality ---- */

static void test_prediction_value(void **state)
{
	const char *answers[] = { "{\"outputs\":[{\"name\":\"y\",\"data\":[3.5,8.5]}]}",
				  "{\"predictions\":[[1],[2]]}",
				  "[\"cat\",\"dog\"]",
				  "{\"prediction\":7}",
				  "42",
				  "{\"other\":1}" };
	const double want0[] = { 3.5, 1, NAN, 7, 42, NAN };
	(void)state;

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		json_t *j = json_loads(answers[i], JSON_DECODE_ANY, NULL);
		const json_t *v = atr_prediction_value(j, 0);
		assert_non_null(j);
		if (isnan(want0[i]) && i == 2)
			assert_string_equal(json_string_value(v), "cat");
		else if (isnan(want0[i]))
			assert_null(v);
		else
			assert_true(json_number_value(v) == want0[i]);
		if (i < 3)
			assert_non_null(atr_prediction_value(j, 1));
		assert_null(atr_prediction_value(j, 5));
		json_decref(j);
	}
}

static void test_quality(void **state)
{
	struct atr_quality q = { 0 };
	json_t *j, *y[3], *p[3];
	const double yv[3] = { 1, 2, 3 }, pv[3] = { 1.5, 2, 2 };
	(void)state;

	for (int i = 0; i < 3; i++) {
		y[i] = json_real(yv[i]);
		p[i] = json_real(pv[i]);
		atr_quality_add(&q, y[i], p[i]);
		json_decref(y[i]);
		json_decref(p[i]);
	}
	j = atr_quality_json(&q);
	assert_int_equal(json_integer_value(json_object_get(j, "labelled")), 3);
	assert_true(fabs(json_real_value(json_object_get(j, "accuracy")) - 1.0 / 3) < 1e-12);
	assert_true(fabs(json_real_value(json_object_get(j, "mae")) - 0.5) < 1e-12);
	assert_true(fabs(json_real_value(json_object_get(j, "rmse")) - sqrt(1.25 / 3)) < 1e-12);
	assert_true(fabs(json_real_value(json_object_get(j, "r2")) - 0.375) < 1e-12);
	json_decref(j);
	memset(&q, 0, sizeof(q));
	y[0] = json_string("cat");
	y[1] = json_integer(1);
	p[0] = json_string("cat");
	p[1] = json_string("1");
	atr_quality_add(&q, y[0], p[0]);
	atr_quality_add(&q, y[1], p[1]); /* 1 and "1": the same text */
	atr_quality_add(&q, y[0], p[1]);
	for (int i = 0; i < 2; i++) {
		json_decref(y[i]);
		json_decref(p[i]);
	}
	j = atr_quality_json(&q);
	assert_true(fabs(json_real_value(json_object_get(j, "accuracy")) - 2.0 / 3) < 1e-12);
	assert_true(json_is_null(json_object_get(j, "mae")) && json_is_null(json_object_get(j, "r2")));
	json_decref(j);
}

/* ---- the reference tool ---- */

static json_t *drift_json(const uint64_t *ref, const uint64_t *live, size_t n)
{
	struct atr_drift d;

	atr_drift_compute(ref, live, n, &d);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:i}", "psi", isfinite(d.psi) ? json_real(d.psi) : json_null(),
			 "js", isfinite(d.js) ? json_real(d.js) : json_null(), "ks",
			 isfinite(d.ks) ? json_real(d.ks) : json_null(), "chi2",
			 isfinite(d.chi2) ? json_real(d.chi2) : json_null(), "chi2_p",
			 isfinite(d.chi2_p) ? json_real(d.chi2_p) : json_null(), "dof", d.dof);
}

static uint64_t *u64s(const json_t *a)
{
	uint64_t *v = calloc(json_array_size(a) + 1, sizeof(uint64_t));
	for (size_t i = 0; v && i < json_array_size(a); i++)
		v[i] = (uint64_t)json_integer_value(json_array_get(a, i));
	return v;
}

static int tool_drift(void)
{
	json_t *in = json_loadf(stdin, 0, NULL), *out = json_array(), *c;
	size_t i;

	if (!in)
		return 2;
	json_array_foreach(json_object_get(in, "cases"), i, c)
	{
		uint64_t *r = u64s(json_object_get(c, "ref")), *l = u64s(json_object_get(c, "live"));
		json_array_append_new(out, drift_json(r, l, json_array_size(json_object_get(c, "ref"))));
		free(r);
		free(l);
	}
	json_dumpf(out, stdout, JSON_COMPACT);
	json_decref(in);
	json_decref(out);
	return 0;
}

static int tool_check(const char *ref, const char *live)
{
	struct atr_profile_spec spec = { 0 };
	struct atr_profile *p = NULL;
	char why[256], *line = NULL;
	size_t cap = 0, n;
	ssize_t len;
	uint64_t *c;
	FILE *f;
	json_t *out, *feats;

	if (atr_profile_build_files(&ref, 1, ATR_PROFILE_CSV, &spec, &p, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\n", why);
		return 2;
	}
	n = atr_profile_slots(p);
	c = calloc(n, sizeof(uint64_t));
	if (!(f = fopen(live, "r")) || !c)
		return 2;
	while ((len = getline(&line, &cap, f)) > 0)
		atr_profile_fold(p, line, (size_t)len, c);
	fclose(f);
	free(line);
	feats = json_array();
	for (size_t i = 0; i < p->nfeat; i++) {
		const uint64_t *lc = c + atr_profile_offset(p, i);
		json_t *counts = json_array();
		for (size_t k = 0; k < p->f[i].nbins + 2; k++)
			json_array_append_new(counts, json_integer((json_int_t)lc[k]));
		json_array_append_new(feats, json_pack("{s:o, s:o}", "live", counts, "drift",
						       drift_json(p->f[i].counts, lc, p->f[i].nbins)));
	}
	out = json_pack("{s:o, s:o, s:I}", "profile", atr_profile_json(p), "features", feats, "misfit",
			(json_int_t)c[ATR_LIVE_MISFIT]);
	json_dumpf(out, stdout, JSON_COMPACT);
	json_decref(out);
	free(c);
	atr_profile_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gamma_q),	      cmocka_unit_test(test_drift_identical),
		cmocka_unit_test(test_drift_known),   cmocka_unit_test(test_drift_empty_side),
		cmocka_unit_test(test_profile_csv),   cmocka_unit_test(test_profile_spec),
		cmocka_unit_test(test_profile_jsonl), cmocka_unit_test(test_profile_json_roundtrip),
		cmocka_unit_test(test_fold_forms),    cmocka_unit_test(test_prediction_value),
		cmocka_unit_test(test_quality),	      cmocka_unit_test(test_fold_prediction),
	};

	if (argc > 1 && strcmp(argv[1], "--drift") == 0)
		return tool_drift();
	if (argc > 3 && strcmp(argv[1], "--check") == 0)
		return tool_check(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
