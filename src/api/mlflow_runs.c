/*
 * mlflow_runs.c: MLflow's runs API over Atrium's runs (an MLflow run is an Atrium run; its
 * MLflow id is runs.uuid): create, get, update, delete and restore (soft: runs.deleted_at),
 * params (never changed once logged), tags (mlflow.runName is the run's name), metrics (into
 * the same chunked series as POST /api/v1/runs/{run}/metrics, through the same store
 * functions), log-batch (one pass over the body, one transaction), dataset inputs, and the
 * models MLflow's log_model records (the tag mlflow.log-model.history, as MLflow's server
 * keeps them). Not here: access (the route table and access.c, from run_id or
 * experiment_id), runs/search and metric histories (mlflow_search.c).
 */
#include "mlflow.h"
#include "atrium/metric_batch.h"
#include "atrium/store_metrics.h"
#include "atrium/sweeps.h"
#include "atrium/util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_NAME_TAG "mlflow.runName"
#define MODELS_TAG "mlflow.log-model.history"
#define JSON_TYPE "application/json; charset=utf-8"

static const struct atr_field kv_item[] = {
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, 0, 0, 5000, NULL, NULL },
	{ 0 },
};

#define RUN_ID_FIELDS                                           \
	{ "run_id", ATR_F_STRING, 0, 1, 64, NULL, NULL },       \
	{                                                       \
		"run_uuid", ATR_F_STRING, 0, 1, 64, NULL, NULL, \
	}

const struct atr_field api_mlflow_run_create_schema[] = {
	{ "experiment_id", ATR_F_INT_OR_STRING, 0, 1, 32, NULL, NULL },
	{ "user_id", ATR_F_STRING, 0, 0, 256, NULL, NULL },
	{ "run_name", ATR_F_STRING, 0, 0, 256, NULL, NULL },
	{ "start_time", ATR_F_INT, 0, 0, ATR_METRIC_TS_MAX, NULL, NULL },
	{ "tags", ATR_F_ARRAY, 0, 0, 1000, NULL, kv_item },
	{ 0 },
};

