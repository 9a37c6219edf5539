/*
 * monitors.c: /api/v1/deployments/{name}/monitors: a deployment's monitors (what they
 * watch, the thresholds, the window, the channels they notify, a retraining action), read,
 * listed, changed (PATCH: the thresholds, window, interval, minimum samples, channels, action,
 * paused or not), deleted, and each one's history of states (its alerts). The body is checked here
 * (statistic against what is watched, thresholds in order, channels and dataset existing)
 * and stored whole as the monitor's spec; the evaluator is src/deploy/monitors.c.
 */
#include "api.h"
#include "atrium/store_datasets.h"
#include "atrium/store_monitors.h"
#include "atrium/util.h"

#include <string.h>

static const struct atr_field retrain_outputs_schema[] = {
	{ "model", ATR_F_NAME, 0, 1, 63, NULL, NULL },
	{ "dataset", ATR_F_SLUG, 0, 1, 63, NULL, NULL },
	{ 0 },
};

static const struct atr_field retrain_job_schema[] = {
	{ "name", ATR_F_STRING, 0, 1, 256, NULL, NULL },
	{ "command", ATR_F_COMMAND, ATR_FF_REQUIRED, 0, 1 << 20, NULL, NULL },
	{ "env", ATR_F_ENV, 0, 0, 256, NULL, NULL },
	{ "resources", ATR_F_OBJECT, 0, 0, 0, NULL, api_job_resources_schema },
	{ "labels", ATR_F_STRMAP, 0, 0, 32, NULL, NULL },
	{ "max_attempts", ATR_F_INT, 0, 1, 20, NULL, NULL },
	{ "timeout_s", ATR_F_INT, 0, 0, 30LL * 86400, NULL, NULL },
	{ "outputs", ATR_F_OBJECT, 0, 0, 0, NULL, retrain_outputs_schema },
	{ 0 },
};

static const struct atr_field action_schema[] = {
	{ "type", ATR_F_STRING, ATR_FF_REQUIRED, 1, 16, "retrain", NULL },
	{ "dataset", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "as", ATR_F_SEGMENT, 0, 1, 128, NULL, NULL },
	{ "job", ATR_F_OBJECT, ATR_FF_REQUIRED, 0, 0, NULL, retrain_job_schema },
	{ 0 },
};

/* The fields a PATCH may change, shared with the creation's table (required there or not). */
#define F_FEATURES                                               \
	{                                                        \
		"features", ATR_F_STRLIST, 0, 0, 256, NULL, NULL \
	}
#define F_WARNING                                                          \
	{                                                                  \
		"warning", ATR_F_NUMBER, ATR_FF_NULLABLE, 0, 0, NULL, NULL \
	}
#define F_ALERTING(flags)                                         \
	{                                                         \
		"alerting", ATR_F_NUMBER, flags, 0, 0, NULL, NULL \
	}
#define F_DIRECTION                                                     \
	{                                                               \
		"direction", ATR_F_STRING, 0, 1, 8, "above|below", NULL \
	}
#define F_WINDOW                                                \
	{                                                       \
		"window_s", ATR_F_INT, 0, 60, 86400, NULL, NULL \
	}
#define F_INTERVAL                                               \
	{                                                        \
		"interval_s", ATR_F_INT, 0, 1, 86400, NULL, NULL \
	}
#define F_MIN_SAMPLES                                                  \
	{                                                              \
		"min_samples", ATR_F_INT, 0, 1, 1000000000, NULL, NULL \
	}
#define F_CHANNELS                                             \
	{                                                      \
		"channels", ATR_F_IDLIST, 0, 0, 16, NULL, NULL \
	}
#define F_ACTION(flags)                                                  \
	{                                                                \
		"action", ATR_F_OBJECT, flags, 0, 0, NULL, action_schema \
	}
#define F_ENABLED                                          \
	{                                                  \
		"enabled", ATR_F_BOOL, 0, 0, 0, NULL, NULL \
	}

