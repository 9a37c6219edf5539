/*
 * ship.c: a job's log to the server in batches by byte offset, and its final report once it
 * ended and every byte is acknowledged. The log is the job's spool (jobs/<id>/log): what
 * fetching and uploading say, and the process's output. Retries back off; nothing waits on
 * the server. When the report is in, the job is forgotten (agent_job_remove).
 */
#include "agent.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHIP_DELAY_MS 200 /* gather output this long before a batch */
#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 10000

static void ship(struct agent_job *j);

static uint64_t retry_ms(struct agent_job *j)
{
	uint64_t ms = RETRY_MIN_MS << (j->failures < 5 ? j->failures : 5);
	j->failures++;
	return ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
}

static void on_timer(uv_timer_t *t)
{
	ship(t->data);
}

static void later(struct agent_job *j, uint64_t ms)
{
	uv_timer_start(&j->timer, on_timer, ms, 0);
}

void agent_ship_soon(struct agent_job *j)
{
	if (j->ship || j->report || uv_is_active((uv_handle_t *)&j->timer))
		return;
	later(j, SHIP_DELAY_MS);
}

void agent_ship_now(struct agent_job *j)
{
	if (!j->ship && !j->report) {
		uv_timer_stop(&j->timer);
		ship(j);
	}
}

/* The next_offset of an answer's JSON, or -1. */
static int64_t next_offset(const struct atr_client_resp *resp)
{
	json_t *b = json_loadb(resp->body, resp->len, 0, NULL);
	int64_t n = json_is_integer(json_object_get(b, "next_offset"))
			    ? json_integer_value(json_object_get(b, "next_offset"))
			    : -1;
	json_decref(b);
	return n;
}

static void on_shipped(void *cls, const struct atr_client_resp *resp)
{
	struct agent_job *j = cls;
	struct atr_spool *sp = &j->log;
	int64_t next = resp->status == 200 || resp->status == 409 ? next_offset(resp) : -1;

	j->ship = NULL;
	if (next >= 0 && (uint64_t)next > sp->total) {
		/* the server holds more than this run wrote: another run's log under this attempt */
		atr_error("job %lld: the server already has %lld log bytes for attempt %lld; shipping stops",
			  (long long)j->id, (long long)next, (long long)j->attempt);
		j->log_lost = true;
		ship(j);
		return;
	}
	if (next >= 0) {
		if (resp->status == 409)
			atr_warn("job %lld: the server's log ends at %lld; resending from there", (long long)j->id,
				 (long long)next);
		j->acked = (uint64_t)next;
		atr_spool_release(sp, j->acked);
		j->failures = 0;
		ship(j);
		return;
	}
	if (resp->status == 401)
		agent_secret_rejected(j->a);
	else if (!j->a->stopping || j->failures == 0)
		atr_warn("job %lld: shipping its log failed (HTTP %ld%s%s); retrying", (long long)j->id, resp->status,
			 resp->error ? ": " : "", resp->error ? resp->error : "");
	later(j, retry_ms(j));
}

static void report(struct agent_job *j);

/* Sends the next batch, or reports when the job ended and everything is shipped. */
static void ship(struct agent_job *j)
{
	struct agent *a = j->a;
	char off[64], att[64], path[96];
	const char *hdrs[] = { off, att, NULL };
	long n;

	if (j->ship || j->report)
		return;
	if (!a->registered) {
		later(j, RETRY_MIN_MS); /* registering again: the batch waits for the new secret */
		return;
	}
	n = j->log_lost ? 0 : atr_spool_read(&j->log, j->acked, a->shipbuf, sizeof(a->shipbuf));
	if (n < 0) {
		atr_error("job %lld: log bytes from %llu are no longer available; shipping stops", (long long)j->id,
			  (unsigned long long)j->acked);
		j->log_lost = true;
		n = 0;
	}
	if (n == 0) {
		if (j->phase == AGENT_ENDED)
			report(j);
		return;
	}
	snprintf(off, sizeof(off), "X-Log-Offset: %llu", (unsigned long long)j->acked);
	snprintf(att, sizeof(att), "X-Job-Attempt: %lld", (long long)j->attempt);
	snprintf(path, sizeof(path), "/api/v1/workers/jobs/%lld/logs", (long long)j->id);
	if (agent_send(a, "POST", path, "application/octet-stream", a->shipbuf, (size_t)n, hdrs, 30000, on_shipped, j,
		       &j->ship) < 0)
		later(j, retry_ms(j));
}

/* ---- the final report ---- */

static void on_reported(void *cls, const struct atr_client_resp *resp)
{
	struct agent_job *j = cls;

	j->report = NULL;
	if (resp->status == 200) {
		atr_info("job %lld: reported %s to the server", (long long)j->id, atr_proc_state_name(j->state));
		agent_job_remove(j);
		return;
	}
	if (resp->status == 401)
		agent_secret_rejected(j->a);
	else
		atr_warn("job %lld: reporting its end failed (HTTP %ld%s%s); retrying", (long long)j->id, resp->status,
			 resp->error ? ": " : "", resp->error ? resp->error : "");
	later(j, retry_ms(j));
}

static json_t *time_or_null(int64_t ms)
{
	char ts[40];
	if (ms <= 0)
		return json_null();
	atr_time_format(ms, ts, sizeof(ts));
	return json_string(ts);
}

/* A job that never started (its inputs could not be fetched) has no exit code, signal or
 * start time: those are null. */
static void report(struct agent_job *j)
{
	struct atr_proc *p = j->proc;
	char path[96], *text;
	json_t *body;

	body = json_pack("{s:s, s:I, s:o, s:o, s:s, s:I, s:o, s:o}", "state", atr_proc_state_name(j->state), "attempt",
			 (json_int_t)j->attempt, "exit_code",
			 p && atr_proc_exit_code(p) >= 0 ? json_integer(atr_proc_exit_code(p)) : json_null(), "signal",
			 p && atr_proc_signal(p) ? json_integer(atr_proc_signal(p)) : json_null(), "message",
			 j->message, "log_bytes", (json_int_t)j->log.total, "started_at",
			 time_or_null(p ? atr_proc_started_at(p) : 0), "finished_at", time_or_null(j->finished_at));
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	snprintf(path, sizeof(path), "/api/v1/workers/jobs/%lld/status", (long long)j->id);
	if (!text ||
	    agent_send(j->a, "POST", path, NULL, text, strlen(text), NULL, 30000, on_reported, j, &j->report) < 0)
		later(j, retry_ms(j));
	free(text);
}

void agent_jobs_kick(struct agent *a)
{
	for (struct agent_job *j = a->jobs; j; j = j->next)
		if (!j->ship && !j->report && uv_is_active((uv_handle_t *)&j->timer)) {
			uv_timer_stop(&j->timer);
			ship(j);
		}
}
