/*
 * test_stage.c: the pure parts of the worker's staging (src/worker/stage.h): URLs with each
 * path segment percent-encoded, the plan made from a dispatch body's `downloads` (fields
 * named, a trailing '/' added to base, model/ detected, the same content counted once), and
 * the small text helpers. The transfers themselves are tested end to end with a real worker
 * in tests/integration/test_stage.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "atrium/err.h"
#include "worker/stage.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void test_url(void **state)
{
	char out[256];
	(void)state;

	assert_true(stage_url(out, sizeof(out), "http://h:1", "/files/", "a?b#c%d+e f/\xc3\xbc/x~y_z-.1"));
	assert_string_equal(out, "http://h:1/files/a%3Fb%23c%25d%2Be%20f/%C3%BC/x~y_z-.1");
	assert_true(stage_url(out, sizeof(out), "http://h:1", "/p/", "plain/path.csv"));
	assert_string_equal(out, "http://h:1/p/plain/path.csv");
	/* what does not fit is refused, never cut */
	assert_false(stage_url(out, 20, "http://h:1", "/files/", "abcdefghij"));
	assert_false(stage_url(out, 22, "http://h:1", "/f/", "abcd   "));
}

static void test_text(void **state)
{
	char out[64];
	(void)state;

	stage_size_text(0, out, sizeof(out));
	assert_string_equal(out, "0 bytes");
	stage_size_text(1, out, sizeof(out));
	assert_string_equal(out, "1 byte");
	stage_size_text(1536, out, sizeof(out));
	assert_string_equal(out, "1.5 KiB");
	stage_size_text(20u << 20, out, sizeof(out));
	assert_string_equal(out, "20.0 MiB");
	stage_printable("a\nb'c\x7f", out, sizeof(out));
	assert_string_equal(out, "a?b?c?");
	stage_printable("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

static int parse(const char *downloads, struct stage_plan **p, char *field)
{
	json_t *d = json_loads(downloads, 0, NULL);
	char why[300];
	int rc;

	assert_non_null(d);
	rc = stage_plan_parse(d, p, field, 64, why, sizeof(why));
	if (rc < 0)
		assert_non_null(strstr(why, field[0] ? field : "memory")); /* the message names the field */
	json_decref(d);
	return rc;
}

static void test_plan(void **state)
{
	struct stage_plan *p = NULL;
	char field[64];
	(void)state;

	/* nothing to fetch: no plan */
	assert_int_equal(parse("[]", &p, field), 0);
	assert_null(p);
	/* model/ below a download's dir gives ATRIUM_MODEL_DIR; "models" does not */
	assert_int_equal(parse("[{\"dir\":\"model/sub\",\"base\":\"/m\",\"files\":[]}]", &p, field), 0);
	assert_true(stage_plan_has_model(p));
	stage_plan_free(p);
	assert_int_equal(parse("[{\"dir\":\"models\",\"base\":\"/m/\",\"files\":[]}]", &p, field), 0);
	assert_false(stage_plan_has_model(p));
	stage_plan_free(p);
	/* upper-case sums are fine (kept lower-case), the same content twice too */
	assert_int_equal(parse("[{\"dir\":\"input/a\",\"base\":\"/f/\",\"files\":["
			       "{\"path\":\"x\",\"sha256\":\"" SHA_B "\",\"size\":3},"
			       "{\"path\":\"y\",\"sha256\":\"" SHA_B "\",\"size\":3},"
			       "{\"path\":\"z\",\"sha256\":\"" SHA_A "\",\"size\":0}]}]",
			       &p, field),
			 0);
	assert_false(stage_plan_has_model(p));
	stage_plan_free(p);

	assert_int_equal(parse("[{\"dir\":\"a//b\",\"base\":\"/f/\",\"files\":[]}]", &p, field), ATR_EINVAL);
	assert_string_equal(field, "downloads[0].dir");
	assert_int_equal(parse("[{\"dir\":\"a\",\"base\":\"/f/\",\"files\":[]},{\"dir\":\"log/x\",\"base\":\"/f/"
			       "\",\"files\":[]}]",
			       &p, field),
			 ATR_EINVAL);
	assert_string_equal(field, "downloads[1].dir");
	assert_int_equal(parse("[{\"dir\":\"a\",\"base\":\"f/\",\"files\":[]}]", &p, field), ATR_EINVAL);
	assert_string_equal(field, "downloads[0].base");
	assert_int_equal(parse("[{\"dir\":\"a\",\"base\":\"/f/?x=1\",\"files\":[]}]", &p, field), ATR_EINVAL);
	assert_string_equal(field, "downloads[0].base");
	assert_int_equal(parse("[{\"dir\":\"a\",\"base\":\"/f/\",\"files\":[{\"path\":\"ok\",\"sha256\":\"" SHA_A
			       "\",\"size\":1},{\"path\":\"..\",\"sha256\":\"" SHA_A "\",\"size\":1}]}]",
			       &p, field),
			 ATR_EINVAL);
	assert_string_equal(field, "downloads[0].files[1].path");
	assert_int_equal(parse("[{\"dir\":\"a\",\"base\":\"/f/\",\"files\":[{\"path\":\"ok\",\"sha256\":\"" SHA_A
			       "g\",\"size\":1}]}]",
			       &p, field),
			 ATR_EINVAL);
	assert_string_equal(field, "downloads[0].files[0].sha256");
	/* a file and the same place through another download's dir */
	assert_int_equal(parse("[{\"dir\":\"a\",\"base\":\"/f/\",\"files\":[{\"path\":\"b/c\",\"sha256\":\"" SHA_A
			       "\",\"size\":1}]},{\"dir\":\"a/b\",\"base\":\"/g/"
			       "\",\"files\":[{\"path\":\"c\",\"sha256\":\"" SHA_B "\",\"size\":1}]}]",
			       &p, field),
			 ATR_EINVAL);
	assert_string_equal(field, "downloads[1].files[0].path");
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
