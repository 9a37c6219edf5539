/*
 * test_sweep.c: the pure logic of sweeps: the grid covers every point once, random draws stay
 * within their bounds and come back the same from the same seed, bad spaces name their field,
 * and ASHA's rung decisions follow the rule of Li et al. (2018) on hand-made curves and agree
 * with a naive re-implementation of it (sort the rung, take the top floor(n/eta)).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/sweep.h"
#include "atrium/err.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static int parse(const char *text, int grid, struct atr_space *s, char *field)
{
	char why[128];
	json_t *j = J(text);
	int rc = atr_space_parse(j, grid, s, field, 128, why, sizeof(why));
	json_decref(j);
	return rc;
}

static void test_grid_covers_every_point_once(void **state)
{
	struct atr_space s;
	char field[128];
	size_t seen[3][4][3] = { { { 0 } } };
	(void)state;

	assert_int_equal(parse("{\"opt\":{\"type\":\"choice\",\"values\":[\"sgd\",\"adam\",\"rms\"]},"
			       "\"layers\":{\"type\":\"int\",\"min\":1,\"max\":7,\"step\":2},"
			       "\"lr\":{\"type\":\"log_uniform\",\"min\":0.001,\"max\":0.1,\"count\":3}}",
			       1, &s, field),
			 0);
	assert_int_equal(s.grid_size, 3 * 4 * 3);
	for (size_t i = 0; i < s.grid_size; i++) {
		json_t *p = atr_space_point(&s, 42, i);
		const char *opt = json_string_value(json_object_get(p, "opt"));
		long long layers = json_integer_value(json_object_get(p, "layers"));
		double lr = json_real_value(json_object_get(p, "lr"));
		size_t a = !strcmp(opt, "sgd") ? 0 : !strcmp(opt, "adam") ? 1 : 2;
		size_t c = lr == 0.001 ? 0 : lr == 0.01 ? 1 : lr == 0.1 ? 2 : 9; /* exactly: rounded points */

		assert_true(layers == 1 || layers == 3 || layers == 5 || layers == 7);
		assert_true(c < 3); /* log-spaced: 0.001, 0.01, 0.1 */
		seen[a][(layers - 1) / 2][c]++;
		json_decref(p);
	}
	for (size_t a = 0; a < 3; a++)
		for (size_t b = 0; b < 4; b++)
			for (size_t c = 0; c < 3; c++)
				assert_int_equal(seen[a][b][c], 1);
	atr_space_release(&s);
}

static void test_grid_uniform_endpoints(void **state)
{
	struct atr_space s;
	char field[128];
	(void)state;

	assert_int_equal(parse("{\"x\":{\"type\":\"uniform\",\"min\":-1,\"max\":1,\"count\":5}}", 1, &s, field), 0);
	assert_int_equal(s.grid_size, 5);
	for (size_t i = 0; i < 5; i++) {
		json_t *p = atr_space_point(&s, 0, i);
		assert_true(fabs(json_real_value(json_object_get(p, "x")) - (-1.0 + 0.5 * (double)i)) < 1e-12);
		json_decref(p);
	}
	atr_space_release(&s);
}

static void test_random_bounds(void **state)
{
	struct atr_space s;
	char field[128];
	size_t below_gm = 0, hits[3] = { 0 }, ints[6] = { 0 };
	enum { N = 20000 };
	(void)state;

	assert_int_equal(parse("{\"lr\":{\"type\":\"log_uniform\",\"min\":1e-5,\"max\":1},"
			       "\"drop\":{\"type\":\"uniform\",\"min\":0.1,\"max\":0.5},"
			       "\"bs\":{\"type\":\"int\",\"min\":10,\"max\":20,\"step\":2},"
			       "\"act\":{\"type\":\"choice\",\"values\":[\"relu\",true,3]}}",
			       0, &s, field),
			 0);
	assert_int_equal(s.grid_size, 0);
	for (size_t i = 0; i < N; i++) {
		json_t *p = atr_space_point(&s, 7, i), *act = json_object_get(p, "act");
		double lr = json_real_value(json_object_get(p, "lr"));
		double drop = json_real_value(json_object_get(p, "drop"));
		long long bs = json_integer_value(json_object_get(p, "bs"));

		assert_true(lr >= 1e-5 && lr <= 1);
		assert_true(drop >= 0.1 && drop <= 0.5);
		assert_true(bs >= 10 && bs <= 20 && bs % 2 == 0);
		ints[(bs - 10) / 2]++;
		below_gm += lr < sqrt(1e-5);
		hits[json_is_string(act) ? 0 : json_is_true(act) ? 1 : 2]++;
		json_decref(p);
	}
	/* log-uniform: half the draws below the geometric mean (binomial sd ~ 71 at N = 20000) */
	assert_true(below_gm > N / 2 - 500 && below_gm < N / 2 + 500);
	for (size_t k = 0; k < 3; k++)
		assert_true(hits[k] > N / 3 - 500 && hits[k] < N / 3 + 500);
	for (size_t k = 0; k < 6; k++)
		assert_true(ints[k] > N / 6 - 500 && ints[k] < N / 6 + 500);
	atr_space_release(&s);
}

