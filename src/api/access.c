/*
 * access.c: the one access decision of the API. The route table names, for each route, the
 * resource its path points at and the project role it needs; before the handler runs, the
 * request pipeline calls api_resolve (installed by serve.c), which loads that resource and
 * its project once and decides once:
 *   - missing, or private and the caller has no role there: 404, exactly as if it did not
 *     exist (outsiders never learn a name);
 *   - a role below the route's: 403 naming the role needed and the one the caller has;
 *   - a write (anything but GET/HEAD) to an archived project: 409 (but for routes that
 *     restore it: ATR_RF_ARCHIVED_OK);
 *   - ATR_RF_DRAFT routes on a committed version: 409.
 * The loaded resource goes to the handler as RES(req). Who has which role (api_project_role):
 * admins are owners everywhere; users have their membership role, or viewer of internal
 * projects; a job's token is an editor of its own project only, and there reaches only what its
 * job needs (job_scope_or_reply); a deployment's invoke key may only call that deployment. Handlers never compare roles themselves: rules that depend on
 * the request's content (moving the protected alias) go through api_need_role_or_reply.
 */
#include "api.h"
#include "atrium/store_comp_scorers.h"
#include "atrium/deploy.h"
#include "atrium/metric_batch.h"
#include "atrium/scoring.h"
#include "atrium/store_jobs.h"
#include "atrium/store_sweeps.h"
#include "atrium/store_templates.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum atr_prole api_project_role_as(struct atr_req *r, const struct atr_project *p, enum atr_prole member)
{
	switch (atr_req_who(r)->kind) {
	case ATR_P_USER:
		if (atr_req_who(r)->admin)
			return ATR_PROLE_OWNER;
		return member == ATR_PROLE_NONE && p->internal ? ATR_PROLE_VIEWER : member;
	case ATR_P_JOB:
		return atr_req_who(r)->project_id == p->id ? ATR_PROLE_EDITOR : ATR_PROLE_NONE;
	default:
		return ATR_PROLE_NONE;
	}
}

enum atr_prole api_project_role(struct atr_req *r, const struct atr_project *p)
{
	bool member_counts = atr_req_who(r)->kind == ATR_P_USER && !atr_req_who(r)->admin;
	return api_project_role_as(r, p,
				   member_counts
					   ? atr_store_project_member_role(STORE(r), p->id, atr_req_who(r)->user_id)
					   : ATR_PROLE_NONE);
}

/* "a viewer", "an editor", "an owner" */
static const char *role_phrase(enum atr_prole role)
{
	switch (role) {
	case ATR_PROLE_VIEWER:
		return "a viewer";
	case ATR_PROLE_LAUNCHER:
		return "a launcher";
	case ATR_PROLE_EDITOR:
		return "an editor";
	case ATR_PROLE_OWNER:
		return "an owner";
	default:
		return "not a member";
	}
}

int api_need_role_or_reply(struct atr_req *r, enum atr_prole need, const char *why)
{
	const struct api_res *x = RES(r);

	if (x->role >= need)
		return 0;
	atr_reply_forbidden(r, NULL, "you are %s of project '%s'; %s needs %s", role_phrase(x->role), x->project.name,
			    why ? why : "this", role_phrase(need));
	return -1;
}

int api_project_visible_or_reply(struct atr_req *r, const char *ref, const char *field, struct atr_project *out)
{
	int rc = atr_store_project_find(STORE(r), ref, out);

	if (rc < 0 && rc != ATR_ENOTFOUND) {
		atr_reply_err(r, rc, NULL, "could not read project '%s'", ref);
		return -1;
	}
	if (rc == ATR_ENOTFOUND || api_project_role(r, out) == ATR_PROLE_NONE) {
		if (field)
			atr_reply_invalid(r, field, "project '%s' does not exist", ref);
		else
			atr_reply_not_found(r, NULL, "project '%s' does not exist", ref);
		return -1;
	}
	return 0;
}

/* ---- loading what a path points at ---- */

/* A path id ({run}, {job}, {id}): 1 and up, else 400 naming it. */
static int path_id(struct atr_req *r, const char *param, int64_t *id)
{
	if (atr_parse_i64(atr_req_param(r, param), 1, INT64_MAX, id) == 0)
		return 0;
	atr_reply_invalid(r, param, "'%s' must be a %s id", param, atr_res_name(atr_req_route(r)->resource));
	return -1;
}

/*
 * The project of {project}, when the caller may see it. 1: it does not exist for the caller
 * (the 404 is answered by the caller of this function, naming what the path asked for).
 */
static int load_project(struct atr_req *r, struct api_res *x)
{
	const char *ref = atr_req_param(r, "project");
	int rc = atr_store_project_find(STORE(r), ref ? ref : "", &x->project);

	if (rc == ATR_ENOTFOUND) {
		x->project.id = 0;
		return 1;
	}
	if (rc < 0)
		return rc;
	x->role = api_project_role(r, &x->project);
	return x->role == ATR_PROLE_NONE ? 1 : 0;
}

/*
 * A dataset or model of a project the caller has no role in, which a template shared with a
 * project the caller is a member of (or the caller's job's project) when that project was made
 * from it (template_grants): the caller is a viewer of it, for reading only (x->shared: a write
 * is refused in api_resolve). 1: absent for the caller, as before.
 */
