/*
 * view.c: a deployment as the API shows it: its settings, the traffic split with the
 * ready replicas of each version, the latest rollout, and every replica (worker, port,
 * state, restarts, requests in flight). Replica jobs waiting to be placed show why, from
 * the store; everything else is the controller's memory.
 */
#include "atrium/json.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <string.h>

static const char *instance_state(const struct dep_replica *r)
{
	static const char *const names[] = { "pending", "starting", "ready", "restarting" };
	if (r->stopping)
		return "stopping";
	if (r->draining)
		return "draining";
	return names[r->svc];
}

static json_t *instance_json(struct dep *d, struct dep_replica *r)
{
	struct atr_replica_job info = { 0 };
	json_t *o;

	atr_store_deployment_replica_job(d->dp->o.store, r->job_id, &info);
	o = json_pack("{s:i, s:I, s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:i, s:i, s:I, s:o}", "replica", r->index,
		      "version", (json_int_t)r->version, "generation", (json_int_t)r->generation, "job_id",
		      (json_int_t)r->job_id, "state", instance_state(r), "job_state", info.state, "worker",
		      info.worker[0] ? json_string(info.worker) : json_null(), "worker_id",
		      info.worker_id ? json_integer(info.worker_id) : json_null(), "port",
		      r->port > 0 ? json_integer(r->port) : json_null(), "restarts", r->restarts, "in_flight",
		      r->outstanding, "requests", (json_int_t)r->requests, "message",
		      r->message[0] ? json_string(r->message) : json_null());
	if (o && r->svc == REP_PENDING && info.pending_reason[0])
		json_object_set_new(o, "pending_reason", json_string(info.pending_reason));
	return o;
}

static json_t *traffic_json(struct dep *d)
{
	json_t *a = json_array();
	for (int i = 0; a && i < d->ntracks; i++) {
		const struct dep_track *t = &d->tracks[i];
		json_array_append_new(a,
				      json_pack("{s:I, s:i, s:i, s:i, s:b}", "version", (json_int_t)t->version,
						"weight", t->weight, "replicas", dep_track_want(d, t), "ready_replicas",
						dep_ready_in(d, t->generation), "stable", t->stable));
	}
	return a;
}

static json_t *rollout_json(struct dep *d)
{
	int err;
	json_t *o;

	if (!d->ro.id || !(o = atr_store_rollout_json(d->dp->o.store, d->ro.id, &err)))
		return json_null();
	return o;
}

json_t *dep_json(struct dep *d)
{
	const struct atr_deployment_row *w = &d->row;
	struct atr_user u;
	json_t *o, *instances = json_array();
	char created[40], v2[300], predict[300];
	int ready = 0;

	for (struct dep_replica *r = d->reps; instances && r; r = r->next) {
		json_array_append_new(instances, instance_json(d, r));
		if (r->svc == REP_READY && !r->draining)
			ready++;
	}
	atr_time_format(w->created_at, created, sizeof(created));
	snprintf(v2, sizeof(v2), "/v2/models/%s", w->name);
	snprintf(predict, sizeof(predict), "/api/v1/deployments/%s/predict", w->name);
	o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:i, s:s, s:s, s:O, s:O, s:O, s:O, s:s, s:s, s:I, s:I,"
		      " s:{s:f, s:I, s:I, s:I}, s:o, s:o, s:o, s:{s:s, s:s}, s:o, s:s}",
		      "id", (json_int_t)w->id, "name", w->name, "project", d->project, "model", d->model, "version",
		      w->version ? json_integer(w->version) : json_null(), "previous_version",
		      w->previous_version ? json_integer(w->previous_version) : json_null(), "follows",
		      w->follow_alias[0] ? json_string(w->follow_alias) : json_null(), "replicas", w->replicas,
		      "ready_replicas", ready, "state", w->state, "message", w->message, "command", w->command, "env",
		      w->env, "resources", w->resources, "labels", w->labels, "health_path", w->health_path,
		      "predict_path", w->predict_path, "timeout_s", (json_int_t)(w->timeout_ms / 1000),
		      "rollout_timeout_s", (json_int_t)w->rollout_timeout_s, "capture", "sample_rate", w->sample_rate,
		      "max_body_bytes", (json_int_t)w->capture_max_bytes, "max_rows", (json_int_t)w->capture_max_rows,
		      "max_age_s", (json_int_t)w->capture_max_age_s, "traffic", traffic_json(d), "rollout",
		      rollout_json(d), "instances", instances ? instances : json_array(), "endpoints", "v2", v2,
		      "predict", predict, "created_by",
		      w->created_by && atr_store_user_get_by_id(d->dp->o.store, w->created_by, &u) == 0
			      ? json_string(u.username)
			      : json_null(),
		      "created_at", created);
	return o;
}
