/*
 * test_deploy.c: the deployment controller (src/deploy/) with the job engine on the fake
 * backend and the fake clock (engine_fakes.h), on a real store: a new deployment's replicas
 * are service jobs; workers' service reports make them ready (stale ones ignored); a lost
 * replica is placed again; the gateway's choice of replica follows the traffic split (read
 * from the per-version statistics); rolling updates step by step, a replica failing or
 * crash-looping during one, the rollout deadline on the fake clock, rollback, canary promote
 * and rollback, and following an alias moved through the model hooks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "atrium/client.h"
#include "atrium/deploy.h"
#include "atrium/model_hooks.h"
#include "atrium/store_deployments.h"
#include "atrium/store_models.h"
#include "deploy/deploy_internal.h"
#include "engine_fakes.h"

struct dfx {
	struct efx x;
	struct atr_client *client;
	struct atr_deploy *dp;
	int64_t worker, model, v1, v2, v3;
	int64_t seq; /* of service reports */
};

static int64_t new_version(struct dfx *f)
{
	struct atr_model_version_spec spec = { .model_id = f->model, .commit = true, .actor = "ann" };
	struct atr_model_version v;

	assert_int_equal(atr_store_model_version_create(f->x.s, &spec, &v), 0);
	return v.id;
}

static int setup(void **state)
{
	struct dfx *f = calloc(1, sizeof(*f));
	struct atr_deploy_opts o = { .max_body = 1 << 20 };

	assert_non_null(f);
	assert_int_equal(efx_open(&f->x), 0);
	assert_int_equal(atr_store_model_create(f->x.s, f->x.project, "lin", "", NULL, f->x.user, "ann", &f->model), 0);
	f->v1 = new_version(f);
	f->v2 = new_version(f);
	f->v3 = new_version(f);
	f->worker = efx_worker(&f->x, "w1", 2, "A100", 64);
	assert_int_equal(atr_client_new(&f->x.loop, &f->client), 0);
	o.loop = &f->x.loop;
	o.store = f->x.s;
	o.engine = f->x.e;
	o.client = f->client;
	o.started_ms = atr_now_ms();
	assert_int_equal(atr_deploy_new(&o, &f->dp), 0);
	settle(&f->x);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct dfx *f = *state;

	atr_deploy_free(f->dp);
	atr_client_free(f->client);
	assert_int_equal(efx_close(&f->x), 0);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static int64_t create(struct dfx *f, const char *name, int replicas, const char *alias, int64_t rollout_timeout_s)
{
	json_t *cmd = json_pack("[s, s]", "serve", "--model"), *res = json_object();
	struct atr_deploy_spec spec = { .project_id = f->x.project,
					.model_id = f->model,
					.created_by = f->x.user,
					.name = name,
					.version_id = f->v1,
					.version = 1,
					.follow_alias = alias,
					.replicas = replicas,
					.command = cmd,
					.resources = res,
					.health_path = "/v2/health/ready",
					.predict_path = "/predict",
					.timeout_ms = 5000,
					.rollout_timeout_s = rollout_timeout_s,
					.capture_max_bytes = 1000,
					.capture_max_rows = 100,
					.capture_max_age_s = 3600 };
	int64_t id = 0;

	assert_int_equal(atr_deploy_create(f->dp, &spec, "ann", &id), 0);
	json_decref(cmd);
	json_decref(res);
	settle(&f->x);
	return id;
}

/* Every send without an answer is accepted: the replica jobs run. */
static int accept_all(struct dfx *f)
{
	int n = 0;

	for (int i = 0; i < f->x.be.nsent; i++) {
		struct fake_send *s = &f->x.be.sent[i];
		if (s->answered || fake_last_send(&f->x.be, s->job_id) != s)
			continue;
		s->answered = true;
		atr_engine_dispatch_result(f->x.e, s->job_id, ATR_DISPATCH_ACCEPTED, NULL);
		n++;
	}
	settle(&f->x);
	return n;
}

/* A worker's report of one service (its latest attempt, on its worker). */
static void service(struct dfx *f, int64_t job_id, const char *st, int restarts)
{
	struct fake_send *s = fake_last_send(&f->x.be, job_id);
	json_t *svc;

	assert_non_null(s);
	svc = json_pack("{s:I, s:i, s:I, s:s, s:I, s:i, s:s}", "id", (json_int_t)job_id, "attempt", s->attempt, "seq",
			(json_int_t)++f->seq, "state", st, "port", (json_int_t)(20000 + job_id), "restarts", restarts,
			"message", strcmp(st, "ready") ? "health check fails" : "");
	atr_deploy_service_report(f->dp, s->worker_id, svc);
	json_decref(svc);
	settle(&f->x);
}

static json_t *dep(struct dfx *f, int64_t id)
{
	json_t *o = atr_deploy_json(f->dp, id);
	assert_non_null(o);
	return o;
}

static void assert_dep_str(struct dfx *f, int64_t id, const char *field, const char *want)
{
	json_t *o = dep(f, id);
	assert_string_equal(atr_json_str(o, field, "(none)"), want);
	json_decref(o);
}

/* The rollout's field (state, kind, trigger, reason) into out. */
static const char *rollout(struct dfx *f, int64_t id, const char *field, char *out, size_t n)
{
	json_t *o = dep(f, id);
	atr_copy(out, n, atr_json_str(json_object_get(o, "rollout"), field, "(none)"));
	json_decref(o);
	return out;
}

static void assert_rollout(struct dfx *f, int64_t id, const char *kind, const char *state)
{
	char k[32], s[32];
	assert_string_equal(rollout(f, id, "kind", k, sizeof(k)), kind);
	assert_string_equal(rollout(f, id, "state", s, sizeof(s)), state);
}

/* Job ids of the replicas of a version (0: any) that are not draining or stopping, by replica. */
static int replicas_of(struct dfx *f, int64_t id, int64_t version, int64_t *ids, int max)
{
	json_t *o = dep(f, id), *it;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(o, "instances"), i, it)
	{
		const char *st = atr_json_str(it, "state", "");
		if ((version && atr_json_int(it, "version", 0) != version) || !strcmp(st, "draining") ||
		    !strcmp(st, "stopping"))
			continue;
		if (n < max)
			ids[n] = atr_json_int(it, "job_id", 0);
		n++;
	}
	json_decref(o);
	return n;
}

