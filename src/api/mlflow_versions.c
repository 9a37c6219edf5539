/*
 * mlflow_versions.c: MLflow's model-versions endpoints (2.9.2's model_registry.proto) over
 * Atrium's model versions: create (from a run's artifacts: the files are the run's, pointed at
 * again, and the version is committed at once), get, update, delete, get-download-uri,
 * set-tag, delete-tag and transition-stage (stages are the aliases `staging` and `production`;
 * Archived is a mark on the version). The pipeline loads the model ("name") or the version
 * ("name" and "version") and decides access; searches are in mlflow_registry_search.c.
 */
#include "mlflow.h"
#include "atrium/model_hooks.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME                                                              \
	{                                                                 \
		"name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 127, NULL, NULL \
	}
#define VERSION                                                                    \
	{                                                                          \
		"version", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 1, 20, NULL, NULL \
	}

const struct atr_field api_mlflow_mv_create_schema[] = {
	NAME,
	{ "source", ATR_F_STRING, ATR_FF_REQUIRED, 1, 4096, NULL, NULL },
	{ "run_id", ATR_F_STRING, 0, 0, 64, NULL, NULL },
	{ "tags", ATR_F_ARRAY, 0, 0, 1000, NULL, api_mlflow_tag_schema },
	{ "run_link", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_mv_update_schema[] = {
	NAME,
	VERSION,
	{ "description", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_mv_ref_schema[] = { NAME, VERSION, { 0 } };
const struct atr_field api_mlflow_mv_set_tag_schema[] = {
	NAME,
	VERSION,
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, ATR_FF_REQUIRED, 0, 5000, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_mv_delete_tag_schema[] = {
	NAME,
	VERSION,
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ 0 },
};
const struct atr_field api_mlflow_mv_transition_schema[] = {
	NAME,
	VERSION,
	{ "stage", ATR_F_STRING, ATR_FF_REQUIRED, 1, 32, NULL, NULL },
	{ "archive_existing_versions", ATR_F_BOOL, 0, 0, 0, NULL, NULL },
	{ 0 },
};
const struct atr_qparam api_mlflow_mv_get_query[] = {
	{ "name", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 127, 0, NULL, "the registered model" },
	{ "version", ATR_Q_INT, ATR_QF_REQUIRED, 1, INT64_MAX, 0, NULL, "the version number" },
	{ 0 },
};

/* ---- create ---- */

/* What a version's source names: a run's artifacts (runs:/<run id>/<path>, or
 * mlflow-artifacts:[//host]/<experiment id>/<run id>/artifacts/<path>), or another version
 * (models:/<name>/<version>, as MLflow's copy_model_version sends), or something else (kept as
 * the source, with no files). */
struct source {
	char run[65];	    /* the run's MLflow id; "" when it names none */
	int64_t experiment; /* mlflow-artifacts: the experiment (project) id it names; -1: none */
	const char *path;   /* within the run's artifacts (request memory); "" for all of them */
	int64_t version_id; /* models:/: the version whose files it names; 0: none */
};

/* "<run id>[/<path>]" after a scheme: fills run and path; -1 after a 400 naming 'source'. */
static int run_and_path(struct atr_req *r, const char *s, struct source *src)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s), len;
	char *path;

	if (n == 0 || n >= sizeof(src->run)) {
		atr_reply_invalid(r, "source", "'source' names no run id");
		return -1;
	}
	memcpy(src->run, s, n);
	src->run[n] = 0;
	if (!(path = atr_req_strdup(r, slash ? slash : ""))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	while (*path == '/')
		path++;
	for (len = strlen(path); len > 0 && path[len - 1] == '/'; len--)
		path[len - 1] = 0;
	if (len > 0 && !atr_is_safe_path(path, len)) {
		atr_reply_invalid(r, "source", "'source' has a bad artifact path '%s'", path);
		return -1;
	}
	src->path = path;
	return 0;
}

/* mlflow-artifacts:[//host]/<experiment id>/<run id>/artifacts[/<path>], after the scheme. */
static int artifacts_source(struct atr_req *r, const char *s, struct source *src)
{
	char *end;
	const char *run;

	if (strncmp(s, "//", 2) == 0 && !(s = strchr(s + 2, '/')))
		s = "";
	if (*s++ != '/' || *s < '0' || *s > '9' || (src->experiment = strtoll(s, &end, 10)) < 0 || *end != '/')
		return 0; /* (not a run's: mlflow-artifacts:/registry/..., say) */
	run = end + 1;
	end = strchr(run, '/');
	if (!end || strncmp(end, "/artifacts", 10) != 0 || (end[10] != 0 && end[10] != '/'))
		return 0;
	if (run_and_path(r, run, src) < 0)
		return -1;
	/* run_and_path took "<run id>/artifacts/<path>": drop "artifacts" from the path */
	src->path += strlen("artifacts");
	while (*src->path == '/')
		src->path++;
	return 1;
}

/* models:/<name>/<version>: the version (loaded as the pipeline would, so access holds). */
static int models_source(struct atr_req *r, const char *s, struct source *src)
{
	const char *slash = strrchr(s, '/');
	struct api_res from;
	struct atr_model_version v;
	char *name;
	int64_t n;

	if (!slash || atr_parse_i64(slash + 1, 1, INT64_MAX, &n) < 0) {
		atr_reply_invalid(r, "source", "'source' must name a version as models:/<name>/<version>");
		return -1;
	}
	if (!(name = atr_req_strdup(r, s))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	name[slash - s] = 0;
	memset(&from, 0, sizeof(from));
	if (api_mlflow_model(r, name, &from) != 0)
		return -1;
	if (atr_store_model_version_resolve(STORE(r), from.model.id, slash + 1, &v) < 0) {
		atr_reply_invalid(r, "source", "Model Version (name=%s, version=%s) not found", name, slash + 1);
		return -1;
	}
	src->version_id = v.id;
	return 0;
}

static int parse_source(struct atr_req *r, const char *s, struct source *src)
{
	memset(src, 0, sizeof(*src));
	src->experiment = -1;
	src->path = "";
	if (strncmp(s, "runs:/", 6) == 0)
		return run_and_path(r, s + 6, src);
	if (strncmp(s, "mlflow-artifacts:", 17) == 0)
		return artifacts_source(r, s + 17, src) < 0 ? -1 : 0;
	if (strncmp(s, "models:/", 8) == 0)
		return models_source(r, s + 8, src);
	return 0;
}

/* The run the version comes from (the body's run_id, or the source's), which the caller must
 * see and which must be in the model's project: 1 (in *run), 0 (none), -1 (answered). */
static int source_run_or_reply(struct atr_req *r, const struct source *src, struct atr_run *run)
{
	const struct api_res *x = RES(r);
	const char *id = atr_json_str(atr_req_body(r), "run_id", ""), *field = *id ? "run_id" : "source";
	struct atr_project p;
	enum atr_prole member = ATR_PROLE_NONE;
	int rc;

	if (*src->run && *id && strcmp(src->run, id) != 0) {
		atr_reply_invalid(r, "source", "'source' names run %s but 'run_id' is %s", src->run, id);
		return -1;
	}
	if (!*id && !*(id = src->run))
		return 0;
	rc = atr_store_run_access_uuid(STORE(r), id, atr_req_who(r)->kind == ATR_P_USER ? atr_req_who(r)->user_id : 0,
				       run, &p, &member);
	if (rc == 0 && (api_project_role_as(r, &p, member) == ATR_PROLE_NONE || !api_job_reaches(r, "run", run->id)))
		rc = ATR_ENOTFOUND;
	if (rc < 0) {
		atr_reply_err(r, rc == ATR_ENOTFOUND ? ATR_EINVAL : rc, field, "'%s': Run with id=%s not found", field,
			      id);
		return -1;
	}
	if (src->experiment >= 0 && src->experiment != run->project_id) {
		atr_reply_invalid(r, "source",
				  "'source' names run %s in experiment %lld, but the run is in experiment "
				  "%lld (project '%s')",
				  id, (long long)src->experiment, (long long)run->project_id, p.name);
		return -1;
	}
	if (run->project_id != x->project.id) {
		atr_reply_invalid(r, field,
				  "'%s': run %s is in project '%s', but registered model '%s' is in project '%s': "
				  "a version's source run must be in its model's project (register it as '%s/%s')",
				  field, id, p.name, x->model.name, x->project.name, p.name, x->model.name);
		return -1;
	}
	return 1;
}

/* The spec's files: the run's under the source's path (there must be some), or a version's. */
static int files_or_reply(struct atr_req *r, const struct source *src, const struct atr_run *run, bool has_run,
			  struct atr_model_version_spec *spec)
{
	int64_t n = 0;
	int rc;

	if (src->version_id) {
		spec->copy_from_kind = "model_version";
		spec->copy_from_id = src->version_id;
		return 0;
	}
	if (!has_run || !*src->run)
		return 0; /* (a source elsewhere: kept as the source, no files) */
	if ((rc = atr_store_files_count_prefix(STORE(r), "run", run->id, src->path, &n)) < 0) {
		atr_reply_err(r, rc, NULL, "could not read the run's artifacts");
		return -1;
	}
	if (n == 0) {
		atr_reply_invalid(r, "source", "run %s has no artifacts under '%s'", run->uuid, src->path);
		return -1;
	}
	spec->copy_from_kind = "run";
	spec->copy_from_id = run->id;
	spec->copy_prefix = src->path;
	return 0;
}

void api_mlflow_mv_create(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	const json_t *body = atr_req_body(r);
	struct atr_model_version_spec spec = { 0 };
	struct atr_model_version v;
	struct source src;
	struct atr_run run;
	json_t *tags = NULL;
	char actor[80];
	int has_run, rc;

	if (parse_source(r, atr_json_str(body, "source", ""), &src) < 0 ||
	    (has_run = source_run_or_reply(r, &src, &run)) < 0 || files_or_reply(r, &src, &run, has_run, &spec) < 0)
		return;
	if (!(tags = api_mlflow_tag_map(json_object_get(body, "tags")))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	spec.model_id = x->model.id;
	spec.description = atr_json_str(body, "description", "");
	spec.source_run_id = has_run ? run.id : 0;
	spec.source_job_id = atr_req_who(r)->kind == ATR_P_JOB ? atr_req_who(r)->scope_id : 0;
	spec.user_id = atr_req_who(r)->user_id;
	spec.actor = api_actor(r, actor, sizeof(actor));
	spec.commit = true; /* MLflow's versions are whole when made: READY */
	spec.source_uri = atr_json_str(body, "source", "");
	spec.run_link = atr_json_str(body, "run_link", "");
	spec.kv_tags = tags;
	rc = atr_store_model_version_create(STORE(r), &spec, &v);
	json_decref(tags);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create a version of registered model '%s'", x->model.name);
		return;
	}
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld", x->project.name, x->model.name,
			     (long long)v.version);
	api_mlflow_reply_obj(r, "model_version", api_mlflow_version_json(r, v.id));
}

/* ---- the others: the version is RES(r)->version ---- */

void api_mlflow_mv_get(struct atr_req *r)
{
	api_mlflow_reply_obj(r, "model_version", api_mlflow_version_json(r, RES(r)->version.id));
}

void api_mlflow_mv_update(struct atr_req *r)
{
	const char *description = atr_json_str(atr_req_body(r), "description", NULL);
	int rc = description ? atr_store_model_version_describe(STORE(r), RES(r)->version.id, description) : 0;

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update the model version");
		return;
	}
	api_mlflow_reply_obj(r, "model_version", api_mlflow_version_json(r, RES(r)->version.id));
}

void api_mlflow_mv_delete(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	char actor[80], why[256] = "", alias[64] = "";
	int rc;

	if (atr_models_version_deletable(x->version.id, why, sizeof(why)) < 0) {
		atr_reply_unprocessable(r, NULL, "version %lld of registered model '%s' cannot be deleted: %s",
					(long long)x->version.version, x->model.name, why[0] ? why : "it is in use");
		return;
	}
	rc = atr_store_model_version_delete(STORE(r), x->version.id, api_actor(r, actor, sizeof(actor)), alias);
	if (rc == ATR_ECONFLICT) {
		atr_reply_unprocessable(r, NULL,
					"version %lld of registered model '%s' cannot be deleted: alias '%s' points "
					"at it; move or delete the alias first (its stage, for 'staging' and "
					"'production': transition it to None)",
					(long long)x->version.version, x->model.name, alias);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the model version");
		return;
	}
	atr_reply_json(r, 200, json_object());
}

void api_mlflow_mv_download_uri(struct atr_req *r)
{
	struct atr_model_viewer v;
	const char *source;
	json_t *o;
	int rc;

	api_mlflow_viewer(r, &v);
	if (!(o = atr_store_model_version_mlflow_json(STORE(r), RES(r)->version.id, &v, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the model version");
		return;
	}
	/* its files, through the artifact proxy; a version without files (its source elsewhere): the source */
	source = atr_json_str(o, "source", "");
	atr_reply_json(
		r, 200,
		atr_json_int(o, "file_count", 0) > 0 || !*source
			? json_pack("{s:o}", "artifact_uri",
				    json_sprintf("mlflow-artifacts:/registry/%lld", (long long)RES(r)->version.id))
			: json_pack("{s:s}", "artifact_uri", source));
	json_decref(o);
}

void api_mlflow_mv_set_tag(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	int rc = atr_store_model_version_kv_tag(STORE(r), RES(r)->version.id, atr_json_str(body, "key", ""),
						atr_json_str(body, "value", ""));

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not set the tag");
		return;
	}
	atr_reply_json(r, 200, json_object());
}

void api_mlflow_mv_delete_tag(struct atr_req *r)
{
	int rc = atr_store_model_version_kv_tag(STORE(r), RES(r)->version.id, atr_json_str(atr_req_body(r), "key", ""),
						NULL);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the tag");
		return;
	}
	atr_reply_json(r, 200, json_object());
}

/* ---- transition-stage: stages are aliases ---- */

struct transition {
	int stage;
	struct {
		const char *alias;
		int64_t from, to; /* row ids; to 0: removed */
	} moves[2];
	int n;
	int64_t archive; /* the version archive_existing_versions archives (0: none) */
};

static void plan_move(struct transition *t, const char *alias, int64_t from, int64_t to)
{
	if (from != to) {
		t->moves[t->n].alias = alias;
		t->moves[t->n].from = from;
		t->moves[t->n].to = to;
		t->n++;
	}
}

/* What moving version v to the stage does: the stage's alias comes to v, the other stage's
 * alias leaves it (a version has one stage); Archived and None take both from it. With
 * archive_existing_versions, the version that had the stage is archived (unless it stays in
 * the other stage). -1 after reading failed (answered). */
static int plan(struct atr_req *r, int64_t v, bool archive, struct transition *t)
{
	int64_t staging = 0, production = 0;
	int64_t model = RES(r)->model.id;
	int rc;

	if (((rc = atr_store_model_alias_get(STORE(r), model, ATR_ALIAS_STAGING, &staging)) < 0 &&
	     rc != ATR_ENOTFOUND) ||
	    ((rc = atr_store_model_alias_get(STORE(r), model, ATR_ALIAS_PROTECTED, &production)) < 0 &&
	     rc != ATR_ENOTFOUND)) {
		atr_reply_err(r, rc, NULL, "could not read the model's aliases");
		return -1;
	}
	if (t->stage == ATR_STAGE_STAGING) {
		plan_move(t, ATR_ALIAS_STAGING, staging, v);
		t->archive = archive && staging && staging != v && staging != production ? staging : 0;
	} else if (staging == v) {
		plan_move(t, ATR_ALIAS_STAGING, v, 0);
	}
	if (t->stage == ATR_STAGE_PRODUCTION) {
		plan_move(t, ATR_ALIAS_PROTECTED, production, v);
		t->archive = archive && production && production != v && production != staging ? production : 0;
	} else if (production == v) {
		plan_move(t, ATR_ALIAS_PROTECTED, v, 0);
	}
	return 0;
}

/* Applies the plan in one transaction (v's Archived mark set for Archived, cleared otherwise). */
static int apply(struct atr_req *r, int64_t v, const struct transition *t)
{
	int64_t model = RES(r)->model.id, from;
	char actor[80];
	int rc = atr_store_begin(STORE(r));

	api_actor(r, actor, sizeof(actor));
	for (int i = 0; rc == 0 && i < t->n; i++)
		rc = t->moves[i].to ? atr_store_model_alias_set(STORE(r), model, t->moves[i].alias, t->moves[i].to,
								actor, 0, &from)
				    : atr_store_model_alias_delete(STORE(r), model, t->moves[i].alias, actor, &from);
	if (rc == 0 && t->archive)
		rc = atr_store_model_version_archive(STORE(r), t->archive, true);
	if (rc == 0)
		rc = atr_store_model_version_archive(STORE(r), v, t->stage == ATR_STAGE_ARCHIVED);
	if (rc == 0)
		return atr_store_commit(STORE(r));
	atr_store_rollback(STORE(r));
	return rc;
}

void api_mlflow_mv_transition(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	const json_t *body = atr_req_body(r);
	bool archive = atr_json_bool(body, "archive_existing_versions", false);
	struct transition t = { .stage = api_mlflow_stage(atr_json_str(body, "stage", "")) };
	int rc;

	if (t.stage < 0) {
		atr_reply_invalid(r, "stage",
				  "'stage': Invalid Model Version stage: %s. Value must be one of None, Staging, "
				  "Production, Archived.",
				  atr_json_str(body, "stage", ""));
		return;
	}
	if (archive && t.stage != ATR_STAGE_STAGING && t.stage != ATR_STAGE_PRODUCTION) {
		atr_reply_invalid(r, "archive_existing_versions",
				  "'archive_existing_versions' applies to the stages Staging and Production only");
		return;
	}
	if (t.stage != ATR_STAGE_NONE && t.stage != ATR_STAGE_ARCHIVED && !x->version.committed) {
		atr_reply_unprocessable(r, "version", "version %lld of model '%s' is a draft; commit it first",
					(long long)x->version.version, x->model.name);
		return;
	}
	if (plan(r, x->version.id, archive, &t) < 0)
		return;
	for (int i = 0; i < t.n; i++)
		if (api_mlflow_alias_access_or_reply(r, t.moves[i].alias, x->version.id) < 0 ||
		    (t.moves[i].to && api_gate_or_reply(r, x->model.id, t.moves[i].alias, t.moves[i].to) < 0))
			return;
	atr_req_audit_object(r, "project:%s/model:%s/version:%lld/stage:%s", x->project.name, x->model.name,
			     (long long)x->version.version, api_mlflow_stage_names[t.stage]);
	if ((rc = apply(r, x->version.id, &t)) < 0) {
		atr_reply_err(r, rc, NULL, "could not move version %lld to stage %s", (long long)x->version.version,
			      api_mlflow_stage_names[t.stage]);
		return;
	}
	for (int i = 0; i < t.n; i++) /* (after the commit: deployments that follow an alias roll out) */
		atr_models_alias_moved(x->model.id, t.moves[i].alias, t.moves[i].from, t.moves[i].to);
	api_mlflow_reply_obj(r, "model_version", api_mlflow_version_json(r, x->version.id));
}
