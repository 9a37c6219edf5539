#ifndef ATRIUM_API_H
#define ATRIUM_API_H
/*
 * api.h: private to src/api/. Handler prototypes (one file per resource) and the
 * `..._or_reply` helpers that answer the error themselves so handlers stay flat.
 */
#include "atrium/app.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/http.h"
#include "atrium/json.h"
#include "atrium/page.h"
#include "atrium/profile.h"
#include "atrium/store.h"

#define APP(req) ((struct atr_app *)atr_req_app(req))
#define STORE(req) (APP(req)->store)

/* Environment values may hold what a team would not show to its project's viewers: those (and
 * every list) see the names only ("[hidden]") in jobs and deployments. */
void api_hide_env_values(json_t *o);
/* The path parameter `name` as an id (1 and up) into *id; -1 after a 400 naming it
 * ("'job' must be a job id", what = "job"). */
int api_id_or_reply(struct atr_req *r, const char *name, const char *what, int64_t *id);
/* Answers a store error (404 names what, 409 says it exists, else 500). */
void api_reply_store_err(struct atr_req *r, int err, const char *what, const char *name);
/* A user by name, or 404 answered. */
struct atr_user;
int api_user_or_reply(struct atr_req *r, const char *name, struct atr_user *out);
/* A team id by name, or 404 answered. */
int api_team_or_reply(struct atr_req *r, const char *name, int64_t *id);
/* Collects a list with fn into an answer; fn's signature is the store list one. */
json_t *api_new_items(struct atr_req *r);

/* system.c */
void api_healthz(struct atr_req *r);
void api_readyz(struct atr_req *r);
void api_metrics(struct atr_req *r);
void api_version(struct atr_req *r);
void api_admin_backup(struct atr_req *r);

/* openapi.c: GET /api/v1/openapi.json, the document made once from atr_routes. */
void api_openapi_get(struct atr_req *r);
/* The OpenAPI 3.1 document of routes[0..n) (new reference); NULL when out of memory or when a
 * row cannot be described (a bad pattern, two rows for one method and path: logged). */
json_t *api_openapi_build(const struct atr_route *routes, size_t n);
/* openapi_schema.c: descriptor tables as JSON Schema (new references, NULL when out of memory). */
/* A body table: an object of its fields, required ones listed, unknown ones refused. */
json_t *api_openapi_object_schema(const struct atr_field *fields);
/* One field: what atr_json_validate accepts for it. */
json_t *api_openapi_field_schema(const struct atr_field *f);
/* A query parameter object ({name, in: query, required, description, schema}). */
json_t *api_openapi_query_param(const struct atr_qparam *q);
/* A media type object for type: no schema for JSON (any value), a string or bytes otherwise. */
json_t *api_openapi_media(const char *type);
/* The route's requestBody object; NULL when it takes no body (or out of memory). */
json_t *api_openapi_request_body(const struct atr_route *rt);
/* The Error schema: {"error": {"code", "message", "field"}}. */
json_t *api_openapi_error_schema(void);

/* users.c */
extern const struct atr_field api_user_create_schema[], api_user_patch_schema[], api_token_create_schema[];
void api_users_list(struct atr_req *r);
void api_users_create(struct atr_req *r);
void api_users_me(struct atr_req *r);
void api_users_get(struct atr_req *r);
void api_users_patch(struct atr_req *r);
void api_users_token_create(struct atr_req *r);

/* tokens.c */
void api_tokens_list(struct atr_req *r);
void api_tokens_create(struct atr_req *r);
void api_tokens_delete(struct atr_req *r);
/* Issues a token of a kind ("user", "join") for user_id and answers 201 {token fields..., "token"};
 * expires_at (RFC 3339, validated by the schema) must be in the future (400 otherwise). */
void api_issue_token_reply(struct atr_req *r, const char *kind, int64_t user_id, const char *name,
			   const char *expires_at);

/* auth.c */
extern const struct atr_field api_login_schema[];
void api_auth_login(struct atr_req *r);

/* teams.c */
extern const struct atr_field api_team_create_schema[], api_team_patch_schema[], api_team_member_schema[];
void api_teams_list(struct atr_req *r);
void api_teams_create(struct atr_req *r);
void api_teams_get(struct atr_req *r);
void api_teams_patch(struct atr_req *r);
void api_teams_member_put(struct atr_req *r);
void api_teams_member_delete(struct atr_req *r);

