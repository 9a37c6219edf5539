#ifndef ATRIUM_STORE_FILES_H
#define ATRIUM_STORE_FILES_H
/*
 * Files and blobs (src/store/files.c). A file is (owner_kind, owner_id, path) -> sha256,
 * size; owners are "dataset_version", "run", "model_version" and "job_output". A blob row
 * exists for every sha256 stored under DATA_DIR/blobs; blobs no file points at are garbage.
 */
#include "atrium/store.h"

struct atr_file {
	char sha256[65];
	int64_t size;
};

/* Records the blob (if new) and puts the file, replacing an earlier file at that path. */
int atr_store_file_put(struct atr_store *s, const char *kind, int64_t owner_id, const char *path, const char *sha256,
		       int64_t size);
int atr_store_file_get(struct atr_store *s, const char *kind, int64_t owner_id, const char *path, struct atr_file *out);
int atr_store_file_delete(struct atr_store *s, const char *kind, int64_t owner_id, const char *path);
/* Files of an owner ordered by path; the cursor is the last path (page->after_str). */
int atr_store_file_list(struct atr_store *s, const char *kind, int64_t owner_id, const struct atr_page *p, json_t *arr,
			bool *more);
int atr_store_file_totals(struct atr_store *s, const char *kind, int64_t owner_id, int64_t *count, int64_t *bytes);
int atr_store_files_delete_owner(struct atr_store *s, const char *kind, int64_t owner_id);
/* Points (to_kind, to_id) at the same blobs as (from_kind, from_id); no bytes are copied. */
int atr_store_files_copy(struct atr_store *s, const char *from_kind, int64_t from_id, const char *to_kind,
			 int64_t to_id);
/*
 * The same for the files under prefix only (a '/'-separated path without a leading or
 * trailing '/'; "" or NULL: all of them), renamed relative to it: "model/MLmodel" under
 * "model" becomes "MLmodel"; a file at exactly prefix keeps its base name. *count (may be
 * NULL) gets how many were copied.
 */
int atr_store_files_copy_prefix(struct atr_store *s, const char *from_kind, int64_t from_id, const char *prefix,
				const char *to_kind, int64_t to_id, int64_t *count);
/* How many files of an owner atr_store_files_copy_prefix would copy. */
int atr_store_files_count_prefix(struct atr_store *s, const char *kind, int64_t owner_id, const char *prefix,
				 int64_t *count);
/*
 * {"added": [...], "removed": [...], "changed": [...], "unchanged": N, "truncated": bool}
 * between owner a (the older) and b; each list holds at most max entries.
 */
json_t *atr_store_files_diff(struct atr_store *s, const char *kind, int64_t a, int64_t b, int max, int *err);
/* Whether a blob row exists (and its size). */
bool atr_store_blob_exists(struct atr_store *s, const char *sha256, int64_t *size);
/* Up to max sha256s of blobs no file points at, created before before_ms. */
int atr_store_blobs_garbage(struct atr_store *s, int64_t before_ms, int max, char (*out)[65], int *n);
/* Deletes a blob row if (still) no file points at it; ATR_ECONFLICT when one does. */
int atr_store_blob_forget(struct atr_store *s, const char *sha256, int64_t *size_out);

/*
 * Folders, as MLflow's artifact API sees an owner's files: a path's parts before its last '/'
 * are folders. Each folder costs one indexed seek, never a scan of the files under it.
 */
/* The entries directly inside folder dir ("" the root) in path order, at most max (*more when
 * others follow): {"path": <name>, "is_dir": false, "file_size": <bytes>} for a file,
 * {"path": <name>, "is_dir": true} for a folder. ATR_EINVAL when dir is longer than a path. */
int atr_store_file_children(struct atr_store *s, const char *kind, int64_t owner_id, const char *dir, int max,
			    json_t *arr, bool *more);
/* 1 when a file of the owner lies under folder dir ("dir/..."), 0 when none, or an error. */
int atr_store_file_is_dir(struct atr_store *s, const char *kind, int64_t owner_id, const char *dir);
/* Deletes the file at path and every file under folder path ("" : all of the owner's files);
 * *n (may be NULL) gets how many went. The blobs stay until GC finds nothing points at them. */
int atr_store_files_delete_tree(struct atr_store *s, const char *kind, int64_t owner_id, const char *path, int *n);

#endif
