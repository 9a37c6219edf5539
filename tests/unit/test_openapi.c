/*
 * test_openapi.c: the pieces of the OpenAPI document (src/api/openapi*.c) without a daemon:
 * each body field type as JSON Schema (what atr_json_validate accepts; the types of a shape
 * with their patterns, also with every allocation failing in turn), query parameters,
 * and the document of small route tables: {path...} becomes {path}, GET/PUT/DELETE of one
 * path share one path item, the answers follow the row, a table it cannot describe gives
 * NULL. The whole document is checked against a running daemon in
 * tests/integration/test_openapi.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static void h(struct atr_req *r)
{
	(void)r;
}

/* The schema's JSON text, compact with sorted keys, for exact comparisons. */
static void assert_schema(json_t *s, const char *want)
{
	char *got;

	assert_non_null(s);
	got = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
	if (strcmp(got, want))
		fprintf(stderr, "got  %s\nwant %s\n", got, want);
	assert_string_equal(got, want);
	free(got);
	json_decref(s);
}

static json_t *field(enum atr_ftype t, unsigned flags, int64_t min, int64_t max, const char *enums,
		     const struct atr_field *sub)
{
	struct atr_field f = { "x", t, flags, min, max, enums, sub };
	return api_openapi_field_schema(&f);
}

static const struct atr_field inner[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ "n", ATR_F_INT, 0, 0, 0, NULL, NULL },
	{ 0 },
};