const struct atr_field api_mlflow_run_update_schema[] = {
	RUN_ID_FIELDS,
	{ "status", ATR_F_STRING, 0, 0, 0, "RUNNING|SCHEDULED|FINISHED|FAILED|KILLED", NULL },
	{ "end_time", ATR_F_INT, 0, 0, ATR_METRIC_TS_MAX, NULL, NULL },
	{ "run_name", ATR_F_STRING, 0, 0, 256, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_run_id_schema[] = {
	{ "run_id", ATR_F_STRING, ATR_FF_REQUIRED, 1, 64, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_log_metric_schema[] = {
	RUN_ID_FIELDS,
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_ANY, ATR_FF_REQUIRED, 0, 64, NULL, NULL }, /* a number, or "NaN", "Infinity"... */
	{ "timestamp", ATR_F_INT, ATR_FF_REQUIRED, 0, ATR_METRIC_TS_MAX, NULL, NULL },
	{ "step", ATR_F_INT, 0, 0, ATR_METRIC_STEP_MAX, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_log_param_schema[] = {
	RUN_ID_FIELDS,
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, ATR_FF_REQUIRED, 0, ATR_MLFLOW_PARAM_MAX * 4, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_set_tag_schema[] = {
	RUN_ID_FIELDS,
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, ATR_FF_REQUIRED, 0, ATR_MLFLOW_TAG_MAX * 4, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_delete_tag_schema[] = {
	{ "run_id", ATR_F_STRING, ATR_FF_REQUIRED, 1, 64, NULL, NULL },
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ 0 },
};

static const struct atr_field dataset_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 500, NULL, NULL },
	{ "digest", ATR_F_STRING, ATR_FF_REQUIRED, 1, 36, NULL, NULL },
	{ "source_type", ATR_F_STRING, ATR_FF_REQUIRED, 1, 256, NULL, NULL },
	{ "source", ATR_F_STRING, ATR_FF_REQUIRED, 0, 65535, NULL, NULL },
	{ "schema", ATR_F_STRING, 0, 0, 65535, NULL, NULL },
	{ "profile", ATR_F_STRING, 0, 0, 1 << 20, NULL, NULL },
	{ 0 },
};

static const struct atr_field input_tag_schema[] = {
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 255, NULL, NULL },
	{ "value", ATR_F_STRING, ATR_FF_REQUIRED, 0, 500, NULL, NULL },
	{ 0 },
};

static const struct atr_field dataset_input_schema[] = {
	{ "tags", ATR_F_ARRAY, 0, 0, 100, NULL, input_tag_schema },
	{ "dataset", ATR_F_OBJECT, ATR_FF_REQUIRED, 0, 0, NULL, dataset_schema },
	{ 0 },
};

const struct atr_field api_mlflow_log_inputs_schema[] = {
	{ "run_id", ATR_F_STRING, ATR_FF_REQUIRED, 1, 64, NULL, NULL },
	{ "datasets", ATR_F_ARRAY, 0, 0, 1000, NULL, dataset_input_schema },
	{ 0 },
};

const struct atr_field api_mlflow_log_model_schema[] = {
	{ "run_id", ATR_F_STRING, ATR_FF_REQUIRED, 1, 64, NULL, NULL },
	{ "model_json", ATR_F_STRING, ATR_FF_REQUIRED, 2, 1 << 20, NULL, NULL },
	{ 0 },
};

const struct atr_qparam api_mlflow_run_get_query[] = {
	{ "run_id", ATR_Q_STRING, 0, 1, 64, 0, NULL, "the run's MLflow id" },
	{ "run_uuid", ATR_Q_STRING, 0, 1, 64, 0, NULL, "the same (MLflow's older name)" },
	{ 0 },
};

static void reply_empty_object(struct atr_req *r)
{
	atr_reply_data(r, 200, JSON_TYPE, "{}", 2);
}

/* A value MLflow limits (params: 6000 characters, tags: 5000), without NUL. -1 after a 400. */
static int text_or_reply(struct atr_req *r, const json_t *v, size_t max_chars)
{
	const char *s = json_string_value(v);
	size_t n = 0;

	if (strlen(s) != json_string_length(v)) {
		atr_reply_invalid(r, "value", "'value' must not hold NUL");
		return -1;
	}
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	if (n <= max_chars)
		return 0;
	atr_reply_invalid(r, "value", "'value' must be at most %zu characters", max_chars);
	return -1;
}

/* ---- create, read, update, delete ---- */

/* MLflow's server names unnamed runs "<adjective>-<animal>-<number>". */
static void random_name(char *out, size_t len)
{
	static const char *const adj[] = { "bold", "brave",  "calm",  "clever", "eager", "fair",  "gentle", "jolly",
					   "keen", "lively", "merry", "nimble", "proud", "quiet", "swift",  "wise" };
	static const char *const noun[] = { "ant",  "bat",  "bee",  "cat",  "crow", "deer", "eel", "fox",
					    "frog", "hare", "lark", "lynx", "mole", "owl",  "ram", "wren" };
	uint64_t x = atr_fast_rand();

	snprintf(out, len, "%s-%s-%u", adj[x % 16], noun[(x >> 8) % 16], (unsigned)((x >> 16) % 1000));
}

/* The tags array as an object (keys checked); NULL after a 400 (or out of memory). */
static json_t *tags_or_reply(struct atr_req *r, const json_t *tags)
{
	json_t *o = json_object(), *t;
	size_t i;
	char field[48];

	json_array_foreach(tags, i, t)
	{
		snprintf(field, sizeof(field), "tags[%zu].key", i);
		if (!o || api_mlflow_key_or_reply(r, field, atr_json_str(t, "key", "")) < 0 ||
		    json_object_set_new(o, atr_json_str(t, "key", ""), json_string(atr_json_str(t, "value", ""))) < 0) {
			if (!o || atr_req_status(r) == 0)
				atr_reply_nomem(r, NULL, "out of memory");
			json_decref(o);
			return NULL;
		}
	}
	if (!o)
		atr_reply_nomem(r, NULL, "out of memory");
	return o;
}

/* The run's name: run_name, or the tag mlflow.runName (the two must agree), or a new one; the
 * tag is set to it. 0, or -1 when answered. */
static int run_name_or_reply(struct atr_req *r, json_t *tags, char *name, size_t len)
{
	const char *given = atr_json_str(atr_req_body(r), "run_name", ""), *tag = atr_json_str(tags, RUN_NAME_TAG, "");

	if (*given && *tag && strcmp(given, tag) != 0) {
		atr_reply_invalid(r, "run_name",
				  "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
				  "values (run_name='%s', mlflow.runName='%s').",
				  given, tag);
		return -1;
	}
	if (*given || *tag)
		atr_copy(name, len, *given ? given : tag);
	else
		random_name(name, len);
	if (json_object_set_new(tags, RUN_NAME_TAG, json_string(name)) < 0) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	return 0;
}

void api_mlflow_runs_create(struct atr_req *r)
{
	const struct atr_principal *who = atr_req_who(r);
	struct atr_run_spec spec = { 0 };
	json_t *tags = tags_or_reply(r, json_object_get(atr_req_body(r), "tags"));
	char name[260];
	int64_t id;
	int rc;

	if (!tags)
		return;
	if (run_name_or_reply(r, tags, name, sizeof(name)) < 0) {
		json_decref(tags);
		return;
	}
	spec.project_id = RES(r)->project.id;
	spec.name = name;
	spec.tags = tags;
	spec.started_at = atr_json_int(atr_req_body(r), "start_time", 0);
	spec.user_id =
		who->user_id; /* (the run's creator is the caller; the client's user_id is the mlflow.user tag) */
	spec.job_id = who->kind == ATR_P_JOB ? who->scope_id : 0;
	rc = atr_store_run_create(STORE(r), &spec, &id);
	json_decref(tags);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create the run");
		return;
	}
	atr_req_audit_object(r, "run:%lld", (long long)id);
	api_mlflow_reply_run(r, id, "run");
}

void api_mlflow_runs_get(struct atr_req *r)
{
	api_mlflow_reply_run(r, RES(r)->run.id, "run");
}

/* Applies a patch; ATR_ECONFLICT (a param with another value) is answered as MLflow does. */
static int patch_or_reply(struct atr_req *r, const struct atr_run_patch *patch)
{
	char key[300] = "";
	int rc = atr_store_run_update(STORE(r), RES(r)->run.id, patch, key, sizeof(key));

	if (rc == ATR_ECONFLICT) {
		atr_reply_invalid(r, "value",
				  "Changing param values is not allowed. Param with key='%s' was already logged with "
				  "another value for run ID='%s'.",
				  key, RES(r)->run.uuid);
		return -1;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update run %s", RES(r)->run.uuid);
		return -1;
	}
	return 0;
}

void api_mlflow_runs_update(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	struct atr_run_patch patch = { 0 };
	const char *name = atr_json_str(body, "run_name", NULL);
	json_t *tags = name && *name ? json_pack("{s:s}", RUN_NAME_TAG, name) : NULL;
	int64_t end = atr_json_int(body, "end_time", 0);
	int rc = atr_store_begin(STORE(r));

	if (rc < 0) {
		json_decref(tags);
		atr_reply_err(r, rc, NULL, "the database is not available");
		return;
	}
	patch.status = api_mlflow_status_to_atrium(atr_json_str(body, "status", NULL));
	patch.name = name && *name ? name : NULL;
	patch.tags = tags;
	if (patch_or_reply(r, &patch) < 0)
		rc = ATR_EINVAL;
	else if (json_object_get(body, "end_time") && (rc = atr_store_run_set_ended(STORE(r), RES(r)->run.id, end)) < 0)
		atr_reply_err(r, rc, NULL, "could not update run %s", RES(r)->run.uuid);
	json_decref(tags);
	if (rc == 0 && (rc = atr_store_commit(STORE(r))) == 0) {
		api_mlflow_reply_run(r, RES(r)->run.id, "run_info");
		return;
	}
	atr_store_rollback(STORE(r));
	if (atr_req_status(r) == 0)
		atr_reply_err(r, rc, NULL, "could not update run %s", RES(r)->run.uuid);
}

static void set_deleted(struct atr_req *r, bool deleted)
{
	int rc = atr_store_run_set_deleted(STORE(r), RES(r)->run.id, deleted);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not %s run %s", deleted ? "delete" : "restore", RES(r)->run.uuid);
		return;
	}
	reply_empty_object(r);
}

void api_mlflow_runs_delete(struct atr_req *r)
{
	set_deleted(r, true);
}

void api_mlflow_runs_restore(struct atr_req *r)
{
	set_deleted(r, false);
}

/* ---- metrics ---- */

/* A metric's value as MLflow's client sends it: a number, or a string ("NaN", "Infinity",
 * "-Infinity", "0.5"). -1 after a 400 naming 'value'. */
static int value_or_reply(struct atr_req *r, const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v) && atr_mlflow_metric_value(json_string_value(v), out) == 0)
		return 0;
	atr_reply_invalid(r, "value", "'value' must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
	return -1;
}

