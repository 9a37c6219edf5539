/*
 * routes.c: THE route table. Method, pattern, handler, who may call it, flags, body schema
 * and the name used by the audit log and /metrics. The server checks all of it before a
 * handler runs. Keep it sorted by resource; docs/api.md lists the same routes (a test
 * checks that every route here is documented).
 */
#include "api.h"

#define PUB ATR_ACCESS_PUBLIC
#define USER ATR_ACCESS_USER
#define ADMIN ATR_ACCESS_ADMIN
#define WORKER ATR_ACCESS_WORKER

const struct atr_route atr_routes[] = {
	/* system */
	{ "GET", "/healthz", api_healthz, PUB, 0, NULL, "healthz", NULL, NULL },
	{ "GET", "/readyz", api_readyz, PUB, 0, NULL, "readyz", NULL, NULL },
	{ "GET", "/metrics", api_metrics, PUB, 0, NULL, "metrics", NULL, NULL },
	{ "GET", "/api/v1/version", api_version, PUB, 0, NULL, "version", NULL, NULL },
	{ "POST", "/api/v1/admin/backup", api_admin_backup, ADMIN, 0, atr_schema_empty, "admin.backup", NULL, NULL },

	/* identity */
	{ "POST", "/api/v1/auth/login", api_auth_login, PUB, 0, api_login_schema, "auth.login", NULL, NULL },
	{ "GET", "/api/v1/users", api_users_list, ADMIN, 0, NULL, "users.list", NULL, NULL },
	{ "POST", "/api/v1/users", api_users_create, ADMIN, 0, api_user_create_schema, "users.create", NULL, NULL },
	{ "GET", "/api/v1/users/me", api_users_me, USER, ATR_RF_JOB_OK | ATR_RF_CACHE, NULL, "users.me", NULL, NULL },
	{ "GET", "/api/v1/users/{user}", api_users_get, ADMIN, 0, NULL, "users.get", NULL, NULL },
	{ "PATCH", "/api/v1/users/{user}", api_users_patch, ADMIN, 0, api_user_patch_schema, "users.update", NULL,
	  NULL },
	{ "POST", "/api/v1/users/{user}/tokens", api_users_token_create, ADMIN, 0, api_token_create_schema,
	  "users.tokens.create", NULL, NULL },
	{ "GET", "/api/v1/tokens", api_tokens_list, USER, 0, NULL, "tokens.list", NULL, NULL },
	{ "POST", "/api/v1/tokens", api_tokens_create, USER, 0, api_token_create_schema, "tokens.create", NULL, NULL },
	{ "DELETE", "/api/v1/tokens/{id}", api_tokens_delete, USER, 0, NULL, "tokens.revoke", NULL, NULL },
	{ "GET", "/api/v1/teams", api_teams_list, USER, 0, NULL, "teams.list", NULL, NULL },
	{ "POST", "/api/v1/teams", api_teams_create, ADMIN, 0, api_team_create_schema, "teams.create", NULL, NULL },
	{ "GET", "/api/v1/teams/{team}", api_teams_get, USER, ATR_RF_CACHE, NULL, "teams.get", NULL, NULL },
	{ "PATCH", "/api/v1/teams/{team}", api_teams_patch, ADMIN, 0, api_team_patch_schema, "teams.update", NULL,
	  NULL },
	{ "PUT", "/api/v1/teams/{team}/members/{user}", api_teams_member_put, USER, 0, api_team_member_schema,
	  "teams.members.set", NULL, NULL },
	{ "DELETE", "/api/v1/teams/{team}/members/{user}", api_teams_member_delete, USER, 0, NULL,
	  "teams.members.remove", NULL, NULL },
	{ "GET", "/api/v1/audit", api_audit_list, ADMIN, 0, NULL, "audit.list", NULL, NULL },

	/* projects */
	{ "GET", "/api/v1/projects", api_projects_list, USER, 0, NULL, "projects.list", NULL, NULL },
	{ "POST", "/api/v1/projects", api_projects_create, USER, 0, api_project_create_schema, "projects.create", NULL,
	  NULL },
	{ "GET", "/api/v1/projects/{project}", api_projects_get, USER, ATR_RF_JOB_OK | ATR_RF_CACHE, NULL,
	  "projects.get", NULL, NULL },
	{ "PATCH", "/api/v1/projects/{project}", api_projects_patch, USER, 0, api_project_patch_schema,
	  "projects.update", NULL, NULL },
	{ "DELETE", "/api/v1/projects/{project}", api_projects_delete, USER, 0, NULL, "projects.archive", NULL, NULL },
	{ "GET", "/api/v1/projects/{project}/members", api_projects_members, USER, 0, NULL, "projects.members.list",
	  NULL, NULL },
	{ "PUT", "/api/v1/projects/{project}/members/{user}", api_projects_member_put, USER, 0,
	  api_project_member_schema, "projects.members.set", NULL, NULL },
	{ "DELETE", "/api/v1/projects/{project}/members/{user}", api_projects_member_delete, USER, 0, NULL,
	  "projects.members.remove", NULL, NULL },

/* datasets */
#define DS "/api/v1/projects/{project}/datasets"
#define DSV DS "/{dataset}/versions/{version}"
	{ "GET", DS, api_datasets_list, USER, ATR_RF_JOB_OK, NULL, "datasets.list", NULL, NULL },
	{ "POST", DS, api_datasets_create, USER, ATR_RF_JOB_OK, api_dataset_create_schema, "datasets.create", NULL,
	  NULL },
	{ "GET", DS "/{dataset}", api_datasets_get, USER, ATR_RF_JOB_OK | ATR_RF_CACHE, NULL, "datasets.get", NULL,
	  NULL },
	{ "GET", DS "/{dataset}/versions", api_dsv_list, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.list", NULL,
	  NULL },
	{ "POST", DS "/{dataset}/versions", api_dsv_create, USER, ATR_RF_JOB_OK | ATR_RF_IDEMPOTENT,
	  api_dsv_create_schema, "datasets.versions.create", NULL, NULL },
	{ "GET", DSV, api_dsv_get, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.get", NULL, NULL },
	{ "DELETE", DSV, api_dsv_delete, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.delete", NULL, NULL },
	{ "POST", DSV "/commit", api_dsv_commit, USER, ATR_RF_JOB_OK, api_dsv_commit_schema, "datasets.versions.commit",
	  NULL, NULL },
	{ "GET", DSV "/lineage", api_dsv_lineage, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.lineage", NULL, NULL },
	{ "GET", DSV "/diff", api_dsv_diff, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.diff", NULL, NULL },
	{ "GET", DSV "/files", api_dsv_files, USER, ATR_RF_JOB_OK, NULL, "datasets.files.list", NULL, NULL },
	{ "PUT", DSV "/files/{path...}", api_dsv_file_put, USER, ATR_RF_JOB_OK | ATR_RF_STREAM, NULL,
	  "datasets.files.put", api_dsv_file_begin, api_dsv_file_chunk },
	{ "GET", DSV "/files/{path...}", api_dsv_file_get, USER, ATR_RF_JOB_OK, NULL, "datasets.files.get", NULL,
	  NULL },
	{ "DELETE", DSV "/files/{path...}", api_dsv_file_delete, USER, ATR_RF_JOB_OK, NULL, "datasets.files.delete",
	  NULL, NULL },

	/* runs */
	{ "GET", "/api/v1/projects/{project}/runs", api_runs_list, USER, ATR_RF_JOB_OK, NULL, "runs.list", NULL, NULL },
	{ "POST", "/api/v1/projects/{project}/runs", api_runs_create, USER, ATR_RF_JOB_OK | ATR_RF_IDEMPOTENT,
	  api_run_create_schema, "runs.create", NULL, NULL },
#define RUN "/api/v1/runs/{run}"
	{ "GET", RUN, api_runs_get, USER, ATR_RF_JOB_OK | ATR_RF_CACHE, NULL, "runs.get", NULL, NULL },
	{ "PATCH", RUN, api_runs_patch, USER, ATR_RF_JOB_OK, api_run_patch_schema, "runs.update", NULL, NULL },
	{ "DELETE", RUN, api_runs_delete, USER, 0, NULL, "runs.delete", NULL, NULL },
	{ "GET", RUN "/metrics", api_run_metrics_list, USER, ATR_RF_JOB_OK, NULL, "runs.metrics.list", NULL, NULL },
	{ "POST", RUN "/metrics", api_run_metrics_log, USER, ATR_RF_JOB_OK | ATR_RF_NO_AUDIT | ATR_RF_RAW_BODY, NULL,
	  "runs.metrics.log", NULL, NULL },
	{ "GET", RUN "/metrics/{key}", api_run_metric_get, USER, ATR_RF_JOB_OK, NULL, "runs.metrics.get", NULL, NULL },
	{ "GET", RUN "/artifacts", api_run_artifacts_list, USER, ATR_RF_JOB_OK, NULL, "runs.artifacts.list", NULL,
	  NULL },
	{ "PUT", RUN "/artifacts/{path...}", api_run_artifact_put, USER, ATR_RF_JOB_OK | ATR_RF_STREAM, NULL,
	  "runs.artifacts.put", api_run_artifact_begin, api_upload_chunk },
	{ "GET", RUN "/artifacts/{path...}", api_run_artifact_get, USER, ATR_RF_JOB_OK, NULL, "runs.artifacts.get",
	  NULL, NULL },
	{ "DELETE", RUN "/artifacts/{path...}", api_run_artifact_delete, USER, ATR_RF_JOB_OK, NULL,
	  "runs.artifacts.delete", NULL, NULL },
	/* admin stats */
	{ "GET", "/api/v1/admin/stats", api_admin_stats, ADMIN, 0, NULL, "admin.stats", NULL, NULL },
	/* workers (literal paths before /workers/{id}: the first match wins) */
	{ "POST", "/api/v1/workers/join-tokens", api_workers_join_create, ADMIN, 0, api_join_token_schema,
	  "workers.join_tokens.create", NULL, NULL },
	{ "GET", "/api/v1/workers/join-tokens", api_workers_join_list, ADMIN, 0, NULL, "workers.join_tokens.list", NULL,
	  NULL },
	{ "DELETE", "/api/v1/workers/join-tokens/{id}", api_workers_join_delete, ADMIN, 0, NULL,
	  "workers.join_tokens.revoke", NULL, NULL },
	{ "POST", "/api/v1/workers/register", api_workers_register, PUB, 0, api_worker_register_schema,
	  "workers.register", NULL, NULL },
	{ "POST", "/api/v1/workers/heartbeat", api_workers_heartbeat, WORKER, ATR_RF_NO_AUDIT,
	  api_worker_heartbeat_schema, "workers.heartbeat", NULL, NULL },
	{ "POST", "/api/v1/workers/deregister", api_workers_deregister, WORKER, 0, atr_schema_empty,
	  "workers.deregister", NULL, NULL },
	{ "POST", "/api/v1/workers/jobs/{id}/logs", api_worker_job_logs_post, WORKER, ATR_RF_NO_AUDIT | ATR_RF_RAW_BODY,
	  NULL, "workers.jobs.logs.append", NULL, NULL },
	{ "POST", "/api/v1/workers/jobs/{id}/status", api_worker_job_status_post, WORKER, ATR_RF_NO_AUDIT,
	  api_job_status_schema, "workers.jobs.status.report", NULL, NULL },
	{ "POST", "/api/v1/workers/jobs/{id}/service", api_worker_service_report, WORKER, ATR_RF_NO_AUDIT,
	  api_service_report_schema, "workers.jobs.service.report", NULL, NULL },
	{ "GET", "/api/v1/workers", api_workers_list, ADMIN, 0, NULL, "workers.list", NULL, NULL },
	{ "GET", "/api/v1/workers/{id}", api_workers_get, ADMIN, 0, NULL, "workers.get", NULL, NULL },
	{ "DELETE", "/api/v1/workers/{id}", api_workers_delete, ADMIN, 0, NULL, "workers.delete", NULL, NULL },
	{ "POST", "/api/v1/workers/{id}/drain", api_workers_drain, ADMIN, 0, atr_schema_empty, "workers.drain", NULL,
	  NULL },
	{ "POST", "/api/v1/workers/{id}/cordon", api_workers_cordon, ADMIN, 0, atr_schema_empty, "workers.cordon", NULL,
	  NULL },
	{ "POST", "/api/v1/workers/{id}/uncordon", api_workers_uncordon, ADMIN, 0, atr_schema_empty, "workers.uncordon",
	  NULL, NULL },

/* models */
#define MD "/api/v1/projects/{project}/models"
#define MV MD "/{model}/versions/{version}"
	{ "GET", MD, api_models_list, USER, ATR_RF_JOB_OK, NULL, "models.list", NULL, NULL },
	{ "POST", MD, api_models_create, USER, ATR_RF_JOB_OK, api_model_create_schema, "models.create", NULL, NULL },
	{ "GET", MD "/{model}", api_models_get, USER, ATR_RF_JOB_OK | ATR_RF_CACHE, NULL, "models.get", NULL, NULL },
	{ "PATCH", MD "/{model}", api_models_patch, USER, ATR_RF_JOB_OK, api_model_patch_schema, "models.update", NULL,
	  NULL },
	{ "GET", MD "/{model}/history", api_models_history, USER, ATR_RF_JOB_OK, NULL, "models.history", NULL, NULL },
	{ "GET", MD "/{model}/versions", api_mv_list, USER, ATR_RF_JOB_OK, NULL, "models.versions.list", NULL, NULL },
	{ "POST", MD "/{model}/versions", api_mv_create, USER, ATR_RF_JOB_OK | ATR_RF_IDEMPOTENT, api_mv_create_schema,
	  "models.versions.create", NULL, NULL },
	{ "GET", MV, api_mv_get, USER, ATR_RF_JOB_OK, NULL, "models.versions.get", NULL, NULL },
	{ "DELETE", MV, api_mv_delete, USER, ATR_RF_JOB_OK, NULL, "models.versions.delete", NULL, NULL },
	{ "POST", MV "/commit", api_mv_commit, USER, ATR_RF_JOB_OK, atr_schema_empty, "models.versions.commit", NULL,
	  NULL },
	{ "GET", MV "/files", api_mv_files, USER, ATR_RF_JOB_OK, NULL, "models.files.list", NULL, NULL },
	{ "PUT", MV "/files/{path...}", api_mv_file_put, USER, ATR_RF_JOB_OK | ATR_RF_STREAM, NULL, "models.files.put",
	  api_mv_file_begin, api_mv_file_chunk },
	{ "GET", MV "/files/{path...}", api_mv_file_get, USER, ATR_RF_JOB_OK, NULL, "models.files.get", NULL, NULL },
	{ "DELETE", MV "/files/{path...}", api_mv_file_delete, USER, ATR_RF_JOB_OK, NULL, "models.files.delete", NULL,
	  NULL },
	{ "PUT", MD "/{model}/aliases/{alias}", api_aliases_put, USER, ATR_RF_JOB_OK, api_alias_set_schema,
	  "models.aliases.set", NULL, NULL },
	{ "DELETE", MD "/{model}/aliases/{alias}", api_aliases_delete, USER, ATR_RF_JOB_OK, NULL,
	  "models.aliases.delete", NULL, NULL },
	{ "POST", MV "/promotions", api_promotions_create, USER, ATR_RF_JOB_OK | ATR_RF_IDEMPOTENT,
	  api_promotion_create_schema, "promotions.create", NULL, NULL },
	{ "GET", "/api/v1/projects/{project}/promotions", api_promotions_list_project, USER, 0, NULL,
	  "promotions.list_project", NULL, NULL },
	{ "GET", "/api/v1/promotions", api_promotions_list_mine, USER, 0, NULL, "promotions.list", NULL, NULL },
	{ "GET", "/api/v1/promotions/{id}", api_promotions_get, USER, 0, NULL, "promotions.get", NULL, NULL },
	{ "POST", "/api/v1/promotions/{id}/approve", api_promotions_approve, USER, 0, api_promotion_decide_schema,
	  "promotions.approve", NULL, NULL },
	{ "POST", "/api/v1/promotions/{id}/reject", api_promotions_reject, USER, 0, api_promotion_decide_schema,
	  "promotions.reject", NULL, NULL },
	{ "GET", "/api/v1/model-versions/{id}", api_mv_get_by_id, USER, ATR_RF_JOB_OK, NULL,
	  "models.versions.get_by_id", NULL, NULL },

	/* lineage */
	{ "GET", "/api/v1/model-versions/{id}/lineage", api_lineage_get, USER, ATR_RF_JOB_OK, NULL, "lineage.get", NULL,
	  NULL },

	/* search */
	{ "GET", "/api/v1/search", api_search, USER, 0, NULL, "search", NULL, NULL },

	/* admin gc */
	{ "POST", "/api/v1/admin/gc", api_admin_gc, ADMIN, 0, api_gc_schema, "admin.gc", NULL, NULL },

/* jobs */
#define PJ "/api/v1/projects/{project}/jobs"
#define J "/api/v1/jobs/{job}"
	{ "GET", PJ, api_jobs_list, USER, ATR_RF_JOB_OK, NULL, "jobs.list", NULL, NULL },
	{ "POST", PJ, api_jobs_create, USER, ATR_RF_IDEMPOTENT, api_job_create_schema, "jobs.create", NULL, NULL },
	{ "GET", "/api/v1/jobs", api_jobs_list_all, USER, 0, NULL, "jobs.list_all", NULL, NULL },
	{ "GET", J, api_jobs_get, USER, ATR_RF_JOB_OK, NULL, "jobs.get", NULL, NULL },
	{ "POST", J "/cancel", api_jobs_cancel, USER, 0, atr_schema_empty, "jobs.cancel", NULL, NULL },
	{ "GET", J "/events", api_jobs_events, USER, ATR_RF_JOB_OK, NULL, "jobs.events", NULL, NULL },
	{ "GET", J "/logs", api_job_logs, USER, ATR_RF_JOB_OK, NULL, "jobs.logs", NULL, NULL },
	{ "GET", J "/wait", api_job_wait, USER, ATR_RF_JOB_OK, NULL, "jobs.wait", NULL, NULL },
	{ "GET", J "/outputs", api_job_outputs, USER, ATR_RF_JOB_OK, NULL, "jobs.outputs.list", NULL, NULL },
	{ "PUT", J "/outputs/{path...}", api_job_output_put, USER, ATR_RF_JOB_OK | ATR_RF_STREAM, NULL,
	  "jobs.outputs.put", api_job_output_begin, api_job_output_chunk },
	{ "GET", J "/outputs/{path...}", api_job_output_get, USER, ATR_RF_JOB_OK, NULL, "jobs.outputs.get", NULL,
	  NULL },

/* deployments */
#define PD "/api/v1/projects/{project}/deployments"
#define DEP "/api/v1/deployments/{name}"
/* inference calls: the raw body is forwarded; invoke keys and job tokens may call; not audited */
#define GW (ATR_RF_RAW_BODY | ATR_RF_INVOKE_OK | ATR_RF_JOB_OK | ATR_RF_NO_AUDIT)
	{ "GET", "/api/v1/deployments", api_deployments_list_all, USER, 0, NULL, "deployments.list_all", NULL, NULL },
	{ "GET", PD, api_deployments_list, USER, ATR_RF_JOB_OK, NULL, "deployments.list", NULL, NULL },
	{ "POST", PD, api_deployments_create, USER, ATR_RF_IDEMPOTENT, api_deployment_create_schema,
	  "deployments.create", NULL, NULL },
	{ "GET", DEP, api_deployments_get, USER, ATR_RF_JOB_OK, NULL, "deployments.get", NULL, NULL },
	{ "PATCH", DEP, api_deployments_patch, USER, 0, api_deployment_patch_schema, "deployments.update", NULL, NULL },
	{ "DELETE", DEP, api_deployments_delete, USER, 0, NULL, "deployments.delete", NULL, NULL },
	{ "POST", DEP "/promote", api_deployments_promote, USER, 0, api_deployment_promote_schema,
	  "deployments.promote", NULL, NULL },
	{ "POST", DEP "/rollback", api_deployments_rollback, USER, 0, atr_schema_empty, "deployments.rollback", NULL,
	  NULL },
	{ "GET", DEP "/history", api_deployments_history, USER, ATR_RF_JOB_OK, NULL, "deployments.history", NULL,
	  NULL },
	{ "GET", DEP "/stats", api_deployments_stats, USER, ATR_RF_JOB_OK, NULL, "deployments.stats", NULL, NULL },
	{ "GET", DEP "/predictions", api_deployments_predictions, USER, ATR_RF_JOB_OK, NULL, "deployments.predictions",
	  NULL, NULL },
	{ "POST", DEP "/keys", api_invoke_keys_create, USER, 0, api_invoke_key_schema, "deployments.keys.create", NULL,
	  NULL },
	{ "GET", DEP "/keys", api_invoke_keys_list, USER, 0, NULL, "deployments.keys.list", NULL, NULL },
	{ "DELETE", DEP "/keys/{id}", api_invoke_keys_revoke, USER, 0, NULL, "deployments.keys.revoke", NULL, NULL },
	{ "POST", DEP "/predict", api_deployments_predict, USER, GW, NULL, "deployments.predict", NULL, NULL },

	/* the inference gateway: Open Inference Protocol (KServe V2); {name} is a deployment */
	{ "GET", "/v2/health/live", api_v2_live, PUB, ATR_RF_NO_AUDIT, NULL, "v2.health.live", NULL, NULL },
	{ "GET", "/v2/health/ready", api_v2_ready, PUB, ATR_RF_NO_AUDIT, NULL, "v2.health.ready", NULL, NULL },
	{ "GET", "/v2/models/{name}", api_v2_model, USER, GW, NULL, "v2.models.get", NULL, NULL },
	{ "GET", "/v2/models/{name}/ready", api_v2_model_ready, USER, GW, NULL, "v2.models.ready", NULL, NULL },
	{ "POST", "/v2/models/{name}/infer", api_v2_infer, USER, GW, NULL, "v2.models.infer", NULL, NULL },
	{ "GET", "/v2/models/{name}/versions/{version}", api_v2_model, USER, GW, NULL, "v2.models.versions.get", NULL,
	  NULL },
	{ "GET", "/v2/models/{name}/versions/{version}/ready", api_v2_model_ready, USER, GW, NULL,
	  "v2.models.versions.ready", NULL, NULL },
	{ "POST", "/v2/models/{name}/versions/{version}/infer", api_v2_infer, USER, GW, NULL,
	  "v2.models.versions.infer", NULL, NULL },
};

const size_t atr_routes_count = sizeof(atr_routes) / sizeof(atr_routes[0]);
