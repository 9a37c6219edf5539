/*
 * json.c: the one request-body validator (descriptor tables, first bad field named) and
 * typed getters. Strings are checked as jansson gives them: valid UTF-8, may hold NUL
 * (json_string_length), which string fields refuse. The shape of a value (a name, a URL, a
 * path, a command, an environment or label map, a patch of a map, a list of ids) is checked
 * here too, so that handlers only check what needs the store or relates fields to each other.
 */
#include "atrium/json.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local bool json_oom;

static void *json_alloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		json_oom = true;
	return p;
}

static void json_free(void *p)
{
	free(p);
}

void atr_json_setup(void)
{
	json_set_alloc_funcs(json_alloc, json_free);
}

bool atr_json_oom_take(void)
{
	bool oom = json_oom;
	json_oom = false;
	return oom;
}

const struct atr_field atr_schema_empty[] = { { 0 } };

static const char *type_name(enum atr_ftype t)
{
	switch (t) {
	case ATR_F_STRING:
	case ATR_F_SLUG:
	case ATR_F_TIME:
	case ATR_F_NAME:
	case ATR_F_URL:
	case ATR_F_URL_PATH:
	case ATR_F_SEGMENT:
		return "a string";
	case ATR_F_INT:
		return "an integer";
	case ATR_F_NUMBER:
		return "a number";
	case ATR_F_BOOL:
		return "true or false";
	case ATR_F_OBJECT:
	case ATR_F_STRMAP:
	case ATR_F_ENV:
	case ATR_F_LABELS:
	case ATR_F_STRMAP_PATCH:
		return "an object";
	case ATR_F_ARRAY:
	case ATR_F_STRLIST:
	case ATR_F_IDLIST:
		return "an array";
	case ATR_F_COMMAND:
		return "a non-empty string (run by /bin/sh -c) or an array of 1-4096 strings";
	case ATR_F_INT_OR_STRING:
		return "an integer or a string";
	case ATR_F_ANY:
		return "any value";
	}
	return "a value";
}

static bool enum_has(const char *enums, const char *v, size_t vlen)
{
	const char *p = enums;
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == vlen && memcmp(p, v, n) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

/* Where the validator writes the first bad field's name and its message. */
struct verdict {
	char *field;
	size_t fieldlen;
	char *msg;
	size_t msglen;
};

/* Names the field and writes the message. */
static int failf(const struct verdict *o, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int failf(const struct verdict *o, const char *field, const char *fmt, ...)
{
	va_list ap;

	atr_copy(o->field, o->fieldlen, field);
	va_start(ap, fmt);
	vsnprintf(o->msg, o->msglen, fmt, ap);
	va_end(ap);
	return ATR_EINVAL;
}

/* Names the field and writes "'<path>' <what><extra>", the usual message. */
static int fail(const struct verdict *o, const char *path, const char *what, const char *extra)
{
	return failf(o, path, "'%s' %s%s", path, what, extra);
}

/* Whether v is of the JSON kind the type takes (null aside); its content is checked later. */
static bool kind_ok(enum atr_ftype t, const json_t *v)
{
	switch (t) {
	case ATR_F_STRING:
	case ATR_F_SLUG:
	case ATR_F_TIME:
	case ATR_F_NAME:
	case ATR_F_URL:
	case ATR_F_URL_PATH:
	case ATR_F_SEGMENT:
		return json_is_string(v);
	case ATR_F_COMMAND:
		return json_is_string(v) || json_is_array(v);
	case ATR_F_INT_OR_STRING:
		return json_is_integer(v) || json_is_string(v);
	case ATR_F_INT:
		return json_is_integer(v);
	case ATR_F_NUMBER:
		return json_is_number(v);
	case ATR_F_BOOL:
		return json_is_boolean(v);
	case ATR_F_OBJECT:
	case ATR_F_STRMAP:
	case ATR_F_ENV:
	case ATR_F_LABELS:
	case ATR_F_STRMAP_PATCH:
		return json_is_object(v);
	case ATR_F_ARRAY:
	case ATR_F_STRLIST:
	case ATR_F_IDLIST:
		return json_is_array(v);
	case ATR_F_ANY:
		return true;
	}
	return false;
}

/* ASCII only, whatever the locale. */
static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ATR_F_NAME: letters, digits, '-', '_' and '.', starting with a letter or digit. */
static bool is_name(const char *s)
{
	if (!is_alnum(*s))
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/* ATR_F_URL_PATH: '/' then printable ASCII without spaces, '?' or '#'. */
static bool is_url_path(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c > '~' || c == '?' || c == '#')
			return false;
	}
	return true;
}

/* ATR_F_SEGMENT: a safe relative path (atr_is_safe_path) of one segment. */
static bool is_segment(const char *s)
{
	return atr_is_safe_path(s, strlen(s)) && !strchr(s, '/');
}

/* What is wrong with the text of a string of a formatted type (NULL: nothing). */
static const char *format_error(enum atr_ftype t, const char *s)
{
	int64_t ms;

	switch (t) {
	case ATR_F_SLUG:
		return atr_is_slug(s) ? NULL
				      : "must be lowercase letters, digits and '-' (starting with a letter or digit, "
					"at most 63)";
	case ATR_F_TIME:
		return atr_time_parse(s, &ms) < 0 ? "must be an RFC 3339 time" : NULL;
	case ATR_F_NAME:
		return is_name(s) ? NULL : "must be letters, digits, '-', '_' and '.', starting with a letter or digit";
	case ATR_F_URL:
		return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) ? NULL
									       : "must be an http:// or https:// URL";
	case ATR_F_URL_PATH:
		return is_url_path(s) ? NULL : "must be a path starting with '/', without spaces, '?' or '#'";
	case ATR_F_SEGMENT:
		return is_segment(s) ? NULL : "must be one path segment without '/', '.' or '..'";
	default:
		return NULL;
	}
}

