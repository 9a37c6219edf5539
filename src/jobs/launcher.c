/*
 * launcher.c: running a launcher version with values (atrium/launcher.h): values checked and
 * resolved, substituted into the spec, submitted as a job with its run and its launcher_jobs
 * row in one transaction. The checks of parameter types are launch_params.c's; access is the
 * caller's.
 */
#include "atrium/launcher.h"
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/launch_params.h"
#include "atrium/store_datasets.h"
#include "atrium/store_launchers.h"
#include "atrium/store_models.h"
#include "atrium/store_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 64

struct launch {
	const struct atr_launch_req *q;
	struct atr_launch_result *res;
	struct atr_store *s;
	json_t *inputs; /* [{dataset, version, as, dataset_version_id}] */
	int64_t ids[MAX_INPUTS];
	size_t n;
	int64_t model_version_id;
};

static int fail(struct atr_launch_result *res, int rc, const char *field, const char *msg)
{
	snprintf(res->field, sizeof(res->field), "%s", field);
	snprintf(res->msg, sizeof(res->msg), "%s", msg);
	return rc;
}

/* A committed version of dataset ds (version 0: the latest) as one more input of the job. */
static int add_input(struct launch *l, const char *ds, int64_t version, const char *as, const char *field)
{
	struct atr_dataset_version v;
	int64_t dataset_id;
	char msg[300];

	if (atr_store_dataset_find(l->s, l->q->ver->project_id, ds, &dataset_id) < 0) {
		snprintf(msg, sizeof(msg), "dataset '%.100s' does not exist in this project", ds);
		return fail(l->res, ATR_EINVAL, field, msg);
	}
	if (version < 0 || atr_store_dsv_find(l->s, dataset_id, version, &v) < 0 || !v.committed ||
	    (l->q->dsv_hidden && l->q->dsv_hidden(l->q->hidden_cls, v.id))) {
		snprintf(msg, sizeof(msg), "dataset '%.100s' has no such committed version", ds);
		return fail(l->res, ATR_EINVAL, field, msg);
	}
	for (size_t k = 0; k < json_array_size(l->inputs); k++)
		if (!strcmp(atr_json_str(json_array_get(l->inputs, k), "as", ""), as)) {
			snprintf(msg, sizeof(msg), "two inputs are both called '%.100s'", as);
			return fail(l->res, ATR_EINVAL, field, msg);
		}
	if (l->n >= MAX_INPUTS)
		return fail(l->res, ATR_EINVAL, field, "too many inputs");
	l->ids[l->n++] = v.id;
	if (json_array_append_new(l->inputs,
				  json_pack("{s:s, s:I, s:s, s:I}", "dataset", ds, "version", (json_int_t)v.version,
					    "as", as, "dataset_version_id", (json_int_t)v.id)) < 0)
		return fail(l->res, ATR_ENOMEM, field, "out of memory");
	return 0;
}

/* "latest" -> 0, "3" -> 3, anything else -> -1. */
static int64_t version_number(const char *ref)
{
	char *end;
	long long v;

	if (!strcmp(ref, "latest"))
		return 0;
	v = strtoll(ref, &end, 10);
	return *ref && !*end && v >= 1 ? v : -1;
}

/* A model version "name:ref" of the project: its row id; *number its version. */
static int model_ref(struct launch *l, const char *ref, const char *field, int64_t *id, int64_t *number)
{
	struct atr_model m;
	struct atr_model_version v;
	char name[128], msg[300];
	const char *colon = strchr(ref, ':');

	snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - ref) : 0, ref);
	if (!colon || atr_store_model_find(l->s, l->q->ver->project_id, name, &m) < 0) {
		snprintf(msg, sizeof(msg), "model '%.100s' does not exist in this project", name);
		return fail(l->res, ATR_EINVAL, field, msg);
	}
	if (atr_store_model_version_resolve(l->s, m.id, colon + 1, &v) < 0 || !v.committed) {
		snprintf(msg, sizeof(msg), "model '%.100s' has no committed version '%.60s'", name, colon + 1);
		return fail(l->res, ATR_EINVAL, field, msg);
	}
	*id = v.id;
	*number = v.version;
	return 0;
}

