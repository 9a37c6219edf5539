/* access.c: names of project roles and of the resources routes point at (atrium/access.h).
 * The access decision itself is src/api/access.c. */
#include "atrium/access.h"

#include <string.h>

static const char *const role_names[] = { "none", "viewer", "launcher", "editor", "owner" };

enum atr_prole atr_prole_parse(const char *s)
{
	for (int i = 1; s && i <= ATR_PROLE_OWNER; i++)
		if (strcmp(s, role_names[i]) == 0)
			return (enum atr_prole)i;
	return ATR_PROLE_NONE;
}

const char *atr_prole_name(enum atr_prole r)
{
	return role_names[r <= ATR_PROLE_OWNER ? r : 0];
}

const char *atr_res_name(enum atr_res r)
{
	static const char *const names[ATR_RES_COUNT] = {
		[ATR_RES_NONE] = "none",
		[ATR_RES_PROJECT] = "project",
		[ATR_RES_DATASET] = "dataset",
		[ATR_RES_DATASET_VERSION] = "dataset version",
		[ATR_RES_RUN] = "run",
		[ATR_RES_JOB] = "job",
		[ATR_RES_MODEL] = "model",
		[ATR_RES_MODEL_VERSION] = "model version",
		[ATR_RES_MODEL_VERSION_ID] = "model version",
		[ATR_RES_DEPLOYMENT] = "deployment",
		[ATR_RES_PROMOTION] = "promotion",
		[ATR_RES_BENCHMARK] = "benchmark",
		[ATR_RES_EVALUATION] = "evaluation",
		[ATR_RES_COMPETITION] = "competition",
		[ATR_RES_LAUNCHER] = "launcher",
		[ATR_RES_SWEEP] = "sweep",
	};
	return r < ATR_RES_COUNT ? names[r] : "none";
}
