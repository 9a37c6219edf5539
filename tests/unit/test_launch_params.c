/* test_launch_params.c: a launcher's typed parameters (src/core/launch_params.c): definitions,
 * values (bounds, types, defaults, references), the text of each type, and substitution that
 * no value can turn into shell code (checked by running the quoted word through /bin/sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/launch_params.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!j)
		fprintf(stderr, "bad test JSON: %s: %s\n", s, e.text);
	assert_non_null(j);
	return j;
}

static const char *PARAMS =
	"[{\"name\":\"lr\",\"type\":\"float\",\"default\":0.1,\"min\":0,\"max\":1},"
	"{\"name\":\"n\",\"type\":\"integer\",\"min\":1,\"max\":10},"
	"{\"name\":\"s\",\"type\":\"string\",\"default\":\"a b\",\"max_length\":8},"
	"{\"name\":\"c\",\"type\":\"choice\",\"choices\":[\"x\",\"y\"],\"default\":\"x\"},"
	"{\"name\":\"b\",\"type\":\"boolean\",\"default\":true},"
	"{\"name\":\"d\",\"type\":\"dataset_version\",\"dataset\":\"digits\",\"default\":\"latest\"},"
	"{\"name\":\"m\",\"type\":\"model_version\",\"default\":\"net:prod\"}]";

/* check_values: 0 or the field of the 400 */
static const char *values_field(const char *values)
{
	static char field[160];
	char msg[320];
	json_t *p = J(PARAMS), *v = J(values), *out = NULL;
	int rc = atr_launch_values(p, v, &out, field, sizeof(field), msg, sizeof(msg));
	json_decref(p);
	json_decref(v);
	json_decref(out);
	return rc == 0 ? "" : field;
}

static void test_values(void **state)
{
	json_t *p = J(PARAMS), *v = J("{\"n\":3,\"d\":2}"), *out;
	char field[160], msg[320];
	(void)state;
	assert_int_equal(atr_launch_values(p, v, &out, field, sizeof(field), msg, sizeof(msg)), 0);
	assert_true(json_real_value(json_object_get(out, "lr")) == 0.1);
	assert_string_equal(json_string_value(json_object_get(out, "d")), "digits:2");
	assert_string_equal(json_string_value(json_object_get(out, "m")), "net:prod");
	assert_true(json_is_true(json_object_get(out, "b")));
	json_decref(out);
	json_decref(v);
	json_decref(p);
	assert_string_equal(values_field("{\"n\":1}"), "");
	assert_string_equal(values_field("{\"n\":10,\"lr\":1}"), "");
	assert_string_equal(values_field("{}"), "values.n"); /* required: no default */
	assert_string_equal(values_field("{\"n\":11}"), "values.n");
	assert_string_equal(values_field("{\"n\":0}"), "values.n");
	assert_string_equal(values_field("{\"n\":2.5}"), "values.n");
	assert_string_equal(values_field("{\"n\":\"2\"}"), "values.n");
	assert_string_equal(values_field("{\"n\":2,\"lr\":1.0001}"), "values.lr");
	assert_string_equal(values_field("{\"n\":2,\"lr\":-0.1}"), "values.lr");
	assert_string_equal(values_field("{\"n\":2,\"s\":\"123456789\"}"), "values.s");
	assert_string_equal(values_field("{\"n\":2,\"s\":\"a\\u0000b\"}"), "values.s");
	assert_string_equal(values_field("{\"n\":2,\"s\":\"a\\tb\"}"), "values.s");
	assert_string_equal(values_field("{\"n\":2,\"c\":\"z\"}"), "values.c");
	assert_string_equal(values_field("{\"n\":2,\"b\":1}"), "values.b");
	assert_string_equal(values_field("{\"n\":2,\"d\":\"other:1\"}"), "values.d");
	assert_string_equal(values_field("{\"n\":2,\"d\":0}"), "values.d");
	assert_string_equal(values_field("{\"n\":2,\"m\":\"net\"}"), "values.m");
	assert_string_equal(values_field("{\"n\":2,\"m\":\":1\"}"), "values.m");
	assert_string_equal(values_field("{\"n\":2,\"zz\":1}"), "values.zz");
}

static const char *defs_field(const char *params, const char *spec)
{
	static char field[160];
	char msg[320];
	json_t *p = J(params), *s = J(spec);
	int rc = atr_launch_params_check(p, s, field, sizeof(field), msg, sizeof(msg));
	json_decref(p);
	json_decref(s);
	return rc == 0 ? "" : field;
}

