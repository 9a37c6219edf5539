/*
 * openapi.c: GET /api/v1/openapi.json, the OpenAPI 3.1 document of the route table: every
 * route with its path and query parameters, its body schema (openapi_schema.c), who may call
 * it, its answers and the one error shape. It is made from atr_routes on the first request and
 * kept encoded: the table never changes while the daemon runs. Nothing here decides anything;
 * the document says what the pipeline (src/http/pipeline.c) and api_resolve (access.c) do,
 * read from the same rows. Handlers' own errors (a duplicate name, 422, the gateway's 5xx)
 * are not in the rows: every operation lists them as its `default` answer.
 */
#include "api.h"
#include "atrium/version.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void put(json_t *o, const char *k, json_t *v, int *bad)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		(*bad)++;
}

static void push(json_t *a, json_t *v, int *bad)
{
	if (!v || json_array_append_new(a, v) < 0)
		(*bad)++;
}

/* The answers the pipeline itself can give, each a components.responses entry. */
static const struct {
	unsigned status;
	const char *name, *text;
} errors[] = {
	{ 400, "BadRequest", "A bad path parameter, query parameter or body: `error.field` names it" },
	{ 401, "Unauthorized", "No token, or an unknown, revoked or expired one" },
	{ 403, "Forbidden", "This kind of token may not call it, or the caller's project role is too low" },
	{ 404, "NotFound", "No such object, or one the caller may not see" },
	{ 409, "Conflict", "The object's state forbids it: an archived project, a committed version, a reused key" },
	{ 413, "TooLarge", "The body is larger than the server's limit" },
	{ 415, "UnsupportedMediaType", "The body must be application/json" },
};
#define NERRORS (sizeof(errors) / sizeof(errors[0]))

/* Which of errors[] a route can give, read from its row (nparams: its path parameters). */
static bool can_fail(const struct atr_route *rt, int nparams, unsigned status)
{
	bool pub = rt->access == ATR_ACCESS_PUBLIC, res = rt->resource != ATR_RES_NONE;
	bool write = strcmp(rt->method, "GET") != 0;
	bool body = rt->body || (rt->flags & (ATR_RF_STREAM | ATR_RF_RAW_BODY));

	switch (status) {
	case 400: /* (unknown query parameters are a 400 anywhere: info.description says so) */
		return rt->query || rt->body || nparams > 0;
	case 401:
	case 403:
		return !pub;
	case 404:
		return res || nparams > 0;
	case 409:
		return (res && write) || (rt->flags & ATR_RF_IDEMPOTENT);
	case 413:
		return body;
	case 415:
		return rt->body != NULL;
	}
	return false;
}

static const char *access_word(enum atr_access a)
{
	switch (a) {
	case ATR_ACCESS_PUBLIC:
		return "public";
	case ATR_ACCESS_USER:
		return "user";
	case ATR_ACCESS_ADMIN:
		return "admin";
	case ATR_ACCESS_WORKER:
		return "worker";
	}
	return "user";
}

static const char *role_phrase(enum atr_prole role)
{
	return role == ATR_PROLE_OWNER	    ? "an owner"
	       : role == ATR_PROLE_EDITOR   ? "an editor"
	       : role == ATR_PROLE_LAUNCHER ? "a launcher"
					    : "a viewer";
}

static void add(char *d, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *d, size_t len, const char *fmt, ...)
{
	size_t n = strlen(d);
	va_list ap;

	va_start(ap, fmt);
	if (n < len)
		vsnprintf(d + n, len - n, fmt, ap);
	va_end(ap);
}

