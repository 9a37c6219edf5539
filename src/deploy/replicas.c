/*
 * replicas.c: a deployment's replicas, each a `service` job: creating one (its job and its
 * generation in one transaction, then handed to the engine), watching its job's state
 * (placed again, ended), cancelling and draining it, and what workers report about it
 * (starting, ready, restarting; its port and thus its address). The decisions of how many
 * and which are the controller's (controller.c).
 */
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_jobs.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <stdlib.h>
#include <string.h>

#define REPLICA_MAX_ATTEMPTS 1000 /* a replica is placed again after every lost worker */

#define STORE(dp) ((dp)->o.store)
#define ENGINE(dp) ((dp)->o.engine)

/* ---- replicas ---- */

static void on_job(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct dep_replica *r = cls;

	(void)job_id;
	if (log_only || r->job_state == state)
		return;
	r->job_state = state;
	if (state != ATR_JOB_RUNNING) {
		/* placed again, or ended: whatever its last worker said no longer holds */
		r->svc = REP_PENDING;
		r->url[0] = 0;
		r->port = 0;
		r->worker_id = 0;
		r->seq = 0;
	}
	dep_kick(r->d->dp);
}

struct dep_replica *rep_new(struct dep *d, int64_t job_id, int64_t version_id, int64_t version, int64_t generation,
			    int index, enum atr_job_state state)
{
	struct dep_replica *r = calloc(1, sizeof(*r)), **pp;

	if (!r)
		return NULL;
	r->d = d;
	dep_ref(d);
	r->refs = 1;
	r->job_id = job_id;
	r->version_id = version_id;
	r->version = version;
	r->generation = generation;
	r->index = index;
	r->job_state = state;
	r->svc = REP_PENDING;
	r->watch = atr_engine_watch(ENGINE(d->dp), job_id, on_job, r);
	for (pp = &d->reps; *pp; pp = &(*pp)->next) /* kept in creation order */
		;
	*pp = r;
	return r;
}

void rep_unlink(struct dep *d, struct dep_replica *r)
{
	struct dep_replica **pp = &d->reps;
	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	r->next = NULL;
	r->unlinked = true;
	if (r->watch && ENGINE(d->dp))
		atr_engine_unwatch(ENGINE(d->dp), r->watch);
	r->watch = NULL;
	rep_unref(r);
}

/* The job's environment: the deployment's, plus what tells the process what it serves. */
static json_t *replica_env(struct dep *d, int64_t version)
{
	json_t *env = json_deep_copy(d->row.env);
	char num[32];

	if (!env)
		return NULL;
	snprintf(num, sizeof(num), "%lld", (long long)version);
	json_object_set_new(env, "ATRIUM_DEPLOYMENT", json_string(d->row.name));
	json_object_set_new(env, "ATRIUM_MODEL_NAME", json_string(d->model));
	json_object_set_new(env, "ATRIUM_MODEL_VERSION", json_string(num));
	return env;
}

struct replica_row {
	int64_t deployment_id, generation;
};

/* Submitted with the replica's job, in its transaction: the row that makes it a replica. */
static int add_replica_row(struct atr_store *s, int64_t job_id, void *cls)
{
	const struct replica_row *rr = cls;
	return atr_store_deployment_replica_add(s, job_id, rr->deployment_id, rr->generation);
}

/* A new replica job for track t with index idx (queued; the engine places it). */
int rep_create(struct dep *d, const struct dep_track *t, int idx)
{
	struct atr_deploy *dp = d->dp;
	const json_t *res = d->row.resources;
	struct atr_job_spec spec = { 0 };
	struct replica_row row = { d->row.id, t->generation };
	struct atr_job_submit sub = { .spec = &spec, .also = add_replica_row, .also_cls = &row };
	char name[200];
	json_t *env = replica_env(d, t->version);
	int64_t id;
	int rc;

	if (!env)
		return ATR_ENOMEM;
	snprintf(name, sizeof(name), "deployment %s: version %lld, replica %d", d->row.name, (long long)t->version,
		 idx);
	spec.project_id = d->row.project_id;
	spec.team_id = d->team_id;
	spec.created_by = d->row.created_by;
	spec.name = name;
	spec.kind = "service";
	spec.command = d->row.command;
	spec.env = env;
	spec.labels = d->row.labels;
	spec.gpus = (int)atr_json_int(res, "gpus", 0);
	spec.gpu_type = atr_json_str(res, "gpu_type", NULL);
	spec.cpus = (int)atr_json_int(res, "cpus", 0);
	spec.memory_mb = atr_json_int(res, "memory_mb", 0);
	spec.max_attempts = REPLICA_MAX_ATTEMPTS;
	spec.model_version_id = t->version_id;
	spec.deployment_id = d->row.id;
	spec.replica = idx;
	rc = atr_engine_submit(ENGINE(dp), &sub, &id);
	json_decref(env);
	if (rc < 0) {
		atr_error("deployment '%s': could not create replica %d: %s", d->row.name, idx, atr_strerror(rc));
		return rc;
	}
	if (!rep_new(d, id, t->version_id, t->version, t->generation, idx, ATR_JOB_QUEUED))
		return ATR_ENOMEM;
	atr_debug("deployment '%s': replica %d of version %lld is job %lld", d->row.name, idx, (long long)t->version,
		  (long long)id);
	return 0;
}