static void test_field_types(void **state)
{
	(void)state;
	/* strings: 1..4096 bytes unless told; required means not empty; enums and null */
	assert_schema(field(ATR_F_STRING, 0, 0, 0, NULL, NULL), "{\"maxLength\":4096,\"type\":\"string\"}");
	assert_schema(field(ATR_F_STRING, ATR_FF_REQUIRED, 0, 64, NULL, NULL),
		      "{\"maxLength\":64,\"minLength\":1,\"type\":\"string\"}");
	assert_schema(field(ATR_F_STRING, ATR_FF_NULLABLE, 8, 256, "a|b", NULL),
		      "{\"enum\":[\"a\",\"b\",null],\"maxLength\":256,\"minLength\":8,\"type\":[\"string\",\"null\"]}");
	assert_schema(field(ATR_F_SLUG, 0, 0, 0, NULL, NULL),
		      "{\"pattern\":\"^[a-z0-9][a-z0-9-]{0,62}$\",\"type\":\"string\"}");
	assert_schema(field(ATR_F_SLUG, ATR_FF_NULLABLE, 1, 63, NULL, NULL),
		      "{\"pattern\":\"^[a-z0-9][a-z0-9-]{0,62}$\",\"type\":[\"string\",\"null\"]}");
	assert_schema(field(ATR_F_TIME, 0, 0, 0, NULL, NULL), "{\"format\":\"date-time\",\"type\":\"string\"}");
	/* integers: bounds only when given (0,0: none) */
	assert_schema(field(ATR_F_INT, 0, 0, 0, NULL, NULL), "{\"type\":\"integer\"}");
	assert_schema(field(ATR_F_INT, ATR_FF_NULLABLE, -1, 255, NULL, NULL),
		      "{\"maximum\":255,\"minimum\":-1,\"type\":[\"integer\",\"null\"]}");
	assert_schema(field(ATR_F_NUMBER, 0, 0, 0, NULL, NULL), "{\"type\":\"number\"}");
	assert_schema(field(ATR_F_BOOL, 0, 0, 0, NULL, NULL), "{\"type\":\"boolean\"}");
	/* objects: nested fields, required ones listed, unknown ones refused; NULL sub: any object */
	assert_schema(field(ATR_F_OBJECT, 0, 0, 0, NULL, inner),
		      "{\"additionalProperties\":false,\"properties\":{\"n\":{\"type\":\"integer\"},\"name\":{"
		      "\"pattern\":\"^[a-z0-9][a-z0-9-]{0,62}$\",\"type\":\"string\"}},\"required\":[\"name\"],"
		      "\"type\":\"object\"}");
	assert_schema(field(ATR_F_OBJECT, ATR_FF_NULLABLE, 0, 0, NULL, NULL), "{\"type\":[\"object\",\"null\"]}");
	assert_schema(field(ATR_F_ARRAY, 0, 0, 100, NULL, inner),
		      "{\"items\":{\"additionalProperties\":false,\"properties\":{\"n\":{\"type\":\"integer\"},"
		      "\"name\":{\"pattern\":\"^[a-z0-9][a-z0-9-]{0,62}$\",\"type\":\"string\"}},\"required\":["
		      "\"name\"],\"type\":\"object\"},\"maxItems\":100,\"type\":\"array\"}");
	assert_schema(field(ATR_F_ARRAY, 0, 0, 0, NULL, NULL), "{\"type\":\"array\"}");
	assert_schema(field(ATR_F_STRMAP, 0, 0, 32, NULL, NULL),
		      "{\"additionalProperties\":{\"maxLength\":4096,\"type\":\"string\"},\"maxProperties\":32,"
		      "\"propertyNames\":{\"maxLength\":256,\"minLength\":1},\"type\":\"object\"}");
	assert_schema(field(ATR_F_STRLIST, 0, 0, 16, NULL, NULL),
		      "{\"items\":{\"maxLength\":4096,\"minLength\":1,\"type\":\"string\"},\"maxItems\":16,"
		      "\"type\":\"array\"}");
	/* any value: no type at all (null included) */
	assert_schema(field(ATR_F_ANY, ATR_FF_NULLABLE, 0, 0, NULL, NULL), "{}");
	assert_schema(field(ATR_F_ANY, 0, 0, 65536, NULL, NULL),
		      "{\"description\":\"any JSON value, at most 65536 bytes encoded\"}");
	/* a version number or an alias: the string bounds apply to the string only */
	assert_schema(field(ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 0, 64, NULL, NULL),
		      "{\"oneOf\":[{\"type\":\"integer\"},{\"maxLength\":64,\"minLength\":1,\"type\":\"string\"}]}");
	assert_schema(field(ATR_F_INT_OR_STRING, ATR_FF_NULLABLE, 1, 63, NULL, NULL),
		      "{\"oneOf\":[{\"type\":\"integer\"},{\"maxLength\":63,\"minLength\":1,\"type\":\"string\"},{"
		      "\"type\":\"null\"}]}");
	/* the table that accepts only {} */
	assert_schema(api_openapi_object_schema(atr_schema_empty),
		      "{\"additionalProperties\":false,\"properties\":{},\"type\":\"object\"}");
}

