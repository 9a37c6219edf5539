/*
 * test_openapi.c: GET /api/v1/openapi.json from a running daemon. The document is checked the
 * way an OpenAPI 3.1 validator would check its structure (path templates and path parameters
 * agree both ways, unique operationIds, a 2xx answer everywhere, every $ref resolves, every
 * parameter has name/in/schema, no parameter twice, no HEAD, no two paths that match the same
 * URLs), its operations are exactly the routes documented in docs/api.md and the rows of the
 * route table, and what it says about tokens holds against the daemon. When Python's
 * openapi-spec-validator (Debian: python3-openapi-spec-validator) is installed it validates
 * the document too; otherwise that step is skipped with a message.
 */
#include "harness.h"

#include "atrium/http.h"
#include "atrium/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static json_t *doc;

static const char *const methods[] = { "get", "put", "post", "delete", "patch", "options", "trace", "head" };
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static int setup(void **state)
{
	struct h_resp r;
	(void)state;

	h_server_start(&S, NULL);
	h_req(&S, "GET", "/api/v1/openapi.json", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(h_header(&r, "Content-Type"), "application/json"));
	assert_non_null(r.json);
	doc = json_incref(r.json);
	h_resp_free(&r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(doc);
	h_server_cleanup(&S);
	return 0;
}

/* The {name} parameters of a path template, as a JSON object name -> true. */
static json_t *template_params(const char *path)
{
	json_t *names = json_object();

	for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		char name[64];
		assert_non_null(end);
		assert_true((size_t)(end - p) < sizeof(name));
		memcpy(name, p + 1, (size_t)(end - p - 1));
		name[end - p - 1] = 0;
		assert_null(strstr(name, "...")); /* {path...} must have become {path} */
		assert_null(json_object_get(names, name));
		json_object_set_new(names, name, json_true());
	}
	return names;
}

/* Resolves a local JSON pointer ("#/components/schemas/Error"); NULL when it does not. */
static json_t *resolve(const char *ref)
{
	json_t *at = doc;
	char tok[256];

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	for (const char *p = ref + 2; at && *p;) {
		size_t n = 0;
		for (; *p && *p != '/' && n + 1 < sizeof(tok); p++) {
			if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
				tok[n++] = p[1] == '0' ? '~' : '/';
				p++;
			} else {
				tok[n++] = *p;
			}
		}
		tok[n] = 0;
		if (*p == '/')
			p++;
		at = json_is_array(at) ? json_array_get(at, (size_t)strtoul(tok, NULL, 10)) : json_object_get(at, tok);
	}
	return at;
}

static int check_refs(json_t *v, const char *where)
{
	const char *k;
	json_t *x;
	size_t i;
	int bad = 0;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			if (!strcmp(k, "$ref") && (!json_is_string(x) || !resolve(json_string_value(x)))) {
				fprintf(stderr, "%s: $ref %s does not resolve\n", where,
					json_is_string(x) ? json_string_value(x) : "(not a string)");
				bad++;
			}
			bad += check_refs(x, where);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) bad += check_refs(x, where);
	}
	return bad;
}

