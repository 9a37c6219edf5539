/*
 * reconcile.c: the job engine's answers to the workers: registrations and inventories,
 * workers lost (offline, deregistered, deleted, registered again), heartbeats reconciled
 * against what was placed, and final reports applied once (with the job's outputs becoming
 * a model or dataset version).
 */
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_models.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"
#include "jobs_internal.h"

#include <stdlib.h>
#include <string.h>

/* On success with outputs.model: the job's uploaded files become a committed model version. */
static int publish_outputs(struct atr_engine *e, int64_t id, const char **why)
{
	int err;
	json_t *job = atr_store_job_json(e->o.store, id, &err), *outs;
	const char *model, *dataset;
	char actor[32];
	int64_t project_id = 0, run_id;
	int rc = 0;

	if (!job)
		return err;
	outs = json_object_get(job, "outputs");
	model = atr_json_str(outs, "model", NULL);
	dataset = atr_json_str(outs, "dataset", NULL);
	run_id = atr_json_int(job, "run_id", 0);
	snprintf(actor, sizeof(actor), "job:%lld", (long long)id);
	if (model || dataset) {
		struct atr_job_row row;
		if ((rc = atr_store_job_row(e->o.store, id, &row)) == 0) {
			project_id = row.project_id;
			json_decref(row.labels);
		}
	}
	if (rc == 0 && model) {
		struct atr_model m;
		struct atr_model_version v;
		struct atr_model_version_spec spec = { .source_run_id = run_id,
						       .source_job_id = id,
						       .actor = actor,
						       .copy_from_kind = "job_output",
						       .copy_from_id = id,
						       .commit = true,
						       .description = atr_json_str(job, "name", "") };
		rc = atr_store_model_find_or_create(e->o.store, project_id, model, actor, &m);
		spec.model_id = m.id;
		if (rc == 0)
			rc = atr_store_model_version_create(e->o.store, &spec, &v);
		if (rc == 0)
			rc = atr_store_job_set_outputs(e->o.store, id, v.id, 0);
		if (rc < 0)
			*why = "could not register the output model version";
	}
	if (rc == 0 && dataset) {
		int64_t ds_id;
		struct atr_dataset_version v;
		rc = atr_store_dataset_find(e->o.store, project_id, dataset, &ds_id);
		if (rc == ATR_ENOTFOUND)
			rc = atr_store_dataset_create(e->o.store, project_id, dataset, "", NULL, 0, &ds_id);
		if (rc == 0)
			rc = atr_store_dsv_create(e->o.store, ds_id, atr_json_str(job, "name", ""), 0, id, 0, &v);
		if (rc == 0)
			rc = atr_store_files_copy(e->o.store, "job_output", id, "dataset_version", v.id);
		if (rc == 0)
			rc = atr_store_dsv_commit(e->o.store, v.id, -1, NULL, NULL);
		if (rc == 0)
			rc = atr_store_job_set_outputs(e->o.store, id, 0, v.id);
		if (rc < 0)
			*why = "could not register the output dataset version";
	}
	json_decref(job);
	return rc;
}

void atr_engine_worker_changed(struct atr_engine *e, int64_t worker_id, bool registered_again)
{
	struct eng_worker *w;

	if (registered_again) {
		/* A new registration under a known name: the processes of the old one are gone. */
		for (struct eng_job *j = e->head, *next; j; j = next) {
			next = j->next;
			if (j->row.worker_id == worker_id &&
			    (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING))
				eng_lose(e, j, "lost: its worker registered again", 0);
		}
	}
	w = eng_worker_load(e, worker_id);
	if (w && !w->online)
		atr_engine_worker_gone(e, worker_id, "lost: its worker went offline", true);
	atr_engine_kick(e);
}