static void test_query_params(void **state)
{
	const struct atr_qparam q[] = {
		ATR_Q_PAGE,
		{ "against", ATR_Q_INT, ATR_QF_REQUIRED, 1, 9, 0, NULL, "the version" },
		{ "state", ATR_Q_ENUM, 0, 0, 0, 0, "on|off", NULL },
		{ "states", ATR_Q_ENUM_LIST, 0, 0, 0, 0, "queued|running", "states" },
		{ "follow", ATR_Q_BOOL, 0, 0, 0, 0, NULL, "stream" },
		{ "since", ATR_Q_TIME, 0, 0, 0, 0, NULL, "from" },
	};
	(void)state;

	assert_schema(api_openapi_query_param(&q[0]),
		      "{\"description\":\"items per page\",\"in\":\"query\",\"name\":\"limit\",\"required\":false,"
		      "\"schema\":{\"default\":50,\"maximum\":1000,\"minimum\":1,\"type\":\"integer\"}}");
	assert_schema(api_openapi_query_param(&q[1]),
		      "{\"description\":\"the next_cursor of the previous page\",\"in\":\"query\",\"name\":\"cursor\","
		      "\"required\":false,\"schema\":{\"maxLength\":2048,\"minLength\":1,\"type\":\"string\"}}");
	/* a default outside the range (0 for 1..9) means "absent": not written */
	assert_schema(api_openapi_query_param(&q[2]),
		      "{\"description\":\"the version\",\"in\":\"query\",\"name\":\"against\",\"required\":true,"
		      "\"schema\":{\"maximum\":9,\"minimum\":1,\"type\":\"integer\"}}");
	assert_schema(api_openapi_query_param(&q[3]), "{\"in\":\"query\",\"name\":\"state\",\"required\":false,"
						      "\"schema\":{\"enum\":[\"on\",\"off\"],\"type\":\"string\"}}");
	assert_schema(api_openapi_query_param(&q[4]),
		      "{\"description\":\"states\",\"explode\":false,\"in\":\"query\",\"name\":\"states\","
		      "\"required\":false,\"schema\":{\"items\":{\"enum\":[\"queued\",\"running\"],\"type\":"
		      "\"string\"},\"minItems\":1,\"type\":\"array\"},\"style\":\"form\"}");
	assert_schema(api_openapi_query_param(&q[5]),
		      "{\"description\":\"stream\",\"in\":\"query\",\"name\":\"follow\",\"required\":false,"
		      "\"schema\":{\"default\":false,\"type\":\"boolean\"}}");
	assert_schema(api_openapi_query_param(&q[6]),
		      "{\"description\":\"from\",\"in\":\"query\",\"name\":\"since\",\"required\":false,"
		      "\"schema\":{\"format\":\"date-time\",\"type\":\"string\"}}");
}

static const struct atr_field body[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 0, 64, NULL, NULL },
	{ 0 },
};

static const struct atr_route files[] = {
	{ .method = "GET",
	  .pattern = "/p/{project}/files/{path...}",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .resource = ATR_RES_PROJECT,
	  .role = ATR_PROLE_VIEWER,
	  .flags = ATR_RF_JOB_OK,
	  .name = "files.get",
	  .produces = "application/octet-stream" },
	{ .method = "HEAD", .pattern = "/p/{project}/files/{path...}", .handler = h, .name = "files.head" },
	{ .method = "PUT",
	  .pattern = "/p/{project}/files/{path...}",
	  .handler = h,
	  .access = ATR_ACCESS_USER,
	  .resource = ATR_RES_PROJECT,
	  .role = ATR_PROLE_EDITOR,
	  .flags = ATR_RF_STREAM,
	  .status = 201,
	  .name = "files.put" },
	{ .method = "DELETE",
	  .pattern = "/p/{project}/files/{path...}",
	  .handler = h,
	  .access = ATR_ACCESS_ADMIN,
	  .status = 204,
	  .name = "files.delete" },
	{ .method = "POST",
	  .pattern = "/things",
	  .handler = h,
	  .access = ATR_ACCESS_PUBLIC,
	  .body = body,
	  .status = 201,
	  .name = "things.create" },
};

static json_t *op(json_t *d, const char *path, const char *method)
{
	return json_object_get(json_object_get(json_object_get(d, "paths"), path), method);
}

static void assert_statuses(json_t *o, const char *want)
{
	char got[128] = "";
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(o, "responses"), k, v)
	{
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", *got ? " " : "", k);
	}
	assert_string_equal(got, want);
}

