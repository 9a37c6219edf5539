/*
 * test_metrics_downsample.c: M4 downsampling keeps at most N points, in order, always with
 * the first, last, minimum and maximum points; short series come back whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "atrium/downsample.h"

static size_t argext(const double *v, size_t n, int sign)
{
	size_t k = 0;
	for (size_t i = 1; i < n; i++)
		if (sign * v[i] > sign * v[k])
			k = i;
	return k;
}

/* Checks the contract for one series and budget. */
static void check(const double *v, size_t n, size_t max)
{
	size_t *idx = malloc((max ? max : 1) * sizeof(*idx));
	size_t m = atr_downsample(v, n, max, idx);
	bool has_min = false, has_max = false;
	double lo = v[argext(v, n, -1)], hi = v[argext(v, n, 1)];

	assert_true(m <= max);
	if (n <= max)
		assert_int_equal(m, n);
	for (size_t i = 0; i < m; i++) {
		assert_true(idx[i] < n);
		if (i)
			assert_true(idx[i - 1] < idx[i]); /* order kept, no repeats */
		has_min = has_min || v[idx[i]] == lo;
		has_max = has_max || v[idx[i]] == hi;
	}
	assert_true(has_min);
	if (max >= 2 || n == 1)
		assert_true(has_max); /* one point can only be the minimum */
	if (max >= 4) {
		assert_int_equal(idx[0], 0);
		assert_int_equal(idx[m - 1], n - 1);
	}
	free(idx);
}

static void test_contract(void **state)
{
	enum { N = 100003 };
	double *v = malloc(N * sizeof(*v));
	uint64_t x = 0x2545F4914F6CDD1DULL;
	(void)state;

	for (size_t i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = sin((double)i / 500.0) + (double)(x % 1000) / 5000.0;
	}
	v[31337] = 50.0;  /* a spike */
	v[77777] = -50.0; /* a dip */
	static const size_t budgets[] = { 1, 2, 3, 4, 5, 7, 8, 100, 1000, 4096, 99999, 100003, 200000 };
	for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++)
		check(v, N, budgets[b]);
	for (size_t n = 1; n < 40; n++)
		for (size_t b = 1; b < 12; b++)
			check(v + 31330, n, b);
	free(v);
}

static void test_short_series_whole(void **state)
{
	double v[5] = { 3, 1, 4, 1, 5 };
	size_t idx[10], m;
	(void)state;
	m = atr_downsample(v, 5, 10, idx);
	assert_int_equal(m, 5);
	for (size_t i = 0; i < m; i++)
		assert_int_equal(idx[i], i);
	assert_int_equal(atr_downsample(v, 0, 10, idx), 0);
	assert_int_equal(atr_downsample(v, 5, 0, idx), 0);
}

static void test_flat_series(void **state)
{
	double v[1000];
	size_t idx[100], m;
	(void)state;
	for (int i = 0; i < 1000; i++)
		v[i] = 2.0;
	m = atr_downsample(v, 1000, 100, idx);
	assert_true(m <= 100);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[m - 1], 999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract),
		cmocka_unit_test(test_short_series_whole),
		cmocka_unit_test(test_flat_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
