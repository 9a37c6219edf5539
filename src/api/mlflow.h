#ifndef ATRIUM_API_MLFLOW_H
#define ATRIUM_API_MLFLOW_H
/*
 * mlflow.h: private to src/api/mlflow_*.c, the MLflow REST API (2.9.2's shapes) over Atrium's
 * own data. Nothing here is a parallel store: an experiment is a project, an MLflow run is an
 * Atrium run (its MLflow id is runs.uuid), registered models and versions are Atrium models
 * and versions, MLflow aliases are Atrium aliases, artifacts are the blob store's files.
 *
 * How the parts meet:
 * - Routes: rows under /api/2.0/mlflow/ and /api/2.0/mlflow-artifacts/ in routes.c, flagged
 *   ATR_RF_MLFLOW when what they act on is named in the body or query (run_id, experiment_id,
 *   name, version): the pipeline loads it and decides access once the body is read
 *   (api_resolve), exactly as for Atrium's own routes. /ajax-api/2.0/... is the same route.
 * - Errors: the pipeline answers MLflow's shape, {"error_code", "message"}, for every request
 *   under those paths; error_code comes from the one error table (ATR_ERRORS' mlflow column):
 *   RESOURCE_DOES_NOT_EXIST for what the caller may not see, PERMISSION_DENIED for too low a
 *   role, INVALID_PARAMETER_VALUE naming the field, RESOURCE_ALREADY_EXISTS for duplicates.
 * - Every 200 answer is a JSON object ({} for writes); values follow MLflow's protobuf types
 *   (param and tag values, model versions, experiment and run ids are strings; times are
 *   milliseconds as integers; statuses are upper case).
 * - Access: a user's Atrium token (Bearer, or Basic with the token as password) or user name
 *   and password (Basic) is the caller, with Atrium's roles; a job's token reaches its
 *   project.
 */
#include "api.h"

/* "mlflow-artifacts:/<experiment id>/<run id>/artifacts": where a run's artifacts live, as the
 * client sees it (it sends and fetches them through /api/2.0/mlflow-artifacts/artifacts/...). */
void api_mlflow_artifact_uri(int64_t project_id, const char *run_uuid, char *out, size_t len);

/* MLflow's run status names and Atrium's: "RUNNING" <-> "running", "FINISHED", "FAILED",
 * "KILLED", "SCHEDULED" <-> "queued" (a job's run until the job starts). NULL for an unknown name. */
const char *api_mlflow_status_to_atrium(const char *mlflow);
const char *api_mlflow_status_from_atrium(const char *atrium);

/* ---- the model registry (mlflow_registry.c, mlflow_versions.c, mlflow_registry_search.c) ----
 * Registered models are Atrium's models, which live in projects: "model" names the one model of
 * that name among the projects the caller may read, "project/model" names it exactly; answers
 * show the plain name unless the caller may read more than one model of that name (then
 * "project/model"). MLflow's aliases are Atrium's aliases; its stages Staging and Production
 * are the aliases `staging` and `production` (moving `production` needs an owner: editors ask
 * for a promotion), Archived a mark on the version. */
#include "atrium/store_models.h"

/* Who reads (what the answers may show). */
void api_mlflow_viewer(struct atr_req *r, struct atr_model_viewer *v);
/* MLflow's RegisteredModel and ModelVersion objects (new references), or NULL after answering
 * the error. */
json_t *api_mlflow_model_json(struct atr_req *r, int64_t model_id);
json_t *api_mlflow_version_json(struct atr_req *r, int64_t version_id);
/* Answers {key: object} (object stolen; NULL: the error was answered). */
void api_mlflow_reply_obj(struct atr_req *r, const char *key, json_t *obj);
/* A registered model's name part (the model, without "project/"): letters, digits, '-', '_'
 * and '.', starting with a letter or digit, at most 63 bytes; -1 after a 400 naming field. */
int api_mlflow_model_name_or_reply(struct atr_req *r, const char *name, const char *field);
/* Whether the caller may move alias of the loaded model to or from version v (row): owners for
 * `production`, whose 403 names the promotion request an editor makes instead. */
int api_mlflow_alias_access_or_reply(struct atr_req *r, const char *alias, int64_t version_id);
/* MLflow's tags [{key, value}] as a string map (new reference; NULL when out of memory). */
json_t *api_mlflow_tag_map(const json_t *list);
/* MLflow's stage names ("None", "Staging", "Production", "Archived", any case): -1 for others. */
int api_mlflow_stage(const char *name);
extern const char *const api_mlflow_stage_names[ATR_STAGE_COUNT];

/* registered-models/... (api_mlflow_tag_schema: one of MLflow's tags, {key, value}) */
extern const struct atr_field api_mlflow_tag_schema[], api_mlflow_rm_create_schema[], api_mlflow_rm_rename_schema[],
	api_mlflow_rm_update_schema[], api_mlflow_rm_name_schema[], api_mlflow_rm_latest_schema[],
	api_mlflow_rm_set_tag_schema[], api_mlflow_rm_delete_tag_schema[], api_mlflow_alias_set_schema[],
	api_mlflow_alias_delete_schema[];
extern const struct atr_qparam api_mlflow_rm_get_query[], api_mlflow_rm_search_query[], api_mlflow_rm_latest_query[],
	api_mlflow_alias_get_query[];