static int shared_or_absent(struct atr_req *r, struct api_res *x, const char *kind, int64_t id)
{
	const struct atr_principal *who = atr_req_who(r);
	int64_t user = who->kind == ATR_P_USER ? who->user_id : 0;
	int64_t project = who->kind == ATR_P_JOB ? who->project_id : 0;
	bool ok = false;
	int rc;

	if (!user && !project)
		return 1;
	rc = atr_store_template_granted(STORE(r), kind, id, user, project, &ok);
	if (rc < 0)
		return rc;
	if (!ok)
		return 1;
	x->role = ATR_PROLE_VIEWER;
	x->shared = true;
	return 0;
}

/* The project (by id) a resource found by its own id lives in. */
static int load_project_of(struct atr_req *r, struct api_res *x, int64_t project_id)
{
	int rc = atr_store_project_get(STORE(r), project_id, &x->project);

	if (rc == ATR_ENOTFOUND)
		return 1;
	if (rc < 0)
		return rc;
	x->role = api_project_role(r, &x->project);
	return x->role == ATR_PROLE_NONE ? 1 : 0;
}

/* {version} of a dataset: a number, or "latest" (0) for the newest committed one. */
static int dataset_version_param(struct atr_req *r, int64_t *version)
{
	const char *v = atr_req_param(r, "version");
	if (v && strcmp(v, "latest") == 0) {
		*version = 0;
		return 0;
	}
	if (!v || atr_parse_i64(v, 1, INT32_MAX, version) < 0) {
		atr_reply_invalid(r, "version", "'version' must be a version number or 'latest'");
		return -1;
	}
	return 0;
}

/* Each loader returns 0 (loaded, role set), 1 (404: answered by the loader, naming what is
 * missing), -1 (answered), or a store error. */

/* A competition scorer's subsets (competition_scorer.c): absent for all but the competition's
 * organisers and the jobs that read them (their versions: api_dsv_hidden). */
bool api_scoring_dataset_hidden(struct atr_req *r, enum atr_prole role, int64_t dataset_id)
{
	bool scoring = true;

	if (role >= ATR_PROLE_OWNER || atr_req_who(r)->kind == ATR_P_JOB)
		return false;
	return atr_store_comp_is_scorer_dataset(STORE(r), dataset_id, &scoring) < 0 || scoring;
}

static int load_dataset(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "dataset");
	int rc = load_project(r, x);
	bool outsider = rc == 1 && x->project.id > 0;

	if (rc != 0 && !outsider)
		return rc;
	rc = atr_store_dataset_find(STORE(r), x->project.id, name ? name : "", &x->dataset_id);
	if (outsider && (rc == 0 || rc == ATR_ENOTFOUND)) /* (absent: the project's 404, not the dataset's) */
		rc = rc == 0 ? shared_or_absent(r, x, "dataset", x->dataset_id) : 1;
	if (rc == 0 && !outsider && api_scoring_dataset_hidden(r, x->role, x->dataset_id))
		rc = ATR_ENOTFOUND;
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "dataset '%s' does not exist in project '%s'", name ? name : "",
				    x->project.name);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/dataset:%s", x->project.name, name);
	return rc;
}

bool api_dsv_hidden(struct atr_req *r, int64_t dsv_id)
{
	struct atr_project p;
	int64_t ids[8];
	size_t n;
	bool inputs = false;

	/* a model-version competition's inputs copy: read by the jobs that run its submissions */
	if (atr_req_who(r)->kind == ATR_P_JOB && atr_store_comp_is_inputs(STORE(r), dsv_id, &inputs) == 0 && inputs &&
	    api_job_reaches(r, "dataset_version", dsv_id))
		return false;
	if (atr_store_competition_hiders(STORE(r), dsv_id, ids, 8, &n) < 0 || n > 8)
		return true;
	for (size_t i = 0; i < n; i++)
		if (atr_store_project_get(STORE(r), ids[i], &p) < 0 || api_project_role(r, &p) < ATR_PROLE_OWNER)
			return true;
	return false;
}

json_t *api_dsv_hidden_ids(struct atr_req *r)
{
	json_t *all = json_array(), *out = json_array(), *v;
	size_t i;
	int rc = all && out ? 0 : ATR_ENOMEM;

	/* admins organise every competition; for others the one rule, once per candidate */
	if (rc == 0 && !(atr_req_who(r)->kind == ATR_P_USER && atr_req_who(r)->admin))
		rc = atr_store_competition_hidden_all(STORE(r), all);
	json_array_foreach(all, i, v)
	{
		if (rc == 0 && api_dsv_hidden(r, json_integer_value(v)) && json_array_append(out, v) < 0)
			rc = ATR_ENOMEM;
	}
	json_decref(all);
	if (rc < 0) {
		json_decref(out);
		atr_reply_err(r, rc, NULL, "could not read which dataset versions you may see");
		return NULL;
	}
	return out;
}

bool api_dsv_in(const json_t *ids, int64_t dsv_id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(ids, i, v)
	{
		if (json_integer_value(v) == dsv_id)
			return true;
	}
	return false;
}

void api_dsv_strip_hidden(struct atr_req *r, const json_t *hide, json_t *arr, const char *key)
{
	for (size_t i = json_array_size(arr); i-- > 0;) {
		const json_t *v = json_object_get(json_array_get(arr, i), key);
		if (json_is_object(v))
			v = json_object_get(v, "id");
		if (json_is_integer(v) &&
		    (hide ? api_dsv_in(hide, json_integer_value(v)) : api_dsv_hidden(r, json_integer_value(v))))
			json_array_remove(arr, i);
	}
}

