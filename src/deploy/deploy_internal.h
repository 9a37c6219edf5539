#ifndef ATRIUM_DEPLOY_INTERNAL_H
#define ATRIUM_DEPLOY_INTERNAL_H
/*
 * Shared by the files of src/deploy/ only: the controller's in-memory model.
 *
 * A deployment has tracks: a version with a generation (one per rollout), a share of the
 * traffic and a number of replicas. In steady state there is one track (the stable
 * version, weight 100). A rolling update adds a "surge" track of the new version with
 * weight 0 and as many replicas; once they are all ready the traffic moves to it and the
 * old track goes. A canary adds a track with a weight. Replicas whose generation matches
 * no track drain: no new requests, and their job is cancelled when their last request
 * ended (or their drain time ran out).
 *
 * Lifetimes: a deployment and its replicas are reference-counted, because a gateway call
 * keeps both until its answer arrives, even when the deployment is deleted or the replica
 * removed meanwhile.
 */
#include <uv.h>

#include "atrium/deploy.h"
#include "atrium/jobstate.h"
#include "atrium/metrics.h"
#include "atrium/store_deployments.h"

#define DEP_BUCKETS 256	  /* power of two */
#define DEP_MAX_VSTATS 16 /* per-version statistics kept per deployment */
#define DEP_CRASH_LIMIT 3 /* a new replica that crashed this often before it was ready fails its rollout */
#define DEP_TICK_MS 500
#define DEP_SUSPECT_MS 1000	   /* a replica that refused a connection gets no requests for this long */
#define DEP_CAPTURE_MAX 10000	   /* captured predictions queued in memory at most */
#define DEP_SERIES_BUCKET_MS 10000 /* the statistics over time: 10 s buckets... */
#define DEP_SERIES_BUCKETS 180	   /* ...over the last 30 minutes */

struct atr_job_watch;
struct atr_prediction;

enum rep_svc {
	REP_PENDING,	/* no report yet: queued, placed, fetching the model */
	REP_STARTING,	/* its process runs, the health check does not pass (yet) */
	REP_READY,	/* the health check passes */
	REP_RESTARTING, /* its process exited; the worker starts it again after a pause */
};

struct dep_stats {
	uint64_t requests, errors;
	int64_t in_flight;
	struct atr_hist latency;
};

struct dep;

struct dep_replica {
	struct dep_replica *next;
	struct dep *d;
	int refs;
	int64_t job_id, version_id, version, generation;
	int index;
	struct atr_job_watch *watch;
	enum atr_job_state job_state;
	enum rep_svc svc;
	int64_t worker_id;
	int port;
	char url[300]; /* "http://host:port", set while a port is known */
	int restarts;
	int64_t seq; /* the last report applied */
	char message[256];
	bool ever_ready;
	bool draining;
	int64_t drain_deadline;
	bool stopping; /* its job was cancelled by us */
	bool unlinked;
	int outstanding;
	uint64_t requests;
	int64_t suspect_until;
};

struct dep_track {
	int64_t version_id, version, generation;
	int weight;
	int replicas; /* -1: automatic */
	bool surge;   /* a rolling update's new track: full size whatever its weight */
	bool stable;  /* the stable version's track (what serves when no rollout is in progress) */
};

struct dep_vstats {
	int64_t version;
	struct dep_stats s;
};

/* One bucket of the statistics over time (in_flight unused). */
struct dep_bucket {
	int64_t start; /* ms since the epoch; a slot whose start is not the time asked is empty */
	struct dep_stats s;
};

struct dep {
	struct dep *next, *hnext;
	struct atr_deploy *dp;
	int refs;
	bool deleted;
	struct atr_deployment_row row; /* what the store keeps */
	char project[64], model[64];
	int64_t team_id;
	struct dep_track tracks[ATR_DEPLOY_MAX_TRACKS];
	int ntracks;
	struct atr_rollout ro; /* the latest rollout (ro.id 0: none) */
	bool ro_target_ready;  /* a canary's replicas were all ready once */
	struct dep_replica *reps;
	unsigned rr;
	struct dep_stats total;
	struct dep_vstats vstats[DEP_MAX_VSTATS];
	int nvstats;
	struct dep_bucket *series; /* DEP_SERIES_BUCKETS slots, a ring by start time; from the first request */
	int fail_streak;	   /* replica jobs that ended on their own, in a row */
	int64_t replace_after;	   /* ms: no new replica job before (backoff after failures) */
	struct dep_monitor *mon;   /* monitoring: its profile and the window being counted (monitor.c) */
};

struct atr_deploy {
	struct atr_deploy_opts o;
	struct dep *deps;
	struct dep *buckets[DEP_BUCKETS];
	uv_timer_t tick, soon, flush;
	bool soon_pending;
	int closing;
	/* captured predictions waiting for the next flush (capture.c) */
	struct atr_prediction *queue;
	size_t queued;
	uint64_t capture_dropped;
	int64_t next_prune_ms;
	/* monitors and their notifications (monitors.c, notify.c) */
	int64_t next_monitor_ms;
	struct notify_send *sends; /* deliveries in flight */
};

