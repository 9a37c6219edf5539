/* test_router.c: route matching, parameters, 404/405, percent-decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "atrium/router.h"

static void h(struct atr_req *r)
{
	(void)r;
}

static const struct atr_route routes[] = {
	{ .method = "GET",
	  .pattern = "/api/v1/projects",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .name = "projects.list" },
	{ .method = "POST",
	  .pattern = "/api/v1/projects",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .name = "projects.create" },
	{ .method = "GET",
	  .pattern = "/api/v1/projects/{project}",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .name = "projects.get" },
	{ .method = "PUT",
	  .pattern = "/api/v1/projects/{p}/datasets/{d}/versions/{v}/files/{path...}",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .name = "files.put" },
	{ .method = "GET",
	  .pattern = "/api/v1/projects/{p}/datasets/{d}/versions/{v}/files/{path...}",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .name = "files.get" },
	{ .method = "DELETE",
	  .pattern = "/api/v1/tokens/{id}",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .name = "tokens.revoke" },
};
#define N (sizeof(routes) / sizeof(routes[0]))

static enum atr_match m(const char *method, const char *path, const struct atr_route **rt, struct atr_req_param *params,
			int *np, char *allow, const char **bad)
{
	static char storage[4096];
	return atr_router_match(routes, N, method, path, storage, params, np, rt, allow, 128, bad);
}

static void test_match(void **state)
{
	const struct atr_route *rt;
	struct atr_req_param p[ATR_MAX_PARAMS];
	int np = 0;
	char allow[128];
	const char *bad = NULL;
	(void)state;

	assert_int_equal(m("GET", "/api/v1/projects", &rt, p, &np, allow, &bad), ATR_MATCH_OK);
	assert_string_equal(rt->name, "projects.list");
	assert_int_equal(np, 0);
	assert_int_equal(m("GET", "/api/v1/projects/vision", &rt, p, &np, allow, &bad), ATR_MATCH_OK);
	assert_string_equal(rt->name, "projects.get");
	assert_int_equal(np, 1);
	assert_string_equal(p[0].value, "vision");
	assert_int_equal(p[0].name_len, 7);
	assert_int_equal(m("HEAD", "/api/v1/projects/vision", &rt, p, &np, allow, &bad), ATR_MATCH_OK);
	assert_int_equal(
		m("PUT", "/api/v1/projects/a/datasets/b/versions/3/files/x/y%20z.csv", &rt, p, &np, allow, &bad),
		ATR_MATCH_OK);
	assert_string_equal(rt->name, "files.put");
	assert_int_equal(np, 4);
	assert_string_equal(p[2].value, "3");
	assert_string_equal(p[3].value, "x/y z.csv");
	assert_int_equal(p[3].name_len, 4);
	/* %2e%2e decodes to ".." here; the artifact path check refuses it later */
	assert_int_equal(m("PUT", "/api/v1/projects/a/datasets/b/versions/3/files/%2e%2e/x", &rt, p, &np, allow, &bad),
			 ATR_MATCH_OK);
	assert_string_equal(p[3].value, "../x");
}

static void test_not_found_and_method(void **state)
{
	const struct atr_route *rt;
	struct atr_req_param p[ATR_MAX_PARAMS];
	int np;
	char allow[128];
	const char *bad = NULL;
	(void)state;

	assert_int_equal(m("GET", "/api/v1/nothing", &rt, p, &np, allow, &bad), ATR_MATCH_NOT_FOUND);
	assert_int_equal(m("GET", "/api/v1/projects/", &rt, p, &np, allow, &bad), ATR_MATCH_NOT_FOUND);
	assert_int_equal(m("GET", "/api/v1/projects/a/b", &rt, p, &np, allow, &bad), ATR_MATCH_NOT_FOUND);
	assert_int_equal(m("GET", "/api/v1/projects/a/datasets/b/versions/3/files", &rt, p, &np, allow, &bad),
			 ATR_MATCH_NOT_FOUND);
	assert_int_equal(m("GET", "", &rt, p, &np, allow, &bad), ATR_MATCH_NOT_FOUND);
	assert_int_equal(m("DELETE", "/api/v1/projects", &rt, p, &np, allow, &bad), ATR_MATCH_BAD_METHOD);
	assert_string_equal(allow, "GET, HEAD, POST");
	assert_int_equal(m("POST", "/api/v1/tokens/4", &rt, p, &np, allow, &bad), ATR_MATCH_BAD_METHOD);
	assert_string_equal(allow, "DELETE");
}

static void test_bad_params(void **state)
{
	const struct atr_route *rt;
	struct atr_req_param p[ATR_MAX_PARAMS];
	int np;
	char allow[128], out[32];
	const char *bad = NULL;
	(void)state;

	assert_int_equal(m("GET", "/api/v1/projects/a%00b", &rt, p, &np, allow, &bad), ATR_MATCH_BAD_PARAM);
	assert_int_equal(strncmp(bad, "project", 7), 0);
	assert_int_equal(m("GET", "/api/v1/projects/a%zz", &rt, p, &np, allow, &bad), ATR_MATCH_BAD_PARAM);
	assert_int_equal(m("GET", "/api/v1/projects/a%0a", &rt, p, &np, allow, &bad), ATR_MATCH_BAD_PARAM);
	assert_int_equal(m("GET", "/api/v1/projects/a%", &rt, p, &np, allow, &bad), ATR_MATCH_BAD_PARAM);
	assert_int_equal(m("GET", "/api/v1/projects/a%4", &rt, p, &np, allow, &bad), ATR_MATCH_BAD_PARAM);
	assert_int_equal(atr_percent_decode("a+b%41", 6, out, 1, 0), 4);
	assert_string_equal(out, "a bA");
	assert_int_equal(atr_percent_decode("a+b", 3, out, 0, 0), 3);
	assert_string_equal(out, "a+b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
