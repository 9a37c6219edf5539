/*
 * deployments.c: /api/v1/projects/{project}/deployments and /api/v1/deployments/{name}:
 * creating (validated, the model version resolved, checked against the workers for a
 * 422), listing, reading, changing (settings, scale, a new version, a traffic split),
 * deleting, promote and rollback, the history and the statistics. Decisions are the
 * controller's (src/deploy/); this file checks input and access.
 */
#include "api.h"
#include "atrium/auth.h"
#include "atrium/engine.h"
#include "atrium/store_models.h"
#include "atrium/util.h"

#include <string.h>

#define DEPLOY(r) (APP(r)->deploy)

#define DEFAULT_HEALTH_PATH "/v2/health/ready"
#define DEFAULT_PREDICT_PATH "/predict"
#define DEFAULT_TIMEOUT_S 60
#define DEFAULT_ROLLOUT_TIMEOUT_S 600
#define DEFAULT_CAPTURE_BYTES 65536
#define DEFAULT_CAPTURE_ROWS 10000
#define DEFAULT_CAPTURE_AGE_S (7 * 86400)

static const struct atr_field capture_schema[] = {
	{ "sample_rate", ATR_F_NUMBER, 0, 0, 1, NULL, NULL },
	{ "max_body_bytes", ATR_F_INT, 0, 0, 1 << 20, NULL, NULL },
	{ "max_rows", ATR_F_INT, 0, 0, 10000000, NULL, NULL },
	{ "max_age_s", ATR_F_INT, 0, 0, 10LL * 365 * 86400, NULL, NULL },
	{ 0 },
};

static const struct atr_field traffic_schema[] = {
	{ "version", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 0, 64, NULL, NULL },
	{ "weight", ATR_F_INT, ATR_FF_REQUIRED, 0, 100, NULL, NULL },
	{ "replicas", ATR_F_INT, 0, 0, 64, NULL, NULL },
	{ 0 },
};

/* Shared by create and patch; create marks its required fields below. */
#define DEPLOYMENT_FIELDS(req)                                                                                       \
	{ "model", ATR_F_NAME, req, 1, 63, NULL, NULL }, { "version", ATR_F_INT_OR_STRING, req, 0, 64, NULL, NULL }, \
		{ "replicas", ATR_F_INT, 0, 1, 64, NULL, NULL },                                                     \
		{ "resources", ATR_F_OBJECT, 0, 0, 0, NULL, api_job_resources_schema },                              \
		{ "command", ATR_F_COMMAND, req, 0, 1 << 20, NULL, NULL },                                           \
		{ "env", ATR_F_ENV, 0, 0, 256, NULL, NULL }, { "labels", ATR_F_STRMAP, 0, 0, 32, NULL, NULL },       \
		{ "health_path", ATR_F_URL_PATH, 0, 1, 255, NULL, NULL },                                            \
		{ "predict_path", ATR_F_URL_PATH, 0, 1, 255, NULL, NULL },                                           \
		{ "timeout_s", ATR_F_INT, 0, 1, 3600, NULL, NULL },                                                  \
		{ "rollout_timeout_s", ATR_F_INT, 0, 5, 86400, NULL, NULL },                                         \
	{                                                                                                            \
		"capture", ATR_F_OBJECT, 0, 0, 0, NULL, capture_schema                                               \
	}

const struct atr_field api_deployment_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	DEPLOYMENT_FIELDS(ATR_FF_REQUIRED),
	{ 0 },
};

const struct atr_field api_deployment_patch_schema[] = {
	DEPLOYMENT_FIELDS(0),
	{ "traffic", ATR_F_ARRAY, 0, 1, ATR_DEPLOY_MAX_TRACKS, NULL, traffic_schema },
	{ 0 },
};

/* promote: {"version"} (optional: the canary's) */
const struct atr_field api_deployment_promote_schema[] = {
	{ "version", ATR_F_INT_OR_STRING, 0, 0, 64, NULL, NULL },
	{ 0 },
};

/* ---- checks the schema cannot make: the store's, and fields against each other ---- */

/*
 * A committed version of model m from a JSON value: a number, "latest" (the newest
 * committed one, pinned) or an alias (*alias gets it: the deployment follows it).
 */
static int version_or_reply(struct atr_req *r, const struct atr_model *m, const json_t *v, const char *field,
			    struct atr_model_version *out, const char **alias)
{
	char num[32];
	const char *ref = num;

	*alias = NULL;
	if (json_is_integer(v))
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
	else
		ref = json_string_value(v);
	if (atr_store_model_version_resolve(STORE(r), m->id, ref, out) < 0) {
		atr_reply_invalid(r, field, "model '%s' has no version or alias '%s'", m->name, ref);
		return -1;
	}
	if (!out->committed) {
		atr_reply_invalid(r, field, "version %lld of model '%s' is a draft; commit it first",
				  (long long)out->version, m->name);
		return -1;
	}
	if (!json_is_integer(v) && strcmp(ref, "latest") != 0)
		*alias = ref;
	return 0;
}