/* One operation; its path's template parameters are in tparams. Returns the problems found. */
static int check_operation(const char *path, const char *m, json_t *op, json_t *tparams, json_t *ids)
{
	json_t *params = json_object_get(op, "parameters"), *seen = json_object(), *p, *resp, *sec;
	const char *id = json_string_value(json_object_get(op, "operationId")), *code;
	bool ok2xx = false;
	size_t i;
	int bad = 0;
	const char *k;
	json_t *x;

	if (!id || !*id || json_object_get(ids, id)) {
		fprintf(stderr, "%s %s: operationId missing or not unique (%s)\n", m, path, id ? id : "-");
		bad++;
	} else {
		json_object_set_new(ids, id, json_true());
	}
	json_array_foreach(params, i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *in = json_string_value(json_object_get(p, "in"));
		char key[160];
		if (!name || !in || !json_is_object(json_object_get(p, "schema"))) {
			fprintf(stderr, "%s %s: parameter %zu lacks name, in or schema\n", m, path, i);
			bad++;
			continue;
		}
		snprintf(key, sizeof(key), "%s|%s", in, name);
		if (json_object_get(seen, key)) {
			fprintf(stderr, "%s %s: parameter %s in %s twice\n", m, path, name, in);
			bad++;
		}
		json_object_set_new(seen, key, json_true());
		if (!strcmp(in, "path") &&
		    (!json_is_true(json_object_get(p, "required")) || !json_object_get(tparams, name))) {
			fprintf(stderr, "%s %s: path parameter %s not required or not in the template\n", m, path,
				name);
			bad++;
		}
		if (strcmp(in, "path") && strcmp(in, "query") && strcmp(in, "header") && strcmp(in, "cookie")) {
			fprintf(stderr, "%s %s: parameter %s in '%s'\n", m, path, name, in);
			bad++;
		}
	}
	json_object_foreach(tparams, k, x)
	{
		char key[160];
		snprintf(key, sizeof(key), "path|%s", k);
		if (!json_object_get(seen, key)) {
			fprintf(stderr, "%s %s: template parameter {%s} is not declared\n", m, path, k);
			bad++;
		}
	}
	resp = json_object_get(op, "responses");
	json_object_foreach(resp, code, x)
	{
		ok2xx |= code[0] == '2' && strlen(code) == 3;
		if (!json_object_get(x, "$ref") && !json_is_string(json_object_get(x, "description"))) {
			fprintf(stderr, "%s %s: answer %s has no description\n", m, path, code);
			bad++;
		}
	}
	if (!ok2xx) {
		fprintf(stderr, "%s %s: no 2xx answer\n", m, path);
		bad++;
	}
	sec = json_object_get(op, "security");
	json_array_foreach(sec, i, p)
	{
		json_object_foreach(p, k, x)
		{
			if (!json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"),
					     k)) {
				fprintf(stderr, "%s %s: security scheme %s is not in components\n", m, path, k);
				bad++;
			}
		}
	}
	if (json_object_get(op, "requestBody") &&
	    !json_object_size(json_object_get(json_object_get(op, "requestBody"), "content"))) {
		fprintf(stderr, "%s %s: a request body without content\n", m, path);
		bad++;
	}
	json_decref(seen);
	return bad;
}

static void test_structure(void **state)
{
	json_t *paths = json_object_get(doc, "paths"), *item, *ids = json_object(), *shapes = json_object(), *v;
	const char *path;
	int bad = 0;
	(void)state;

	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "info"), "title")), "Atrium");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "info"), "version")),
			    ATRIUM_VERSION);
	v = h_call(&S, "GET", "/api/v1/version", NULL, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(v, "version")), ATRIUM_VERSION);
	json_decref(v);
	assert_non_null(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Error"));
	assert_true(json_object_size(paths) > 0);
	json_object_foreach(paths, path, item)
	{
		json_t *tparams = template_params(path);
		char shape[512];
		size_t o = 0;
		bool any = false;

		if (path[0] != '/') {
			fprintf(stderr, "path %s does not start with '/'\n", path);
			bad++;
		}
		/* /a/{x} and /a/{y} would match the same URLs: invalid */
		for (const char *p = path; *p && o + 3 < sizeof(shape); p++) {
			shape[o++] = *p;
			if (*p == '{')
				p = strchr(p, '}') - 1;
		}
		shape[o] = 0;
		if (json_object_get(shapes, shape)) {
			fprintf(stderr, "paths %s and %s match the same URLs\n", path,
				json_string_value(json_object_get(shapes, shape)));
			bad++;
		}
		json_object_set_new(shapes, shape, json_string(path));
		if (json_object_get(item, "parameters")) { /* (path-level parameters are not used) */
			fprintf(stderr, "path %s has path-level parameters\n", path);
			bad++;
		}
		for (size_t i = 0; i < NMETHODS; i++) {
			json_t *op = json_object_get(item, methods[i]);
			if (!op)
				continue;
			any = true;
			if (!strcmp(methods[i], "head")) {
				fprintf(stderr, "HEAD %s is listed\n", path);
				bad++;
			}
			bad += check_operation(path, methods[i], op, tparams, ids);
		}
		if (!any) {
			fprintf(stderr, "path %s has no operation\n", path);
			bad++;
		}
		json_decref(tparams);
	}
	bad += check_refs(doc, "document");
	json_decref(ids);
	json_decref(shapes);
	assert_int_equal(bad, 0);
}

