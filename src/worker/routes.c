/*
 * routes.c: the worker's own small HTTP API (served by the same atr_server as the daemon,
 * with this table instead of the daemon's). Only the secret from the worker's latest
 * registration is accepted: the server presents it when it dispatches or cancels a job.
 */
#include "agent.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "stage.h"

#include <openssl/crypto.h>
#include <string.h>

static const struct atr_field agent_download_file_schema[] = {
	{ "path", ATR_F_STRING, ATR_FF_REQUIRED, 1, 1024, NULL, NULL },
	{ "sha256", ATR_F_STRING, ATR_FF_REQUIRED, 64, 64, NULL, NULL },
	{ "size", ATR_F_INT, ATR_FF_REQUIRED, 0, INT64_MAX, NULL, NULL },
	{ 0 },
};

static const struct atr_field agent_download_schema[] = {
	{ "dir", ATR_F_STRING, ATR_FF_REQUIRED, 1, 1024, NULL, NULL },
	{ "base", ATR_F_STRING, ATR_FF_REQUIRED, 1, 1024, NULL, NULL },
	{ "files", ATR_F_ARRAY, ATR_FF_REQUIRED, 0, STAGE_MAX_FILES, NULL, agent_download_file_schema },
	{ 0 },
};

/* kind "service": how its readiness is checked (service.c) */
static const struct atr_field agent_service_schema[] = {
	{ "health_path", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ 0 },
};

static const struct atr_field agent_job_schema[] = {
	{ "id", ATR_F_INT, ATR_FF_REQUIRED, 1, INT64_MAX, NULL, NULL },
	{ "run_id", ATR_F_INT, ATR_FF_NULLABLE, 0, INT64_MAX, NULL, NULL },
	{ "attempt", ATR_F_INT, 0, 1, 1000000, NULL, NULL },
	{ "kind", ATR_F_STRING, 0, 0, 0, "training|batch_inference|service", NULL },
	{ "command", ATR_F_ANY, ATR_FF_REQUIRED, 0, 256 * 1024, NULL, NULL },
	{ "env", ATR_F_STRMAP, 0, 0, 256, NULL, NULL },
	{ "gpus", ATR_F_ARRAY, 0, 0, ATR_GPU_MAX, NULL, NULL },
	{ "timeout_s", ATR_F_INT, ATR_FF_NULLABLE, 0, 30LL * 86400, NULL, NULL },
	{ "token", ATR_F_STRING, 0, 0, 255, NULL, NULL },
	{ "port", ATR_F_INT, ATR_FF_NULLABLE, 1, 65535, NULL, NULL },
	/* files to fetch before the process starts (fetch.c checks paths and sums) */
	{ "downloads", ATR_F_ARRAY, ATR_FF_NULLABLE, 0, STAGE_MAX_DOWNLOADS, NULL, agent_download_schema },
	/* after a success, send what the job wrote in output/ (upload.c) */
	{ "upload_outputs", ATR_F_BOOL, ATR_FF_NULLABLE, 0, 0, NULL, NULL },
	{ "service", ATR_F_OBJECT, ATR_FF_NULLABLE, 0, 0, NULL, agent_service_schema },
	/* placeholders of the first protocol, accepted and ignored */
	{ "inputs", ATR_F_ANY, ATR_FF_NULLABLE, 0, 1 << 20, NULL, NULL },
	{ "outputs", ATR_F_ANY, ATR_FF_NULLABLE, 0, 1 << 20, NULL, NULL },
	{ 0 },
};

#define AGENT(r) ((struct agent *)atr_req_app(r))

int agent_authenticate(void *app, const char *token, struct atr_principal *out)
{
	struct agent *a = app;
	size_t n = strlen(token);

	if (!a->registered || n != strlen(a->secret) || CRYPTO_memcmp(token, a->secret, n) != 0)
		return ATR_EUNAUTH;
	memset(out, 0, sizeof(*out));
	out->kind = ATR_P_WORKER;
	out->scope_id = a->worker_id;
	snprintf(out->username, sizeof(out->username), "server");
	return 0;
}