static int load_dataset_version(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "dataset");
	int64_t version;
	int rc = load_dataset(r, x);

	if (rc != 0)
		return rc;
	if (dataset_version_param(r, &version) < 0)
		return -1;
	if (version == 0) { /* "latest": the newest the caller may see */
		json_t *hide = api_dsv_hidden_ids(r);
		if (!hide)
			return -1;
		rc = atr_store_dsv_find_visible(STORE(r), x->dataset_id, 0, hide, &x->dsv);
		json_decref(hide);
	} else {
		rc = atr_store_dsv_find(STORE(r), x->dataset_id, version, &x->dsv);
	}
	if (rc == 0 && api_dsv_hidden(r, x->dsv.id))
		rc = ATR_ENOTFOUND; /* a competition's hidden set: absent for all but its organisers */
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "dataset '%s' has no version '%s'", name, atr_req_param(r, "version"));
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/dataset:%s/version:%lld", x->project.name, name,
				     (long long)x->dsv.version);
	return rc;
}

/* A run's MLflow id in a path: 32 lowercase hex characters. */
static bool is_run_uuid(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 32;
}

/* The run (by id, or by MLflow id) when the caller may see it, in the experiment (the
 * project's id) when one is named: MLflow's artifact paths carry both, and a run named under
 * another experiment is as absent as one that does not exist. 1: absent for the caller. */
static int run_access(struct atr_req *r, struct api_res *x, const char *ref, const char *experiment)
{
	int64_t user = atr_req_who(r)->kind == ATR_P_USER ? atr_req_who(r)->user_id : 0;
	enum atr_prole member = ATR_PROLE_NONE;
	int64_t id = 0;
	int rc;

	if (is_run_uuid(ref))
		rc = atr_store_run_access_uuid(STORE(r), ref, user, &x->run, &x->project, &member);
	else if (atr_parse_i64(ref, 1, INT64_MAX, &id) == 0)
		/* the run, its project and the caller's membership in one query (the hot path of metric logging) */
		rc = atr_store_run_access(STORE(r), id, user, &x->run, &x->project, &member);
	else
		rc = ATR_ENOTFOUND;
	if (rc == ATR_ENOTFOUND)
		return 1;
	if (rc < 0)
		return rc;
	x->role = api_project_role_as(r, &x->project, member);
	if (experiment && (atr_parse_i64(experiment, 1, INT64_MAX, &id) < 0 || id != x->project.id))
		return 1;
	if (x->role != ATR_PROLE_NONE)
		atr_req_audit_object(r, "run:%lld", (long long)x->run.id);
	return x->role == ATR_PROLE_NONE ? 1 : 0;
}

/* {run}: its id, or its MLflow id; {experiment} too under MLflow's artifact paths. */
static int load_run(struct atr_req *r, struct api_res *x)
{
	const char *ref = atr_req_param(r, "run");
	int64_t id;

	if (!is_run_uuid(ref) && path_id(r, "run", &id) < 0)
		return -1;
	return run_access(r, x, ref, atr_req_param(r, "experiment"));
}

/* The job of a competition's model submission: absent for all but the competition's organisers
 * (its inputs are the hidden set's) and the job itself. */
static bool comp_job_hidden(struct atr_req *r, const struct api_res *x)
{
	bool comp = true, grants;

	if (x->role >= ATR_PROLE_OWNER || (atr_req_who(r)->kind == ATR_P_JOB && atr_req_who(r)->scope_id == x->job.id))
		return false;
	return atr_store_comp_job(STORE(r), x->job.id, 0, &comp, &grants) < 0 || comp;
}

bool api_job_reads_hidden(struct atr_req *r, int64_t job_id, enum atr_prole role)
{
	json_t *ids, *v;
	bool hidden = false;
	size_t i;

	if (role >= ATR_PROLE_OWNER || (atr_req_who(r)->kind == ATR_P_JOB && atr_req_who(r)->scope_id == job_id))
		return false;
	if (!(ids = json_array()) || atr_store_competition_hidden_read(STORE(r), job_id, ids) < 0) {
		json_decref(ids);
		return true; /* (fails closed, as api_dsv_hidden does) */
	}
	json_array_foreach(ids, i, v)
	{
		hidden = hidden || api_dsv_hidden(r, json_integer_value(v));
	}
	json_decref(ids);
	return hidden;
}

static int load_job(struct atr_req *r, struct api_res *x)
{
	int64_t id;
	int rc;

	if (path_id(r, "job", &id) < 0)
		return -1;
	rc = atr_store_job_row(STORE(r), id, &x->job);
	if (rc == ATR_ENOTFOUND)
		return 1;
	if (rc < 0)
		return rc;
	json_decref(x->job.labels); /* (placement labels: not needed by the API) */
	x->job.labels = NULL;
	rc = load_project_of(r, x, x->job.project_id);
	if (rc == 0 && comp_job_hidden(r, x))
		rc = 1;
	if (rc == 0 && api_job_reads_hidden(r, x->job.id, x->role))
		rc = 1;
	if (rc == 0)
		atr_req_audit_object(r, "job:%lld", (long long)id);
	/* a benchmark scorer's job (its inputs, log and outputs show the ground truth): editors only */
	if (rc == 0 && x->role < ATR_PROLE_EDITOR && atr_store_job_scores(STORE(r), id)) {
		atr_reply_forbidden(r, NULL,
				    "job %lld scores evaluations of a benchmark: only the editors of project '%s'"
				    " see it",
				    (long long)id, x->project.name);
		return -1;
	}
	return rc;
}

