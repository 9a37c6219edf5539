/*
 * workers.c: /api/v1/workers, the worker registry. Admins manage workers (list, drain,
 * cordon, delete); workers register with a join token, heartbeat and deregister with their
 * secret. The registry's own work (secrets, the offline sweep, its /metrics figures) is
 * src/registry/workers.c. Join tokens are in service_tokens.c, job logs and reports sent by
 * workers in worker_jobs.c.
 */
#include "api.h"
#include "atrium/engine.h"
#include "atrium/auth.h"
#include "atrium/registry.h"
#include "atrium/buf.h"
#include "atrium/metrics.h"
#include "atrium/store_identity.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"
#include "atrium/version.h"

#include <stdlib.h>
#include <string.h>

/* ---- schemas ---- */

static const struct atr_field gpu_schema[] = {
	{ "index", ATR_F_INT, ATR_FF_REQUIRED, 0, 63, NULL, NULL },
	{ "uuid", ATR_F_STRING, 0, 0, 79, NULL, NULL },
	{ "name", ATR_F_STRING, 0, 0, 95, NULL, NULL },
	{ "memory_mb", ATR_F_INT, ATR_FF_NULLABLE, 0, 1LL << 40, NULL, NULL },
	{ "memory_used_mb", ATR_F_INT, ATR_FF_NULLABLE, 0, 1LL << 40, NULL, NULL },
	{ "utilization", ATR_F_INT, ATR_FF_NULLABLE, 0, 100, NULL, NULL },
	{ "busy", ATR_F_BOOL, 0, 0, 0, NULL, NULL },
	{ 0 },
};

const struct atr_field api_worker_register_schema[] = {
	{ "join_token", ATR_F_STRING, ATR_FF_REQUIRED, 1, 127, NULL, NULL },
	{ "name", ATR_F_NAME, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "url", ATR_F_URL, ATR_FF_REQUIRED, 8, 255, NULL, NULL },
	{ "labels", ATR_F_LABELS, 0, 0, 64, NULL, NULL },
	{ "gpus", ATR_F_ARRAY, 0, 0, 64, NULL, gpu_schema },
	{ "cpus", ATR_F_INT, 0, 0, 1 << 20, NULL, NULL },
	{ "memory_mb", ATR_F_INT, 0, 0, 1LL << 40, NULL, NULL },
	{ "version", ATR_F_STRING, 0, 0, 64, NULL, NULL },
	{ 0 },
};

const struct atr_field api_worker_heartbeat_schema[] = {
	{ "gpus", ATR_F_ARRAY, 0, 0, 64, NULL, gpu_schema },
	{ "running", ATR_F_IDLIST, 0, 0, 4096, NULL, NULL },
	{ "load", ATR_F_NUMBER, 0, 0, 1000000, NULL, NULL }, /* the 1-minute load average: fractional, never negative */
	{ "memory_used_mb", ATR_F_INT, ATR_FF_NULLABLE, 0, 1LL << 40, NULL, NULL },
	/* the --work-dir file system, MiB */
	{ "disk_total_mb", ATR_F_INT, ATR_FF_NULLABLE, 0, 1LL << 50, NULL, NULL },
	{ "disk_free_mb", ATR_F_INT, ATR_FF_NULLABLE, 0, 1LL << 50, NULL, NULL },
	/* the state of each service (deployment replica) it runs: service_reports.c */
	{ "services", ATR_F_ARRAY, 0, 0, 4096, NULL, api_service_state_schema },
	{ 0 },
};

/* ---- checks the schema cannot express: items against each other ---- */

static int gpus_ok_or_reply(struct atr_req *r, const json_t *gpus)
{
	uint64_t seen = 0;
	size_t i;
	json_t *g;

	json_array_foreach(gpus, i, g)
	{
		int64_t idx = atr_json_int(g, "index", 0);
		if (seen & (1ULL << idx)) {
			atr_reply_invalid(r, "gpus", "GPU index %lld appears twice", (long long)idx);
			return -1;
		}
		seen |= 1ULL << idx;
	}
	return 0;
}

/* ---- secrets ---- */

static int id_or_reply(struct atr_req *r, const char *param, const char *what, int64_t *id)
{
	if (atr_parse_i64(atr_req_param(r, param), 1, INT64_MAX, id) < 0) {
		atr_reply_invalid(r, param, "'%s' must be %s id", param, what);
		return -1;
	}
	return 0;
}

/* ---- the worker's side: register, heartbeat, deregister ---- */

static int64_t heartbeat_s(const struct atr_app *app)
{
	int64_t s = app->cfg->heartbeat_timeout_s / 3;
	return s < 1 ? 1 : s > 60 ? 60 : s;
}

/* The join token in the body: 0 with its id, or answered 401/403/503. */
static int join_token_or_reply(struct atr_req *r, int64_t *token_id)
{
	struct atr_principal who;
	int rc = atr_auth_lookup(APP(r)->auth, atr_json_str(atr_req_body(r), "join_token", ""), &who);

	if (rc == ATR_EDB) {
		atr_reply_unavailable(r, NULL, "the token store is not available");
		return -1;
	}
	if (rc < 0) {
		atr_reply_unauthorized(r, "join_token", "'join_token' is unknown, revoked or expired");
		return -1;
	}
	if (who.kind != ATR_P_JOIN) {
		atr_reply_forbidden(r, "join_token", "'join_token' is not a worker join token");
		return -1;
	}
	*token_id = who.token_id;
	return 0;
}

