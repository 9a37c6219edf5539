/* test_json.c: the body validator (types, bounds, null, empty, unknown fields, nesting), each
 * type of a shape (names, URLs, paths, commands, environments, labels, patches, id lists) with
 * its valid, invalid, null, wrong-type and boundary values, and the compact writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/buf.h"
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
	/* a field named "" (found by fuzz_json): its object is named, never an empty field */
	assert_string_equal(check("{\"name\":\"a\",\"\":[13]}"), "body");
	assert_string_equal(check("{\"name\":\"a\",\"resources\":{\"\":1}}"), "resources");
}

/* Each type of a shape, with small bounds so the boundaries are short to write. */
static const struct atr_field shapes[] = {
	{ "name", ATR_F_NAME, 0, 1, 8, NULL, NULL },
	{ "url", ATR_F_URL, 0, 8, 32, NULL, NULL },
	{ "path", ATR_F_URL_PATH, 0, 1, 16, NULL, NULL },
	{ "opt_path", ATR_F_URL_PATH, ATR_FF_NULLABLE, 1, 16, NULL, NULL },
	{ "seg", ATR_F_SEGMENT, 0, 1, 8, NULL, NULL },
	{ "rate", ATR_F_NUMBER, 0, 0, 1, NULL, NULL },
	{ "cmd", ATR_F_COMMAND, 0, 0, 64, NULL, NULL },
	{ "argv", ATR_F_COMMAND, 0, 0, 0, NULL, NULL },
	{ "env", ATR_F_ENV, 0, 0, 3, NULL, NULL },
	{ "labels", ATR_F_LABELS, 0, 0, 3, NULL, NULL },
	{ "tags", ATR_F_STRMAP_PATCH, 0, 0, 2, NULL, NULL },
	{ "ids", ATR_F_IDLIST, 0, 0, 3, NULL, NULL },
	{ "pair", ATR_F_ARRAY, 0, 1, 2, NULL, NULL },
	{ "ver", ATR_F_INT_OR_STRING, 0, 0, 16, "latest", NULL },
	{ 0 },
};

static char shape_msg[512];

/* The field named for text against shapes (NULL: valid); its message in shape_msg. */
static const char *shape(const char *text)
{
	static char field[512];
	json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL);
	int rc;

	assert_non_null(j);
	field[0] = shape_msg[0] = 0;
	rc = atr_json_validate(j, shapes, field, sizeof(field), shape_msg, sizeof(shape_msg));
	json_decref(j);
	if (rc == 0)
		return NULL;
	assert_int_equal(rc, ATR_EINVAL);
	assert_true(strlen(shape_msg) > 0);
	return field;
}

/* {"<key>": "<c repeated n times>"}, or with the run as a map's key or value. */
static const char *long_string(const char *key, char c, size_t n)
{
	static char text[8192];
	char run[6000];

	assert_true(n < sizeof(run));
	memset(run, c, n);
	run[n] = 0;
	snprintf(text, sizeof(text), "{\"%s\":\"%s\"}", key, run);
	return text;
}

static const char *long_entry(const char *key, char c, size_t n, bool as_name)
{
	static char text[8192];
	char run[6000];

	assert_true(n < sizeof(run));
	memset(run, c, n);
	run[n] = 0;
	if (as_name)
		snprintf(text, sizeof(text), "{\"%s\":{\"%s\":\"v\"}}", key, run);
	else
		snprintf(text, sizeof(text), "{\"%s\":{\"k\":\"%s\"}}", key, run);
	return text;
}

static void test_name(void **state)
{
	(void)state;
	assert_null(shape("{\"name\":\"w-1.a_b\"}"));
	assert_null(shape("{\"name\":\"A\"}"));
	assert_null(shape(long_string("name", 'a', 8)));
	assert_string_equal(shape(long_string("name", 'a', 9)), "name");
	assert_string_equal(shape("{\"name\":\"-w\"}"), "name");
	assert_string_equal(shape_msg,
			    "'name' must be letters, digits, '-', '_' and '.', starting with a letter or digit");
	assert_string_equal(shape("{\"name\":\".w\"}"), "name");
	assert_string_equal(shape("{\"name\":\"a b\"}"), "name");
	assert_string_equal(shape("{\"name\":\"a/b\"}"), "name");
	assert_string_equal(shape("{\"name\":\"\\u00e9\"}"), "name");
	assert_string_equal(shape("{\"name\":\"\"}"), "name");
	assert_string_equal(shape("{\"name\":null}"), "name");
	assert_string_equal(shape("{\"name\":3}"), "name");
}

