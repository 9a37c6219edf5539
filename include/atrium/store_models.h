#ifndef ATRIUM_STORE_MODELS_H
#define ATRIUM_STORE_MODELS_H
/*
 * The model registry (src/store/models.c): registered models, their versions, aliases,
 * promotion requests and each model's history. Version files are in store_files.h under
 * owner kind "model_version" with the version's row id. Access decisions are the caller's
 * (src/api/); these functions only keep the tables consistent.
 *
 * Every mutating function records its event in the model's history (model_events) in the
 * same transaction; `actor` is what the history shows as who did it ("alice", "job:12";
 * NULL: nobody in particular).
 *
 * For the jobs work: a job that produced a model registers it with
 *
 *     struct atr_model_version_spec spec = {
 *         .model_id = m.id, .source_run_id = run_id, .source_job_id = job_id,
 *         .copy_from_kind = "job_output", .copy_from_id = job_id, .commit = true,
 *         .actor = "job:12",
 *     };
 *     atr_store_model_find_or_create(s, project_id, "resnet", NULL, &m);
 *     atr_store_model_version_create(s, &spec, &v);
 *
 * which makes the next version, points it at the job's files (no bytes copied) and freezes
 * it, all in one transaction.
 */
#include "atrium/store.h"

/* The alias only owners (and admins) may move directly; editors ask through a promotion. */
#define ATR_ALIAS_PROTECTED "production"

struct atr_model {
	int64_t id;
	int64_t project_id;
	char name[64];
};

struct atr_model_version {
	int64_t id; /* row id: the files' owner_id, lineage, /api/v1/model-versions/{id} */
	int64_t model_id;
	int64_t version; /* 1, 2, 3 ... */
	bool committed;
};

/* ---- models ---- */

/* ATR_ECONFLICT when the name exists in the project. user_id 0: none. */
int atr_store_model_create(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			   const json_t *tags, int64_t user_id, const char *actor, int64_t *id_out);
int atr_store_model_find(struct atr_store *s, int64_t project_id, const char *name, struct atr_model *out);
/* The model named `name` in the project, created (empty description, no tags) when missing. */
int atr_store_model_find_or_create(struct atr_store *s, int64_t project_id, const char *name, const char *actor,
				   struct atr_model *out);
int atr_store_model_get(struct atr_store *s, int64_t id, struct atr_model *out);
/* A model by name among the projects the user may read (MLflow's registered model names are
 * global): the first in *out and how many match (at most 2: more than one is ambiguous). */
int atr_store_model_find_visible(struct atr_store *s, const char *name, int64_t user_id, bool admin,
				 struct atr_model *out, int *count);
/* NULL keeps a field. */
int atr_store_model_update(struct atr_store *s, int64_t id, const char *description, const json_t *tags);
/*
 * The API object (new reference): id, name, project, description, tags, created_by, times,
 * version_count, latest_version (newest committed number or null), aliases {alias: number}.
 */
json_t *atr_store_model_json(struct atr_store *s, int64_t id, int *err);
/* Models of a project, by id. */
int atr_store_model_list(struct atr_store *s, int64_t project_id, const struct atr_page *p, json_t *arr, bool *more);
/* The model's history, newest first (cursor: event id). */
int atr_store_model_history(struct atr_store *s, int64_t model_id, const struct atr_page *p, json_t *arr, bool *more);

/* ---- versions ---- */

struct atr_model_version_spec {
	int64_t model_id;
	const char *description;    /* NULL: "" */
	const char *framework;	    /* NULL: "" */
	const json_t *signature;    /* any JSON, borrowed; NULL: none */
	int64_t source_run_id;	    /* 0: none */
	int64_t source_job_id;	    /* 0: none */
	int64_t user_id;	    /* 0: none (a job) */
	const char *actor;	    /* for the history */
	const char *copy_from_kind; /* with copy_from_id: start with that owner's files */
	int64_t copy_from_id;
	bool commit; /* freeze it at once (after the copy) */
	/* MLflow's (src/api/mlflow_versions.c; zero for Atrium's own versions): */
	const char *copy_prefix; /* with copy_from_*: only the files under this path, see atr_store_files_copy_prefix */
	const char *source_uri;	 /* MLflow's source; NULL: "" */
	const char *run_link;	 /* NULL: "" */
	const json_t *kv_tags;	 /* MLflow's key/value tags, a string map (borrowed); NULL: none */
};

