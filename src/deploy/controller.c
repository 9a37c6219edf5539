/*
 * controller.c: the deployment controller. Deployments live in memory (loaded from the
 * store at start) and are reconciled on a timer and soon after every change: replica jobs
 * that ended are replaced (with backoff), each track gets the replicas it should have,
 * replicas of no track drain and are stopped, the rollout in progress moves on
 * (rollout.c), and the deployment's state follows. Replicas are `service` jobs the engine
 * places like any job; their readiness comes from the workers' reports.
 * Not here: a replica's job and reports (replicas.c), rollout decisions (rollout.c),
 * forwarding (gateway.c), statistics (stats.c), prediction capture (capture.c), the API
 * object (view.c).
 */
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/model_hooks.h"
#include "atrium/store_identity.h"
#include "atrium/store_models.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"
#include "atrium/store_monitors.h"
#include "deploy_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define REPLACE_BACKOFF_MAX_MS 60000

#define STORE(dp) ((dp)->o.store)
#define ENGINE(dp) ((dp)->o.engine)

/* ---- lookups and lifetimes ---- */

static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & (DEP_BUCKETS - 1);
}

struct dep *dep_by_name(struct atr_deploy *dp, const char *name)
{
	for (struct dep *d = dp->buckets[name_hash(name)]; d; d = d->hnext)
		if (!strcmp(d->row.name, name))
			return d;
	return NULL;
}

struct dep *dep_by_id(struct atr_deploy *dp, int64_t id)
{
	for (struct dep *d = dp->deps; d; d = d->next)
		if (d->row.id == id)
			return d;
	return NULL;
}

void dep_ref(struct dep *d)
{
	d->refs++;
}

void dep_unref(struct dep *d)
{
	if (--d->refs > 0)
		return;
	atr_deployment_row_release(&d->row);
	dep_monitor_free(d);
	free(d->series);
	free(d);
}

void rep_ref(struct dep_replica *r)
{
	r->refs++;
}

void rep_unref(struct dep_replica *r)
{
	struct dep *d = r->d;
	if (--r->refs > 0)
		return;
	free(r);
	dep_unref(d);
}

static void dep_index(struct atr_deploy *dp, struct dep *d)
{
	unsigned b = name_hash(d->row.name);
	d->hnext = dp->buckets[b];
	dp->buckets[b] = d;
	d->next = dp->deps;
	dp->deps = d;
}

