/*
 * launch_params.c: a launcher's typed parameters (atrium/launch_params.h): checking their
 * definitions, checking and completing the values a run gives, and substituting them into a
 * job spec's command and env with the quoting where they land needs. Pure: what a dataset or
 * model version reference points at is resolved by the caller (src/jobs/launcher.c).
 */
#include "atrium/launch_params.h"
#include "atrium/buf.h"
#include "atrium/err.h"
#include "atrium/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_MAX (1u << 20)

static const char *const types[] = { "string",	"integer",	   "float",	    "choice",
				     "boolean", "dataset_version", "model_version", NULL };

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool type_ok(const char *t)
{
	for (int i = 0; types[i]; i++)
		if (!strcmp(t, types[i]))
			return true;
	return false;
}

const json_t *atr_launch_param(const json_t *params, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(params, i, p)
	{
		if (!strcmp(atr_json_str(p, "name", ""), name))
			return p;
	}
	return NULL;
}

static bool text_ok(const char *s, size_t len, size_t max)
{
	if (len > max || strlen(s) != len)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* "name:ref" from a reference value; fixed: the parameter's dataset/model (may be NULL). */
static int ref_value(const json_t *v, const char *fixed, json_t **out, char *msg, size_t msglen)
{
	char buf[256];
	const char *s = json_string_value(v), *colon;

	if (json_is_integer(v) && fixed && json_integer_value(v) >= 1) {
		snprintf(buf, sizeof(buf), "%s:%lld", fixed, (long long)json_integer_value(v));
		*out = json_string(buf);
		return *out ? 0 : ATR_ENOMEM;
	}
	if (!s || !text_ok(s, json_string_length(v), 200) || !*s) {
		snprintf(msg, msglen, "must be \"name:version\"%s", fixed ? " or a version number" : "");
		return ATR_EINVAL;
	}
	colon = strchr(s, ':');
	if (!colon && fixed)
		snprintf(buf, sizeof(buf), "%s:%s", fixed, s);
	else if (!colon || colon == s || !colon[1] ||
		 (fixed && ((size_t)(colon - s) != strlen(fixed) || strncmp(s, fixed, strlen(fixed))))) {
		snprintf(msg, msglen, "must be \"%s:version\"", fixed ? fixed : "name");
		return ATR_EINVAL;
	} else
		snprintf(buf, sizeof(buf), "%s", s);
	*out = json_string(buf);
	return *out ? 0 : ATR_ENOMEM;
}

static int number_value(const json_t *p, const json_t *v, bool integer, char *msg, size_t msglen)
{
	double x = json_number_value(v);

	if (integer ? !json_is_integer(v) : (!json_is_number(v) || !isfinite(x))) {
		snprintf(msg, msglen, "must be %s", integer ? "an integer" : "a number");
		return ATR_EINVAL;
	}
	if (json_is_number(json_object_get(p, "min")) && x < json_number_value(json_object_get(p, "min"))) {
		snprintf(msg, msglen, "must be at least %.17g", json_number_value(json_object_get(p, "min")));
		return ATR_EINVAL;
	}
	if (json_is_number(json_object_get(p, "max")) && x > json_number_value(json_object_get(p, "max"))) {
		snprintf(msg, msglen, "must be at most %.17g", json_number_value(json_object_get(p, "max")));
		return ATR_EINVAL;
	}
	return 0;
}

static int choice_value(const json_t *p, const json_t *v, char *msg, size_t msglen)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(p, "choices"), i, c)
	{
		if (json_is_string(v) && json_equal(c, v))
			return 0;
	}
	snprintf(msg, msglen, "must be one of the parameter's choices");
	return ATR_EINVAL;
}