/*
 * Makes the model's next version (numbers are never reused), optionally starting with the
 * files of another owner (atr_store_files_copy) and committed at once. One transaction.
 */
int atr_store_model_version_create(struct atr_store *s, const struct atr_model_version_spec *spec,
				   struct atr_model_version *out);
int atr_store_model_version_get(struct atr_store *s, int64_t id, struct atr_model_version *out);
/* The number of a version row (0 when id is 0 or unknown). */
int64_t atr_store_model_version_number(struct atr_store *s, int64_t id);
/*
 * ref: a version number ("3"), "latest" (the newest committed version) or an alias name.
 * ATR_ENOTFOUND when nothing matches.
 */
int atr_store_model_version_resolve(struct atr_store *s, int64_t model_id, const char *ref,
				    struct atr_model_version *out);
/*
 * The API object (new reference): id, model, project, version, description, framework,
 * signature, source_run, source_job_id, state, aliases [names], created_by, created_at,
 * committed_at, file_count, total_bytes.
 */
json_t *atr_store_model_version_json(struct atr_store *s, int64_t id, int *err);
/* Versions of a model, oldest first. */
int atr_store_model_version_list(struct atr_store *s, int64_t model_id, const struct atr_page *p, json_t *arr,
				 bool *more);
/* Freezes a draft; ATR_ECONFLICT when committed already. */
int atr_store_model_version_commit(struct atr_store *s, int64_t id, const char *actor);
/*
 * Deletes a version and its files rows (the bytes are left to the garbage collector) and
 * cancels its pending promotions. ATR_ECONFLICT, with the alias copied to alias_out (64
 * bytes), when an alias points at it.
 */
int atr_store_model_version_delete(struct atr_store *s, int64_t id, const char *actor, char *alias_out);

/* ---- aliases ---- */

/* The version an alias points at (ATR_ENOTFOUND when unset). */
int atr_store_model_alias_get(struct atr_store *s, int64_t model_id, const char *alias, int64_t *version_id);
/*
 * Points alias at a committed version (ATR_ECONFLICT for a draft), atomically replacing the
 * previous target, whose row id goes to *from_id (0: was unset). promotion_id (0: none) is
 * recorded in the history. An unchanged alias records nothing. A move of `production` that
 * the model's evaluation gate does not allow is ATR_ECONFLICT too (atr_store_gate_check).
 */
int atr_store_model_alias_set(struct atr_store *s, int64_t model_id, const char *alias, int64_t version_id,
			      const char *actor, int64_t promotion_id, int64_t *from_id);
/* Removes an alias (ATR_ENOTFOUND when unset); *from_id gets the version it pointed at. */
int atr_store_model_alias_delete(struct atr_store *s, int64_t model_id, const char *alias, const char *actor,
				 int64_t *from_id);

/* ---- promotions ---- */

struct atr_promotion {
	int64_t id;
	int64_t model_id;
	int64_t project_id;
	int64_t version_id; /* 0 once the version was deleted */
	int64_t version;
	char alias[64];
	char state[16]; /* pending, approved, rejected, cancelled */
};

/* A pending request to point alias at a committed version (ATR_ECONFLICT for a draft). */
int atr_store_promotion_create(struct atr_store *s, int64_t version_id, const char *alias, const char *comment,
			       int64_t user_id, const char *actor, int64_t *id_out);
int atr_store_promotion_get(struct atr_store *s, int64_t id, struct atr_promotion *out);
/* id, project, model, version, version_id, alias, state, comment, requested_by/at, decided_by/at, decision_comment. */
json_t *atr_store_promotion_json(struct atr_store *s, int64_t id, int *err);
/*
 * Approves (moving the alias, in the same transaction) or rejects a pending promotion.
 * ATR_ECONFLICT when it is not pending any more (or its version is gone). *from_id: as in
 * atr_store_model_alias_set (approvals only; may be NULL).
 */
