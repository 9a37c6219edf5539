/*
 * sweeps.c: /api/v1/projects/{project}/sweeps: creating a sweep (a launcher version over a
 * search space, with ASHA early stopping), listing and reading sweeps with their trials and
 * best trial, pausing, resuming and cancelling them. The search space and ASHA are pure
 * (atrium/sweep.h); submitting trials and stopping them, the controller (atrium/sweeps.h).
 */
#include "api.h"
#include "atrium/app.h"
#include "atrium/launch_params.h"
#include "atrium/store_launchers.h"
#include "atrium/store_sweeps.h"
#include "atrium/sweep.h"
#include "atrium/sweeps.h"
#include "atrium/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRIALS 1000
#define MAX_PARALLEL 100
#define CHECKED_POINTS 32 /* the first points' values are checked against the launcher's types */

static const struct atr_field asha_schema[] = {
	{ "min_resource", ATR_F_NUMBER, ATR_FF_REQUIRED, 0, 1000000000, NULL, NULL },
	{ "eta", ATR_F_INT, 0, 2, 10, NULL, NULL },
	{ "rungs", ATR_F_INT, 0, 1, ATR_ASHA_MAX_RUNGS, NULL, NULL },
	{ 0 },
};

const struct atr_field api_sweep_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "launcher", ATR_F_NAME, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "launcher_version", ATR_F_INT, 0, 1, INT32_MAX, NULL, NULL },
	{ "method", ATR_F_STRING, ATR_FF_REQUIRED, 0, 0, "grid|random", NULL },
	{ "search_space", ATR_F_OBJECT, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ "values", ATR_F_OBJECT, 0, 0, 0, NULL, NULL },
	{ "max_trials", ATR_F_INT, ATR_FF_REQUIRED, 1, MAX_TRIALS, NULL, NULL },
	{ "parallelism", ATR_F_INT, 0, 1, MAX_PARALLEL, NULL, NULL },
	{ "metric", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "direction", ATR_F_STRING, ATR_FF_REQUIRED, 0, 0, "minimize|maximize", NULL },
	{ "asha", ATR_F_OBJECT, ATR_FF_NULLABLE, 0, 0, NULL, asha_schema },
	{ "seed", ATR_F_INT, 0, 0, 9007199254740991LL, NULL, NULL },
	{ 0 },
};

/* The launcher and its version named by the body into row (spec and params: new references). */
static int launcher_or_reply(struct atr_req *r, const json_t *body, struct atr_sweep_row *row, json_t **spec,
			     json_t **params)
{
	struct atr_launcher l;
	const char *name = atr_json_str(body, "launcher", "");
	int64_t want = json_integer_value(json_object_get(body, "launcher_version")), v;
	int rc = atr_store_launcher_find(STORE(r), RES(r)->project.id, name, &l);

	if (rc == ATR_ENOTFOUND || (rc == 0 && l.archived)) {
		atr_reply_invalid(r, "launcher", "launcher '%s' does not exist in this project%s", name,
				  rc == 0 ? " (it is archived)" : "");
		return -1;
	}
	if (rc == 0 && (rc = atr_store_launcher_version(STORE(r), l.id, want, &v, spec, params)) == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "launcher_version", "launcher '%s' has no version %lld", name, (long long)want);
		return -1;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read launcher '%s'", name);
		return -1;
	}
	row->launcher_id = l.id;
	row->launcher_version = v;
	return 0;
}

/* ASHA's settings: min_resource above 0; eta 3 and 4 rungs unless given. */
static int asha_or_reply(struct atr_req *r, const json_t *a, json_t **out)
{
	double min = json_number_value(json_object_get(a, "min_resource"));

	*out = NULL;
	if (!json_is_object(a))
		return 0;
	if (!(min > 0)) {
		atr_reply_invalid(r, "asha.min_resource", "'asha.min_resource' must be above 0 (a step count)");
		return -1;
	}
	*out = json_pack(
		"{s:f, s:I, s:I}", "min_resource", min, "eta",
		(json_int_t)(json_object_get(a, "eta") ? json_integer_value(json_object_get(a, "eta")) : 3), "rungs",
		(json_int_t)(json_object_get(a, "rungs") ? json_integer_value(json_object_get(a, "rungs")) : 4));
	if (!*out) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	return 0;
}