void atr_engine_worker_gone(struct atr_engine *e, int64_t worker_id, const char *why, bool may_still_run)
{
	struct eng_worker *w = eng_worker_find(e, worker_id);
	int64_t last = w && w->last_seen_ms ? w->last_seen_ms : atr_now_ms();
	int64_t hold = may_still_run ? last + e->o.heartbeat_timeout_s * 1000 + ATR_FENCE_MARGIN_MS : 0;

	for (struct eng_job *j = e->head, *next; j; j = next) {
		next = j->next;
		if (j->row.worker_id == worker_id &&
		    (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING))
			eng_lose(e, j, why, hold);
	}
	eng_worker_load(e, worker_id);
	atr_engine_kick(e);
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static bool listed(const int64_t *ids, size_t n, int64_t id)
{
	return n && bsearch(&id, ids, n, sizeof(*ids), cmp_id);
}

json_t *atr_engine_heartbeat(struct atr_engine *e, int64_t worker_id, const json_t *running)
{
	json_t *cancel = json_array();
	int64_t now = atr_now_ms(), *ids = NULL;
	size_t i, n = json_array_size(running);
	struct eng_worker *w;
	json_t *v;

	/* the ids it reports, sorted: each of its jobs is looked up, not searched for */
	if (n && !(ids = malloc(n * sizeof(*ids)))) {
		json_decref(cancel);
		return NULL;
	}
	json_array_foreach(running, i, v) ids[i] = json_integer_value(v);
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_id);
	w = eng_worker_load(e, worker_id);
	if (w)
		w->last_seen_ms = now;
	for (struct eng_job *j = w ? w->jobs : NULL, *next; j; j = next) {
		next = j->wnext;
		if (j->row.worker_id != worker_id ||
		    (j->row.state != ATR_JOB_DISPATCHED && j->row.state != ATR_JOB_RUNNING))
			continue;
		if (listed(ids, n, j->row.id)) {
			if (j->row.state == ATR_JOB_DISPATCHED && !j->sending)
				eng_dispatch_accepted(e, j); /* the answer was lost, the job runs */
			else if (j->row.cancel_requested)
				json_array_append_new(cancel, json_integer(j->row.id));
			continue;
		}
		/*
		 * Not listed. A heartbeat is composed before it is sent: one that left the worker
		 * just before a dispatch arrived there can reach us after the worker's 201 moved
		 * the job to running. So a job dispatched within the grace is not lost yet (running
		 * or not); a later heartbeat lists it, or the grace ends.
		 */
		if (now - j->dispatched_ms > DISPATCH_GRACE_MS)
			eng_lose(e, j, "lost: its worker no longer has it", 0);
	}
	/* Jobs the worker holds that are not (or no longer) its to run: stop them. */
	json_array_foreach(running, i, v)
	{
		struct eng_job *j = eng_job_find(e, json_integer_value(v));
		if (!j || j->row.worker_id != worker_id)
			json_array_append_new(cancel, json_integer(json_integer_value(v)));
	}
	free(ids);
	return cancel;
}

bool atr_engine_job_is_on(struct atr_engine *e, int64_t job_id, int64_t worker_id)
{
	struct eng_job *j = eng_job_find(e, job_id);
	struct atr_job_row row;
	bool on;

	if (j)
		return j->row.worker_id == worker_id;
	/* Ended: its last worker may still ship the tail of its log and its report. */
	if (atr_store_job_row(e->o.store, job_id, &row) < 0)
		return false;
	on = row.worker_id == worker_id;
	json_decref(row.labels);
	return on;
}

bool atr_engine_job_current(struct atr_engine *e, int64_t job_id, int64_t worker_id, int64_t attempt)
{
	struct eng_job *j = eng_job_find(e, job_id);
	return j && j->row.worker_id == worker_id && j->row.attempts == attempt &&
	       (j->row.state == ATR_JOB_DISPATCHED || j->row.state == ATR_JOB_RUNNING);
}