int atr_store_promotion_decide(struct atr_store *s, int64_t id, bool approve, int64_t user_id, const char *actor,
			       const char *comment, int64_t *from_id);

struct atr_promotion_filter {
	int64_t project_id; /* > 0: that project's promotions */
	int64_t model_id;   /* > 0: that model's only */
	const char *state;  /* NULL: any */
	/* project_id == 0: only promotions this user may decide (owners: any alias; editors:
	 * unprotected aliases); admin: all of them */
	int64_t decider_id;
	bool admin;
};
/* Newest first (cursor: id). */
int atr_store_promotion_list(struct atr_store *s, const struct atr_promotion_filter *f, const struct atr_page *p,
			     json_t *arr, bool *more);

/* ---- MLflow's model registry (src/api/mlflow_registry*.c) ----
 * The same models and versions, with what MLflow has beside Atrium's columns: key/value tags
 * (kv_tags), a version's source URI, run link and last change, and the Archived stage
 * (migrations 0015 and 0017). MLflow's stages Staging and Production are the aliases
 * `staging` and `production`; a version's stage is derived from its aliases. */

/* Who reads an MLflow answer: what they may see (and so whether a model's plain name is
 * ambiguous for them). */
struct atr_model_viewer {
	int64_t user_id;    /* a user; 0: none */
	bool admin;	    /* sees every project */
	int64_t project_id; /* > 0: a job's token, which sees its own project only */
};

/* MLflow's stages, in the order of the `stages` of atr_store_model_latest_by_stage. */
enum atr_model_stage { ATR_STAGE_NONE, ATR_STAGE_STAGING, ATR_STAGE_PRODUCTION, ATR_STAGE_ARCHIVED, ATR_STAGE_COUNT };
#define ATR_ALIAS_STAGING "staging"

/* The project of the user's most recently created run (deleted runs and archived projects
 * aside): where a model registered by a plain MLflow name goes. ATR_ENOTFOUND when none. */
int atr_store_model_latest_run_project(struct atr_store *s, int64_t user_id, int64_t *project_id);
/* atr_store_model_create with MLflow's key/value tags (a string map, borrowed; NULL: none),
 * in one transaction. */
int atr_store_model_create_kv(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			      const json_t *kv_tags, int64_t user_id, const char *actor, int64_t *id_out);
/* Renames a model within its project (ATR_ECONFLICT when the name is taken there); the
 * history records it (model_renamed, the old name in its comment). */
int atr_store_model_rename(struct atr_store *s, int64_t id, const char *new_name, const char *actor);
/*
 * Deletes a model with its versions (and their files rows: the bytes are left to the garbage
 * collector), promotions and history, in one transaction. ATR_ECONFLICT, with the reason in
 * why ("alias 'production' points at version 3", "deployment 'web' uses it"), when an alias
 * points at one of its versions or a deployment is made of it. Whether a running deployment
 * serves a version is asked of the hooks first (atr_models_version_deletable, by the caller).
 */
int atr_store_model_delete(struct atr_store *s, int64_t id, char *why, size_t whylen);
/* The row ids of a model's versions, oldest first, appended to arr as integers. */
int atr_store_model_version_ids(struct atr_store *s, int64_t model_id, json_t *arr);
/* Sets (value a string) or removes (value NULL) one key/value tag of a model or a version,
 * and marks it updated. Removing a tag that is not there changes nothing else. */
int atr_store_model_kv_tag(struct atr_store *s, int64_t model_id, const char *key, const char *value);
int atr_store_model_version_kv_tag(struct atr_store *s, int64_t version_id, const char *key, const char *value);
/* A version's description (MLflow's model-versions/update), marking it updated. */
int atr_store_model_version_describe(struct atr_store *s, int64_t version_id, const char *description);
/* Puts a version in MLflow's Archived stage (archived true) or takes it out, marking it updated. */
int atr_store_model_version_archive(struct atr_store *s, int64_t version_id, bool archived);
/*
 * The newest version of each stage (row ids, 0: none), as MLflow's latest_versions: Production
 * and Staging are what the aliases `production` and `staging` point at (a version with both is
 * in Production), Archived the newest archived version without either, None the newest of the
 * rest (drafts included).
 */
