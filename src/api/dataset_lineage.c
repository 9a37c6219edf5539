/*
 * dataset_lineage.c: GET /api/v1/projects/{project}/datasets/{dataset}/versions/{version}/lineage
 * — where a dataset version came from when a job wrote it: the job, the model version it
 * ran (batch inference) and the dataset versions it read. Versions uploaded by hand have
 * "job": null and no inputs.
 */
#include "api.h"
#include "atrium/store_lineage.h"

void api_dsv_lineage(struct atr_req *r)
{
	const struct atr_dataset_version *v = &RES(r)->dsv;
	json_t *l;
	int rc;

	if (!(l = atr_store_dsv_lineage(STORE(r), v->id, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the lineage of dataset version %lld", (long long)v->version);
		return;
	}
	atr_reply_json(r, 200, l);
}
