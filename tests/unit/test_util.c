/* test_util.c: time (and the clock's test seam), encodings, slugs, artifact paths, sizes, the
 * capped buffer, closing a loop that still has handles on it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "atrium/buf.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

static void test_time(void **state)
{
	char out[40];
	int64_t ms;
	(void)state;
	atr_time_format(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	atr_time_format(1795786930123LL, out, sizeof(out));
	assert_int_equal(atr_time_parse(out, &ms), 0);
	assert_int_equal(ms, 1795786930123LL);
	assert_int_equal(atr_time_parse("2026-11-27T13:00:00+01:00", &ms), 0);
	assert_int_equal(atr_time_parse("2026-11-27T12:00:00Z", &ms + 0) == 0, 1);
	assert_int_equal(atr_time_parse("2026-02-30", &ms), ATR_EINVAL);
	/* days a month does not have are refused, not carried into the next month */
	assert_int_equal(atr_time_parse("2026-02-31T00:00:00Z", &ms), ATR_EINVAL);
	assert_int_equal(atr_time_parse("2026-02-29T00:00:00Z", &ms), ATR_EINVAL);
	assert_int_equal(atr_time_parse("2028-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(atr_time_parse("2100-02-29T00:00:00Z", &ms), ATR_EINVAL);
	assert_int_equal(atr_time_parse("2000-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(atr_time_parse("2026-04-31T00:00:00Z", &ms), ATR_EINVAL);
	assert_int_equal(atr_time_parse("2026-11-27T12:00:00", &ms), ATR_EINVAL);
	assert_int_equal(atr_time_parse("2026-13-01T00:00:00Z", &ms), ATR_EINVAL);
	assert_int_equal(atr_time_parse("yesterday", &ms), ATR_EINVAL);
	assert_int_equal(atr_time_parse("2026-11-27T12:00:00.5Z", &ms), 0);
	assert_int_equal(ms % 1000, 500);
}

static int64_t fake_us;

static int64_t fake_clock(void)
{
	return fake_us;
}

static void test_clock_seam(void **state)
{
	int64_t before = atr_now_ms();
	uint64_t mono = atr_mono_us();
	(void)state;

	fake_us = 1700000000123456;
	atr_clock_set(fake_clock);
	assert_int_equal(atr_now_ms(), 1700000000123);
	assert_int_equal(atr_now_us(), 1700000000123456);
	assert_int_equal(atr_mono_us(), 1700000000123456);
	fake_us += 2500;
	assert_int_equal(atr_now_ms(), 1700000000125);
	assert_int_equal(atr_now_ms(), 1700000000125); /* it stands still until moved */
	atr_clock_set(NULL);
	assert_true(atr_now_ms() >= before);
	assert_true(atr_now_ms() - before < 60000);
	assert_true(atr_mono_us() >= mono);
}

static void test_b64_and_hex(void **state)
{
	char enc[64], dec[64];
	unsigned char raw[3] = { 0xff, 0x00, 0x7f };
	long n;
	(void)state;
	atr_b64url_encode("[12]", 4, enc);
	assert_string_equal(enc, "WzEyXQ");
	n = atr_b64url_decode(enc, dec, sizeof(dec));
	assert_int_equal(n, 4);
	assert_memory_equal(dec, "[12]", 4);
	assert_int_equal(atr_b64url_decode("a", dec, sizeof(dec)), -1);
	assert_int_equal(atr_b64url_decode("ab+c", dec, sizeof(dec)), -1);
	atr_hex_encode(raw, 3, enc);
	assert_string_equal(enc, "ff007f");
	assert_int_equal(atr_hex_decode("ff007f", dec, 3), 0);
	assert_memory_equal(dec, raw, 3);
	assert_int_equal(atr_hex_decode("fg007f", dec, 3), ATR_EINVAL);
	assert_int_equal(atr_base62_encode(raw, 1, enc), 2); /* 255 = 4*62 + 7 */
	assert_string_equal(enc, "47");
}

static void test_slug(void **state)
{
	char long_ok[64], too_long[65];
	(void)state;
	assert_true(atr_is_slug("vision"));
	assert_true(atr_is_slug("a"));
	assert_true(atr_is_slug("9lives-2"));
	assert_false(atr_is_slug(""));
	assert_false(atr_is_slug("-lead"));
	assert_false(atr_is_slug("Upper"));
	assert_false(atr_is_slug("under_score"));
	assert_false(atr_is_slug("sp ace"));
	assert_false(atr_is_slug(NULL));
	memset(long_ok, 'a', 63);
	long_ok[63] = 0;
	assert_true(atr_is_slug(long_ok));
	memset(too_long, 'a', 64);
	too_long[64] = 0;
	assert_false(atr_is_slug(too_long));
}

static void test_safe_path(void **state)
{
	char big[1100];
	(void)state;
#define OK(s) assert_true(atr_is_safe_path(s, strlen(s)))
#define BAD(s) assert_false(atr_is_safe_path(s, strlen(s)))
	OK("a");
	OK("data/train.csv");
	OK("a/b/c.d/e");
	OK(".hidden/..x/x..");
	BAD("");
	BAD("/abs");
	BAD("../x");
	BAD("a/../b");
	BAD("a/..");
	BAD("a//b");
	BAD("a/");
	BAD("./a");
	BAD("a/./b");
	BAD("a\tb");
	BAD("a\\b");
	BAD("a\x7f");
	OK("donn\xc3\xa9"
	   "es/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80.txt");
	BAD("a\xff");		 /* not UTF-8 */
	BAD("a\xc3");		 /* cut short */
	BAD("\xc0\xaf");	 /* overlong '/' */
	BAD("\xed\xa0\x80");	 /* a surrogate */
	BAD("\xf4\x90\x80\x80"); /* past U+10FFFF */
	BAD("\x80"
	    "a"); /* a continuation byte first */
	assert_false(atr_is_safe_path("a\0b", 3));
	memset(big, 'a', sizeof(big));
	assert_true(atr_is_safe_path(big, 1024));
	assert_false(atr_is_safe_path(big, 1025));
}

static void test_parse(void **state)
{
	uint64_t sz;
	int64_t v;
	(void)state;
	assert_int_equal(atr_parse_size("10GiB", &sz), 0);
	assert_true(sz == 10ULL << 30);
	assert_int_equal(atr_parse_size("512k", &sz), 0);
	assert_true(sz == 512 * 1024);
	assert_int_equal(atr_parse_size("1048576", &sz), 0);
	assert_int_equal(atr_parse_size("lots", &sz), ATR_EINVAL);
	assert_int_equal(atr_parse_size("5X", &sz), ATR_EINVAL);
	assert_int_equal(atr_parse_size("-5", &sz), ATR_EINVAL);
	assert_int_equal(atr_parse_i64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(atr_parse_i64("101", 0, 100, &v), ATR_EINVAL);
	assert_int_equal(atr_parse_i64("4x", 0, 100, &v), ATR_EINVAL);
	assert_int_equal(atr_parse_i64("", 0, 100, &v), ATR_EINVAL);
	assert_int_equal(atr_parse_i64(" 4", 0, 100, &v), ATR_EINVAL);
}

static void test_buf(void **state)
{
	struct atr_buf b;
	char *s;
	(void)state;
	atr_buf_init(&b, 10);
	assert_int_equal(atr_buf_puts(&b, "hello"), 0);
	assert_int_equal(atr_buf_printf(&b, "%d", 12345), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(atr_buf_puts(&b, "x"), ATR_ETOOBIG);
	assert_string_equal(b.data, "hello12345");
	atr_buf_consume(&b, 5);
	assert_string_equal(b.data, "12345");
	s = atr_buf_steal(&b);
	assert_string_equal(s, "12345");
	free(s);
	assert_null(b.data);
	atr_buf_init(&b, 4);
	assert_int_equal(atr_buf_printf(&b, "%s", "too long"), ATR_ETOOBIG);
	s = atr_buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
}

/* The printf-free number writers agree with printf, at the edges too. */
static void test_fmt(void **state)
{
	const int64_t cases[] = { 0, 1, -1, 9, 10, -10, 99, 100, 4294967296LL, INT64_MAX, INT64_MIN };
	char got[32], want[32];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "%lld", (long long)cases[i]);
		assert_int_equal(atr_fmt_i64(got, cases[i]), strlen(want));
		assert_string_equal(got, want);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)cases[i]);
		assert_int_equal(atr_fmt_u64(got, (uint64_t)cases[i]), strlen(want));
		assert_string_equal(got, want);
		snprintf(want, sizeof(want), "%016llx", (unsigned long long)cases[i]);
		atr_fmt_hex64(got, (uint64_t)cases[i]);
		assert_string_equal(got, want);
	}
}

static void never(uv_timer_t *t)
{
	(void)t;
	fail_msg("the timer left open must not fire");
}

/* atr_loop_close with handles left on the loop: what it logs (stderr, into a file meanwhile). */
static int loop_close_logged(uv_loop_t *loop, char *log, size_t cap)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO), left;
	size_t n;

	assert_non_null(f);
	assert_true(saved >= 0);
	atr_log_flush();
	assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
	left = atr_loop_close(loop);
	atr_log_flush();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(log, 1, cap - 1, f);
	log[n] = 0;
	fclose(f);
	return left;
}