int64_t api_scorer_jobs_visible_to(struct atr_req *r, bool project_loaded)
{
	int64_t user = atr_req_who(r)->user_id ? atr_req_who(r)->user_id : -1;

	if (project_loaded)
		return RES(r)->role >= ATR_PROLE_EDITOR ? 0 : user;
	return atr_req_who(r)->admin ? 0 : user;
}

static int load_model(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "model");
	int rc = load_project(r, x);
	bool outsider = rc == 1 && x->project.id > 0;

	if (rc != 0 && !outsider)
		return rc;
	rc = atr_store_model_find(STORE(r), x->project.id, name ? name : "", &x->model);
	if (outsider && (rc == 0 || rc == ATR_ENOTFOUND))
		rc = rc == 0 ? shared_or_absent(r, x, "model", x->model.id) : 1;
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "model '%s' does not exist in project '%s'", name ? name : "",
				    x->project.name);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/model:%s", x->project.name, x->model.name);
	return rc;
}

/*
 * The grant of a competition's model submission: its job (in the competition's project) reads
 * the submitted model version wherever it lives, and nothing else of that project. 1: none.
 */
static int granted_version(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "model"), *ref = atr_req_param(r, "version");
	bool comp = false, grants = false;

	if (!x->project.id || atr_store_model_find(STORE(r), x->project.id, name ? name : "", &x->model) < 0 ||
	    atr_store_model_version_resolve(STORE(r), x->model.id, ref ? ref : "", &x->version) < 0 ||
	    atr_store_comp_job(STORE(r), atr_req_who(r)->scope_id, x->version.id, &comp, &grants) < 0 || !grants)
		return 1;
	x->role = ATR_PROLE_VIEWER;
	return 0;
}

static int load_model_version(struct atr_req *r, struct api_res *x)
{
	const char *ref = atr_req_param(r, "version");
	int rc = load_model(r, x);

	if (rc == 1 && atr_req_who(r)->kind == ATR_P_JOB)
		return granted_version(r, x);
	if (rc != 0)
		return rc;
	rc = atr_store_model_version_resolve(STORE(r), x->model.id, ref ? ref : "", &x->version);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "model '%s' has no version '%s'", x->model.name, ref ? ref : "");
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/model:%s/version:%lld", x->project.name, x->model.name,
				     (long long)x->version.version);
	return rc;
}

/* A model version by its row id, and its model and project. 1: absent for the caller. */
static int version_by_id(struct atr_req *r, struct api_res *x, int64_t id)
{
	int rc = atr_store_model_version_get(STORE(r), id, &x->version);

	if (rc == 0)
		rc = atr_store_model_get(STORE(r), x->version.model_id, &x->model);
	if (rc == ATR_ENOTFOUND)
		return 1;
	if (rc < 0)
		return rc;
	rc = load_project_of(r, x, x->model.project_id);
	if (rc == 1)
		rc = shared_or_absent(r, x, "model", x->model.id);
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/model:%s/version:%lld", x->project.name, x->model.name,
				     (long long)x->version.version);
	return rc;
}

static int load_model_version_id(struct atr_req *r, struct api_res *x)
{
	int64_t id;

	if (path_id(r, "id", &id) < 0)
		return -1;
	return version_by_id(r, x, id);
}

static int load_deployment(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "name");
	int rc;

	if (!name || atr_deploy_find(APP(r)->deploy, name, &x->deployment) < 0)
		return 1;
	if (atr_req_who(r)->kind == ATR_P_INVOKE) { /* an invoke key calls its own deployment, nothing else */
		if (atr_req_who(r)->scope_id != x->deployment.id)
			return 1;
		rc = atr_store_project_get(STORE(r), x->deployment.project_id, &x->project);
		x->role = ATR_PROLE_VIEWER;
	} else {
		rc = load_project_of(r, x, x->deployment.project_id);
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/deployment:%s", x->project.name, x->deployment.name);
	return rc;
}

static int load_promotion(struct atr_req *r, struct api_res *x)
{
	int64_t id;
	int rc;

	if (path_id(r, "id", &id) < 0)
		return -1;
	rc = atr_store_promotion_get(STORE(r), id, &x->promotion);
	if (rc == ATR_ENOTFOUND)
		return 1;
	if (rc < 0)
		return rc;
	rc = load_project_of(r, x, x->promotion.project_id);
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/promotion:%lld/version:%lld/alias:%s", x->project.name,
				     (long long)id, (long long)x->promotion.version, x->promotion.alias);
	return rc;
}

static int load_benchmark(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "benchmark");
	int rc = load_project(r, x);

	if (rc != 0)
		return rc;
	rc = atr_store_benchmark_find(STORE(r), x->project.id, name ? name : "", &x->benchmark);
	if (rc == 0 && api_dsv_hidden(r, x->benchmark.dataset_version_id))
		rc = ATR_ENOTFOUND; /* on a competition's hidden set (an organiser's): absent, as the set is */
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "benchmark '%s' does not exist in project '%s'", name ? name : "",
				    x->project.name);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/benchmark:%s", x->project.name, x->benchmark.name);
	return rc;
}