/* Who may call it, and what the pipeline refuses, in words. */
static void describe(const struct atr_route *rt, char *d, size_t len)
{
	const char *res = atr_res_name(rt->resource);
	bool write = strcmp(rt->method, "GET") != 0;

	d[0] = 0;
	switch (rt->access) {
	case ATR_ACCESS_PUBLIC:
		add(d, len, "No token needed.");
		break;
	case ATR_ACCESS_ADMIN:
		add(d, len, "Needs an administrator's token.");
		break;
	case ATR_ACCESS_WORKER:
		add(d, len, "Needs a worker's secret (given to it when it registered).");
		break;
	case ATR_ACCESS_USER:
		if (rt->flags & ATR_RF_SELF) { /* (checked after the role: not even an administrator) */
			add(d, len, "Needs the %s's own token: only the %s itself may.", res, res);
			break;
		}
		if (rt->resource == ATR_RES_NONE)
			add(d, len, "Needs a user's token");
		else if (rt->resource == ATR_RES_PROJECT)
			add(d, len, "Needs %s of the project", role_phrase(rt->role));
		else
			add(d, len, "Needs %s of the %s's project", role_phrase(rt->role), res);
		if ((rt->flags & ATR_RF_JOB_OK) && rt->resource != ATR_RES_NONE)
			add(d, len, "; job tokens of the project accepted");
		else if (rt->flags & ATR_RF_JOB_OK)
			add(d, len, "; job tokens accepted");
		if (rt->flags & ATR_RF_INVOKE_OK)
			add(d, len, "; invoke keys of the deployment accepted");
		add(d, len, rt->resource != ATR_RES_NONE ? " (administrators are owners of every project)." : ".");
		break;
	}
	if (rt->resource != ATR_RES_NONE && write)
		add(d, len, " Refused (409) while the project is archived.");
	if (rt->flags & ATR_RF_DRAFT)
		add(d, len, " The version must still be a draft (409 once committed).");
	if (rt->flags & ATR_RF_IDEMPOTENT)
		add(d, len, " Idempotent: a retry with the same `Idempotency-Key` gets the first 2xx answer again.");
	if (rt->flags & ATR_RF_STREAM)
		add(d, len, " The body is the file's bytes, streamed (at most `--max-upload-bytes`).");
	else if (rt->flags & ATR_RF_RAW_BODY)
		add(d, len, " The body is taken as it is, not checked against a schema here.");
}

/* {"$ref": "#/components/<where>/<name>"} */
static json_t *ref(const char *where, const char *name)
{
	json_t *s = json_sprintf("#/components/%s/%s", where, name);
	return s ? json_pack("{s:o}", "$ref", s) : NULL;
}

static const char *status_text(unsigned st)
{
	switch (st) {
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No content";
	}
	return "OK";
}

static json_t *responses(const struct atr_route *rt, int nparams, int *bad)
{
	unsigned st = rt->status ? rt->status : 200;
	json_t *rs = json_object(), *ok = json_object();
	char code[8];

	if (!rs || !ok) {
		json_decref(ok);
		(*bad)++;
		return rs;
	}
	put(ok, "description", json_string(status_text(st)), bad);
	if (st != 204) {
		const char *type = rt->produces ? rt->produces : "application/json";
		put(ok, "content", json_pack("{s:o}", type, api_openapi_media(type)), bad);
	}
	snprintf(code, sizeof(code), "%u", st);
	put(rs, code, ok, bad);
	for (size_t i = 0; i < NERRORS; i++)
		if (can_fail(rt, nparams, errors[i].status)) {
			snprintf(code, sizeof(code), "%u", errors[i].status);
			put(rs, code, ref("responses", errors[i].name), bad);
		}
	put(rs, "default", ref("responses", "Error"), bad);
	return rs;
}

/* A parameter of a pattern: its name (pointing into the pattern); rest: "{path...}". */
struct pparam {
	const char *name;
	size_t len;
	bool rest;
};

/* "/a/{x}/{path...}" as the OpenAPI path "/a/{x}/{path}" into out, with its parameters.
 * -1 when it does not fit or a brace is not closed. */
static int to_path(const char *pattern, char *out, size_t outlen, struct pparam *ps, int *np)
{
	size_t o = 0;

	*np = 0;
	for (const char *p = pattern; *p;) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;
		struct pparam *x;
		if (*p != '{') {
			if (o + 2 > outlen)
				return -1;
			out[o++] = *p++;
			continue;
		}
		if (!end || *np >= ATR_MAX_PARAMS)
			return -1;
		x = &ps[(*np)++];
		x->name = p + 1;
		x->len = (size_t)(end - p - 1);
		x->rest = x->len > 3 && !memcmp(end - 3, "...", 3);
		if (x->rest)
			x->len -= 3;
		if (o + x->len + 3 > outlen)
			return -1;
		out[o++] = '{';
		memcpy(out + o, x->name, x->len);
		o += x->len;
		out[o++] = '}';
		p = end + 1;
	}
	out[o] = 0;
	return 0;
}

