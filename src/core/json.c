/*
 * json.c: the one request-body validator (descriptor tables, first bad field named) and
 * typed getters. Strings are checked as jansson gives them: valid UTF-8, may hold NUL
 * (json_string_length), which string fields refuse.
 */
#include "atrium/json.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct atr_field atr_schema_empty[] = { { 0 } };

static const char *type_name(enum atr_ftype t)
{
	switch (t) {
	case ATR_F_STRING:
	case ATR_F_SLUG:
	case ATR_F_TIME:
		return "a string";
	case ATR_F_INT:
		return "an integer";
	case ATR_F_NUMBER:
		return "a number";
	case ATR_F_BOOL:
		return "true or false";
	case ATR_F_OBJECT:
	case ATR_F_STRMAP:
		return "an object";
	case ATR_F_ARRAY:
	case ATR_F_STRLIST:
		return "an array";
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

/* Names the field and writes "'<path>' <what><extra>". */
static int fail(char *field, size_t fieldlen, const char *path, char *msg, size_t msglen, const char *what,
		const char *extra)
{
	atr_copy(field, fieldlen, path);
	snprintf(msg, msglen, "'%s' %s%s", path, what, extra);
	return ATR_EINVAL;
}

static int check_string(const json_t *v, const struct atr_field *f, const char *path, char *field, size_t fieldlen,
			char *msg, size_t msglen)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	int64_t max = f->max ? f->max : 4096;

	if (strlen(s) != n)
		return fail(field, fieldlen, path, msg, msglen, "must not contain NUL characters", "");
	if ((int64_t)n < f->min || (f->min == 0 && n == 0 && (f->flags & ATR_FF_REQUIRED)))
		return fail(field, fieldlen, path, msg, msglen, "must not be empty", "");
	if ((int64_t)n > max) {
		char m[32];
		snprintf(m, sizeof(m), "at most %lld bytes long", (long long)max);
		return fail(field, fieldlen, path, msg, msglen, "must be ", m);
	}
	if (f->type == ATR_F_SLUG && !atr_is_slug(s))
		return fail(field, fieldlen, path, msg, msglen,
			    "must be lowercase letters, digits and '-' (starting with a letter or digit, at most 63)",
			    "");
	if (f->type == ATR_F_TIME) {
		int64_t ms;
		if (atr_time_parse(s, &ms) < 0)
			return fail(field, fieldlen, path, msg, msglen, "must be an RFC 3339 time", "");
	}
	if (f->enums && !enum_has(f->enums, s, n))
		return fail(field, fieldlen, path, msg, msglen, "must be one of ", f->enums);
	return 0;
}

static int validate_value(const json_t *v, const struct atr_field *f, const char *path, char *field, size_t fieldlen,
			  char *msg, size_t msglen);

static int validate_object(const json_t *obj, const struct atr_field *schema, const char *prefix, char *field,
			   size_t fieldlen, char *msg, size_t msglen)
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
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		if (!f->name)
			return fail(field, fieldlen, path, msg, msglen, "is not a known field", "");
	}
	for (const struct atr_field *f = schema; f->name; f++) {
		int rc;
		v = json_object_get(obj, f->name);
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", f->name);
		if (!v) {
			if (f->flags & ATR_FF_REQUIRED)
				return fail(field, fieldlen, path, msg, msglen, "is required", "");
			continue;
		}
		rc = validate_value(v, f, path, field, fieldlen, msg, msglen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int validate_value(const json_t *v, const struct atr_field *f, const char *path, char *field, size_t fieldlen,
			  char *msg, size_t msglen)
{
	char m[48];

	if (json_is_null(v)) {
		if (f->flags & ATR_FF_NULLABLE)
			return 0;
		return fail(field, fieldlen, path, msg, msglen, "must not be null; expected ", type_name(f->type));
	}
	switch (f->type) {
	case ATR_F_STRING:
	case ATR_F_SLUG:
	case ATR_F_TIME:
		if (!json_is_string(v))
			break;
		return check_string(v, f, path, field, fieldlen, msg, msglen);
	case ATR_F_INT_OR_STRING:
		if (json_is_integer(v))
			return 0;
		if (!json_is_string(v))
			break;
		return check_string(v, f, path, field, fieldlen, msg, msglen);
	case ATR_F_INT: {
		json_int_t i;
		if (!json_is_integer(v))
			break;
		i = json_integer_value(v);
		if ((f->min || f->max) && (i < f->min || i > f->max)) {
			snprintf(m, sizeof(m), "%lld and %lld", (long long)f->min, (long long)f->max);
			return fail(field, fieldlen, path, msg, msglen, "must be between ", m);
		}
		return 0;
	}
	case ATR_F_NUMBER:
		if (!json_is_number(v))
			break;
		if (!isfinite(json_number_value(v)))
			return fail(field, fieldlen, path, msg, msglen, "must be a finite number", "");
		return 0;
	case ATR_F_BOOL:
		if (!json_is_boolean(v))
			break;
		return 0;
	case ATR_F_OBJECT:
		if (!json_is_object(v))
			break;
		return f->sub ? validate_object(v, f->sub, path, field, fieldlen, msg, msglen) : 0;
	case ATR_F_STRMAP: {
		const char *k;
		json_t *x;
		if (!json_is_object(v))
			break;
		if (f->max && (int64_t)json_object_size(v) > f->max) {
			snprintf(m, sizeof(m), "at most %lld entries", (long long)f->max);
			return fail(field, fieldlen, path, msg, msglen, "must have ", m);
		}
		json_object_foreach((json_t *)v, k, x)
		{
			char sub[256];
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			if (!json_is_string(x))
				return fail(field, fieldlen, sub, msg, msglen, "must be a string", "");
			if (strlen(json_string_value(x)) != json_string_length(x) || json_string_length(x) > 4096 ||
			    !*k || strlen(k) > 256)
				return fail(
					field, fieldlen, sub, msg, msglen,
					"must be a name of 1-256 bytes with a value of at most 4096 bytes and no NUL",
					"");
		}
		return 0;
	}
	case ATR_F_STRLIST:
	case ATR_F_ARRAY: {
		size_t i;
		json_t *x;
		if (!json_is_array(v))
			break;
		if (f->max && (int64_t)json_array_size(v) > f->max) {
			snprintf(m, sizeof(m), "at most %lld items", (long long)f->max);
			return fail(field, fieldlen, path, msg, msglen, "must have ", m);
		}
		json_array_foreach(v, i, x)
		{
			char sub[256];
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (f->type == ATR_F_STRLIST) {
				struct atr_field item = { "", ATR_F_STRING, ATR_FF_REQUIRED, 1, 4096, NULL, NULL };
				int rc;
				if (!json_is_string(x))
					return fail(field, fieldlen, sub, msg, msglen, "must be a string", "");
				rc = check_string(x, &item, sub, field, fieldlen, msg, msglen);
				if (rc < 0)
					return rc;
			} else if (f->sub) {
				int rc;
				if (!json_is_object(x))
					return fail(field, fieldlen, sub, msg, msglen, "must be an object", "");
				rc = validate_object(x, f->sub, sub, field, fieldlen, msg, msglen);
				if (rc < 0)
					return rc;
			}
		}
		return 0;
	}
	case ATR_F_ANY:
		if (f->max) {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			size_t n = s ? strlen(s) : 0;
			free(s);
			if ((int64_t)n > f->max) {
				snprintf(m, sizeof(m), "at most %lld bytes", (long long)f->max);
				return fail(field, fieldlen, path, msg, msglen, "must encode to ", m);
			}
		}
		return 0;
	}
	return fail(field, fieldlen, path, msg, msglen, "must be ", type_name(f->type));
}

int atr_json_validate(const json_t *obj, const struct atr_field *schema, char *field, size_t fieldlen, char *msg,
		      size_t msglen)
{
	if (!json_is_object(obj)) {
		snprintf(field, fieldlen, "body");
		snprintf(msg, msglen, "the request body must be a JSON object");
		return ATR_EINVAL;
	}
	return validate_object(obj, schema, "", field, fieldlen, msg, msglen);
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