static void dep_unindex(struct atr_deploy *dp, struct dep *d)
{
	struct dep **pp = &dp->buckets[name_hash(d->row.name)];
	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
	for (pp = &dp->deps; *pp && *pp != d; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = d->next;
}

/* ---- small helpers shared with the other files ---- */

static void on_soon(uv_timer_t *t);

void dep_kick(struct atr_deploy *dp)
{
	if (dp->soon_pending || dp->closing)
		return;
	dp->soon_pending = true;
	uv_timer_start(&dp->soon, on_soon, 0, 0);
}

void dep_tracks_to_row(struct dep *d)
{
	json_t *a = json_array();
	for (int i = 0; a && i < d->ntracks; i++) {
		const struct dep_track *t = &d->tracks[i];
		json_array_append_new(a, json_pack("{s:I, s:I, s:I, s:i, s:i, s:b, s:b}", "version_id",
						   (json_int_t)t->version_id, "version", (json_int_t)t->version,
						   "generation", (json_int_t)t->generation, "weight", t->weight,
						   "replicas", t->replicas, "surge", t->surge, "stable", t->stable));
	}
	if (!a)
		return;
	json_decref(d->row.traffic);
	d->row.traffic = a;
}

static void tracks_from_row(struct dep *d)
{
	size_t i;
	json_t *t;

	d->ntracks = 0;
	json_array_foreach(d->row.traffic, i, t)
	{
		struct dep_track *k;
		if (d->ntracks >= ATR_DEPLOY_MAX_TRACKS)
			break;
		k = &d->tracks[d->ntracks++];
		k->version_id = atr_json_int(t, "version_id", 0);
		k->version = atr_json_int(t, "version", 0);
		k->generation = atr_json_int(t, "generation", 0);
		k->weight = (int)atr_json_int(t, "weight", 0);
		k->replicas = (int)atr_json_int(t, "replicas", -1);
		k->surge = atr_json_bool(t, "surge", false);
		k->stable = atr_json_bool(t, "stable", false);
	}
}

void dep_save(struct dep *d)
{
	if (d->deleted)
		return;
	dep_tracks_to_row(d);
	if (atr_store_deployment_save(STORE(d->dp), &d->row) < 0)
		atr_error("deployment '%s': could not save its state", d->row.name);
}

void dep_event(struct dep *d, const char *kind, int64_t from_version, int64_t to_version, const char *actor,
	       const char *fmt, ...)
{
	struct atr_deployment_event e = { .deployment_id = d->row.id,
					  .kind = kind,
					  .from_version = from_version,
					  .to_version = to_version,
					  .actor = actor };
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e.message = msg;
	if (!strncmp(kind, "rollout", 7) || !strcmp(kind, "promoted") || !strcmp(kind, "rolled_back") ||
	    !strcmp(kind, "canary_started"))
		e.rollout_id = d->ro.id;
	if (d->deleted || atr_store_deployment_event_add(STORE(d->dp), &e) < 0)
		atr_warn("deployment '%s': could not record '%s' in its history", d->row.name, kind);
	atr_info("deployment '%s': %s", d->row.name, msg);
}

void dep_audit(struct dep *d, const char *action, const char *fmt, ...)
{
	struct atr_audit_entry e = {
		.actor = "controller", .action = action, .status = 200, .client = "-", .request_id = "-"
	};
	char object[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(object, sizeof(object), fmt, ap);
	va_end(ap);
	e.object = object;
	if (atr_store_audit_add(STORE(d->dp), &e) < 0)
		atr_warn("deployment '%s': could not write the audit entry of %s", d->row.name, action);
}

struct dep_track *dep_track_of(struct dep *d, int64_t generation)
{
	for (int i = 0; i < d->ntracks; i++)
		if (d->tracks[i].generation == generation)
			return &d->tracks[i];
	return NULL;
}

int dep_track_want(const struct dep *d, const struct dep_track *t)
{
	int n = d->row.replicas, want;

	if (t->replicas >= 0)
		return t->replicas;
	if (t->surge || t->stable || d->ntracks == 1)
		return n; /* the stable version keeps its size through a canary: rolling back costs nothing */
	want = (n * t->weight + 99) / 100; /* a canary: its share of the replicas by weight, at least one */
	return want < 1 ? 1 : want;
}

bool rep_routable(const struct dep_replica *r, int64_t now_ms)
{
	return r->svc == REP_READY && !r->draining && r->job_state == ATR_JOB_RUNNING && r->url[0] &&
	       now_ms >= r->suspect_until;
}

int dep_ready_in(const struct dep *d, int64_t generation)
{
	int n = 0;
	for (const struct dep_replica *r = d->reps; r; r = r->next)
		if (r->generation == generation && !r->draining && r->svc == REP_READY &&
		    r->job_state == ATR_JOB_RUNNING)
			n++;
	return n;
}

/* ---- reconciling ---- */

/* Replica jobs that ended: removed; one that ended on its own counts as a failure. */
static void reap(struct dep *d, int64_t now)
{
	struct dep_replica *r = d->reps, *next;

	for (; r; r = next) {
		next = r->next;
		if (!atr_job_state_terminal(r->job_state))
			continue;
		if (!r->stopping) {
			struct atr_replica_job info = { 0 };
			int64_t backoff = 1000;
			atr_store_deployment_replica_job(STORE(d->dp), r->job_id, &info);
			d->fail_streak++;
			for (int i = 1; i < d->fail_streak && backoff < REPLACE_BACKOFF_MAX_MS; i++)
				backoff *= 2;
			d->replace_after = now + (backoff < REPLACE_BACKOFF_MAX_MS ? backoff : REPLACE_BACKOFF_MAX_MS);
			dep_event(d, "replica_failed", 0, r->version, NULL,
				  "replica %d of version %lld (job %lld) ended: %s", r->index, (long long)r->version,
				  (long long)r->job_id, info.message[0] ? info.message : info.state);
			if (d->ro.id && !strcmp(d->ro.state, "in_progress") && r->generation == d->ro.generation)
				dep_rollout_replica_failed(d, r, info.message[0] ? info.message : info.state);
		}
		rep_unlink(d, r);
	}
}

/* Each track gets the replicas it should have; the rest drain. */
static void size_tracks(struct dep *d, int64_t now)
{
	for (int i = 0; i < d->ntracks; i++) {
		struct dep_track *t = &d->tracks[i];
		int want = dep_track_want(d, t), have = 0;

		for (struct dep_replica *r = d->reps; r; r = r->next)
			if (r->generation == t->generation && !r->draining)
				have++;
		for (; have < want && now >= d->replace_after; have++)
			if (rep_create(d, t, rep_free_index(d, t->generation)) < 0)
				break;
		/* too many: drain the highest indexes, those not ready first */
		for (int pass = 0; pass < 2 && have > want; pass++) {
			for (;;) {
				struct dep_replica *pick = NULL;
				for (struct dep_replica *r = d->reps; r; r = r->next)
					if (r->generation == t->generation && !r->draining &&
					    (pass == 1 || r->svc != REP_READY) && (!pick || r->index > pick->index))
						pick = r;
				if (!pick || have <= want)
					break;
				rep_drain(d, pick, now);
				have--;
			}
		}
	}
	for (struct dep_replica *r = d->reps; r; r = r->next) {
		if (!r->draining && !dep_track_of(d, r->generation))
			rep_drain(d, r, now);
		/* stopped once its last request ended (not ready: at once) */
		if (r->draining && (r->outstanding == 0 || now >= r->drain_deadline))
			rep_stop(r);
	}
}

static void update_state(struct dep *d)
{
	const char *state;
	char msg[512];
	int ready = 0, want = 0;

	for (int i = 0; i < d->ntracks; i++) {
		if (d->tracks[i].weight <= 0)
			continue;
		ready += dep_ready_in(d, d->tracks[i].generation);
		want += dep_track_want(d, &d->tracks[i]);
	}
	if (d->ro.id && !strcmp(d->ro.state, "in_progress") && !strcmp(d->ro.kind, "initial"))
		state = "deploying";
	else if (d->ntracks == 0)
		state = "failed";
	else if (ready >= want)
		state = "ready";
	else
		state = "degraded";
	if (d->ntracks == 0)
		atr_copy(msg, sizeof(msg), d->ro.id && d->ro.reason[0] ? d->ro.reason : "no version is deployed");
	else
		snprintf(msg, sizeof(msg), "%d of %d replicas ready", ready, want);
	if (!strcmp(state, d->row.state) && !strcmp(msg, d->row.message))
		return;
	if (strcmp(state, d->row.state) != 0)
		dep_event(d, "state_changed", 0, 0, NULL, "%s -> %s: %s", d->row.state, state, msg);
	atr_copy(d->row.state, sizeof(d->row.state), state);
	atr_copy(d->row.message, sizeof(d->row.message), msg);
	dep_save(d);
}

static void reconcile(struct dep *d, int64_t now)
{
	if (d->deleted)
		return;
	reap(d, now);
	if (d->ro.id && !strcmp(d->ro.state, "in_progress"))
		dep_rollout_step(d, now);
	size_tracks(d, now);
	update_state(d);
}

void dep_reconcile_all(struct atr_deploy *dp)
{
	int64_t now = atr_now_ms();
	struct dep *d = dp->deps, *next;

	for (; d; d = next) {
		next = d->next;
		dep_ref(d);
		reconcile(d, now);
		dep_unref(d);
	}
}

static void on_soon(uv_timer_t *t)
{
	struct atr_deploy *dp = t->data;
	dp->soon_pending = false;
	dep_reconcile_all(dp);
}

static void on_tick(uv_timer_t *t)
{
	dep_reconcile_all(t->data);
	dep_monitors_tick(t->data, atr_now_ms());
}

/* ---- the model registry's listeners ---- */

static bool dep_uses_version(const struct dep *d, int64_t version_id)
{
	for (int i = 0; i < d->ntracks; i++)
		if (d->tracks[i].version_id == version_id)
			return true;
	for (const struct dep_replica *r = d->reps; r; r = r->next)
		if (r->version_id == version_id)
			return true;
	return false;
}

static int version_deletable(void *arg, int64_t version_id, char *why, size_t whylen)
{
	struct atr_deploy *dp = arg;
	for (struct dep *d = dp->deps; d; d = d->next)
		if (dep_uses_version(d, version_id)) {
			snprintf(why, whylen, "deployment '%s' serves it", d->row.name);
			return ATR_ECONFLICT;
		}
	return 0;
}

static void lineage(void *arg, int64_t version_id, json_t *l)
{
	struct atr_deploy *dp = arg;
	json_t *arr = json_object_get(l, "deployments");

	if (!json_is_array(arr)) {
		arr = json_array();
		json_object_set_new(l, "deployments", arr);
	}
	for (struct dep *d = dp->deps; arr && d; d = d->next) {
		for (int i = 0; i < d->ntracks; i++) {
			const struct dep_track *t = &d->tracks[i];
			if (t->version_id != version_id)
				continue;
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:b}", "id",
							     (json_int_t)d->row.id, "name", d->row.name, "project",
							     d->project, "state", d->row.state, "weight", t->weight,
							     "ready_replicas", dep_ready_in(d, t->generation), "stable",
							     d->row.version_id == version_id));
			break;
		}
	}
}