static void test_url(void **state)
{
	(void)state;
	assert_null(shape("{\"url\":\"http://a\"}"));
	assert_null(shape("{\"url\":\"https://10.0.0.1:8080/x\"}"));
	assert_string_equal(shape("{\"url\":\"ftp://10.0.0.1\"}"), "url");
	assert_string_equal(shape_msg, "'url' must be an http:// or https:// URL");
	assert_string_equal(shape("{\"url\":\"HTTP://abc\"}"), "url");
	assert_string_equal(shape("{\"url\":\"http:/abcd\"}"), "url");
	assert_string_equal(shape("{\"url\":\"http://\"}"), "url"); /* under min 8 */
	assert_string_equal(shape("{\"url\":\"http://a23456789012345678901234567890\"}"), "url");
	assert_string_equal(shape("{\"url\":null}"), "url");
	assert_string_equal(shape("{\"url\":[]}"), "url");
}

static void test_url_path(void **state)
{
	(void)state;
	assert_null(shape("{\"path\":\"/\"}"));
	assert_null(shape("{\"path\":\"/v2/health/ready\"}"));
	assert_null(shape("{\"path\":\"/a-b_c~!%20\"}"));
	assert_null(shape(long_string("path", '/', 16)));
	assert_string_equal(shape(long_string("path", '/', 17)), "path");
	assert_string_equal(shape("{\"path\":\"ready\"}"), "path");
	assert_string_equal(shape_msg, "'path' must be a path starting with '/', without spaces, '?' or '#'");
	assert_string_equal(shape("{\"path\":\"/a b\"}"), "path");
	assert_string_equal(shape("{\"path\":\"/a?b=1\"}"), "path");
	assert_string_equal(shape("{\"path\":\"/a#b\"}"), "path");
	assert_string_equal(shape("{\"path\":\"/a\\tb\"}"), "path");
	assert_string_equal(shape("{\"path\":\"/\\u00e9\"}"), "path");
	assert_string_equal(shape("{\"path\":\"/\\u007f\"}"), "path");
	assert_string_equal(shape("{\"path\":\"\"}"), "path");
	assert_string_equal(shape("{\"path\":null}"), "path");
	assert_null(shape("{\"opt_path\":null}"));
	assert_string_equal(shape("{\"opt_path\":\"x\"}"), "opt_path");
	assert_string_equal(shape("{\"path\":5}"), "path");
}

static void test_segment(void **state)
{
	(void)state;
	assert_null(shape("{\"seg\":\"data\"}"));
	assert_null(shape("{\"seg\":\".hidden\"}"));
	assert_null(shape("{\"seg\":\"...\"}"));
	assert_null(shape("{\"seg\":\"a.b c\"}"));
	assert_null(shape(long_string("seg", 'x', 8)));
	assert_string_equal(shape(long_string("seg", 'x', 9)), "seg");
	assert_string_equal(shape("{\"seg\":\".\"}"), "seg");
	assert_string_equal(shape_msg, "'seg' must be one path segment without '/', '.' or '..'");
	assert_string_equal(shape("{\"seg\":\"..\"}"), "seg");
	assert_string_equal(shape("{\"seg\":\"a/b\"}"), "seg");
	assert_string_equal(shape("{\"seg\":\"/a\"}"), "seg");
	assert_string_equal(shape("{\"seg\":\"a\\\\b\"}"), "seg");
	assert_string_equal(shape("{\"seg\":\"a\\u0001\"}"), "seg");
	assert_string_equal(shape("{\"seg\":\"\"}"), "seg");
	assert_string_equal(shape("{\"seg\":null}"), "seg");
	assert_string_equal(shape("{\"seg\":[\"a\"]}"), "seg");
}