/* Whether a worker could ever run a replica with these resources and labels (422 otherwise). */
static int feasible_or_reply(struct atr_req *r, const struct atr_project *p, const json_t *res, const json_t *labels)
{
	struct atr_job_spec spec = { 0 };
	char why[300];

	spec.team_id = p->team_id;
	spec.gpus = (int)atr_json_int(res, "gpus", 0);
	spec.gpu_type = atr_json_str(res, "gpu_type", NULL);
	spec.cpus = (int)atr_json_int(res, "cpus", 0);
	spec.memory_mb = atr_json_int(res, "memory_mb", 0);
	spec.labels = labels;
	if (atr_engine_feasible(APP(r)->engine, &spec, why, sizeof(why)))
		return 0;
	atr_reply_unprocessable(r, "resources", "no worker could ever run a replica: %s", why);
	return -1;
}

/* Editors and owners see env values (every caller that changed it is one); viewers the names. */
static void reply_deployment_as(struct atr_req *r, unsigned status, int64_t id, bool show_env)
{
	json_t *o = atr_deploy_json(DEPLOY(r), id);
	if (!o) {
		atr_reply_not_found(r, NULL, "the deployment is gone");
		return;
	}
	if (!show_env)
		api_hide_env_values(o);
	atr_reply_json(r, status, o);
}

static void reply_deployment(struct atr_req *r, unsigned status, int64_t id)
{
	reply_deployment_as(r, status, id, true);
}

/* ---- create, list, read ---- */

void api_deployments_create(struct atr_req *r)
{
	const struct atr_project p = RES(r)->project;
	struct atr_model m;
	struct atr_model_version v;
	struct atr_deploy_spec spec = { 0 };
	const json_t *cap = json_object_get(atr_req_body(r), "capture");
	const char *model = atr_json_str(atr_req_body(r), "model", ""), *alias;
	char actor[80];
	int64_t id;
	int rc;

	if (atr_store_model_find(STORE(r), p.id, model, &m) < 0) {
		atr_reply_invalid(r, "model", "model '%s' does not exist in project '%s'", model, p.name);
		return;
	}
	if (version_or_reply(r, &m, json_object_get(atr_req_body(r), "version"), "version", &v, &alias) < 0 ||
	    feasible_or_reply(r, &p, json_object_get(atr_req_body(r), "resources"),
			      json_object_get(atr_req_body(r), "labels")) < 0)
		return;
	spec.project_id = p.id;
	spec.model_id = m.id;
	spec.created_by = atr_req_who(r)->user_id;
	spec.name = atr_json_str(atr_req_body(r), "name", "");
	spec.version_id = v.id;
	spec.version = v.version;
	spec.follow_alias = alias;
	spec.replicas = (int)atr_json_int(atr_req_body(r), "replicas", 1);
	spec.command = json_object_get(atr_req_body(r), "command");
	spec.env = json_object_get(atr_req_body(r), "env");
	spec.resources = json_object_get(atr_req_body(r), "resources");
	spec.labels = json_object_get(atr_req_body(r), "labels");
	spec.health_path = atr_json_str(atr_req_body(r), "health_path", DEFAULT_HEALTH_PATH);
	spec.predict_path = atr_json_str(atr_req_body(r), "predict_path", DEFAULT_PREDICT_PATH);
	spec.timeout_ms = atr_json_int(atr_req_body(r), "timeout_s", DEFAULT_TIMEOUT_S) * 1000;
	spec.rollout_timeout_s = atr_json_int(atr_req_body(r), "rollout_timeout_s", DEFAULT_ROLLOUT_TIMEOUT_S);
	spec.sample_rate = atr_json_num(cap, "sample_rate", 0);
	spec.capture_max_bytes = atr_json_int(cap, "max_body_bytes", DEFAULT_CAPTURE_BYTES);
	spec.capture_max_rows = atr_json_int(cap, "max_rows", DEFAULT_CAPTURE_ROWS);
	spec.capture_max_age_s = atr_json_int(cap, "max_age_s", DEFAULT_CAPTURE_AGE_S);
	atr_req_audit_object(r, "project:%s/deployment:%s/version:%lld", p.name, spec.name, (long long)v.version);
	rc = atr_deploy_create(DEPLOY(r), &spec, api_actor(r, actor, sizeof(actor)), &id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "a deployment named '%s' already exists", spec.name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create deployment '%s'", spec.name);
		return;
	}
	reply_deployment(r, 201, id);
}