static void test_random_reproducible(void **state)
{
	struct atr_space s;
	char field[128];
	size_t differ = 0;
	(void)state;

	assert_int_equal(parse("{\"lr\":{\"type\":\"uniform\",\"min\":0,\"max\":1},"
			       "\"n\":{\"type\":\"int\",\"min\":0,\"max\":1000000}}",
			       0, &s, field),
			 0);
	/* trial i's values depend on (seed, i) alone: drawn backwards, they are the same */
	for (size_t i = 100; i-- > 0;) {
		json_t *a = atr_space_point(&s, 1234, i), *b = atr_space_point(&s, 1234, i);
		json_t *c = atr_space_point(&s, 1235, i), *d = atr_space_point(&s, 1234, i + 1);
		assert_true(json_equal(a, b));
		differ += !json_equal(a, c) && !json_equal(a, d);
		json_decref(a);
		json_decref(b);
		json_decref(c);
		json_decref(d);
	}
	assert_int_equal(differ, 100);
	atr_space_release(&s);
}

static void expect_bad(const char *text, int grid, const char *want)
{
	struct atr_space s;
	char field[128] = "";

	assert_int_equal(parse(text, grid, &s, field), ATR_EINVAL);
	assert_string_equal(field, want);
}

static void test_bad_spaces_name_the_field(void **state)
{
	(void)state;
	expect_bad("[]", 0, "search_space");
	expect_bad("{}", 0, "search_space");
	expect_bad("{\"a\":3}", 0, "search_space.a");
	expect_bad("{\"a\":{\"type\":\"gauss\"}}", 0, "search_space.a.type");
	expect_bad("{\"a\":{\"type\":\"uniform\",\"min\":2,\"max\":1}}", 0, "search_space.a.max");
	expect_bad("{\"a\":{\"type\":\"uniform\",\"min\":\"x\",\"max\":1}}", 0, "search_space.a.min");
	expect_bad("{\"a\":{\"type\":\"log_uniform\",\"min\":0,\"max\":1}}", 0, "search_space.a.min");
	expect_bad("{\"a\":{\"type\":\"uniform\",\"min\":0,\"max\":1}}", 1, "search_space.a.count");
	expect_bad("{\"a\":{\"type\":\"uniform\",\"min\":0,\"max\":1,\"mean\":0}}", 0, "search_space.a.mean");
	expect_bad("{\"a\":{\"type\":\"int\",\"min\":0.5,\"max\":1}}", 0, "search_space.a.min");
	expect_bad("{\"a\":{\"type\":\"int\",\"min\":0,\"max\":10,\"step\":0}}", 0, "search_space.a.step");
	expect_bad("{\"a\":{\"type\":\"choice\",\"values\":[]}}", 0, "search_space.a.values");
	expect_bad("{\"a\":{\"type\":\"choice\",\"values\":[[1]]}}", 0, "search_space.a.values");
	expect_bad("{\"ok\":{\"type\":\"choice\",\"values\":[1]},\"b\":{\"type\":\"int\",\"min\":0}}", 0,
		   "search_space.b.max");
	/* 1001^2 > 1e6 grid points */
	expect_bad("{\"a\":{\"type\":\"int\",\"min\":0,\"max\":1000},\"b\":{\"type\":\"int\",\"min\":0,\"max\":1000}}",
		   1, "search_space");
}

/* ---- ASHA ---- */

static void test_asha_rung_by_hand(void **state)
{
	/* eta = 3, one rung; values (loss, lower is better) in arrival order, worked by hand:
	 * n=1 5: top max(1,0)=1, 0 better -> go; n=2 3: 0 better -> go; n=3 4: 1 better (3),
	 * top 1 -> stop; n=4 1 -> go; n=5 6 -> stop; n=6 2: 1 better (1), top 2 -> go;
	 * n=7 7 -> stop; n=8 0.5 -> go; n=9 8: top 3 -> stop */
	static const double v[] = { 5, 3, 4, 1, 6, 2, 7, 0.5, 8 };
	static const int want[] = { 0, 0, 1, 0, 1, 0, 1, 0, 1 };
	struct atr_asha a;
	(void)state;

	atr_asha_init(&a, 1, 3, 1, 0);
	for (size_t i = 0; i < 9; i++) {
		unsigned next = 0;
		assert_int_equal(atr_asha_report(&a, &next, 1, v[i]), want[i]);
		assert_int_equal(next, 1);
	}
	atr_asha_release(&a);
}

