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
 * "KILLED" (and "SCHEDULED" -> "running"). NULL for an unknown name. */
const char *api_mlflow_status_to_atrium(const char *mlflow);
const char *api_mlflow_status_from_atrium(const char *atrium);

#endif