static void test_document_of_a_table(void **state)
{
	json_t *d = api_openapi_build(files, sizeof(files) / sizeof(files[0])), *item, *get, *put, *del, *post;
	char *text;
	(void)state;

	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "openapi")), "3.1.0");
	/* one path item for GET, PUT and DELETE; HEAD is not listed */
	assert_int_equal(json_object_size(json_object_get(d, "paths")), 2);
	item = json_object_get(json_object_get(d, "paths"), "/p/{project}/files/{path}");
	assert_non_null(item);
	assert_int_equal(json_object_size(item), 3);
	assert_null(json_object_get(item, "head"));
	get = op(d, "/p/{project}/files/{path}", "get");
	put = op(d, "/p/{project}/files/{path}", "put");
	del = op(d, "/p/{project}/files/{path}", "delete");
	post = op(d, "/things", "post");
	assert_string_equal(json_string_value(json_object_get(get, "operationId")), "files_get");
	assert_string_equal(json_string_value(json_array_get(json_object_get(get, "tags"), 0)), "files");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(get, "parameters"), 1), "name")),
		"path");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(get, "parameters"), 1),
								 "description")),
			       "may contain '/'"));
	assert_non_null(
		json_object_get(json_object_get(json_object_get(json_object_get(get, "responses"), "200"), "content"),
				"application/octet-stream"));
	assert_string_equal(json_string_value(json_object_get(get, "x-atrium-role")), "viewer");
	assert_string_equal(json_string_value(json_object_get(get, "x-atrium-resource")), "project");
	assert_non_null(strstr(json_string_value(json_object_get(get, "description")),
			       "Needs a viewer of the project; job tokens of the project accepted"));
	/* answers from the row: a read needs no 409; a streamed write has bytes, 413 and 409 */
	assert_statuses(get, "200 400 401 403 404 default");
	assert_statuses(put, "201 400 401 403 404 409 413 default");
	assert_non_null(json_object_get(json_object_get(json_object_get(put, "requestBody"), "content"),
					"application/octet-stream"));
	assert_statuses(del, "204 400 401 403 404 default");
	assert_null(json_object_get(json_object_get(json_object_get(del, "responses"), "204"), "content"));
	assert_string_equal(json_string_value(json_object_get(del, "x-atrium-access")), "admin");
	assert_null(json_object_get(del, "x-atrium-role"));
	/* public, JSON body: no token, no 401/403, 415 for other types, the body required */
	assert_statuses(post, "201 400 413 415 default");
	assert_int_equal(json_array_size(json_object_get(post, "security")), 0);
	assert_true(json_is_true(json_object_get(json_object_get(post, "requestBody"), "required")));
	text = json_dumps(json_object_get(d, "paths"), JSON_COMPACT);
	assert_null(strstr(text, "...}"));
	free(text);
	json_decref(d);
}

static void test_tables_it_cannot_describe(void **state)
{
	const struct atr_route twice[] = {
		{ .method = "GET", .pattern = "/a/{x...}", .handler = h, .name = "a.one" },
		{ .method = "GET", .pattern = "/a/{x}", .handler = h, .name = "a.two" },
	};
	const struct atr_route open_brace[] = {
		{ .method = "GET", .pattern = "/a/{x", .handler = h, .name = "a.open" },
	};
	(void)state;

	assert_null(api_openapi_build(twice, 2));
	assert_null(api_openapi_build(open_brace, 1));
}

/* jansson's allocations, the nth of which fails (0: none). */
static long alloc_count, alloc_fail_at;

static void *failing_malloc(size_t n)
{
	if (alloc_fail_at && ++alloc_count == alloc_fail_at)
		return NULL;
	return malloc(n);
}

/* Each allocation in turn fails: the document is whole or NULL, and nothing leaks (LSan). */
static void test_out_of_memory(void **state)
{
	json_t *whole = api_openapi_build(files, sizeof(files) / sizeof(files[0]));
	long n;
	(void)state;

	assert_non_null(whole);
	json_set_alloc_funcs(failing_malloc, free);
	for (n = 1;; n++) {
		json_t *d;
		alloc_count = 0;
		alloc_fail_at = n;
		d = api_openapi_build(files, sizeof(files) / sizeof(files[0]));
		if (alloc_count < n) { /* no allocation failed: done */
			alloc_fail_at = 0;
			assert_true(json_equal(d, whole));
			json_decref(d);
			break;
		}
		alloc_fail_at = 0;
		if (d && !json_equal(d, whole))
			fprintf(stderr, "allocation %ld failed and the document is not whole\n", n);
		assert_true(!d || json_equal(d, whole));
		json_decref(d);
	}
	json_set_alloc_funcs(malloc, free);
	assert_true(n > 100);
	json_decref(whole);
}