const struct atr_field api_monitor_create_schema[] = {
	{ "name", ATR_F_NAME, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "watch", ATR_F_STRING, ATR_FF_REQUIRED, 1, 32,
	  "drift|prediction_drift|data_quality|quality|error_rate|p99_latency", NULL },
	F_FEATURES,
	{ "statistic", ATR_F_STRING, 0, 1, 32,
	  "psi|js_distance|ks|chi2_p|null_rate|out_of_range_rate|unseen_rate|misfit_rate|accuracy|mae|rmse|r2|"
	  "precision|recall|f1|error_rate|p99_ms",
	  NULL },
	F_WARNING,
	F_ALERTING(ATR_FF_REQUIRED),
	F_DIRECTION,
	F_WINDOW,
	F_INTERVAL,
	F_MIN_SAMPLES,
	F_CHANNELS,
	F_ACTION(0),
	F_ENABLED,
	{ 0 },
};

/* name, watch and statistic make what a monitor is: a new one is a new monitor. */
const struct atr_field api_monitor_patch_schema[] = {
	F_FEATURES,    F_WARNING,  F_ALERTING(0),
	F_DIRECTION,   F_WINDOW,   F_INTERVAL,
	F_MIN_SAMPLES, F_CHANNELS, F_ACTION(ATR_FF_NULLABLE),
	F_ENABLED,     { 0 },
};

/* What each watch may compute; the first is its default. */
static const struct {
	const char *watch, *stats;
} allowed[] = {
	{ "drift", "psi|js_distance|ks|chi2_p" },
	{ "prediction_drift", "psi|js_distance|ks|chi2_p" },
	{ "data_quality", "null_rate|out_of_range_rate|unseen_rate|misfit_rate" },
	{ "quality", "accuracy|mae|rmse|r2|precision|recall|f1" },
	{ "error_rate", "error_rate" },
	{ "p99_latency", "p99_ms" },
};

static bool in_list(const char *list, const char *s)
{
	size_t n = strlen(s);
	for (const char *p = list; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
		if (!strncmp(p, s, n) && (p[n] == '|' || p[n] == 0))
			return true;
	return false;
}

/* The statistic (given or the watch's default) into spec, or 400 answered. */
static int statistic_or_reply(struct atr_req *r, const json_t *body, json_t *spec)
{
	const char *watch = atr_json_str(body, "watch", ""), *stat = atr_json_str(body, "statistic", NULL);
	char first[32];

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strcmp(allowed[i].watch, watch) != 0)
			continue;
		if (stat && !in_list(allowed[i].stats, stat))
			return atr_reply_invalid(r, "statistic", "a '%s' monitor computes one of %s", watch,
						 allowed[i].stats),
			       -1;
		atr_copy(first, sizeof(first), allowed[i].stats);
		if (strchr(first, '|'))
			*strchr(first, '|') = 0;
		json_object_set_new(spec, "statistic", json_string(stat ? stat : first));
		return 0;
	}
	return atr_reply_invalid(r, "watch", "unknown watch '%s'", watch), -1;
}

/* precision, recall and F1 only where the deployment declares a classification task, MAE, RMSE
 * and R² not where it declares one (an undeclared task leaves the regression figures open). */
static int task_or_reply(struct atr_req *r, const json_t *spec)
{
	const char *stat = atr_json_str(spec, "statistic", "");
	bool cls = in_list("precision|recall|f1", stat), reg = in_list("mae|rmse|r2", stat);
	enum atr_task t = cls || reg ? api_declared_task(r) : ATR_TASK_NONE;

	if (cls && t != ATR_TASK_BINARY && t != ATR_TASK_MULTICLASS)
		return atr_reply_invalid(r, "statistic",
					 "%s needs a declared classification task (the monitoring settings' \"task\" or"
					 " the model version's signature), not %s",
					 stat, t ? atr_task_name(t) : "none"),
		       -1;
	if (reg && (t == ATR_TASK_BINARY || t == ATR_TASK_MULTICLASS))
		return atr_reply_invalid(r, "statistic", "%s is a regression figure; the deployment declares %s", stat,
					 atr_task_name(t)),
		       -1;
	return 0;
}

/* The field blamed for levels out of order: the warning, unless a PATCH moved only the alerting. */
static const char *order_field(struct atr_req *r)
{
	const json_t *req = atr_req_body(r);
	return atr_json_has(req, "warning") || !atr_json_has(req, "alerting") ? "warning" : "alerting";
}