static void ready_all(struct dfx *f, int64_t id, int64_t version)
{
	int64_t ids[16];
	int n = replicas_of(f, id, version, ids, 16);

	accept_all(f);
	for (int i = 0; i < n && i < 16; i++)
		service(f, ids[i], "ready", 0);
}

/* Calls sent to the replica whose job this is. */
static int64_t requests_of(struct dfx *f, int64_t id, int64_t job_id)
{
	json_t *o = dep(f, id), *it;
	int64_t n = -1;
	size_t i;

	json_array_foreach(json_object_get(o, "instances"), i, it)
	{
		if (atr_json_int(it, "job_id", 0) == job_id)
			n = atr_json_int(it, "requests", 0);
	}
	json_decref(o);
	return n;
}

/* The traffic weight of a version (-1: no track). */
static int weight_of(struct dfx *f, int64_t id, int64_t version)
{
	json_t *o = dep(f, id), *t;
	size_t i;
	int w = -1;

	json_array_foreach(json_object_get(o, "traffic"), i, t)
	{
		if (atr_json_int(t, "version", 0) == version)
			w = (int)atr_json_int(t, "weight", 0);
	}
	json_decref(o);
	return w;
}

static int ntracks(struct dfx *f, int64_t id)
{
	json_t *o = dep(f, id);
	int n = (int)json_array_size(json_object_get(o, "traffic"));
	json_decref(o);
	return n;
}

/* Whether the history has an event of that kind (text: in its message, NULL: any). */
static bool has_event(struct dfx *f, int64_t id, const char *kind, const char *text)
{
	struct atr_page p = { .limit = 200 };
	json_t *arr = json_array(), *ev;
	bool more, found = false;
	size_t i;

	assert_int_equal(atr_store_deployment_history(f->x.s, id, &p, arr, &more), 0);
	json_array_foreach(arr, i, ev)
	{
		if (!strcmp(atr_json_str(ev, "kind", ""), kind) &&
		    (!text || strstr(atr_json_str(ev, "message", ""), text)))
			found = true;
	}
	json_decref(arr);
	return found;
}

static void on_done(void *cls, const struct atr_gateway_result *res)
{
	(void)cls;
	(void)res;
	fail_msg("a cancelled call must not complete");
}