/* One value checked against its parameter; *out: the value as kept (new reference). */
static int check_value(const json_t *p, const json_t *v, json_t **out, char *msg, size_t msglen)
{
	const char *t = atr_json_str(p, "type", "");
	int rc = 0;

	*out = NULL;
	if (!strcmp(t, "dataset_version"))
		return ref_value(v, atr_json_str(p, "dataset", NULL), out, msg, msglen);
	if (!strcmp(t, "model_version"))
		return ref_value(v, atr_json_str(p, "model", NULL), out, msg, msglen);
	if (!strcmp(t, "string")) {
		size_t max = (size_t)atr_json_int(p, "max_length", ATR_LAUNCH_VALUE_MAX);
		if (!json_is_string(v) || !text_ok(json_string_value(v), json_string_length(v), max)) {
			snprintf(msg, msglen, "must be a string of at most %zu bytes without control characters", max);
			rc = ATR_EINVAL;
		}
	} else if (!strcmp(t, "integer") || !strcmp(t, "float"))
		rc = number_value(p, v, !strcmp(t, "integer"), msg, msglen);
	else if (!strcmp(t, "choice"))
		rc = choice_value(p, v, msg, msglen);
	else if (!strcmp(t, "boolean") && !json_is_boolean(v)) {
		snprintf(msg, msglen, "must be true or false");
		rc = ATR_EINVAL;
	}
	if (rc == 0)
		*out = json_incref((json_t *)v);
	return rc;
}

/* The extras each type takes (the schema lets any through; a wrong one would mislead). */
static int extras_ok(const json_t *p, const char *t, char *what, size_t len)
{
	bool number = !strcmp(t, "integer") || !strcmp(t, "float");
	const json_t *mn = json_object_get(p, "min"), *mx = json_object_get(p, "max");

	if ((mn || mx) && !number)
		return snprintf(what, len, "min"), ATR_EINVAL;
	if (!strcmp(t, "integer") && ((mn && !json_is_integer(mn)) || (mx && !json_is_integer(mx))))
		return snprintf(what, len, "min"), ATR_EINVAL;
	if (mn && mx && json_number_value(mn) > json_number_value(mx))
		return snprintf(what, len, "max"), ATR_EINVAL;
	if (atr_json_has(p, "choices") != !strcmp(t, "choice"))
		return snprintf(what, len, "choices"), ATR_EINVAL;
	if (atr_json_has(p, "max_length") && strcmp(t, "string"))
		return snprintf(what, len, "max_length"), ATR_EINVAL;
	if (atr_json_has(p, "dataset") && strcmp(t, "dataset_version"))
		return snprintf(what, len, "dataset"), ATR_EINVAL;
	if (atr_json_has(p, "model") && strcmp(t, "model_version"))
		return snprintf(what, len, "model"), ATR_EINVAL;
	return 0;
}

static int check_param(const json_t *params, size_t i, char *field, size_t fieldlen, char *msg, size_t msglen)
{
	const json_t *p = json_array_get(params, i), *dflt = json_object_get(p, "default");
	const char *name = atr_json_str(p, "name", ""), *t = atr_json_str(p, "type", "");
	char what[16];
	json_t *v = NULL;
	int rc;

	snprintf(field, fieldlen, "parameters[%zu].name", i);
	if (!name_ok(name))
		return snprintf(msg, msglen, "a parameter's name is 1-63 of [a-z0-9_], starting with a letter or _"),
		       ATR_EINVAL;
	if (atr_launch_param(params, name) != p)
		return snprintf(msg, msglen, "two parameters are called '%s'", name), ATR_EINVAL;
	snprintf(field, fieldlen, "parameters[%zu].type", i);
	if (!type_ok(t))
		return snprintf(msg, msglen, "unknown type '%s'", t), ATR_EINVAL;
	if (extras_ok(p, t, what, sizeof(what)) < 0) {
		snprintf(field, fieldlen, "parameters[%zu].%s", i, what);
		return snprintf(msg, msglen, "'%s' does not fit a %s parameter", what, t), ATR_EINVAL;
	}
	if (!dflt || json_is_null(dflt))
		return 0;
	snprintf(field, fieldlen, "parameters[%zu].default", i);
	rc = check_value(p, dflt, &v, msg, msglen);
	json_decref(v);
	return rc;
}