/* Registers and issues the secret in one transaction; 0 or answered. */
static int register_or_reply(struct atr_req *r, const struct atr_worker_reg *reg, int64_t *id,
			     char secret[ATR_TOKEN_MAX], bool *existed_out)
{
	struct atr_store *s = STORE(r);
	char hash[65], prefix[12], tname[96];
	int64_t nonce;
	bool existed = false;
	int rc = atr_store_begin(s);

	if (rc == 0)
		rc = atr_store_worker_register(s, reg, id, &nonce, &existed);
	*existed_out = existed;
	if (rc == 0) {
		atr_registry_secret(APP(r)->registry, *id, nonce, secret);
		atr_token_hash(secret, hash);
		snprintf(prefix, sizeof(prefix), "%.8s", secret);
		snprintf(tname, sizeof(tname), "worker:%s", reg->name);
		rc = atr_store_worker_secret_add(s, *id, tname, hash, prefix);
	}
	if (rc == 0)
		rc = atr_store_commit(s);
	if (rc < 0) {
		atr_store_rollback(s);
		atr_reply_err(r, rc, NULL, "could not register worker '%s'", reg->name);
		return -1;
	}
	if (existed) {
		/* the old secret is revoked: drop it from the cache too */
		atr_auth_invalidate(APP(r)->auth);
		atr_info("worker '%s' (%lld) registered again; its previous secret is revoked", reg->name,
			 (long long)*id);
	} else {
		atr_info("worker '%s' registered as %lld", reg->name, (long long)*id);
	}
	return 0;
}

void api_workers_register(struct atr_req *r)
{
	struct atr_worker_reg reg = { 0 };
	char secret[ATR_TOKEN_MAX];
	int64_t id;
	bool existed;

	reg.name = atr_json_str(atr_req_body(r), "name", "");
	reg.url = atr_json_str(atr_req_body(r), "url", "");
	reg.version = atr_json_str(atr_req_body(r), "version", "");
	reg.labels = json_object_get(atr_req_body(r), "labels");
	reg.gpus = json_object_get(atr_req_body(r), "gpus");
	reg.cpus = atr_json_int(atr_req_body(r), "cpus", 0);
	reg.memory_mb = atr_json_int(atr_req_body(r), "memory_mb", 0);
	atr_req_audit_object(r, "worker:%s", reg.name);
	if (join_token_or_reply(r, &reg.join_token_id) < 0)
		return;
	if (reg.gpus && gpus_ok_or_reply(r, reg.gpus) < 0)
		return;
	if (register_or_reply(r, &reg, &id, secret, &existed) < 0)
		return;
	/* Jobs of an earlier registration under this name are lost: their processes are gone. */
	atr_engine_worker_changed(APP(r)->engine, id, existed);
	atr_reply_json(r, 201,
		       json_pack("{s:I, s:s, s:s, s:I, s:I}", "worker_id", (json_int_t)id, "name", reg.name, "secret",
				 secret, "heartbeat_s", (json_int_t)heartbeat_s(APP(r)), "heartbeat_timeout_s",
				 (json_int_t)APP(r)->cfg->heartbeat_timeout_s));
}

