/*
 * lineage.c: assembles a model version's lineage from the registry, runs (id, name, status,
 * job_id, run_params), run_inputs and files. Read-only; details of jobs and deployments are
 * added by their own modules through the registry's hooks, not here.
 */
#include "atrium/store_lineage.h"
#include "atrium/db.h"
#include "atrium/err.h"

#include <string.h>

#define MAX_INPUTS 1000

/* Version basics into *mv; the source run and job ids (0: none) into run_id/job_id. */
static int version_part(struct atr_store *s, int64_t id, json_t **mv, int64_t *run_id, int64_t *job_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT v.id, p.name AS project, m.name AS model, v.version, v.state,"
					      " coalesce(v.source_run_id, 0), coalesce(v.source_job_id, 0)"
					      " FROM model_versions v JOIN models m ON m.id = v.model_id"
					      " JOIN projects p ON p.id = m.project_id WHERE v.id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*mv = json_pack("{s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "project",
				(const char *)sqlite3_column_text(st, 1), "model",
				(const char *)sqlite3_column_text(st, 2), "version",
				(json_int_t)sqlite3_column_int64(st, 3), "state",
				(const char *)sqlite3_column_text(st, 4));
		*run_id = sqlite3_column_int64(st, 5);
		*job_id = sqlite3_column_int64(st, 6);
	}
	atr_db_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
	return *mv ? 0 : ATR_ENOMEM;
}

/* Without a recorded run, the run its job recorded (the first one), if any. */
static int64_t run_of_job(struct atr_store *s, int64_t job_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM runs WHERE job_id = ? ORDER BY id LIMIT 1");
	int64_t id = 0;
	if (!st || job_id <= 0)
		return 0;
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return id;
}

static json_t *run_part(struct atr_store *s, int64_t run_id, int *err)
{
	return atr_store_json_by_id(s,
				    "SELECT r.id, r.name, r.status, r.job_id, (SELECT json_group_object(k.key,"
				    " k.value) FROM run_params k WHERE k.run_id = r.id) AS params__json"
				    " FROM runs r WHERE r.id = ?",
				    run_id, err);
}

/* Adds "files" (at most max, by path) and "truncated" to one dataset version object. */
static int add_files(struct atr_store *s, json_t *dv, int max)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT path, size, sha256 FROM files WHERE owner_kind = 'dataset_version'"
				   " AND owner_id = ? ORDER BY path LIMIT ?");
	json_t *files = json_array();
	bool more = false;
	int rc;

	if (!st || !files) {
		json_decref(files);
		atr_db_done(st);
		return st ? ATR_ENOMEM : ATR_EDB;
	}
	sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(dv, "dataset_version_id")));
	sqlite3_bind_int(st, 2, max + 1);
	rc = atr_store_collect(st, max, files, &more);
	if (json_object_set_new(dv, "files", files) < 0 || json_object_set_new(dv, "truncated", json_boolean(more)) < 0)
		return ATR_ENOMEM;
	return rc;
}

static json_t *datasets_part(struct atr_store *s, int64_t run_id, int max_files, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT v.id AS dataset_version_id, p.name AS project, d.name AS dataset, v.version,"
		" (SELECT count(*) FROM files f WHERE f.owner_kind = 'dataset_version' AND f.owner_id = v.id)"
		" AS file_count, (SELECT coalesce(sum(size), 0) FROM files f WHERE f.owner_kind = 'dataset_version'"
		" AND f.owner_id = v.id) AS total_bytes FROM run_inputs i JOIN dataset_versions v"
		" ON v.id = i.dataset_version_id JOIN datasets d ON d.id = v.dataset_id JOIN projects p"
		" ON p.id = d.project_id WHERE i.run_id = ? ORDER BY d.name, v.version LIMIT ?");
	json_t *arr = json_array(), *dv;
	bool more;
	size_t i;

	*err = st ? (arr ? 0 : ATR_ENOMEM) : ATR_EDB;
	if (*err < 0) {
		json_decref(arr);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int(st, 2, MAX_INPUTS);
	*err = atr_store_collect(st, MAX_INPUTS, arr, &more);
	json_array_foreach(arr, i, dv)
	{
		if (*err < 0)
			break;
		*err = add_files(s, dv, max_files);
	}
	if (*err < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* The version's evaluations (the edge benchmark dataset version -> evaluation -> model
 * version): newest first, at most MAX_INPUTS. */
static json_t *evaluations_part(struct atr_store *s, int64_t version_id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT e.id AS evaluation_id, b.name AS benchmark, json_object('id', v.id, 'project', p.name,"
		       " 'dataset', d.name, 'version', v.version) AS dataset_version__json, b.primary_metric,"
		       " e.primary_value, e.created_at FROM evaluations e JOIN benchmarks b ON b.id = e.benchmark_id"
		       " JOIN dataset_versions v ON v.id = e.dataset_version_id JOIN datasets d ON d.id = v.dataset_id"
		       " JOIN projects p ON p.id = d.project_id WHERE e.model_version_id = ? ORDER BY e.id DESC"
		       " LIMIT ?");
	json_t *arr = json_array();
	bool more;

	*err = st ? (arr ? 0 : ATR_ENOMEM) : ATR_EDB;
	if (*err == 0) {
		sqlite3_bind_int64(st, 1, version_id);
		sqlite3_bind_int(st, 2, MAX_INPUTS + 1);
		*err = atr_store_collect(st, MAX_INPUTS, arr, &more);
	} else {
		atr_db_done(st);
	}
	if (*err < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

json_t *atr_store_model_lineage(struct atr_store *s, int64_t version_id, int max_files, int *err)
{
	json_t *out = NULL, *mv = NULL, *run = NULL, *datasets = NULL, *evals = NULL;
	int64_t run_id = 0, job_id = 0;

	if ((*err = version_part(s, version_id, &mv, &run_id, &job_id)) < 0)
		goto out;
	if (!run_id)
		run_id = run_of_job(s, job_id);
	if (run_id && (!(run = run_part(s, run_id, err)) || !(datasets = datasets_part(s, run_id, max_files, err))))
		goto out;
	if (!datasets && !(datasets = json_array())) {
		*err = ATR_ENOMEM;
		goto out;
	}
	if (!(evals = evaluations_part(s, version_id, err)))
		goto out;
	out = json_pack("{s:O, s:O, s:O, s:o, s:[], s:O}", "model_version", mv, "run", run ? run : json_null(),
			"datasets", datasets, "job",
			job_id ? json_pack("{s:I}", "id", (json_int_t)job_id) : json_null(), "deployments",
			"evaluations", evals);
	*err = out ? 0 : ATR_ENOMEM;
out:
	json_decref(mv);
	json_decref(run);
	json_decref(datasets);
	json_decref(evals);
	return out;
}
