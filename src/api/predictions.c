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

const struct atr_qparam api_predictions_query[] = {
	ATR_Q_PAGE,
	{ "version", ATR_Q_INT, 0, 1, INT32_MAX, 0, NULL, "only calls answered by this model version" },
	{ 0 },
};

void api_deployments_predictions(struct atr_req *r)
{
	struct pred_list l;

	l.version = atr_req_qint(r, "version");
	l.id = RES(r)->deployment.id;
	api_reply_list_cb(r, predictions_cb, &l, "captured predictions");
}
