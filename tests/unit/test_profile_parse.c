/*
 * test_profile_parse.c: the text parsers under the profile build and the scoring library
 * (src/core/scoring_json.c sc_number, src/core/scoring_text.c the CSV splitter and the record
 * reader's UTF-8 check), whose fast paths (a number in one pass, a record without quotes split
 * eight bytes at a time) must give exactly what the general paths give: numbers bit for bit
 * equal to strtod's correctly rounded ones, fields equal to a plain reference splitter's.
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
#include "atrium/profile.h"
#include "core/scoring_internal.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* sc_number(s) is OK and bit for bit strtod's value of s. */
static void assert_same_as_strtod(const char *s)
{
	double got = 0, want;
	char *end;
	int rc = sc_number(s, strlen(s), &got);

	want = strtod(s, &end);
	if (rc != SC_NUM_OK || memcmp(&got, &want, sizeof(got)) != 0)
		fail_msg("'%s': rc %d, %.17g where strtod gives %.17g", s, rc, got, want);
}

static void test_number_edges(void **state)
{
	static const char *const ok[] = {
		"0",
		"-0",
		"+5",
		".5",
		"5.",
		"-.25",
		"1e5",
		"1E5",
		"1e+5",
		"1e-5",
		"2.5E-3",
		"-1234.5678",
		"1e22",
		"1e23",
		"1e-22",
		"1e-23",
		"123456789012345678",
		"1234567890123456789",
		"12345678901234567890",
		"9007199254740992",
		"9007199254740993",
		"9007199254740995",
		"0.1",
		"0.30000000000000004",
		"1.7976931348623157e308",
		"4.9e-324",
		"1e-400",
		"00012",
		"-00.000125",
		"123456789012345678901234567",
		"0.000000000000000000000000001",
		"3.14159265358979323846264338327950288",
		"1e0",
		"1e-0",
		"7e+022",
		"99999999999999999999e-20",
	};
	static const char *const blank[] = { " 7", "7 ", "\t8", " -1.5e3\t" };
	double d;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		assert_same_as_strtod(ok[i]);
	for (size_t i = 0; i < sizeof(blank) / sizeof(*blank); i++)
		assert_same_as_strtod(blank[i]);
	/* NaN and infinity texts: not numbers for a profile */
	assert_int_equal(sc_number("nan", 3, &d), SC_NUM_NAN);
	assert_int_equal(sc_number("NaN", 3, &d), SC_NUM_NAN);
	assert_int_equal(sc_number("-inf", 4, &d), SC_NUM_NAN);
	assert_int_equal(sc_number("Infinity", 8, &d), SC_NUM_NAN);
	/* out of range */
	assert_int_equal(sc_number("1e400", 5, &d), SC_NUM_RANGE);
	assert_int_equal(sc_number("-1e400", 6, &d), SC_NUM_RANGE);
}

/* Texts that are not the grammar. */
static void test_number_bad(void **state)
{
	static const char *const bad[] = {
		"",	"-",	 "+",	".",  "e5",    "1e",  "1e+", "--5",	      "1.2.3",
		"0x10", "1_000", "1,5", "5-", "1e5.5", "abc", "1 2", "1e99999999999x"
	};
	double d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (sc_number(bad[i], strlen(bad[i]), &d) != SC_NUM_BAD)
			fail_msg("'%s' should not be a number", bad[i]);
}

/* Random decimals of every shape the fast path takes or refuses, against strtod. */
static void test_number_random(void **state)
{
	char s[64];

	(void)state;
	for (int n = 0; n < 300000; n++) {
		uint64_t r = next();
		int ndig = 1 + (int)(r % 22), point = (int)((r >> 8) % (unsigned)(ndig + 2)) - 1, k = 0;
		if ((r >> 16) & 1)
			s[k++] = (r >> 17) & 1 ? '-' : '+';
		for (int i = 0; i < ndig; i++) {
			if (i == point)
				s[k++] = '.';
			s[k++] = (char)('0' + next() % 10);
		}
		if ((r >> 20) % 4 == 0)
			k += snprintf(s + k, sizeof(s) - (size_t)k, "e%d", (int)((r >> 24) % 61) - 30);
		s[k] = 0;
		assert_same_as_strtod(s);
	}
}

