/*
 * sweep_space.c: search spaces of sweeps: parsing a space from JSON (naming the bad field) and
 * the parameter values of trial i, by grid enumeration or by random draws seeded from the
 * sweep's seed and i. Pure: no I/O. ASHA is in asha.c.
 */
#include "atrium/sweep.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t atr_sweep_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

double atr_sweep_rand01(uint64_t *state)
{
	return (double)(atr_sweep_rand(state) >> 11) * 0x1.0p-53;
}

/* An integer uniform in [0, n) without modulo bias (n > 0). */
static uint64_t rand_below(uint64_t *state, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;

	do
		x = atr_sweep_rand(state);
	while (x >= lim);
	return x % n;
}

static int bad(char *field, size_t fsz, char *why, size_t wsz, const char *name, const char *key, const char *msg)
{
	snprintf(field, fsz, "search_space%s%s%s%s", name ? "." : "", name ? name : "", key ? "." : "", key ? key : "");
	snprintf(why, wsz, "%s", msg);
	return ATR_EINVAL;
}

#define BAD(key, msg) bad(field, fsz, why, wsz, name, key, msg)

static int num(const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return isfinite(*out) ? 0 : -1;
}

static int whole(const json_t *o, const char *key, long long *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return *out >= -1000000000000LL && *out <= 1000000000000LL ? 0 : -1;
}

static int only_keys(const json_t *spec, const char *const *allowed, const char **unknown)
{
	const char *k;
	const json_t *v;

	json_object_foreach((json_t *)spec, k, v)
	{
		size_t i = 0;
		(void)v;
		while (allowed[i] && strcmp(allowed[i], k))
			i++;
		if (!allowed[i]) {
			*unknown = k;
			return -1;
		}
	}
	return 0;
}

static int parse_choice(const json_t *spec, struct atr_space_param *p, const char *name, char *field, size_t fsz,
			char *why, size_t wsz)
{
	static const char *const keys[] = { "type", "values", NULL };
	json_t *vals = json_object_get(spec, "values");
	const char *unknown;
	size_t i;
	json_t *v;

	if (only_keys(spec, keys, &unknown))
		return bad(field, fsz, why, wsz, name, unknown, "unknown field for a choice");
	if (!json_is_array(vals) || json_array_size(vals) < 1 || json_array_size(vals) > 1000)
		return BAD("values", "must be an array of 1 to 1000 values");
	json_array_foreach(vals, i, v)
	{
		if (json_is_object(v) || json_is_array(v))
			return BAD("values", "each value must be a string, number, boolean or null");
	}
	p->kind = ATR_SPACE_CHOICE;
	p->values = json_incref(vals);
	return 0;
}

static int parse_int(const json_t *spec, int grid, struct atr_space_param *p, const char *name, char *field, size_t fsz,
		     char *why, size_t wsz)
{
	static const char *const keys[] = { "type", "min", "max", "step", NULL };
	const char *unknown;

	(void)grid;
	if (only_keys(spec, keys, &unknown))
		return bad(field, fsz, why, wsz, name, unknown, "unknown field for an int range");
	if (whole(spec, "min", &p->imin))
		return BAD("min", "must be an integer within +-1e12");
	if (whole(spec, "max", &p->imax) || p->imax < p->imin)
		return BAD("max", "must be an integer within +-1e12, at least min");
	p->step = 1;
	if (json_object_get(spec, "step") && (whole(spec, "step", &p->step) || p->step < 1))
		return BAD("step", "must be a positive integer");
	p->kind = ATR_SPACE_INT;
	p->min = (double)p->imin;
	p->max = (double)p->imax;
	return 0;
}

static int parse_range(const json_t *spec, int grid, int log, struct atr_space_param *p, const char *name, char *field,
		       size_t fsz, char *why, size_t wsz)
{
	static const char *const keys[] = { "type", "min", "max", "count", NULL };
	const char *unknown;
	long long count = 0;

	if (only_keys(spec, keys, &unknown))
		return bad(field, fsz, why, wsz, name, unknown, "unknown field for a number range");
	if (num(spec, "min", &p->min) || (log && p->min <= 0))
		return BAD("min", log ? "must be a number above 0" : "must be a finite number");
	if (num(spec, "max", &p->max) || p->max < p->min)
		return BAD("max", "must be a finite number, at least min");
	if (json_object_get(spec, "count") && (whole(spec, "count", &count) || count < 1 || count > 10000))
		return BAD("count", "must be an integer from 1 to 10000");
	if (grid && !count)
		return BAD("count", "a grid needs the number of points of a number range");
	p->count = (size_t)count;
	p->kind = log ? ATR_SPACE_LOG_UNIFORM : ATR_SPACE_UNIFORM;
	return 0;
}

static size_t points(const struct atr_space_param *p)
{
	switch (p->kind) {
	case ATR_SPACE_CHOICE:
		return json_array_size(p->values);
	case ATR_SPACE_INT:
		return (size_t)((p->imax - p->imin) / p->step) + 1;
	default:
		return p->count;
	}
}

