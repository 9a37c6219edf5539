#ifndef ATRIUM_STORE_TEMPLATES_H
#define ATRIUM_STORE_TEMPLATES_H
/*
 * Project templates and the catalogue (src/store/templates.c, migration 0031): an owner
 * publishes a project as a template (its README, its launchers, references to its datasets
 * and models); admins feature projects; a project made from a template gets a copy of its
 * structure (README, launchers at their latest versions), never its data, and records its
 * origin (projects.origin_project_id) and what it may read of the template's data
 * (template_grants, migration 0040).
 */
#include "atrium/store.h"

/* Publishes (or updates) project_id as a template: its README and what it references
 * (dataset and model ids of the project: borrowed arrays). One transaction. */
int atr_store_template_publish(struct atr_store *s, int64_t project_id, const char *readme, const int64_t *datasets,
			       size_t ndatasets, const int64_t *models, size_t nmodels);
/* No longer a template (its references go; projects made from it keep their origin). */
int atr_store_template_unpublish(struct atr_store *s, int64_t project_id);
/* Featured in the catalogue (true) or not. */
int atr_store_project_feature(struct atr_store *s, int64_t project_id, bool featured);
/* The template named ref (a project name or id): ATR_ENOTFOUND when none is published so. */
int atr_store_template_find(struct atr_store *s, const char *ref, int64_t *id_out);
/* Copies the template's README and launchers (each at its latest version, as version 1) into
 * project to_id and records the origin (in the caller's transaction, or its own). */
int atr_store_template_copy(struct atr_store *s, int64_t from_id, int64_t to_id, int64_t user_id);
/* Whether the dataset or model (kind "dataset"/"model", ref_id) is shared, by a template,
 * with a project that user_id is a member of, or with project_id (a job's project; 0: none):
 * recorded in template_grants when that project was made from the template. Reading only. */
int atr_store_template_granted(struct atr_store *s, const char *kind, int64_t ref_id, int64_t user_id,
			       int64_t project_id, bool *out);
/*
 * The catalogue, newest first: published templates (any signed-in user sees them: publishing
 * shares the structure) and featured projects the viewer may read (viewer_id, admin). q (may be
 * NULL): an FTS5 expression of the search (atr_search_expr) over search_index: a template's
 * name, description, tags and README, a featured project's name, description and tags. Items: {id, name, description, readme,
 * team, template, featured, launchers: [names], datasets: [names], models: [names], copies}.
 */
int atr_store_template_list(struct atr_store *s, int64_t viewer_id, bool admin, const char *q, const struct atr_page *p,
			    json_t *arr, bool *more);
/* One project's template view (the catalogue's item), whether or not it is published. */
json_t *atr_store_template_json(struct atr_store *s, int64_t project_id, int *err);

#endif
