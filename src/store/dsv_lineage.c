/*
 * dsv_lineage.c: the lineage of a dataset version: where it came from when a job wrote it (the
 * job, the model version it ran for batch inference, the dataset versions it read), and what
 * used it since (the runs that read it, the model versions those runs or their jobs made).
 * Read-only joins over dataset_versions, jobs, runs, run_inputs and model_versions.
 */
#include "atrium/store_lineage.h"
#include "atrium/db.h"
#include "atrium/err.h"

json_t *atr_store_dsv_lineage(struct atr_store *s, int64_t dsv_id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT json_object('id', v.id, 'project', p.name, 'dataset', d.name, 'version', v.version,"
		"  'state', v.state, 'source_job_id', v.source_job_id) AS dataset_version__json,"
		" (SELECT json_object('id', j.id, 'kind', j.kind, 'name', j.name, 'state', j.state, 'project', jp.name)"
		"  FROM jobs j JOIN projects jp ON jp.id = j.project_id WHERE j.id = v.source_job_id) AS job__json,"
		" (SELECT json_object('id', mv.id, 'project', mp.name, 'model', m.name, 'version', mv.version)"
		"  FROM jobs j JOIN model_versions mv ON mv.id = j.model_version_id JOIN models m ON m.id = mv.model_id"
		"  JOIN projects mp ON mp.id = m.project_id WHERE j.id = v.source_job_id) AS model_version__json,"
		" coalesce((SELECT json_group_array(json_object('dataset_version_id', iv.id, 'project', ip.name,"
		"  'dataset', idd.name, 'version', iv.version, 'as', json_extract(i.value, '$.as')))"
		"  FROM jobs j, json_each(j.inputs) i JOIN dataset_versions iv"
		"  ON iv.id = json_extract(i.value, '$.dataset_version_id') JOIN datasets idd ON idd.id = iv.dataset_id"
		"  JOIN projects ip ON ip.id = idd.project_id WHERE j.id = v.source_job_id), '[]') AS inputs__json,"
		" json_object('runs', coalesce((SELECT json_group_array(json_object('id', r.id, 'name', r.name,"
		"  'status', r.status, 'job_id', r.job_id)) FROM (SELECT r.id, r.name, r.status, r.job_id FROM "
		"run_inputs i"
		"  JOIN runs r ON r.id = i.run_id WHERE i.dataset_version_id = v.id ORDER BY r.id DESC LIMIT 100) r), "
		"json('[]')),"
		"  'model_versions', coalesce((SELECT json_group_array(json_object('id', mv.id, 'model', m.name,"
		"  'version', mv.version, 'state', mv.state)) FROM (SELECT mv.id, mv.model_id, mv.version, mv.state"
		"  FROM model_versions mv WHERE mv.source_run_id IN (SELECT run_id FROM run_inputs WHERE "
		"dataset_version_id = v.id)"
		"  OR mv.source_job_id IN (SELECT r.job_id FROM run_inputs i JOIN runs r ON r.id = i.run_id"
		"  WHERE i.dataset_version_id = v.id AND r.job_id IS NOT NULL) ORDER BY mv.id DESC LIMIT 100) mv"
		"  JOIN models m ON m.id = mv.model_id), json('[]'))) AS used_by__json"
		" FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id JOIN projects p ON p.id = d.project_id"
		" WHERE v.id = ?");

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, dsv_id);
	return atr_store_one(st, err);
}