static void test_definitions(void **state)
{
	const char *spec = "{\"command\":[\"run\",\"{{a}}\"],\"env\":{\"X\":\"{{a}}\"}}";
	(void)state;
	assert_string_equal(defs_field(PARAMS, "{\"command\":\"go {{lr}} {{n}} {{m}}\"}"), "");
	assert_string_equal(defs_field("[{\"name\":\"a\",\"type\":\"string\"}]", spec), "");
	assert_string_equal(defs_field("[]", spec), "spec.command[1]");
	assert_string_equal(defs_field("[]", "{\"command\":\"x {{a\"}"), "spec.command");
	assert_string_equal(defs_field("[{\"name\":\"b\",\"type\":\"string\"}]", "{\"command\":\"x\",\"env\":"
										 "{\"X\":\"{{a}}\"}}"),
			    "spec.env.X");
	assert_string_equal(defs_field("[{\"name\":\"1a\",\"type\":\"string\"}]", "{}"), "parameters[0].name");
	assert_string_equal(defs_field("[{\"name\":\"a\",\"type\":\"str\"}]", "{}"), "parameters[0].type");
	assert_string_equal(defs_field("[{\"name\":\"a\",\"type\":\"integer\",\"min\":0.5}]", "{}"),
			    "parameters[0].min");
	assert_string_equal(defs_field("[{\"name\":\"a\",\"type\":\"float\",\"min\":2,\"max\":1}]", "{}"),
			    "parameters[0].max");
	assert_string_equal(defs_field("[{\"name\":\"a\",\"type\":\"float\",\"default\":5,\"max\":1}]", "{}"),
			    "parameters[0].default");
	assert_string_equal(defs_field("[{\"name\":\"a\",\"type\":\"string\",\"choices\":[\"x\"]}]", "{}"),
			    "parameters[0].choices");
	assert_string_equal(defs_field("[{\"name\":\"a\",\"type\":\"boolean\",\"dataset\":\"d\"}]", "{}"),
			    "parameters[0].dataset");
	assert_string_equal(
		defs_field("[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"a\",\"type\":\"integer\"}]", "{}"),
		"parameters[1].name");
}

static void test_text(void **state)
{
	char buf[64];
	json_t *v;
	(void)state;
	v = json_real(0.1);
	assert_int_equal(atr_launch_value_text(v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0.1");
	json_decref(v);
	v = json_real(1e-7);
	assert_int_equal(atr_launch_value_text(v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1e-07");
	json_decref(v);
	v = json_integer(-42);
	assert_int_equal(atr_launch_value_text(v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-42");
	json_decref(v);
	assert_int_equal(atr_launch_value_text(json_false(), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "false");
	v = json_string("0123456789");
	assert_int_equal(atr_launch_value_text(v, buf, 5), ATR_ETOOBIG);
	json_decref(v);
}

/* Whatever a value holds, the quoted word reads back as that value in /bin/sh. */
static void test_shell_quote(void **state)
{
	static const char *const nasty[] = { "plain", "it's", "$(id)", "`id`", "a'b'c", "''", "; rm -rf x", "\\'\"$x" };
	(void)state;
	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		char *q = atr_shell_quote(nasty[i]), cmd[512], out[256] = "";
		FILE *f;
		assert_non_null(q);
		snprintf(cmd, sizeof(cmd), "printf '%%s' %s", q);
		f = popen(cmd, "r");
		assert_non_null(f);
		assert_non_null(fgets(out, sizeof(out), f) ? out : (nasty[i][0] ? NULL : out));
		pclose(f);
		assert_string_equal(out, nasty[i]);
		free(q);
	}
}

static void test_expand(void **state)
{
	json_t *values = J("{\"lr\":0.5,\"s\":\"it's $(x)\",\"n\":3}"), *out;
	json_t *argv_spec = J("{\"command\":[\"run\",\"--lr={{lr}}\",\"{{s}}\"],\"env\":{\"S\":\"<{{s}}>\"},"
			      "\"resources\":{\"gpus\":1}}");
	json_t *sh_spec = J("{\"command\":\"run --lr={{lr}} {{s}} {{n}}{{n}}\"}");
	char field[64];
	(void)state;
	assert_int_equal(atr_launch_expand(argv_spec, values, &out, field, sizeof(field)), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(out, "command"), 1)), "--lr=0.5");
	assert_string_equal(json_string_value(json_array_get(json_object_get(out, "command"), 2)), "it's $(x)");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "env"), "S")), "<it's $(x)>");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "resources"), "gpus")), 1);
	json_decref(out);
	assert_int_equal(atr_launch_expand(sh_spec, values, &out, field, sizeof(field)), 0);
	assert_string_equal(json_string_value(json_object_get(out, "command")),
			    "run --lr='0.5' 'it'\\''s $(x)' '3''3'");
	json_decref(out);
	json_decref(values);
	json_decref(argv_spec);
	json_decref(sh_spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),	    cmocka_unit_test(test_definitions), cmocka_unit_test(test_text),
		cmocka_unit_test(test_shell_quote), cmocka_unit_test(test_expand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