/* Cancels the replica's job (once): the worker stops its process. */
void rep_stop(struct dep_replica *r)
{
	if (r->stopping || atr_job_state_terminal(r->job_state))
		return;
	r->stopping = true;
	if (atr_engine_cancel(ENGINE(r->d->dp), r->job_id) < 0)
		atr_debug("replica job %lld had ended already", (long long)r->job_id);
}

void rep_drain(struct dep *d, struct dep_replica *r, int64_t now)
{
	if (r->draining)
		return;
	r->draining = true;
	r->drain_deadline = now + d->row.timeout_ms + 1000;
}

/* The smallest replica index no active replica of the generation uses. */
int rep_free_index(const struct dep *d, int64_t generation)
{
	for (int idx = 0;; idx++) {
		bool used = false;
		for (const struct dep_replica *r = d->reps; r && !used; r = r->next)
			used = r->generation == generation && !r->draining && r->index == idx;
		if (!used)
			return idx;
	}
}

/* ---- reports from workers ---- */

static struct dep_replica *rep_by_job(struct atr_deploy *dp, int64_t job_id)
{
	for (struct dep *d = dp->deps; d; d = d->next)
		for (struct dep_replica *r = d->reps; r; r = r->next)
			if (r->job_id == job_id)
				return r;
	return NULL;
}

/* "http://host:port" of the replica, from its worker's registered URL and the port. */
static void rep_set_url(struct atr_deploy *dp, struct dep_replica *r, int64_t worker_id, int port)
{
	int err;
	json_t *w = atr_store_worker_json(STORE(dp), worker_id, &err);
	const char *url = atr_json_str(w, "url", ""), *host = strstr(url, "://"), *end;

	r->url[0] = 0;
	if (host) {
		host += 3;
		end = host[0] == '[' ? strchr(host, ']') : NULL; /* [IPv6] */
		end = strchr(end ? end : host, ':');
		if (!end)
			end = host + strcspn(host, "/");
		snprintf(r->url, sizeof(r->url), "%.*s:%d", (int)(end - url), url, port);
	}
	json_decref(w);
}

static enum rep_svc svc_parse(const char *s)
{
	if (!strcmp(s, "ready"))
		return REP_READY;
	if (!strcmp(s, "restarting"))
		return REP_RESTARTING;
	return REP_STARTING;
}

static const char *const svc_names[] = { "pending", "starting", "ready", "restarting" };

void atr_deploy_service_report(struct atr_deploy *dp, int64_t worker_id, const json_t *svc)
{
	int64_t job_id = atr_json_int(svc, "id", 0), attempt = atr_json_int(svc, "attempt", 0);
	int64_t seq = atr_json_int(svc, "seq", 0);
	int port = (int)atr_json_int(svc, "port", 0);
	struct dep_replica *r = rep_by_job(dp, job_id);
	enum rep_svc was, now_svc = svc_parse(atr_json_str(svc, "state", ""));

	if (!r || !atr_engine_job_current(ENGINE(dp), job_id, worker_id, attempt))
		return;
	if (r->worker_id == worker_id && seq <= r->seq)
		return; /* older than what was applied (a heartbeat overtaken by a report) */
	was = r->svc;
	r->seq = seq;
	if (r->worker_id != worker_id || r->port != port) {
		r->worker_id = worker_id;
		r->port = port;
		if (port > 0) {
			rep_set_url(dp, r, worker_id, port);
			atr_engine_set_port(ENGINE(dp), job_id, port);
		} else {
			r->url[0] = 0;
		}
	}
	r->svc = port > 0 ? now_svc : REP_STARTING;
	r->restarts = (int)atr_json_int(svc, "restarts", 0);
	atr_copy(r->message, sizeof(r->message), atr_json_str(svc, "message", ""));
	if (r->svc == REP_READY) {
		r->ever_ready = true;
		r->d->fail_streak = 0;
	}
	if (was != r->svc) {
		atr_info("deployment '%s': replica %d of version %lld is %s (%s)", r->d->row.name, r->index,
			 (long long)r->version, svc_names[r->svc], r->url[0] ? r->url : "no address");
		dep_kick(dp);
	}
}

void atr_deploy_services_heartbeat(struct atr_deploy *dp, int64_t worker_id, const json_t *services)
{
	size_t i;
	json_t *s;
	json_array_foreach(services, i, s) atr_deploy_service_report(dp, worker_id, s);
}