void api_mlflow_runs_log_metric(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	const char *key = atr_json_str(body, "key", "");
	struct atr_metric_in pt = { 0, atr_json_int(body, "step", 0), 0, atr_json_int(body, "timestamp", -1) };
	struct atr_metric_batch b;
	int rc;

	if (!atr_metric_key_valid(key, strlen(key))) {
		atr_reply_invalid(r, "key", "'key' must be 1-%d bytes of letters, digits, spaces and '_' '.' '/' '-'",
				  ATR_METRIC_KEY_MAX);
		return;
	}
	if (value_or_reply(r, json_object_get(body, "value"), &pt.value) < 0)
		return;
	atr_metric_batch_init(&b);
	rc = atr_metric_batch_add(&b, key, &pt);
	if (rc == 0)
		rc = atr_store_metrics_append(STORE(r), RES(r)->run.id, RES(r)->run.project_id, &b, atr_now_ms(), NULL);
	if (rc == 0)
		atr_sweeps_metrics(APP(r)->sweeps, RES(r)->run.id, &b); /* a sweep's trial: ASHA hears it */
	atr_metric_batch_release(&b);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not log metric '%s' of run %s", key, RES(r)->run.uuid);
		return;
	}
	reply_empty_object(r);
}

/* The batch's params and tags as a patch (objects; mlflow.runName also names the run). */
static int batch_patch(const struct atr_mlflow_batch *b, struct atr_run_patch *patch)
{
	json_t *params = b->nparams ? json_object() : NULL, *tags = b->ntags ? json_object() : NULL;

	memset(patch, 0, sizeof(*patch));
	patch->params = params;
	patch->tags = tags;
	if ((b->nparams && !params) || (b->ntags && !tags))
		return ATR_ENOMEM;
	for (size_t i = 0; i < b->nparams; i++)
		if (json_object_set_new(params, b->params[i].key, json_string(b->params[i].value)) < 0)
			return ATR_ENOMEM;
	for (size_t i = 0; i < b->ntags; i++) {
		if (json_object_set_new(tags, b->tags[i].key, json_string(b->tags[i].value)) < 0)
			return ATR_ENOMEM;
		if (strcmp(b->tags[i].key, RUN_NAME_TAG) == 0)
			patch->name = b->tags[i].value;
	}
	return 0;
}