static int check_string(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	const char *s = json_string_value(v), *bad;
	size_t n = json_string_length(v);
	int64_t max = f->max ? f->max : 4096;

	if (strlen(s) != n)
		return fail(o, path, "must not contain NUL characters", "");
	if ((int64_t)n < f->min || (f->min == 0 && n == 0 && (f->flags & ATR_FF_REQUIRED)))
		return fail(o, path, "must not be empty", "");
	if ((int64_t)n > max) {
		char m[32];
		snprintf(m, sizeof(m), "at most %lld bytes long", (long long)max);
		return fail(o, path, "must be ", m);
	}
	if ((bad = format_error(f->type, s)))
		return fail(o, path, bad, "");
	if (f->enums && !enum_has(f->enums, s, n))
		return fail(o, path,
			    f->type == ATR_F_INT_OR_STRING ? "must be an integer or one of " : "must be one of ",
			    f->enums);
	return 0;
}

static int check_int(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	json_int_t i = json_integer_value(v);
	char m[48];

	if ((f->min || f->max) && (i < f->min || i > f->max)) {
		snprintf(m, sizeof(m), "%lld and %lld", (long long)f->min, (long long)f->max);
		return fail(o, path, "must be between ", m);
	}
	return 0;
}

static int check_number(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	double d = json_number_value(v);
	char m[48];

	if (!isfinite(d))
		return fail(o, path, "must be a finite number", "");
	if ((f->min || f->max) && (d < (double)f->min || d > (double)f->max)) {
		snprintf(m, sizeof(m), "%lld to %lld", (long long)f->min, (long long)f->max);
		return fail(o, path, "must be from ", m);
	}
	return 0;
}

/* A container's size against min and max (0: no cap); what: "entries" or "items". */
static int check_count(size_t n, int64_t min, int64_t max, const char *what, const char *path, const struct verdict *o)
{
	char m[48];

	if ((int64_t)n < min) {
		if (min == 1)
			return fail(o, path, "must not be empty", "");
		snprintf(m, sizeof(m), "at least %lld %s", (long long)min, what);
		return fail(o, path, "must have ", m);
	}
	if (max && (int64_t)n > max) {
		snprintf(m, sizeof(m), "at most %lld %s", (long long)max, what);
		return fail(o, path, "must have ", m);
	}
	return 0;
}

/* ATR_F_ENV's names: [A-Za-z_][A-Za-z0-9_]*, and none of those the worker sets itself. */
static bool env_name_ok(const char *k)
{
	if (!is_alnum(*k) && *k != '_')
		return false;
	if (!strcmp(k, "ATRIUM_GIT_COMMIT") || !strcmp(k, "ATRIUM_GIT_DIRTY"))
		return true; /* the code version the job's run records: the submitter's to give */
	if ((*k >= '0' && *k <= '9') || strncmp(k, "ATRIUM_", 7) == 0 || !strcmp(k, "CUDA_VISIBLE_DEVICES") ||
	    !strcmp(k, "CUDA_DEVICE_ORDER") || !strcmp(k, "PORT"))
		return false;
	for (; *k; k++)
		if (!is_alnum(*k) && *k != '_')
			return false;
	return true;
}