/* audit.c */
void api_audit_list(struct atr_req *r);
/* The server's audit hook: records one answered mutating request. */
void api_audit_record(void *app, struct atr_req *r);

/* access.c: the one access decision (see its header comment). */
#include "atrium/deploy.h"
#include "atrium/store_competitions.h"
#include "atrium/store_datasets.h"
#include "atrium/store_jobs.h"
#include "atrium/store_models.h"
#include "atrium/store_projects.h"
#include "atrium/store_runs.h"
#include "atrium/store_benchmarks.h"
#include "atrium/store_launchers.h"
/* What a route's path points at, loaded by api_resolve before the handler runs: the project
 * and the caller's role there always, the rest by the route's resource kind. */
struct api_res {
	enum atr_prole role;
	bool shared; /* a dataset or model a template shares with the caller's project: read only */
	struct atr_project project;
	int64_t dataset_id;		  /* ATR_RES_DATASET, ATR_RES_DATASET_VERSION */
	struct atr_dataset_version dsv;	  /* ATR_RES_DATASET_VERSION */
	struct atr_run run;		  /* ATR_RES_RUN */
	struct atr_job_row job;		  /* ATR_RES_JOB (labels not loaded) */
	struct atr_model model;		  /* ATR_RES_MODEL, ATR_RES_MODEL_VERSION[_ID] */
	struct atr_model_version version; /* ATR_RES_MODEL_VERSION[_ID] */
	struct atr_deploy_ref deployment; /* ATR_RES_DEPLOYMENT */
	struct atr_promotion promotion;	  /* ATR_RES_PROMOTION */
	struct atr_benchmark benchmark;	  /* ATR_RES_BENCHMARK, ATR_RES_EVALUATION */
	int64_t evaluation_id;		  /* ATR_RES_EVALUATION */
	struct atr_competition comp;	  /* ATR_RES_COMPETITION (higher_better set from its metric) */
	struct atr_launcher launcher;	  /* ATR_RES_LAUNCHER */
	struct {
		int64_t id;
		char name[64];
		char state[12];
	} sweep; /* ATR_RES_SWEEP */
	/* ATR_RF_ARTIFACT_PATH: whose files the query's path names ("run" or "model_version", its
	 * id) and the folder inside them ("" the root; in the request arena) */
	struct {
		const char *kind;
		int64_t owner_id;
		const char *dir;
	} files;
};
#define RES(req) ((struct api_res *)atr_req_resource(req))
/* The pipeline's resolver (atr_server_opts.resolve): loads the route's resource, decides. */
int api_resolve(void *app, struct atr_req *r);
/* The caller's role in p (and the same given its membership role, read with what the caller read). */
enum atr_prole api_project_role(struct atr_req *r, const struct atr_project *p);
enum atr_prole api_project_role_as(struct atr_req *r, const struct atr_project *p, enum atr_prole member);
/* For rules that depend on the request's content (the protected alias needs an owner): 403
 * naming the role needed (why: "moving alias 'production'") unless RES(r)->role reaches need. */
int api_need_role_or_reply(struct atr_req *r, enum atr_prole need, const char *why);
/* Whether the caller reaches another object a request names in its body (a version's source
 * run): always for users; for a job's token, what its job reaches (src/api/access.c). kind:
 * "run", "dataset_version", "model_version", "dataset", "model". */
bool api_job_reaches(struct atr_req *r, const char *kind, int64_t id);
/* MLflow's names for what api_resolve loads (src/api/mlflow_*.c use them for ids that come in
 * other fields): an experiment id ("0": the caller's Default experiment) and a registered model
 * name ("model" when one project the caller may read has it, or "project/model"). Each fills
 * x (project, role; model) and answers 404 / 400 itself (-1). */
int api_mlflow_experiment(struct atr_req *r, const char *id, struct api_res *x);
int api_mlflow_model(struct atr_req *r, const char *name, struct api_res *x);
/* A project named by a query parameter (a list's filter): unless the caller may read it, a 400
 * naming field (or 404 when field is NULL), as if it did not exist. */
int api_project_visible_or_reply(struct atr_req *r, const char *ref, const char *field, struct atr_project *out);

/*
 * A competition's hidden set (src/api/access.c): whether dataset version dsv_id is the
 * hidden test set of a competition of which the caller is not an organiser (an owner of the
 * competition's project, or an admin). Such a version does not exist for the caller: the
 * dataset version loader answers 404 as for a missing version, and what names a version in
 * a body or a query (job and run inputs, a diff's other side) must ask here. Fails closed
 * (true) when the database cannot say.
 */
