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

/* A competition's hidden set that the run read (an organiser's run) is named, but its files
 * are not listed to those who may not see it (api_dsv_hidden). */
static void hide_hidden_sets(struct atr_req *r, json_t *datasets)
{
	json_t *dv;
	size_t i;

	json_array_foreach(datasets, i, dv)
	{
		if (!api_dsv_hidden(r, json_integer_value(json_object_get(dv, "dataset_version_id"))))
			continue;
		json_object_set_new(dv, "files", json_array());
		json_object_set_new(dv, "hidden", json_true());
	}
}

void api_lineage_get(struct atr_req *r)
{
	int64_t id = RES(r)->version.id;
	json_t *l;
	int rc;

	if (!(l = atr_store_model_lineage(STORE(r), id, (int)atr_req_qint(r, "files"), &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the lineage of model version %lld", (long long)id);
		return;
	}
	hide_hidden_sets(r, json_object_get(l, "datasets"));
	atr_models_lineage_extend(id, l);
	atr_reply_json(r, 200, l);
}
