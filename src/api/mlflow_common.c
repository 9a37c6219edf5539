/*
 * mlflow_common.c: the small things every part of the MLflow API shares (see mlflow.h):
 * artifact URIs and run status names.
 */
#include "mlflow.h"

#include <stdio.h>
#include <string.h>

void api_mlflow_artifact_uri(int64_t project_id, const char *run_uuid, char *out, size_t len)
{
	snprintf(out, len, "mlflow-artifacts:/%lld/%s/artifacts", (long long)project_id, run_uuid);
}

static const char *const statuses[][2] = {
	{ "SCHEDULED", "queued" }, { "RUNNING", "running" }, { "FINISHED", "finished" },
	{ "FAILED", "failed" },	   { "KILLED", "killed" },
};

const char *api_mlflow_status_to_atrium(const char *mlflow)
{
	for (size_t i = 0; mlflow && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(statuses[i][0], mlflow) == 0)
			return statuses[i][1];
	return NULL;
}

const char *api_mlflow_status_from_atrium(const char *atrium)
{
	for (size_t i = 0; atrium && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(statuses[i][1], atrium) == 0)
			return statuses[i][0];
	return "RUNNING";
}