int atr_store_model_latest_by_stage(struct atr_store *s, int64_t model_id, int64_t stages[ATR_STAGE_COUNT]);
/*
 * What MLflow's objects are made of (new references; NULL with *err on failure). A model: id,
 * name, project, ambiguous (the viewer may read more than one model of this name),
 * creation_timestamp and last_updated_timestamp (ms), user_id (the creator's name),
 * description, tags {key: value}, aliases [{alias, version (a string)}] by alias.
 */
json_t *atr_store_model_mlflow_json(struct atr_store *s, int64_t id, const struct atr_model_viewer *v, int *err);
/*
 * A version: id, model, project, ambiguous, version, creation_timestamp, last_updated_timestamp,
 * user_id, description, source, run_id (the MLflow id of its source run), state, tags,
 * run_link, aliases [names] by name, archived, file_count.
 */
json_t *atr_store_model_version_mlflow_json(struct atr_store *s, int64_t id, const struct atr_model_viewer *v,
					    int *err);

/*
 * MLflow's registry searches (src/store/model_search.c): a filter of clauses joined by AND,
 * parsed by the API (src/api/mlflow_registry_search.c), turned here into SQL of fixed
 * fragments with bound values.
 */
enum atr_mlq_field {
	ATR_MLQ_NAME,	 /* the model's name ("project/model" compares the qualified name with = and !=) */
	ATR_MLQ_RUN_ID,	 /* versions: the MLflow id of the source run */
	ATR_MLQ_SOURCE,	 /* versions: the source URI (MLflow's source_path) */
	ATR_MLQ_VERSION, /* versions: the number */
	ATR_MLQ_TAG,	 /* tags.<key>: a key/value tag (of the model, or of the version) */
};
enum atr_mlq_op {
	ATR_MLQ_EQ,
	ATR_MLQ_NE,
	ATR_MLQ_LT,
	ATR_MLQ_LE,
	ATR_MLQ_GT,
	ATR_MLQ_GE,
	ATR_MLQ_LIKE,  /* SQL's LIKE, case-sensitive: % any run, _ one character */
	ATR_MLQ_ILIKE, /* the same, ignoring the case of ASCII letters */
	ATR_MLQ_IN,    /* one of list */
};
enum atr_mlq_order { ATR_MLQ_BY_NAME, ATR_MLQ_BY_VERSION, ATR_MLQ_BY_CREATED, ATR_MLQ_BY_UPDATED };

#define ATR_MLQ_MAX_CLAUSES 16
#define ATR_MLQ_MAX_LIST 100 /* values of an IN list */
#define ATR_MLQ_MAX_ORDER 4

struct atr_mlq_clause {
	enum atr_mlq_field field;
	enum atr_mlq_op op;
	const char *key; /* ATR_MLQ_TAG: the tag's key (borrowed) */
	const char *str; /* the value, text (borrowed) */
	int64_t num;	 /* ATR_MLQ_VERSION: the value */
	const char *list[ATR_MLQ_MAX_LIST];
	int nlist; /* ATR_MLQ_IN */
};

struct atr_mlq {
	struct atr_mlq_clause c[ATR_MLQ_MAX_CLAUSES];
	int n;
	struct {
		enum atr_mlq_order by;
		bool desc;
	} order[ATR_MLQ_MAX_ORDER];
	int norder;
};

/*
 * Models (versions) the viewer may read that match q, in q's order and then by name (and
 * version number, newest first), from offset: at most limit row ids into ids, *n of them;
 * *more when another follows.
 */
int atr_store_model_mlflow_search(struct atr_store *s, const struct atr_mlq *q, const struct atr_model_viewer *v,
				  int64_t offset, int limit, int64_t *ids, int *n, bool *more);
int atr_store_model_version_mlflow_search(struct atr_store *s, const struct atr_mlq *q,
					  const struct atr_model_viewer *v, int64_t offset, int limit, int64_t *ids,
					  int *n, bool *more);

#endif