static int list_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	json_t *ids = json_array(), *v;
	size_t i;
	int rc;

	if (!ids)
		return ATR_ENOMEM;
	rc = atr_store_deployment_list_ids(STORE(r), arg, p, ids, more);
	json_array_foreach(ids, i, v)
	{
		json_t *o = rc == 0 ? atr_deploy_json(DEPLOY(r), json_integer_value(v)) : NULL;
		if (o) {
			api_hide_env_values(o);
			json_array_append_new(arr, o);
		}
	}
	json_decref(ids);
	return rc;
}

void api_deployments_list(struct atr_req *r)
{
	struct atr_deployment_filter f = { 0 };

	f.project_id = RES(r)->project.id;
	api_reply_list_cb(r, list_cb, &f, "deployments");
}

/* GET /api/v1/deployments: those of every project the caller may read (admins: all). */
void api_deployments_list_all(struct atr_req *r)
{
	struct atr_deployment_filter f = { 0 };
	const char *project = atr_req_query(r, "project");

	f.state = atr_req_query(r, "state");
	if (project) {
		struct atr_project p;
		if (api_project_visible_or_reply(r, project, "project", &p) < 0)
			return;
		f.project_id = p.id;
	}
	if (!atr_req_who(r)->admin)
		f.visible_to = atr_req_who(r)->user_id;
	api_reply_list_cb(r, list_cb, &f, "deployments");
}

const struct atr_qparam api_deployments_list_all_query[] = {
	ATR_Q_PAGE,
	{ "state", ATR_Q_ENUM, 0, 0, 0, 0, "deploying|ready|degraded|failed", NULL },
	{ "project", ATR_Q_STRING, 0, 1, 64, 0, NULL, "deployments of this project (a name or an id)" },
	{ 0 },
};

void api_deployments_get(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	reply_deployment_as(r, 200, d.id, RES(r)->role >= ATR_PROLE_EDITOR);
}

/* ---- changes ---- */

/* traffic [{version, weight, replicas}] into the patch: committed versions, weights adding up to
 * 100, each version once, the stable one among them. */
static int traffic_or_reply(struct atr_req *r, const struct atr_deploy_ref *d, const struct atr_model *m,
			    struct atr_deploy_patch *pt)
{
	const json_t *traffic = json_object_get(atr_req_body(r), "traffic"), *e;
	bool has_stable = false;
	int sum = 0;
	size_t i;

	if (!traffic)
		return 0;
	if (json_object_get(atr_req_body(r), "version")) {
		atr_reply_invalid(r, "traffic", "give 'version' (a rolling update) or 'traffic' (a split), not both");
		return -1;
	}
	pt->ntracks = 0;
	json_array_foreach(traffic, i, e)
	{
		struct atr_deploy_track *t = &pt->tracks[pt->ntracks++];
		struct atr_model_version v;
		const char *alias;
		char f[48];

		snprintf(f, sizeof(f), "traffic[%zu].version", i);
		if (version_or_reply(r, m, json_object_get(e, "version"), f, &v, &alias) < 0)
			return -1;
		for (int k = 0; k + 1 < pt->ntracks; k++)
			if (pt->tracks[k].version_id == v.id) {
				atr_reply_invalid(r, f, "version %lld is listed twice", (long long)v.version);
				return -1;
			}
		t->version_id = v.id;
		t->version = v.version;
		t->weight = (int)atr_json_int(e, "weight", 0);
		t->replicas = (int)atr_json_int(e, "replicas", -1);
		sum += t->weight;
		has_stable |= v.id == d->version_id;
	}
	if (sum != 100) {
		atr_reply_invalid(r, "traffic", "the weights add up to %d, not 100", sum);
		return -1;
	}
	if (!has_stable && d->version_id) {
		atr_reply_invalid(r, "traffic", "the split must include the stable version (version %lld serves now)",
				  (long long)atr_store_model_version_number(STORE(r), d->version_id));
		return -1;
	}
	return 0;
}

/* The PATCH body into a patch. */
static int patch_or_reply(struct atr_req *r, const struct atr_deploy_ref *d, const struct atr_model *m,
			  struct atr_deploy_patch *pt)
{
	const json_t *cap = json_object_get(atr_req_body(r), "capture"),
		     *ver = json_object_get(atr_req_body(r), "version");