static json_t *path_param(const struct pparam *p)
{
	json_t *o = json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name", p->name, p->len, "in", "path", "required", 1,
			      "schema", "type", "string");
	int bad = 0;

	if (o && p->rest)
		put(o, "description", json_string("the rest of the path, may contain '/'"), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *operation(const struct atr_route *rt, const struct pparam *ps, int np)
{
	json_t *op = json_object(), *params = json_array(), *body;
	char id[128], d[1024];
	size_t tag;
	int bad = 0;

	if (!op || !params || strlen(rt->name) >= sizeof(id)) {
		json_decref(op);
		json_decref(params);
		return NULL;
	}
	/* "runs.metrics.log": operationId runs_metrics_log, tag runs */
	for (size_t i = 0; i <= strlen(rt->name); i++)
		id[i] = rt->name[i] == '.' ? '_' : rt->name[i];
	tag = strcspn(rt->name, ".");
	put(op, "operationId", json_string(id), &bad);
	put(op, "summary", json_string(rt->summary ? rt->summary : rt->name), &bad);
	describe(rt, d, sizeof(d));
	put(op, "description", json_string(d), &bad);
	put(op, "tags", json_pack("[s%]", rt->name, tag), &bad);
	for (int i = 0; i < np; i++)
		push(params, path_param(&ps[i]), &bad);
	for (const struct atr_qparam *q = rt->query; q && q->name; q++)
		push(params, api_openapi_query_param(q), &bad);
	if (rt->flags & ATR_RF_IDEMPOTENT)
		push(params,
		     json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i}}", "name", "Idempotency-Key", "in", "header",
			       "required", 0, "description",
			       "a retry with the same key gets the first 2xx answer again", "schema", "type", "string",
			       "minLength", 1, "maxLength", 255),
		     &bad);
	if (json_array_size(params))
		put(op, "parameters", params, &bad);
	else
		json_decref(params);
	body = api_openapi_request_body(rt); /* (NULL for a route that takes a body: out of memory) */
	if (body || rt->body || (rt->flags & (ATR_RF_STREAM | ATR_RF_RAW_BODY)))
		put(op, "requestBody", body, &bad);
	put(op, "responses", responses(rt, np, &bad), &bad);
	if (rt->access == ATR_ACCESS_PUBLIC)
		put(op, "security", json_array(), &bad);
	else
		put(op, "security", json_pack("[{s:[]}]", rt->access == ATR_ACCESS_WORKER ? "workerSecret" : "bearer"),
		    &bad);
	put(op, "x-atrium-access", json_string(access_word(rt->access)), &bad);
	if (rt->resource != ATR_RES_NONE) {
		put(op, "x-atrium-resource", json_string(atr_res_name(rt->resource)), &bad);
		put(op, "x-atrium-role", json_string(atr_prole_name(rt->role)), &bad);
	}
	if (bad) {
		json_decref(op);
		return NULL;
	}
	return op;
}

static json_t *components(void)
{
	json_t *c = json_object(), *rs = json_object();
	int bad = 0;

	if (!c || !rs) {
		json_decref(c);
		json_decref(rs);
		return NULL;
	}
	put(c, "securitySchemes",
	    json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}", "bearer", "type", "http", "scheme", "bearer",
		      "description",
		      "A user's token (atr_...; POST /api/v1/tokens), a dashboard session (POST /api/v1/auth/login), "
		      "a running job's token, or where an operation says so a deployment's invoke key",
		      "workerSecret", "type", "http", "scheme", "bearer", "description",
		      "A worker's secret, which POST /api/v1/workers/register gives it (for `atrium worker`)"),
	    &bad);
	put(c, "schemas", json_pack("{s:o}", "Error", api_openapi_error_schema()), &bad);
	for (size_t i = 0; i < NERRORS; i++)
		put(rs, errors[i].name,
		    json_pack("{s:s, s:{s:{s:o}}}", "description", errors[i].text, "content", "application/json",
			      "schema", ref("schemas", "Error")),
		    &bad);
	put(rs, "Error",
	    json_pack("{s:s, s:{s:{s:o}}}", "description",
		      "Any other error, in the same shape: its status and error.code say what happened", "content",
		      "application/json", "schema", ref("schemas", "Error")),
	    &bad);
	put(c, "responses", rs, &bad);
	if (bad) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static const char intro[] =
	"The REST API of the Atrium daemon, made from its route table (docs/api.md tells more about each "
	"operation). Every error has the shape of the Error schema, error.field naming the bad input. A query "
	"parameter an operation does not list is a 400 everywhere; an unknown path is a 404 and a known path with "
	"another method a 405. HEAD is answered wherever GET is. String lengths are checked in bytes (UTF-8).";