void api_mlflow_rm_create(struct atr_req *r);
void api_mlflow_rm_get(struct atr_req *r);
void api_mlflow_rm_rename(struct atr_req *r);
void api_mlflow_rm_update(struct atr_req *r);
void api_mlflow_rm_delete(struct atr_req *r);
void api_mlflow_rm_search(struct atr_req *r);
void api_mlflow_rm_latest(struct atr_req *r);
void api_mlflow_rm_set_tag(struct atr_req *r);
void api_mlflow_rm_delete_tag(struct atr_req *r);
void api_mlflow_alias_set(struct atr_req *r);
void api_mlflow_alias_get(struct atr_req *r);
void api_mlflow_alias_delete(struct atr_req *r);
/* model-versions/... */
extern const struct atr_field api_mlflow_mv_create_schema[], api_mlflow_mv_update_schema[], api_mlflow_mv_ref_schema[],
	api_mlflow_mv_set_tag_schema[], api_mlflow_mv_delete_tag_schema[], api_mlflow_mv_transition_schema[];
extern const struct atr_qparam api_mlflow_mv_get_query[], api_mlflow_mv_search_query[];
void api_mlflow_mv_create(struct atr_req *r);
void api_mlflow_mv_get(struct atr_req *r);
void api_mlflow_mv_update(struct atr_req *r);
void api_mlflow_mv_delete(struct atr_req *r);
void api_mlflow_mv_search(struct atr_req *r);
void api_mlflow_mv_download_uri(struct atr_req *r);
void api_mlflow_mv_set_tag(struct atr_req *r);
void api_mlflow_mv_delete_tag(struct atr_req *r);
void api_mlflow_mv_transition(struct atr_req *r);

/* ---- tracking: experiments (mlflow_experiments.c), runs (mlflow_runs.c), runs/search and
 * metric histories (mlflow_search.c), runs in MLflow's shape (mlflow_run_json.c) ---- */
#include "atrium/buf.h"
#include "atrium/store_mlflow_tracking.h"

extern const struct atr_field api_mlflow_exp_create_schema[], api_mlflow_exp_search_schema[],
	api_mlflow_exp_id_schema[], api_mlflow_exp_update_schema[], api_mlflow_exp_tag_schema[],
	api_mlflow_run_create_schema[], api_mlflow_run_update_schema[], api_mlflow_run_id_schema[],
	api_mlflow_log_metric_schema[], api_mlflow_log_param_schema[], api_mlflow_set_tag_schema[],
	api_mlflow_delete_tag_schema[], api_mlflow_log_inputs_schema[], api_mlflow_log_model_schema[],
	api_mlflow_runs_search_schema[];
extern const struct atr_qparam api_mlflow_exp_get_query[], api_mlflow_exp_by_name_query[],
	api_mlflow_exp_search_query[], api_mlflow_run_get_query[], api_mlflow_history_query[];

void api_mlflow_experiments_create(struct atr_req *r);
void api_mlflow_experiments_get(struct atr_req *r);
void api_mlflow_experiments_get_by_name(struct atr_req *r);
void api_mlflow_experiments_search(struct atr_req *r);
void api_mlflow_experiments_update(struct atr_req *r);
void api_mlflow_experiments_delete(struct atr_req *r);
void api_mlflow_experiments_restore(struct atr_req *r);
void api_mlflow_experiments_set_tag(struct atr_req *r);

void api_mlflow_runs_create(struct atr_req *r);
void api_mlflow_runs_get(struct atr_req *r);
void api_mlflow_runs_update(struct atr_req *r);
void api_mlflow_runs_delete(struct atr_req *r);
void api_mlflow_runs_restore(struct atr_req *r);
void api_mlflow_runs_log_metric(struct atr_req *r);
void api_mlflow_runs_log_batch(struct atr_req *r);
void api_mlflow_runs_log_param(struct atr_req *r);
void api_mlflow_runs_set_tag(struct atr_req *r);
void api_mlflow_runs_delete_tag(struct atr_req *r);
void api_mlflow_runs_log_inputs(struct atr_req *r);
void api_mlflow_runs_log_model(struct atr_req *r);
void api_mlflow_runs_search(struct atr_req *r);
void api_mlflow_metrics_history(struct atr_req *r);

/* Runs in MLflow's shape, written as JSON text (a page of runs/search is up to thousands of
 * them: no tree): {info, data: {metrics, params, tags}, inputs: {dataset_inputs}}, the runs
 * separated by commas. 0 or the buffer's error. */
int api_mlflow_write_runs(struct atr_buf *b, const struct atr_mlflow_runs *runs);
int api_mlflow_write_run_info(struct atr_buf *b, const struct atr_mlflow_run *run);
/* Answers {"<wrap>": the run} ("run"), or {"run_info": its info} (wrap "run_info"). */
void api_mlflow_reply_run(struct atr_req *r, int64_t run_id, const char *wrap);
/* Answers the text of b (stolen) as 200 JSON. */
void api_mlflow_reply_buf(struct atr_req *r, struct atr_buf *b);
/* MLflow's opaque page tokens: a JSON array, base64url (NULL: out of memory) and back (NULL and a
 * 400 naming 'page_token' answered when it is not one this server gave). */
char *api_mlflow_token(const json_t *cursor);
json_t *api_mlflow_token_or_reply(struct atr_req *r, const char *token);
/* A key of a param or tag (MLflow's names: 1-250 bytes without control characters), or 400
 * naming field. */
int api_mlflow_key_or_reply(struct atr_req *r, const char *field, const char *key);

#endif