/* ATR_F_LABELS' names: 1-63 letters, digits, '-', '_', '.', '/'. */
static bool label_name_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 63)
		return false;
	for (; *k; k++)
		if (!is_alnum(*k) && !strchr("-_./", *k))
			return false;
	return true;
}

/* What the map types add to a string entry the plain map accepts (path: the map's, sub: the
 * entry's). Label errors name the map, as they always have. */
static int check_named_entry(const char *k, const json_t *x, const struct atr_field *f, const char *path,
			     const char *sub, const struct verdict *o)
{
	if (f->type == ATR_F_ENV && !env_name_ok(k))
		return failf(o, sub,
			     "'%s': names are letters, digits and '_'; ATRIUM_*, CUDA_VISIBLE_DEVICES, "
			     "CUDA_DEVICE_ORDER and PORT are set by Atrium",
			     sub);
	if (f->type == ATR_F_LABELS && !label_name_ok(k))
		return failf(o, path, "label names are 1-63 letters, digits and '-', '_', '.', '/'");
	if (f->type == ATR_F_LABELS && json_string_length(x) > 255)
		return failf(o, path, "label '%s' has a value over 255 bytes", k);
	return 0;
}

/* One entry of a map: a name of 1-256 bytes, a string value of at most 4096 bytes without NUL
 * (or null, in a patch), and what the map's type adds. */
static int check_entry(const char *k, const json_t *x, const struct atr_field *f, const char *path,
		       const struct verdict *o)
{
	bool text_ok = json_is_string(x) && strlen(json_string_value(x)) == json_string_length(x) &&
		       json_string_length(x) <= 4096;
	bool name_ok = *k && strlen(k) <= 256;
	char sub[320];

	snprintf(sub, sizeof(sub), "%s.%s", path, k);
	if (f->type == ATR_F_STRMAP_PATCH) {
		if ((json_is_null(x) || text_ok) && name_ok)
			return 0;
		return fail(o, sub,
			    "must be a name of 1-256 bytes with a string value of at most 4096 bytes (null removes it)",
			    "");
	}
	if (!json_is_string(x))
		return fail(o, sub, "must be a string", "");
	if (!text_ok || !name_ok)
		return fail(o, sub, "must be a name of 1-256 bytes with a value of at most 4096 bytes and no NUL", "");
	return check_named_entry(k, x, f, path, sub, o);
}

/* The maps: ATR_F_STRMAP, ATR_F_ENV, ATR_F_LABELS, ATR_F_STRMAP_PATCH. */
static int check_map(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	const char *k;
	json_t *x;
	int rc = check_count(json_object_size(v), 0, f->max, "entries", path, o);

	if (rc < 0)
		return rc;
	json_object_foreach((json_t *)v, k, x)
	{
		if ((rc = check_entry(k, x, f, path, o)) < 0)
			return rc;
	}
	return 0;
}

static int validate_object(const json_t *obj, const struct atr_field *schema, const char *prefix,
			   const struct verdict *o);

/* One item of an array: a non-empty string (STRLIST), an id (IDLIST) or an object of f->sub
 * (ARRAY with a sub). */
static int check_item(const json_t *x, const struct atr_field *f, const char *path, const struct verdict *o)
{
	if (f->type == ATR_F_IDLIST) {
		if (!json_is_integer(x) || json_integer_value(x) < 1)
			return fail(o, path, "must be an id (an integer of at least 1)", "");
		return 0;
	}
	if (f->type == ATR_F_STRLIST) {
		struct atr_field item = { "", ATR_F_STRING, ATR_FF_REQUIRED, 1, 4096, NULL, NULL };
		if (!json_is_string(x))
			return fail(o, path, "must be a string", "");
		return check_string(x, &item, path, o);
	}
	if (!f->sub)
		return 0;
	if (!json_is_object(x))
		return fail(o, path, "must be an object", "");
	return validate_object(x, f->sub, path, o);
}

static int check_items(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	size_t i;
	json_t *x;
	int rc = check_count(json_array_size(v), f->min, f->max, "items", path, o);

	if (rc < 0)
		return rc;
	json_array_foreach(v, i, x)
	{
		char sub[256];
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((rc = check_item(x, f, sub, o)) < 0)
			return rc;
	}
	return 0;
}