/* The types of a shape: their patterns, ranges and narrower maps, as the validator applies them. */
static void test_shape_types(void **state)
{
	(void)state;
	assert_schema(
		field(ATR_F_NAME, ATR_FF_REQUIRED, 1, 63, NULL, NULL),
		"{\"maxLength\":63,\"minLength\":1,\"pattern\":\"^[A-Za-z0-9][A-Za-z0-9._-]*$\",\"type\":\"string\"}");
	assert_schema(field(ATR_F_URL, 0, 8, 255, NULL, NULL),
		      "{\"maxLength\":255,\"minLength\":8,\"pattern\":\"^https?://\",\"type\":\"string\"}");
	assert_schema(
		field(ATR_F_URL_PATH, ATR_FF_NULLABLE, 1, 255, NULL, NULL),
		"{\"maxLength\":255,\"minLength\":1,\"pattern\":\"^/[!\\\"$->@-~]*$\",\"type\":[\"string\",\"null\"]}");
	assert_schema(field(ATR_F_SEGMENT, 0, 1, 128, NULL, NULL),
		      "{\"maxLength\":128,\"minLength\":1,\"pattern\":\"^(?!\\\\.\\\\.?$)[^/"
		      "\\\\\\\\\\\\x00-\\\\x1f\\\\x7f]+$\","
		      "\"type\":\"string\"}");
	/* numbers: bounds only when given, as integers */
	assert_schema(field(ATR_F_NUMBER, 0, 0, 1, NULL, NULL), "{\"maximum\":1,\"minimum\":0,\"type\":\"number\"}");
	/* a command: a non-empty string, or 1-4096 strings the first of which is not empty */
	assert_schema(
		field(ATR_F_COMMAND, ATR_FF_REQUIRED, 0, 1 << 20, NULL, NULL),
		"{\"description\":\"a string run by /bin/sh -c, or the program and its arguments; at most 1048576 "
		"bytes encoded\",\"oneOf\":[{\"minLength\":1,\"type\":\"string\"},{\"items\":{\"type\":\"string\"},"
		"\"maxItems\":4096,\"minItems\":1,\"prefixItems\":[{\"minLength\":1,\"type\":\"string\"}],\"type\":"
		"\"array\"}]}");
	assert_schema(field(ATR_F_COMMAND, ATR_FF_NULLABLE, 0, 0, NULL, NULL),
		      "{\"description\":\"a string run by /bin/sh -c, or the program and its arguments\",\"oneOf\":[{"
		      "\"minLength\":1,\"type\":\"string\"},{\"items\":{\"type\":\"string\"},\"maxItems\":4096,"
		      "\"minItems\":1,\"prefixItems\":[{\"minLength\":1,\"type\":\"string\"}],\"type\":\"array\"},{"
		      "\"type\":\"null\"}]}");
	/* maps: environment names and labels narrower than a plain map's, a patch's values nullable */
	assert_schema(
		field(ATR_F_ENV, 0, 0, 256, NULL, NULL),
		"{\"additionalProperties\":{\"maxLength\":4096,\"type\":\"string\"},\"maxProperties\":256,"
		"\"propertyNames\":{\"maxLength\":256,\"minLength\":1,\"not\":{\"enum\":[\"CUDA_VISIBLE_DEVICES\","
		"\"CUDA_DEVICE_ORDER\",\"PORT\"]},\"pattern\":\"^(?!ATRIUM_)[A-Za-z_][A-Za-z0-9_]*$\"},\"type\":"
		"\"object\"}");
	assert_schema(
		field(ATR_F_LABELS, 0, 0, 64, NULL, NULL),
		"{\"additionalProperties\":{\"maxLength\":255,\"type\":\"string\"},\"maxProperties\":64,"
		"\"propertyNames\":{\"maxLength\":63,\"minLength\":1,\"pattern\":\"^[A-Za-z0-9._/-]+$\"},\"type\":"
		"\"object\"}");
	assert_schema(
		field(ATR_F_STRMAP_PATCH, 0, 0, 100, NULL, NULL),
		"{\"additionalProperties\":{\"maxLength\":4096,\"type\":[\"string\",\"null\"]},\"maxProperties\":100,"
		"\"propertyNames\":{\"maxLength\":256,\"minLength\":1},\"type\":\"object\"}");
	/* lists: of ids; an array's min */
	assert_schema(field(ATR_F_IDLIST, 0, 0, 4096, NULL, NULL),
		      "{\"items\":{\"minimum\":1,\"type\":\"integer\"},\"maxItems\":4096,\"type\":\"array\"}");
	assert_schema(field(ATR_F_ARRAY, 0, 1, 4, NULL, NULL), "{\"maxItems\":4,\"minItems\":1,\"type\":\"array\"}");
	/* a version number or one of the strings enums names */
	assert_schema(
		field(ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 0, 16, "latest", NULL),
		"{\"oneOf\":[{\"type\":\"integer\"},{\"enum\":[\"latest\"],\"maxLength\":16,\"minLength\":1,\"type\":"
		"\"string\"}]}");
}

