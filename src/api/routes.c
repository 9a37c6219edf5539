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
	{"GET", "/healthz", api_healthz, PUB, 0, NULL, "healthz", NULL, NULL},
	{"GET", "/readyz", api_readyz, PUB, 0, NULL, "readyz", NULL, NULL},
	{"GET", "/metrics", api_metrics, PUB, 0, NULL, "metrics", NULL, NULL},
	{"GET", "/api/v1/version", api_version, PUB, 0, NULL, "version", NULL, NULL},
	{"POST", "/api/v1/admin/backup", api_admin_backup, ADMIN, 0, atr_schema_empty, "admin.backup", NULL, NULL},

	/* identity */
	{"POST", "/api/v1/auth/login", api_auth_login, PUB, 0, api_login_schema, "auth.login", NULL, NULL},
	{"GET", "/api/v1/users", api_users_list, ADMIN, 0, NULL, "users.list", NULL, NULL},
	{"POST", "/api/v1/users", api_users_create, ADMIN, 0, api_user_create_schema, "users.create", NULL, NULL},
	{"GET", "/api/v1/users/me", api_users_me, USER, ATR_RF_JOB_OK, NULL, "users.me", NULL, NULL},
	{"GET", "/api/v1/users/{user}", api_users_get, ADMIN, 0, NULL, "users.get", NULL, NULL},
	{"PATCH", "/api/v1/users/{user}", api_users_patch, ADMIN, 0, api_user_patch_schema, "users.update", NULL, NULL},
	{"POST", "/api/v1/users/{user}/tokens", api_users_token_create, ADMIN, 0, api_token_create_schema,
	 "users.tokens.create", NULL, NULL},
	{"GET", "/api/v1/tokens", api_tokens_list, USER, 0, NULL, "tokens.list", NULL, NULL},
	{"POST", "/api/v1/tokens", api_tokens_create, USER, 0, api_token_create_schema, "tokens.create", NULL, NULL},
	{"DELETE", "/api/v1/tokens/{id}", api_tokens_delete, USER, 0, NULL, "tokens.revoke", NULL, NULL},
	{"GET", "/api/v1/teams", api_teams_list, USER, 0, NULL, "teams.list", NULL, NULL},
	{"POST", "/api/v1/teams", api_teams_create, ADMIN, 0, api_team_create_schema, "teams.create", NULL, NULL},
	{"GET", "/api/v1/teams/{team}", api_teams_get, USER, 0, NULL, "teams.get", NULL, NULL},
	{"PATCH", "/api/v1/teams/{team}", api_teams_patch, ADMIN, 0, api_team_patch_schema, "teams.update", NULL, NULL},
	{"PUT", "/api/v1/teams/{team}/members/{user}", api_teams_member_put, USER, 0, api_team_member_schema,
	 "teams.members.set", NULL, NULL},
	{"DELETE", "/api/v1/teams/{team}/members/{user}", api_teams_member_delete, USER, 0, NULL,
	 "teams.members.remove", NULL, NULL},
	{"GET", "/api/v1/audit", api_audit_list, ADMIN, 0, NULL, "audit.list", NULL, NULL},

	/* projects */
	{"GET", "/api/v1/projects", api_projects_list, USER, 0, NULL, "projects.list", NULL, NULL},
	{"POST", "/api/v1/projects", api_projects_create, USER, 0, api_project_create_schema, "projects.create", NULL, NULL},
	{"GET", "/api/v1/projects/{project}", api_projects_get, USER, ATR_RF_JOB_OK, NULL, "projects.get", NULL, NULL},
	{"PATCH", "/api/v1/projects/{project}", api_projects_patch, USER, 0, api_project_patch_schema, "projects.update",
	 NULL, NULL},
	{"DELETE", "/api/v1/projects/{project}", api_projects_delete, USER, 0, NULL, "projects.archive", NULL, NULL},
	{"GET", "/api/v1/projects/{project}/members", api_projects_members, USER, 0, NULL, "projects.members.list", NULL,
	 NULL},
	{"PUT", "/api/v1/projects/{project}/members/{user}", api_projects_member_put, USER, 0, api_project_member_schema,
	 "projects.members.set", NULL, NULL},
	{"DELETE", "/api/v1/projects/{project}/members/{user}", api_projects_member_delete, USER, 0, NULL,
	 "projects.members.remove", NULL, NULL},

	/* datasets */