static void test_loop_close(void **state)
{
	uv_loop_t loop;
	uv_timer_t active;
	uv_prepare_t inactive;
	uv_idle_t closing;
	char log[2048];
	(void)state;

	/* nothing left: closed, 0, nothing said */
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(loop_close_logged(&loop, log, sizeof(log)), 0);
	assert_string_equal(log, "");

	/* three forgotten handles: each named, all closed, the loop closed (LeakSanitizer would
	 * see its memory otherwise), and a count to fail on */
	assert_int_equal(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &active);
	uv_timer_start(&active, never, 60000, 0);
	uv_prepare_init(&loop, &inactive);
	uv_idle_init(&loop, &closing);
	uv_close((uv_handle_t *)&closing, NULL); /* closed, but the loop never ran its close */
	assert_int_equal(loop_close_logged(&loop, log, sizeof(log)), 3);
	assert_non_null(strstr(log, "handle 'timer' left open at exit (active, not closing)"));
	assert_non_null(strstr(log, "handle 'prepare' left open at exit (inactive, not closing)"));
	assert_non_null(strstr(log, "handle 'idle' left open at exit (inactive, closing)"));
	assert_non_null(strstr(log, "the loop still had open handles at exit: 3"));
	assert_null(strstr(log, "cannot be closed"));
	assert_true(uv_is_closing((uv_handle_t *)&active));
	assert_true(uv_is_closing((uv_handle_t *)&inactive));
}

