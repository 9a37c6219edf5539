/*
 * dispatch.c: the backend that runs jobs on Atrium's own workers (atr_job_backend): HTTP from
 * the server to a worker's API on the loop with libcurl multi (client.h). POST
 * {worker}/v1/jobs starts a job, DELETE {worker}/v1/jobs/{id} cancels one; each request
 * presents the worker's secret (derived by the registry). Failures to reach a worker are
 * retried with backoff, then the job goes back to the queue and the worker is suspect for a
 * while; an answer that never came leaves the job to the worker's next heartbeat (does it
 * hold the job or not?), so a job never runs twice. The engine (src/jobs/) decides; this
 * file only sends and reports (atr_engine_dispatch_result, atr_engine_cancel_result).
 */
#include "atrium/dispatch.h"
#include "atrium/client.h"
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/registry.h"
#include "atrium/slurm.h"
#include "atrium/store_jobs.h"
#include "atrium/util.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define MAX_TRIES 4
#define BUCKETS 256 /* power of two */
static const unsigned backoff_ms[MAX_TRIES] = { 0, 200, 1000, 3000 };

/* What is in flight for one job: its dispatch (with retries) or its cancel. */
struct send {
	struct send *next;
	struct atr_dispatcher *d;
	struct atr_engine *e;
	int64_t job_id;
	bool cancel;
	int tries;
	char *body; /* the dispatch's JSON, kept for retries */
	char url[400];
	char secret[ATR_TOKEN_MAX];
	struct atr_xfer *xfer;
	uv_timer_t *retry;
};

struct atr_dispatcher {
	struct atr_dispatcher_opts o;
	struct atr_job_backend backend;
	struct send *buckets[BUCKETS];
};

static unsigned bucket(int64_t id)
{
	return (unsigned)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 40) & (BUCKETS - 1);
}

/* The dispatch (or the cancel) in flight for a job: each job has at most one of each. */
static struct send *find(struct atr_dispatcher *d, int64_t job_id, bool cancel)
{
	for (struct send *s = d->buckets[bucket(job_id)]; s; s = s->next)
		if (s->job_id == job_id && s->cancel == cancel)
			return s;
	return NULL;
}

static void retry_closed(uv_handle_t *h)
{
	free(h);
}

/* Stops and frees s (its transfer is cancelled: no callback comes). */
static void send_drop(struct send *s)
{
	struct send **pp = &s->d->buckets[bucket(s->job_id)];

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	if (s->xfer)
		atr_client_cancel(s->xfer);
	if (s->retry) {
		uv_timer_stop(s->retry);
		uv_close((uv_handle_t *)s->retry, retry_closed);
	}
	free(s->body);
	free(s);
}

static struct send *send_new(struct atr_dispatcher *d, struct atr_engine *e, const struct atr_job_dispatch *jd,
			     bool cancel)
{
	struct send *s = find(d, jd->row->id, cancel);

	if (s)
		send_drop(s); /* (a new attempt replaces what was in flight) */
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->d = d;
	s->e = e;
	s->job_id = jd->row->id;
	s->cancel = cancel;
	atr_registry_secret(d->o.registry, jd->row->worker_id, jd->worker_nonce, s->secret);
	if (cancel)
		snprintf(s->url, sizeof(s->url), "%s/v1/jobs/%lld", jd->worker_url, (long long)jd->row->id);
	else
		snprintf(s->url, sizeof(s->url), "%s/v1/jobs", jd->worker_url);
	s->next = d->buckets[bucket(s->job_id)];
	d->buckets[bucket(s->job_id)] = s;
	return s;
}

/* The message of a JSON error answer, or a short fallback. */
static const char *error_message(const struct atr_client_resp *resp, char *buf, size_t len)
{
	json_t *o = resp->len ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	const char *m = atr_json_str(json_object_get(o, "error"), "message", NULL);

	if (m)
		atr_copy(buf, len, m);
	else if (resp->status)
		snprintf(buf, len, "the worker answered %ld", resp->status);
	else
		atr_copy(buf, len, resp->error ? resp->error : "no answer");
	json_decref(o);
	return buf;
}

static bool error_field_is(const struct atr_client_resp *resp, const char *field)
{
	json_t *o = resp->len ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	const char *f = atr_json_str(json_object_get(o, "error"), "field", NULL);
	bool yes = f && strcmp(f, field) == 0;
	json_decref(o);
	return yes;
}

/* Reports the dispatch's outcome and forgets it (the engine may call back into us). */
static void finish(struct send *s, enum atr_dispatch_result res, const char *why)
{
	struct atr_engine *e = s->e;
	int64_t id = s->job_id;

	send_drop(s);
	atr_engine_dispatch_result(e, id, res, why);
}

static void send_now(struct send *s);

static void on_retry(uv_timer_t *t)
{
	struct send *s = t->data;
	uv_close((uv_handle_t *)t, retry_closed);
	s->retry = NULL;
	send_now(s);
}

static void schedule_retry(struct send *s)
{
	uv_timer_t *t = malloc(sizeof(*t));
	if (!t) {
		finish(s, ATR_DISPATCH_FAILED, "out of memory");
		return;
	}
	uv_timer_init(s->d->o.loop, t);
	t->data = s;
	s->retry = t;
	uv_timer_start(t, on_retry, backoff_ms[s->tries], 0);
}