/* Each {{name}} of s names a parameter. */
static int placeholders_ok(const json_t *params, const char *s, char *msg, size_t msglen)
{
	const char *open, *close;
	char name[64];

	while ((open = strstr(s, "{{"))) {
		close = strstr(open + 2, "}}");
		if (!close || (size_t)(close - open - 2) >= sizeof(name)) {
			snprintf(msg, msglen,
				 "'{{' opens a placeholder that does not close with a parameter's name and '}}'");
			return ATR_EINVAL;
		}
		memcpy(name, open + 2, (size_t)(close - open - 2));
		name[close - open - 2] = 0;
		if (!atr_launch_param(params, name)) {
			snprintf(msg, msglen, "'{{%s}}' names no parameter", name);
			return ATR_EINVAL;
		}
		s = close + 2;
	}
	return 0;
}

static int spec_placeholders_ok(const json_t *params, const json_t *spec, char *field, size_t fieldlen, char *msg,
				size_t msglen)
{
	const json_t *cmd = json_object_get(spec, "command"), *it;
	const char *k;
	size_t i;

	snprintf(field, fieldlen, "spec.command");
	if (json_is_string(cmd) && placeholders_ok(params, json_string_value(cmd), msg, msglen) < 0)
		return ATR_EINVAL;
	json_array_foreach(cmd, i, it)
	{
		snprintf(field, fieldlen, "spec.command[%zu]", i);
		if (placeholders_ok(params, json_string_value(it) ? json_string_value(it) : "", msg, msglen) < 0)
			return ATR_EINVAL;
	}
	json_object_foreach((json_t *)json_object_get(spec, "env"), k, it)
	{
		snprintf(field, fieldlen, "spec.env.%s", k);
		if (placeholders_ok(params, json_string_value(it) ? json_string_value(it) : "", msg, msglen) < 0)
			return ATR_EINVAL;
	}
	return 0;
}

int atr_launch_params_check(const json_t *params, const json_t *spec, char *field, size_t fieldlen, char *msg,
			    size_t msglen)
{
	int rc;

	if (json_array_size(params) > ATR_LAUNCH_MAX_PARAMS) {
		snprintf(field, fieldlen, "parameters");
		snprintf(msg, msglen, "at most %d parameters", ATR_LAUNCH_MAX_PARAMS);
		return ATR_EINVAL;
	}
	for (size_t i = 0; i < json_array_size(params); i++)
		if ((rc = check_param(params, i, field, fieldlen, msg, msglen)) < 0)
			return rc;
	return spec_placeholders_ok(params, spec, field, fieldlen, msg, msglen);
}

/* Unknown names in values. */
static int unknown_ok(const json_t *params, const json_t *values, char *field, size_t fieldlen, char *msg,
		      size_t msglen)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)values, k, v)
	{
		if (!atr_launch_param(params, k)) {
			snprintf(field, fieldlen, "values.%.100s", k);
			snprintf(msg, msglen, "the launcher has no parameter '%.100s'", k);
			return ATR_EINVAL;
		}
	}
	return 0;
}

int atr_launch_values(const json_t *params, const json_t *values, json_t **out, char *field, size_t fieldlen, char *msg,
		      size_t msglen)
{
	json_t *all = json_object(), *p, *v;
	size_t i;
	int rc = all ? unknown_ok(params, values, field, fieldlen, msg, msglen) : ATR_ENOMEM;

	json_array_foreach(params, i, p)
	{
		const char *name = atr_json_str(p, "name", "");
		const json_t *given = json_object_get(values, name);

		if (rc < 0)
			break;
		if (!given || json_is_null(given))
			given = json_object_get(p, "default");
		snprintf(field, fieldlen, "values.%s", name);
		if (!given || json_is_null(given)) {
			snprintf(msg, msglen, "parameter '%s' is required (it has no default)", name);
			rc = ATR_EINVAL;
		} else if ((rc = check_value(p, given, &v, msg, msglen)) == 0 && json_object_set_new(all, name, v) < 0)
			rc = ATR_ENOMEM;
	}
	if (rc < 0) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return 0;
}

