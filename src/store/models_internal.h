#ifndef ATRIUM_STORE_MODELS_INTERNAL_H
#define ATRIUM_STORE_MODELS_INTERNAL_H
/* Private to the model registry's store files (models.c, model_versions.c, promotions.c,
 * model_search.c): the model history writer and the MLflow fragments. */
#include "atrium/db.h"
#include "atrium/store_models.h"

struct model_event {
	int64_t model_id;
	const char *kind;     /* one of the kinds in migrations/0005_models.sql */
	int64_t version;      /* 0: none */
	const char *alias;    /* NULL: none */
	int64_t from_version; /* 0: none */
	int64_t promotion_id; /* 0: none */
	const char *actor;
	const char *comment;
};

int atr_store_model_event_add(struct atr_store *s, const struct model_event *e);

/*
 * MLflow's answers (models.c, model_versions.c, model_search.c) depend on who reads: a
 * statement binds the viewer (struct atr_model_viewer) as ?1 (user id), ?2 (admin) and ?3 (a
 * job's project, 0 for users), and these fragments read them. MODEL_VISIBLE(P): the caller may
 * read the project P (access.c's rule: admins every project, a job its own, users the internal
 * ones and those they are members of); MODEL_VISIBLE_P for the project "p". MODEL_AMBIGUOUS:
 * the caller may read more than one model named as the model "m", so MLflow shows it as
 * "project/model".
 */
#define MODEL_VISIBLE(P)                                                                              \
	"(?2 OR " P ".id = ?3 OR (?3 = 0 AND (" P ".visibility = 'internal' OR EXISTS (SELECT 1 FROM" \
	" project_members pm WHERE pm.project_id = " P ".id AND pm.user_id = ?1))))"
#define MODEL_VISIBLE_P MODEL_VISIBLE("p")
#define MODEL_AMBIGUOUS                                                                                      \
	"((SELECT count(*) FROM models m2 JOIN projects p2 ON p2.id = m2.project_id WHERE m2.name = m.name " \
	"AND " MODEL_VISIBLE("p2") ") > 1)"
void atr_store_model_bind_viewer(sqlite3_stmt *st, const struct atr_model_viewer *v);
/* One row of sql (its viewer in ?1-?3, the row's id in ?4) as an object, or NULL (*err). */
json_t *atr_store_model_viewer_one(struct atr_store *s, const char *sql, const struct atr_model_viewer *v, int64_t id,
				   int *err);
/* Marks a version (and its model) changed now: MLflow's last_updated_timestamp. */
int atr_store_model_version_touch(struct atr_store *s, int64_t version_id);

#endif