static void on_sent(void *cls, const struct atr_client_resp *resp)
{
	struct send *s = cls;
	char why[300];

	s->xfer = NULL;
	if (resp->status == 201 || resp->status == 200) {
		finish(s, ATR_DISPATCH_ACCEPTED, NULL);
		return;
	}
	if (resp->status == 409 && error_field_is(resp, "id")) {
		finish(s, ATR_DISPATCH_ACCEPTED, NULL); /* an earlier try got through: the worker has it */
		return;
	}
	error_message(resp, why, sizeof(why));
	if (resp->status == 400) {
		finish(s, ATR_DISPATCH_REJECTED, why);
		return;
	}
	if (resp->status == 409) { /* draining, GPUs taken: its view differs from ours */
		finish(s, ATR_DISPATCH_REFUSED, why);
		return;
	}
	if (resp->curl_code == CURLE_OPERATION_TIMEDOUT && resp->status == 0) {
		finish(s, ATR_DISPATCH_UNKNOWN, why);
		return;
	}
	if (++s->tries < MAX_TRIES && resp->status != 401 && resp->status != 403) {
		schedule_retry(s);
		return;
	}
	finish(s, ATR_DISPATCH_REFUSED, why);
}

static void send_now(struct send *s)
{
	struct atr_client_req rq = { .method = "POST", .timeout_ms = 10000, .connect_timeout_ms = 3000 };

	rq.url = s->url;
	rq.bearer = s->secret;
	rq.body = s->body;
	rq.body_len = strlen(s->body);
	if (atr_client_send(s->d->o.client, &rq, on_sent, s, &s->xfer) < 0) {
		s->xfer = NULL;
		finish(s, ATR_DISPATCH_FAILED, "could not start the request");
	}
}

/* The job as the worker's API takes it: the store's dispatch view, its GPUs and its token. */
static char *dispatch_body(struct atr_dispatcher *d, const struct atr_job_dispatch *jd)
{
	json_t *body, *gpus;
	char *text;
	int err;

	body = atr_store_job_dispatch_json(d->o.store, jd->row->id, &err);
	gpus = json_array();
	if (!body || !gpus) {
		json_decref(body);
		json_decref(gpus);
		return NULL;
	}
	for (int i = 0; i < jd->row->nassigned; i++)
		json_array_append_new(gpus, json_integer(jd->row->assigned[i]));
	json_object_set_new(body, "gpus", gpus);
	json_object_set_new(body, "token", json_string(jd->token));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

static void backend_send(void *cls, struct atr_engine *e, const struct atr_job_dispatch *jd)
{
	struct atr_dispatcher *d = cls;
	struct send *s;

	if (d->o.slurm && atr_slurm_is_cluster_url(jd->worker_url)) {
		atr_slurm_send(d->o.slurm, e, jd);
		return;
	}
	if (!(s = send_new(d, e, jd, false))) {
		atr_engine_dispatch_result(e, jd->row->id, ATR_DISPATCH_FAILED, "out of memory");
		return;
	}
	if (!(s->body = dispatch_body(d, jd))) {
		finish(s, ATR_DISPATCH_FAILED, "could not read the job");
		return;
	}
	send_now(s);
}

static void on_cancel_sent(void *cls, const struct atr_client_resp *resp)
{
	struct send *s = cls;
	struct atr_engine *e = s->e;
	int64_t id = s->job_id;
	bool delivered = resp->status == 200 || resp->status == 202 || resp->status == 404;

	s->xfer = NULL;
	if (resp->status == 404) /* the worker does not have it (any more): its report or heartbeat settles it */
		atr_info("job %lld: its worker no longer has it", (long long)id);
	send_drop(s);
	atr_engine_cancel_result(e, id, delivered);
}

static void backend_cancel(void *cls, struct atr_engine *e, const struct atr_job_dispatch *jd)
{
	struct atr_dispatcher *d = cls;
	struct atr_client_req rq = { .method = "DELETE", .timeout_ms = 10000, .connect_timeout_ms = 3000 };
	struct send *s;

	if (d->o.slurm && atr_slurm_is_cluster_url(jd->worker_url)) {
		atr_slurm_cancel(d->o.slurm, e, jd);
		return;
	}
	if (!(s = send_new(d, e, jd, true))) {
		atr_engine_cancel_result(e, jd->row->id, false);
		return;
	}
	rq.url = s->url;
	rq.bearer = s->secret;
	if (atr_client_send(d->o.client, &rq, on_cancel_sent, s, &s->xfer) < 0) {
		s->xfer = NULL;
		send_drop(s);
		atr_engine_cancel_result(e, jd->row->id, false);
	}
}

static void backend_abort(void *cls, int64_t job_id)
{
	struct atr_dispatcher *d = cls;
	struct send *s = find(d, job_id, false);
	if (s) /* (a cancel in flight still goes out: the worker must stop the job) */
		send_drop(s);
	if (d->o.slurm)
		atr_slurm_abort(d->o.slurm, job_id);
}

int atr_dispatcher_new(const struct atr_dispatcher_opts *o, struct atr_dispatcher **out)
{
	struct atr_dispatcher *d = calloc(1, sizeof(*d));

	if (!d)
		return ATR_ENOMEM;
	d->o = *o;
	d->backend = (struct atr_job_backend){
		.cls = d, .send = backend_send, .cancel = backend_cancel, .abort = backend_abort
	};
	*out = d;
	return 0;
}

const struct atr_job_backend *atr_dispatcher_backend(struct atr_dispatcher *d)
{
	return &d->backend;
}

void atr_dispatcher_free(struct atr_dispatcher *d)
{
	if (!d)
		return;
	for (int i = 0; i < BUCKETS; i++)
		while (d->buckets[i])
			send_drop(d->buckets[i]);
	free(d);
}