static void test_number_range(void **state)
{
	(void)state;
	assert_null(shape("{\"rate\":0}"));
	assert_null(shape("{\"rate\":1}"));
	assert_null(shape("{\"rate\":0.25}"));
	assert_null(shape("{\"rate\":1.0}"));
	assert_string_equal(shape("{\"rate\":1.0001}"), "rate");
	assert_string_equal(shape_msg, "'rate' must be from 0 to 1");
	assert_string_equal(shape("{\"rate\":-0.01}"), "rate");
	assert_string_equal(shape("{\"rate\":2}"), "rate");
	assert_string_equal(shape("{\"rate\":null}"), "rate");
	assert_string_equal(shape("{\"rate\":\"0.5\"}"), "rate");
	/* 0,0: any finite number */
	assert_null(check("{\"name\":\"a\",\"points\":[{\"key\":\"k\",\"value\":-1e300}]}"));
}

static void test_command(void **state)
{
	char big[4097 * 4 + 32];
	size_t n;
	(void)state;

	assert_null(shape("{\"cmd\":\"python train.py\"}"));
	assert_null(shape("{\"cmd\":[\"python\",\"-c\",\"x\"]}"));
	assert_null(shape("{\"cmd\":[\"a\",\"\"]}")); /* arguments may be empty */
	assert_string_equal(shape("{\"cmd\":\"\"}"), "cmd");
	assert_string_equal(shape_msg,
			    "'cmd' must be a non-empty string (run by /bin/sh -c) or an array of 1-4096 strings");
	assert_string_equal(shape("{\"cmd\":\"a\\u0000b\"}"), "cmd");
	assert_string_equal(shape("{\"cmd\":[]}"), "cmd");
	assert_string_equal(shape("{\"cmd\":[\"\"]}"), "cmd[0]");
	assert_string_equal(shape_msg, "'cmd[0]' must be a string without NUL, not empty");
	assert_string_equal(shape("{\"cmd\":[\"a\",3]}"), "cmd[1]");
	assert_string_equal(shape_msg, "'cmd[1]' must be a string without NUL");
	assert_string_equal(shape("{\"cmd\":[\"a\",\"b\\u0000\"]}"), "cmd[1]");
	assert_string_equal(shape("{\"cmd\":[null]}"), "cmd[0]");
	assert_string_equal(shape("{\"cmd\":3}"), "cmd");
	assert_string_equal(shape("{\"cmd\":{}}"), "cmd");
	assert_string_equal(shape("{\"cmd\":null}"), "cmd");
	/* the encoded size (max) first: 64 bytes */
	assert_null(shape(long_string("cmd", 'x', 64 - 2)));
	assert_string_equal(shape(long_string("cmd", 'x', 64 - 1)), "cmd");
	assert_string_equal(shape_msg, "'cmd' must encode to at most 64 bytes");
	/* 1 to 4096 strings */
	for (int items = 4096; items <= 4097; items++) {
		n = (size_t)snprintf(big, sizeof(big), "{\"argv\":[");
		for (int i = 0; i < items; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"a\"", i ? "," : "");
		snprintf(big + n, sizeof(big) - n, "]}");
		if (items == 4096)
			assert_null(shape(big));
		else
			assert_string_equal(shape(big), "argv");
	}
}

static void test_env(void **state)
{
	(void)state;
	assert_null(shape("{\"env\":{}}"));
	assert_null(shape("{\"env\":{\"A\":\"1\",\"_x9\":\"\",\"ATRIUM\":\"x\"}}"));
	assert_null(shape("{\"env\":{\"PORTS\":\"1\",\"CUDA\":\"1\"}}"));
	assert_string_equal(shape("{\"env\":{\"1A\":\"1\"}}"), "env.1A");
	assert_string_equal(shape_msg, "'env.1A': names are letters, digits and '_'; ATRIUM_*, CUDA_VISIBLE_DEVICES, "
				       "CUDA_DEVICE_ORDER and PORT are set by Atrium");
	assert_string_equal(shape("{\"env\":{\"A-B\":\"1\"}}"), "env.A-B");
	assert_string_equal(shape("{\"env\":{\"\\u00c9\":\"1\"}}"), "env.\xc3\x89");
	assert_string_equal(shape("{\"env\":{\"ATRIUM_X\":\"1\"}}"), "env.ATRIUM_X");
	assert_string_equal(shape("{\"env\":{\"ATRIUM_\":\"1\"}}"), "env.ATRIUM_");
	assert_string_equal(shape("{\"env\":{\"PORT\":\"1\"}}"), "env.PORT");
	assert_string_equal(shape("{\"env\":{\"CUDA_VISIBLE_DEVICES\":\"0\"}}"), "env.CUDA_VISIBLE_DEVICES");
	assert_string_equal(shape("{\"env\":{\"CUDA_DEVICE_ORDER\":\"x\"}}"), "env.CUDA_DEVICE_ORDER");
	/* the plain map's rules come first */
	assert_string_equal(shape("{\"env\":{\"A\":1}}"), "env.A");
	assert_string_equal(shape_msg, "'env.A' must be a string");
	assert_string_equal(shape("{\"env\":{\"\":\"1\"}}"), "env.");
	assert_string_equal(shape(long_entry("env", 'x', 4097, false)), "env.k");
	assert_string_equal(shape("{\"env\":{\"A\":\"1\",\"B\":\"1\",\"C\":\"1\",\"D\":\"1\"}}"), "env");
	assert_string_equal(shape("{\"env\":null}"), "env");
	assert_string_equal(shape("{\"env\":[]}"), "env");
}