/* monitor.c: the deployment's reference profile (NULL: none), kept for the folding */
struct atr_profile;
const struct atr_profile *dep_monitor_profile(struct dep *d, int64_t *profile_id);

/* monitors.c: due monitors checked (from the tick, at most once a second) */
void dep_monitors_tick(struct atr_deploy *dp, int64_t now);
void dep_monitors_metrics(void *cls, struct atr_buf *out);

/* notify.c: an alert's messages queued to the monitor's channels; due deliveries sent */
void dep_notify_queue(struct atr_deploy *dp, int64_t monitor_id, int64_t alert_id, const json_t *channels,
		      const json_t *event);
void dep_notify_tick(struct atr_deploy *dp, int64_t now);
/* Cancels the deliveries in flight (shutdown): they are sent again after a restart. */
void dep_notify_stop(struct atr_deploy *dp);

/* controller.c */
struct dep *dep_by_id(struct atr_deploy *dp, int64_t id);
struct dep *dep_by_name(struct atr_deploy *dp, const char *name);
void dep_ref(struct dep *d);
void dep_unref(struct dep *d);
void rep_ref(struct dep_replica *r);
void rep_unref(struct dep_replica *r);
/* Reconcile soon (coalesced, never from inside the caller). */
void dep_kick(struct atr_deploy *dp);
/* The tick's work (every DEP_TICK_MS, and soon after dep_kick): every deployment reconciled
 * at atr_now_ms() (replica jobs reaped, tracks sized, drains, rollout progress and deadline).
 * The unit tests call it after moving the fake clock (see atr_clock_set). */
void dep_reconcile_all(struct atr_deploy *dp);
/* Writes the row (logs a failure: the next change writes again). */
void dep_save(struct dep *d);
/* Tracks -> row->traffic. */
void dep_tracks_to_row(struct dep *d);
/* A history row (actor NULL: the controller). */
void dep_event(struct dep *d, const char *kind, int64_t from_version, int64_t to_version, const char *actor,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* An audit entry for what the controller did on its own (actor "controller"). */
void dep_audit(struct dep *d, const char *action, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct dep_track *dep_track_of(struct dep *d, int64_t generation);
/* Replicas a track should have. */
int dep_track_want(const struct dep *d, const struct dep_track *t);
/* Ready, not draining replicas of a generation. */
int dep_ready_in(const struct dep *d, int64_t generation);
bool rep_routable(const struct dep_replica *r, int64_t now_ms);

/* replicas.c */
struct dep_replica *rep_new(struct dep *d, int64_t job_id, int64_t version_id, int64_t version, int64_t generation,
			    int index, enum atr_job_state state);
/* Removes it from the deployment (and its watch); it is freed when no call holds it. */
void rep_unlink(struct dep *d, struct dep_replica *r);
/* A new replica job for track t with index idx (queued; the engine places it). */
int rep_create(struct dep *d, const struct dep_track *t, int idx);
/* Cancels its job (once): the worker stops the process. */
void rep_stop(struct dep_replica *r);
/* No new requests; stopped once its last one ended or its drain time ran out. */
void rep_drain(struct dep *d, struct dep_replica *r, int64_t now);
/* The smallest replica index no active replica of the generation uses. */
int rep_free_index(const struct dep *d, int64_t generation);

/* rollout.c */
/* Starts a rollout of version (a new generation): initial when nothing serves, else rolling
 * (or canary when canary_weight > 0). Supersedes one in progress. */
int dep_rollout_start(struct dep *d, int64_t version_id, int64_t version, const char *trigger, const char *actor);
/* Progress of the rollout in progress: ready, failed, timed out. */
void dep_rollout_step(struct dep *d, int64_t now);
/* The rollout in progress ends: state and reason (the row is saved by the caller). */
void dep_rollout_end(struct dep *d, const char *state, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A replica job of the target ended on its own: the rollout fails. */
void dep_rollout_replica_failed(struct dep *d, struct dep_replica *r, const char *why);
void dep_alias_moved(void *arg, int64_t model_id, const char *alias, int64_t from_id, int64_t to_id);

/* stats.c */
void dep_stats_observe(struct dep *d, int64_t version, unsigned status, uint64_t micros);
struct dep_stats *dep_vstats(struct dep *d, int64_t version);
void dep_metrics_render(void *cls, struct atr_buf *out);
json_t *dep_stats_json(struct dep *d);

/* capture.c */
/* Samples a finished call (by the deployment's rate) into the queue. */
void dep_capture(struct dep *d, int64_t version_id, int64_t version, unsigned status, uint64_t micros,
		 const char *content_type, const char *req, size_t req_len, const char *resp, size_t resp_len,
		 const char *request_id);
/* Writes the queue in one transaction and prunes what is past retention. */
void dep_capture_flush(struct atr_deploy *dp);
void dep_capture_start(struct atr_deploy *dp);
void dep_capture_release(struct atr_deploy *dp);

/* monitor.c: captured requests folded into per-window counts over the reference's bins */
struct atr_prediction;
/* Folds a flush's samples (before they are written) and writes each window's counts. */
void dep_monitor_fold(struct atr_deploy *dp, const struct atr_prediction *q, size_t n);
void dep_monitor_free(struct dep *d);

/* view.c */
json_t *dep_json(struct dep *d);

#endif