static int parse_one(const char *name, const json_t *spec, int grid, struct atr_space_param *p, char *field, size_t fsz,
		     char *why, size_t wsz)
{
	const char *type = json_string_value(json_object_get(spec, "type"));

	if (!json_is_object(spec))
		return BAD(NULL, "must be an object with a \"type\"");
	if (!type)
		return BAD("type", "must be one of choice, uniform, log_uniform, int");
	if (!strcmp(type, "choice"))
		return parse_choice(spec, p, name, field, fsz, why, wsz);
	if (!strcmp(type, "int"))
		return parse_int(spec, grid, p, name, field, fsz, why, wsz);
	if (!strcmp(type, "uniform") || !strcmp(type, "log_uniform"))
		return parse_range(spec, grid, type[0] == 'l', p, name, field, fsz, why, wsz);
	return BAD("type", "must be one of choice, uniform, log_uniform, int");
}

int atr_space_parse(const json_t *spec, int grid, struct atr_space *out, char *field, size_t fsz, char *why, size_t wsz)
{
	const char *name;
	json_t *v;
	int rc;

	memset(out, 0, sizeof(*out));
	out->grid = grid ? 1 : 0;
	out->grid_size = grid ? 1 : 0;
	if (!json_is_object(spec) || json_object_size(spec) < 1 || json_object_size(spec) > ATR_SPACE_MAX_PARAMS)
		return bad(field, fsz, why, wsz, NULL, NULL, "must be an object of 1 to 32 parameters");
	json_object_foreach((json_t *)spec, name, v)
	{
		struct atr_space_param *p = &out->p[out->n];

		if (!name[0] || strlen(name) > 64)
			return atr_space_release(out),
			       bad(field, fsz, why, wsz, NULL, NULL, "parameter names must be 1 to 64 characters");
		if ((rc = parse_one(name, v, grid, p, field, fsz, why, wsz)) < 0)
			return atr_space_release(out), rc;
		if (!(p->name = atr_strdup(name)))
			return json_decref(p->values), p->values = NULL, atr_space_release(out), ATR_ENOMEM;
		out->n++;
		if (grid) {
			size_t k = points(p);
			if (k > ATR_SPACE_MAX_GRID / out->grid_size)
				return atr_space_release(out),
				       bad(field, fsz, why, wsz, NULL, NULL, "the grid has more than 1000000 points");
			out->grid_size *= k;
		}
	}
	return 0;
}

void atr_space_release(struct atr_space *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->p[i].name);
		json_decref(s->p[i].values);
	}
	s->n = 0;
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* The k-th of a range's `count` grid points: evenly spaced, on a log scale for log ranges;
 * the ends exactly min and max, the others to 12 significant digits (0.01, not the
 * 0.010000000000000002 that exp(log(x)) gives). */
static double grid_number(const struct atr_space_param *p, size_t k)
{
	double t = p->count > 1 ? (double)k / (double)(p->count - 1) : 0.0, x;
	char text[40];

	if (k == 0 || k + 1 >= p->count)
		return k == 0 ? p->min : p->max;
	if (p->kind == ATR_SPACE_LOG_UNIFORM)
		x = exp(log(p->min) + t * (log(p->max) - log(p->min)));
	else
		x = p->min + t * (p->max - p->min);
	snprintf(text, sizeof(text), "%.12g", x);
	return clamp(strtod(text, NULL), p->min, p->max);
}

static json_t *grid_value(const struct atr_space_param *p, size_t k)
{
	switch (p->kind) {
	case ATR_SPACE_CHOICE:
		return json_incref(json_array_get(p->values, k));
	case ATR_SPACE_INT:
		return json_integer(p->imin + (long long)k * p->step);
	default:
		return json_real(grid_number(p, k));
	}
}

static json_t *random_value(const struct atr_space_param *p, uint64_t *st)
{
	double u;

	switch (p->kind) {
	case ATR_SPACE_CHOICE:
		return json_incref(json_array_get(p->values, rand_below(st, json_array_size(p->values))));
	case ATR_SPACE_INT:
		return json_integer(p->imin + (long long)rand_below(st, (uint64_t)points(p)) * p->step);
	case ATR_SPACE_LOG_UNIFORM:
		u = atr_sweep_rand01(st);
		return json_real(clamp(exp(log(p->min) + u * (log(p->max) - log(p->min))), p->min, p->max));
	default:
		u = atr_sweep_rand01(st);
		return json_real(clamp(p->min + u * (p->max - p->min), p->min, p->max));
	}
}

json_t *atr_space_point(const struct atr_space *s, uint64_t seed, size_t index)
{
	json_t *o = json_object();
	uint64_t st = seed ^ ((uint64_t)index * 0xD1B54A32D192ED03ULL);
	size_t rest = s->grid_size ? index % s->grid_size : 0;
	size_t stride = s->grid_size;

	(void)atr_sweep_rand(&st); /* decorrelate neighbouring indices */
	for (size_t i = 0; o && i < s->n; i++) {
		const struct atr_space_param *p = &s->p[i];
		json_t *v;

		if (s->grid) { /* row-major: the first parameter varies slowest */
			stride /= points(p);
			v = grid_value(p, rest / stride);
			rest %= stride;
		} else {
			v = random_value(p, &st);
		}
		if (!v || json_object_set_new(o, p->name, v)) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}
