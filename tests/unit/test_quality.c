/*
 * test_quality.c: live quality by the task a model declares (src/core/quality.c): per-class
 * counts, precision, recall and F1 (binary for a positive class, macro for many), the
 * regression figures, adding windows, the class cap.
 *
 * With "--sklearn" as its first argument it is instead the reference tool of
 * tests/quality/check_sklearn.py: it reads {"cases": [{"task", "positive_class", "windows":
 * [[[label, prediction], ...], ...]}]} on stdin, adds each window's pairs to a window's sums,
 * merges the windows (as a report over many stored windows does) and prints each case's
 * figures (atr_quality_task_json) as a JSON array.
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

#include "atrium/profile.h"

/* Figures of n (label, prediction) pairs given as JSON texts, in windows of two merged. */
static json_t *figures(const char *const *pairs, size_t n, enum atr_task task, const char *pos)
{
	struct atr_quality w = { 0 }, total = { 0 };

	for (size_t i = 0; i < n; i++) {
		json_t *l = json_loads(pairs[2 * i], JSON_DECODE_ANY, NULL),
		       *p = json_loads(pairs[2 * i + 1], JSON_DECODE_ANY, NULL);
		atr_quality_add(&w, l, p);
		json_decref(l);
		json_decref(p);
		if (i % 2 == 1) { /* windows of two pairs, merged */
			atr_quality_merge(&total, &w);
			memset(&w, 0, sizeof(w));
		}
	}
	atr_quality_merge(&total, &w);
	return atr_quality_task_json(&total, task, pos);
}

static double fig(const json_t *j, const char *k)
{
	return json_real_value(json_object_get(j, k));
}

static void test_binary(void **state)
{
	/* y: 1 1 0 0 1 0, p: 1 0 0 1 1 1 -> tp 2, fp 2, fn 1 */
	const char *pairs[] = { "1", "1", "1", "0", "0", "0", "0", "1", "1", "1", "0", "1" };
	json_t *j = figures(pairs, 6, ATR_TASK_BINARY, NULL);
	(void)state;

	assert_string_equal(json_string_value(json_object_get(j, "task")), "binary_classification");
	assert_string_equal(json_string_value(json_object_get(j, "positive_class")), "1");
	assert_true(fabs(fig(j, "accuracy") - 0.5) < 1e-12);
	assert_true(fabs(fig(j, "precision") - 0.5) < 1e-12);
	assert_true(fabs(fig(j, "recall") - 2.0 / 3) < 1e-12);
	assert_true(fabs(fig(j, "f1") - 4.0 / 7) < 1e-12);
	assert_null(json_object_get(j, "mae"));
	json_decref(j);
	/* the positive class "0": tp 1, fp 1, fn 2 */
	j = figures(pairs, 6, ATR_TASK_BINARY, "0");
	assert_true(fabs(fig(j, "precision") - 0.5) < 1e-12 && fabs(fig(j, "recall") - 1.0 / 3) < 1e-12);
	json_decref(j);
	/* a positive class never seen: zero, as scikit-learn's zero_division */
	j = figures(pairs, 6, ATR_TASK_BINARY, "yes");
	assert_true(fig(j, "precision") == 0 && fig(j, "recall") == 0 && fig(j, "f1") == 0);
	json_decref(j);
}

static void test_multiclass_macro(void **state)
{
	/* a a b c c: a a c c b -> a: tp 2; b: fn 1, fp 1 (c predicted b); c: tp 1, fp 1, fn 1 */
	const char *pairs[] = {
		"\"a\"", "\"a\"", "\"a\"", "\"a\"", "\"b\"", "\"c\"", "\"c\"", "\"c\"", "\"c\"", "\"b\""
	};
	json_t *j = figures(pairs, 5, ATR_TASK_MULTICLASS, NULL);
	(void)state;

	assert_int_equal(json_integer_value(json_object_get(j, "classes")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "average")), "macro");
	assert_true(fabs(fig(j, "accuracy") - 0.6) < 1e-12);
	assert_true(fabs(fig(j, "precision") - (1 + 0 + 0.5) / 3) < 1e-12);
	assert_true(fabs(fig(j, "recall") - (1 + 0 + 0.5) / 3) < 1e-12);
	assert_true(fabs(fig(j, "f1") - (1 + 0 + 0.5) / 3) < 1e-12);
	json_decref(j);
}

static void test_regression_and_none(void **state)
{
	const char *pairs[] = { "1", "1.5", "2", "2", "3", "2" };
	json_t *j = figures(pairs, 3, ATR_TASK_REGRESSION, NULL);
	(void)state;

	assert_true(fabs(fig(j, "mae") - 0.5) < 1e-12);
	assert_true(fabs(fig(j, "r2") - 0.375) < 1e-12);
	assert_null(json_object_get(j, "accuracy"));
	assert_null(json_object_get(j, "precision"));
	json_decref(j);
	j = figures(pairs, 3, ATR_TASK_NONE, NULL); /* no task: the figures of before */
	assert_null(json_object_get(j, "task"));
	assert_non_null(json_object_get(j, "accuracy"));
	assert_non_null(json_object_get(j, "rmse"));
	json_decref(j);
}