/* An integer field of the body, or -1 when absent or null (not reported). */
static int64_t json_int_or(const json_t *body, const char *name)
{
	const json_t *v = json_object_get(body, name);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

void api_workers_heartbeat(struct atr_req *r)
{
	const json_t *gpus = json_object_get(atr_req_body(r), "gpus"),
		     *running = json_object_get(atr_req_body(r), "running");
	struct atr_worker_flags f;
	struct atr_worker_usage u = { atr_json_num(atr_req_body(r), "load", -1),
				      json_int_or(atr_req_body(r), "memory_used_mb"),
				      json_int_or(atr_req_body(r), "disk_total_mb"),
				      json_int_or(atr_req_body(r), "disk_free_mb") };
	json_t *cancel, *empty = json_array();
	int rc;

	if (gpus && gpus_ok_or_reply(r, gpus) < 0) {
		json_decref(empty);
		return;
	}
	if (u.disk_total_mb >= 0 && u.disk_free_mb > u.disk_total_mb) {
		json_decref(empty);
		atr_reply_invalid(r, "disk_free_mb", "'disk_free_mb' is more than 'disk_total_mb'");
		return;
	}
	rc = atr_store_worker_heartbeat(STORE(r), atr_req_who(r)->scope_id, gpus, running, &u, &f);
	if (rc < 0) {
		json_decref(empty);
		api_reply_store_err(r, rc, "worker", "");
		return;
	}
	if (f.was_offline)
		atr_info("worker %lld is online again", (long long)atr_req_who(r)->scope_id);
	json_decref(empty);
	/* Reconcile: jobs we placed there that it no longer has are lost; jobs it has that are
	 * not its to run are to be cancelled. */
	cancel = atr_engine_heartbeat(APP(r)->engine, atr_req_who(r)->scope_id, running ? running : empty);
	if (APP(r)->deploy) /* readiness of its services (deployments) */
		atr_deploy_services_heartbeat(APP(r)->deploy, atr_req_who(r)->scope_id,
					      json_object_get(atr_req_body(r), "services"));
	atr_reply_json(r, 200,
		       json_pack("{s:s, s:b, s:b, s:o}", "state", "online", "drain", f.draining, "cordoned", f.cordoned,
				 "cancel", cancel ? cancel : json_array()));
}

void api_workers_deregister(struct atr_req *r)
{
	int rc = atr_store_worker_deregister(STORE(r), atr_req_who(r)->scope_id);

	atr_req_audit_object(r, "worker:%lld", (long long)atr_req_who(r)->scope_id);
	if (rc < 0) {
		api_reply_store_err(r, rc, "worker", "");
		return;
	}
	atr_auth_invalidate(APP(r)->auth);
	atr_info("worker %lld deregistered", (long long)atr_req_who(r)->scope_id);
	atr_engine_worker_gone(APP(r)->engine, atr_req_who(r)->scope_id, "lost: its worker stopped",
			       false); /* (it stopped its jobs before it left) */
	atr_reply_empty(r, 204);
}

/* ---- the admin's side ---- */

/* A store error about worker id: 404 when it is gone, else the error "could not <doing>". */
static void reply_worker_err(struct atr_req *r, int err, int64_t id, const char *doing)
{
	if (err == ATR_ENOTFOUND)
		atr_reply_not_found(r, NULL, "worker %lld does not exist", (long long)id);
	else
		atr_reply_err(r, err, NULL, "could not %s worker %lld", doing, (long long)id);
}

static void reply_worker(struct atr_req *r, unsigned status, int64_t id)
{
	int err;
	json_t *w = atr_store_worker_json(STORE(r), id, &err);

	if (!w) {
		reply_worker_err(r, err, id, "read");
		return;
	}
	atr_reply_json(r, status, w);
}

const struct atr_qparam api_workers_list_query[] = {
	ATR_Q_PAGE,
	{ "state", ATR_Q_ENUM, 0, 0, 0, 0, "online|offline", NULL },
	{ "schedulable", ATR_Q_BOOL, 0, 0, 0, -1, NULL, "only workers that take (or do not take) new jobs" },
	{ 0 },
};

void api_workers_list(struct atr_req *r)
{
	struct atr_page p;
	json_t *items;
	bool more;
	int rc;

	if (atr_page_from_req(r, &p) < 0 || !(items = api_new_items(r)))
		return;
	rc = atr_store_worker_list(STORE(r), atr_req_query(r, "state"), (int)atr_req_qint(r, "schedulable"), &p, items,
				   &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list workers");
		return;
	}
	atr_reply_page(r, items, more);
}

void api_workers_get(struct atr_req *r)
{
	int64_t id;
	if (id_or_reply(r, "id", "a worker", &id) == 0)
		reply_worker(r, 200, id);
}

static void set_flags(struct atr_req *r, int cordoned, int draining)
{
	int64_t id;
	int rc;

	if (id_or_reply(r, "id", "a worker", &id) < 0)
		return;
	atr_req_audit_object(r, "worker:%lld", (long long)id);
	rc = atr_store_worker_set_flags(STORE(r), id, cordoned, draining);
	if (rc < 0) {
		reply_worker_err(r, rc, id, "change");
		return;
	}
	atr_engine_worker_changed(APP(r)->engine, id, false);
	reply_worker(r, 200, id);
}

void api_workers_drain(struct atr_req *r)
{
	set_flags(r, -1, 1);
}

void api_workers_cordon(struct atr_req *r)
{
	set_flags(r, 1, -1);
}

void api_workers_uncordon(struct atr_req *r)
{
	set_flags(r, 0, 0);
}

const struct atr_qparam api_workers_delete_query[] = {
	{ "force", ATR_Q_BOOL, 0, 0, 0, 0, NULL, "forget the worker even while it is online" },
	{ 0 },
};

void api_workers_delete(struct atr_req *r)
{
	char state[16];
	int64_t id;
	int rc;
	bool force;

	if (id_or_reply(r, "id", "a worker", &id) < 0)
		return;
	atr_req_audit_object(r, "worker:%lld", (long long)id);
	force = atr_req_qbool(r, "force");
	rc = atr_store_worker_state(STORE(r), id, state);
	if (rc == 0 && strcmp(state, "online") == 0 && !force) {
		atr_reply_conflict(r, NULL,
				   "worker %lld is online: stop its agent first (it deregisters), or add ?force=true",
				   (long long)id);
		return;
	}
	if (rc == 0)
		rc = atr_store_worker_delete(STORE(r), id);
	if (rc < 0) {
		reply_worker_err(r, rc, id, "delete");
		return;
	}
	atr_auth_invalidate(APP(r)->auth);
	atr_engine_worker_gone(APP(r)->engine, id, "lost: its worker was deleted", true);
	atr_reply_empty(r, 204);
}
