/*
 * worker_jobs.c: what workers send about the jobs they run: log bytes by offset
 * (POST .../jobs/{id}/logs) and the final report (POST .../status), each accepted only from
 * the worker the job was placed on. Reports go to the engine, which applies each once;
 * users read logs through GET /api/v1/jobs/{job}/logs (job_logs.c).
 */
#include "api.h"
#include "atrium/buf.h"
#include "atrium/engine.h"
#include "atrium/store_jobs.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

#define LOG_READ_DEFAULT (1u << 20)
#define LOG_READ_MAX (16u << 20)

const struct atr_field api_job_status_schema[] = {
	{ "state", ATR_F_STRING, ATR_FF_REQUIRED, 0, 0, "succeeded|failed|cancelled|timeout", NULL },
	{ "attempt", ATR_F_INT, 0, 1, 1000000, NULL, NULL },
	{ "exit_code", ATR_F_INT, ATR_FF_NULLABLE, -1, 255, NULL, NULL },
	{ "signal", ATR_F_INT, ATR_FF_NULLABLE, 0, 128, NULL, NULL },
	{ "message", ATR_F_STRING, 0, 0, 2048, NULL, NULL },
	{ "log_bytes", ATR_F_INT, 0, 0, INT64_MAX, NULL, NULL },
	{ "started_at", ATR_F_TIME, ATR_FF_NULLABLE, 0, 0, NULL, NULL },
	{ "finished_at", ATR_F_TIME, ATR_FF_NULLABLE, 0, 0, NULL, NULL },
	{ 0 },
};

/* The job named by {id}, when it is (or was last) on the calling worker; 404 otherwise. */
static int job_or_reply(struct atr_req *r, int64_t *job_id)
{
	if (api_id_or_reply(r, "id", "job", job_id) < 0)
		return -1;
	if (!atr_engine_job_is_on(APP(r)->engine, *job_id, atr_req_who(r)->scope_id)) {
		atr_reply_not_found(r, NULL, "job %lld is not this worker's", (long long)*job_id);
		return -1;
	}
	return 0;
}

/* A whole number from a header (absent: dflt); answered 400 naming the header. */
static int header_int_or_reply(struct atr_req *r, const char *name, int64_t min, int64_t dflt, int64_t *out)
{
	const char *v = atr_req_header(r, name);
	if (!v) {
		if (dflt < 0) {
			atr_reply_invalid(r, name, "the '%s' header is required", name);
			return -1;
		}
		*out = dflt;
		return 0;
	}
	if (atr_parse_i64(v, min, INT64_MAX / 2, out) < 0) {
		atr_reply_invalid(r, name, "'%s' must be a whole number of at least %lld", name, (long long)min);
		return -1;
	}
	return 0;
}

void api_worker_job_logs_post(struct atr_req *r)
{
	size_t raw_len;
	const char *raw = atr_req_raw_body(r, &raw_len);
	int64_t job_id, attempt, off, end, len = (int64_t)raw_len, skip;
	char next[32];
	int rc;

	struct atr_job_row row;

	if (job_or_reply(r, &job_id) < 0 || header_int_or_reply(r, "X-Log-Offset", 0, -1, &off) < 0 ||
	    header_int_or_reply(r, "X-Job-Attempt", 1, 1, &attempt) < 0)
		return;
	rc = atr_store_job_row(STORE(r), job_id, &row);
	if (rc == 0)
		json_decref(row.labels); /* (only its attempts are needed) */
	if (rc < 0 || attempt > row.attempts) {
		atr_reply_invalid(r, "X-Job-Attempt", "job %lld has no attempt %lld", (long long)job_id,
				  (long long)attempt);
		return;
	}
	rc = atr_store_job_log_end(STORE(r), job_id, attempt, &end);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read the log of job %lld", (long long)job_id);
		return;
	}
	snprintf(next, sizeof(next), "%lld", (long long)end);
	if (off > end) {
		/* a gap: the worker must resend from where this log ends */
		atr_reply_header(r, "X-Log-Next-Offset", next);
		atr_reply_json(r, 409,
			       json_pack("{s:{s:s, s:s, s:s}, s:I}", "error", "code", "conflict", "message",
					 "the log has a gap: resend from next_offset", "field", "X-Log-Offset",
					 "next_offset", (json_int_t)end));
		return;
	}
	/* bytes before end are already stored (a retried batch): keep only what is new */
	skip = end - off;
	if (len > skip) {
		rc = atr_store_job_log_add(STORE(r), job_id, attempt, end, raw + skip, (size_t)(len - skip),
					   atr_req_who(r)->scope_id);
		if (rc < 0) {
			atr_reply_err(r, rc, NULL, "could not store the log of job %lld", (long long)job_id);
			return;
		}
		end = off + len;
		snprintf(next, sizeof(next), "%lld", (long long)end);
		atr_engine_log_appended(APP(r)->engine, job_id);
	}
	atr_reply_header(r, "X-Log-Next-Offset", next);
	atr_reply_json(r, 200,
		       json_pack("{s:I, s:I}", "next_offset", (json_int_t)end, "stored",
				 (json_int_t)(len > skip ? len - skip : 0)));
}

static int64_t time_field(const json_t *body, const char *key)
{
	int64_t ms = 0;
	const char *s = atr_json_str(body, key, NULL);
	if (s)
		atr_time_parse(s, &ms); /* validated by the schema */
	return ms;
}

void api_worker_job_status_post(struct atr_req *r)
{
	struct atr_job_report rep = { 0 };
	json_t *j;
	int rc;

	if (job_or_reply(r, &rep.job_id) < 0)
		return;
	rep.attempt = atr_json_int(atr_req_body(r), "attempt", 1);
	rep.worker_id = atr_req_who(r)->scope_id;
	rep.state = atr_json_str(atr_req_body(r), "state", "failed");
	rep.has_exit_code = json_is_integer(json_object_get(atr_req_body(r), "exit_code"));
	rep.exit_code = atr_json_int(atr_req_body(r), "exit_code", 0);
	rep.has_signal = json_is_integer(json_object_get(atr_req_body(r), "signal"));
	rep.signal = atr_json_int(atr_req_body(r), "signal", 0);
	rep.message = atr_json_str(atr_req_body(r), "message", "");
	rep.log_bytes = atr_json_int(atr_req_body(r), "log_bytes", 0);
	rep.started_at = time_field(atr_req_body(r), "started_at");
	rep.finished_at = time_field(atr_req_body(r), "finished_at");
	rc = atr_engine_report(APP(r)->engine, &rep); /* a repeat or a stale attempt changes nothing */
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not record the report of job %lld", (long long)rep.job_id);
		return;
	}
	j = atr_store_job_report_json(STORE(r), rep.job_id, rep.attempt, &rc);
	if (!j) {
		atr_reply_err(r, rc, NULL, "could not read the report of job %lld", (long long)rep.job_id);
		return;
	}
	atr_reply_json(r, 200, j);
}
