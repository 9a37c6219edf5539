/*
 * gateway.c: the inference endpoints. The Open Inference Protocol (KServe V2) paths
 * /v2/health/{live,ready} and /v2/models/{name}[/versions/{version}][/ready|/infer], and
 * the plain passthrough POST /api/v1/deployments/{name}/predict for models that take
 * free-form JSON. {name} is the deployment's name. Who may call (a token that can read the
 * deployment's project, a job token of that project, or an invoke key of this very
 * deployment) is decided by the pipeline (api_resolve); these handlers check the version,
 * suspend the request while src/deploy/gateway.c forwards the call, and relay the answer.
 * Inference calls are telemetry: not audited.
 *
 * Upstream paths: V2 calls go to the replica as /v2/models/{name}[/infer] (the version
 * part is the gateway's choice of replicas, so it is not passed on); predict goes to the
 * deployment's predict_path.
 */
#include "api.h"
#include "atrium/deploy.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPLOY(r) (APP(r)->deploy)

/*
 * The deployment named {name} (loaded, and who may call it decided, by api_resolve: its
 * project's readers, that project's job tokens, its own invoke keys; everyone else gets 404
 * as if it did not exist) and the version asked for ({version}, 0 when none).
 */
static int callable_or_reply(struct atr_req *r, struct atr_deploy_ref *d, int64_t *version)
{
	const char *v = atr_req_param(r, "version");

	*d = RES(r)->deployment;
	*version = 0;
	if (v && atr_parse_i64(v, 1, INT32_MAX, version) < 0) {
		atr_reply_invalid(r, "version", "'version' must be a version number");
		return -1;
	}
	if (*version && !atr_deploy_has_version(DEPLOY(r), d->id, *version)) {
		atr_reply_not_found(r, NULL, "deployment '%s' does not serve version %lld", d->name,
				    (long long)*version);
		return -1;
	}
	return 0;
}

void api_v2_live(struct atr_req *r)
{
	atr_reply_json(r, 200, json_pack("{s:b}", "live", 1));
}

void api_v2_ready(struct atr_req *r)
{
	if (!atr_store_ready(STORE(r))) {
		atr_reply_unavailable(r, NULL, "the database does not answer");
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:b}", "ready", 1));
}

/* ---- relaying a call (the request waits, suspended, for done) ---- */

static void on_done(void *cls, const struct atr_gateway_result *res)
{
	struct atr_req *r = cls;
	char num[32], *copy;

	atr_req_set_ctx(r, NULL, NULL);
	atr_req_on_close(r, NULL);
	atr_req_on_shutdown(r, NULL);
	if (res->err) {
		atr_reply_err(r, res->err, NULL, "%s", res->message);
	} else if (!(copy = malloc(res->len + 1))) {
		atr_reply_nomem(r, NULL, "out of memory");
	} else {
		memcpy(copy, res->body, res->len);
		snprintf(num, sizeof(num), "%lld", (long long)res->version);
		atr_reply_header(r, "X-Model-Version", num);
		atr_reply_data_owned(r, (unsigned)res->status, res->content_type, copy, res->len);
	}
	atr_req_unref(r);
}

/* The client went away while its call was in flight: the call stops. */
static void on_client_gone(struct atr_req *r)
{
	struct atr_gw_call *c = atr_req_ctx(r);
	atr_req_set_ctx(r, NULL, NULL);
	atr_req_on_shutdown(r, NULL);
	if (c) {
		atr_gateway_cancel(c, 499);
		atr_req_unref(r);
	}
}

static void on_server_stopping(struct atr_req *r)
{
	struct atr_gw_call *c = atr_req_ctx(r);
	atr_req_set_ctx(r, NULL, NULL);
	atr_req_on_close(r, NULL);
	if (!c)
		return;
	atr_reply_unavailable(r, NULL, "the server is shutting down");
	atr_gateway_cancel(c, 503);
	atr_req_unref(r);
}

static void forward(struct atr_req *r, int64_t id, int64_t version, const char *upstream_path)
{
	size_t body_len;
	struct atr_gateway_call_spec spec = { .deployment_id = id,
					      .version = version,
					      .method = atr_req_method(r),
					      .upstream_path = upstream_path,
					      .content_type = atr_req_header(r, "Content-Type"),
					      .request_id = atr_req_id(r),
					      .body = atr_req_raw_body(r, &body_len) };
	struct atr_gw_call *c;
	char why[300];
	int rc;

	spec.body_len = body_len;
	rc = atr_gateway_call(DEPLOY(r), &spec, on_done, r, &c, why, sizeof(why));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "%s", why);
		return;
	}
	atr_req_ref(r); /* (until done, or the call is cancelled) */
	atr_req_set_ctx(r, c, NULL);
	atr_req_on_close(r, on_client_gone);
	atr_req_on_shutdown(r, on_server_stopping);
	atr_req_suspend(r);
}

/* Forwards to the replica's /v2/models/{name}<suffix> (the version is the gateway's choice of
 * replicas, so it is not passed on). */
static void forward_v2(struct atr_req *r, const char *suffix)
{
	struct atr_deploy_ref d;
	int64_t version;
	char path[300];

	if (callable_or_reply(r, &d, &version) < 0)
		return;
	snprintf(path, sizeof(path), "/v2/models/%s%s", d.name, suffix);
	forward(r, d.id, version, path);
}

/* GET /v2/models/{name}[/versions/{version}]: the model server's own metadata. */
void api_v2_model(struct atr_req *r)
{
	forward_v2(r, "");
}

/* GET /v2/models/{name}[/versions/{version}]/ready: 200 while a replica is ready, else 503. */
void api_v2_model_ready(struct atr_req *r)
{
	struct atr_deploy_ref d;
	int64_t version;

	if (callable_or_reply(r, &d, &version) < 0)
		return;
	if (atr_deploy_ready_count(DEPLOY(r), d.id, version) == 0) {
		atr_reply_unavailable(r, NULL, "deployment '%s' has no ready replica", d.name);
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:s, s:b}", "name", d.name, "ready", 1));
}

void api_v2_infer(struct atr_req *r)
{
	forward_v2(r, "/infer");
}

void api_deployments_predict(struct atr_req *r)
{
	struct atr_deploy_ref d;
	int64_t version;

	if (callable_or_reply(r, &d, &version) == 0)
		forward(r, d.id, 0, NULL); /* to the deployment's predict_path */
}