/* ---- CSV ---- */

struct ref_fields {
	char f[64][64];
	size_t len[64];
	size_t n;
};

/* The CSV rules written plainly: quoted fields ("" a quote) end at a quote followed by ',' or
 * the end; an unquoted field may hold no quote and no CR. false: a syntax error. */
static bool ref_split(const char *r, size_t len, struct ref_fields *out)
{
	size_t i = 0;

	out->n = 0;
	for (;;) {
		size_t o = 0;
		if (i < len && r[i] == '"') {
			for (i++;; i++) {
				if (i >= len)
					return false;
				if (r[i] == '"' && i + 1 < len && r[i + 1] == '"') {
					out->f[out->n][o++] = '"';
					i++;
				} else if (r[i] == '"') {
					i++;
					break;
				} else {
					out->f[out->n][o++] = r[i];
				}
			}
			if (i < len && r[i] != ',')
				return false;
		} else {
			for (; i < len && r[i] != ','; i++) {
				if (r[i] == '"' || r[i] == '\r')
					return false;
				out->f[out->n][o++] = r[i];
			}
		}
		out->len[out->n++] = o;
		if (i >= len)
			return true;
		i++;
	}
}

static void assert_split(const char *rec, size_t len)
{
	struct sc_fields fs = { 0 };
	struct atr_scoring_error err = { 0 };
	struct ref_fields want;
	bool ok = ref_split(rec, len, &want);
	int rc = sc_csv_split(&fs, rec, len, 1, &err);

	if (!ok) {
		if (rc >= 0)
			fail_msg("'%.*s' should be refused", (int)len, rec);
	} else {
		if (rc != 0 || fs.n != want.n)
			fail_msg("'%.*s': rc %d, %zu fields, want %zu", (int)len, rec, rc, fs.n, want.n);
		for (size_t i = 0; i < fs.n; i++)
			if (fs.f[i].len != want.len[i] || memcmp(fs.f[i].p, want.f[i], want.len[i]) != 0)
				fail_msg("'%.*s': field %zu differs", (int)len, rec, i);
	}
	sc_fields_release(&fs);
}

static void test_csv_split_cases(void **state)
{
	static const char *const recs[] = {
		"a,b,c",
		"",
		",",
		",,",
		"a,",
		",a",
		"1.5,-2,,x,",
		"\"a,b\",c",
		"\"he said \"\"hi\"\"\",2",
		"\"\"",
		"\"\",\"\"",
		"\"a\r\nb\",c", /* CR and LF inside quotes are text */
		"abcdefg,",	/* a comma as a word's last byte */
		"abcdefgh,ijklmnop,",
		"1234567,12345678,123456789,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
		"x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,x10,x11,x12,x13,x14,x15,x16,x17,x18,x19,x20",
		"plain,then \"a quote,c", /* refused: a quote inside an unquoted field */
		"abcdefghijklmnop\"",	  /* refused, in the tail */
		"a,b\rc",		  /* refused: a CR outside quotes */
		"abcdefghij\r",
		"\"open",
		"\"a\"b,c", /* refused: text after the closing quote */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(recs) / sizeof(*recs); i++)
		assert_split(recs[i], strlen(recs[i]));
}

static void test_csv_split_messages(void **state)
{
	struct sc_fields fs = { 0 };
	struct atr_scoring_error err = { 0 };
	const char *rec = "aaaaaaaaaaaa,bb\"b,c";

	(void)state;
	assert_true(sc_csv_split(&fs, rec, strlen(rec), 3, &err) < 0);
	assert_non_null(strstr(err.message, "a quote inside an unquoted field (field 2)"));
	rec = "aaaaaaaaaaaa,b,c\rd";
	assert_true(sc_csv_split(&fs, rec, strlen(rec), 3, &err) < 0);
	assert_non_null(strstr(err.message, "a carriage return outside quotes (field 3)"));
	sc_fields_release(&fs);
}

