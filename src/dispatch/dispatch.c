/*
 * dispatch.c: HTTP from the engine to workers, on the loop with libcurl multi (client.h):
 * POST {worker}/v1/jobs to start a job, DELETE {worker}/v1/jobs/{id} to cancel one. Failures
 * to reach a worker are retried with backoff, then the job goes back to the queue and the
 * worker is suspect for a while; an answer that never came leaves the job to the worker's
 * next heartbeat (does it hold the job or not?), so a job never runs twice.
 */
#include "atrium/app.h"
#include "atrium/client.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"
#include "engine_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRIES 4
static const unsigned backoff_ms[MAX_TRIES] = { 0, 200, 1000, 3000 };

static void retry_closed(uv_handle_t *h)
{
	free(h);
}

void eng_dispatch_abort(struct eng_job *j)
{
	if (j->xfer) {
		atr_client_cancel(j->xfer);
		j->xfer = NULL;
	}
	if (j->retry) {
		uv_timer_stop(j->retry);
		uv_close((uv_handle_t *)j->retry, retry_closed);
		j->retry = NULL;
	}
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

static void send_now(struct eng_job *j);

static void on_retry(uv_timer_t *t)
{
	struct eng_job *j = t->data;
	uv_close((uv_handle_t *)t, retry_closed);
	j->retry = NULL;
	send_now(j);
}

static void schedule_retry(struct eng_job *j)
{
	uv_timer_t *t = malloc(sizeof(*t));
	if (!t) {
		eng_dispatch_failed(j->e, j, "out of memory", false);
		return;
	}
	uv_timer_init(j->e->app->loop, t);
	t->data = j;
	j->retry = t;
	uv_timer_start(t, on_retry, backoff_ms[j->tries], 0);
}

static void on_sent(void *cls, const struct atr_client_resp *resp)
{
	struct eng_job *j = cls;
	struct atr_engine *e = j->e;
	char why[300];

	j->xfer = NULL;
	if (resp->status == 201 || resp->status == 200) {
		eng_dispatch_accepted(e, j);
		return;
	}
	if (resp->status == 409 && error_field_is(resp, "id")) {
		eng_dispatch_accepted(e, j); /* an earlier try got through: the worker has it */
		return;
	}
	error_message(resp, why, sizeof(why));
	if (resp->status == 400) {
		eng_dispatch_rejected(e, j, why);
		return;
	}
	if (resp->status == 409) { /* draining, GPUs taken: its view differs from ours */
		eng_dispatch_failed(e, j, why, true);
		return;
	}
	if (resp->curl_code == CURLE_OPERATION_TIMEDOUT && resp->status == 0) {
		/* It may have started: the worker's next heartbeat says (see atr_engine_heartbeat). */
		j->dispatch_unknown = true;
		atr_warn("job %lld: no answer from its worker in time; waiting for its heartbeat",
			 (long long)j->row.id);
		return;
	}
	if (++j->tries < MAX_TRIES && resp->status != 401 && resp->status != 403) {
		schedule_retry(j);
		return;
	}
	eng_dispatch_failed(e, j, why, true);
}

static void send_now(struct eng_job *j)
{
	struct atr_engine *e = j->e;
	struct eng_worker *w = eng_worker_find(e, j->row.worker_id);
	struct atr_client_req rq = { .method = "POST", .timeout_ms = 10000, .connect_timeout_ms = 3000 };
	char url[400];
	json_t *body, *gpus;
	char *text;
	int err;

	if (!w) {
		eng_dispatch_failed(e, j, "its worker is gone", false);
		return;
	}
	body = atr_store_job_dispatch_json(e->app->store, j->row.id, &err);
	gpus = json_array();
	if (!body || !gpus) {
		json_decref(body);
		json_decref(gpus);
		eng_dispatch_failed(e, j, "could not read the job", false);
		return;
	}
	for (int i = 0; i < j->row.nassigned; i++)
		json_array_append_new(gpus, json_integer(j->row.assigned[i]));
	json_object_set_new(body, "gpus", gpus);
	json_object_set_new(body, "token", json_string(j->token));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text) {
		eng_dispatch_failed(e, j, "out of memory", false);
		return;
	}
	snprintf(url, sizeof(url), "%s/v1/jobs", w->url);
	rq.url = url;
	rq.bearer = w->secret;
	rq.body = text;
	rq.body_len = strlen(text);
	if (atr_client_send(e->app->client, &rq, on_sent, j, &j->xfer) < 0) {
		j->xfer = NULL;
		free(text);
		eng_dispatch_failed(e, j, "could not start the request", false);
		return;
	}
	free(text);
}

void eng_dispatch_send(struct atr_engine *e, struct eng_job *j)
{
	struct atr_token_spec spec = { .kind = "job",
				       .name = "job token",
				       .user_id = j->row.created_by,
				       .project_id = j->row.project_id,
				       .scope_id = j->row.id };

	j->e = e;
	j->tries = 0;
	j->cancel_sent = false;
	j->dispatch_unknown = false;
	if (atr_store_token_create(e->app->store, &spec, j->token, NULL) < 0) {
		eng_dispatch_failed(e, j, "could not make the job's token", false);
		return;
	}
	send_now(j);
}

static void on_cancel_sent(void *cls, const struct atr_client_resp *resp)
{
	struct eng_job *j = cls;
	j->xfer = NULL;
	if (resp->status == 404) {
		/* The worker does not have it (any more): its report or heartbeat settles it. */
		atr_info("job %lld: its worker no longer has it", (long long)j->row.id);
	} else if (resp->status != 200 && resp->status != 202) {
		j->cancel_sent = false; /* the heartbeat's cancel list tries again */
	}
}

void eng_dispatch_cancel(struct atr_engine *e, struct eng_job *j)
{
	struct eng_worker *w = eng_worker_find(e, j->row.worker_id);
	struct atr_client_req rq = { .method = "DELETE", .timeout_ms = 10000, .connect_timeout_ms = 3000 };
	char url[400];

	j->e = e;
	if (!w || j->xfer || j->cancel_sent)
		return; /* no worker, or a dispatch in flight: its answer sends the cancel */
	snprintf(url, sizeof(url), "%s/v1/jobs/%lld", w->url, (long long)j->row.id);
	rq.url = url;
	rq.bearer = w->secret;
	if (atr_client_send(e->app->client, &rq, on_cancel_sent, j, &j->xfer) == 0)
		j->cancel_sent = true;
	else
		j->xfer = NULL;
}