/* A sweep of the project, by id (issue 20). */
static int load_sweep(struct atr_req *r, struct api_res *x)
{
	const char *ref = atr_req_param(r, "sweep");
	struct atr_sweep_row row;
	char *end = NULL;
	long long id = ref ? strtoll(ref, &end, 10) : 0;
	int rc = load_project(r, x);

	if (rc != 0)
		return rc;
	rc = id > 0 && !*end ? atr_store_sweep_get(STORE(r), x->project.id, id, &row) : ATR_ENOTFOUND;
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "sweep '%s' does not exist in project '%s'", ref ? ref : "",
				    x->project.name);
		return -1;
	}
	if (rc < 0)
		return rc;
	x->sweep.id = row.id;
	atr_copy(x->sweep.name, sizeof(x->sweep.name), row.name);
	atr_copy(x->sweep.state, sizeof(x->sweep.state), row.state);
	atr_sweep_row_release(&row);
	atr_req_audit_object(r, "project:%s/sweep:%lld", x->project.name, id);
	return 0;
}

static int load_evaluation(struct atr_req *r, struct api_res *x)
{
	int rc = load_benchmark(r, x);

	if (rc != 0)
		return rc;
	if (path_id(r, "evaluation", &x->evaluation_id) < 0)
		return -1;
	atr_req_audit_object(r, "project:%s/benchmark:%s/evaluation:%lld", x->project.name, x->benchmark.name,
			     (long long)x->evaluation_id);
	return 0;
}

/* {competition}: any signed-in user sees a competition (and may join it): a viewer; its
 * organisers (owners of its project, admins) are its owners. Other tokens: absent. */
static int load_competition(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "competition");
	const struct atr_scoring_metric *m;
	int rc;

	if (atr_req_who(r)->kind != ATR_P_USER)
		rc = ATR_ENOTFOUND;
	else
		rc = atr_store_competition_find(STORE(r), name ? name : "", &x->comp);
	if (rc == 0)
		rc = atr_store_project_get(STORE(r), x->comp.project_id, &x->project);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "competition '%s' does not exist", name ? name : "");
		return -1;
	}
	if (rc < 0)
		return rc;
	x->role = api_project_role(r, &x->project) == ATR_PROLE_OWNER ? ATR_PROLE_OWNER : ATR_PROLE_VIEWER;
	m = atr_scoring_metric_find(x->comp.metric);
	x->comp.higher_better = !m || m->direction == ATR_SCORING_HIGHER;
	if (!m) /* a custom metric: its scorer says (competition_scorer.c) */
		x->comp.higher_better = api_comp_higher_better(STORE(r), x->comp.id, x->comp.metric);
	atr_req_audit_object(r, "competition:%s", x->comp.name);
	return 0;
}

/* {launcher} of {project}: a name or an id. */
static int load_launcher(struct atr_req *r, struct api_res *x)
{
	const char *name = atr_req_param(r, "launcher");
	int rc = load_project(r, x);

	if (rc != 0)
		return rc;
	rc = atr_store_launcher_find(STORE(r), x->project.id, name ? name : "", &x->launcher);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "launcher '%s' does not exist in project '%s'", name ? name : "",
				    x->project.name);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/launcher:%s", x->project.name, x->launcher.name);
	return rc;
}

static int (*const loaders[ATR_RES_COUNT])(struct atr_req *, struct api_res *) = {
	[ATR_RES_PROJECT] = load_project,
	[ATR_RES_DATASET] = load_dataset,
	[ATR_RES_DATASET_VERSION] = load_dataset_version,
	[ATR_RES_RUN] = load_run,
	[ATR_RES_JOB] = load_job,
	[ATR_RES_MODEL] = load_model,
	[ATR_RES_MODEL_VERSION] = load_model_version,
	[ATR_RES_MODEL_VERSION_ID] = load_model_version_id,
	[ATR_RES_DEPLOYMENT] = load_deployment,
	[ATR_RES_PROMOTION] = load_promotion,
	[ATR_RES_BENCHMARK] = load_benchmark,
	[ATR_RES_EVALUATION] = load_evaluation,
	[ATR_RES_COMPETITION] = load_competition,
	[ATR_RES_LAUNCHER] = load_launcher,
	[ATR_RES_SWEEP] = load_sweep,
};

/* ---- MLflow's artifact listing: the `path` query parameter names a run or a model version ---- */

/* Copies the next '/'-separated part of *p into out and moves *p past it and its '/'; false
 * when nothing is left or the part does not fit (no id is that long). */
static bool next_part(const char **p, char *out, size_t len)
{
	const char *s = *p, *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if ((!*s && !slash) || n >= len)
		return false;
	memcpy(out, s, n);
	out[n] = 0;
	*p = slash ? slash + 1 : s + n;
	return true;
}

/* "<experiment id>/<run id>/artifacts[/<folder>]" (a run's artifacts, as the run's
 * artifact_uri names them) or "registry/<model version id>[/<folder>]" (a version's files). */