/* Random records over the bytes that matter, against the reference splitter. */
static void test_csv_split_random(void **state)
{
	static const char alphabet[] = "a1,,,\"\r. ";
	char rec[48];

	(void)state;
	for (int n = 0; n < 200000; n++) {
		size_t len = next() % sizeof(rec);
		int quotes = next() % 3 == 0;
		for (size_t i = 0; i < len; i++) {
			uint64_t r = next() % (sizeof(alphabet) - 1);
			rec[i] = !quotes && (alphabet[r] == '"' || alphabet[r] == '\r') ? 'b' : alphabet[r];
		}
		assert_split(rec, len);
	}
}

/* ---- through a profile: line ends, blanks, bad bytes ---- */

static char *profile_text(const char *csv)
{
	const char *data[1] = { csv };
	size_t lens[1] = { strlen(csv) };
	struct atr_profile_spec spec = { 0 };
	struct atr_profile *p = NULL;
	char why[256];
	json_t *j;
	char *s;

	assert_int_equal(atr_profile_build_mem(data, lens, 1, ATR_PROFILE_CSV, &spec, &p, why, sizeof(why)), 0);
	j = atr_profile_json(p);
	s = json_dumps(j, JSON_REAL_PRECISION(17) | JSON_SORT_KEYS);
	json_decref(j);
	atr_profile_free(p);
	return s;
}

static void test_profile_line_ends(void **state)
{
	const char *lf = "x,y,\"c, d\"\n1.5,-2e3,red\n,7,\"bl\"\"ue\"\nNaN,1e400,red\n-0.25,+3,\"\"\n";
	const char *crlf = "x,y,\"c, d\"\r\n1.5,-2e3,red\r\n,7,\"bl\"\"ue\"\r\nNaN,1e400,red\r\n-0.25,+3,\"\"\r\n";
	char *a, *b;
	json_t *j;

	(void)state;
	a = profile_text(lf);
	b = profile_text(crlf);
	assert_string_equal(a, b);
	j = json_loads(a, 0, NULL);
	/* x: numbers with a null and a NaN text (nulls); y: 1e400 is not a finite number */
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(j, "features"), 0), "type")),
		"numeric");
	assert_int_equal(
		json_integer_value(json_object_get(json_array_get(json_object_get(j, "features"), 0), "nulls")), 2);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(j, "features"), 1), "type")),
		"categorical");
	json_decref(j);
	free(a);
	free(b);
}

static void test_profile_bad_bytes(void **state)
{
	const char *data[1];
	size_t lens[1];
	struct atr_profile_spec spec = { 0 };
	struct atr_profile *p = NULL;
	char why[256];
	/* a byte that is not UTF-8, and a NUL, each after more than eight ASCII bytes */
	static const char bad_utf8[] = "name,value\nabcdefghijkl\xff,1\n";
	static const char nul[] = "name,value\nabcdefghijkl\0m,1\n";

	(void)state;
	data[0] = bad_utf8;
	lens[0] = sizeof(bad_utf8) - 1;
	assert_int_equal(atr_profile_build_mem(data, lens, 1, ATR_PROFILE_CSV, &spec, &p, why, sizeof(why)),
			 ATR_EUNPROCESSABLE);
	assert_non_null(strstr(why, "byte 0xff is not UTF-8"));
	data[0] = nul;
	lens[0] = sizeof(nul) - 1;
	assert_int_equal(atr_profile_build_mem(data, lens, 1, ATR_PROFILE_CSV, &spec, &p, why, sizeof(why)),
			 ATR_EUNPROCESSABLE);
	assert_non_null(strstr(why, "a NUL byte"));
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number_edges),	   cmocka_unit_test(test_number_bad),
		cmocka_unit_test(test_number_random),	   cmocka_unit_test(test_csv_split_cases),
		cmocka_unit_test(test_csv_split_messages), cmocka_unit_test(test_csv_split_random),
		cmocka_unit_test(test_profile_line_ends),  cmocka_unit_test(test_profile_bad_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