bool api_dsv_hidden(struct atr_req *r, int64_t dsv_id);
/*
 * The dataset versions hidden from the caller (api_dsv_hidden of every competition's hidden set
 * and inputs copy, looked up once per request): a JSON array of row ids for a list, a count or
 * "latest" to leave out (the store's hide parameters). New reference; NULL after an error reply.
 */
json_t *api_dsv_hidden_ids(struct atr_req *r);
/* Whether dsv_id is in ids (from api_dsv_hidden_ids). */
bool api_dsv_in(const json_t *ids, int64_t dsv_id);
/* Removes from arr the objects whose member key (a row id, or an object with its "id") names a
 * version hidden from the caller: one in hide, or with hide NULL, one api_dsv_hidden says is
 * (for a short array: a run's inputs, a lineage's datasets). */
void api_dsv_strip_hidden(struct atr_req *r, const json_t *hide, json_t *arr, const char *key);
/* Whether job_id (of a project where the caller has role) read a version hidden from the caller:
 * such a job (an organiser's, or a model submission's) is absent for all but the organisers
 * and the job itself, as the set is (its logs and outputs may show the ground truth). */
bool api_job_reads_hidden(struct atr_req *r, int64_t job_id, enum atr_prole role);
/* A competition scorer's dataset (competition-<id>-scoring): absent for all but the project's
 * owners and jobs (a caller of the given role). */
bool api_scoring_dataset_hidden(struct atr_req *r, enum atr_prole role, int64_t dataset_id);

/* idempotency.c: the server's Idempotency-Key hooks (atr_server_opts.idem_get / idem_put). */
int api_idem_get(void *app, struct atr_req *r, const char *key, unsigned *status, char **body);
void api_idem_put(void *app, struct atr_req *r, const char *key, unsigned status, const char *body);

/* The query tables the route table names (each beside its handlers). */
extern const struct atr_qparam api_page_query[], api_audit_query[], api_dsv_diff_query[],
	api_deployments_list_all_query[], api_job_logs_query[], api_job_wait_query[], api_jobs_list_query[],
	api_jobs_list_all_query[], api_lineage_query[], api_predictions_query[], api_projects_list_query[],
	api_promotions_list_project_query[], api_promotions_list_mine_query[], api_run_metric_get_query[],
	api_runs_list_query[], api_search_query[], api_stats_query[], api_workers_list_query[],
	api_workers_delete_query[];

/* projects.c */
extern const struct atr_field api_project_create_schema[], api_project_patch_schema[], api_project_member_schema[];
void api_projects_list(struct atr_req *r);
void api_projects_create(struct atr_req *r);
void api_projects_get(struct atr_req *r);
void api_projects_patch(struct atr_req *r);
void api_projects_delete(struct atr_req *r);
void api_projects_members(struct atr_req *r);
void api_projects_member_put(struct atr_req *r);
void api_projects_member_delete(struct atr_req *r);

/*
 * files.c: files of dataset versions, runs, models, job outputs. Call api_upload_begin from a
 * streamed route's on_begin once access is checked (it reads the {path...} parameter and
 * X-Content-SHA256), api_upload_chunk as its on_chunk, api_upload_finish from its handler.
 */
const char *api_path_or_reply(struct atr_req *r);
int api_upload_begin(struct atr_req *r, const char *kind, int64_t owner_id);
int api_upload_chunk(struct atr_req *r, const char *data, size_t len);
void api_upload_finish(struct atr_req *r, unsigned status);
void api_file_download(struct atr_req *r, const char *kind, int64_t owner_id);
void api_files_list(struct atr_req *r, const char *kind, int64_t owner_id);

/* datasets.c */
extern const struct atr_field api_dataset_create_schema[], api_dsv_create_schema[], api_dsv_commit_schema[];
void api_datasets_create(struct atr_req *r);
void api_datasets_list(struct atr_req *r);
void api_datasets_get(struct atr_req *r);
void api_dsv_create(struct atr_req *r);
void api_dsv_list(struct atr_req *r);
void api_dsv_get(struct atr_req *r);
void api_dsv_delete(struct atr_req *r);
void api_dsv_commit(struct atr_req *r);
void api_dsv_files(struct atr_req *r);
void api_dsv_file_begin(struct atr_req *r);
int api_dsv_file_chunk(struct atr_req *r, const char *data, size_t len);
void api_dsv_file_put(struct atr_req *r);
void api_dsv_file_get(struct atr_req *r);
void api_dsv_file_delete(struct atr_req *r);
void api_dsv_diff(struct atr_req *r);

