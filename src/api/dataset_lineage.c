/*
 * dataset_lineage.c: GET /api/v1/projects/{project}/datasets/{dataset}/versions/{version}/lineage
 * — where a dataset version came from when a job wrote it: the job, the model version it
 * ran (batch inference) and the dataset versions it read. Versions uploaded by hand have
 * "job": null and no inputs. A competition's hidden set among the inputs (and a job that read
 * it) is left out for all but its organisers.
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
	/* the job that wrote it may have read a competition's hidden set: that job and the set are
	 * absent but for its organisers (api_job_reads_hidden decides by each input, whatever the role) */
	api_dsv_strip_hidden(r, NULL, json_object_get(l, "inputs"), "dataset_version_id");
	if (json_is_object(json_object_get(l, "job")) &&
	    api_job_reads_hidden(r, json_integer_value(json_object_get(json_object_get(l, "job"), "id")),
				 ATR_PROLE_NONE))
		json_object_set_new(l, "job", json_null());
	atr_reply_json(r, 200, l);
}
