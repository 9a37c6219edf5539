/*
 * rollout.c: how a deployment changes what it serves. A rollout brings up a new track (a
 * version with a new generation) and ends succeeded, failed, cancelled (superseded),
 * promoted or rolled_back:
 *
 *  - initial: the first version (or the first after a failure): one track, serving as soon
 *    as a replica is ready; succeeded when all are; failed (replicas stopped) otherwise.
 *  - rolling: a surge track of the new version, weight 0, as many replicas as the
 *    deployment; when they are all ready the traffic moves to it at once and the old track
 *    drains. Replicas never ready by the deadline, or crashing before they ever were, or a
 *    replica job failing, fail it: the new track goes, the traffic never left the old one.
 *  - canary: tracks with weights; it stays in progress until promote or rollback, and
 *    fails like a rolling update when the canary's replicas never become ready.
 *
 * Also here: PATCH (settings, scaling, new versions, splits), promote, rollback, and
 * following an alias. Every step is a history row; rollouts the controller starts or
 * ends on its own are audited as actor "controller".
 */
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_models.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <stdarg.h>
#include <string.h>

#define STORE(d) ((d)->dp->o.store)

static bool in_progress(const struct dep *d)
{
	return d->ro.id && !strcmp(d->ro.state, "in_progress");
}

static struct dep_track *stable_track(struct dep *d)
{
	for (int i = 0; i < d->ntracks; i++)
		if (d->tracks[i].stable)
			return &d->tracks[i];
	return NULL;
}

/* Only the stable track stays, with all the traffic (none: nothing serves). */
static void reset_to_stable(struct dep *d)
{
	struct dep_track *s = stable_track(d);
	if (!s) {
		d->ntracks = 0;
		return;
	}
	d->tracks[0] = *s;
	d->tracks[0].weight = 100;
	d->tracks[0].replicas = -1;
	d->tracks[0].surge = false;
	d->ntracks = 1;
}

void dep_rollout_end(struct dep *d, const char *state, const char *fmt, ...)
{
	va_list ap;

	atr_copy(d->ro.state, sizeof(d->ro.state), state);
	va_start(ap, fmt);
	vsnprintf(d->ro.reason, sizeof(d->ro.reason), fmt, ap);
	va_end(ap);
	d->ro.ended_at = atr_now_ms();
	if (!d->deleted && atr_store_rollout_save(STORE(d), &d->ro) < 0)
		atr_error("deployment '%s': could not save rollout %lld", d->row.name, (long long)d->ro.id);
}

/* The rollout in progress is over before it completed: its tracks go (superseded). */
static void supersede(struct dep *d, const char *by)
{
	if (!in_progress(d))
		return;
	dep_rollout_end(d, "cancelled", "superseded by %s", by);
	dep_event(d, "rollout_cancelled", d->ro.from_version, d->ro.to_version, NULL, "rollout %lld to version %lld %s",
		  (long long)d->ro.id, (long long)d->ro.to_version, d->ro.reason);
	reset_to_stable(d);
}

/* A new rollout row as d->ro. */
static int new_rollout(struct dep *d, const char *kind, const char *trigger, int64_t to_id, int64_t to,
		       int64_t generation, const char *actor)
{
	struct atr_rollout *ro = &d->ro;
	int64_t now = atr_now_ms();
	struct dep_track *s = stable_track(d);
	int rc;

	memset(ro, 0, sizeof(*ro));
	ro->deployment_id = d->row.id;
	atr_copy(ro->kind, sizeof(ro->kind), kind);
	atr_copy(ro->trigger, sizeof(ro->trigger), trigger);
	snprintf(ro->state, sizeof(ro->state), "in_progress");
	atr_copy(ro->actor, sizeof(ro->actor), actor ? actor : "");
	if (s) {
		ro->from_version_id = s->version_id;
		ro->from_version = s->version;
	}
	ro->to_version_id = to_id;
	ro->to_version = to;
	ro->generation = generation;
	ro->started_at = now;
	ro->deadline_at = now + d->row.rollout_timeout_s * 1000;
	if ((rc = atr_store_rollout_insert(STORE(d), ro)) < 0)
		return rc;
	d->row.rollout_id = ro->id;
	d->ro_target_ready = false;
	d->fail_streak = 0;
	d->replace_after = 0;
	return 0;
}