/*
 * n gateway calls picked by the traffic split; each is cancelled as soon as it was sent to
 * its replica (nothing listens there), which records it under the version that was picked.
 * Returns how many went to `version`, read from the deployment's statistics.
 */
static int64_t calls_to(struct dfx *f, int64_t id, int n, int64_t version)
{
	struct atr_gateway_call_spec spec = {
		.deployment_id = id, .method = "POST", .request_id = "t", .body = "{}", .body_len = 2
	};
	json_t *before = atr_deploy_stats_json(f->dp, id), *after, *v;
	int64_t got = 0;
	size_t i;
	char why[200];

	for (int k = 0; k < n; k++) {
		struct atr_gw_call *c = NULL;
		assert_int_equal(atr_gateway_call(f->dp, &spec, on_done, NULL, &c, why, sizeof(why)), 0);
		assert_non_null(c);
		atr_gateway_cancel(c, 499);
	}
	settle(&f->x);
	after = atr_deploy_stats_json(f->dp, id);
	json_array_foreach(json_object_get(after, "versions"), i, v)
	{
		if (atr_json_int(v, "version", 0) == version)
			got += atr_json_int(v, "requests", 0);
	}
	json_array_foreach(json_object_get(before, "versions"), i, v)
	{
		if (atr_json_int(v, "version", 0) == version)
			got -= atr_json_int(v, "requests", 0);
	}
	json_decref(before);
	json_decref(after);
	return got;
}

/* A deployment of 2 replicas of version 1, ready. */
static int64_t ready_deployment(struct dfx *f, const char *name, const char *alias)
{
	int64_t id = create(f, name, 2, alias, 600);

	ready_all(f, id, 1);
	assert_dep_str(f, id, "state", "ready");
	assert_rollout(f, id, "initial", "succeeded");
	return id;
}

/* ---- replicas ---- */

static void test_create_makes_service_replicas_that_become_ready(void **state)
{
	struct dfx *f = *state;
	int64_t id = create(f, "web", 2, NULL, 600), ids[4], stale[1];
	struct atr_gateway_call_spec call = { .deployment_id = id, .method = "POST", .body = "{}", .body_len = 2 };
	struct atr_gw_call *c;
	struct fake_send *s;
	json_t *svc;
	char why[200];

	/* two service jobs, placed by the engine like any job */
	assert_int_equal(f->x.be.nsent, 2);
	for (int i = 0; i < 2; i++)
		assert_string_equal(f->x.be.sent[i].kind, "service");
	assert_int_equal(replicas_of(f, id, 1, ids, 4), 2);
	assert_dep_str(f, id, "state", "deploying");
	assert_rollout(f, id, "initial", "in_progress");
	assert_int_equal(atr_gateway_call(f->dp, &call, on_done, NULL, &c, why, sizeof(why)), ATR_EBUSY);

	/* running is not ready: the worker's health check decides */
	assert_int_equal(accept_all(f), 2);
	assert_int_equal(atr_deploy_ready_count(f->dp, id, 0), 0);
	service(f, ids[0], "starting", 0);
	assert_int_equal(atr_deploy_ready_count(f->dp, id, 0), 0);
	service(f, ids[0], "ready", 0);
	assert_int_equal(atr_deploy_ready_count(f->dp, id, 0), 1);
	assert_rollout(f, id, "initial", "in_progress");
	assert_dep_str(f, id, "state", "deploying");

	/* a report of another attempt, or older than the one applied, changes nothing */
	s = fake_last_send(&f->x.be, ids[1]);
	svc = json_pack("{s:I, s:i, s:I, s:s, s:i}", "id", (json_int_t)ids[1], "attempt", s->attempt + 1, "seq",
			(json_int_t)++f->seq, "state", "ready", "port", 30000);
	atr_deploy_service_report(f->dp, s->worker_id, svc);
	json_decref(svc);
	stale[0] = ids[0];
	s = fake_last_send(&f->x.be, stale[0]);
	svc = json_pack("{s:I, s:i, s:I, s:s, s:i}", "id", (json_int_t)stale[0], "attempt", s->attempt, "seq",
			(json_int_t)1, "state", "starting", "port", 30001);
	atr_deploy_service_report(f->dp, s->worker_id, svc);
	json_decref(svc);
	settle(&f->x);
	assert_int_equal(atr_deploy_ready_count(f->dp, id, 0), 1);

	/* the same report, in a heartbeat's "services" */
	s = fake_last_send(&f->x.be, ids[1]);
	svc = json_pack("[{s:I, s:i, s:I, s:s, s:i, s:i}]", "id", (json_int_t)ids[1], "attempt", s->attempt, "seq",
			(json_int_t)++f->seq, "state", "ready", "port", 30002, "restarts", 0);
	atr_deploy_services_heartbeat(f->dp, s->worker_id, svc);
	json_decref(svc);
	settle(&f->x);
	assert_int_equal(atr_deploy_ready_count(f->dp, id, 0), 2);
	assert_rollout(f, id, "initial", "succeeded");
	assert_dep_str(f, id, "state", "ready");
	assert_dep_str(f, id, "message", "2 of 2 replicas ready");
	assert_true(has_event(f, id, "rollout_succeeded", NULL));

	/* equally busy replicas take the calls in turn */
	assert_int_equal(calls_to(f, id, 10, 1), 10);
	assert_int_equal(requests_of(f, id, ids[0]), 5);
	assert_int_equal(requests_of(f, id, ids[1]), 5);
}