	atr_deploy_patch_init(pt);
	if (ver) {
		struct atr_model_version v;
		const char *alias;
		if (version_or_reply(r, m, ver, "version", &v, &alias) < 0)
			return -1;
		pt->version_id = v.id;
		pt->version = v.version;
		pt->follow_alias = alias ? alias : ""; /* a number pins it */
	}
	if (traffic_or_reply(r, d, m, pt) < 0)
		return -1;
	pt->replicas = (int)atr_json_int(atr_req_body(r), "replicas", -1);
	pt->timeout_ms = json_object_get(atr_req_body(r), "timeout_s")
				 ? atr_json_int(atr_req_body(r), "timeout_s", 0) * 1000
				 : -1;
	pt->rollout_timeout_s = atr_json_int(atr_req_body(r), "rollout_timeout_s", -1);
	pt->sample_rate = atr_json_num(cap, "sample_rate", -1);
	pt->capture_max_bytes = atr_json_int(cap, "max_body_bytes", -1);
	pt->capture_max_rows = atr_json_int(cap, "max_rows", -1);
	pt->capture_max_age_s = atr_json_int(cap, "max_age_s", -1);
	pt->command = json_object_get(atr_req_body(r), "command");
	pt->env = json_object_get(atr_req_body(r), "env");
	pt->resources = json_object_get(atr_req_body(r), "resources");
	pt->labels = json_object_get(atr_req_body(r), "labels");
	pt->health_path = atr_json_str(atr_req_body(r), "health_path", NULL);
	pt->predict_path = atr_json_str(atr_req_body(r), "predict_path", NULL);
	return 0;
}

void api_deployments_patch(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	const struct atr_project p = RES(r)->project;
	struct atr_model m;
	struct atr_deploy_patch pt;
	const char *model = atr_json_str(atr_req_body(r), "model", NULL);
	char actor[80], why[300] = "";
	int rc;

	if (atr_store_model_get(STORE(r), d.model_id, &m) < 0) {
		atr_reply_conflict(r, NULL, "the model of deployment '%s' is gone", d.name);
		return;
	}
	if (model && strcmp(model, m.name) != 0) {
		atr_reply_invalid(r, "model", "deployment '%s' serves model '%s'; 'model' cannot change", d.name,
				  m.name);
		return;
	}
	if (patch_or_reply(r, &d, &m, &pt) < 0)
		return;
	if (pt.resources || pt.labels) { /* what the replicas would ask for, the rest as it is */
		json_t *now = atr_deploy_json(DEPLOY(r), d.id);
		int ok = feasible_or_reply(r, &p, pt.resources ? pt.resources : json_object_get(now, "resources"),
					   pt.labels ? pt.labels : json_object_get(now, "labels"));
		json_decref(now);
		if (ok < 0)
			return;
	}
	rc = atr_deploy_patch(DEPLOY(r), d.id, &pt, api_actor(r, actor, sizeof(actor)), why, sizeof(why));
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL, "%s", why);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not change deployment '%s'", d.name);
		return;
	}
	reply_deployment(r, 200, d.id);
}

void api_deployments_delete(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	char actor[80];
	int rc;

	rc = atr_deploy_delete(DEPLOY(r), d.id, api_actor(r, actor, sizeof(actor)));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete deployment '%s'", d.name);
		return;
	}
	atr_auth_invalidate(APP(r)->auth); /* its invoke keys were revoked */
	atr_reply_empty(r, 204);
}

void api_deployments_promote(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	struct atr_model m;
	struct atr_model_version v = { 0 };
	const json_t *ver = json_object_get(atr_req_body(r), "version");
	const char *alias;
	char actor[80], why[300];
	int rc;

	if (ver && (atr_store_model_get(STORE(r), d.model_id, &m) < 0 ||
		    version_or_reply(r, &m, ver, "version", &v, &alias) < 0)) {
		if (!atr_req_done(r))
			atr_reply_conflict(r, NULL, "the model of deployment '%s' is gone", d.name);
		return;
	}
	rc = atr_deploy_promote(DEPLOY(r), d.id, v.id, api_actor(r, actor, sizeof(actor)), why, sizeof(why));
	if (rc < 0) {
		atr_reply_err(r, rc, rc == ATR_ECONFLICT && ver ? "version" : NULL, "%s",
			      rc == ATR_ECONFLICT ? why : "could not promote");
		return;
	}
	reply_deployment(r, 200, d.id);
}

void api_deployments_rollback(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	char actor[80], why[300];
	int rc;

	rc = atr_deploy_rollback(DEPLOY(r), d.id, api_actor(r, actor, sizeof(actor)), why, sizeof(why));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "%s", rc == ATR_ECONFLICT ? why : "could not roll back");
		return;
	}
	reply_deployment(r, 200, d.id);
}

/* ---- history and statistics ---- */

void api_deployments_history(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	api_reply_list(r, atr_store_deployment_history, d.id, "the history");
}

void api_deployments_stats(struct atr_req *r)
{
	const struct atr_deploy_ref d = RES(r)->deployment;
	json_t *o;

	if (!(o = atr_deploy_stats_json(DEPLOY(r), d.id))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_reply_json(r, 200, o);
}