static int load_artifact_path(struct atr_req *r, struct api_res *x)
{
	const char *q = atr_req_query(r, "path"), *rest = q ? q : "";
	char first[24], second[40], third[16];
	bool ok = next_part(&rest, first, sizeof(first)) && next_part(&rest, second, sizeof(second));
	bool registry = ok && strcmp(first, "registry") == 0;
	int64_t id = 0;
	int rc;

	if (registry)
		ok = atr_parse_i64(second, 1, INT64_MAX, &id) == 0;
	else if (ok)
		ok = next_part(&rest, third, sizeof(third)) && strcmp(third, "artifacts") == 0;
	if (!ok) {
		atr_reply_invalid(r, "path",
				  "'path' must name a run's artifacts ('<experiment id>/<run id>/artifacts/...') or a "
				  "model version's files ('registry/<model version id>/...')");
		return -1;
	}
	if (*rest && !api_mlflow_path_or_reply(r, rest))
		return -1;
	rc = registry ? version_by_id(r, x, id) : run_access(r, x, second, first);
	if (rc == 1 && registry)
		atr_reply_not_found(r, NULL, "Model version with id=%s not found", second);
	else if (rc == 1)
		atr_reply_not_found(r, NULL, "Run '%s' not found in experiment '%s'", second, first);
	if (rc != 0)
		return rc == 1 ? -1 : rc;
	x->files.kind = registry ? "model_version" : "run";
	x->files.owner_id = registry ? x->version.id : x->run.id;
	x->files.dir = rest;
	return 0;
}

/* ---- MLflow's API: what a request acts on is named in its body (POST) or query (GET) ---- */

/* The argument (a string, or a number as text), or NULL after a 400 naming it. */
static const char *mlflow_arg(struct atr_req *r, const char *name, const char *alt)
{
	const json_t *v = json_object_get(atr_req_body(r), name);
	const char *q;

	if (!v && alt)
		v = json_object_get(atr_req_body(r), alt);
	if (json_is_string(v) && json_string_length(v) > 0)
		return json_string_value(v);
	if (json_is_integer(v)) {
		char *t = atr_req_alloc(r, 24);
		if (t)
			snprintf(t, 24, "%lld", (long long)json_integer_value(v));
		return t;
	}
	if (!v && (atr_req_route(r)->flags & ATR_RF_RAW_BODY)) {
		/* a body parsed by its handler in one pass (log-batch): the member alone, no tree */
		size_t len;
		const char *raw = atr_req_raw_body(r, &len);
		char *t = atr_req_alloc(r, 72);
		if (t && atr_json_top_string(raw, len, name, t, 72) == 0 && *t)
			return t;
	}
	if ((q = atr_req_query(r, name)) && *q)
		return q;
	if (alt && (q = atr_req_query(r, alt)) && *q)
		return q;
	atr_reply_invalid(r, name, "Missing value for required parameter '%s'", name);
	return NULL;
}

static int mlflow_run(struct atr_req *r, struct api_res *x)
{
	const char *id = mlflow_arg(r, "run_id", "run_uuid");
	enum atr_prole member = ATR_PROLE_NONE;
	int rc;

	if (!id)
		return -1;
	rc = atr_store_run_access_uuid(STORE(r), id, atr_req_who(r)->kind == ATR_P_USER ? atr_req_who(r)->user_id : 0,
				       &x->run, &x->project, &member);
	if (rc == 0 && (x->role = api_project_role_as(r, &x->project, member)) == ATR_PROLE_NONE)
		rc = ATR_ENOTFOUND;
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "Run with id=%s not found", id);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "run:%lld", (long long)x->run.id);
	return rc;
}

/* The project of an experiment id: its own id, or "0", the caller's Default experiment (a
 * job's: its project). */
int api_mlflow_experiment(struct atr_req *r, const char *id, struct api_res *x)
{
	const struct atr_principal *who = atr_req_who(r);
	int64_t n;
	int rc;

	if (atr_parse_i64(id, 0, INT64_MAX, &n) < 0)
		rc = ATR_ENOTFOUND;
	else if (n == 0 && who->kind == ATR_P_JOB)
		rc = atr_store_project_get(STORE(r), who->project_id, &x->project);
	else if (n == 0 && who->kind == ATR_P_USER)
		rc = atr_store_project_default(STORE(r), who->user_id, who->username, &x->project);
	else
		rc = atr_store_project_get(STORE(r), n, &x->project);
	if (rc == 0 && (x->role = api_project_role(r, &x->project)) == ATR_PROLE_NONE)
		rc = ATR_ENOTFOUND;
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "No Experiment with id=%s exists", id);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s", x->project.name);
	return rc;
}

static int mlflow_experiment(struct atr_req *r, struct api_res *x)
{
	const char *id = mlflow_arg(r, "experiment_id", NULL);
	return id ? api_mlflow_experiment(r, id, x) : -1;
}

/* A registered model by MLflow name: "model" among the projects the caller may read (one
 * only), or "project/model". */
int api_mlflow_model(struct atr_req *r, const char *name, struct api_res *x)
{
	const struct atr_principal *who = atr_req_who(r);
	const char *slash = strchr(name, '/');
	char project[64];
	int rc, count = 1;

	if (slash && (size_t)(slash - name) < sizeof(project)) {
		snprintf(project, sizeof(project), "%.*s", (int)(slash - name), name);
		rc = atr_store_project_find(STORE(r), project, &x->project);
		if (rc == 0 && api_project_role(r, &x->project) == ATR_PROLE_NONE)
			rc = ATR_ENOTFOUND;
		if (rc == 0)
			rc = atr_store_model_find(STORE(r), x->project.id, slash + 1, &x->model);
	} else {
		rc = atr_store_model_find_visible(STORE(r), name, who->kind == ATR_P_USER ? who->user_id : 0,
						  who->admin, &x->model, &count);
		if (rc == ATR_ENOTFOUND && who->kind == ATR_P_JOB) /* (a job's token sees its project) */
			rc = atr_store_model_find(STORE(r), who->project_id, name, &x->model);
		if (rc == 0)
			rc = atr_store_project_get(STORE(r), x->model.project_id, &x->project);
	}
	if (rc == 0 && (x->role = api_project_role(r, &x->project)) == ATR_PROLE_NONE)
		rc = ATR_ENOTFOUND;
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "Registered Model with name=%s not found", name);
		return -1;
	}
	if (rc == 0 && count > 1) {
		atr_reply_invalid(r, "name",
				  "more than one project you can read has a model named '%s': name it as "
				  "'<project>/%s'",
				  name, name);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/model:%s", x->project.name, x->model.name);
	return rc;
}