static void test_lost_replica_is_placed_again(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), ids[4], w2 = efx_worker(&f->x, "w2", 0, "A100", 64);

	/* the worker goes: its replicas are lost and placed again on w2 */
	assert_int_equal(atr_store_worker_deregister(f->x.s, f->worker), 0);
	atr_engine_worker_gone(f->x.e, f->worker, "lost: its worker went offline", false);
	settle(&f->x);
	assert_int_equal(atr_deploy_ready_count(f->dp, id, 0), 0);
	assert_dep_str(f, id, "state", "degraded");
	assert_int_equal(replicas_of(f, id, 1, ids, 4), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fake_last_send(&f->x.be, ids[i])->worker_id, w2);
		assert_int_equal(fake_last_send(&f->x.be, ids[i])->attempt, 2);
	}
	/* the same jobs, not new ones: nothing counted as a failure */
	assert_int_equal(f->x.be.nsent, 4);
	ready_all(f, id, 1);
	assert_dep_str(f, id, "state", "ready");
	assert_false(has_event(f, id, "replica_failed", NULL));
}

static void test_failed_replica_is_replaced_with_backoff(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), ids[4], again[4];

	assert_int_equal(replicas_of(f, id, 1, ids, 4), 2);
	/* a replica's job ends on its own: a failure, replaced after 1 s */
	assert_int_equal(efx_report(&f->x, ids[0], f->worker, 1, "failed", 1, "oom"), 0);
	settle(&f->x);
	assert_true(has_event(f, id, "replica_failed", "oom"));
	assert_int_equal(replicas_of(f, id, 1, again, 4), 1);
	assert_dep_str(f, id, "state", "degraded");
	fake_clock_advance_ms(1001);
	dep_reconcile_all(f->dp);
	settle(&f->x);
	assert_int_equal(replicas_of(f, id, 1, again, 4), 2);
	ready_all(f, id, 1);
	assert_dep_str(f, id, "state", "ready");
}

static void test_scaling(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), ids[8];
	struct atr_deploy_patch p;
	char why[200] = "";
	json_t *o, *it;
	size_t i;
	int draining = 0;

	/* up: one more replica of the same version, no rollout */
	atr_deploy_patch_init(&p);
	p.replicas = 3;
	assert_int_equal(atr_deploy_patch(f->dp, id, &p, "ann", why, sizeof(why)), 0);
	settle(&f->x);
	assert_int_equal(replicas_of(f, id, 1, ids, 8), 3);
	assert_dep_str(f, id, "state", "degraded");
	assert_rollout(f, id, "initial", "succeeded");
	ready_all(f, id, 1);
	assert_dep_str(f, id, "state", "ready");

	/* down to 1: the highest indexes drain and are stopped */
	p.replicas = 1;
	assert_int_equal(atr_deploy_patch(f->dp, id, &p, "ann", why, sizeof(why)), 0);
	settle(&f->x);
	assert_int_equal(replicas_of(f, id, 1, ids, 8), 1);
	o = dep(f, id);
	json_array_foreach(json_object_get(o, "instances"), i, it)
	{
		if (atr_json_int(it, "replica", -1) == 0)
			assert_string_equal(atr_json_str(it, "state", ""), "ready");
		else
			draining += fake_was_cancelled(&f->x.be, atr_json_int(it, "job_id", 0));
	}
	json_decref(o);
	assert_int_equal(draining, 2);
	assert_true(has_event(f, id, "scaled", "replicas 3 -> 1"));
	assert_dep_str(f, id, "state", "ready");
}