/* The tag of a route: its name up to the first '.' ("jobs.create": "jobs"), listed once. */
static void add_tag(json_t *tags, const char *route_name, int *bad)
{
	size_t n = strcspn(route_name, "."), k;
	json_t *t;

	json_array_foreach(tags, k, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		if (name && strlen(name) == n && !strncmp(name, route_name, n))
			return;
	}
	push(tags, json_pack("{s:s%}", "name", route_name, n), bad);
}

/* One row as an operation of its path item (GET, PUT and DELETE of one path are one item);
 * -1 when the row cannot be described or repeats a method and path (logged). */
static int add_operation(json_t *paths, const struct atr_route *rt)
{
	struct pparam ps[ATR_MAX_PARAMS];
	char path[512], method[16];
	json_t *item;
	size_t k;
	int np, bad = 0;

	if (to_path(rt->pattern, path, sizeof(path), ps, &np) < 0 || strlen(rt->method) >= sizeof(method)) {
		atr_error("openapi: route '%s' has a pattern it cannot describe", rt->name);
		return -1;
	}
	for (k = 0; rt->method[k]; k++)
		method[k] = (char)(rt->method[k] | 0x20);
	method[k] = 0;
	item = json_object_get(paths, path);
	if (!item && json_object_set_new(paths, path, item = json_object()) < 0)
		return -1;
	if (json_object_get(item, method)) {
		atr_error("openapi: two routes for %s %s", rt->method, path);
		return -1;
	}
	put(item, method, operation(rt, ps, np), &bad);
	return bad ? -1 : 0;
}

json_t *api_openapi_build(const struct atr_route *routes, size_t n)
{
	json_t *doc = json_object(), *paths = json_object(), *tags = json_array();
	int bad = 0;

	if (!doc || !paths || !tags) {
		json_decref(doc);
		json_decref(paths);
		json_decref(tags);
		return NULL;
	}
	put(doc, "openapi", json_string("3.1.0"), &bad);
	put(doc, "info",
	    json_pack("{s:s, s:s, s:s}", "title", "Atrium", "version", ATRIUM_VERSION, "description", intro), &bad);
	put(doc, "servers", json_pack("[{s:s}]", "url", "/"), &bad);
	put(doc, "security", json_pack("[{s:[]}]", "bearer"), &bad);
	put(doc, "tags", json_incref(tags), &bad);
	put(doc, "paths", json_incref(paths), &bad);
	put(doc, "components", components(), &bad);
	for (size_t i = 0; i < n && !bad; i++) {
		if (!strcmp(routes[i].method, "HEAD")) /* (answered by GET routes; never a row of its own) */
			continue;
		if (add_operation(paths, &routes[i]) < 0)
			bad++;
		else
			add_tag(tags, routes[i].name, &bad);
	}
	json_decref(tags);
	json_decref(paths);
	if (bad) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* The encoded document, made once: the route table never changes while the daemon runs. */
static char *doc_text;
static size_t doc_len;

void api_openapi_get(struct atr_req *r)
{
	if (!doc_text) {
		json_t *doc = api_openapi_build(atr_routes, atr_routes_count);
		doc_text = doc ? atr_json_write(doc, &doc_len) : NULL;
		json_decref(doc);
	}
	if (!doc_text) {
		atr_reply_internal(r, NULL, "the OpenAPI document could not be made");
		return;
	}
	atr_reply_data(r, 200, "application/json; charset=utf-8", doc_text, doc_len);
}