/* Every parameter of the space is one of the launcher's, and the first points' values pass its
 * types (a float range for an integer parameter is refused here, not trial by trial). */
static int space_or_reply(struct atr_req *r, const struct atr_space *sp, const json_t *fixed, const json_t *params,
			  uint64_t seed)
{
	char field[160], msg[320];
	size_t n = sp->grid ? (sp->grid_size < CHECKED_POINTS ? sp->grid_size : CHECKED_POINTS) : CHECKED_POINTS;

	for (size_t i = 0; i < sp->n; i++)
		if (!atr_launch_param(params, sp->p[i].name)) {
			snprintf(field, sizeof(field), "search_space.%s", sp->p[i].name);
			atr_reply_invalid(r, atr_req_strdup(r, field), "'%s' is not a parameter of the launcher",
					  sp->p[i].name);
			return -1;
		}
	for (size_t i = 0; i < n; i++) {
		json_t *pt = atr_space_point(sp, seed, i), *v = fixed ? json_deep_copy(fixed) : json_object(),
		       *out = NULL;
		int rc = pt && v && json_object_update(v, pt) == 0
				 ? atr_launch_values(params, v, &out, field, sizeof(field), msg, sizeof(msg))
				 : ATR_ENOMEM;
		json_decref(pt);
		json_decref(v);
		json_decref(out);
		if (rc < 0) {
			atr_reply_err(r, rc, rc == ATR_EINVAL ? atr_req_strdup(r, field) : NULL, "%s",
				      rc == ATR_EINVAL ? msg : "out of memory");
			return -1;
		}
	}
	return 0;
}

/* The body into row (json fields borrowed from the body or owned by *asha). */
static int row_or_reply(struct atr_req *r, const json_t *body, struct atr_sweep_row *row, json_t **asha)
{
	json_t *seed = json_object_get(body, "seed");

	memset(row, 0, sizeof(*row));
	row->project_id = RES(r)->project.id;
	row->created_by = atr_req_who(r)->user_id;
	atr_copy(row->name, sizeof(row->name), atr_json_str(body, "name", ""));
	atr_copy(row->method, sizeof(row->method), atr_json_str(body, "method", "random"));
	atr_copy(row->metric, sizeof(row->metric), atr_json_str(body, "metric", ""));
	atr_copy(row->direction, sizeof(row->direction), atr_json_str(body, "direction", "minimize"));
	row->max_trials = json_integer_value(json_object_get(body, "max_trials"));
	row->parallelism =
		json_object_get(body, "parallelism") ? json_integer_value(json_object_get(body, "parallelism")) : 1;
	row->seed = seed ? (uint64_t)json_integer_value(seed) : (uint64_t)atr_now_us();
	row->seed &= 0x1FFFFFFFFFFFFFULL; /* 2^53 - 1: exact in JavaScript too */
	row->space = json_object_get(body, "search_space");
	row->fixed = json_object_get(body, "values");
	return asha_or_reply(r, json_object_get(body, "asha"), asha);
}

static void reply_sweep(struct atr_req *r, unsigned status, int64_t id)
{
	int rc = 0;
	json_t *o = atr_store_sweep_json(STORE(r), id, &rc);

	if (!o) {
		atr_reply_err(r, rc, NULL, "could not read sweep %lld", (long long)id);
		return;
	}
	atr_reply_json(r, status, o);
}

