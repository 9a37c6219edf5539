/*
 * test_metrics_codec.c: the 24-byte point records (round trips, byte order, special values)
 * and the stable step sort used for series logged out of order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/metric_codec.h"

static void test_round_trip(void **state)
{
	struct atr_metric_pt in[] = {
		{ 0, 0.0, 0 },
		{ 1, -0.0, 1 },
		{ 9007199254740991LL, DBL_MAX, 253402300799999LL },
		{ 42, DBL_MIN, 1767225600000LL },
		{ 7, -1.5e-300, 5 },
		{ INT64_MAX, 4.9e-324, INT64_MAX },
	};
	size_t n = sizeof(in) / sizeof(in[0]);
	unsigned char buf[sizeof(in) / sizeof(in[0]) * ATR_METRIC_REC];
	struct atr_metric_pt out[sizeof(in) / sizeof(in[0])];
	(void)state;

	atr_metric_encode(in, n, buf);
	atr_metric_decode(buf, n, out);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].step, in[i].step);
		assert_int_equal(out[i].ts, in[i].ts);
		assert_memory_equal(&out[i].value, &in[i].value, sizeof(double)); /* -0.0 stays -0.0 */
	}
}

static void test_byte_order(void **state)
{
	struct atr_metric_pt p = { 0x0102030405060708LL, 1.0, 0x1122334455667788LL };
	unsigned char b[ATR_METRIC_REC];
	static const unsigned char want[ATR_METRIC_REC] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* step, little-endian */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, /* 1.0 as IEEE-754 binary64 */
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* timestamp */
	};
	(void)state;
	atr_metric_encode(&p, 1, b);
	assert_memory_equal(b, want, sizeof(want));
}

static void test_sort_stable(void **state)
{
	enum { N = 5000 };
	struct atr_metric_pt *p = malloc(N * sizeof(*p));
	uint64_t x = 88172645463325252ULL;
	(void)state;

	/* values record the arrival order, steps repeat: equal steps must keep arrival order */
	for (int i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i].step = (int64_t)(x % 300);
		p[i].value = i;
		p[i].ts = i;
	}
	assert_int_equal(atr_metric_sort(p, N), 0);
	for (int i = 1; i < N; i++) {
		assert_true(p[i - 1].step <= p[i].step);
		if (p[i - 1].step == p[i].step)
			assert_true(p[i - 1].value < p[i].value);
	}
	/* already sorted and tiny inputs are left alone */
	assert_int_equal(atr_metric_sort(p, N), 0);
	assert_int_equal(atr_metric_sort(p, 1), 0);
	assert_int_equal(atr_metric_sort(p, 0), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_sort_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
