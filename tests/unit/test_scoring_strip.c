/*
 * test_scoring_strip.c: the inputs-only copy of a ground truth (src/core/scoring_strip.c),
 * what a model evaluated by a job is given: the label column (CSV) or key (JSON Lines) gone,
 * the rest kept (quoted fields re-quoted), fed in chunks of every size; a file without the
 * label column, a bad record or a failing writer refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/err.h"
#include "atrium/scoring.h"

struct sink {
	char buf[4096];
	size_t len;
	int fail_after; /* writes before one fails (-1: never) */
};

static int sink_write(void *cls, const void *data, size_t len)
{
	struct sink *s = cls;

	if (s->fail_after == 0)
		return -1;
	if (s->fail_after > 0)
		s->fail_after--;
	assert_true(s->len + len < sizeof(s->buf));
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = 0;
	return 0;
}

/* Strips text fed in chunks of chunk bytes; the result's rc, the output in s. */
static int strip(enum atr_scoring_format fmt, const char *label, const char *text, size_t chunk, struct sink *s,
		 struct atr_scoring_error *err)
{
	struct atr_scoring_strip *st;
	size_t n = strlen(text);
	int rc;

	s->len = 0;
	s->buf[0] = 0;
	assert_int_equal(atr_scoring_strip_new(fmt, label, sink_write, s, &st), 0);
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i += chunk)
		rc = atr_scoring_strip_feed(st, text + i, i + chunk > n ? n - i : chunk);
	if (rc == 0)
		rc = atr_scoring_strip_end(st);
	if (err)
		*err = *atr_scoring_strip_error(st);
	atr_scoring_strip_free(st);
	return rc;
}

static void test_csv(void **state)
{
	const char *in =
		"\xef\xbb\xbfid,label,text\r\n1,cat,\"a, b\"\r\n2,dog,\"say \"\"hi\"\"\"\n3,\"cat\",\"two\nlines\"\n";
	const char *want = "id,text\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n";
	struct sink s = { .fail_after = -1 };
	(void)state;

	for (size_t chunk = 1; chunk <= strlen(in); chunk++) {
		assert_int_equal(strip(ATR_SCORING_CSV, "label", in, chunk, &s, NULL), 0);
		assert_string_equal(s.buf, want);
	}
	/* the label last, and only two columns */
	assert_int_equal(strip(ATR_SCORING_CSV, "y", "id,y\n1,0\n2,1\n", 4096, &s, NULL), 0);
	assert_string_equal(s.buf, "id\n1\n2\n");
}

static void test_jsonl(void **state)
{
	const char *in =
		"{\"id\": \"a\", \"label\": \"cat\", \"x\": [1, 2.5]}\n\n{\"id\": 2, \"x\": null, \"label\": 1}\n";
	struct sink s = { .fail_after = -1 };
	(void)state;

	for (size_t chunk = 1; chunk <= strlen(in); chunk++) {
		assert_int_equal(strip(ATR_SCORING_JSONL, "label", in, chunk, &s, NULL), 0);
		assert_string_equal(s.buf, "{\"id\":\"a\",\"x\":[1,2.5]}\n{\"id\":2,\"x\":null}\n");
	}
}

static void test_refused(void **state)
{
	struct sink s = { .fail_after = -1 };
	struct atr_scoring_error err;
	(void)state;

	assert_int_equal(strip(ATR_SCORING_CSV, "label", "id,y\n1,0\n", 4096, &s, &err), ATR_EUNPROCESSABLE);
	assert_int_equal(err.kind, ATR_SCORING_E_HEADER);
	assert_non_null(strstr(err.message, "'label'"));
	assert_int_equal(s.len, 0); /* nothing written before the header is known good */
	assert_int_equal(strip(ATR_SCORING_CSV, "label", "id,label,label\n", 4096, &s, &err), ATR_EUNPROCESSABLE);
	assert_int_equal(err.kind, ATR_SCORING_E_HEADER);
	assert_int_equal(strip(ATR_SCORING_CSV, "label", "id,label\n1,cat\n2\n", 4096, &s, &err), ATR_EUNPROCESSABLE);
	assert_int_equal(err.kind, ATR_SCORING_E_COLUMNS);
	assert_int_equal(err.line, 3);
	assert_int_equal(strip(ATR_SCORING_CSV, "label", "", 4096, &s, &err), ATR_EUNPROCESSABLE);
	assert_int_equal(strip(ATR_SCORING_CSV, "label", "id,label\n1,\xff\n", 4096, &s, &err), ATR_EUNPROCESSABLE);
	assert_int_equal(err.kind, ATR_SCORING_E_ENCODING);
	assert_int_equal(strip(ATR_SCORING_JSONL, "label", "{\"id\":1}\n[1]\n", 4096, &s, &err), ATR_EUNPROCESSABLE);
	assert_int_equal(err.line, 2);
	/* a writer that fails stops the copy */
	s.fail_after = 1;
	assert_int_equal(strip(ATR_SCORING_CSV, "label", "id,label\n1,cat\n", 4096, &s, &err), ATR_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