int atr_engine_report(struct atr_engine *e, const struct atr_job_report *rep)
{
	struct eng_job *j = eng_job_find(e, rep->job_id);
	int kept = atr_store_job_report_put(e->o.store, rep); /* (every report is kept, applied or not) */

	if (kept < 0)
		return kept;
	struct atr_job_change c = { .attempts = -1 };
	enum atr_job_state to;
	char msg[600];
	const char *why = NULL;
	int64_t id = rep->job_id, run;
	int rc;

	if (!j || j->row.worker_id != rep->worker_id || j->row.attempts != rep->attempt ||
	    (j->row.state != ATR_JOB_RUNNING && j->row.state != ATR_JOB_DISPATCHED))
		return 0; /* ended already, or a stale attempt: recorded, not applied */
	if (j->row.state == ATR_JOB_DISPATCHED && eng_move(e, j, ATR_JOB_RUNNING, NULL) < 0)
		return ATR_EDB;
	run = j->row.run_id;
	c.set_exit = rep->has_exit_code;
	c.exit_code = rep->exit_code;
	if (!strcmp(rep->state, "succeeded")) {
		to = ATR_JOB_SUCCEEDED;
		if (publish_outputs(e, id, &why) < 0)
			to = ATR_JOB_FAILED;
		snprintf(msg, sizeof(msg), "%s",
			 why				 ? why
			 : rep->message && *rep->message ? rep->message
							 : "succeeded");
	} else if (!strcmp(rep->state, "cancelled") && !j->row.cancel_requested) {
		/* Nobody asked: the worker stopped and could not wait for it. Hand it back. */
		eng_lose(e, j, "handed back: its worker stopped before it ended", 0);
		return 0;
	} else if (!strcmp(rep->state, "cancelled")) {
		to = ATR_JOB_CANCELLED;
		atr_copy(msg, sizeof(msg), rep->message && *rep->message ? rep->message : "cancelled");
	} else if (!strcmp(rep->state, "timeout")) {
		to = ATR_JOB_FAILED;
		snprintf(msg, sizeof(msg), "timed out after %d s", j->row.timeout_s);
	} else {
		to = ATR_JOB_FAILED;
		atr_copy(msg, sizeof(msg), rep->message && *rep->message ? rep->message : "failed");
	}
	c.message = msg;
	rc = eng_move(e, j, to, &c);
	if (rc == 0)
		eng_settle(e, id, run, to);
	return rc;
}

int atr_engine_attempt_lost(struct atr_engine *e, int64_t job_id, int64_t worker_id, int64_t attempt, const char *why)
{
	struct eng_job *j = eng_job_find(e, job_id);
	struct atr_job_change c = { .attempts = -1, .message = why };
	enum atr_job_state to;
	char msg[600];
	int64_t run;
	int rc;

	if (!j || j->row.worker_id != worker_id || j->row.attempts != attempt ||
	    (j->row.state != ATR_JOB_RUNNING && j->row.state != ATR_JOB_DISPATCHED))
		return 0; /* ended already, or a stale attempt */
	if (eng_move(e, j, ATR_JOB_LOST, &c) < 0)
		return ATR_EDB;
	if (j->row.attempts < j->row.max_attempts && !j->row.cancel_requested) {
		snprintf(msg, sizeof(msg), "requeued: %s", why);
		eng_requeue_or_fail(e, j, msg, 0);
		return 0;
	}
	to = j->row.cancel_requested ? ATR_JOB_CANCELLED : ATR_JOB_FAILED;
	snprintf(msg, sizeof(msg), "%s: %s; no attempts remain (max_attempts %d)",
		 to == ATR_JOB_CANCELLED ? "cancelled" : "failed", why, j->row.max_attempts);
	c.message = msg;
	run = j->row.run_id;
	rc = eng_move(e, j, to, &c);
	if (rc == 0)
		eng_settle(e, job_id, run, to);
	return rc;
}

int atr_engine_set_port(struct atr_engine *e, int64_t job_id, int port)
{
	return atr_store_job_set_port(e->o.store, job_id, port);
}