/* Params and tags, then the points, in one transaction. -1 when answered. */
static int store_batch(struct atr_req *r, const struct atr_mlflow_batch *b)
{
	struct atr_run_patch patch;
	int rc = atr_store_begin(STORE(r));

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "the database is not available");
		return -1;
	}
	if (b->nparams || b->ntags) {
		rc = batch_patch(b, &patch);
		if (rc == 0 && patch_or_reply(r, &patch) < 0)
			rc = ATR_EINVAL;
		json_decref((json_t *)patch.params);
		json_decref((json_t *)patch.tags);
	}
	if (rc == 0)
		rc = atr_store_metrics_append(STORE(r), RES(r)->run.id, RES(r)->run.project_id, &b->m, atr_now_ms(),
					      NULL);
	if (rc == 0 && (rc = atr_store_commit(STORE(r))) == 0) {
		atr_sweeps_metrics(APP(r)->sweeps, RES(r)->run.id, &b->m); /* a sweep's trial: ASHA hears it */
		return 0;
	}
	atr_store_rollback(STORE(r));
	if (atr_req_status(r) == 0)
		atr_reply_err(r, rc, NULL, "could not log the batch of run %s", RES(r)->run.uuid);
	return -1;
}

void api_mlflow_runs_log_batch(struct atr_req *r)
{
	struct atr_mlflow_batch *b = malloc(sizeof(*b));
	const char *raw;
	size_t len;
	int rc;

	if (!b) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_mlflow_batch_init(b);
	raw = atr_req_raw_body(r, &len);
	rc = atr_mlflow_batch_parse(b, raw, len);
	if (rc == 0 && strcmp(b->run_id, RES(r)->run.uuid) != 0)
		atr_reply_invalid(r, "run_id", "'run_id' must be the run's id"); /* (the access check read it) */
	else if (rc == ATR_EINVAL)
		atr_reply_err(r, b->m.syntax ? ATR_EBADJSON : ATR_EINVAL, b->m.field, "%s", b->m.msg);
	else if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not read the batch");
	else if (store_batch(r, b) == 0)
		reply_empty_object(r);
	atr_mlflow_batch_release(b);
	free(b);
}