static void test_declared_task_and_figure(void **state)
{
	json_t *set = json_pack("{s:s, s:s}", "task", "binary_classification", "positive_class", "yes"),
	       *sig = json_pack("{s:s}", "task", "regression"), *empty = json_object();
	const char *pos, *src;
	struct atr_quality q = { 0 };
	json_t *y = json_string("yes"), *n = json_string("no");
	(void)state;

	assert_int_equal(atr_task_declared(set, sig, &pos, &src), ATR_TASK_BINARY);
	assert_string_equal(pos, "yes");
	assert_string_equal(src, "settings");
	assert_int_equal(atr_task_declared(empty, sig, &pos, &src), ATR_TASK_REGRESSION);
	assert_string_equal(src, "model_version");
	assert_int_equal(atr_task_declared(NULL, NULL, &pos, &src), ATR_TASK_NONE);
	assert_null(src);
	/* yes/yes, no/yes, yes/no: tp 1, fp 1, fn 1 of "yes" */
	atr_quality_add(&q, y, y);
	atr_quality_add(&q, n, y);
	atr_quality_add(&q, y, n);
	assert_true(fabs(atr_quality_task_figure(&q, ATR_TASK_BINARY, "yes", "precision") - 0.5) < 1e-12);
	assert_true(fabs(atr_quality_task_figure(&q, ATR_TASK_BINARY, "yes", "f1") - 0.5) < 1e-12);
	assert_true(isnan(atr_quality_task_figure(&q, ATR_TASK_REGRESSION, NULL, "f1")));
	assert_true(isnan(atr_quality_task_figure(&q, ATR_TASK_BINARY, "yes", "bogus")));
	json_decref(y);
	json_decref(n);
	json_decref(set);
	json_decref(sig);
	json_decref(empty);
}

static void test_class_cap(void **state)
{
	struct atr_quality q = { 0 };
	char name[80];
	json_t *j;
	(void)state;

	for (int i = 0; i < ATR_QUALITY_MAX_CLASSES + 5; i++) {
		json_t *v = json_integer(i);
		atr_quality_add(&q, v, v);
		json_decref(v);
	}
	assert_int_equal(q.nclasses, ATR_QUALITY_MAX_CLASSES);
	assert_int_equal(q.class_overflow, 5);
	j = atr_quality_task_json(&q, ATR_TASK_MULTICLASS, NULL);
	assert_true(json_is_null(json_object_get(j, "f1"))); /* too many classes: not a made-up figure */
	assert_true(fig(j, "accuracy") == 1);
	json_decref(j);
	memset(&q, 0, sizeof(q));
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	atr_quality_add_class(&q, name, 1, 0, 0);
	assert_int_equal(q.nclasses, 0);
	assert_int_equal(q.class_overflow, 1);
	assert_int_equal(atr_task_parse("regression"), ATR_TASK_REGRESSION);
	assert_int_equal(atr_task_parse("nope"), ATR_TASK_NONE);
	assert_null(atr_task_name(ATR_TASK_NONE));
}

/* ---- the reference tool ---- */

static json_t *tool_case(const json_t *c)
{
	struct atr_quality *w = calloc(1, sizeof(*w)), *total = calloc(1, sizeof(*total));
	const json_t *win, *pair;
	json_t *out = NULL;
	size_t i, k;

	if (w && total) {
		json_array_foreach(json_object_get(c, "windows"), i, win)
		{
			memset(w, 0, sizeof(*w));
			json_array_foreach(win, k, pair)
				atr_quality_add(w, json_array_get(pair, 0), json_array_get(pair, 1));
			atr_quality_merge(total, w);
		}
		out = atr_quality_task_json(total, atr_task_parse(json_string_value(json_object_get(c, "task"))),
					    json_string_value(json_object_get(c, "positive_class")));
	}
	free(w);
	free(total);
	return out;
}

static int tool_sklearn(void)
{
	json_t *in = json_loadf(stdin, 0, NULL), *out = json_array(), *c;
	size_t i;

	if (!in || !out)
		return 2;
	json_array_foreach(json_object_get(in, "cases"), i, c) json_array_append_new(out, tool_case(c));
	json_dumpf(out, stdout, JSON_COMPACT);
	json_decref(in);
	json_decref(out);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_multiclass_macro),
		cmocka_unit_test(test_regression_and_none),
		cmocka_unit_test(test_class_cap),
		cmocka_unit_test(test_declared_task_and_figure),
	};

	if (argc > 1 && strcmp(argv[1], "--sklearn") == 0)
		return tool_sklearn();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