/* ---- rolling updates ---- */

static void start_rolling(struct dfx *f, int64_t id, int64_t version_id, int64_t version)
{
	struct atr_deploy_patch p;
	char why[200] = "";

	atr_deploy_patch_init(&p);
	p.version_id = version_id;
	p.version = version;
	assert_int_equal(atr_deploy_patch(f->dp, id, &p, "ann", why, sizeof(why)), 0);
	settle(&f->x);
}

static void test_rolling_update_step_by_step(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), old[4], neu[4];
	json_t *o;

	assert_int_equal(replicas_of(f, id, 1, old, 4), 2);
	start_rolling(f, id, f->v2, 2);
	assert_rollout(f, id, "rolling", "in_progress");
	/* a surge track of version 2 as large as the deployment, with no traffic yet */
	assert_int_equal(replicas_of(f, id, 2, neu, 4), 2);
	assert_int_equal(weight_of(f, id, 1), 100);
	assert_int_equal(weight_of(f, id, 2), 0);
	accept_all(f);

	/* one new replica ready: not enough, the traffic stays */
	service(f, neu[0], "ready", 0);
	assert_rollout(f, id, "rolling", "in_progress");
	assert_int_equal(atr_deploy_ready_count(f->dp, id, 2), 1);
	assert_int_equal(calls_to(f, id, 50, 1), 50);
	assert_int_equal(f->x.be.ncancelled, 0);

	/* both: the traffic moves at once, the old replicas drain and are stopped */
	service(f, neu[1], "ready", 0);
	assert_rollout(f, id, "rolling", "succeeded");
	assert_int_equal(ntracks(f, id), 1);
	assert_int_equal(weight_of(f, id, 2), 100);
	assert_int_equal(calls_to(f, id, 50, 2), 50);
	assert_true(fake_was_cancelled(&f->x.be, old[0]));
	assert_true(fake_was_cancelled(&f->x.be, old[1]));
	assert_false(fake_was_cancelled(&f->x.be, neu[0]));
	o = dep(f, id);
	assert_int_equal(atr_json_int(o, "version", 0), 2);
	assert_int_equal(atr_json_int(o, "previous_version", 0), 1);
	json_decref(o);

	/* their workers confirm: the old replicas leave, and were not failures */
	for (int i = 0; i < 2; i++)
		assert_int_equal(efx_report(&f->x, old[i], f->worker, 1, "cancelled", 143, NULL), 0);
	settle(&f->x);
	assert_int_equal(replicas_of(f, id, 0, neu, 4), 2);
	assert_false(has_event(f, id, "replica_failed", NULL));
	assert_dep_str(f, id, "state", "ready");
}

static void test_replica_failing_fails_the_rollout(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), neu[4];
	char reason[300];

	start_rolling(f, id, f->v2, 2);
	assert_int_equal(replicas_of(f, id, 2, neu, 4), 2);
	accept_all(f);
	service(f, neu[0], "ready", 0);
	assert_int_equal(efx_report(&f->x, neu[1], f->worker, 1, "failed", 2, "bad weights"), 0);
	settle(&f->x);

	/* the new track goes, its other replica is stopped, the traffic never left version 1 */
	assert_rollout(f, id, "rolling", "failed");
	assert_non_null(strstr(rollout(f, id, "reason", reason, sizeof(reason)), "replica 1 failed"));
	assert_int_equal(ntracks(f, id), 1);
	assert_int_equal(weight_of(f, id, 1), 100);
	assert_true(fake_was_cancelled(&f->x.be, neu[0]));
	assert_int_equal(calls_to(f, id, 20, 1), 20);
	assert_dep_str(f, id, "state", "ready");
	assert_true(has_event(f, id, "rollout_failed", "bad weights"));
}

