/*
 * lineage.c: GET /api/v1/model-versions/{id}/lineage — where a model version came from
 * (its run, the dataset versions that run read and their files, its job) and what serves
 * it (deployments, added by their module through atr_models_lineage_extend).
 */
#include "api.h"
#include "atrium/model_hooks.h"
#include "atrium/store_lineage.h"

void api_lineage_get(struct atr_req *r)
{
	struct atr_model_ref ref;
	int64_t max_files;
	json_t *l;
	int rc;

	if (api_model_version_by_id_or_reply(r, ATR_PROLE_VIEWER, &ref) < 0 ||
	    atr_req_query_int(r, "files", 0, 1000, 1000, &max_files) < 0)
		return;
	if (!(l = atr_store_model_lineage(STORE(r), ref.version.id, (int)max_files, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the lineage of model version %lld",
			      (long long)ref.version.id);
		return;
	}
	atr_models_lineage_extend(APP(r), ref.version.id, l);
	atr_reply_json(r, 200, l);
}