/* runs.c */
#include "atrium/store_runs.h"
extern const struct atr_field api_run_create_schema[], api_run_patch_schema[];
/* Body inputs [{dataset, version}] -> committed dataset_versions ids (in the request arena). */
int api_inputs_or_reply(struct atr_req *r, int64_t project_id, const json_t *inputs, int64_t **ids_out, size_t *n_out);
void api_runs_create(struct atr_req *r);
void api_runs_get(struct atr_req *r);
void api_runs_list(struct atr_req *r);
/* stats.c: the dashboard's adoption figures (GET /api/v1/admin/stats). */
void api_admin_stats(struct atr_req *r);
void api_runs_patch(struct atr_req *r);
void api_runs_delete(struct atr_req *r);
void api_run_artifacts_list(struct atr_req *r);
void api_run_artifact_begin(struct atr_req *r);
void api_run_artifact_put(struct atr_req *r);
void api_run_artifact_get(struct atr_req *r);
void api_run_artifact_delete(struct atr_req *r);

/* run_metrics.c */
void api_run_metrics_log(struct atr_req *r);
void api_run_metrics_list(struct atr_req *r);
void api_run_metric_get(struct atr_req *r);
/* Several runs' series in one call (a comparison): GET /projects/{project}/metrics. */
void api_project_metrics(struct atr_req *r);
extern const struct atr_qparam api_project_metrics_query[];

/* jobs.c, job_logs.c */
#include "atrium/store_jobs.h"
extern const struct atr_field api_job_create_schema[], api_job_resources_schema[];
void api_jobs_create(struct atr_req *r);
void api_jobs_list(struct atr_req *r);
void api_jobs_list_all(struct atr_req *r);
void api_jobs_get(struct atr_req *r);
void api_jobs_cancel(struct atr_req *r);
void api_jobs_events(struct atr_req *r);
void api_job_logs(struct atr_req *r);
void api_job_wait(struct atr_req *r);
void api_job_outputs(struct atr_req *r);
void api_job_output_begin(struct atr_req *r);
int api_job_output_chunk(struct atr_req *r, const char *data, size_t len);
void api_job_output_put(struct atr_req *r);
void api_job_output_get(struct atr_req *r);

/* web.c: the dashboard's static files (the server's fallback for GET). */
void api_web_fallback(struct atr_req *r);

/* service_tokens.c: worker join tokens and metrics scrape tokens (admins make them) */
extern const struct atr_field api_service_token_schema[];
void api_workers_join_create(struct atr_req *r);
void api_workers_join_list(struct atr_req *r);
void api_workers_join_delete(struct atr_req *r);
void api_scrape_tokens_create(struct atr_req *r);
void api_scrape_tokens_list(struct atr_req *r);
void api_scrape_tokens_delete(struct atr_req *r);
/* A fresh join token for `serve --local-worker` (earlier ones of the local worker are revoked). */
int api_workers_local_join_token(struct atr_app *app, char token[ATR_TOKEN_MAX]);

/* clusters.c: Slurm clusters (admins write, users read) */
extern const struct atr_field api_cluster_create_schema[], api_cluster_patch_schema[];
void api_clusters_create(struct atr_req *r);
void api_clusters_list(struct atr_req *r);
void api_clusters_get(struct atr_req *r);
void api_clusters_update(struct atr_req *r);
void api_clusters_delete(struct atr_req *r);
/* The job's labels (copied) with the cluster the body names, else the project's default
 * cluster, else its team's, if any (new reference); NULL: answered (400 naming "cluster" when
 * it does not exist). */
json_t *api_cluster_labels_or_reply(struct atr_req *r, const json_t *labels, int64_t project_id, int64_t team_id);
/* The body's "default_cluster" (a cluster's name, or null to clear) set on the project or
 * team (scope: enum atr_cluster_scope); absent: nothing. 0, or -1 when answered (400). */
int api_default_cluster_or_reply(struct atr_req *r, int scope, int64_t id);
/* Adds "default_cluster" (a name or null) to a project's or team's object o. */
void api_default_cluster_json(struct atr_req *r, int scope, int64_t id, json_t *o);