static void test_crash_looping_replica_fails_the_rollout(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), neu[4];
	char reason[300];

	start_rolling(f, id, f->v2, 2);
	assert_int_equal(replicas_of(f, id, 2, neu, 4), 2);
	accept_all(f);
	service(f, neu[0], "restarting", DEP_CRASH_LIMIT - 1);
	assert_rollout(f, id, "rolling", "in_progress");
	/* (a restart count that grows does not wake the controller: its next tick decides) */
	service(f, neu[0], "restarting", DEP_CRASH_LIMIT);
	dep_reconcile_all(f->dp);
	settle(&f->x);
	assert_rollout(f, id, "rolling", "failed");
	assert_non_null(strstr(rollout(f, id, "reason", reason, sizeof(reason)), "crashed 3 times"));
	assert_int_equal(weight_of(f, id, 1), 100);
	assert_int_equal(weight_of(f, id, 2), -1);
}

static void test_rollout_deadline(void **state)
{
	struct dfx *f = *state;
	int64_t id = create(f, "web", 2, NULL, 60), neu[4];
	char reason[300];

	ready_all(f, id, 1);
	start_rolling(f, id, f->v2, 2);
	assert_int_equal(replicas_of(f, id, 2, neu, 4), 2);
	accept_all(f);
	service(f, neu[0], "ready", 0);
	service(f, neu[1], "starting", 0);

	/* the controller's tick, on the fake clock: not yet at 59 s... */
	fake_clock_advance_ms(59000);
	dep_reconcile_all(f->dp);
	settle(&f->x);
	assert_rollout(f, id, "rolling", "in_progress");
	/* ...failed past 60 s, saying which replica held it up */
	fake_clock_advance_ms(1001);
	dep_reconcile_all(f->dp);
	settle(&f->x);
	assert_rollout(f, id, "rolling", "failed");
	rollout(f, id, "reason", reason, sizeof(reason));
	assert_non_null(strstr(reason, "1 of 2 replicas ready after 60 s"));
	assert_non_null(strstr(reason, "replica 1: health check fails"));
	assert_int_equal(weight_of(f, id, 1), 100);
	assert_true(fake_was_cancelled(&f->x.be, neu[0]));
	assert_true(fake_was_cancelled(&f->x.be, neu[1]));
}

static void test_initial_rollout_deadline_leaves_nothing_serving(void **state)
{
	struct dfx *f = *state;
	json_t *o;
	int64_t id, ids[4];
	char reason[300];

	/* the only worker is cordoned: the replicas wait, and say why */
	assert_int_equal(atr_store_worker_set_flags(f->x.s, f->worker, 1, -1), 0);
	atr_engine_worker_changed(f->x.e, f->worker, false);
	id = create(f, "web", 1, NULL, 30);
	assert_int_equal(f->x.be.nsent, 0);
	fake_clock_advance_ms(31000);
	dep_reconcile_all(f->dp);
	settle(&f->x);
	assert_rollout(f, id, "initial", "failed");
	rollout(f, id, "reason", reason, sizeof(reason));
	assert_non_null(
		strstr(reason, "0 of 1 replicas ready after 30 s (replica 0 is waiting: no schedulable worker"));
	assert_dep_str(f, id, "state", "failed");
	o = dep(f, id);
	assert_int_equal(json_array_size(json_object_get(o, "traffic")), 0);
	json_decref(o);
	/* its replica job was cancelled while queued: none is left */
	assert_int_equal(replicas_of(f, id, 0, ids, 4), 0);
	assert_int_equal(efx_count(&f->x, "SELECT count(*) FROM jobs WHERE state = 'cancelled'"), 1);
}

static void test_rollback(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), neu[4];
	json_t *o;
	char why[200] = "", trig[32];

	/* nothing earlier to go back to */
	assert_int_equal(atr_deploy_rollback(f->dp, id, "ann", why, sizeof(why)), ATR_ECONFLICT);
	assert_non_null(strstr(why, "no earlier version"));

	/* during a rolling update: it ends, the surge replicas go */
	start_rolling(f, id, f->v2, 2);
	assert_int_equal(replicas_of(f, id, 2, neu, 4), 2);
	assert_int_equal(atr_deploy_rollback(f->dp, id, "ann", why, sizeof(why)), 0);
	settle(&f->x);
	assert_rollout(f, id, "rolling", "rolled_back");
	assert_int_equal(ntracks(f, id), 1);
	/* (their dispatches have no answer yet: the engine sends the cancels once they come) */
	assert_false(fake_was_cancelled(&f->x.be, neu[0]));
	accept_all(f);
	assert_true(fake_was_cancelled(&f->x.be, neu[0]));
	assert_true(fake_was_cancelled(&f->x.be, neu[1]));

	/* after one that succeeded: a new rollout back to the previous version */
	start_rolling(f, id, f->v3, 3);
	ready_all(f, id, 3);
	assert_rollout(f, id, "rolling", "succeeded");
	o = dep(f, id);
	assert_int_equal(atr_json_int(o, "version", 0), 3);
	assert_int_equal(atr_json_int(o, "previous_version", 0), 1);
	json_decref(o);
	assert_int_equal(atr_deploy_rollback(f->dp, id, "ann", why, sizeof(why)), 0);
	settle(&f->x);
	assert_rollout(f, id, "rolling", "in_progress");
	assert_string_equal(rollout(f, id, "trigger", trig, sizeof(trig)), "rollback");
	ready_all(f, id, 1);
	assert_rollout(f, id, "rolling", "succeeded");
	o = dep(f, id);
	assert_int_equal(atr_json_int(o, "version", 0), 1);
	json_decref(o);
}

