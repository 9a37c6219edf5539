/*
 * test_metrics_batch.c: the metric-ingest body parser: valid bodies (whitespace, escapes,
 * defaults, key interning), every error naming its field the way the schema validator would,
 * malformed JSON, limits, and number parsing against strtod.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/metric_batch.h"

static int parse(struct atr_metric_batch *b, const char *json, size_t max)
{
	atr_metric_batch_init(b);
	return atr_metric_batch_parse(b, json, strlen(json), max);
}

static void test_valid(void **state)
{
	struct atr_metric_batch b;
	(void)state;

	assert_int_equal(
		parse(&b,
		      " {\"metrics\" : [ {\"key\":\"loss\",\"value\":0.5},\n"
		      "{\"value\":-1e3,\"key\":\"train/acc\",\"step\":7,\"timestamp\":1700000000000},"
		      "{\"key\":\"lo\\u0073s\",\"value\":2,\"step\":null,\"timestamp\":\"2026-01-02T03:04:05.678Z\"},"
		      "{\"key\":\"a b.c-d_e\",\"value\":1.25E-2,\"timestamp\":null} ] } ",
		      10000),
		0);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.nkeys, 3);
	assert_string_equal(b.keys[0].name, "loss");
	assert_int_equal(b.keys[0].count, 2); /* "lo\u0073s" is "loss" */
	assert_string_equal(b.keys[1].name, "train/acc");
	assert_string_equal(b.keys[2].name, "a b.c-d_e");
	assert_int_equal(b.pts[0].key, 0);
	assert_true(b.pts[0].value == 0.5);
	assert_int_equal(b.pts[0].step, -1);
	assert_int_equal(b.pts[0].ts, -1);
	assert_int_equal(b.pts[1].key, 1);
	assert_true(b.pts[1].value == -1000.0);
	assert_int_equal(b.pts[1].step, 7);
	assert_int_equal(b.pts[1].ts, 1700000000000LL);
	assert_int_equal(b.pts[2].key, 0);
	assert_int_equal(b.pts[2].step, -1);
	assert_int_equal(b.pts[2].ts, 1767323045678LL);
	assert_true(b.pts[3].value == 0.0125);
	atr_metric_batch_release(&b);

	assert_int_equal(parse(&b, "{\"metrics\":[]}", 10), 0);
	assert_int_equal(b.n, 0);
	atr_metric_batch_release(&b);
	/* limits are inclusive */
	assert_int_equal(parse(&b, "{\"metrics\":[{\"key\":\"k\",\"value\":1},{\"key\":\"k\",\"value\":2}]}", 2), 0);
	atr_metric_batch_release(&b);
	assert_int_equal(parse(&b,
			       "{\"metrics\":[{\"key\":\"k\",\"value\":1,\"step\":9007199254740991,"
			       "\"timestamp\":253402300799999}]}",
			       2),
			 0);
	assert_int_equal(b.pts[0].step, 9007199254740991LL);
	atr_metric_batch_release(&b);
}

static void expect_field(const char *json, const char *field, bool syntax)
{
	struct atr_metric_batch b;
	int rc = parse(&b, json, 3);
	if (rc != ATR_EINVAL || strcmp(b.field, field) != 0 || b.syntax != syntax) {
		fprintf(stderr, "body %s: rc %d field '%s' (want '%s') syntax %d msg %s\n", json, rc, b.field, field,
			b.syntax, b.msg);
		fail();
	}
	assert_non_null(strstr(b.msg, field));
	atr_metric_batch_release(&b);
}

#define PT(x) "{\"metrics\":[{\"key\":\"a\",\"value\":1}," x "]}"