/* ---- loading ---- */

static int take_replica(const struct atr_replica_row *row, void *cls)
{
	struct dep *d = cls;
	int st = atr_job_state_parse(row->state);
	return rep_new(d, row->job_id, row->version_id, row->version, row->generation, row->replica,
		       st < 0 ? ATR_JOB_QUEUED : (enum atr_job_state)st)
		       ? 0
		       : ATR_ENOMEM;
}

/* Project and model names, the team (for quotas): what replica jobs and answers need. */
static int dep_names(struct atr_deploy *dp, struct dep *d)
{
	struct atr_project p;
	struct atr_model m;
	int rc = atr_store_project_get(STORE(dp), d->row.project_id, &p);

	if (rc == 0)
		rc = atr_store_model_get(STORE(dp), d->row.model_id, &m);
	if (rc < 0)
		return rc;
	atr_copy(d->project, sizeof(d->project), p.name);
	atr_copy(d->model, sizeof(d->model), m.name);
	d->team_id = p.team_id;
	return 0;
}

static struct dep *dep_alloc(struct atr_deploy *dp)
{
	struct dep *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->dp = dp;
	d->refs = 1;
	return d;
}

static int dep_load(struct atr_deploy *dp, int64_t id)
{
	struct dep *d = dep_alloc(dp);
	int64_t now = atr_now_ms();
	int rc;

	if (!d)
		return ATR_ENOMEM;
	if ((rc = atr_store_deployment_load(STORE(dp), id, &d->row)) < 0 || (rc = dep_names(dp, d)) < 0) {
		dep_unref(d);
		return rc;
	}
	tracks_from_row(d);
	if (d->row.rollout_id && atr_store_rollout_load(STORE(dp), d->row.rollout_id, &d->ro) == 0 &&
	    !strcmp(d->ro.state, "in_progress") && d->ro.deadline_at < now + 30000)
		d->ro.deadline_at = now + 30000; /* workers get the time to report after a restart */
	dep_index(dp, d);
	rc = atr_store_deployment_replicas_active(STORE(dp), id, take_replica, d);
	if (rc < 0)
		atr_error("deployment '%s': could not load its replicas", d->row.name);
	return 0;
}

