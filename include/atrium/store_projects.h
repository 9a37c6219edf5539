#ifndef ATRIUM_STORE_PROJECTS_H
#define ATRIUM_STORE_PROJECTS_H
/* Projects and members (src/store/projects.c). Access decisions live in src/api/access.c. */
#include "atrium/access.h"
#include "atrium/store.h"

struct atr_project {
	int64_t id;
	char name[64];
	int64_t team_id; /* 0: none */
	bool internal;	 /* visibility 'internal': every user may read */
	bool archived;
};

/* By name, or by id when ref is all digits and no project has that name. */
int atr_store_project_find(struct atr_store *s, const char *ref, struct atr_project *out);
int atr_store_project_get(struct atr_store *s, int64_t id, struct atr_project *out);
/* A project from the columns "id, name, team_id, visibility, archived_at" of a stepped row,
 * the first at col (for queries that join a project to what they read). */
struct sqlite3_stmt;
void atr_store_project_row(struct sqlite3_stmt *st, int col, struct atr_project *out);
/* Creates the project and makes creator its owner, in one transaction. */
int atr_store_project_create(struct atr_store *s, const char *name, const char *description, int64_t team_id,
			     bool internal, const json_t *tags, int64_t creator, int64_t *id_out);
/* The API object; role is the caller's effective role (added as "role"). */
json_t *atr_store_project_json(struct atr_store *s, int64_t id, enum atr_prole role, int *err);
/*
 * Projects the user may read (admin: all), filtered by team id (0: any) and archived
 * (false: only live ones), ordered by id.
 */
int atr_store_project_list(struct atr_store *s, int64_t user_id, bool admin, int64_t team_id, bool archived,
			   const struct atr_page *p, json_t *arr, bool *more);
/* NULL/-1 keep a field. */
int atr_store_project_update(struct atr_store *s, int64_t id, const char *description, int internal, int64_t team_id,
			     const json_t *tags);
int atr_store_project_archive(struct atr_store *s, int64_t id);
/* The user's explicit role in the project (ATR_PROLE_NONE when not a member). */
enum atr_prole atr_store_project_member_role(struct atr_store *s, int64_t project_id, int64_t user_id);
int atr_store_project_member_set(struct atr_store *s, int64_t project_id, int64_t user_id, enum atr_prole role);
int atr_store_project_member_remove(struct atr_store *s, int64_t project_id, int64_t user_id);
int64_t atr_store_project_owner_count(struct atr_store *s, int64_t project_id);
int atr_store_project_members(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr,
			      bool *more);

/* ---- projects as MLflow experiments ---- */
/* A project name made from free text: lowercase letters, digits and '-' (at most 50 bytes). */
void atr_store_project_slug(const char *text, char *out, size_t len);
/* A project for an MLflow experiment: named by a slug of experiment_name (numbered when taken),
 * owned by creator, in team_id (0: none); default_of > 0: that user's Default experiment. */
int atr_store_experiment_create(struct atr_store *s, const char *experiment_name, int64_t team_id, int64_t creator,
				int64_t default_of, int64_t *id_out);
/* The user's Default experiment (MLflow's id 0), made on first use: private, the user its owner. */
int atr_store_project_default(struct atr_store *s, int64_t user_id, const char *username, struct atr_project *out);
/* The project a user sees by that MLflow experiment name (ATR_ENOTFOUND when none). */
int atr_store_experiment_find(struct atr_store *s, const char *experiment_name, int64_t user_id, bool admin,
			      struct atr_project *out);

#endif