/* direction, thresholds in order, window within what the watch keeps. */
static int thresholds_or_reply(struct atr_req *r, const json_t *body, json_t *spec)
{
	const char *stat = atr_json_str(spec, "statistic", "");
	bool lower_worse = in_list("chi2_p|accuracy|r2|precision|recall|f1", stat);
	const char *dir = atr_json_str(body, "direction", lower_worse ? "below" : "above");
	const json_t *warn = json_object_get(body, "warning");
	double alert = json_number_value(json_object_get(body, "alerting"));
	bool gateway = !strcmp(stat, "error_rate") || !strcmp(stat, "p99_ms");
	int64_t window = atr_json_int(body, "window_s", gateway ? 1800 : 3600);

	if (json_is_number(warn) &&
	    (!strcmp(dir, "above") ? json_number_value(warn) > alert : json_number_value(warn) < alert))
		return atr_reply_invalid(r, order_field(r),
					 "the warning level must come before the alerting level (%s)", dir),
		       -1;
	if (gateway && window > 1800)
		return atr_reply_invalid(r, "window_s", "the gateway keeps 30 minutes of figures: at most 1800"), -1;
	json_object_set_new(spec, "direction", json_string(dir));
	json_object_set(spec, "warning", warn ? (json_t *)warn : json_null());
	json_object_set(spec, "alerting", json_object_get(body, "alerting"));
	json_object_set_new(spec, "window_s", json_integer(window));
	json_object_set_new(spec, "interval_s", json_integer(atr_json_int(body, "interval_s", 60)));
	json_object_set_new(spec, "min_samples", json_integer(atr_json_int(body, "min_samples", 100)));
	return 0;
}

static json_t *features_or_empty(const json_t *body)
{
	json_t *f = json_object_get(body, "features");
	return f ? json_incref(f) : json_array();
}

static int refs_or_reply(struct atr_req *r, const json_t *body, json_t *spec)
{
	const json_t *ch = json_object_get(body, "channels"), *c, *action = json_object_get(body, "action");
	int64_t dataset_id;
	size_t i;
	int err;

	json_array_foreach(ch, i, c)
	{
		json_t *o = atr_store_channel_json(STORE(r), json_integer_value(c), &err);
		char f[32];
		json_decref(o);
		snprintf(f, sizeof(f), "channels[%zu]", i);
		if (!o)
			return atr_reply_invalid(r, f, "no notification channel %lld",
						 (long long)json_integer_value(c)),
			       -1;
	}
	if (json_is_object(action) &&
	    atr_store_dataset_find(STORE(r), RES(r)->project.id, atr_json_str(action, "dataset", ""), &dataset_id) < 0)
		return atr_reply_invalid(r, "action.dataset", "dataset '%s' does not exist in project '%s'",
					 atr_json_str(action, "dataset", ""), RES(r)->project.name),
		       -1;
	json_object_set_new(spec, "features", features_or_empty(body));
	json_object_set_new(spec, "channels", ch ? json_incref((json_t *)ch) : json_array());
	json_object_set(spec, "action", action ? (json_t *)action : json_null());
	return 0;
}

/* The features named, each in the deployment's reference profile or signature (else 400). */
static int features_or_reply(struct atr_req *r, const json_t *body, json_t *spec)
{
	bool checked = false;

	if (api_monitor_features_or_reply(r, json_object_get(body, "features"), &checked) < 0)
		return -1;
	json_object_set_new(spec, "features_checked", json_boolean(checked));
	json_object_set_new(spec, "enabled", json_boolean(atr_json_bool(body, "enabled", true)));
	return 0;
}

/* The spec of a monitor from body (a creation's, or a stored spec with a PATCH applied): every
 * rule checked, defaults filled. New reference; NULL when it replied. */