/* workers.c: the worker registry (register, heartbeat, deregister, admin actions) */
extern const struct atr_field api_worker_register_schema[], api_worker_heartbeat_schema[];
void api_workers_register(struct atr_req *r);
void api_workers_heartbeat(struct atr_req *r);
void api_workers_deregister(struct atr_req *r);
void api_workers_list(struct atr_req *r);
void api_workers_get(struct atr_req *r);
void api_workers_drain(struct atr_req *r);
void api_workers_cordon(struct atr_req *r);
void api_workers_uncordon(struct atr_req *r);
void api_workers_delete(struct atr_req *r);

/* worker_jobs.c: job logs and final reports sent by workers */
extern const struct atr_field api_job_status_schema[];
void api_worker_job_logs_post(struct atr_req *r);
void api_worker_job_status_post(struct atr_req *r);
/* list.c: list answers. cb fills arr with at most p->limit items and says whether more follow. */
typedef int (*api_list_cb)(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more);
/* Reads ?limit and ?cursor, lists with cb and answers the page (or the error, naming what). */
void api_reply_list_cb(struct atr_req *r, api_list_cb cb, const void *arg, const char *what);
/* The same for a store list function of one owner (a project's models, a model's versions). */
typedef int (*api_list_fn)(struct atr_store *s, int64_t owner_id, const struct atr_page *p, json_t *arr, bool *more);
void api_reply_list(struct atr_req *r, api_list_fn fn, int64_t owner_id, const char *what);

/* models.c */
#include "atrium/store_models.h"
extern const struct atr_field api_model_create_schema[], api_model_patch_schema[], api_mv_create_schema[];
/* What the history shows as the caller: the user name, or "job:ID" (into buf). */
const char *api_actor(struct atr_req *r, char *buf, size_t len);
void api_mv_reply(struct atr_req *r, unsigned status, int64_t version_id);
void api_models_create(struct atr_req *r);
void api_models_list(struct atr_req *r);
void api_models_get(struct atr_req *r);
void api_models_patch(struct atr_req *r);
void api_models_history(struct atr_req *r);
void api_mv_create(struct atr_req *r);
void api_mv_list(struct atr_req *r);
void api_mv_get(struct atr_req *r);
void api_mv_commit(struct atr_req *r);
void api_mv_delete(struct atr_req *r);
void api_mv_files(struct atr_req *r);
void api_mv_file_begin(struct atr_req *r);
int api_mv_file_chunk(struct atr_req *r, const char *data, size_t len);
void api_mv_file_put(struct atr_req *r);
void api_mv_file_get(struct atr_req *r);
void api_mv_file_delete(struct atr_req *r);

/* promotions.c: aliases and promotion requests */
extern const struct atr_field api_alias_set_schema[], api_promotion_create_schema[], api_promotion_decide_schema[];
void api_aliases_put(struct atr_req *r);
void api_aliases_delete(struct atr_req *r);
void api_promotions_create(struct atr_req *r);
void api_promotions_get(struct atr_req *r);
void api_promotions_approve(struct atr_req *r);
void api_promotions_reject(struct atr_req *r);
void api_promotions_list_project(struct atr_req *r);
void api_promotions_list_mine(struct atr_req *r);

/* lineage.c */
void api_lineage_get(struct atr_req *r);

/* search.c */
void api_search(struct atr_req *r);

/* gc.c */
extern const struct atr_field api_gc_schema[];
void api_admin_gc(struct atr_req *r);

/* deployments.c: deployments, rollouts (promote, rollback), history, stats */
#include "atrium/deploy.h"
#include "atrium/store_deployments.h"
extern const struct atr_field api_deployment_create_schema[], api_deployment_patch_schema[],
	api_deployment_promote_schema[];
void api_deployments_create(struct atr_req *r);
void api_deployments_list(struct atr_req *r);
void api_deployments_list_all(struct atr_req *r);
void api_deployments_get(struct atr_req *r);
void api_deployments_patch(struct atr_req *r);
void api_deployments_delete(struct atr_req *r);
void api_deployments_promote(struct atr_req *r);
void api_deployments_rollback(struct atr_req *r);
void api_deployments_history(struct atr_req *r);
void api_deployments_stats(struct atr_req *r);
/* predictions.c: captured requests and responses */
void api_deployments_predictions(struct atr_req *r);
/* monitoring.c: model monitoring: a deployment's reference profile and its drift */
extern const struct atr_field api_monitoring_put_schema[];
extern const struct atr_qparam api_drift_query[];
void api_monitoring_get(struct atr_req *r);
void api_monitoring_put(struct atr_req *r);
void api_monitoring_drift(struct atr_req *r);
/* monitoring_quality.c: live quality over windows, by the task the model declares: {"task",
 * "task_source", "total", "windows"} in [from, to) or NULL (*rc says why). New reference. */