static void test_utf8_paths(void **state)
{
	(void)state;
	static const char ok[] = "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80";
	static const char dir[] = "donn\xc3\xa9"
				  "es/x.csv";

	assert_true(atr_utf8_valid(ok, sizeof ok - 1));
	assert_false(atr_utf8_valid("a\xff"
				    "b",
				    3));		     /* not UTF-8 at all */
	assert_false(atr_utf8_valid("\xc0\xaf", 2));	     /* overlong '/' */
	assert_false(atr_utf8_valid("\xe0\x80\xaf", 3));     /* overlong, three bytes */
	assert_false(atr_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
	assert_false(atr_utf8_valid("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
	assert_false(atr_utf8_valid("\xc3", 1));	     /* cut short */
	assert_false(atr_is_safe_path("a\xff"
				      "b",
				      3));
	assert_false(atr_is_safe_path("\xc0\xaf", 2));
	assert_true(atr_is_safe_path(dir, sizeof dir - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_paths),  cmocka_unit_test(test_time), cmocka_unit_test(test_clock_seam),
		cmocka_unit_test(test_b64_and_hex), cmocka_unit_test(test_slug), cmocka_unit_test(test_safe_path),
		cmocka_unit_test(test_parse),	    cmocka_unit_test(test_buf),	 cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_loop_close),
	};
	atr_log_setup(ATR_LOG_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