static int mlflow_model(struct atr_req *r, struct api_res *x)
{
	const char *name = mlflow_arg(r, "name", NULL);
	return name ? api_mlflow_model(r, name, x) : -1;
}

static int mlflow_model_version(struct atr_req *r, struct api_res *x)
{
	const char *version;
	int64_t n;
	int rc = mlflow_model(r, x);

	if (rc != 0 || !(version = mlflow_arg(r, "version", NULL)))
		return rc ? rc : -1;
	if (atr_parse_i64(version, 1, INT64_MAX, &n) < 0) { /* MLflow's versions are numbers, not aliases */
		atr_reply_invalid(r, "version", "'version' must be an integer (a version number), got '%s'", version);
		return -1;
	}
	rc = atr_store_model_version_resolve(STORE(r), x->model.id, version, &x->version);
	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "Model Version (name=%s, version=%s) not found", x->model.name, version);
		return -1;
	}
	if (rc == 0)
		atr_req_audit_object(r, "project:%s/model:%s/version:%lld", x->project.name, x->model.name,
				     (long long)x->version.version);
	return rc;
}

static int (*const mlflow_loaders[ATR_RES_COUNT])(struct atr_req *, struct api_res *) = {
	[ATR_RES_PROJECT] = mlflow_experiment,
	[ATR_RES_RUN] = mlflow_run,
	[ATR_RES_MODEL] = mlflow_model,
	[ATR_RES_MODEL_VERSION] = mlflow_model_version,
};

/* What the 404 names: the project for paths under /projects/{project}, else the object itself. */
static void reply_absent(struct atr_req *r)
{
	enum atr_res kind = atr_req_route(r)->resource;
	const char *project = atr_req_param(r, "project");
	const char *ref = project		       ? project
			  : kind == ATR_RES_DEPLOYMENT ? atr_req_param(r, "name")
			  : kind == ATR_RES_RUN	       ? atr_req_param(r, "run")
			  : kind == ATR_RES_JOB	       ? atr_req_param(r, "job")
						       : atr_req_param(r, "id");

	if (project)
		atr_reply_not_found(r, NULL, "project '%s' does not exist", ref);
	else if (kind == ATR_RES_DEPLOYMENT)
		atr_reply_not_found(r, NULL, "deployment '%s' does not exist", ref ? ref : "");
	else
		atr_reply_not_found(r, NULL, "%s %s does not exist", atr_res_name(kind), ref ? ref : "");
}

static bool is_write(const struct atr_req *r)
{
	return strcmp(atr_req_method(r), "GET") != 0 && strcmp(atr_req_method(r), "HEAD") != 0;
}

/* ---- job tokens: only what the job needs ---- */

/* What the job behind the caller's token may do with the loaded resource. */
static int job_reach(struct atr_req *r, const struct api_res *x, enum atr_job_reach *reach)
{
	const struct atr_route *rt = atr_req_route(r);
	int64_t job = atr_req_who(r)->scope_id;

	*reach = ATR_REACH_NONE;
	if (rt->flags & ATR_RF_ARTIFACT_PATH)
		return atr_store_job_reach(STORE(r), job, x->files.kind, x->files.owner_id, reach);
	switch (rt->resource) {
	case ATR_RES_PROJECT:
		/* ATR_RF_JOB_PROJECT: read its project, start runs in it (MLflow's nested runs,
		 * autologging): those runs are the job's own */
		*reach = !(rt->flags & ATR_RF_JOB_PROJECT) ? ATR_REACH_NONE
			 : strcmp(rt->method, "GET") == 0  ? ATR_REACH_READ
							   : ATR_REACH_WRITE;
		return 0;
	case ATR_RES_DATASET:
		return atr_store_job_reach(STORE(r), job, "dataset", x->dataset_id, reach);
	case ATR_RES_DATASET_VERSION:
		return atr_store_job_reach(STORE(r), job, "dataset_version", x->dsv.id, reach);
	case ATR_RES_RUN:
		return atr_store_job_reach(STORE(r), job, "run", x->run.id, reach);
	case ATR_RES_JOB:
		*reach = x->job.id == job ? ATR_REACH_WRITE : ATR_REACH_NONE;
		return 0;
	case ATR_RES_MODEL:
		return atr_store_job_reach(STORE(r), job, "model", x->model.id, reach);
	case ATR_RES_MODEL_VERSION:
	case ATR_RES_MODEL_VERSION_ID:
		return atr_store_job_reach(STORE(r), job, "model_version", x->version.id, reach);
	case ATR_RES_DEPLOYMENT: /* inference calls, as an invoke key makes them; not its data */
		*reach = (rt->flags & ATR_RF_INVOKE_OK) ? ATR_REACH_WRITE : ATR_REACH_NONE;
		return 0;
	default:
		return 0;
	}
}