static void test_labels(void **state)
{
	(void)state;
	assert_null(shape("{\"labels\":{\"pool\":\"a\",\"k8s.io/zone\":\"x\",\"a_b-c\":\"\"}}"));
	assert_null(shape(long_entry("labels", 'n', 63, true)));
	assert_null(shape(long_entry("labels", 'v', 255, false)));
	assert_string_equal(shape("{\"labels\":{\"a b\":\"c\"}}"), "labels");
	assert_string_equal(shape_msg, "label names are 1-63 letters, digits and '-', '_', '.', '/'");
	assert_string_equal(shape("{\"labels\":{\"a:b\":\"c\"}}"), "labels");
	assert_string_equal(shape(long_entry("labels", 'n', 64, true)), "labels");
	assert_string_equal(shape(long_entry("labels", 'v', 256, false)), "labels");
	assert_string_equal(shape_msg, "label 'k' has a value over 255 bytes");
	assert_string_equal(shape("{\"labels\":{\"a\":1}}"), "labels.a");
	assert_string_equal(shape("{\"labels\":{\"\":\"c\"}}"), "labels.");
	assert_string_equal(shape("{\"labels\":{\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\"}}"), "labels");
	assert_string_equal(shape("{\"labels\":null}"), "labels");
	assert_string_equal(shape("{\"labels\":\"a=b\"}"), "labels");
}

static void test_strmap_patch(void **state)
{
	(void)state;
	assert_null(shape("{\"tags\":{}}"));
	assert_null(shape("{\"tags\":{\"a\":\"x\",\"b\":null}}"));
	assert_null(shape(long_entry("tags", 'n', 256, true)));
	assert_null(shape(long_entry("tags", 'v', 4096, false)));
	assert_string_equal(shape("{\"tags\":{\"a\":5}}"), "tags.a");
	assert_string_equal(
		shape_msg,
		"'tags.a' must be a name of 1-256 bytes with a string value of at most 4096 bytes (null removes it)");
	assert_string_equal(shape("{\"tags\":{\"a\":[]}}"), "tags.a");
	assert_string_equal(shape("{\"tags\":{\"a\":\"x\\u0000\"}}"), "tags.a");
	assert_string_equal(shape("{\"tags\":{\"\":\"x\"}}"), "tags.");
	assert_string_equal(shape("{\"tags\":{\"\":null}}"), "tags.");
	assert_non_null(shape(long_entry("tags", 'n', 257, true)));
	assert_string_equal(shape(long_entry("tags", 'v', 4097, false)), "tags.k");
	assert_string_equal(shape("{\"tags\":{\"a\":null,\"b\":null,\"c\":null}}"), "tags");
	assert_string_equal(shape_msg, "'tags' must have at most 2 entries");
	assert_string_equal(shape("{\"tags\":null}"), "tags");
	assert_string_equal(shape("{\"tags\":[]}"), "tags");
}