int dep_rollout_start(struct dep *d, int64_t version_id, int64_t version, const char *trigger, const char *actor)
{
	struct dep_track t = { .version_id = version_id, .version = version, .replicas = -1 };
	char by[64];
	bool serving;
	int rc;

	snprintf(by, sizeof(by), "a rollout of version %lld", (long long)version);
	supersede(d, by);
	serving = stable_track(d) != NULL;
	t.generation = ++d->row.generation;
	if ((rc = new_rollout(d, serving ? "rolling" : "initial", trigger, version_id, version, t.generation, actor)) <
	    0)
		return rc;
	if (!serving) {
		t.weight = 100;
		t.stable = true;
		d->ntracks = 0;
		d->row.version_id = version_id;
		d->row.version = version;
	} else {
		t.weight = 0;
		t.surge = true;
	}
	if (d->ntracks >= ATR_DEPLOY_MAX_TRACKS)
		reset_to_stable(d);
	d->tracks[d->ntracks++] = t;
	if (serving)
		dep_event(d, "rollout_started", d->ro.from_version, version, actor,
			  "rolling update %lld from version %lld to %lld started (%s%s%s)", (long long)d->ro.id,
			  (long long)d->ro.from_version, (long long)version, trigger, actor ? " by " : "",
			  actor ? actor : "");
	else
		dep_event(d, "rollout_started", 0, version, actor, "rollout %lld of version %lld started (%s%s%s)",
			  (long long)d->ro.id, (long long)version, trigger, actor ? " by " : "", actor ? actor : "");
	dep_save(d);
	dep_kick(d->dp);
	return 0;
}

/* The rollout failed: the new track goes; for a first rollout nothing serves any more. */
static void fail(struct dep *d, const char *why)
{
	int64_t to = d->ro.to_version;

	dep_rollout_end(d, "failed", "%s", why);
	reset_to_stable(d);
	if (!strcmp(d->ro.kind, "initial"))
		d->ntracks = 0;
	dep_event(d, "rollout_failed", d->ro.from_version, to, NULL, "rollout %lld to version %lld failed: %s%s",
		  (long long)d->ro.id, (long long)to, why,
		  d->ntracks ? "; the traffic stays on the stable version" : "; its replicas are stopped");
	dep_audit(d, "deployments.rollout.failed", "project:%s/deployment:%s/version:%lld", d->project, d->row.name,
		  (long long)to);
	dep_save(d);
}

void dep_rollout_replica_failed(struct dep *d, struct dep_replica *r, const char *why)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "version %lld: replica %d failed: %s", (long long)r->version, r->index, why);
	fail(d, msg);
}

/* Why the target's replicas are not all ready: the first one that is not, in a few words. */
static void not_ready_detail(struct dep *d, int64_t generation, char *out, size_t n)
{
	out[0] = 0;
	for (struct dep_replica *r = d->reps; r; r = r->next) {
		struct atr_replica_job info = { 0 };
		if (r->generation != generation || r->draining || r->svc == REP_READY)
			continue;
		if (r->svc == REP_PENDING && atr_store_deployment_replica_job(STORE(d), r->job_id, &info) == 0 &&
		    info.pending_reason[0])
			snprintf(out, n, " (replica %d is waiting: %s)", r->index, info.pending_reason);
		else if (r->message[0])
			snprintf(out, n, " (replica %d: %s)", r->index, r->message);
		else
			snprintf(out, n, " (replica %d is %s)", r->index,
				 r->svc == REP_PENDING ? "being placed or fetching its model" : "not healthy yet");
		return;
	}
}

/* The new track is ready: a rolling update moves the traffic to it. */
static void target_ready(struct dep *d, struct dep_track *t, int ready)
{
	if (!strcmp(d->ro.kind, "canary")) {
		if (!d->ro_target_ready)
			dep_event(d, "canary_ready", d->ro.from_version, t->version, NULL,
				  "the canary's %d replica%s of version %lld %s ready", ready, ready == 1 ? "" : "s",
				  (long long)t->version, ready == 1 ? "is" : "are");
		d->ro_target_ready = true;
		return;
	}
	if (!strcmp(d->ro.kind, "rolling")) {
		struct dep_track *s = stable_track(d);
		if (s) {
			d->row.previous_version_id = s->version_id;
			d->row.previous_version = s->version;
		}
		d->tracks[0] = *t;
		d->tracks[0].weight = 100;
		d->tracks[0].surge = false;
		d->tracks[0].stable = true;
		d->tracks[0].replicas = -1;
		d->ntracks = 1;
	}
	d->row.version_id = t->version_id;
	d->row.version = t->version;
	dep_rollout_end(d, "succeeded", "%d replica%s of version %lld ready%s", ready, ready == 1 ? "" : "s",
			(long long)t->version,
			!strcmp(d->ro.kind, "rolling") ? "; traffic moved, the old replicas drain" : "");
	dep_event(d, "rollout_succeeded", d->ro.from_version, t->version, NULL, "rollout %lld to version %lld: %s",
		  (long long)d->ro.id, (long long)t->version, d->ro.reason);
	dep_save(d);
}

