#ifndef ATRIUM_STORE_DATASETS_H
#define ATRIUM_STORE_DATASETS_H
/* Datasets and dataset versions (src/store/datasets.c). Files are in store_files.h under
 * owner kind "dataset_version" with the version's row id. */
#include "atrium/store.h"

struct atr_dataset_version {
	int64_t id; /* row id: the files' owner_id, lineage links */
	int64_t dataset_id;
	int64_t version; /* 1, 2, 3 ... */
	bool committed;
};

int atr_store_dataset_create(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			     const json_t *tags, int64_t user_id, int64_t *id_out);
int atr_store_dataset_find(struct atr_store *s, int64_t project_id, const char *name, int64_t *id_out);
/*
 * hide, in the functions that take it: a JSON array of dataset version row ids the caller may
 * not see (a competition's hidden set: api_dsv_hidden_ids), left out of the lists, the counts
 * and "latest" (borrowed; NULL hides nothing).
 */
json_t *atr_store_dataset_json(struct atr_store *s, int64_t id, const json_t *hide, int *err);
int atr_store_dataset_list(struct atr_store *s, int64_t project_id, const json_t *hide, const struct atr_page *p,
			   json_t *arr, bool *more);

/* Next number; with parent > 0 the draft starts with that version's files. ATR_ENOTFOUND: no such parent. */
int atr_store_dsv_create(struct atr_store *s, int64_t dataset_id, const char *message, int64_t parent,
			 int64_t source_job_id, int64_t user_id, struct atr_dataset_version *out);
/* version > 0, or 0 for the latest committed one. */
int atr_store_dsv_find(struct atr_store *s, int64_t dataset_id, int64_t version, struct atr_dataset_version *out);
/* The same, never one of hide ("latest": the newest committed one not in hide). */
int atr_store_dsv_find_visible(struct atr_store *s, int64_t dataset_id, int64_t version, const json_t *hide,
			       struct atr_dataset_version *out);
int atr_store_dsv_get(struct atr_store *s, int64_t id, struct atr_dataset_version *out);
/* Version fields with totals (file_count, total_bytes); files are listed separately. */
json_t *atr_store_dsv_json(struct atr_store *s, int64_t id, int *err);
int atr_store_dsv_list(struct atr_store *s, int64_t dataset_id, const json_t *hide, const struct atr_page *p,
		       json_t *arr, bool *more);
/* Freezes a draft (ATR_ECONFLICT if committed already). */
int atr_store_dsv_commit(struct atr_store *s, int64_t id, int64_t rows, const json_t *schema, const json_t *metadata);
/* Deletes a draft and its files (ATR_ECONFLICT if committed). */
int atr_store_dsv_delete(struct atr_store *s, int64_t id);

#endif
