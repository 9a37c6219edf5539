#ifndef ATRIUM_DEPLOY_H
#define ATRIUM_DEPLOY_H
/*
 * deploy.h: deployments on the daemon's loop (src/deploy/). The controller keeps every
 * deployment in memory (loaded from the store at start), runs its replicas as `service`
 * jobs through the job engine, follows their readiness from the workers' reports, drives
 * rollouts (rolling, canary, promote, rollback, alias following) and writes what must
 * survive a restart. The gateway (gateway.c) forwards inference calls to ready replicas with
 * libcurl multi, keeps the statistics in memory and samples calls for prediction capture
 * (capture.c). No HTTP server here: the REST layer suspends the client's request meanwhile.
 *
 * REST handlers (src/api/deployments.c, gateway.c, ...) validate and check access; the
 * functions here decide. Everything runs on the loop thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct uv_loop_s;
struct atr_store;
struct atr_engine;
struct atr_client;
struct atr_metrics;
struct atr_deploy;

#define ATR_DEPLOY_MAX_TRACKS 8

struct atr_deploy_opts {
	struct uv_loop_s *loop;
	struct atr_store *store;
	struct atr_engine *engine;   /* replicas are service jobs */
	struct atr_client *client;   /* the gateway's HTTP to replicas */
	struct atr_metrics *metrics; /* may be NULL */
	uint64_t max_body;	     /* the largest answer taken from a replica */
	int64_t started_ms;	     /* the daemon's start: request figures count from it */
};

int atr_deploy_new(const struct atr_deploy_opts *o, struct atr_deploy **out);
/* Writes the captured predictions still queued, stops timers, forgets everything; frees
 * after the loop ran the close callbacks. Call before the engine is freed. */
void atr_deploy_free(struct atr_deploy *dp);

/* ---- what the REST layer asks ---- */

/* A deployment by name: its id, project and model; ATR_ENOTFOUND. */
struct atr_deploy_ref {
	int64_t id, project_id, model_id;
	int64_t version_id; /* the stable version (0: none yet) */
	char name[64];
};
int atr_deploy_find(struct atr_deploy *dp, const char *name, struct atr_deploy_ref *out);

/* One version and its share of the traffic (a canary split has several). */
struct atr_deploy_track {
	int64_t version_id, version;
	int weight;   /* 0-100 */
	int replicas; /* -1: by weight (at least 1) */
};

/* A new deployment, validated by the caller (model and version resolved, feasibility). */
struct atr_deploy_spec {
	int64_t project_id, model_id, created_by;
	const char *name;
	int64_t version_id, version;
	const char *follow_alias; /* NULL: pinned to the version */
	int replicas;
	const json_t *command, *env, *resources, *labels; /* borrowed */
	const char *health_path, *predict_path;
	int64_t timeout_ms, rollout_timeout_s;
	double sample_rate;
	int64_t capture_max_bytes, capture_max_rows, capture_max_age_s;
};
/* Creates it (one transaction: row, first rollout, history) and starts its replicas.
 * ATR_ECONFLICT when the name is taken. */
int atr_deploy_create(struct atr_deploy *dp, const struct atr_deploy_spec *spec, const char *actor, int64_t *id_out);

/*
 * A change (PATCH). Fields left at their "keep" value change nothing. A new version starts
 * a rolling update; a traffic split with another version starts a canary; a changed
 * command, env, resources, labels or health_path rolls the stable version out again with
 * the new settings. version and traffic together are refused by the caller.
 */
struct atr_deploy_patch {
	int replicas;		     /* -1: keep */
	int64_t version_id, version; /* 0: keep */
	const char *follow_alias;    /* NULL: keep; "": pin (stop following) */
	struct atr_deploy_track tracks[ATR_DEPLOY_MAX_TRACKS];
	int ntracks;							/* -1: keep */
	int64_t timeout_ms, rollout_timeout_s;				/* -1: keep */
	double sample_rate;						/* < 0: keep */
	int64_t capture_max_bytes, capture_max_rows, capture_max_age_s; /* -1: keep */
	const json_t *command, *env, *resources, *labels;		/* NULL: keep (borrowed) */
	const char *health_path, *predict_path;				/* NULL: keep */
};
void atr_deploy_patch_init(struct atr_deploy_patch *p);
/* Applies a change. ATR_ECONFLICT with the reason in why (a split without a stable
 * version, ...); ATR_ENOTFOUND. */