static void test_idlist(void **state)
{
	(void)state;
	assert_null(shape("{\"ids\":[]}"));
	assert_null(shape("{\"ids\":[1,2,9007199254740993]}"));
	assert_string_equal(shape("{\"ids\":[0]}"), "ids[0]");
	assert_string_equal(shape_msg, "'ids[0]' must be an id (an integer of at least 1)");
	assert_string_equal(shape("{\"ids\":[1,-1]}"), "ids[1]");
	assert_string_equal(shape("{\"ids\":[\"1\"]}"), "ids[0]");
	assert_string_equal(shape("{\"ids\":[1.5]}"), "ids[0]");
	assert_string_equal(shape("{\"ids\":[null]}"), "ids[0]");
	assert_string_equal(shape("{\"ids\":[1,2,3,4]}"), "ids");
	assert_string_equal(shape("{\"ids\":null}"), "ids");
	assert_string_equal(shape("{\"ids\":{}}"), "ids");
}

static void test_array_min_and_string_values(void **state)
{
	(void)state;
	/* an array's min: items */
	assert_null(shape("{\"pair\":[1]}"));
	assert_null(shape("{\"pair\":[1,\"x\"]}"));
	assert_string_equal(shape("{\"pair\":[]}"), "pair");
	assert_string_equal(shape_msg, "'pair' must not be empty");
	assert_string_equal(shape("{\"pair\":[1,2,3]}"), "pair");
	/* an integer or one of the strings enums names */
	assert_null(shape("{\"ver\":3}"));
	assert_null(shape("{\"ver\":\"latest\"}"));
	assert_string_equal(shape("{\"ver\":\"production\"}"), "ver");
	assert_string_equal(shape_msg, "'ver' must be an integer or one of latest");
	assert_string_equal(shape("{\"ver\":1.5}"), "ver");
	assert_string_equal(shape("{\"ver\":null}"), "ver");
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

/* Text written straight into a buffer: strings escaped as the tree writer does, reals as the
 * shortest decimal that reads back as the same double (or 17 digits). */
static void test_buf_writer(void **state)
{
	static const double some[] = { 0.5,
				       0.99978,
				       0.1,
				       -2.25,
				       3,
				       1234567.125,
				       1e-7,
				       1e300,
				       -1e-300,
				       0.3333333333333333,
				       1.7976931348623157e308,
				       9e15,
				       123456789012.5 };
	struct atr_buf b;
	uint64_t x = 0x2545f4914f6cdd1dULL;
	(void)state;

	atr_buf_init(&b, 1 << 20);
	assert_int_equal(atr_json_buf_str(&b, "a\"b\\c\n\x01"), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	atr_buf_reset(&b);
	assert_int_equal(atr_json_buf_real(&b, 0.5), 0);
	assert_string_equal(b.data, "0.5");
	atr_buf_reset(&b);
	assert_int_equal(atr_json_buf_real(&b, 3), 0);
	assert_string_equal(b.data, "3.0");
	atr_buf_reset(&b);
	assert_int_equal(atr_json_buf_real(&b, -0.358884), 0);
	assert_string_equal(b.data, "-0.358884");
	assert_int_equal(atr_json_buf_real(&b, NAN), ATR_EINVAL);
	assert_int_equal(atr_json_buf_real(&b, INFINITY), ATR_EINVAL);
	for (int i = 0; i < 200000; i++) {
		double d;
		if (i < (int)(sizeof(some) / sizeof(some[0]))) {
			d = some[i];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (i % 2) {
				memcpy(&d, &x, sizeof(d)); /* any bits */
			} else {
				d = (double)(int64_t)(x % 2000000001ULL - 1000000000) / 1000.0; /* short decimals */
			}
			if (!isfinite(d))
				continue;
		}
		atr_buf_reset(&b);
		assert_int_equal(atr_json_buf_real(&b, d), 0);
		if (strtod(b.data, NULL) != d || !strpbrk(b.data, ".eE")) {
			fprintf(stderr, "%.17g written as %s\n", d, b.data);
			fail();
		}
	}
	atr_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),	   cmocka_unit_test(test_bad),
		cmocka_unit_test(test_not_object), cmocka_unit_test(test_name),
		cmocka_unit_test(test_url),	   cmocka_unit_test(test_url_path),
		cmocka_unit_test(test_segment),	   cmocka_unit_test(test_number_range),
		cmocka_unit_test(test_command),	   cmocka_unit_test(test_env),
		cmocka_unit_test(test_labels),	   cmocka_unit_test(test_strmap_patch),
		cmocka_unit_test(test_idlist),	   cmocka_unit_test(test_array_min_and_string_values),
		cmocka_unit_test(test_writer),	   cmocka_unit_test(test_buf_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