/* One dataset_version or model_version value: resolved, recorded as "name:N". */
static int resolve_ref(struct launch *l, const json_t *p, json_t *values)
{
	const char *name = atr_json_str(p, "name", ""), *t = atr_json_str(p, "type", "");
	const char *ref = atr_json_str(values, name, ""), *colon = strchr(ref, ':');
	char field[96], ds[128], text[200];
	int64_t id, number = 0;
	int rc;

	snprintf(field, sizeof(field), "values.%s", name);
	if (!strcmp(t, "model_version")) {
		if ((rc = model_ref(l, ref, field, &id, &number)) < 0)
			return rc;
		if (!l->model_version_id && !json_object_get(l->q->ver->spec, "model"))
			l->model_version_id = id;
	} else {
		snprintf(ds, sizeof(ds), "%.*s", colon ? (int)(colon - ref) : 0, ref);
		if ((rc = add_input(l, ds, colon ? version_number(colon + 1) : -1, name, field)) < 0)
			return rc;
		number = json_integer_value(json_object_get(json_array_get(l->inputs, l->n - 1), "version"));
	}
	snprintf(text, sizeof(text), "%.*s:%lld", colon ? (int)(colon - ref) : 0, ref, (long long)number);
	return json_object_set_new(values, name, json_string(text)) < 0 ? ATR_ENOMEM : 0;
}

/* The spec's own inputs and model (saved with it; the datasets may have changed since). */
static int resolve_spec(struct launch *l)
{
	const json_t *in, *model = json_object_get(l->q->ver->spec, "model");
	char field[64], ref[160];
	size_t i;
	int rc;

	json_array_foreach(json_object_get(l->q->ver->spec, "inputs"), i, in)
	{
		const json_t *vj = json_object_get(in, "version");
		const char *ds = atr_json_str(in, "dataset", "");
		int64_t v =
			json_is_integer(vj) ? json_integer_value(vj) : version_number(atr_json_str(in, "version", ""));

		snprintf(field, sizeof(field), "spec.inputs[%zu]", i);
		if ((rc = add_input(l, ds, v, atr_json_str(in, "as", ds), field)) < 0)
			return rc;
	}
	if (model) {
		int64_t number;
		const json_t *vj = json_object_get(model, "version");
		if (json_is_integer(vj))
			snprintf(ref, sizeof(ref), "%s:%lld", atr_json_str(model, "name", ""),
				 (long long)json_integer_value(vj));
		else
			snprintf(ref, sizeof(ref), "%s:%s", atr_json_str(model, "name", ""),
				 atr_json_str(model, "version", ""));
		return model_ref(l, ref, "spec.model", &l->model_version_id, &number);
	}
	return 0;
}

static int job_run(struct atr_store *s, int64_t job_id, int64_t *run_id)
{
	struct atr_job_row row;
	int rc = atr_store_job_row(s, job_id, &row);

	if (rc == 0) {
		*run_id = row.run_id;
		json_decref(row.labels);
	}
	return rc;
}

/* Run params (the values as text) and tags, the launcher_jobs row, then the caller's rows. */
static int also(struct atr_store *s, int64_t job_id, void *cls)
{
	struct launch *l = cls;
	const struct atr_launcher_ver *ver = l->q->ver;
	json_t *params = json_object(), *tags = l->q->tags ? json_deep_copy(l->q->tags) : json_object(), *v;
	struct atr_run_patch patch = { .params = params, .tags = tags };
	const char *k;
	char text[ATR_LAUNCH_VALUE_MAX + 64], key[128];
	int rc = params && tags ? 0 : ATR_ENOMEM;

	json_object_foreach(l->res->values, k, v)
	{
		if (rc == 0 && atr_launch_value_text(v, text, sizeof(text)) == 0 &&
		    json_object_set_new(params, k, json_string(text)) < 0)
			rc = ATR_ENOMEM;
	}
	snprintf(text, sizeof(text), "%lld", (long long)ver->version);
	if (rc == 0 && (json_object_set_new(tags, "launcher", json_string(ver->name)) < 0 ||
			json_object_set_new(tags, "launcher_version", json_string(text)) < 0))
		rc = ATR_ENOMEM;
	if (rc == 0)
		rc = job_run(s, job_id, &l->res->run_id);
	if (rc == 0 && l->res->run_id > 0)
		rc = atr_store_run_update(s, l->res->run_id, &patch, key, sizeof(key));
	if (rc == 0)
		rc = atr_store_launcher_job_add(s, job_id, ver->launcher_id, ver->version, l->res->values,
						l->q->user_id);
	if (rc == 0 && l->q->also)
		rc = l->q->also(s, job_id, l->q->also_cls);
	json_decref(params);
	json_decref(tags);
	return rc;
}