struct atr_monitor_settings;
json_t *api_monitoring_quality_json(struct atr_req *r, const struct atr_monitor_settings *m, int64_t from, int64_t to,
				    int64_t width, int *rc);
/* The task the loaded deployment declares (its monitoring settings', else its model version's). */
enum atr_task api_declared_task(struct atr_req *r);
/* monitoring_feedback.c: ground-truth labels for prediction ids */
extern const struct atr_field api_feedback_schema[];
void api_monitoring_feedback(struct atr_req *r);
/* monitors.c: a deployment's monitors and their history (issue 16) */
extern const struct atr_field api_monitor_create_schema[];
void api_monitors_create(struct atr_req *r);
void api_monitors_list(struct atr_req *r);
void api_monitors_get(struct atr_req *r);
void api_monitors_delete(struct atr_req *r);
void api_monitors_history(struct atr_req *r);
/* PATCH: the fields of api_monitor_patch_schema over the stored spec, checked as a creation. */
extern const struct atr_field api_monitor_patch_schema[];
void api_monitors_patch(struct atr_req *r);
/* monitor_features.c: each of features (an array of names; NULL: none) in the deployment's
 * reference profile, else its model version's signature's inputs, else *checked false (none
 * known: accepted unchecked). -1 when it answered 400 naming features[N]. */
int api_monitor_features_or_reply(struct atr_req *r, const json_t *features, bool *checked);
/* channels.c: notification channels (admins) and their delivery logs */
extern const struct atr_field api_channel_create_schema[];
void api_channels_create(struct atr_req *r);
void api_channels_list(struct atr_req *r);
void api_channels_get(struct atr_req *r);
void api_channels_delete(struct atr_req *r);
void api_channels_deliveries(struct atr_req *r);

/* invoke_keys.c: deployment-scoped keys for applications */
extern const struct atr_field api_invoke_key_schema[];
void api_invoke_keys_create(struct atr_req *r);
void api_invoke_keys_list(struct atr_req *r);
void api_invoke_keys_revoke(struct atr_req *r);
/* gateway.c: the inference endpoints (Open Inference Protocol and plain predict) */
void api_v2_live(struct atr_req *r);
void api_v2_ready(struct atr_req *r);
void api_v2_model(struct atr_req *r);
void api_v2_model_ready(struct atr_req *r);
void api_v2_infer(struct atr_req *r);
void api_deployments_predict(struct atr_req *r);
/* service_reports.c: a worker tells a service's state (starting, ready, restarting) */
extern const struct atr_field api_service_report_schema[], api_service_state_schema[];
void api_worker_service_report(struct atr_req *r);
/* dataset_lineage.c: where a dataset version a job wrote came from */
void api_dsv_lineage(struct atr_req *r);

/* benchmarks.c, benchmarks_board.c, evaluations.c, benchmarks_gate.c: benchmarks, their
 * evaluations and leaderboards, and the evaluation gate of a model's production alias */
struct atr_scoring_spec;
extern const struct atr_field api_benchmark_create_schema[], api_benchmark_patch_schema[], api_gate_schema[];
extern const struct atr_qparam api_leaderboard_query[], api_evaluation_create_query[];
void api_benchmark_reply(struct atr_req *r, unsigned status, int64_t id);
/* The scoring library's spec of b (names: the metric name pointers it borrows, from b). */
void api_benchmark_spec(const struct atr_benchmark *b, const char *names[ATR_BENCH_METRICS_MAX],
			struct atr_scoring_spec *spec);
void api_benchmarks_create(struct atr_req *r);
void api_benchmarks_list(struct atr_req *r);
void api_benchmarks_get(struct atr_req *r);
void api_benchmarks_patch(struct atr_req *r);
void api_benchmarks_delete(struct atr_req *r);
void api_benchmarks_leaderboard(struct atr_req *r);
/* On the thread pool: reads the ground truth of b at blob as an evaluation would (0, or
 * ATR_EUNPROCESSABLE with err, ATR_EIO, ATR_ENOMEM). */