/* ---- params, tags, inputs, models ---- */

void api_mlflow_runs_log_param(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	const char *key = atr_json_str(body, "key", ""), *value = atr_json_str(body, "value", "");
	struct atr_run_patch patch = { 0 };
	json_t *params;

	if (api_mlflow_key_or_reply(r, "key", key) < 0 ||
	    text_or_reply(r, json_object_get(body, "value"), ATR_MLFLOW_PARAM_MAX) < 0)
		return;
	if (!(params = json_pack("{s:s}", key, value))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	patch.params = params;
	if (patch_or_reply(r, &patch) == 0)
		reply_empty_object(r);
	json_decref(params);
}

/* Sets (value) or removes (NULL) a tag; mlflow.runName renames the run. */
static void tag(struct atr_req *r, const char *key, const char *value)
{
	struct atr_run_patch patch = { 0 };
	json_t *tags = json_pack("{s:o}", key, value ? json_string(value) : json_null());

	if (!tags) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	patch.tags = tags;
	if (value && strcmp(key, RUN_NAME_TAG) == 0)
		patch.name = value;
	if (patch_or_reply(r, &patch) == 0)
		reply_empty_object(r);
	json_decref(tags);
}

void api_mlflow_runs_set_tag(struct atr_req *r)
{
	const char *key = atr_json_str(atr_req_body(r), "key", "");

	if (api_mlflow_key_or_reply(r, "key", key) < 0 ||
	    text_or_reply(r, json_object_get(atr_req_body(r), "value"), ATR_MLFLOW_TAG_MAX) < 0)
		return;
	tag(r, key, atr_json_str(atr_req_body(r), "value", ""));
}

void api_mlflow_runs_delete_tag(struct atr_req *r)
{
	const char *key = atr_json_str(atr_req_body(r), "key", "");
	char *value = NULL;
	int rc = atr_store_run_tag(STORE(r), RES(r)->run.id, key, &value);

	free(value);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "No tag with name: %s in run with id %s", key, RES(r)->run.uuid);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read the tags of run %s", RES(r)->run.uuid);
		return;
	}
	tag(r, key, NULL);
}

void api_mlflow_runs_log_inputs(struct atr_req *r)
{
	const json_t *datasets = json_object_get(atr_req_body(r), "datasets");
	int rc = datasets ? atr_store_run_add_dataset_inputs(STORE(r), RES(r)->run.id, datasets) : 0;

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not log the inputs of run %s", RES(r)->run.uuid);
		return;
	}
	reply_empty_object(r);
}

/* The model history with model appended (new reference), from the tag's current text. */
static json_t *models_with(const char *history, json_t *model)
{
	json_t *a = history ? json_loads(history, 0, NULL) : NULL;

	if (!json_is_array(a)) {
		json_decref(a);
		a = json_array();
	}
	if (a && json_array_append(a, model) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

void api_mlflow_runs_log_model(struct atr_req *r)
{
	static const char *const need[] = { "artifact_path", "flavors", "utc_time_created", "run_id" };
	const char *text = atr_json_str(atr_req_body(r), "model_json", "");
	json_t *model = json_loads(text, 0, NULL), *all;
	char *history = NULL, *encoded;

	for (size_t i = 0; json_is_object(model) && i < 4; i++)
		if (!json_object_get(model, need[i])) {
			json_decref(model);
			atr_reply_invalid(r, "model_json", "Model json is missing mandatory fields: '%s'", need[i]);
			return;
		}
	if (!json_is_object(model)) {
		json_decref(model);
		atr_reply_invalid(r, "model_json", "Malformed model info: 'model_json' is not a JSON object");
		return;
	}
	if (atr_store_run_tag(STORE(r), RES(r)->run.id, MODELS_TAG, &history) == ATR_EDB) {
		json_decref(model);
		atr_reply_db(r, NULL, "could not read the models of run %s", RES(r)->run.uuid);
		return;
	}
	all = models_with(history, model);
	encoded = all ? atr_json_dump(all) : NULL;
	free(history);
	json_decref(model);
	json_decref(all);
	if (!encoded) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	tag(r, MODELS_TAG, encoded);
	free(encoded);
}