static json_t *spec_or_reply(struct atr_req *r, const json_t *body)
{
	json_t *spec = json_pack("{s:s}", "watch", atr_json_str(body, "watch", ""));

	if (!spec) {
		atr_reply_nomem(r, NULL, "out of memory");
		return NULL;
	}
	if (statistic_or_reply(r, body, spec) < 0 || task_or_reply(r, spec) < 0 ||
	    thresholds_or_reply(r, body, spec) < 0 || refs_or_reply(r, body, spec) < 0 ||
	    features_or_reply(r, body, spec) < 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

static void reply_monitor(struct atr_req *r, unsigned status, int64_t id)
{
	int err;
	json_t *o = atr_store_monitor_json(STORE(r), RES(r)->deployment.id, id, &err);

	if (!o) {
		atr_reply_err(r, err, NULL, "could not read the monitor");
		return;
	}
	json_object_set_new(o, "deployment", json_string(RES(r)->deployment.name));
	atr_reply_json(r, status, o);
}

void api_monitors_create(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	json_t *spec = spec_or_reply(r, body);
	char *text = NULL;
	int64_t id;
	int rc;

	if (!spec)
		return;
	if (!(text = json_dumps(spec, JSON_COMPACT))) {
		atr_reply_nomem(r, NULL, "out of memory");
		goto out;
	}
	rc = atr_store_monitor_create(STORE(r), RES(r)->deployment.id, atr_json_str(body, "name", ""), text,
				      json_integer_value(json_object_get(spec, "interval_s")) * 1000,
				      atr_req_who(r)->user_id, &id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "deployment '%s' has a monitor '%s' already", RES(r)->deployment.name,
				   atr_json_str(body, "name", ""));
		goto out;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create the monitor");
		goto out;
	}
	atr_req_audit_object(r, "project:%s/deployment:%s/monitor:%lld", RES(r)->project.name, RES(r)->deployment.name,
			     (long long)id);
	reply_monitor(r, 201, id);
out:
	free(text);
	json_decref(spec);
}

void api_monitors_list(struct atr_req *r)
{
	api_reply_list(r, atr_store_monitor_list, RES(r)->deployment.id, "monitors");
}

/* The monitor {id} of the deployment, or 404 answered. */
static int monitor_or_reply(struct atr_req *r, int64_t *id)
{
	int err;
	json_t *o;

	if (api_id_or_reply(r, "id", "monitor", id) < 0)
		return -1;
	if (!(o = atr_store_monitor_json(STORE(r), RES(r)->deployment.id, *id, &err)))
		return atr_reply_not_found(r, NULL, "deployment '%s' has no monitor %lld", RES(r)->deployment.name,
					   (long long)*id),
		       -1;
	json_decref(o);
	return 0;
}

void api_monitors_get(struct atr_req *r)
{
	int64_t id;

	if (monitor_or_reply(r, &id) == 0)
		reply_monitor(r, 200, id);
}

void api_monitors_delete(struct atr_req *r)
{
	int64_t id;
	int rc;

	if (monitor_or_reply(r, &id) < 0)
		return;
	atr_req_audit_object(r, "project:%s/deployment:%s/monitor:%lld", RES(r)->project.name, RES(r)->deployment.name,
			     (long long)id);
	if ((rc = atr_store_monitor_delete(STORE(r), RES(r)->deployment.id, id)) < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the monitor");
		return;
	}
	atr_reply_empty(r, 204);
}

void api_monitors_history(struct atr_req *r)
{
	int64_t id;

	if (monitor_or_reply(r, &id) == 0)
		api_reply_list(r, atr_store_monitor_history, id, "history");
}

/* The stored spec of monitor id with the request's changes on it (new reference), or NULL
 * when it replied. */
static json_t *patched_or_reply(struct atr_req *r, int64_t id)
{
	int err;
	json_t *o = atr_store_monitor_json(STORE(r), RES(r)->deployment.id, id, &err);
	json_t *merged = o ? json_deep_copy(json_object_get(o, "spec")) : NULL;

	json_decref(o);
	if (!merged || json_object_update(merged, (json_t *)atr_req_body(r)) < 0) {
		json_decref(merged);
		atr_reply_err(r, o ? ATR_ENOMEM : err, NULL, "could not read the monitor");
		return NULL;
	}
	return merged;
}

void api_monitors_patch(struct atr_req *r)
{
	json_t *merged = NULL, *spec = NULL;
	char *text = NULL;
	int64_t id;
	int rc;

	if (monitor_or_reply(r, &id) < 0 || !(merged = patched_or_reply(r, id)) || !(spec = spec_or_reply(r, merged)))
		goto out;
	if (!(text = json_dumps(spec, JSON_COMPACT))) {
		atr_reply_nomem(r, NULL, "out of memory");
		goto out;
	}
	atr_req_audit_object(r, "project:%s/deployment:%s/monitor:%lld", RES(r)->project.name, RES(r)->deployment.name,
			     (long long)id);
	rc = atr_store_monitor_update(STORE(r), RES(r)->deployment.id, id, text,
				      json_integer_value(json_object_get(spec, "interval_s")) * 1000);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update the monitor");
		goto out;
	}
	reply_monitor(r, 200, id);
out:
	free(text);
	json_decref(spec);
	json_decref(merged);
}