/* Each allocation of each shape type's schema in turn fails: the schema is whole or NULL. */
static void test_shape_types_out_of_memory(void **state)
{
	static const struct atr_field shapes[] = {
		{ "a", ATR_F_NAME, 0, 1, 63, NULL, NULL },
		{ "b", ATR_F_URL, 0, 8, 255, NULL, NULL },
		{ "c", ATR_F_URL_PATH, 0, 1, 255, NULL, NULL },
		{ "d", ATR_F_SEGMENT, 0, 1, 128, NULL, NULL },
		{ "e", ATR_F_NUMBER, 0, 0, 1, NULL, NULL },
		{ "f", ATR_F_COMMAND, ATR_FF_NULLABLE, 0, 64, NULL, NULL },
		{ "g", ATR_F_ENV, 0, 0, 256, NULL, NULL },
		{ "h", ATR_F_LABELS, 0, 0, 64, NULL, NULL },
		{ "i", ATR_F_STRMAP_PATCH, 0, 0, 100, NULL, NULL },
		{ "j", ATR_F_IDLIST, 0, 1, 4096, NULL, NULL },
		{ "k", ATR_F_INT_OR_STRING, 0, 0, 16, "latest", NULL },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		json_t *whole = api_openapi_field_schema(&shapes[i]);
		assert_non_null(whole);
		json_set_alloc_funcs(failing_malloc, free);
		for (long n = 1;; n++) {
			json_t *s;
			alloc_count = 0;
			alloc_fail_at = n;
			s = api_openapi_field_schema(&shapes[i]);
			alloc_fail_at = 0;
			if (alloc_count < n) { /* no allocation failed: done */
				assert_true(s && json_equal(s, whole));
				json_decref(s);
				break;
			}
			assert_true(!s || json_equal(s, whole));
			json_decref(s);
		}
		json_set_alloc_funcs(malloc, free);
		json_decref(whole);
	}
}

/* The real table: one operation per row. */
static void test_route_table(void **state)
{
	json_t *d = api_openapi_build(atr_routes, atr_routes_count), *item;
	const char *path;
	size_t ops = 0;
	(void)state;

	assert_non_null(d);
	json_object_foreach(json_object_get(d, "paths"), path, item) ops += json_object_size(item);
	assert_int_equal(ops, atr_routes_count);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_types),
		cmocka_unit_test(test_query_params),
		cmocka_unit_test(test_document_of_a_table),
		cmocka_unit_test(test_tables_it_cannot_describe),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_shape_types),
		cmocka_unit_test(test_shape_types_out_of_memory),
		cmocka_unit_test(test_route_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