/* ---- public ---- */

int atr_deploy_new(const struct atr_deploy_opts *o, struct atr_deploy **out)
{
	struct atr_deploy *dp = calloc(1, sizeof(*dp));
	struct atr_models_listener l = { .alias_moved = dep_alias_moved,
					 .version_deletable = version_deletable,
					 .lineage = lineage };
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	if (!dp)
		return ATR_ENOMEM;
	dp->o = *o;
	uv_timer_init(o->loop, &dp->tick);
	uv_timer_init(o->loop, &dp->soon);
	uv_timer_init(o->loop, &dp->flush);
	dp->tick.data = dp->soon.data = dp->flush.data = dp;
	rc = atr_store_deployment_ids(o->store, &ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (dep_load(dp, ids[i]) < 0)
			atr_error("deployment %lld could not be loaded; it is not served", (long long)ids[i]);
	free(ids);
	if (rc < 0) {
		atr_deploy_free(dp);
		return rc;
	}
	l.arg = dp;
	atr_models_listen(&l);
	if (o->metrics) {
		atr_metrics_add_source(o->metrics, dep_metrics_render, dp);
		atr_metrics_add_source(o->metrics, dep_monitors_metrics, dp);
	}
	atr_store_deliveries_reset(o->store); /* what was in flight at a stop is sent again */
	uv_unref((uv_handle_t *)&dp->tick);
	uv_timer_start(&dp->tick, on_tick, DEP_TICK_MS, DEP_TICK_MS);
	dep_capture_start(dp);
	atr_info("deployments: %zu loaded", n);
	dep_kick(dp);
	*out = dp;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct atr_deploy *dp = h->data;
	if (--dp->closing > 1)
		return;
	free(dp);
}

void atr_deploy_free(struct atr_deploy *dp)
{
	if (!dp)
		return;
	dep_notify_stop(dp);
	dep_capture_flush(dp);
	dep_capture_release(dp);
	atr_models_listeners_clear();
	while (dp->deps) {
		struct dep *d = dp->deps;
		dep_unindex(dp, d);
		while (d->reps)
			rep_unlink(d, d->reps);
		d->deleted = true;
		dep_unref(d);
	}
	dp->closing = 4; /* three handles; 1 means "closing, nothing left" */
	uv_close((uv_handle_t *)&dp->tick, on_closed);
	uv_close((uv_handle_t *)&dp->soon, on_closed);
	uv_close((uv_handle_t *)&dp->flush, on_closed);
}

int atr_deploy_find(struct atr_deploy *dp, const char *name, struct atr_deploy_ref *out)
{
	struct dep *d = dep_by_name(dp, name);
	if (!d)
		return ATR_ENOTFOUND;
	out->id = d->row.id;
	out->project_id = d->row.project_id;
	out->model_id = d->row.model_id;
	out->version_id = d->row.version_id;
	atr_copy(out->name, sizeof(out->name), d->row.name);
	return 0;
}

int atr_deploy_create(struct atr_deploy *dp, const struct atr_deploy_spec *spec, const char *actor, int64_t *id_out)
{
	struct dep *d = dep_alloc(dp);
	struct atr_deployment_row *row;
	int rc;

	if (!d)
		return ATR_ENOMEM;
	row = &d->row;
	row->project_id = spec->project_id;
	row->model_id = spec->model_id;
	row->created_by = spec->created_by;
	atr_copy(row->name, sizeof(row->name), spec->name);
	atr_copy(row->follow_alias, sizeof(row->follow_alias), spec->follow_alias ? spec->follow_alias : "");
	row->replicas = spec->replicas;
	row->command = json_deep_copy(spec->command);
	row->env = spec->env ? json_deep_copy(spec->env) : json_object();
	row->resources = spec->resources ? json_deep_copy(spec->resources) : json_object();
	row->labels = spec->labels ? json_deep_copy(spec->labels) : json_object();
	row->traffic = json_array();
	atr_copy(row->health_path, sizeof(row->health_path), spec->health_path);
	atr_copy(row->predict_path, sizeof(row->predict_path), spec->predict_path);
	row->timeout_ms = spec->timeout_ms;
	row->rollout_timeout_s = spec->rollout_timeout_s;
	row->sample_rate = spec->sample_rate;
	row->capture_max_bytes = spec->capture_max_bytes;
	row->capture_max_rows = spec->capture_max_rows;
	row->capture_max_age_s = spec->capture_max_age_s;
	snprintf(row->state, sizeof(row->state), "deploying");
	snprintf(row->message, sizeof(row->message), "0 of %d replicas ready", row->replicas);
	if (!row->command || !row->env || !row->resources || !row->labels || !row->traffic) {
		dep_unref(d);
		return ATR_ENOMEM;
	}
	if ((rc = dep_names(dp, d)) < 0) {
		dep_unref(d);
		return rc;
	}
	if ((rc = atr_store_begin(STORE(dp))) < 0) {
		dep_unref(d);
		return rc;
	}
	rc = atr_store_deployment_insert(STORE(dp), row);
	if (rc == 0) {
		dep_event(d, "created", 0, spec->version, actor, "created by %s with %d replica%s of version %lld%s%s",
			  actor, row->replicas, row->replicas == 1 ? "" : "s", (long long)spec->version,
			  row->follow_alias[0] ? ", following alias " : "", row->follow_alias);
		rc = dep_rollout_start(d, spec->version_id, spec->version, "create", actor);
	}
	if (rc == 0)
		rc = atr_store_commit(STORE(dp));
	else
		atr_store_rollback(STORE(dp));
	if (rc < 0) {
		dep_unref(d);
		return rc;
	}
	dep_index(dp, d);
	*id_out = row->id;
	dep_kick(dp);
	return 0;
}

int atr_deploy_delete(struct atr_deploy *dp, int64_t id, const char *actor)
{
	struct dep *d = dep_by_id(dp, id);
	int rc;

	if (!d)
		return ATR_ENOTFOUND;
	if ((rc = atr_store_deployment_delete(STORE(dp), id)) < 0)
		return rc;
	atr_info("deployment '%s' deleted by %s: stopping %s replicas", d->row.name, actor, d->reps ? "its" : "no");
	dep_unindex(dp, d);
	d->deleted = true;
	d->ntracks = 0;
	while (d->reps) {
		rep_stop(d->reps);
		rep_unlink(d, d->reps);
	}
	dep_unref(d);
	return 0;
}

json_t *atr_deploy_json(struct atr_deploy *dp, int64_t id)
{
	struct dep *d = dep_by_id(dp, id);
	return d ? dep_json(d) : NULL;
}

json_t *atr_deploy_stats_json(struct atr_deploy *dp, int64_t id)
{
	struct dep *d = dep_by_id(dp, id);
	return d ? dep_stats_json(d) : NULL;
}

int atr_deploy_ready_count(struct atr_deploy *dp, int64_t id, int64_t version)
{
	struct dep *d = dep_by_id(dp, id);
	int64_t now = atr_now_ms();
	int n = 0;

	for (struct dep_replica *r = d ? d->reps : NULL; r; r = r->next) {
		struct dep_track *t = dep_track_of(d, r->generation);
		if (rep_routable(r, now) && (version ? r->version == version : t && t->weight > 0))
			n++;
	}
	return n;
}

bool atr_deploy_has_version(struct atr_deploy *dp, int64_t id, int64_t version)
{
	struct dep *d = dep_by_id(dp, id);
	for (int i = 0; d && i < d->ntracks; i++)
		if (d->tracks[i].version == version)
			return true;
	return false;
}