/* ---- canary ---- */

static void start_canary(struct dfx *f, int64_t id, int weight)
{
	struct atr_deploy_patch p;
	char why[200] = "";

	atr_deploy_patch_init(&p);
	p.ntracks = 2;
	p.tracks[0] =
		(struct atr_deploy_track){ .version_id = f->v1, .version = 1, .weight = 100 - weight, .replicas = -1 };
	p.tracks[1] = (struct atr_deploy_track){ .version_id = f->v2, .version = 2, .weight = weight, .replicas = -1 };
	assert_int_equal(atr_deploy_patch(f->dp, id, &p, "ann", why, sizeof(why)), 0);
	settle(&f->x);
}

static void test_canary_weights_and_promote(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), old[4], canary[4];
	int64_t to_v2;
	json_t *o;
	char why[200] = "";

	assert_int_equal(replicas_of(f, id, 1, old, 4), 2);
	start_canary(f, id, 20);
	assert_rollout(f, id, "canary", "in_progress");
	/* its share of the replicas by weight (at least one); the stable version keeps its size */
	assert_int_equal(replicas_of(f, id, 2, canary, 4), 1);
	assert_int_equal(replicas_of(f, id, 1, old, 4), 2);
	/* not ready yet: all the traffic on version 1 */
	assert_int_equal(calls_to(f, id, 100, 1), 100);

	ready_all(f, id, 2);
	assert_true(has_event(f, id, "canary_ready", NULL));
	assert_rollout(f, id, "canary", "in_progress"); /* until promoted or rolled back */
	/* about 20% to the canary (a fixed band far wider than the spread of 2000 draws) */
	to_v2 = calls_to(f, id, 2000, 2);
	assert_in_range(to_v2, 300, 500);

	assert_int_equal(atr_deploy_promote(f->dp, id, f->v3, "ann", why, sizeof(why)), ATR_ECONFLICT);
	assert_int_equal(atr_deploy_promote(f->dp, id, 0, "ann", why, sizeof(why)), 0);
	settle(&f->x);
	assert_rollout(f, id, "canary", "promoted");
	assert_int_equal(ntracks(f, id), 1);
	assert_int_equal(weight_of(f, id, 2), 100);
	o = dep(f, id);
	assert_int_equal(atr_json_int(o, "version", 0), 2);
	assert_int_equal(atr_json_int(o, "previous_version", 0), 1);
	json_decref(o);
	/* version 2 grows to the deployment's size, version 1 drains */
	assert_int_equal(replicas_of(f, id, 2, canary, 4), 2);
	assert_true(fake_was_cancelled(&f->x.be, old[0]));
	assert_true(fake_was_cancelled(&f->x.be, old[1]));
	assert_int_equal(calls_to(f, id, 50, 2), 50);
	assert_int_equal(atr_deploy_promote(f->dp, id, 0, "ann", why, sizeof(why)), ATR_ECONFLICT);
}

static void test_canary_rollback(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), canary[4];
	char why[200] = "";

	start_canary(f, id, 50);
	assert_int_equal(replicas_of(f, id, 2, canary, 4), 1);
	ready_all(f, id, 2);
	assert_in_range(calls_to(f, id, 1000, 2), 400, 600);
	assert_int_equal(atr_deploy_rollback(f->dp, id, "ann", why, sizeof(why)), 0);
	settle(&f->x);
	assert_rollout(f, id, "canary", "rolled_back");
	assert_int_equal(ntracks(f, id), 1);
	assert_int_equal(weight_of(f, id, 1), 100);
	assert_true(fake_was_cancelled(&f->x.be, canary[0]));
	assert_int_equal(calls_to(f, id, 50, 1), 50);
}