/* The row committed, then the controller's first trial: refused, the row goes again. */
static void create_and_start(struct atr_req *r, struct atr_sweep_row *row)
{
	char field[160] = "", msg[320] = "";
	int rc;

	if ((rc = atr_store_sweep_create(STORE(r), row)) < 0) {
		atr_reply_err(r, rc, NULL, "could not create sweep '%s'", row->name);
		return;
	}
	if ((rc = atr_sweeps_start(APP(r)->sweeps, row->id, field, sizeof(field), msg, sizeof(msg))) < 0) {
		atr_store_sweep_delete(STORE(r), row->id);
		atr_reply_err(r, rc, field[0] ? atr_req_strdup(r, field) : NULL, "%s",
			      msg[0] ? msg : "the sweep's first trial could not be submitted");
		return;
	}
	reply_sweep(r, 201, row->id);
}

void api_sweeps_create(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	struct atr_sweep_row row;
	struct atr_space sp;
	json_t *asha = NULL, *spec = NULL, *params = NULL;
	char field[128], why[128];
	int rc;

	if (row_or_reply(r, body, &row, &asha) < 0 || launcher_or_reply(r, body, &row, &spec, &params) < 0)
		goto out;
	row.asha = asha;
	rc = atr_space_parse(row.space, !strcmp(row.method, "grid"), &sp, field, sizeof(field), why, sizeof(why));
	if (rc < 0) {
		atr_reply_err(r, rc, rc == ATR_EINVAL ? atr_req_strdup(r, field) : NULL, "'%s' %s", field,
			      rc == ATR_EINVAL ? why : "could not be read");
		goto out;
	}
	rc = space_or_reply(r, &sp, row.fixed, params, row.seed);
	atr_space_release(&sp);
	if (rc == 0)
		create_and_start(r, &row);
out:
	json_decref(asha);
	json_decref(spec);
	json_decref(params);
}

const struct atr_qparam api_sweeps_list_query[] = {
	ATR_Q_PAGE,
	{ "state", ATR_Q_ENUM, 0, 0, 0, 0, "running|paused|cancelled|completed", "only sweeps in this state" },
	{ 0 },
};

static int list_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	(void)arg;
	return atr_store_sweep_list(STORE(r), RES(r)->project.id, atr_req_query(r, "state"), p, arr, more);
}

void api_sweeps_list(struct atr_req *r)
{
	api_reply_list_cb(r, list_cb, NULL, "sweeps");
}

/* A finished sweep (cancelled or completed) goes with its trials; its jobs and runs stay. */
void api_sweeps_delete(struct atr_req *r)
{
	const char *state = RES(r)->sweep.state;
	int rc;

	if (strcmp(state, "cancelled") != 0 && strcmp(state, "completed") != 0) {
		atr_reply_conflict(r, "state", "sweep %lld is %s: cancel it before deleting it",
				   (long long)RES(r)->sweep.id, state);
		return;
	}
	rc = atr_store_sweep_delete(STORE(r), RES(r)->sweep.id);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete sweep %lld", (long long)RES(r)->sweep.id);
		return;
	}
	atr_reply_empty(r, 204);
}

void api_sweeps_get(struct atr_req *r)
{
	reply_sweep(r, 200, RES(r)->sweep.id);
}

/* pause, resume, cancel: the controller's answer, or 409 naming the sweep's state. */
static void command(struct atr_req *r, int (*fn)(struct atr_sweeps *, int64_t), const char *verb)
{
	int rc = fn(APP(r)->sweeps, RES(r)->sweep.id);

	if (rc == ATR_ENOTFOUND || rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "state", "sweep %lld is %s: it cannot be %s", (long long)RES(r)->sweep.id,
				   RES(r)->sweep.state, verb);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not change sweep %lld", (long long)RES(r)->sweep.id);
		return;
	}
	reply_sweep(r, 200, RES(r)->sweep.id);
}

void api_sweeps_pause(struct atr_req *r)
{
	command(r, atr_sweeps_pause, "paused");
}

void api_sweeps_resume(struct atr_req *r)
{
	command(r, atr_sweeps_resume, "resumed");
}

void api_sweeps_cancel(struct atr_req *r)
{
	command(r, atr_sweeps_cancel, "cancelled");
}
