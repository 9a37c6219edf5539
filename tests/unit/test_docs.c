/*
 * test_docs.c: every route of the table is documented in docs/api.md as "### `METHOD PATTERN`",
 * and every flag of `atrium serve` and `atrium worker` has its row in the README's tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/config.h"
#include "atrium/http.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *s;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	return s;
}

static void test_every_route_documented(void **state)
{
	char *doc = slurp("docs/api.md");
	int missing = 0;
	(void)state;
	for (size_t i = 0; i < atr_routes_count; i++) {
		char want[512];
		snprintf(want, sizeof(want), "### `%s %s`", atr_routes[i].method, atr_routes[i].pattern);
		if (!strstr(doc, want)) {
			fprintf(stderr, "docs/api.md lacks: %s\n", want);
			missing++;
		}
	}
	free(doc);
	assert_int_equal(missing, 0);
}

static void test_route_names_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < atr_routes_count; i++)
		for (size_t j = i + 1; j < atr_routes_count; j++) {
			if (!strcmp(atr_routes[i].name, atr_routes[j].name))
				fprintf(stderr, "duplicate route name %s\n", atr_routes[i].name);
			assert_string_not_equal(atr_routes[i].name, atr_routes[j].name);
			if (!strcmp(atr_routes[i].method, atr_routes[j].method))
				assert_string_not_equal(atr_routes[i].pattern, atr_routes[j].pattern);
		}
}

static int missing_flags(const struct atr_opt *opts, const char *doc, const char *what)
{
	int missing = 0;
	for (const struct atr_opt *o = opts; o->name; o++) {
		char want[128];
		snprintf(want, sizeof(want), "| `--%s", o->name);
		if (!strstr(doc, want)) {
			fprintf(stderr, "README.md's %s table lacks a row for --%s\n", what, o->name);
			missing++;
		}
	}
	return missing;
}

static void test_every_flag_documented(void **state)
{
	char *doc = slurp("README.md");
	char *worker = strstr(doc, "`atrium worker` (one per GPU host");
	int missing;
	(void)state;
	assert_non_null(worker);
	missing = missing_flags(atr_worker_opts, worker, "worker");
	*worker = 0; /* what comes before is the server's */
	missing += missing_flags(atr_serve_opts, doc, "serve");
	free(doc);
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_documented),
		cmocka_unit_test(test_route_names_unique),
		cmocka_unit_test(test_every_flag_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
