/*
 * lineage.c: GET /api/v1/model-versions/{id}/lineage — where a model version came from
 * (its run, the dataset versions that run read and their files, its job) and what serves
 * it (deployments, added by their module through atr_models_lineage_extend).
 */
#include "api.h"
#include "atrium/model_hooks.h"
#include "atrium/store_lineage.h"

const struct atr_qparam api_lineage_query[] = {
	{ "files", ATR_Q_INT, 0, 0, 1000, 1000, NULL, "at most this many dataset files (with their sha256)" },
	{ 0 },
};

void api_lineage_get(struct atr_req *r)
{
	int64_t id = RES(r)->version.id;
	json_t *l;
	int rc;

	if (!(l = atr_store_model_lineage(STORE(r), id, (int)atr_req_qint(r, "files"), &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the lineage of model version %lld", (long long)id);
		return;
	}
	/* a competition's hidden set the run read (an organiser's run), and evaluations on it: absent
	 * for all but its organisers (api_dsv_hidden), as everywhere */
	api_dsv_strip_hidden(r, NULL, json_object_get(l, "datasets"), "dataset_version_id");
	api_dsv_strip_hidden(r, NULL, json_object_get(l, "evaluations"), "dataset_version");
	if (json_is_object(json_object_get(l, "job")) &&
	    api_job_reads_hidden(r, json_integer_value(json_object_get(json_object_get(l, "job"), "id")),
				 ATR_PROLE_NONE))
		json_object_set_new(l, "job", json_null()); /* a job that read it: absent too */
	atr_models_lineage_extend(id, l);
	atr_reply_json(r, 200, l);
}