static void api_health(struct atr_req *r)
{
	struct agent *a = AGENT(r);
	atr_reply_json(r, 200,
		       json_pack("{s:s, s:s, s:I, s:b, s:b, s:i}", "status", a->stopping ? "stopping" : "ok", "name",
				 a->name, "worker_id", (json_int_t)a->worker_id, "registered", a->registered,
				 "draining", a->draining, "jobs", a->njobs));
}

static void api_jobs_create(struct atr_req *r)
{
	struct agent *a = AGENT(r);
	struct agent_job *j;
	char field[64] = "", why[300];
	int rc;

	if (a->stopping) {
		atr_reply_unavailable(r, NULL, "worker '%s' is stopping", a->name);
		return;
	}
	if (a->draining) {
		atr_reply_conflict(r, NULL, "worker '%s' is draining: it takes no new jobs", a->name);
		return;
	}
	if (a->fenced) {
		atr_reply_unavailable(r, NULL,
				      "worker '%s' has had no contact with the server for %llu s: it takes no new jobs"
				      " until a heartbeat succeeds",
				      a->name, (unsigned long long)(a->heartbeat_timeout_ms / 1000));
		return;
	}
	rc = agent_job_start(a, atr_req_body(r), &j, field, sizeof(field), why, sizeof(why));
	if (rc < 0) {
		atr_reply_err(r, rc, field[0] ? field : NULL, "%s", why);
		return;
	}
	atr_reply_json(r, 201, agent_job_json(j));
}

static int job_or_reply(struct atr_req *r, struct agent_job **j)
{
	int64_t id;
	if (atr_parse_i64(atr_req_param(r, "id"), 1, INT64_MAX, &id) < 0) {
		atr_reply_invalid(r, "id", "'id' must be a job id");
		return -1;
	}
	*j = agent_job_find(AGENT(r), id);
	if (!*j) {
		atr_reply_not_found(r, NULL, "job %lld is not on this worker", (long long)id);
		return -1;
	}
	return 0;
}

static void api_jobs_cancel(struct atr_req *r)
{
	struct agent_job *j;

	if (job_or_reply(r, &j) < 0)
		return;
	if (j->phase == AGENT_ENDED) {
		atr_reply_json(r, 200, agent_job_json(j)); /* already over: cancelling twice is fine */
		return;
	}
	agent_job_cancel(j);
	atr_reply_json(r, 202, agent_job_json(j));
}

static void api_jobs_get(struct atr_req *r)
{
	struct agent_job *j;
	if (job_or_reply(r, &j) == 0)
		atr_reply_json(r, 200, agent_job_json(j));
}

static void api_jobs_list(struct atr_req *r)
{
	json_t *items = json_array();

	/* bounded by AGENT_MAX_JOBS, so one page holds them all */
	for (struct agent_job *j = AGENT(r)->jobs; items && j; j = j->next)
		json_array_append_new(items, agent_job_json(j));
	if (!items) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

#define W ATR_ACCESS_WORKER

const struct atr_route agent_routes[] = {
	{ .method = "GET",
	  .pattern = "/v1/healthz",
	  .handler = api_health,
	  .access = ATR_ACCESS_PUBLIC,
	  .name = "healthz" },
	{ .method = "GET", .pattern = "/v1/jobs", .handler = api_jobs_list, .access = W, .name = "jobs.list" },
	{ .method = "POST",
	  .pattern = "/v1/jobs",
	  .handler = api_jobs_create,
	  .access = W,
	  .body = agent_job_schema,
	  .name = "jobs.create" },
	{ .method = "GET", .pattern = "/v1/jobs/{id}", .handler = api_jobs_get, .access = W, .name = "jobs.get" },
	{ .method = "DELETE",
	  .pattern = "/v1/jobs/{id}",
	  .handler = api_jobs_cancel,
	  .access = W,
	  .name = "jobs.cancel" },
};

const size_t agent_routes_count = sizeof(agent_routes) / sizeof(agent_routes[0]);