struct atr_scoring_error;
int api_truth_check(const struct atr_benchmark *b, const char *blob, struct atr_scoring_error *err);
void api_evaluations_begin(struct atr_req *r);
int api_evaluations_chunk(struct atr_req *r, const char *data, size_t len);
void api_evaluations_create(struct atr_req *r);
void api_evaluations_get(struct atr_req *r);
void api_evaluations_list(struct atr_req *r);
/* evaluation_jobs.c, evaluation_watch.c: evaluating a model version with a batch-inference
 * job over the benchmark's inputs (never its labels), scored when the job has run. */
extern const struct atr_field api_evaluation_run_schema[];
void api_evaluations_run(struct atr_req *r);
struct atr_app;
/* Follows the evaluations still pending or running (at start) and the new ones; stop: before
 * the engine goes. */
int api_evaljobs_start(struct atr_app *a);
void api_evaljobs_stop(struct atr_app *a);
void api_evaljobs_follow(struct atr_app *a, int64_t eval_id, int64_t job_id);
/* Model-version competition submissions followed (src/api/competition_model_watch.c). */
int api_compjobs_start(struct atr_app *a);
void api_compjobs_stop(struct atr_app *a);
/* Custom scorers (evaluation_scorer.c): start follows those still pending or running, stop
 * goes before the engine; api_scorer_start runs the benchmark's scorer (if it has one) on an
 * evaluation just scored (its predictions file "predictions.<format>"). */
int api_scorers_start(struct atr_app *a);
void api_scorers_stop(struct atr_app *a);
void api_scorer_start(struct atr_app *a, int64_t eval_id, const struct atr_benchmark *b, const char *format);
/* -1 after a 400 when a custom metric's name repeats one of b's or another's. */
int api_scorer_check_or_reply(struct atr_req *r, const struct atr_benchmark *b, const json_t *scorer);
/* The body's "scorer" (NULL when absent or null). */
const json_t *api_scorer_of(const json_t *body);
/* The benchmark's scorer (new reference; JSON null when none). */
json_t *api_scorer_json(struct atr_store *s, int64_t benchmark_id);
/* The job lists' filter of benchmark scorers' jobs (struct atr_job_filter's scorers_to): 0
 * when the caller sees them all (an admin; an editor of the loaded project when
 * project_loaded), else the caller's user id (only where they are an editor; -1: none). */
int64_t api_scorer_jobs_visible_to(struct atr_req *r, bool project_loaded);
/* The direction of the scorer's metric name (borrowed scorer, may be NULL): 1 higher is
 * better, -1 lower, 0 when the scorer has no such metric. */
int api_scorer_direction(const json_t *scorer, const char *name);
/* Hides an evaluation's scorer job and error from those below editor. */
void api_scorer_redact(struct atr_req *r, json_t *evaluation);
/* A scorer's shape ({command, metrics [{name, direction}], resources, timeout_s}): benchmarks'
 * and competitions' (benchmarks.c). */
extern const struct atr_field api_scorer_schema[];
/* A scorer's job in project p, run as creator: its command, resources, one attempt, timeout. */
void api_scorer_spec_fill(struct atr_job_spec *spec, const json_t *scorer, const struct atr_project *p,
			  int64_t creator);
/* The scorer's declared metrics from job_id's metrics.json: {name: number} (new reference), or
 * NULL with the reason (it names the job: for those who may see it) in why. */
json_t *api_scorer_read_metrics(struct atr_store *s, int64_t job_id, const json_t *scorer, char *why, size_t len);
/* Competitions ranked by a custom metric (competition_scorer.c): start follows the scorer
 * jobs still pending or running, stop goes before the engine. */
int api_compscorers_start(struct atr_app *a);
void api_compscorers_stop(struct atr_app *a);
/* The create body's scorer checked against metric: 1 (a scorer competition), 0 (none: a
 * built-in metric), -1 after a 400 naming the field. */
int api_comp_scorer_or_reply(struct atr_req *r, const char *metric);
/* A competition's scorer as the caller may see it (organisers: all of it; others: its
 * metrics); JSON null when it has none. New reference. */
json_t *api_comp_scorer_view(struct atr_req *r, int64_t comp_id);
/* Whether a higher value of a scorer competition's metric is better (true without a scorer). */
bool api_comp_higher_better(struct atr_store *s, int64_t comp_id, const char *metric);
/* Adds "scorer_jobs" [{subset, job_id, state, error}] to a submission for its organisers. */
void api_comp_scorer_annotate(struct atr_req *r, json_t *sub);
void api_gate_get(struct atr_req *r);
void api_gate_put(struct atr_req *r);
void api_gate_delete(struct atr_req *r);
/* Before any move of alias to version_id: 0 when the model's gate allows it (or it has none),
 * else -1 after a 409 (field "evaluation") saying which evaluation is missing. */
