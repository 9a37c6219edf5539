/*
 * gateway.c: forwarding inference requests to replicas. A call picks a version by the
 * traffic split (or the one asked for), then among that version's ready replicas the one
 * with the fewest requests outstanding (ties taken in turn), and sends the client's body
 * with libcurl multi (connections to replicas are reused) while the client's connection
 * is suspended. A connection that cannot be made is tried once more on another replica;
 * nothing is ever sent twice once a replica may have received it. The answer is relayed
 * as is. Statistics are counted in memory; sampled calls are captured (capture.c).
 * Nothing here touches the database.
 */
#include "atrium/app.h"
#include "atrium/client.h"
#include "atrium/config.h"
#include "atrium/http.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct gw_call {
	struct atr_req *r;
	struct atr_deploy *dp;
	struct dep *d;
	struct dep_replica *rep;
	struct atr_xfer *xfer;
	uint64_t t0;
	int64_t version; /* asked for; 0: by the traffic split */
	bool retried;
	char path[512];
	char content_type[128];
	char request_id_header[64];
};

/* Whether a replica may take the call (exclude: the one that just refused a connection). */
static bool eligible(const struct dep_replica *r, const struct dep_replica *exclude, int64_t now)
{
	return r != exclude && rep_routable(r, now);
}

static bool track_has_eligible(const struct dep *d, const struct dep_track *t, const struct dep_replica *exclude,
			       int64_t now)
{
	for (const struct dep_replica *r = d->reps; r; r = r->next)
		if (r->generation == t->generation && eligible(r, exclude, now))
			return true;
	return false;
}

/* A track by weight among those that can answer now (their shares renormalised). */
static const struct dep_track *pick_track(struct dep *d, const struct dep_replica *exclude, int64_t now)
{
	int total = 0, x;

	for (int i = 0; i < d->ntracks; i++)
		if (d->tracks[i].weight > 0 && track_has_eligible(d, &d->tracks[i], exclude, now))
			total += d->tracks[i].weight;
	if (total == 0)
		return NULL;
	x = (int)(atr_fast_rand() % (uint64_t)total);
	for (int i = 0; i < d->ntracks; i++) {
		if (d->tracks[i].weight <= 0 || !track_has_eligible(d, &d->tracks[i], exclude, now))
			continue;
		if (x < d->tracks[i].weight)
			return &d->tracks[i];
		x -= d->tracks[i].weight;
	}
	return NULL;
}

static struct dep_replica *pick(struct dep *d, int64_t version, const struct dep_replica *exclude)
{
	int64_t now = atr_now_ms();
	const struct dep_track *t = NULL;
	struct dep_replica *best = NULL;
	unsigned n = 0, start, i = 0;

	if (!version && !(t = pick_track(d, exclude, now)))
		return NULL;
	for (struct dep_replica *r = d->reps; r; r = r->next)
		if (eligible(r, exclude, now) && (t ? r->generation == t->generation : r->version == version))
			n++;
	if (n == 0)
		return NULL;
	/* fewest outstanding; among equals, start from a rotating position so all get their turn */
	start = d->rr++ % n;
	for (struct dep_replica *r = d->reps; r; r = r->next) {
		if (!eligible(r, exclude, now) || (t ? r->generation != t->generation : r->version != version))
			continue;
		if (!best || r->outstanding < best->outstanding || (r->outstanding == best->outstanding && i == start))
			best = r;
		i++;
	}
	return best;
}

static void in_flight(struct gw_call *c, int delta)
{
	struct dep_stats *v = dep_vstats(c->d, c->rep->version);
	c->rep->outstanding += delta;
	c->d->total.in_flight += delta;
	if (v)
		v->in_flight += delta;
}

/* Lets go of everything the call holds; the request may still be answered by the caller. */
static void call_free(struct gw_call *c)
{
	struct atr_req *r = c->r;

	if (c->xfer) {
		atr_client_cancel(c->xfer);
		c->xfer = NULL;
		in_flight(c, -1);
	}
	r->on_close = NULL;
	r->on_shutdown = NULL;
	r->ctx = NULL;
	if (c->rep)
		rep_unref(c->rep);
	dep_unref(c->d);
	free(c);
	atr_req_unref(r);
}

static void on_answer(void *cls, const struct atr_client_resp *resp);

static int send_to(struct gw_call *c)
{
	struct atr_req *r = c->r;
	const char *headers[] = { c->request_id_header, NULL };
	char url[900];
	struct atr_client_req rq = {
		.method = r->method,
		.url = url,
		.content_type = c->content_type[0] ? c->content_type : NULL,
		.timeout_ms = c->d->row.timeout_ms,
		.connect_timeout_ms = 2000,
		.max_response = (size_t)c->dp->app->cfg->max_body_bytes,
		.headers = headers,
	};
	int rc;

	snprintf(url, sizeof(url), "%s%s", c->rep->url, c->path);
	if (strcmp(r->method, "GET") != 0) {
		rq.body = r->raw_body ? r->raw_body : "";
		rq.body_len = r->raw_len;
	}
	rc = atr_client_send(c->dp->app->client, &rq, on_answer, c, &c->xfer);
	if (rc < 0) {
		c->xfer = NULL;
		return rc;
	}
	c->rep->requests++;
	in_flight(c, 1);
	return 0;
}