static void test_bad_fields(void **state)
{
	(void)state;
	expect_field(PT("{\"key\":\"a\",\"value\":\"1\"}"), "metrics[1].value", false);
	expect_field(PT("{\"key\":\"a\",\"value\":null}"), "metrics[1].value", false);
	expect_field(PT("{\"key\":\"a\",\"value\":true}"), "metrics[1].value", false);
	expect_field(PT("{\"key\":\"a\",\"value\":NaN}"), "metrics[1].value", false);
	expect_field(PT("{\"key\":\"a\",\"value\":Infinity}"), "metrics[1].value", false);
	expect_field(PT("{\"key\":\"a\",\"value\":-Infinity}"), "metrics[1].value", false);
	expect_field(PT("{\"key\":\"a\"}"), "metrics[1].value", false);
	expect_field(PT("{\"value\":1}"), "metrics[1].key", false);
	expect_field(PT("{\"key\":\"\",\"value\":1}"), "metrics[1].key", false);
	expect_field(PT("{\"key\":\"a:b\",\"value\":1}"), "metrics[1].key", false);
	expect_field(PT("{\"key\":\"\\u00e9\",\"value\":1}"), "metrics[1].key", false);
	expect_field(PT("{\"key\":\"a\\u0000\",\"value\":1}"), "metrics[1].key", false);
	expect_field(PT("{\"key\":7,\"value\":1}"), "metrics[1].key", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"step\":-1}"), "metrics[1].step", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"step\":1.5}"), "metrics[1].step", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"step\":1e2}"), "metrics[1].step", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"step\":9007199254740992}"), "metrics[1].step", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"step\":\"3\"}"), "metrics[1].step", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"timestamp\":-5}"), "metrics[1].timestamp", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"timestamp\":\"yesterday\"}"), "metrics[1].timestamp", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"timestamp\":\"1969-12-31T23:59:59Z\"}"), "metrics[1].timestamp",
		     false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"timestamp\":[1]}"), "metrics[1].timestamp", false);
	/* an escaped NUL would end the time early: the rest must not be ignored */
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"timestamp\":\"2026-01-01T00:00:00Z\\u0000junk\"}"),
		     "metrics[1].timestamp", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"timestamp\":\"2026-02-31T00:00:00Z\"}"), "metrics[1].timestamp",
		     false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"extra\":1}"), "metrics[1].extra", false);
	expect_field(PT("{\"key\":\"a\",\"value\":1,\"\\u0001\":1}"), "metrics[1]", false);
	expect_field(PT("7"), "metrics[1]", false);
	expect_field(PT("[]"), "metrics[1]", false);
	expect_field("{\"metrics\":null}", "metrics", false);
	expect_field("{\"metrics\":{}}", "metrics", false);
	expect_field("{}", "metrics", false);
	expect_field("{\"metric\":[]}", "metric", false);
	expect_field("[]", "body", false);
	expect_field("", "body", false);
	expect_field("  ", "body", false);
	expect_field("\"x\"", "body", false);
	/* more points than allowed (3 here) */
	expect_field(
		"{\"metrics\":[{\"key\":\"a\",\"value\":1},{\"key\":\"a\",\"value\":1},{\"key\":\"a\",\"value\":1},"
		"{\"key\":\"a\",\"value\":1}]}",
		"metrics", false);
	/* the first bad field wins, in document order */
	expect_field(PT("{\"value\":\"x\",\"key\":7}"), "metrics[1].value", false);
}

static void test_bad_json(void **state)
{
	(void)state;
	expect_field(PT("{\"key\":\"a\",\"value\":1,}"), "body", true);
	expect_field(PT("{\"key\":\"a\",\"value\":1}"
			","),
		     "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":1}]", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":1}]} x", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":01}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":-}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":1.}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":1e}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":.5}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":1,\"value\":2}]}", "body", true);
	expect_field("{\"metrics\":[],\"metrics\":[]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\nb\",\"value\":1}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\\q\",\"value\":1}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"\\ud800\",\"value\":1}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"abc", "body", true);
	expect_field("{\"metrics\" [", "body", true);
	expect_field("{metrics:[]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\" \"value\":1}]}", "body", true);
	expect_field("nope", "body", true);
	/* what jansson refuses for every other route is refused here too */
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":1e999}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":123456789012345678901234}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":9223372036854775808}]}", "body", true);
	expect_field("{\"metrics\":[{\"key\":\"a\",\"value\":1,\"step\":99999999999999999999}]}", "body", true);
	expect_field("null", "body", false);
}

/* The value the parser gives for a JSON number, as a one-point body. */
static double parsed(const char *num)
{
	struct atr_metric_batch b;
	char json[200];
	double v;
	snprintf(json, sizeof(json), "{\"metrics\":[{\"key\":\"k\",\"value\":%s}]}", num);
	assert_int_equal(parse(&b, json, 1), 0);
	v = b.pts[0].value;
	atr_metric_batch_release(&b);
	return v;
}

static void test_numbers(void **state)
{
	static const char *const fixed[] = { "0",
					     "-0",
					     "1",
					     "-1",
					     "0.1",
					     "0.30000000000000004",
					     "1e22",
					     "1e23",
					     "1e-22",
					     "1e-23",
					     "123456789012345678901234567890.0",
					     "9007199254740993",
					     "0.000001234",
					     "1.7976931348623157e308",
					     "4.9e-324",
					     "2.2250738585072014E-308",
					     "12345678901234567890e-10",
					     "0.1e1",
					     "100",
					     "3.14159265358979323846264338327950288" };
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[64];
	(void)state;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		double want = strtod(fixed[i], NULL), got = parsed(fixed[i]);
		if (memcmp(&want, &got, sizeof(want)) != 0) {
			fprintf(stderr, "%s: got %.17g want %.17g\n", fixed[i], got, want);
			fail();
		}
	}
	/* random doubles in the shapes clients print (repr, %.6f, %g), exact against strtod */
	for (int i = 0; i < 20000; i++) {
		double d, got;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d = (double)(x >> 11) / 9007199254740992.0 * pow(10.0, (double)((int)(x % 40) - 20));
		snprintf(buf, sizeof(buf), i % 3 == 0 ? "%.17g" : i % 3 == 1 ? "%.6f" : "%g", i % 2 ? -d : d);
		got = parsed(buf);
		d = strtod(buf, NULL);
		if (memcmp(&d, &got, sizeof(d)) != 0) {
			fprintf(stderr, "%s: got %.17g want %.17g\n", buf, got, d);
			fail();
		}
	}
}