/* "GET /a/{path...}" -> "GET /a/{path}" */
static void normalise(char *s)
{
	char *dots;
	while ((dots = strstr(s, "...}")) != NULL)
		memmove(dots, dots + 3, strlen(dots + 3) + 1);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Its operations, the ### `METHOD /path` headings of docs/api.md and the route table: one set. */
static void test_matches_docs_and_table(void **state)
{
	json_t *ops = json_object(), *documented = json_object(), *paths = json_object_get(doc, "paths"), *item, *x;
	char *md = slurp("docs/api.md"), *line;
	const char *path, *k;
	int bad = 0;
	(void)state;

	json_object_foreach(paths, path, item)
	{
		for (size_t i = 0; i < NMETHODS; i++) {
			char key[600];
			size_t n;
			if (!json_object_get(item, methods[i]))
				continue;
			n = (size_t)snprintf(key, sizeof(key), "%s %s", methods[i], path);
			for (size_t j = 0; j < n && key[j] != ' '; j++)
				key[j] = (char)(key[j] & ~0x20);
			json_object_set(ops, key, json_object_get(item, methods[i]));
		}
	}
	for (line = md; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char key[600];
		const char *end;
		if (strncmp(line, "### `", 5) != 0 || !(end = strchr(line + 5, '`')) || (size_t)(end - line) > 500)
			continue;
		memcpy(key, line + 5, (size_t)(end - line - 5));
		key[end - line - 5] = 0;
		normalise(key);
		json_object_set_new(documented, key, json_true());
	}
	json_object_foreach(ops, k, x) if (!json_object_get(documented, k))
	{
		fprintf(stderr, "in the document but not in docs/api.md: %s\n", k);
		bad++;
	}
	json_object_foreach(documented, k, x) if (!json_object_get(ops, k))
	{
		fprintf(stderr, "in docs/api.md but not in the document: %s\n", k);
		bad++;
	}
	assert_int_equal(json_object_size(ops), atr_routes_count);
	for (size_t i = 0; i < atr_routes_count; i++) {
		const struct atr_route *rt = &atr_routes[i];
		char key[600], id[128];
		size_t n;
		snprintf(key, sizeof(key), "%s %s", rt->method, rt->pattern);
		normalise(key);
		x = json_object_get(ops, key);
		n = strlen(rt->name);
		assert_true(n < sizeof(id));
		for (size_t j = 0; j <= n; j++)
			id[j] = rt->name[j] == '.' ? '_' : rt->name[j];
		if (!x || strcmp(json_string_value(json_object_get(x, "operationId")), id)) {
			fprintf(stderr, "route %s (%s) is not the document's operation %s\n", rt->name, key, id);
			bad++;
		}
	}
	free(md);
	json_decref(ops);
	json_decref(documented);
	assert_int_equal(bad, 0);
}

/* Every operation that names a security scheme answers 401 without a token, as it says. */
static void test_security_holds(void **state)
{
	json_t *paths = json_object_get(doc, "paths"), *item;
	const char *path;
	int checked = 0, bad = 0;
	(void)state;

	json_object_foreach(paths, path, item)
	{
		for (size_t i = 0; i < NMETHODS; i++) {
			json_t *op = json_object_get(item, methods[i]);
			char url[512], method[16];
			size_t o = 0, j;
			struct h_resp r;
			if (!op)
				continue;
			if (!json_array_size(json_object_get(op, "security"))) {
				if (json_object_get(json_object_get(op, "responses"), "401")) {
					fprintf(stderr, "%s %s: public but lists 401\n", methods[i], path);
					bad++;
				}
				continue;
			}
			if (!json_object_get(json_object_get(op, "responses"), "401")) {
				fprintf(stderr, "%s %s: needs a token but does not list 401\n", methods[i], path);
				bad++;
			}
			for (const char *p = path; *p && o + 2 < sizeof(url); p++) {
				url[o++] = *p == '{' ? 'x' : *p;
				if (*p == '{')
					p = strchr(p, '}');
			}
			url[o] = 0;
			for (j = 0; methods[i][j]; j++)
				method[j] = (char)(methods[i][j] & ~0x20);
			method[j] = 0;
			h_req(&S, method, url, NULL, NULL, NULL, &r);
			if (r.status != 401) {
				fprintf(stderr, "%s %s: %ld without a token\n", method, url, r.status);
				bad++;
			}
			h_resp_free(&r);
			checked++;
		}
	}
	assert_true(checked > 100);
	assert_int_equal(bad, 0);
}

static void test_validator(void **state)
{
	char file[400];
	(void)state;

	if (h_sh("python3 -c 'import openapi_spec_validator' >/dev/null 2>&1") != 0) {
		printf("skipped: openapi-spec-validator is not installed (Debian: python3-openapi-spec-validator)\n");
		return;
	}
	snprintf(file, sizeof(file), "%s/openapi.json", S.dir);
	assert_int_equal(json_dump_file(doc, file, JSON_INDENT(1)), 0);
	assert_int_equal(h_sh("python3 -m openapi_spec_validator '%s'", file), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_matches_docs_and_table),
		cmocka_unit_test(test_security_holds),
		cmocka_unit_test(test_validator),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