int api_gate_or_reply(struct atr_req *r, int64_t model_id, const char *alias, int64_t version_id);
/* What a promotion's approver sees: the gate, whether the version passes it, and the
 * evaluation that does (new reference); NULL when the alias has no gate. */
json_t *api_gate_evidence(struct atr_req *r, int64_t model_id, const char *alias, int64_t version_id);

/* mlflow_artifacts.c: MLflow's artifact proxy (/api/2.0/mlflow-artifacts/...) over run
 * artifacts and model version files. */
extern const struct atr_qparam api_mlflow_artifacts_list_query[];
extern const struct atr_field api_mlflow_mpu_schema[];
/* An artifact path as MLflow names one (a route's {path...}, or the folder in a listing's
 * query), checked as every artifact path (atr_is_safe_path); NULL after a 400
 * (INVALID_PARAMETER_VALUE) that quotes it. */
const char *api_mlflow_path_or_reply(struct atr_req *r, const char *path);
void api_mlflow_artifacts_list(struct atr_req *r);
void api_mlflow_artifact_begin(struct atr_req *r);
void api_mlflow_artifact_put(struct atr_req *r);
void api_mlflow_artifact_get(struct atr_req *r);
void api_mlflow_artifact_delete(struct atr_req *r);
void api_mlflow_version_file_get(struct atr_req *r);
void api_mlflow_mpu(struct atr_req *r);

/* competitions.c, competition_subs.c, competition_boards.c: competitions (hackathons) */
extern const struct atr_field api_competition_create_schema[], api_competition_patch_schema[],
	api_competition_join_schema[], api_comp_select_schema[];
extern const struct atr_qparam api_comp_subs_query[], api_comp_sub_query[];
void api_competitions_create(struct atr_req *r);
void api_competitions_list(struct atr_req *r);
void api_competitions_get(struct atr_req *r);
void api_competitions_patch(struct atr_req *r);
void api_competitions_join(struct atr_req *r);
void api_competitions_leave(struct atr_req *r);
void api_competitions_teams(struct atr_req *r);
void api_competitions_data(struct atr_req *r);
void api_competitions_data_get(struct atr_req *r);
void api_comp_sub_begin(struct atr_req *r);
int api_comp_sub_chunk(struct atr_req *r, const char *data, size_t len);
void api_comp_sub_create(struct atr_req *r);
/* Reads a competition's ground truth (c: its test version, file, columns, metric) on the
 * thread pool; then(r) runs on the loop when it reads well, else a 400 names 'test.path' with
 * the scoring library's message (the organiser's own file). */
void api_comp_truth_check(struct atr_req *r, const struct atr_competition_spec *c, void (*then)(struct atr_req *r));
void api_comp_subs_list(struct atr_req *r);
void api_comp_sub_select(struct atr_req *r);
void api_comp_board_public(struct atr_req *r);
void api_comp_board_private(struct atr_req *r);

/* launchers.c: a project's launchers, their versions, running one (issue 20) */
extern const struct atr_field api_launcher_create_schema[], api_launcher_update_schema[], api_launcher_run_schema[];
extern const struct atr_qparam api_launchers_list_query[];
void api_launchers_list(struct atr_req *r);
void api_launchers_create(struct atr_req *r);
void api_launchers_get(struct atr_req *r);
void api_launchers_update(struct atr_req *r);
void api_launchers_delete(struct atr_req *r);
void api_launchers_restore(struct atr_req *r);
void api_launchers_versions(struct atr_req *r);
void api_launchers_jobs(struct atr_req *r);
void api_launchers_run(struct atr_req *r);
/* sweeps.c (issue 20) */
extern const struct atr_field api_sweep_create_schema[];
void api_sweeps_create(struct atr_req *r);
void api_sweeps_list(struct atr_req *r);
void api_sweeps_get(struct atr_req *r);
void api_sweeps_pause(struct atr_req *r);
void api_sweeps_resume(struct atr_req *r);
void api_sweeps_cancel(struct atr_req *r);
extern const struct atr_qparam api_sweeps_list_query[];
void api_sweeps_delete(struct atr_req *r);

#endif
