/* test_json.c: the body validator (types, bounds, null, empty, unknown fields, nesting). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/json.h"

static const struct atr_field res[] = {
	{ "gpus", ATR_F_INT, 0, 0, 64, NULL, NULL },
	{ 0 },
};
static const struct atr_field point[] = {
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_NUMBER, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ 0 },
};
static const struct atr_field schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "kind", ATR_F_STRING, 0, 0, 0, "training|batch_inference", NULL },
	{ "note", ATR_F_STRING, ATR_FF_NULLABLE, 0, 10, NULL, NULL },
	{ "resources", ATR_F_OBJECT, 0, 0, 0, NULL, res },
	{ "env", ATR_F_STRMAP, 0, 0, 3, NULL, NULL },
	{ "points", ATR_F_ARRAY, 0, 0, 3, NULL, point },
	{ "argv", ATR_F_STRLIST, 0, 0, 4, NULL, NULL },
	{ "when", ATR_F_TIME, 0, 0, 0, NULL, NULL },
	{ "ok", ATR_F_BOOL, 0, 0, 0, NULL, NULL },
	{ "version", ATR_F_INT_OR_STRING, 0, 0, 64, NULL, NULL },
	{ 0 },
};

static const char *check(const char *text)
{
	static char field[128];
	char msg[256];
	json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL);
	int rc;
	assert_non_null(j);
	field[0] = 0;
	rc = atr_json_validate(j, schema, field, sizeof(field), msg, sizeof(msg));
	json_decref(j);
	if (rc == 0)
		return NULL;
	assert_true(strlen(msg) > 0);
	return field;
}

static void test_ok(void **state)
{
	(void)state;
	assert_null(check("{\"name\":\"a\"}"));
	assert_null(check("{\"name\":\"job-1\",\"kind\":\"training\",\"note\":null,\"resources\":{\"gpus\":2},"
			  "\"env\":{\"A\":\"1\"},\"points\":[{\"key\":\"loss\",\"value\":0.5}],\"argv\":[\"python\"],"
			  "\"when\":\"2026-01-01T00:00:00Z\",\"ok\":true,\"version\":\"production\"}"));
	assert_null(check("{\"name\":\"a\",\"version\":3}"));
}

static void test_bad(void **state)
{
	(void)state;
	assert_string_equal(check("{}"), "name");
	assert_string_equal(check("{\"name\":null}"), "name");
	assert_string_equal(check("{\"name\":\"\"}"), "name");
	assert_string_equal(check("{\"name\":\"UP\"}"), "name");
	assert_string_equal(check("{\"name\":3}"), "name");
	assert_string_equal(check("{\"name\":\"a\",\"zzz\":1}"), "zzz");
	assert_string_equal(check("{\"name\":\"a\",\"kind\":\"serving\"}"), "kind");
	assert_string_equal(check("{\"name\":\"a\",\"note\":\"12345678901\"}"), "note");
	assert_string_equal(check("{\"name\":\"a\",\"resources\":{\"gpus\":65}}"), "resources.gpus");
	assert_string_equal(check("{\"name\":\"a\",\"resources\":{\"gpus\":1.5}}"), "resources.gpus");
	assert_string_equal(check("{\"name\":\"a\",\"resources\":{\"cpus\":1}}"), "resources.cpus");
	assert_string_equal(check("{\"name\":\"a\",\"resources\":[]}"), "resources");
	assert_string_equal(check("{\"name\":\"a\",\"env\":{\"A\":1}}"), "env.A");
	assert_string_equal(check("{\"name\":\"a\",\"env\":{\"A\":\"1\",\"B\":\"1\",\"C\":\"1\",\"D\":\"1\"}}"), "env");
	assert_string_equal(check("{\"name\":\"a\",\"points\":[{\"key\":\"k\",\"value\":1},{\"key\":\"k\"}]}"),
			    "points[1].value");
	assert_string_equal(check("{\"name\":\"a\",\"points\":[1]}"), "points[0]");
	assert_string_equal(check("{\"name\":\"a\",\"argv\":[\"a\",2]}"), "argv[1]");
	assert_string_equal(check("{\"name\":\"a\",\"argv\":[\"\"]}"), "argv[0]");
	assert_string_equal(check("{\"name\":\"a\",\"when\":\"now\"}"), "when");
	assert_string_equal(check("{\"name\":\"a\",\"ok\":1}"), "ok");
	assert_string_equal(check("{\"name\":\"a\",\"version\":1.5}"), "version");
	assert_string_equal(check("{\"name\":\"a\\u0000b\"}"), "name");
}

static void test_not_object(void **state)
{
	char field[64], msg[128];
	json_t *a = json_array();
	(void)state;
	assert_int_equal(atr_json_validate(a, schema, field, sizeof(field), msg, sizeof(msg)), ATR_EINVAL);
	assert_string_equal(field, "body");
	json_decref(a);
}

static void same_as_jansson(json_t *v)
{
	char *a = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t n;
	char *b = atr_json_write(v, &n);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_int_equal(n, strlen(a));
	free(a);
	free(b);
	json_decref(v);
}

static json_t *random_tree(unsigned *seed, int depth)
{
	int kind = (int)(rand_r(seed) % (depth > 3 ? 5 : 7));
	char s[32];
	switch (kind) {
	case 0:
		return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? -1 : 1) * 1000003LL);
	case 1:
		return json_real((double)rand_r(seed) / 7.0 - 1e5);
	case 2:
		for (int i = 0; i < 31; i++)
			s[i] = (char)(1 + rand_r(seed) % 126);
		s[31] = 0;
		return json_string(s);
	case 3:
		return rand_r(seed) % 3 ? json_boolean(rand_r(seed) % 2) : json_null();
	case 4:
		return json_string("");
	case 5: {
		json_t *a = json_array();
		for (int i = rand_r(seed) % 5; i > 0; i--)
			json_array_append_new(a, random_tree(seed, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (int i = rand_r(seed) % 5; i > 0; i--) {
			snprintf(s, sizeof(s), "k\"%d\n", rand_r(seed) % 100);
			json_object_set_new(o, s, random_tree(seed, depth + 1));
		}
		return o;
	}
	}
}

static void test_writer(void **state)
{
	unsigned seed = 42;
	(void)state;
	same_as_jansson(json_pack("{s:s, s:i, s:f, s:b, s:n, s:[], s:{}}", "a", "x\"y\\z\n\t\x01\x1f", "b", -7, "c",
				  1.0, "d", 1, "e", "f", "g"));
	same_as_jansson(json_string("h\xc3\xa9llo \xe2\x82\xac / </script>"));
	same_as_jansson(json_integer(INT64_MIN));
	same_as_jansson(json_integer(INT64_MAX));
	same_as_jansson(json_real(0.1));
	same_as_jansson(json_real(1e300));
	same_as_jansson(json_real(-0.0));
	same_as_jansson(json_real(123456789.0));
	same_as_jansson(json_array());
	for (int i = 0; i < 2000; i++)
		same_as_jansson(random_tree(&seed, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
