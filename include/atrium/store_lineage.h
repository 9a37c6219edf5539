#ifndef ATRIUM_STORE_LINEAGE_H
#define ATRIUM_STORE_LINEAGE_H
/*
 * Lineage (src/store/lineage.c): what a model version came from, following the links
 * model version -> source run (or the run of its source job) -> the dataset versions that
 * run read -> their files.
 */
#include "atrium/store.h"

/*
 * The lineage of a model version (new reference):
 *   {"model_version": {id, project, model, version, state},
 *    "run": {id, name, status, job_id, params} | null,
 *    "datasets": [{dataset_version_id, project, dataset, version, file_count, total_bytes,
 *                  files: [{path, size, sha256}] (at most max_files, by path), truncated}],
 *    "job": {"id"} | null,
 *    "deployments": [],
 *    "evaluations": [{evaluation_id, benchmark, dataset_version: {id, project, dataset, version},
 *                     primary_metric, primary_value, created_at}]  (newest first)}
 * ATR_ENOTFOUND in *err when the version does not exist.
 */
json_t *atr_store_model_lineage(struct atr_store *s, int64_t version_id, int max_files, int *err);

/*
 * Where a dataset version came from (src/store/dsv_lineage.c), for versions a job wrote
 * (batch inference outputs, training jobs with outputs.dataset); new reference:
 *   {"dataset_version": {id, project, dataset, version, state, source_job_id},
 *    "job": {id, kind, name, state, project} | null,
 *    "model_version": {id, project, model, version} | null   (the model the job ran),
 *    "inputs": [{dataset_version_id, project, dataset, version, as}]  (what the job read)}
 * ATR_ENOTFOUND in *err when the version does not exist.
 */
json_t *atr_store_dsv_lineage(struct atr_store *s, int64_t dsv_id, int *err);

#endif
