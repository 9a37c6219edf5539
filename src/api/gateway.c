/*
 * gateway.c: the inference endpoints. The Open Inference Protocol (KServe V2) paths
 * /v2/health/{live,ready} and /v2/models/{name}[/versions/{version}][/ready|/infer], and
 * the plain passthrough POST /api/v1/deployments/{name}/predict for models that take
 * free-form JSON. {name} is the deployment's name. These handlers only check who calls
 * (a token that can read the deployment's project, a job token of that project, or an
 * invoke key of this very deployment) and which version; forwarding is
 * src/deploy/gateway.c. Inference calls are telemetry: not audited.
 *
 * Upstream paths: V2 calls go to the replica as /v2/models/{name}[/infer] (the version
 * part is the gateway's choice of replicas, so it is not passed on); predict goes to the
 * deployment's predict_path.
 */
#include "api.h"
#include "atrium/deploy.h"
#include "atrium/util.h"

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
	atr_gateway_forward(DEPLOY(r), r, d.id, version, path);
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
		atr_gateway_forward(DEPLOY(r), r, d.id, 0, NULL); /* to the deployment's predict_path */
}