/* Free-form values: only their size when encoded (max bytes; 0: any). */
static int check_encoded_size(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	char *s, m[48];
	size_t n;

	if (!f->max)
		return 0;
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	n = s ? strlen(s) : 0;
	free(s);
	if ((int64_t)n > f->max) {
		snprintf(m, sizeof(m), "at most %lld bytes", (long long)f->max);
		return fail(o, path, "must encode to ", m);
	}
	return 0;
}

/* ATR_F_COMMAND: the encoded size first (as ATR_F_ANY), then the shape. */
static int check_command(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	size_t i, n = json_array_size(v);
	json_t *x;
	int rc = check_encoded_size(v, f, path, o);

	if (rc < 0)
		return rc;
	if (json_is_string(v) && json_string_length(v) > 0 && strlen(json_string_value(v)) == json_string_length(v))
		return 0;
	if (json_is_string(v) || n == 0 || n > 4096)
		return fail(o, path, "must be ", type_name(f->type));
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x) ||
		    (i == 0 && json_string_length(x) == 0)) {
			char sub[300];
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			return fail(o, sub, "must be a string without NUL", i == 0 ? ", not empty" : "");
		}
	}
	return 0;
}

static int validate_value(const json_t *v, const struct atr_field *f, const char *path, const struct verdict *o)
{
	if (json_is_null(v)) {
		if (f->flags & ATR_FF_NULLABLE)
			return 0;
		return fail(o, path, "must not be null; expected ", type_name(f->type));
	}
	if (!kind_ok(f->type, v))
		return fail(o, path, "must be ", type_name(f->type));
	switch (f->type) {
	case ATR_F_STRING:
	case ATR_F_SLUG:
	case ATR_F_TIME:
	case ATR_F_NAME:
	case ATR_F_URL:
	case ATR_F_URL_PATH:
	case ATR_F_SEGMENT:
		return check_string(v, f, path, o);
	case ATR_F_INT_OR_STRING:
		return json_is_string(v) ? check_string(v, f, path, o) : 0;
	case ATR_F_INT:
		return check_int(v, f, path, o);
	case ATR_F_NUMBER:
		return check_number(v, f, path, o);
	case ATR_F_BOOL:
		return 0;
	case ATR_F_OBJECT:
		return f->sub ? validate_object(v, f->sub, path, o) : 0;
	case ATR_F_STRMAP:
	case ATR_F_ENV:
	case ATR_F_LABELS:
	case ATR_F_STRMAP_PATCH:
		return check_map(v, f, path, o);
	case ATR_F_ARRAY:
	case ATR_F_STRLIST:
	case ATR_F_IDLIST:
		return check_items(v, f, path, o);
	case ATR_F_COMMAND:
		return check_command(v, f, path, o);
	case ATR_F_ANY:
		return check_encoded_size(v, f, path, o);
	}
	return fail(o, path, "must be ", type_name(f->type));
}

static int validate_object(const json_t *obj, const struct atr_field *schema, const char *prefix,
			   const struct verdict *o)
{
	const char *key;
	json_t *v;
	char path[256];

	json_object_foreach((json_t *)obj, key, v)
	{
		const struct atr_field *f;
		for (f = schema; f->name; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (!f->name && !*key) /* (a field named "" would name no field: name its object) */
			return fail(o, *prefix ? prefix : "body", "has a field with an empty name", "");
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		if (!f->name)
			return fail(o, path, "is not a known field", "");
	}
	for (const struct atr_field *f = schema; f->name; f++) {
		int rc;
		v = json_object_get(obj, f->name);
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", f->name);
		if (!v) {
			if (f->flags & ATR_FF_REQUIRED)
				return fail(o, path, "is required", "");
			continue;
		}
		rc = validate_value(v, f, path, o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int atr_json_validate(const json_t *obj, const struct atr_field *schema, char *field, size_t fieldlen, char *msg,
		      size_t msglen)
{
	const struct verdict o = { field, fieldlen, msg, msglen };

	if (!json_is_object(obj)) {
		snprintf(field, fieldlen, "body");
		snprintf(msg, msglen, "the request body must be a JSON object");
		return ATR_EINVAL;
	}
	return validate_object(obj, schema, "", &o);
}

const char *atr_json_str(const json_t *o, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

int64_t atr_json_int(const json_t *o, const char *key, int64_t dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

double atr_json_num(const json_t *o, const char *key, double dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

bool atr_json_bool(const json_t *o, const char *key, bool dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

bool atr_json_has(const json_t *o, const char *key)
{
	return json_object_get(o, key) != NULL;
}

char *atr_json_dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}