/* The final answer: stats, capture, reply, release. */
static void finish(struct gw_call *c, unsigned status, const struct atr_client_resp *resp)
{
	uint64_t us = atr_mono_us() - c->t0;
	int64_t version = c->rep ? c->rep->version : 0;

	dep_stats_observe(c->d, version, status, us);
	if (c->d->row.sample_rate > 0)
		dep_capture(c->d, c->rep ? c->rep->version_id : 0, version, status, us, c->content_type, c->r->raw_body,
			    c->r->raw_len, resp ? resp->body : NULL, resp ? resp->len : 0);
	call_free(c);
}

static void relay(struct gw_call *c, const struct atr_client_resp *resp)
{
	char *copy = malloc(resp->len + 1), num[32];
	unsigned status = (unsigned)resp->status;

	if (!copy) {
		atr_reply_nomem(c->r, NULL, "out of memory");
		finish(c, 503, NULL);
		return;
	}
	memcpy(copy, resp->body, resp->len);
	snprintf(num, sizeof(num), "%lld", (long long)c->rep->version);
	atr_reply_header(c->r, "X-Model-Version", num);
	atr_reply_data_owned(c->r, status, resp->content_type[0] ? resp->content_type : NULL, copy, resp->len);
	finish(c, status, resp);
}

static void on_answer(void *cls, const struct atr_client_resp *resp)
{
	struct gw_call *c = cls;
	struct dep_replica *next;

	c->xfer = NULL;
	in_flight(c, -1);
	if (resp->curl_code == CURLE_OK && resp->status > 0) {
		relay(c, resp);
		return;
	}
	if ((resp->curl_code == CURLE_COULDNT_CONNECT || resp->curl_code == CURLE_COULDNT_RESOLVE_HOST) &&
	    resp->status == 0) {
		/* Nothing reached the replica: another one may take it, once. */
		c->rep->suspect_until = atr_now_ms() + DEP_SUSPECT_MS;
		if (!c->retried && (next = pick(c->d, c->version, c->rep))) {
			atr_debug("deployment '%s': replica %s refused the connection; trying %s", c->d->row.name,
				  c->rep->url, next->url);
			rep_unref(c->rep);
			c->rep = next;
			rep_ref(next);
			c->retried = true;
			if (send_to(c) == 0)
				return;
		}
	}
	if (resp->truncated) {
		atr_reply_bad_gateway(c->r, NULL, "the answer of deployment '%s' is larger than %llu bytes",
				      c->d->row.name, (unsigned long long)c->dp->app->cfg->max_body_bytes);
		finish(c, 502, NULL);
	} else if (resp->curl_code == CURLE_OPERATION_TIMEDOUT) {
		atr_reply_gateway_timeout(c->r, NULL, "deployment '%s' did not answer within %lld ms", c->d->row.name,
					  (long long)c->d->row.timeout_ms);
		finish(c, 504, NULL);
	} else {
		atr_reply_bad_gateway(c->r, NULL, "deployment '%s': replica %d could not be reached: %s",
				      c->d->row.name, c->rep->index, resp->error ? resp->error : "no answer");
		finish(c, 502, NULL);
	}
}

/* The client went away while its call was in flight: stop the transfer, free everything. */
static void on_client_gone(struct atr_req *r)
{
	struct gw_call *c = r->ctx;
	if (c)
		finish(c, 499, NULL);
}

static void on_server_stopping(struct atr_req *r)
{
	struct gw_call *c = r->ctx;
	if (!c)
		return;
	atr_reply_unavailable(r, NULL, "the server is shutting down");
	finish(c, 503, NULL);
}

void atr_gateway_forward(struct atr_deploy *dp, struct atr_req *r, int64_t id, int64_t version,
			 const char *upstream_path)
{
	struct dep *d = dep_by_id(dp, id);
	const char *ct = atr_req_header(r, "Content-Type");
	struct dep_replica *rep;
	struct gw_call *c;

	if (!d) {
		atr_reply_not_found(r, NULL, "no such deployment");
		return;
	}
	if (!(rep = pick(d, version, NULL))) {
		dep_stats_observe(d, 0, 503, 0);
		if (version)
			atr_reply_unavailable(r, NULL, "deployment '%s' has no ready replica of version %lld",
					      d->row.name, (long long)version);
		else
			atr_reply_unavailable(r, NULL, "deployment '%s' has no ready replica (%s)", d->row.name,
					      d->row.state);
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	c->r = r;
	c->dp = dp;
	c->d = d;
	c->rep = rep;
	c->version = version;
	c->t0 = atr_mono_us();
	dep_ref(d);
	rep_ref(rep);
	atr_req_ref(r);
	atr_copy(c->path, sizeof(c->path), upstream_path ? upstream_path : d->row.predict_path);
	atr_copy(c->content_type, sizeof(c->content_type), ct && strlen(ct) < sizeof(c->content_type) ? ct : "");
	snprintf(c->request_id_header, sizeof(c->request_id_header), "X-Request-Id: %s", r->request_id);
	if (send_to(c) < 0) {
		atr_reply_unavailable(r, NULL, "could not start the request to deployment '%s'", d->row.name);
		finish(c, 503, NULL);
		return;
	}
	r->ctx = c;
	r->on_close = on_client_gone;
	r->on_shutdown = on_server_stopping;
	atr_req_suspend(r);
}