/* The job spec from the expanded body (strings borrowed from body and l). */
static void job_spec(const struct launch *l, const json_t *body, struct atr_job_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->kind = atr_json_str(body, "kind", "training");
	spec->project_id = l->q->ver->project_id;
	spec->team_id = l->q->ver->team_id;
	spec->created_by = l->q->user_id;
	spec->name = atr_json_str(body, "name", l->q->ver->name);
	spec->command = json_object_get(body, "command");
	spec->env = json_object_get(body, "env");
	spec->labels = json_object_get(body, "labels");
	spec->inputs = l->inputs;
	spec->outputs = json_object_get(body, "outputs");
	atr_job_spec_limits(spec, body);
	spec->model_version_id = l->model_version_id;
}

/* Values resolved, spec expanded and submitted (l->res->values set). */
static int launch(struct launch *l, struct atr_engine *e)
{
	const struct atr_launcher_ver *ver = l->q->ver;
	struct atr_launch_result *res = l->res;
	struct atr_job_submit sub = { 0 };
	struct atr_job_spec spec;
	json_t *body = NULL, *p;
	char why[300];
	size_t i;
	int rc = atr_launch_values(ver->parameters, l->q->values, &res->values, res->field, sizeof(res->field),
				   res->msg, sizeof(res->msg));

	if (rc == 0)
		rc = resolve_spec(l);
	json_array_foreach(ver->parameters, i, p)
	{
		const char *t = atr_json_str(p, "type", "");
		if (rc == 0 && (!strcmp(t, "dataset_version") || !strcmp(t, "model_version")))
			rc = resolve_ref(l, p, res->values);
	}
	if (rc == 0 && (rc = atr_launch_expand(ver->spec, res->values, &body, res->field, sizeof(res->field))) < 0)
		snprintf(res->msg, sizeof(res->msg), "the command or env does not fit with these values");
	if (rc < 0)
		return rc;
	job_spec(l, body, &spec);
	if (!strcmp(spec.kind, "batch_inference") && !spec.model_version_id)
		rc = fail(res, ATR_EINVAL, "spec.model", "a batch_inference job names the model version it runs");
	else if (!atr_engine_feasible(e, &spec, why, sizeof(why))) {
		char msg[340];
		snprintf(msg, sizeof(msg), "no worker could ever run this job: %s", why);
		rc = fail(res, ATR_EUNPROCESSABLE, "resources", msg);
	}
	sub.spec = &spec;
	sub.run_name = l->q->run_name ? l->q->run_name : ver->name;
	sub.run_user_id = l->q->user_id;
	sub.run_inputs = l->ids;
	sub.run_ninputs = l->n;
	sub.also = also;
	sub.also_cls = l;
	if (rc == 0 && (rc = atr_engine_submit(e, &sub, &res->job_id)) < 0)
		fail(res, rc, "", "could not submit the job");
	json_decref(body);
	return rc;
}

int atr_launcher_submit(struct atr_engine *e, struct atr_store *s, const struct atr_launch_req *q,
			struct atr_launch_result *res)
{
	struct launch l = { .q = q, .res = res, .s = s };
	int rc;

	memset(res, 0, sizeof(*res));
	if (!(l.inputs = json_array()))
		return fail(res, ATR_ENOMEM, "", "out of memory");
	rc = launch(&l, e);
	json_decref(l.inputs);
	if (rc < 0) {
		json_decref(res->values);
		res->values = NULL;
	}
	return rc;
}
