/*
 * idempotency.c: where Idempotency-Key answers are kept (the server's idem_get/idem_put
 * hooks). A stored answer belongs to one caller (a user, or one token of another kind: a job
 * keeps its own keys) and one request: the route and the resource its path points at, so the
 * same key sent to another project's route is a 409, never another project's answer. The
 * pipeline asks only after access to the resource was decided.
 */
#include "api.h"
#include "atrium/store_identity.h"

#include <stdio.h>

/* Whose keys: users by their id; any other token by its own id (negative). */
static int64_t key_owner(const struct atr_req *r)
{
	return atr_req_who(r)->kind == ATR_P_USER ? atr_req_who(r)->user_id : -atr_req_who(r)->token_id;
}

static int64_t resource_id(const struct atr_req *r)
{
	const struct api_res *x = RES(r);

	if (!x)
		return 0;
	switch (atr_req_route(r)->resource) {
	case ATR_RES_PROJECT:
		return x->project.id;
	case ATR_RES_DATASET:
		return x->dataset_id;
	case ATR_RES_DATASET_VERSION:
		return x->dsv.id;
	case ATR_RES_RUN:
		return x->run.id;
	case ATR_RES_JOB:
		return x->job.id;
	case ATR_RES_MODEL:
		return x->model.id;
	case ATR_RES_MODEL_VERSION:
	case ATR_RES_MODEL_VERSION_ID:
		return x->version.id;
	case ATR_RES_DEPLOYMENT:
		return x->deployment.id;
	case ATR_RES_PROMOTION:
		return x->promotion.id;
	default:
		return 0;
	}
}

/* "runs.create project:12": what the request is, as the stored answer remembers it. */
static void request_identity(const struct atr_req *r, char *out, size_t len)
{
	snprintf(out, len, "%s %s:%lld", atr_req_route(r)->name, atr_res_name(atr_req_route(r)->resource),
		 (long long)resource_id(r));
}

int api_idem_get(void *app, struct atr_req *r, const char *key, unsigned *status, char **body)
{
	char what[200];

	request_identity(r, what, sizeof(what));
	return atr_store_idem_get(((struct atr_app *)app)->store, key_owner(r), key, what, status, body);
}

void api_idem_put(void *app, struct atr_req *r, const char *key, unsigned status, const char *body)
{
	char what[200];

	request_identity(r, what, sizeof(what));
	if (atr_store_idem_put(((struct atr_app *)app)->store, key_owner(r), key, what, status, body) < 0)
		atr_warn("request %s: could not keep the answer of Idempotency-Key '%s'", atr_req_id(r), key);
}
