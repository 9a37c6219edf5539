/*
 * test_scoring_split.c: a file split in two by its ids (src/core/scoring_split.c), what a
 * competition's scorer is given: each record whole, as written, on the side its id picks; a
 * CSV header on both; fed in chunks of every size; a file without the id column, a bad record
 * or a failing writer refused.
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
	char buf[2][4096];
	size_t len[2];
	int fail_after; /* writes before one fails (-1: never) */
};

static int sink_write(void *cls, int side, const void *data, size_t len)
{
	struct sink *s = cls;

	if (s->fail_after == 0)
		return -1;
	if (s->fail_after > 0)
		s->fail_after--;
	assert_true(side == 0 || side == 1);
	assert_true(s->len[side] + len < sizeof(s->buf[0]));
	memcpy(s->buf[side] + s->len[side], data, len);
	s->len[side] += len;
	s->buf[side][s->len[side]] = 0;
	return 0;
}

/* Side 1 for the ids that start with 'b'. */
static int by_b(void *cls, const char *id, size_t len)
{
	(void)cls;
	return len > 0 && id[0] == 'b';
}

static int split(enum atr_scoring_format fmt, const char *text, size_t chunk, struct sink *s, size_t rows[2])
{
	struct atr_scoring_split *x;
	size_t n = strlen(text);
	int rc = atr_scoring_split_new(fmt, "id", by_b, sink_write, s, &x);

	assert_int_equal(rc, 0);
	for (size_t i = 0; rc == 0 && i < n; i += chunk)
		rc = atr_scoring_split_feed(x, text + i, i + chunk > n ? n - i : chunk);
	if (rc == 0)
		rc = atr_scoring_split_end(x);
	rows[0] = atr_scoring_split_rows(x, 0);
	rows[1] = atr_scoring_split_rows(x, 1);
	atr_scoring_split_free(x);
	return rc;
}

static void test_csv(void **state)
{
	static const char in[] = "\xEF\xBB\xBFid,label\r\na1,\"x,\"\"y\"\"\nz\"\nb1,2\n\na2,3\nb2,4";
	(void)state;

	for (size_t chunk = 1; chunk <= sizeof(in); chunk++) {
		struct sink s = { .fail_after = -1 };
		size_t rows[2];

		assert_int_equal(split(ATR_SCORING_CSV, in, chunk, &s, rows), 0);
		assert_string_equal(s.buf[0], "id,label\na1,\"x,\"\"y\"\"\nz\"\na2,3\n");
		assert_string_equal(s.buf[1], "id,label\nb1,2\nb2,4\n");
		assert_int_equal(rows[0], 2);
		assert_int_equal(rows[1], 2);
	}
}

static void test_jsonl(void **state)
{
	static const char in[] = "{\"label\":1,\"id\":\"b\\u0031\"}\n{\"id\":7,\"label\":\"x\"}\r\n\n";
	struct sink s = { .fail_after = -1 };
	size_t rows[2];
	(void)state;

	assert_int_equal(split(ATR_SCORING_JSONL, in, 5, &s, rows), 0);
	assert_string_equal(s.buf[1], "{\"label\":1,\"id\":\"b\\u0031\"}\n");
	assert_string_equal(s.buf[0], "{\"id\":7,\"label\":\"x\"}\n");
	assert_int_equal(rows[0] + rows[1], 2);
}

static void test_refused(void **state)
{
	struct atr_scoring_split *x;
	struct sink s = { .fail_after = -1 };
	size_t rows[2];
	(void)state;

	assert_int_equal(split(ATR_SCORING_CSV, "key,label\n1,2\n", 64, &s, rows), ATR_EUNPROCESSABLE);
	memset(&s, 0, sizeof(s));
	s.fail_after = -1;
	assert_int_equal(split(ATR_SCORING_CSV, "id,label\n1,2,3\n", 64, &s, rows), ATR_EUNPROCESSABLE);
	memset(&s, 0, sizeof(s));
	s.fail_after = -1;
	assert_int_equal(split(ATR_SCORING_JSONL, "{\"label\":2}\n", 64, &s, rows), ATR_EUNPROCESSABLE);
	memset(&s, 0, sizeof(s));
	s.fail_after = -1;
	assert_int_equal(split(ATR_SCORING_CSV, "", 64, &s, rows), ATR_EUNPROCESSABLE);
	memset(&s, 0, sizeof(s));
	s.fail_after = 3;
	assert_int_equal(split(ATR_SCORING_CSV, "id,label\na,1\nb,2\n", 64, &s, rows), ATR_EIO);
	/* the error names the line */
	assert_int_equal(atr_scoring_split_new(ATR_SCORING_CSV, "id", by_b, sink_write, &s, &x), 0);
	s.fail_after = -1;
	assert_int_equal(atr_scoring_split_feed(x, "id,label\n1,2\n\"3,4\n", 18), 0);
	assert_int_equal(atr_scoring_split_end(x), ATR_EUNPROCESSABLE);
	assert_non_null(strstr(atr_scoring_split_error(x)->message, "line 3"));
	atr_scoring_split_free(x);
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