void dep_rollout_step(struct dep *d, int64_t now)
{
	struct dep_track *t = dep_track_of(d, d->ro.generation);
	char why[512], detail[300];
	int want, ready;

	if (!t) {
		fail(d, "its track is gone");
		return;
	}
	want = dep_track_want(d, t);
	ready = dep_ready_in(d, t->generation);
	for (struct dep_replica *r = d->reps; r; r = r->next)
		if (r->generation == t->generation && !r->ever_ready && r->restarts >= DEP_CRASH_LIMIT) {
			snprintf(why, sizeof(why),
				 "version %lld: replica %d (job %lld) crashed %d times before it was ever ready%s%s%s",
				 (long long)t->version, r->index, (long long)r->job_id, r->restarts,
				 r->message[0] ? " (" : "", r->message, r->message[0] ? ")" : "");
			fail(d, why);
			return;
		}
	if (ready >= want) {
		target_ready(d, t, ready);
		return;
	}
	if (now < d->ro.deadline_at || d->ro_target_ready)
		return;
	not_ready_detail(d, t->generation, detail, sizeof(detail));
	snprintf(why, sizeof(why), "version %lld: %d of %d replicas ready after %lld s%s", (long long)t->version, ready,
		 want, (long long)d->row.rollout_timeout_s, detail);
	fail(d, why);
}

/* ---- canary ---- */

static int canary_start(struct dep *d, const struct atr_deploy_patch *p, const char *actor, char *why, size_t whylen)
{
	struct dep_track *s = stable_track(d), tracks[ATR_DEPLOY_MAX_TRACKS], *best = NULL;
	int n = 0, rc;

	if (!s || (in_progress(d) && !strcmp(d->ro.kind, "initial"))) {
		snprintf(why, whylen, "deployment '%s' has no stable version yet to split traffic with", d->row.name);
		return ATR_ECONFLICT;
	}
	supersede(d, "a new traffic split");
	s = stable_track(d);
	for (int i = 0; i < p->ntracks; i++) {
		struct dep_track *t = &tracks[n++];
		if (p->tracks[i].version_id == s->version_id) {
			*t = *s;
		} else {
			memset(t, 0, sizeof(*t));
			t->version_id = p->tracks[i].version_id;
			t->version = p->tracks[i].version;
			t->generation = ++d->row.generation;
		}
		t->weight = p->tracks[i].weight;
		t->replicas = p->tracks[i].replicas;
		if (!t->stable && (!best || t->weight > best->weight))
			best = t;
	}
	memcpy(d->tracks, tracks, sizeof(tracks[0]) * (size_t)n);
	d->ntracks = n;
	if (!best) { /* only the stable version: the split is over */
		dep_event(d, "traffic_changed", 0, s->version, actor, "all traffic on version %lld",
			  (long long)s->version);
		dep_save(d);
		return 0;
	}
	best = dep_track_of(d, best->generation);
	if ((rc = new_rollout(d, "canary", "patch", best->version_id, best->version, best->generation, actor)) < 0)
		return rc;
	dep_event(d, "canary_started", d->ro.from_version, best->version, actor,
		  "canary %lld: version %lld gets %d%% of the traffic, version %lld %d%% (by %s)", (long long)d->ro.id,
		  (long long)best->version, best->weight, (long long)d->ro.from_version, 100 - best->weight, actor);
	dep_save(d);
	return 0;
}

int atr_deploy_promote(struct atr_deploy *dp, int64_t id, int64_t version_id, const char *actor, char *why,
		       size_t whylen)
{
	struct dep *d = dep_by_id(dp, id);
	struct dep_track *t = NULL;
	int64_t from;

	if (!d)
		return ATR_ENOTFOUND;
	if (!in_progress(d) || strcmp(d->ro.kind, "canary") != 0) {
		snprintf(why, whylen, "deployment '%s' has no canary in progress", d->row.name);
		return ATR_ECONFLICT;
	}
	for (int i = 0; i < d->ntracks; i++)
		if (!d->tracks[i].stable &&
		    (version_id ? d->tracks[i].version_id == version_id : d->tracks[i].generation == d->ro.generation))
			t = &d->tracks[i];
	if (!t) {
		snprintf(why, whylen, "that version is not a canary of deployment '%s'", d->row.name);
		return ATR_ECONFLICT;
	}
	from = d->row.version;
	d->row.previous_version_id = d->row.version_id;
	d->row.previous_version = d->row.version;
	d->row.version_id = t->version_id;
	d->row.version = t->version;
	d->tracks[0] = *t;
	d->tracks[0].weight = 100;
	d->tracks[0].replicas = -1;
	d->tracks[0].stable = true;
	d->ntracks = 1;
	dep_rollout_end(d, "promoted", "version %lld promoted by %s", (long long)d->row.version, actor);
	dep_event(d, "promoted", from, d->row.version, actor,
		  "version %lld promoted by %s: all traffic, version %lld drains", (long long)d->row.version, actor,
		  (long long)from);
	dep_save(d);
	dep_kick(dp);
	return 0;
}

