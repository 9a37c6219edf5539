/*
 * openapi_schema.c: the descriptor tables of the route table as JSON Schema (2020-12, the
 * dialect of OpenAPI 3.1): request bodies (struct atr_field, checked by src/http/json.c) and
 * query parameters (struct atr_qparam, checked by src/http/query.c). Each schema says what
 * those validators accept, no more and no less where JSON Schema can say it (lengths are
 * bytes there and characters here: the same for ASCII). Also the request bodies, media types
 * and the Error schema. The document around them is made in openapi.c.
 */
#include "api.h"

#include <string.h>

/* Sets o[k] = v (stolen); counts a failure (a NULL v included) in *bad. */
static void put(json_t *o, const char *k, json_t *v, int *bad)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		(*bad)++;
}

/* Appends v (stolen, even when the append fails) to a; counts a failure in *bad. */
static void push(json_t *a, json_t *v, int *bad)
{
	if (json_array_append_new(a, v) < 0)
		(*bad)++;
}

/* Ends a schema: NULL (and nothing kept) when any part of it failed. */
static json_t *done(json_t *s, int bad)
{
	if (bad || !s) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* "a|b|c" as ["a","b","c"] (and null when nullable). */
static json_t *enum_array(const char *enums, bool nullable)
{
	json_t *a = json_array();
	int bad = 0;

	for (const char *p = enums; a && *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (json_array_append_new(a, json_stringn(p, n)) < 0)
			bad++;
		if (!bar)
			break;
		p = bar + 1;
	}
	if (a && nullable && json_array_append_new(a, json_null()) < 0)
		bad++;
	return done(a, bad);
}

/* "type": t, or [t, "null"] when nullable. */
static json_t *type_of(const char *t, bool nullable)
{
	return nullable ? json_pack("[ss]", t, "null") : json_string(t);
}

static json_t *simple(const char *t, bool nullable)
{
	json_t *s = json_object();
	int bad = 0;

	if (s)
		put(s, "type", type_of(t, nullable), &bad);
	return done(s, bad);
}

/* A string field's bounds as check_string applies them (1..4096 bytes when not given). */
static void string_bounds(json_t *s, const struct atr_field *f, int *bad)
{
	int64_t min = f->min > 0 ? f->min : (f->flags & ATR_FF_REQUIRED) ? 1 : 0;

	if (min > 0)
		put(s, "minLength", json_integer(min), bad);
	put(s, "maxLength", json_integer(f->max ? f->max : 4096), bad);
}

/* The pattern of a string type of a shape (ECMA-262, as JSON Schema has them); NULL: none. */
static const char *string_pattern(enum atr_ftype t)
{
	switch (t) {
	case ATR_F_NAME:
		return "^[A-Za-z0-9][A-Za-z0-9._-]*$";
	case ATR_F_URL:
		return "^https?://";
	case ATR_F_URL_PATH: /* printable ASCII but for ' ', '#' and '?' */
		return "^/[!\"$->@-~]*$";
	case ATR_F_SEGMENT: /* not "." or "..", no '/', backslash or control characters */
		return "^(?!\\.\\.?$)[^/\\\\\\x00-\\x1f\\x7f]+$";
	default:
		return NULL;
	}
}

/* The string types: bounds, values, formats. */
static void string_schema(json_t *s, const struct atr_field *f, int *bad)
{
	bool null = f->flags & ATR_FF_NULLABLE;

	put(s, "type", type_of("string", null), bad);
	switch (f->type) {
	case ATR_F_SLUG:
		put(s, "pattern", json_string("^[a-z0-9][a-z0-9-]{0,62}$"), bad);
		if (f->min > 1)
			put(s, "minLength", json_integer(f->min), bad);
		if (f->max && f->max < 63)
			put(s, "maxLength", json_integer(f->max), bad);
		break;
	case ATR_F_TIME:
		put(s, "format", json_string("date-time"), bad);
		break;
	default:
		string_bounds(s, f, bad);
		if (f->enums)
			put(s, "enum", enum_array(f->enums, null), bad);
		if (string_pattern(f->type))
			put(s, "pattern", json_string(string_pattern(f->type)), bad);
		break;
	}
}

/* Integers (bounds only when given: 0,0 is none), numbers and booleans. */
static void scalar_schema(json_t *s, const struct atr_field *f, int *bad)
{
	bool null = f->flags & ATR_FF_NULLABLE;

	switch (f->type) {
	case ATR_F_INT:
		put(s, "type", type_of("integer", null), bad);
		if (f->min || f->max) {
			put(s, "minimum", json_integer(f->min), bad);
			put(s, "maximum", json_integer(f->max), bad);
		}
		break;
	case ATR_F_NUMBER:
		put(s, "type", type_of("number", null), bad);
		if (f->min || f->max) {
			put(s, "minimum", json_integer(f->min), bad);
			put(s, "maximum", json_integer(f->max), bad);
		}
		break;
	default:
		put(s, "type", type_of("boolean", null), bad);
		break;
	}
}

/* Arrays of objects of f->sub (or of anything), lists of non-empty strings, lists of ids. */
static void array_schema(json_t *s, const struct atr_field *f, int *bad)
{
	put(s, "type", type_of("array", f->flags & ATR_FF_NULLABLE), bad);
	if (f->type == ATR_F_STRLIST)
		put(s, "items", json_pack("{s:s, s:i, s:i}", "type", "string", "minLength", 1, "maxLength", 4096), bad);
	else if (f->type == ATR_F_IDLIST)
		put(s, "items", json_pack("{s:s, s:i}", "type", "integer", "minimum", 1), bad);
	else if (f->sub)
		put(s, "items", api_openapi_object_schema(f->sub), bad);
	if (f->min > 0)
		put(s, "minItems", json_integer(f->min), bad);
	if (f->max)
		put(s, "maxItems", json_integer(f->max), bad);
}

/* Objects of strings: names of 1-256 bytes, values of at most 4096; environment names and
 * labels narrower; a patch's values may be null. */
static void map_schema(json_t *s, const struct atr_field *f, int *bad)
{
	json_t *names = json_pack("{s:i, s:i}", "minLength", 1, "maxLength", 256);
	json_t *values = json_pack("{s:s, s:i}", "type", "string", "maxLength", 4096);

	if (names && values && f->type == ATR_F_ENV) {
		put(names, "pattern", json_string("^(?!ATRIUM_)[A-Za-z_][A-Za-z0-9_]*$"), bad);
		put(names, "not", json_pack("{s:[sss]}", "enum", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "PORT"),
		    bad);
	} else if (names && values && f->type == ATR_F_LABELS) {
		put(names, "maxLength", json_integer(63), bad);
		put(names, "pattern", json_string("^[A-Za-z0-9._/-]+$"), bad);
		put(values, "maxLength", json_integer(255), bad);
	} else if (values && f->type == ATR_F_STRMAP_PATCH) {
		put(values, "type", type_of("string", true), bad);
	}
	put(s, "type", type_of("object", f->flags & ATR_FF_NULLABLE), bad);
	put(s, "additionalProperties", values, bad);
	put(s, "propertyNames", names, bad);
	if (f->max)
		put(s, "maxProperties", json_integer(f->max), bad);
}

/* A command: a string for /bin/sh -c, or the program and its arguments. */
static void command_schema(json_t *s, const struct atr_field *f, int *bad)
{
	json_t *one = json_pack("[{s:s, s:i}, {s:s, s:i, s:i, s:[{s:s, s:i}], s:{s:s}}]", "type", "string", "minLength",
				1, "type", "array", "minItems", 1, "maxItems", 4096, "prefixItems", "type", "string",
				"minLength", 1, "items", "type", "string");

	if (f->flags & ATR_FF_NULLABLE)
		push(one, simple("null", false), bad);
	put(s, "oneOf", one, bad);
	put(s, "description",
	    f->max ? json_sprintf("a string run by /bin/sh -c, or the program and its arguments; at most %lld "
				  "bytes encoded",
				  (long long)f->max)
		   : json_string("a string run by /bin/sh -c, or the program and its arguments"),
	    bad);
}

/* A version number or an alias: the string bounds apply to the string only. */
static void int_or_string_schema(json_t *s, const struct atr_field *f, int *bad)
{
	json_t *str = simple("string", false);
	json_t *one = json_array();

	if (str)
		string_bounds(str, f, bad);
	if (str && f->enums)
		put(str, "enum", enum_array(f->enums, false), bad);
	/* (each push, so that str is freed when an earlier one failed) */
	push(one, simple("integer", false), bad);
	push(one, str, bad);
	if (f->flags & ATR_FF_NULLABLE)
		push(one, simple("null", false), bad);
	put(s, "oneOf", one, bad);
}

/* A nested object: its own fields (a table), or any object. */
static json_t *object_field_schema(const struct atr_field *f)
{
	bool null = f->flags & ATR_FF_NULLABLE;
	json_t *s;
	int bad = 0;

	if (!f->sub)
		return simple("object", null);
	s = api_openapi_object_schema(f->sub);
	if (s && null)
		put(s, "type", type_of("object", true), &bad);
	return done(s, bad);
}

json_t *api_openapi_field_schema(const struct atr_field *f)
{
	json_t *s;
	int bad = 0;

	if (f->type == ATR_F_OBJECT)
		return object_field_schema(f);
	if (!(s = json_object()))
		return NULL;
	switch (f->type) {
	case ATR_F_STRING:
	case ATR_F_SLUG:
	case ATR_F_TIME:
	case ATR_F_NAME:
	case ATR_F_URL:
	case ATR_F_URL_PATH:
	case ATR_F_SEGMENT:
		string_schema(s, f, &bad);
		break;
	case ATR_F_INT:
	case ATR_F_NUMBER:
	case ATR_F_BOOL:
		scalar_schema(s, f, &bad);
		break;
	case ATR_F_ARRAY:
	case ATR_F_STRLIST:
	case ATR_F_IDLIST:
		array_schema(s, f, &bad);
		break;
	case ATR_F_STRMAP:
	case ATR_F_ENV:
	case ATR_F_LABELS:
	case ATR_F_STRMAP_PATCH:
		map_schema(s, f, &bad);
		break;
	case ATR_F_COMMAND:
		command_schema(s, f, &bad);
		break;
	case ATR_F_ANY: /* no type: any JSON value (null included) */
		if (f->max)
			put(s, "description",
			    json_sprintf("any JSON value, at most %lld bytes encoded", (long long)f->max), &bad);
		break;
	case ATR_F_INT_OR_STRING:
		int_or_string_schema(s, f, &bad);
		break;
	case ATR_F_OBJECT:
		break;
	}
	return done(s, bad);
}

json_t *api_openapi_object_schema(const struct atr_field *fields)
{
	json_t *s = json_object(), *props = json_object(), *req = json_array();
	int bad = 0;

	for (const struct atr_field *f = fields; s && props && req && f->name; f++) {
		put(props, f->name, api_openapi_field_schema(f), &bad);
		if ((f->flags & ATR_FF_REQUIRED) && json_array_append_new(req, json_string(f->name)) < 0)
			bad++;
	}
	if (!s) {
		json_decref(props);
		json_decref(req);
		return NULL;
	}
	put(s, "type", json_string("object"), &bad);
	put(s, "properties", props, &bad);
	if (req && json_array_size(req) == 0)
		json_decref(req);
	else
		put(s, "required", req, &bad);
	/* the validator refuses fields it does not know */
	put(s, "additionalProperties", json_false(), &bad);
	return done(s, bad);
}

json_t *api_openapi_query_param(const struct atr_qparam *q)
{
	json_t *p = json_object(), *s = json_object(), *items;
	int bad = 0;

	if (!p || !s) {
		json_decref(p);
		json_decref(s);
		return NULL;
	}
	switch (q->type) {
	case ATR_Q_INT:
		put(s, "type", json_string("integer"), &bad);
		put(s, "minimum", json_integer(q->min), &bad);
		put(s, "maximum", json_integer(q->max), &bad);
		/* (a default outside the range means "absent", which the handler reads as such) */
		if (q->dflt >= q->min && q->dflt <= q->max)
			put(s, "default", json_integer(q->dflt), &bad);
		break;
	case ATR_Q_STRING:
		put(s, "type", json_string("string"), &bad);
		if (q->min > 0)
			put(s, "minLength", json_integer(q->min), &bad);
		put(s, "maxLength", json_integer(q->max > 0 ? q->max : 1024), &bad);
		break;
	case ATR_Q_ENUM:
		put(s, "type", json_string("string"), &bad);
		put(s, "enum", enum_array(q->enums, false), &bad);
		break;
	case ATR_Q_ENUM_LIST: /* "queued,running": one parameter, comma-separated */
		put(s, "type", json_string("array"), &bad);
		put(s, "minItems", json_integer(1), &bad);
		items = simple("string", false);
		if (items)
			put(items, "enum", enum_array(q->enums, false), &bad);
		put(s, "items", items, &bad);
		put(p, "style", json_string("form"), &bad);
		put(p, "explode", json_false(), &bad);
		break;
	case ATR_Q_BOOL:
		put(s, "type", json_string("boolean"), &bad);
		put(s, "default", json_boolean(q->dflt != 0), &bad);
		break;
	case ATR_Q_TIME:
		put(s, "type", json_string("string"), &bad);
		put(s, "format", json_string("date-time"), &bad);
		break;
	}
	put(p, "name", json_string(q->name), &bad);
	put(p, "in", json_string("query"), &bad);
	put(p, "required", json_boolean(q->flags & ATR_QF_REQUIRED), &bad);
	if (q->doc)
		put(p, "description", json_string(q->doc), &bad);
	put(p, "schema", s, &bad);
	return done(p, bad);
}

json_t *api_openapi_media(const char *type)
{
	if (!strncmp(type, "application/json", 16))
		return json_object();
	if (!strncmp(type, "text/", 5))
		return json_pack("{s:{s:s}}", "schema", "type", "string");
	return json_pack("{s:{s:s, s:s}}", "schema", "type", "string", "format", "binary");
}

json_t *api_openapi_request_body(const struct atr_route *rt)
{
	const char *type = rt->consumes;
	bool required = true;
	json_t *m;

	if (rt->flags & (ATR_RF_STREAM | ATR_RF_RAW_BODY)) {
		if (!type)
			type = rt->flags & ATR_RF_STREAM ? "application/octet-stream" : "application/json";
		m = api_openapi_media(type);
	} else if (rt->body) {
		type = "application/json";
		required = false; /* an empty body is {}: needed only when a field is */
		for (const struct atr_field *f = rt->body; f->name; f++)
			required |= (f->flags & ATR_FF_REQUIRED) != 0;
		m = json_pack("{s:o}", "schema", api_openapi_object_schema(rt->body));
	} else {
		return NULL;
	}
	return m ? json_pack("{s:b, s:{s:o}}", "required", required, "content", type, m) : NULL;
}

/* The one error answer of reply.c, its codes from the ATR_ERRORS table. */
json_t *api_openapi_error_schema(void)
{
#define ATR_CODE_(name, value, status, code, helper, text, mlflow) code,
	static const char *const codes[] = { ATR_ERRORS(ATR_CODE_) };
#undef ATR_CODE_
	json_t *e = json_array();
	int bad = 0;

	for (size_t i = 0; e && i < sizeof(codes) / sizeof(codes[0]); i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(codes[i], codes[j]);
		if (!seen && json_array_append_new(e, json_string(codes[i])) < 0)
			bad++;
	}
	if (bad) {
		json_decref(e);
		return NULL;
	}
	/* (no additionalProperties: false: an error may carry more, as a log gap's next_offset) */
	return json_pack("{s:s, s:[s], s:{s:{s:s, s:[sss], s:{s:{s:s, s:o}, s:{s:s}, s:{s:[ss], s:s}}}}}", "type",
			 "object", "required", "error", "properties", "error", "type", "object", "required", "code",
			 "message", "field", "properties", "code", "type", "string", "enum", e, "message", "type",
			 "string", "field", "type", "string", "null", "description",
			 "the bad input: a field, a parameter, a header or 'body'");
}
