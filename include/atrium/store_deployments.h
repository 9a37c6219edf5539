#ifndef ATRIUM_STORE_DEPLOYMENTS_H
#define ATRIUM_STORE_DEPLOYMENTS_H
/*
 * Deployments (src/store/deployments.c), their rollouts, history and replica generations,
 * captured predictions (src/store/predictions.c) and invoke keys (src/store/invoke_keys.c).
 * The controller (src/deploy/) decides and keeps the live state; these functions persist
 * what must survive a restart and answer the lists.
 */
#include "atrium/store.h"

/* ---- deployments ---- */

#define ATR_DEP_NAME_MAX 64
#define ATR_DEP_PATH_MAX 256

/*
 * One deployments row. The json_t members are owned references (released by
 * atr_store_deployment_row_release); strings are copies.
 */
struct atr_deployment_row {
	int64_t id, project_id, model_id, created_by, created_at;
	char name[ATR_DEP_NAME_MAX];
	char follow_alias[64];			       /* "" when pinned */
	int64_t version_id, version;		       /* the stable version (0: none yet) */
	int64_t previous_version_id, previous_version; /* what a rollback goes back to (0: none) */
	int replicas;
	json_t *command, *env, *resources, *labels;
	char health_path[ATR_DEP_PATH_MAX];
	char predict_path[ATR_DEP_PATH_MAX];
	int64_t timeout_ms, rollout_timeout_s;
	double sample_rate;
	int64_t capture_max_bytes, capture_max_rows, capture_max_age_s;
	int64_t generation;
	json_t *traffic; /* [{version_id, version, generation, weight, replicas, surge}] */
	char state[16];
	char message[512];
	int64_t rollout_id;
};

void atr_deployment_row_release(struct atr_deployment_row *row);
/* Inserts row (its id is set); ATR_ECONFLICT when the name is taken. */
int atr_store_deployment_insert(struct atr_store *s, struct atr_deployment_row *row);
/* Writes every mutable column of row (by row->id). */
int atr_store_deployment_save(struct atr_store *s, const struct atr_deployment_row *row);
/* Reads a row (release it). ATR_ENOTFOUND. */
int atr_store_deployment_load(struct atr_store *s, int64_t id, struct atr_deployment_row *out);
/* Deletes the deployment with its rollouts, history, replica rows and predictions. */
int atr_store_deployment_delete(struct atr_store *s, int64_t id);
/* Every deployment id, ascending, into *ids (malloc'd; free it). */
int atr_store_deployment_ids(struct atr_store *s, int64_t **ids, size_t *n);
/* Which deployments a list holds: 0 / NULL fields do not filter. */
struct atr_deployment_filter {
	int64_t project_id;
	const char *state;  /* deploying, ready, degraded, failed */
	int64_t visible_to; /* a user: only projects that user may read (internal ones, or a member's) */
};
/* A page of deployment ids (by id) matching f, into arr as integers. */
int atr_store_deployment_list_ids(struct atr_store *s, const struct atr_deployment_filter *f, const struct atr_page *p,
				  json_t *arr, bool *more);

/* ---- rollouts ---- */

struct atr_rollout {
	int64_t id, deployment_id;
	char kind[16];	  /* initial | rolling | canary */
	char trigger[16]; /* create | patch | alias | rollback | config */
	int64_t from_version_id, from_version, to_version_id, to_version, generation;
	char state[16]; /* in_progress | succeeded | failed | cancelled | promoted | rolled_back */
	char reason[512];
	char actor[80];
	int64_t deadline_at, started_at, ended_at; /* ms */
};

/* Inserts (ro->id set). */
int atr_store_rollout_insert(struct atr_store *s, struct atr_rollout *ro);
/* Writes state, reason and ended_at. */
int atr_store_rollout_save(struct atr_store *s, const struct atr_rollout *ro);
int atr_store_rollout_load(struct atr_store *s, int64_t id, struct atr_rollout *out);
/* The API object (new reference), or NULL with *err. */
json_t *atr_store_rollout_json(struct atr_store *s, int64_t id, int *err);