/* The previous stable version, if it still exists as it was. */
static bool previous_ok(struct dep *d)
{
	struct atr_model_version v;
	return d->row.previous_version_id &&
	       atr_store_model_version_get(STORE(d), d->row.previous_version_id, &v) == 0 && v.committed &&
	       v.model_id == d->row.model_id && v.version == d->row.previous_version;
}

int atr_deploy_rollback(struct atr_deploy *dp, int64_t id, const char *actor, char *why, size_t whylen)
{
	struct dep *d = dep_by_id(dp, id);
	int rc;

	if (!d)
		return ATR_ENOTFOUND;
	if (in_progress(d) && strcmp(d->ro.kind, "initial") != 0) {
		int64_t to = d->ro.to_version;
		dep_rollout_end(d, "rolled_back", "rolled back by %s", actor);
		reset_to_stable(d);
		dep_event(d, "rolled_back", to, d->row.version, actor,
			  "%s to version %lld rolled back by %s: all traffic on version %lld", d->ro.kind,
			  (long long)to, actor, (long long)d->row.version);
		dep_save(d);
		dep_kick(dp);
		return 0;
	}
	if (in_progress(d) || !previous_ok(d)) {
		snprintf(why, whylen, "deployment '%s' has no earlier version to roll back to", d->row.name);
		return ATR_ECONFLICT;
	}
	if ((rc = atr_store_begin(STORE(d))) < 0)
		return rc;
	dep_event(d, "rolled_back", d->row.version, d->row.previous_version, actor,
		  "rollback to version %lld asked by %s", (long long)d->row.previous_version, actor);
	rc = dep_rollout_start(d, d->row.previous_version_id, d->row.previous_version, "rollback", actor);
	if (rc == 0)
		return atr_store_commit(STORE(d));
	atr_store_rollback(STORE(d));
	return rc;
}

/* ---- following an alias ---- */

void dep_alias_moved(void *arg, int64_t model_id, const char *alias, int64_t from_id, int64_t to_id)
{
	struct atr_deploy *dp = arg;
	int64_t to = to_id ? atr_store_model_version_number(dp->o.store, to_id) : 0;

	(void)from_id;
	for (struct dep *d = dp->deps; d; d = d->next) {
		if (d->row.model_id != model_id || strcmp(d->row.follow_alias, alias) != 0)
			continue;
		if (!to_id) {
			dep_event(d, "alias_removed", 0, 0, NULL, "alias '%s' was removed; version %lld keeps serving",
				  alias, (long long)d->row.version);
			continue;
		}
		if (in_progress(d) ? d->ro.to_version_id == to_id : d->row.version_id == to_id && d->ntracks > 0)
			continue;
		dep_event(d, "alias_moved", d->row.version, to, NULL, "alias '%s' moved to version %lld", alias,
			  (long long)to);
		if (dep_rollout_start(d, to_id, to, "alias", NULL) == 0)
			dep_audit(d, "deployments.rollout.alias", "project:%s/deployment:%s/version:%lld", d->project,
				  d->row.name, (long long)to);
	}
}

/* ---- PATCH ---- */

void atr_deploy_patch_init(struct atr_deploy_patch *p)
{
	memset(p, 0, sizeof(*p));
	p->replicas = -1;
	p->ntracks = -1;
	p->timeout_ms = p->rollout_timeout_s = -1;
	p->sample_rate = -1;
	p->capture_max_bytes = p->capture_max_rows = p->capture_max_age_s = -1;
}

static bool set_json(json_t **field, const json_t *v)
{
	json_t *c;
	if (!v || json_equal(*field, (json_t *)v))
		return false;
	if (!(c = json_deep_copy(v)))
		return false;
	json_decref(*field);
	*field = c;
	return true;
}

