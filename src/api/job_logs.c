/*
 * job_logs.c: reading a job's log (by byte offset, per attempt), following it live
 * (?follow=1: a chunked answer whose connection is suspended while there is nothing new,
 * woken by the engine when bytes arrive or the job ends), and GET .../wait, which answers
 * when the job ends or the timeout passes. No thread waits: only suspended connections.
 */
#include "api.h"
#include "atrium/buf.h"
#include "atrium/engine.h"
#include "atrium/store_jobs.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define ENGINE(r) (APP(r)->engine)
#define READ_MAX (4u << 20)

const struct atr_qparam api_job_logs_query[] = {
	{ "attempt", ATR_Q_INT, 0, 1, 1000, 0, NULL, "which attempt's log (default: the latest)" },
	{ "offset", ATR_Q_INT, 0, 0, INT64_MAX, 0, NULL, "the first byte to read" },
	{ "limit", ATR_Q_INT, 0, 1, READ_MAX, 1 << 20, NULL, "at most this many bytes" },
	{ "follow", ATR_Q_BOOL, 0, 0, 0, 0, NULL, "stream new lines until the job ends (chunked)" },
	{ 0 },
};

const struct atr_qparam api_job_wait_query[] = {
	{ "timeout_s", ATR_Q_INT, 0, 0, 3600, 300, NULL, "answer after this long even if the job still runs" },
	{ 0 },
};

/* ?attempt: 1 to the job's latest attempt (the default). */
static int attempt_or_reply(struct atr_req *r, const struct atr_job_row *row, int64_t *attempt)
{
	int64_t latest = row->attempts > 0 ? row->attempts : 1;

	*attempt = atr_req_qint(r, "attempt");
	if (*attempt == 0)
		*attempt = latest;
	if (*attempt <= latest)
		return 0;
	atr_reply_invalid(r, "attempt", "'attempt' must be a whole number from 1 to %lld", (long long)latest);
	return -1;
}

/* ---- following ---- */

struct follow {
	struct atr_req *r;
	struct atr_app *app;
	struct atr_job_watch *watch;
	int64_t job_id, attempt, offset;
	bool ended;
	char banner[64];
	size_t banner_len;
};

static void follow_unwatch(struct follow *f)
{
	if (f->watch) {
		atr_engine_unwatch(f->app->engine, f->watch);
		f->watch = NULL;
	}
}

static void follow_closed(struct atr_req *r)
{
	follow_unwatch(atr_req_ctx(r));
}

static void follow_event(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct follow *f = cls;
	(void)job_id;
	(void)log_only;
	if (atr_job_state_terminal(state))
		f->ended = true;
	atr_stream_wake(f->r);
}

static long follow_read(void *cls, char *out, size_t max)
{
	struct follow *f = cls;
	struct atr_buf b;
	struct atr_job_row row;
	long n;

	if (f->banner_len) {
		n = (long)(f->banner_len < max ? f->banner_len : max);
		memcpy(out, f->banner, (size_t)n);
		memmove(f->banner, f->banner + n, f->banner_len - (size_t)n);
		f->banner_len -= (size_t)n;
		return n;
	}
	atr_buf_init(&b, max);
	if (atr_store_job_log_read(f->app->store, f->job_id, f->attempt, f->offset, max, &b) < 0) {
		atr_buf_release(&b);
		return -1;
	}
	if (b.len > 0) {
		memcpy(out, b.data, b.len);
		f->offset += (int64_t)b.len;
		n = (long)b.len;
		atr_buf_release(&b);
		return n;
	}
	atr_buf_release(&b);
	if (f->ended)
		return -1;
	/* A newer attempt started (the job was requeued): follow it from its start. */
	if (atr_store_job_row(f->app->store, f->job_id, &row) == 0) {
		json_decref(row.labels);
		if (atr_job_state_terminal(row.state))
			return -1;
		if (row.attempts > f->attempt) {
			f->attempt = row.attempts;
			f->offset = 0;
			f->banner_len = (size_t)snprintf(f->banner, sizeof(f->banner), "\n--- attempt %lld ---\n",
							 (long long)f->attempt);
			return follow_read(cls, out, max);
		}
	}
	return 0; /* nothing new: the connection waits for follow_event */
}

static void follow_done(void *cls)
{
	struct follow *f = cls;
	follow_unwatch(f);
	free(f);
}

static const struct atr_stream_ops follow_ops = { follow_read, follow_done };

static void start_follow(struct atr_req *r, const struct atr_job_row *row, int64_t attempt, int64_t offset)
{
	struct follow *f = calloc(1, sizeof(*f));

	if (!f) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	f->r = r;
	f->app = APP(r);
	f->job_id = row->id;
	f->attempt = attempt;
	f->offset = offset;
	f->ended = atr_job_state_terminal(row->state);
	if (!f->ended) {
		f->watch = atr_engine_watch(ENGINE(r), row->id, follow_event, f);
		if (!f->watch) {
			free(f);
			atr_reply_nomem(r, NULL, "out of memory");
			return;
		}
	}
	/* ctx is the stream's state: on_close stops the watch, the stream's done() frees it. */
	atr_req_set_ctx(r, f, NULL);
	atr_req_on_close(r, follow_closed);
	{
		char num[32];
		snprintf(num, sizeof(num), "%lld", (long long)attempt);
		atr_reply_header(r, "X-Job-Attempt", num);
	}
	atr_reply_stream(r, 200, "text/plain; charset=utf-8", &follow_ops, f);
}