/* The 404 a job's token gets for what its job does not reach: the one an outsider gets. */
static void reply_job_absent(struct atr_req *r, const struct api_res *x)
{
	const struct atr_route *rt = atr_req_route(r);

	if (rt->flags & ATR_RF_ARTIFACT_PATH)
		atr_reply_not_found(r, NULL, "%s not found",
				    strcmp(x->files.kind, "run") == 0 ? "Run" : "Model version");
	else if (!(rt->flags & ATR_RF_MLFLOW))
		reply_absent(r);
	else if (rt->resource == ATR_RES_RUN)
		atr_reply_not_found(r, NULL, "Run with id=%s not found", x->run.uuid);
	else if (rt->resource == ATR_RES_PROJECT)
		atr_reply_not_found(r, NULL, "No Experiment with id=%lld exists", (long long)x->project.id);
	else if (rt->resource == ATR_RES_MODEL)
		atr_reply_not_found(r, NULL, "Registered Model with name=%s not found", x->model.name);
	else
		atr_reply_not_found(r, NULL, "Model Version (name=%s, version=%lld) not found", x->model.name,
				    (long long)x->version.version);
}

/*
 * A job's token reaches its own job and run (and runs it starts), the dataset and model
 * versions it declared as inputs (to read), and what it writes (its declared output dataset or
 * model, the versions it makes there): anything else of its project answers 404, as to an
 * outsider. Reading an input is all a job may do with it (a write: 403).
 */
static int job_scope_or_reply(struct atr_req *r, const struct api_res *x)
{
	enum atr_job_reach reach;
	int rc = job_reach(r, x, &reach);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read what job %lld reaches", (long long)atr_req_who(r)->scope_id);
		return -1;
	}
	if (reach == ATR_REACH_NONE) {
		reply_job_absent(r, x);
		return -1;
	}
	if (reach == ATR_REACH_READ && is_write(r)) {
		atr_reply_forbidden(r, NULL, "job %lld may only read this (a declared input)",
				    (long long)atr_req_who(r)->scope_id);
		return -1;
	}
	return 0;
}

bool api_job_reaches(struct atr_req *r, const char *kind, int64_t id)
{
	enum atr_job_reach reach = ATR_REACH_NONE;

	if (atr_req_who(r)->kind != ATR_P_JOB)
		return true;
	return atr_store_job_reach(STORE(r), atr_req_who(r)->scope_id, kind, id, &reach) == 0 &&
	       reach != ATR_REACH_NONE;
}

/* ATR_RF_DRAFT routes: 409 on a committed version. */
static int committed_or_reply(struct atr_req *r, const struct api_res *x)
{
	const struct atr_route *rt = atr_req_route(r);

	if ((rt->flags & ATR_RF_DRAFT) &&
	    (rt->resource == ATR_RES_DATASET_VERSION ? x->dsv.committed : x->version.committed)) {
		atr_reply_conflict(
			r, NULL, "version %lld of %s '%s' is committed and cannot change",
			(long long)(rt->resource == ATR_RES_DATASET_VERSION ? x->dsv.version : x->version.version),
			rt->resource == ATR_RES_DATASET_VERSION ? "dataset" : "model",
			rt->resource == ATR_RES_DATASET_VERSION ? atr_req_param(r, "dataset") : x->model.name);
		return -1;
	}
	return 0;
}

int api_resolve(void *app, struct atr_req *r)
{
	const struct atr_route *rt = atr_req_route(r);
	int (*load)(struct atr_req *, struct api_res *);
	struct api_res *x;
	int rc;

	(void)app;
	if (rt->resource <= ATR_RES_NONE || rt->resource >= ATR_RES_COUNT)
		return 0;
	load = (rt->flags & ATR_RF_ARTIFACT_PATH) ? load_artifact_path
	       : (rt->flags & ATR_RF_MLFLOW)	  ? mlflow_loaders[rt->resource]
						  : loaders[rt->resource];
	if (!load)
		return 0;
	x = atr_req_alloc(r, sizeof(*x));
	if (!x) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	memset(x, 0, sizeof(*x));
	atr_req_set_resource(r, x);
	/* A write's reads join the turn's write transaction rather than open a read one first. */
	if (is_write(r) && !(rt->flags & ATR_RF_STREAM))
		atr_store_write_ahead(STORE(r));
	rc = load(r, x);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		reply_absent(r);
		return -1;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read the %s", atr_res_name(rt->resource));
		return -1;
	}
	if (atr_req_who(r)->kind == ATR_P_JOB && job_scope_or_reply(r, x) < 0)
		return -1;
	if (x->shared && is_write(r)) {
		atr_reply_forbidden(r, NULL,
				    "project '%s' shares this with your project through its template, to read only",
				    x->project.name);
		return -1;
	}
	if (api_need_role_or_reply(r, rt->role, NULL) < 0)
		return -1;
	if ((rt->flags & ATR_RF_SELF) &&
	    !(atr_req_who(r)->kind == ATR_P_JOB && atr_req_who(r)->scope_id == x->job.id)) {
		atr_reply_forbidden(r, NULL, "only job %lld itself, with its token, may do this", (long long)x->job.id);
		return -1;
	}
	if (x->project.archived && is_write(r) && !(rt->flags & ATR_RF_ARCHIVED_OK)) {
		atr_reply_conflict(r, NULL, "project '%s' is archived", x->project.name);
		return -1;
	}
	return committed_or_reply(r, x);
}