/* ---- history ---- */

struct atr_deployment_event {
	int64_t deployment_id;
	const char *kind;
	int64_t rollout_id;   /* 0: none */
	int64_t from_version; /* numbers; 0: none */
	int64_t to_version;
	const char *actor; /* NULL: the controller */
	const char *message;
};
int atr_store_deployment_event_add(struct atr_store *s, const struct atr_deployment_event *e);
/* Newest first (cursor: event id). */
int atr_store_deployment_history(struct atr_store *s, int64_t deployment_id, const struct atr_page *p, json_t *arr,
				 bool *more);

/* ---- replicas (service jobs) ---- */

int atr_store_deployment_replica_add(struct atr_store *s, int64_t job_id, int64_t deployment_id, int64_t generation);

struct atr_replica_row {
	int64_t job_id, version_id, version, generation;
	int replica;
	char state[16]; /* the job's */
};
/* The deployment's active replica jobs (queued, dispatched, running, lost), by job id. */
int atr_store_deployment_replicas_active(struct atr_store *s, int64_t deployment_id,
					 int (*fn)(const struct atr_replica_row *row, void *cls), void *cls);

/* What a replica's job looks like for display: state, worker, why it waits. */
struct atr_replica_job {
	char state[16];
	int64_t worker_id;
	char worker[64];
	char pending_reason[200];
	char message[300];
	int attempts;
};
int atr_store_deployment_replica_job(struct atr_store *s, int64_t job_id, struct atr_replica_job *out);

/* ---- captured predictions (predictions.c) ---- */

struct atr_prediction {
	int64_t deployment_id, version_id, version;
	int64_t created_at, latency_us;
	int status;
	char *content_type; /* owned by the caller */
	char *request;	    /* at most the deployment's cap */
	size_t request_len, request_size;
	char *response;
	size_t response_len, response_size;
	char request_id[64]; /* the answer's X-Request-Id: its prediction id ("" none) */
};
/* Inserts n records in one transaction. */
int atr_store_predictions_insert(struct atr_store *s, const struct atr_prediction *p, size_t n);
/* Keeps the newest max_rows of the deployment and none older than before_ms (0: no age limit). */
int atr_store_predictions_prune(struct atr_store *s, int64_t deployment_id, int64_t max_rows, int64_t before_ms,
				int64_t *deleted);
/* The captured call whose answer had prediction id request_id: *created_at and *response
 * (malloc'd, *len bytes; NULL when empty). ATR_ENOTFOUND. */
int atr_store_prediction_find(struct atr_store *s, int64_t deployment_id, const char *request_id, int64_t *created_at,
			      char **response, size_t *len);
/* Newest first; version 0: any. */
/* A captured body (V2 inference request or answer) as the listing shows it: the parsed value
 * when it is whole JSON, else its text when it is UTF-8, else base64url (then *encoding is
 * "base64url"). A new reference; NULL when out of memory (never another shape instead). */
json_t *atr_prediction_body_json(const void *data, size_t len, bool whole, const char **encoding);
int atr_store_predictions_list(struct atr_store *s, int64_t deployment_id, int64_t version, const struct atr_page *p,
			       json_t *arr, bool *more);

/* ---- invoke keys (invoke_keys.c): api_tokens of kind 'invoke' scoped to a deployment ---- */

/* The deployment's keys (live and revoked), newest first. */
int atr_store_invoke_key_list(struct atr_store *s, int64_t deployment_id, const struct atr_page *p, json_t *arr,
			      bool *more);
/* Revokes one key of the deployment: ATR_ENOTFOUND when it is not one of its keys. */
int atr_store_invoke_key_revoke(struct atr_store *s, int64_t deployment_id, int64_t key_id);

#endif