static void test_asha_curves_by_hand(void **state)
{
	/* eta = 2, r = 1: rungs at steps 1, 2, 4. Accuracy (maximised) of four trials, run one
	 * after the other. A: 0.5 0.6 . 0.7 -> goes through every rung (first at each).
	 * B: 0.4 at step 1: 2 at rung 0, top 1, A better -> stopped at rung 0.
	 * C: 0.6 0.7 . 0.8: rung 0 {0.6,0.5,0.4}: best -> go; rung 1 {0.7,0.6}: best -> go;
	 *    rung 2 {0.8,0.7}: best -> go.
	 * D: 0.55 0.65: rung 0 n=4, top 2, one better (0.6) -> go; rung 1 n=3, top 1, one better
	 *    (0.7) -> stopped at step 2. */
	static const double curves[4][4] = {
		{ 0.5, 0.6, 0.65, 0.7 }, { 0.4, 0.9, 0.9, 0.9 }, { 0.6, 0.7, 0.75, 0.8 }, { 0.55, 0.65, 0.9, 0.9 }
	};
	static const int stop_step[4] = { 0, 1, 0, 2 }; /* 0: never stopped */
	struct atr_asha a;
	(void)state;

	atr_asha_init(&a, 1, 2, 3, 1);
	assert_true(atr_asha_milestone(&a, 2) == 4);
	for (size_t t = 0; t < 4; t++) {
		unsigned next = 0;
		int stopped = 0;
		for (int step = 1; step <= 4 && !stopped; step++)
			if (atr_asha_report(&a, &next, step, curves[t][step - 1]) == ATR_ASHA_STOP)
				stopped = step;
		assert_int_equal(stopped, stop_step[t]);
	}
	atr_asha_release(&a);
}

/* The paper's rule, naively: sort the values recorded at the rung (this one included), take
 * the top floor(n / eta) (at least one), ties in favour of the newcomer. */
static int naive_rule(const double *rung, size_t n, double eta)
{
	size_t top = (size_t)floor((double)n / eta), better = 0;
	if (top < 1)
		top = 1;
	for (size_t i = 0; i + 1 < n; i++)
		better += rung[i] < rung[n - 1];
	return better < top ? ATR_ASHA_CONTINUE : ATR_ASHA_STOP;
}

static void test_asha_agrees_with_naive(void **state)
{
	enum { T = 300, STEPS = 30, K = 4 };
	static double rungs[K][T];
	size_t rn[K] = { 0 };
	unsigned next[T] = { 0 };
	int alive[T];
	uint64_t st = 99;
	struct atr_asha a;
	(void)state;

	atr_asha_init(&a, 2, 3, K, 0); /* milestones 2, 6, 18, 54 (never reached) */
	for (size_t t = 0; t < T; t++)
		alive[t] = 1;
	/* trials interleaved: at each tick a random live trial reports its next step */
	for (int step = 1; step <= STEPS; step++) {
		for (size_t t = 0; t < T; t++) {
			double loss = 1.0 / step + atr_sweep_rand01(&st) * 0.3 + (double)(t % 7) * 0.01;
			unsigned before = next[t];
			int want = ATR_ASHA_CONTINUE;

			if (!alive[t])
				continue;
			for (unsigned k = before; k < K && step >= atr_asha_milestone(&a, k) && want == 0; k++) {
				rungs[k][rn[k]++] = loss;
				want = naive_rule(rungs[k], rn[k], 3);
			}
			assert_int_equal(atr_asha_report(&a, &next[t], step, loss), want);
			alive[t] = want == ATR_ASHA_CONTINUE;
		}
	}
	for (unsigned k = 0; k < 3; k++)
		assert_int_equal(a.rung[k].n, rn[k]);
	assert_true(rn[1] < rn[0] && rn[2] < rn[1]); /* halving happened */
	atr_asha_release(&a);
}

static void test_asha_nan_and_skipped_rungs(void **state)
{
	struct atr_asha a;
	unsigned next = 0;
	(void)state;

	atr_asha_init(&a, 1, 2, 3, 0);
	assert_int_equal(atr_asha_report(&a, &next, 1, 0.1), ATR_ASHA_CONTINUE);
	assert_int_equal(atr_asha_report(&a, &next, 100, 0.1), ATR_ASHA_CONTINUE); /* rungs 1, 2 at once */
	assert_int_equal(next, 3);
	assert_int_equal(atr_asha_report(&a, &next, 1000, 9), ATR_ASHA_CONTINUE); /* past the last rung */
	next = 0;
	assert_int_equal(atr_asha_report(&a, &next, 0.5, NAN), ATR_ASHA_CONTINUE); /* below rung 0 */
	assert_int_equal(next, 0);
	assert_int_equal(atr_asha_report(&a, &next, 1, NAN), ATR_ASHA_STOP); /* worst of 2 */
	assert_int_equal(atr_asha_record(&a, 7, 1), ATR_EINVAL);
	assert_int_equal(atr_asha_record(&a, 2, 1), 0);
	atr_asha_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grid_covers_every_point_once),
		cmocka_unit_test(test_grid_uniform_endpoints),
		cmocka_unit_test(test_random_bounds),
		cmocka_unit_test(test_random_reproducible),
		cmocka_unit_test(test_bad_spaces_name_the_field),
		cmocka_unit_test(test_asha_rung_by_hand),
		cmocka_unit_test(test_asha_curves_by_hand),
		cmocka_unit_test(test_asha_agrees_with_naive),
		cmocka_unit_test(test_asha_nan_and_skipped_rungs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