static void test_canary_needs_a_stable_version(void **state)
{
	struct dfx *f = *state;
	int64_t id = create(f, "web", 2, NULL, 600);
	struct atr_deploy_patch p;
	char why[200] = "";

	atr_deploy_patch_init(&p);
	p.ntracks = 2;
	p.tracks[0] = (struct atr_deploy_track){ .version_id = f->v1, .version = 1, .weight = 90, .replicas = -1 };
	p.tracks[1] = (struct atr_deploy_track){ .version_id = f->v2, .version = 2, .weight = 10, .replicas = -1 };
	assert_int_equal(atr_deploy_patch(f->dp, id, &p, "ann", why, sizeof(why)), ATR_ECONFLICT);
	assert_non_null(strstr(why, "no stable version"));
	assert_rollout(f, id, "initial", "in_progress");
	assert_int_equal(ntracks(f, id), 1);
}

/* ---- following an alias ---- */

static void test_alias_moves_start_rollouts(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", "production"), pinned = ready_deployment(f, "pinned", NULL), from = 0;
	char trig[32];

	assert_int_equal(atr_store_model_alias_set(f->x.s, f->model, "production", f->v2, "ann", 0, &from), 0);
	atr_models_alias_moved(f->model, "production", from, f->v2);
	settle(&f->x);
	assert_true(has_event(f, id, "alias_moved", "alias 'production' moved to version 2"));
	assert_rollout(f, id, "rolling", "in_progress");
	assert_string_equal(rollout(f, id, "trigger", trig, sizeof(trig)), "alias");
	assert_rollout(f, pinned, "initial", "succeeded");
	assert_int_equal(efx_count(&f->x, "SELECT count(*) FROM audit_log WHERE action = 'deployments.rollout.alias'"),
			 1);

	/* the same target again, another alias: nothing new */
	atr_models_alias_moved(f->model, "production", f->v2, f->v2);
	atr_models_alias_moved(f->model, "staging", 0, f->v3);
	settle(&f->x);
	assert_int_equal(efx_count(&f->x, "SELECT count(*) FROM deployment_rollouts"), 3);

	/* moved on again before version 2 was ready: that rollout is superseded */
	atr_models_alias_moved(f->model, "production", f->v2, f->v3);
	settle(&f->x);
	assert_true(has_event(f, id, "rollout_cancelled", "superseded by a rollout of version 3"));
	assert_int_equal(replicas_of(f, id, 2, NULL, 0), 0);
	assert_int_equal(replicas_of(f, id, 3, NULL, 0), 2);
	ready_all(f, id, 3);
	assert_rollout(f, id, "rolling", "succeeded");
	assert_int_equal(weight_of(f, id, 3), 100);

	/* removed: the version keeps serving */
	atr_models_alias_moved(f->model, "production", f->v3, 0);
	settle(&f->x);
	assert_true(has_event(f, id, "alias_removed", NULL));
	assert_rollout(f, id, "rolling", "succeeded");
	assert_int_equal(weight_of(f, id, 3), 100);
}

static void test_delete_stops_the_replicas(void **state)
{
	struct dfx *f = *state;
	int64_t id = ready_deployment(f, "web", NULL), ids[4];
	struct atr_deploy_ref ref;

	assert_int_equal(replicas_of(f, id, 0, ids, 4), 2);
	assert_int_equal(atr_deploy_delete(f->dp, id, "ann"), 0);
	settle(&f->x);
	assert_true(fake_was_cancelled(&f->x.be, ids[0]));
	assert_true(fake_was_cancelled(&f->x.be, ids[1]));
	assert_int_equal(atr_deploy_find(f->dp, "web", &ref), ATR_ENOTFOUND);
	assert_null(atr_deploy_json(f->dp, id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_makes_service_replicas_that_become_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_replica_is_placed_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_replica_is_replaced_with_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scaling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolling_update_step_by_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replica_failing_fails_the_rollout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_looping_replica_fails_the_rollout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollout_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_rollout_deadline_leaves_nothing_serving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canary_weights_and_promote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canary_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canary_needs_a_stable_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_moves_start_rollouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_stops_the_replicas, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