#define DS "/api/v1/projects/{project}/datasets"
#define DSV DS "/{dataset}/versions/{version}"
	{"GET", DS, api_datasets_list, USER, ATR_RF_JOB_OK, NULL, "datasets.list", NULL, NULL},
	{"POST", DS, api_datasets_create, USER, ATR_RF_JOB_OK, api_dataset_create_schema, "datasets.create", NULL, NULL},
	{"GET", DS "/{dataset}", api_datasets_get, USER, ATR_RF_JOB_OK, NULL, "datasets.get", NULL, NULL},
	{"GET", DS "/{dataset}/versions", api_dsv_list, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.list", NULL, NULL},
	{"POST", DS "/{dataset}/versions", api_dsv_create, USER, ATR_RF_JOB_OK | ATR_RF_IDEMPOTENT, api_dsv_create_schema,
	 "datasets.versions.create", NULL, NULL},
	{"GET", DSV, api_dsv_get, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.get", NULL, NULL},
	{"DELETE", DSV, api_dsv_delete, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.delete", NULL, NULL},
	{"POST", DSV "/commit", api_dsv_commit, USER, ATR_RF_JOB_OK, api_dsv_commit_schema, "datasets.versions.commit",
	 NULL, NULL},
	{"GET", DSV "/diff", api_dsv_diff, USER, ATR_RF_JOB_OK, NULL, "datasets.versions.diff", NULL, NULL},
	{"GET", DSV "/files", api_dsv_files, USER, ATR_RF_JOB_OK, NULL, "datasets.files.list", NULL, NULL},
	{"PUT", DSV "/files/{path...}", api_dsv_file_put, USER, ATR_RF_JOB_OK | ATR_RF_STREAM, NULL, "datasets.files.put",
	 api_dsv_file_begin, api_dsv_file_chunk},
	{"GET", DSV "/files/{path...}", api_dsv_file_get, USER, ATR_RF_JOB_OK, NULL, "datasets.files.get", NULL, NULL},
	{"DELETE", DSV "/files/{path...}", api_dsv_file_delete, USER, ATR_RF_JOB_OK, NULL, "datasets.files.delete", NULL,
	 NULL},

	/* runs */
	{"GET", "/api/v1/projects/{project}/runs", api_runs_list, USER, ATR_RF_JOB_OK, NULL, "runs.list", NULL, NULL},
	{"POST", "/api/v1/projects/{project}/runs", api_runs_create, USER, ATR_RF_JOB_OK | ATR_RF_IDEMPOTENT,
	 api_run_create_schema, "runs.create", NULL, NULL},
#define RUN "/api/v1/runs/{run}"
	{"GET", RUN, api_runs_get, USER, ATR_RF_JOB_OK, NULL, "runs.get", NULL, NULL},
	{"PATCH", RUN, api_runs_patch, USER, ATR_RF_JOB_OK, api_run_patch_schema, "runs.update", NULL, NULL},
	{"DELETE", RUN, api_runs_delete, USER, 0, NULL, "runs.delete", NULL, NULL},
	{"GET", RUN "/metrics", api_run_metrics_list, USER, ATR_RF_JOB_OK, NULL, "runs.metrics.list", NULL, NULL},
	{"POST", RUN "/metrics", api_run_metrics_log, USER, ATR_RF_JOB_OK | ATR_RF_NO_AUDIT | ATR_RF_RAW_BODY, NULL,
	 "runs.metrics.log", NULL, NULL},
	{"GET", RUN "/metrics/{key}", api_run_metric_get, USER, ATR_RF_JOB_OK, NULL, "runs.metrics.get", NULL, NULL},
	{"GET", RUN "/artifacts", api_run_artifacts_list, USER, ATR_RF_JOB_OK, NULL, "runs.artifacts.list", NULL, NULL},
	{"PUT", RUN "/artifacts/{path...}", api_run_artifact_put, USER, ATR_RF_JOB_OK | ATR_RF_STREAM, NULL,
	 "runs.artifacts.put", api_run_artifact_begin, api_upload_chunk},
	{"GET", RUN "/artifacts/{path...}", api_run_artifact_get, USER, ATR_RF_JOB_OK, NULL, "runs.artifacts.get", NULL,
	 NULL},
	{"DELETE", RUN "/artifacts/{path...}", api_run_artifact_delete, USER, ATR_RF_JOB_OK, NULL,
	 "runs.artifacts.delete", NULL, NULL},
};

const size_t atr_routes_count = sizeof(atr_routes) / sizeof(atr_routes[0]);
