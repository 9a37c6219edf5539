/*
 * gateway.c: forwarding inference requests to replicas. A call picks a version by the
 * traffic split (or the one asked for), then among that version's ready replicas the one
 * with the fewest requests outstanding (ties taken in turn), and sends the client's body
 * with libcurl multi (connections to replicas are reused). A connection that cannot be made
 * is tried once more on another replica; nothing is ever sent twice once a replica may have
 * received it. The answer goes back as is to the caller's done() (the REST layer relays it:
 * no HTTP server here). Statistics are counted in memory; sampled calls are captured
 * (capture.c). Nothing here touches the database.
 */
#include "atrium/client.h"
#include "atrium/config.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct atr_gw_call {
	struct atr_gateway_call_spec spec;
	atr_gateway_done_fn done;
	void *cls;
	struct atr_deploy *dp;
	struct dep *d;
	struct dep_replica *rep;
	struct atr_xfer *xfer;
	uint64_t t0;
	int64_t version; /* asked for; 0: by the traffic split */
	bool retried;
	char path[512];
	char content_type[128];
	char request_id_header[80];
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

static void in_flight(struct atr_gw_call *c, int delta)
{
	struct dep_stats *v = dep_vstats(c->d, c->rep->version);
	c->rep->outstanding += delta;
	c->d->total.in_flight += delta;
	if (v)
		v->in_flight += delta;
}

/* Lets go of everything the call holds; the request may still be answered by the caller. */
static void call_free(struct atr_gw_call *c)
{
	if (c->xfer) {
		atr_client_cancel(c->xfer);
		c->xfer = NULL;
		in_flight(c, -1);
	}
	if (c->rep)
		rep_unref(c->rep);
	dep_unref(c->d);
	free(c);
}

static void on_answer(void *cls, const struct atr_client_resp *resp);

static int send_to(struct atr_gw_call *c)
{
	const char *headers[] = { c->request_id_header, NULL };
	char url[900];
	struct atr_client_req rq = {
		.method = c->spec.method,
		.url = url,
		.content_type = c->content_type[0] ? c->content_type : NULL,
		.timeout_ms = c->d->row.timeout_ms,
		.connect_timeout_ms = 2000,
		.max_response = (size_t)c->dp->o.max_body,
		.headers = headers,
	};
	int rc;

	snprintf(url, sizeof(url), "%s%s", c->rep->url, c->path);
	if (strcmp(c->spec.method, "GET") != 0) {
		rq.body = c->spec.body ? c->spec.body : "";
		rq.body_len = c->spec.body_len;
	}
	rc = atr_client_send(c->dp->o.client, &rq, on_answer, c, &c->xfer);
	if (rc < 0) {
		c->xfer = NULL;
		return rc;
	}
	c->rep->requests++;
	in_flight(c, 1);
	return 0;
}

/* The end of a call: stats, capture, release (done() was called, or the caller gave up). */
static void finish(struct atr_gw_call *c, unsigned status, const struct atr_client_resp *resp)
{
	uint64_t us = atr_mono_us() - c->t0;
	int64_t version = c->rep ? c->rep->version : 0;

	dep_stats_observe(c->d, version, status, us);
	if (c->d->row.sample_rate > 0)
		dep_capture(c->d, c->rep ? c->rep->version_id : 0, version, status, us, c->content_type, c->spec.body,
			    c->spec.body_len, resp ? resp->body : NULL, resp ? resp->len : 0,
			    c->request_id_header + strlen("X-Request-Id: "));
	call_free(c);
}

/* Tells the caller, then ends the call. */
static void complete(struct atr_gw_call *c, const struct atr_gateway_result *res, const struct atr_client_resp *resp)
{
	c->done(c->cls, res);
	finish(c, res->err ? atr_err_http_status(res->err) : (unsigned)res->status, resp);
}

static void fail(struct atr_gw_call *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct atr_gw_call *c, int err, const char *fmt, ...)
{
	struct atr_gateway_result res = { .err = err };
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	res.message = msg;
	complete(c, &res, NULL);
}

static void on_answer(void *cls, const struct atr_client_resp *resp)
{
	struct atr_gw_call *c = cls;
	struct dep_replica *next;

	c->xfer = NULL;
	in_flight(c, -1);
	if (resp->curl_code == CURLE_OK && resp->status > 0) {
		struct atr_gateway_result res = { .status = resp->status,
						  .body = resp->body,
						  .len = resp->len,
						  .content_type = resp->content_type[0] ? resp->content_type : NULL,
						  .version = c->rep->version };
		complete(c, &res, resp);
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
	if (resp->truncated)
		fail(c, ATR_EUPSTREAM, "the answer of deployment '%s' is larger than %llu bytes", c->d->row.name,
		     (unsigned long long)c->dp->o.max_body);
	else if (resp->curl_code == CURLE_OPERATION_TIMEDOUT)
		fail(c, ATR_ETIMEOUT, "deployment '%s' did not answer within %lld ms", c->d->row.name,
		     (long long)c->d->row.timeout_ms);
	else
		fail(c, ATR_EUPSTREAM, "deployment '%s': replica %d could not be reached: %s", c->d->row.name,
		     c->rep->index, resp->error ? resp->error : "no answer");
}

void atr_gateway_cancel(struct atr_gw_call *c, unsigned status)
{
	finish(c, status, NULL);
}

int atr_gateway_call(struct atr_deploy *dp, const struct atr_gateway_call_spec *spec, atr_gateway_done_fn done,
		     void *cls, struct atr_gw_call **out, char *why, size_t whylen)
{
	struct dep *d = dep_by_id(dp, spec->deployment_id);
	struct dep_replica *rep;
	struct atr_gw_call *c;

	*out = NULL;
	if (!d) {
		snprintf(why, whylen, "no such deployment");
		return ATR_ENOTFOUND;
	}
	if (!(rep = pick(d, spec->version, NULL))) {
		dep_stats_observe(d, 0, 503, 0);
		if (spec->version)
			snprintf(why, whylen, "deployment '%s' has no ready replica of version %lld", d->row.name,
				 (long long)spec->version);
		else
			snprintf(why, whylen, "deployment '%s' has no ready replica (%s)", d->row.name, d->row.state);
		return ATR_EBUSY;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		snprintf(why, whylen, "out of memory");
		return ATR_ENOMEM;
	}
	c->spec = *spec;
	c->done = done;
	c->cls = cls;
	c->dp = dp;
	c->d = d;
	c->rep = rep;
	c->version = spec->version;
	c->t0 = atr_mono_us();
	dep_ref(d);
	rep_ref(rep);
	atr_copy(c->path, sizeof(c->path), spec->upstream_path ? spec->upstream_path : d->row.predict_path);
	atr_copy(c->content_type, sizeof(c->content_type),
		 spec->content_type && strlen(spec->content_type) < sizeof(c->content_type) ? spec->content_type : "");
	snprintf(c->request_id_header, sizeof(c->request_id_header), "X-Request-Id: %s",
		 spec->request_id ? spec->request_id : "-");
	if (send_to(c) < 0) {
		snprintf(why, whylen, "could not start the request to deployment '%s'", d->row.name);
		finish(c, 503, NULL);
		return ATR_EBUSY;
	}
	*out = c;
	return 0;
}