void api_job_logs(struct atr_req *r)
{
	struct atr_job_row row = RES(r)->job;
	struct atr_buf b;
	int64_t attempt, offset = atr_req_qint(r, "offset"), limit = atr_req_qint(r, "limit"), end = 0, pruned = 0;
	char num[32];

	if (attempt_or_reply(r, &row, &attempt) < 0)
		return;
	if (atr_store_job_logs_pruned_at(STORE(r), row.id, &pruned) < 0) {
		atr_reply_err(r, ATR_EDB, NULL, "could not read the log of job %lld", (long long)row.id);
		return;
	}
	if (pruned) {
		char when[40];
		atr_time_format(pruned, when, sizeof(when));
		atr_reply_gone(r, NULL, "the log of job %lld was deleted at %s (job log retention)", (long long)row.id,
			       when);
		return;
	}
	atr_reply_header(r, "X-Job-State", atr_job_state_name(row.state));
	if (atr_req_qbool(r, "follow")) {
		start_follow(r, &row, attempt, offset);
		return;
	}
	atr_buf_init(&b, (size_t)limit);
	if (atr_store_job_log_read(STORE(r), row.id, attempt, offset, (size_t)limit, &b) < 0 ||
	    atr_store_job_log_end(STORE(r), row.id, attempt, &end) < 0) {
		atr_buf_release(&b);
		atr_reply_err(r, ATR_EDB, NULL, "could not read the log of job %lld", (long long)row.id);
		return;
	}
	snprintf(num, sizeof(num), "%lld", (long long)(offset + (int64_t)b.len));
	atr_reply_header(r, "X-Log-Next-Offset", num);
	snprintf(num, sizeof(num), "%lld", (long long)end);
	atr_reply_header(r, "X-Log-Size", num);
	snprintf(num, sizeof(num), "%lld", (long long)attempt);
	atr_reply_header(r, "X-Job-Attempt", num);
	atr_reply_data_owned(r, 200, "text/plain; charset=utf-8", atr_buf_steal(&b), b.len);
}

/* ---- waiting ---- */

struct waiter {
	uv_timer_t timer;
	struct atr_req *r;
	struct atr_app *app;
	struct atr_job_watch *watch;
	int64_t job_id;
	bool finished;
};

static void waiter_closed(uv_handle_t *h)
{
	struct waiter *w = h->data;
	atr_req_unref(w->r);
	free(w);
}

/* Answers with the job as it is now and lets go of everything. */
static void waiter_finish(struct waiter *w)
{
	struct atr_req *r = w->r;
	int rc;
	json_t *job;

	if (w->finished)
		return;
	w->finished = true;
	if (w->watch)
		atr_engine_unwatch(w->app->engine, w->watch);
	w->watch = NULL;
	atr_req_on_close(r, NULL);
	atr_req_on_shutdown(r, NULL);
	if (!atr_req_done(r)) {
		job = atr_store_job_json(w->app->store, w->job_id, &rc);
		if (job) {
			int s = atr_job_state_parse(atr_json_str(job, "state", ""));
			atr_reply_header(r, "X-Job-Terminal",
					 s >= 0 && atr_job_state_terminal((enum atr_job_state)s) ? "true" : "false");
			atr_reply_json(r, 200, job);
		} else {
			atr_reply_err(r, rc, NULL, "could not read job %lld", (long long)w->job_id);
		}
	}
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void waiter_event(void *cls, int64_t job_id, enum atr_job_state state, bool log_only)
{
	struct waiter *w = cls;
	(void)job_id;
	if (!log_only && atr_job_state_terminal(state))
		waiter_finish(w);
}

static void waiter_timeout(uv_timer_t *t)
{
	waiter_finish(t->data);
}

static void waiter_req_gone(struct atr_req *r)
{
	waiter_finish(atr_req_ctx(r));
}

void api_job_wait(struct atr_req *r)
{
	const struct atr_job_row row = RES(r)->job;
	struct waiter *w;
	int64_t timeout_s = atr_req_qint(r, "timeout_s");

	if (atr_job_state_terminal(row.state) || timeout_s == 0 || !(w = calloc(1, sizeof(*w)))) {
		json_t *job;
		int rc;
		if (!(job = atr_store_job_json(STORE(r), row.id, &rc))) {
			atr_reply_err(r, rc, NULL, "could not read job %lld", (long long)row.id);
			return;
		}
		atr_reply_header(r, "X-Job-Terminal", atr_job_state_terminal(row.state) ? "true" : "false");
		atr_reply_json(r, 200, job);
		return;
	}
	w->r = r;
	w->app = APP(r);
	w->job_id = row.id;
	w->watch = atr_engine_watch(ENGINE(r), row.id, waiter_event, w);
	uv_timer_init(APP(r)->loop, &w->timer);
	w->timer.data = w;
	atr_req_ref(r);
	atr_req_on_close(r, waiter_req_gone);
	atr_req_on_shutdown(r, waiter_req_gone);
	atr_req_set_ctx(r, w, NULL);
	atr_req_suspend(r);
	uv_timer_start(&w->timer, waiter_timeout, (uint64_t)timeout_s * 1000, 0);
}