int atr_deploy_patch(struct atr_deploy *dp, int64_t id, const struct atr_deploy_patch *p, const char *actor, char *why,
		     size_t whylen);
/* Stops its replicas and deletes it (history, captured predictions, invoke keys). */
int atr_deploy_delete(struct atr_deploy *dp, int64_t id, const char *actor);
/* Ends a canary: version_id (0: the canary version) gets all the traffic. ATR_ECONFLICT
 * with why when there is no canary, or the version is not part of it. */
int atr_deploy_promote(struct atr_deploy *dp, int64_t id, int64_t version_id, const char *actor, char *why,
		       size_t whylen);
/* Ends a canary or a rolling update with the traffic back on the stable version, or, with
 * none in progress, rolls back to the previous stable version. ATR_ECONFLICT with why. */
int atr_deploy_rollback(struct atr_deploy *dp, int64_t id, const char *actor, char *why, size_t whylen);

/* The API object (new reference), NULL when unknown. */
json_t *atr_deploy_json(struct atr_deploy *dp, int64_t id);
/* Request counts, errors, latency (in memory since the daemon started). */
json_t *atr_deploy_stats_json(struct atr_deploy *dp, int64_t id);
/* Monitoring's settings of deployment id changed: its profile is read again at the next
 * capture flush (src/deploy/monitor.c). */
void atr_deploy_monitor_reload(struct atr_deploy *dp, int64_t id);
/* Ready replicas of the deployment (version 0: any serving version). */
int atr_deploy_ready_count(struct atr_deploy *dp, int64_t id, int64_t version);
/* Whether the deployment serves (or is rolling out) that version number. */
bool atr_deploy_has_version(struct atr_deploy *dp, int64_t id, int64_t version);

/* ---- the gateway ---- */

/*
 * One inference call through the gateway: a version by the traffic split (or the one asked
 * for), its least busy ready replica, the body sent with libcurl multi. 0 when the call is
 * under way: done() runs once, later, with the replica's answer (relayed as is by the caller)
 * or an error (ATR_ETIMEOUT past the deployment's timeout, ATR_EUPSTREAM when no replica
 * could be reached after one retry on another, for connection failures only, or the answer
 * was too large). <0 at once, with why: ATR_EBUSY (no ready replica), ATR_ENOTFOUND,
 * ATR_ENOMEM.
 */
struct atr_gateway_call_spec {
	int64_t deployment_id;
	int64_t version;	   /* 0: by the traffic split */
	const char *method;	   /* "GET" or "POST" */
	const char *upstream_path; /* "/v2/models/web/infer"; NULL: the deployment's predict_path */
	const char *content_type;  /* may be NULL */
	const char *request_id;	   /* sent on as X-Request-Id */
	const char *body;	   /* borrowed: it must live until done() or atr_gateway_cancel */
	size_t body_len;
};
struct atr_gateway_result {
	int err; /* 0: the replica answered */
	long status;
	const char *body; /* borrowed for the call of done() */
	size_t len;
	const char *content_type; /* may be NULL */
	int64_t version;	  /* the version that answered */
	const char *message;	  /* when err */
};
typedef void (*atr_gateway_done_fn)(void *cls, const struct atr_gateway_result *res);
struct atr_gw_call;
int atr_gateway_call(struct atr_deploy *dp, const struct atr_gateway_call_spec *spec, atr_gateway_done_fn done,
		     void *cls, struct atr_gw_call **out, char *why, size_t whylen);
/* The caller gave up (its client left: 499; shutdown: 503): the call ends, done() never runs. */
void atr_gateway_cancel(struct atr_gw_call *c, unsigned status);

/* ---- from the workers ---- */

/* One service's state from a worker: {id, attempt, seq, state, port, restarts, message}
 * (validated). Applied only when the job runs on that worker in that attempt. */
void atr_deploy_service_report(struct atr_deploy *dp, int64_t worker_id, const json_t *svc);
/* A heartbeat's "services" array (borrowed, may be NULL). */
void atr_deploy_services_heartbeat(struct atr_deploy *dp, int64_t worker_id, const json_t *services);

#endif
