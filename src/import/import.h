/* import.h: the state of one `atrium import-mlflow` (src/import/), shared by its files. */
#ifndef ATRIUM_IMPORT_IMPORT_H
#define ATRIUM_IMPORT_IMPORT_H

#include "mlf_http.h"

#include <stdbool.h>

#define IMP_SOURCE_RUN_TAG "atrium.import.source_run"
#define IMP_COMPLETE_TAG "atrium.import.complete"
#define IMP_SOURCE_VERSION_TAG "atrium.import.source_version"

struct imp {
	struct mlf_ep src, dst;
	const char *team;
	const char **experiments; /* --experiment names; none: all */
	int n_experiments;
	bool dry_run;
	json_t *run_map;  /* source run id -> Atrium run id (strings) */
	json_t *run_exp;  /* source run id -> Atrium experiment id */
	json_t *failures; /* strings: what could not be copied, and why */
	long exp_new, exp_seen, runs_new, runs_seen, params, tags, points, files, models_new, models_seen;
	long versions_new, versions_seen, aliases;
	long long bytes;
};

void imp_fail(struct imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON call that must succeed (2xx): else the failure is recorded with `what` and -1. */
int imp_call(struct imp *im, struct mlf_ep *ep, const char *method, const char *path, json_t *body, json_t **out,
	     const char *what);
int imp_artifacts(struct imp *im, const json_t *run, const char *dst_exp, const char *dst_run);
int imp_models(struct imp *im);

#endif
