#ifndef ATRIUM_STORE_LAUNCHERS_H
#define ATRIUM_STORE_LAUNCHERS_H
/*
 * Launchers, their versions and the jobs they submitted (src/store/launchers.c). What a valid
 * spec or parameter is, is decided above (atrium/launch_params.h, src/api/launchers.c).
 */
#include "atrium/store.h"

struct atr_launcher {
	int64_t id, project_id;
	char name[64];
	int64_t latest_version;
	bool archived;
};

/* Creates the launcher and its version 1 in one transaction; ATR_ECONFLICT when the project
 * has one of that name. spec, params: borrowed. */
int atr_store_launcher_create(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			      const json_t *spec, const json_t *params, int64_t user_id, int64_t *id_out);
/* Adds version latest+1 (and makes it the latest): *version_out. */
int atr_store_launcher_add_version(struct atr_store *s, int64_t launcher_id, const char *description,
				   const json_t *spec, const json_t *params, int64_t user_id, int64_t *version_out);
/* By name, or by id when ref is all digits and no launcher has that name. */
int atr_store_launcher_find(struct atr_store *s, int64_t project_id, const char *ref, struct atr_launcher *out);
/* A version (0: the latest): *spec and *params are new references. */
int atr_store_launcher_version(struct atr_store *s, int64_t launcher_id, int64_t version, int64_t *version_out,
			       json_t **spec, json_t **params);
/* Archives (true) or restores (false). */
int atr_store_launcher_archive(struct atr_store *s, int64_t launcher_id, bool archived);

/* The API object: the launcher with its latest version (spec, parameters) and its job count. */
json_t *atr_store_launcher_json(struct atr_store *s, int64_t launcher_id, int *err);
/* A project's launchers, by name (newest id first pages: keyed on id); archived ones only
 * when with_archived. */
int atr_store_launcher_list(struct atr_store *s, int64_t project_id, bool with_archived, const struct atr_page *p,
			    json_t *arr, bool *more);
/* A launcher's versions, newest first ({id, version, description, spec, parameters, ...}). */
int atr_store_launcher_versions(struct atr_store *s, int64_t launcher_id, const struct atr_page *p, json_t *arr,
				bool *more);
/* Records that a launcher submitted a job (in the job's submitting transaction). */
int atr_store_launcher_job_add(struct atr_store *s, int64_t job_id, int64_t launcher_id, int64_t version,
			       const json_t *values, int64_t user_id);
/* The jobs a launcher submitted, newest first: {job_id, version, values, state, run_id, ...}. */
int atr_store_launcher_jobs(struct atr_store *s, int64_t launcher_id, const struct atr_page *p, json_t *arr,
			    bool *more);
/* What launched a job: {name, version, values}, or NULL (*err ATR_ENOTFOUND) when none did. */
json_t *atr_store_job_launcher(struct atr_store *s, int64_t job_id, int *err);

#endif
