#ifndef ATRIUM_STORE_RUNS_H
#define ATRIUM_STORE_RUNS_H
/* Runs, their parameters and inputs (src/store/runs.c). */
#include "atrium/store.h"

struct atr_run {
	int64_t id;
	int64_t project_id;
	char status[16];
};

struct atr_run_spec {
	int64_t project_id;
	const char *name;
	const json_t *params;  /* string map, may be NULL */
	const json_t *tags;    /* string map, may be NULL */
	const char *status;    /* NULL: running */
	int64_t started_at;    /* 0: now */
	int64_t job_id;        /* 0: none */
	int64_t user_id;
	const int64_t *inputs; /* dataset_versions.id */
	size_t ninputs;
};

int atr_store_run_create(struct atr_store *s, const struct atr_run_spec *spec, int64_t *id_out);
int atr_store_run_get(struct atr_store *s, int64_t id, struct atr_run *out);
/* The run with params, tags, inputs ([{dataset, version, dataset_version_id}]). */
json_t *atr_store_run_json(struct atr_store *s, int64_t id, int *err);
/* Runs of a project, newest first. */
int atr_store_run_list(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr, bool *more);

#endif
