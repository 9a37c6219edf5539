/*
 * predictions.c: GET /api/v1/deployments/{name}/predictions — the requests and responses
 * the gateway captured for a deployment (its capture.sample_rate), newest first,
 * paginated, optionally of one version. Capturing and retention are the controller's
 * (src/deploy/capture.c).
 */
#include "api.h"

struct pred_list {
	int64_t id, version;
};

static int predictions_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	const struct pred_list *l = arg;
	return atr_store_predictions_list(STORE(r), l->id, l->version, p, arr, more);
}

void api_deployments_predictions(struct atr_req *r)
{
	struct atr_deploy_ref d;
	struct atr_project p;
	struct pred_list l;

	if (api_deployment_or_reply(r, ATR_PROLE_VIEWER, &d, &p) < 0 ||
	    atr_req_query_int(r, "version", 0, INT32_MAX, 0, &l.version) < 0)
		return;
	l.id = d.id;
	api_reply_list_cb(r, predictions_cb, &l, "captured predictions");
}