static bool set_text(char *field, size_t n, const char *v)
{
	if (!v || !strcmp(field, v))
		return false;
	atr_copy(field, n, v);
	return true;
}

static void set_i64(int64_t *field, int64_t v, bool *changed)
{
	if (v >= 0 && *field != v) {
		*field = v;
		*changed = true;
	}
}

/* Settings without a rollout; returns whether the replicas' own settings changed. */
static bool apply_settings(struct dep *d, const struct atr_deploy_patch *p, bool *changed)
{
	struct atr_deployment_row *w = &d->row;
	bool config = false;

	set_i64(&w->timeout_ms, p->timeout_ms, changed);
	set_i64(&w->rollout_timeout_s, p->rollout_timeout_s, changed);
	set_i64(&w->capture_max_bytes, p->capture_max_bytes, changed);
	set_i64(&w->capture_max_rows, p->capture_max_rows, changed);
	set_i64(&w->capture_max_age_s, p->capture_max_age_s, changed);
	if (p->sample_rate >= 0 && w->sample_rate != p->sample_rate) {
		w->sample_rate = p->sample_rate;
		*changed = true;
	}
	*changed |= set_text(w->predict_path, sizeof(w->predict_path), p->predict_path);
	*changed |= set_text(w->follow_alias, sizeof(w->follow_alias), p->follow_alias);
	config |= set_json(&w->command, p->command);
	config |= set_json(&w->env, p->env);
	config |= set_json(&w->resources, p->resources);
	config |= set_json(&w->labels, p->labels);
	config |= set_text(w->health_path, sizeof(w->health_path), p->health_path);
	*changed |= config;
	return config;
}

/* The rollout a PATCH asks for, if any. */
static int patch_rollout(struct dep *d, const struct atr_deploy_patch *p, bool config, const char *actor, char *why,
			 size_t whylen)
{
	struct dep_track *s = stable_track(d);

	if (p->version_id) {
		if (in_progress(d) ? d->ro.to_version_id == p->version_id && !config
				   : s && s->version_id == p->version_id && !config)
			return 0; /* already there, or on its way */
		return dep_rollout_start(d, p->version_id, p->version, "patch", actor);
	}
	if (p->ntracks >= 0)
		return canary_start(d, p, actor, why, whylen);
	if (config && s)
		return dep_rollout_start(d, s->version_id, s->version, "config", actor);
	return 0;
}

int atr_deploy_patch(struct atr_deploy *dp, int64_t id, const struct atr_deploy_patch *p, const char *actor, char *why,
		     size_t whylen)
{
	struct dep *d = dep_by_id(dp, id);
	struct atr_deployment_row saved;
	struct dep_track tracks[ATR_DEPLOY_MAX_TRACKS];
	struct atr_rollout ro;
	int ntracks;
	bool changed = false, config;
	int rc;

	if (!d)
		return ATR_ENOTFOUND;
	/* What a refusal puts back: the row (its JSON shared, not copied), tracks, rollout. */
	saved = d->row;
	saved.command = json_incref(d->row.command);
	saved.env = json_incref(d->row.env);
	saved.resources = json_incref(d->row.resources);
	saved.labels = json_incref(d->row.labels);
	saved.traffic = json_incref(d->row.traffic);
	memcpy(tracks, d->tracks, sizeof(tracks));
	ntracks = d->ntracks;
	ro = d->ro;
	if ((rc = atr_store_begin(STORE(d))) < 0) {
		atr_deployment_row_release(&saved);
		return rc;
	}
	config = apply_settings(d, p, &changed);
	if (p->replicas >= 0 && p->replicas != d->row.replicas) {
		dep_event(d, "scaled", 0, 0, actor, "replicas %d -> %d (by %s)", d->row.replicas, p->replicas, actor);
		d->row.replicas = p->replicas;
		changed = true;
	}
	if (changed)
		dep_event(d, "updated", 0, 0, actor, "settings changed by %s%s", actor,
			  config && stable_track(d) ? "; the replicas are rolled out again with them" : "");
	rc = patch_rollout(d, p, config, actor, why, whylen);
	if (rc == 0) {
		dep_save(d);
		rc = atr_store_commit(STORE(d));
	} else {
		atr_store_rollback(STORE(d));
	}
	if (rc < 0) {
		atr_deployment_row_release(&d->row);
		d->row = saved;
		memcpy(d->tracks, tracks, sizeof(tracks));
		d->ntracks = ntracks;
		d->ro = ro;
		return rc;
	}
	atr_deployment_row_release(&saved);
	dep_kick(dp);
	return 0;
}