int atr_launch_value_text(const json_t *v, char *buf, size_t len)
{
	int n = 0;

	if (json_is_string(v))
		n = snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		n = snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		n = snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_real(v)) {
		/* the shortest that reads back the same */
		for (int prec = 1; prec <= 17; prec++) {
			n = snprintf(buf, len, "%.*g", prec, json_real_value(v));
			if (n > 0 && (size_t)n < len && strtod(buf, NULL) == json_real_value(v))
				break;
		}
	} else
		n = snprintf(buf, len, "%s", "");
	return n < 0 || (size_t)n >= len ? ATR_ETOOBIG : 0;
}

char *atr_shell_quote(const char *s)
{
	struct atr_buf b;
	int rc;

	atr_buf_init(&b, CMD_MAX + 16);
	rc = atr_buf_puts(&b, "'");
	for (; *s && rc == 0; s++)
		rc = *s == '\'' ? atr_buf_puts(&b, "'\\''") : atr_buf_append(&b, s, 1);
	if (rc == 0)
		rc = atr_buf_puts(&b, "'");
	if (rc < 0) {
		atr_buf_release(&b);
		return NULL;
	}
	return atr_buf_steal(&b);
}

/* s with each {{name}} replaced (quoted: as one shell word). New string, or NULL (*rc says). */
static char *substitute(const char *s, const json_t *values, bool quoted, int *rc)
{
	char text[ATR_LAUNCH_VALUE_MAX + 256], name[64];
	const char *open, *close;
	struct atr_buf b;

	atr_buf_init(&b, CMD_MAX);
	*rc = 0;
	while (*rc == 0 && (open = strstr(s, "{{")) && (close = strstr(open + 2, "}}")) &&
	       (size_t)(close - open - 2) < sizeof(name)) {
		char *q = NULL;
		memcpy(name, open + 2, (size_t)(close - open - 2));
		name[close - open - 2] = 0;
		*rc = atr_buf_append(&b, s, (size_t)(open - s));
		if (*rc == 0)
			*rc = atr_launch_value_text(json_object_get(values, name), text, sizeof(text));
		if (*rc == 0 && quoted && !(q = atr_shell_quote(text)))
			*rc = ATR_ENOMEM;
		if (*rc == 0)
			*rc = atr_buf_puts(&b, q ? q : text);
		free(q);
		s = close + 2;
	}
	if (*rc == 0)
		*rc = atr_buf_puts(&b, s);
	if (*rc < 0) {
		atr_buf_release(&b);
		return NULL;
	}
	return atr_buf_steal(&b);
}

/* Replaces the strings of a command array or an env object in place. */
static int substitute_all(json_t *c, const json_t *values)
{
	const char *k;
	json_t *it;
	size_t i;
	int rc = 0;

	json_array_foreach(c, i, it)
	{
		char *s = substitute(json_string_value(it) ? json_string_value(it) : "", values, false, &rc);
		if (!s || json_array_set_new(c, i, json_string(s)) < 0)
			rc = rc < 0 ? rc : ATR_ENOMEM;
		free(s);
		if (rc < 0)
			return rc;
	}
	json_object_foreach(c, k, it)
	{
		char *s = substitute(json_string_value(it) ? json_string_value(it) : "", values, false, &rc);
		if (!s || json_object_set_new(c, k, json_string(s)) < 0)
			rc = rc < 0 ? rc : ATR_ENOMEM;
		free(s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int atr_launch_expand(const json_t *spec, const json_t *values, json_t **out, char *field, size_t fieldlen)
{
	json_t *body = json_deep_copy(spec), *cmd = json_object_get(body, "command");
	char *s;
	int rc = body ? 0 : ATR_ENOMEM;

	snprintf(field, fieldlen, "spec.command");
	if (rc == 0 && json_is_string(cmd)) {
		if (!(s = substitute(json_string_value(cmd), values, true, &rc)) ||
		    json_object_set_new(body, "command", json_string(s)) < 0)
			rc = rc < 0 ? rc : ATR_ENOMEM;
		free(s);
	} else if (rc == 0)
		rc = substitute_all(cmd, values);
	if (rc == 0 && json_object_get(body, "env")) {
		snprintf(field, fieldlen, "spec.env");
		rc = substitute_all(json_object_get(body, "env"), values);
	}
	if (rc < 0) {
		json_decref(body);
		return rc;
	}
	*out = body;
	return 0;
}