static void test_many_keys(void **state)
{
	struct atr_metric_batch b;
	size_t cap = 64 + 3000 * 48, n = 0;
	char *json = malloc(cap);
	(void)state;

	n += (size_t)snprintf(json + n, cap - n, "{\"metrics\":[");
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s{\"key\":\"k%d\",\"value\":%d}", i ? "," : "", i % 700, i);
	snprintf(json + n, cap - n, "]}");
	assert_int_equal(parse(&b, json, 10000), 0);
	assert_int_equal(b.n, 3000);
	assert_int_equal(b.nkeys, 700);
	for (int i = 0; i < 3000; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i % 700);
		assert_string_equal(b.keys[b.pts[i].key].name, k);
	}
	assert_int_equal(b.keys[0].count, 5); /* 0, 700, 1400, 2100, 2800 */
	assert_int_equal(b.keys[699].count, 4);
	atr_metric_batch_release(&b);
	free(json);
}

static void test_key_rules(void **state)
{
	char k[300];
	(void)state;
	assert_true(atr_metric_key_valid("train/loss", 10));
	assert_true(atr_metric_key_valid("a b", 3));
	assert_false(atr_metric_key_valid("", 0));
	assert_false(atr_metric_key_valid("a\"b", 3));
	assert_false(atr_metric_key_valid("a%b", 3));
	memset(k, 'x', sizeof(k));
	assert_true(atr_metric_key_valid(k, 250));
	assert_false(atr_metric_key_valid(k, 251));
}

/* An unknown member of a log-batch param, at the very end of a body that is not NUL-terminated
 * (as the fuzzer gives it): named from a copy, never read past the body (found by
 * fuzz_metric_batch: ASan's heap-buffer-overflow). */
static void test_mlflow_unknown_member_at_end(void **state)
{
	static const char text[] = "{\"run_id\":\"abc\",\"params\":[{\"key\":\"p\",\"value\":\"1\"},{\"k\":\"2\"}]}";
	size_t len = sizeof(text) - 1;
	char *body = malloc(len); /* exactly the body */
	struct atr_mlflow_batch b;
	(void)state;

	assert_non_null(body);
	memcpy(body, text, len);
	atr_mlflow_batch_init(&b);
	assert_int_equal(atr_mlflow_batch_parse(&b, body, len), ATR_EINVAL);
	assert_string_equal(b.m.field, "params[1].k");
	atr_mlflow_batch_release(&b);
	free(body);
}

/* A string that is not UTF-8 is refused as jansson refuses it (found by fuzz_metric_batch: a
 * log-batch param key "p\x91" was accepted, then stored, and no JSON answer could show it). */
static void test_not_utf8(void **state)
{
	static const char mlf[] = "{\"run_id\":\"abc\",\"params\":[{\"key\":\"p\x91\",\"value\":\"2\"}]}";
	static const char tag[] = "{\"run_id\":\"abc\",\"tags\":[{\"key\":\"t\",\"value\":\"\xc0\xaf\"}]}";
	static const char native[] = "{\"metrics\":[{\"key\":\"a\xff\",\"value\":1}]}";
	struct atr_mlflow_batch b;
	struct atr_metric_batch m;
	(void)state;

	atr_mlflow_batch_init(&b);
	assert_int_equal(atr_mlflow_batch_parse(&b, mlf, sizeof(mlf) - 1), ATR_EINVAL);
	assert_true(b.m.syntax);
	atr_mlflow_batch_release(&b);
	atr_mlflow_batch_init(&b);
	assert_int_equal(atr_mlflow_batch_parse(&b, tag, sizeof(tag) - 1), ATR_EINVAL);
	atr_mlflow_batch_release(&b);
	atr_metric_batch_init(&m);
	assert_int_equal(atr_metric_batch_parse(&m, native, sizeof(native) - 1, 10), ATR_EINVAL);
	atr_metric_batch_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_key_rules),
		cmocka_unit_test(test_mlflow_unknown_member_at_end),
		cmocka_unit_test(test_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
