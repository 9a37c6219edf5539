/*
 * pipeline.c: a request's life, and the pipeline that runs before any handler: route match
 * (404/405), authentication (401/403), body limits (413), content type (415), Idempotency-Key
 * replay, the answer cache, body parsing and validation (400), then the handler. It runs on
 * the loop thread, called by libmicrohttpd through server.c. Reply helpers are in reply.c.
 */
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/metrics.h"
#include "atrium/router.h"
#include "atrium/util.h"
#include "http_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void access_log(struct atr_req *r, uint64_t us)
{
	char status[24], bytes[24], micros[24];
	enum atr_log_level lvl =
		r->route && (r->route->flags & ATR_RF_NO_AUDIT) && r->status < 400 ? ATR_LOG_DEBUG : ATR_LOG_INFO;

	atr_fmt_u64(status, r->status);
	atr_fmt_u64(bytes, r->bytes_out);
	atr_fmt_u64(micros, us);
	atr_log_kv(lvl, "request", "method", r->method, "route", r->route ? r->route->pattern : "-", "path", r->url,
		   "status", status, "bytes", bytes, "us", micros, "request_id", r->request_id, "client", r->client,
		   "user", r->who.username[0] ? r->who.username : "-", NULL);
}

void atr_pipeline_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct atr_server *s = cls;
	struct atr_req *r = *con_cls;
	uint64_t us;

	(void)c;
	if (!r)
		return;
	*con_cls = NULL;
	us = atr_mono_us() - r->t0_us;
	if (!r->status)
		r->status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499;
	/* Telemetry (heartbeats, log shipping, metric points) is logged at debug: it would drown the rest. */
	if (s->o.access_log &&
	    atr_log_enabled(r->route && (r->route->flags & ATR_RF_NO_AUDIT) && r->status < 400 ? ATR_LOG_DEBUG
											       : ATR_LOG_INFO))
		access_log(r, us);
	if (s->o.metrics)
		atr_metrics_observe(s->o.metrics, r->route ? (int)(r->route - s->o.routes) : -1, r->status, us);
	atr_conns_request_ended(r);
	atr_req_closed(r);
}

/* ---- the pipeline ---- */

/* A bad or unknown credential: 401 (503 when the token store does not answer). */
static void refuse_credentials(struct atr_req *r, int rc)
{
	memset(&r->who, 0, sizeof(r->who));
	atr_reply_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	if (rc == ATR_EDB)
		atr_reply_unavailable(r, NULL, "the token store is not available");
	else if (rc == ATR_ELIMIT)
		atr_reply_rate_limited(r, NULL, "too many failed sign-ins for this user name; wait a minute");
	else
		atr_reply_unauthorized(r, NULL, "the token or the credentials are unknown, revoked or expired");
}

/*
 * Who calls: a bearer token, or Basic credentials (a token as the password, or the user's
 * password: basic.c). 0: known, or none given; -1: answered (401); 1: a password is being
 * checked on the thread pool and the request waits (atr_pipeline_authenticated follows).
 */
static int credentials(struct atr_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	bool public = r->route->access == ATR_ACCESS_PUBLIC;
	int rc;

	if (!h)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) == 0 && r->srv->o.authenticate) {
		const char *tok = h + 7;
		while (*tok == ' ')
			tok++;
		rc = r->srv->o.authenticate(r->app, tok, &r->who);
	} else if (strncasecmp(h, "Basic ", 6) == 0) {
		rc = atr_basic_authenticate(r, h);
		if (rc > 0) {
			r->auth_pending = true;
			atr_req_mhd_suspend(r);
			return 1;
		}
	} else {
		return 0;
	}
	if (rc == 0) {
		atr_conns_authenticated(r); /* its connection is never shed (conns.c) */
		return 0;
	}
	if (public) {
		memset(&r->who, 0, sizeof(r->who));
		return 0;
	}
	refuse_credentials(r, rc);
	return -1;
}

/* May this kind of caller use the route? -1 after the 401/403. */
static int authorize(struct atr_req *r)
{
	const struct atr_route *rt = r->route;

	if (rt->access == ATR_ACCESS_PUBLIC)
		return 0;
	if (r->who.kind == ATR_P_NONE) {
		atr_reply_header(r, "WWW-Authenticate", "Bearer");
		atr_reply_unauthorized(r, NULL, "this endpoint needs 'Authorization: Bearer <token>'");
		return -1;
	}
	switch (rt->access) {
	case ATR_ACCESS_USER:
		if (r->who.kind == ATR_P_USER || (r->who.kind == ATR_P_JOB && (rt->flags & ATR_RF_JOB_OK)) ||
		    (r->who.kind == ATR_P_INVOKE && (rt->flags & ATR_RF_INVOKE_OK)))
			return 0;
		break;
	case ATR_ACCESS_ADMIN:
		if ((r->who.kind == ATR_P_USER && r->who.admin) ||
		    (r->who.kind == ATR_P_SCRAPE && (rt->flags & ATR_RF_SCRAPE_OK)))
			return 0;
		if (r->who.kind == ATR_P_USER) {
			atr_reply_forbidden(r, NULL, "this endpoint is for administrators");
			return -1;
		}
		break;
	case ATR_ACCESS_WORKER:
		if (r->who.kind == ATR_P_WORKER)
			return 0;
		break;
	case ATR_ACCESS_PUBLIC:
		return 0;
	}
	atr_reply_forbidden(r, NULL, "this kind of token cannot be used on '%s'", rt->name);
	return -1;
}

static bool json_content_type_ok(struct atr_req *r)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	if (!ct || !*ct)
		return true;
	return strncasecmp(ct, "application/json", 16) == 0 ||
	       strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 || strncasecmp(ct, "text/plain", 10) == 0;
}

/*
 * Idempotency-Key: a stored 2xx answer of this caller for this key is replayed. Asked only
 * after access was decided (an answer is never replayed to a caller who may not see it now),
 * and the answer is keyed by what the request is (its route and resource, atr_server_opts.
 * idem_get): the same key sent for another request is a 409.
 */
static void replay_idempotent(struct atr_req *r)
{
	const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
	unsigned status;
	char *body = NULL;
	int rc;

	if (!key || !r->srv->o.idem_get || !(r->route->flags & ATR_RF_IDEMPOTENT))
		return;
	if (!*key || strlen(key) > 255) {
		atr_reply_invalid(r, "Idempotency-Key", "'Idempotency-Key' must be 1-255 bytes");
		return;
	}
	rc = r->srv->o.idem_get(r->srv->o.app, r, key, &status, &body);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "Idempotency-Key", "this 'Idempotency-Key' was already used for another request");
		return;
	}
	if (rc == 0) {
		atr_reply_header(r, "Idempotency-Replayed", "true");
		atr_reply_data_owned(r, status, "application/json; charset=utf-8", body, strlen(body));
		return;
	}
	r->idem_key = atr_req_strdup(r, key);
}

/* Answers from the cache when it holds this caller's answer of this generation. */
static bool cache_lookup(struct atr_req *r)
{
	struct atr_server *s = r->srv;
	const struct atr_cache_slot *hit;
	char key[1200];
	const int64_t who[] = { r->who.kind,	   r->who.user_id,  r->who.scope_id,
				r->who.project_id, r->who.token_id, r->who.admin };
	size_t n = strlen(r->url);
	uint64_t gen;

	/* (a longer path is not cached: its key must never be cut short) */
	if (!s->o.generation || strcmp(r->method, "GET") || n > sizeof(key) - 6 * 22 ||
	    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0)
		return false;
	/* URL|kind|user|scope|project|token|admin: who asked decides what the answer holds */
	memcpy(key, r->url, n);
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		key[n++] = '|';
		n += atr_fmt_i64(key + n, who[i]);
	}
	gen = s->o.generation(s->o.app);
	hit = atr_cache_find(&s->cache, key, gen);
	if (hit) {
		atr_reply_data(r, 200, "application/json; charset=utf-8", hit->body, hit->len);
		return true;
	}
	r->cache_key = atr_req_strdup(r, key);
	r->cache_gen = gen;
	return false;
}

struct framing {
	int content_lengths;
	const char *te;
	const char *bad_name;
	bool host;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, "Content-Length") == 0)
		f->content_lengths++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		f->te = value ? value : "";
	else if (strcasecmp(key, "Host") == 0)
		f->host = true;
	if (!f->bad_name && strpbrk(key, " \t"))
		f->bad_name = key;
	return MHD_YES;
}

/*
 * How the request says where its body ends, checked before anything trusts it: one
 * Content-Length at most, no Transfer-Encoding but chunked, not both (a request that two
 * servers in a row could read two ways is how requests are smuggled behind a proxy), no
 * space in a header's name, a Host on HTTP/1.1. -1 after a JSON 400 naming the header.
 */
static int check_framing(struct atr_req *r, const char *version)
{
	struct framing f = { 0 };

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, scan_header, &f);
	if (f.bad_name || f.content_lengths > 1 || f.te || (!f.host && version && strcmp(version, "HTTP/1.1") == 0))
		atr_reply_header(r, "Connection", "close"); /* (where the body ends is not known: no next request) */
	if (f.bad_name) {
		atr_reply_invalid(r, "headers", "a header name has a space in it ('%.40s')", f.bad_name);
		return -1;
	}
	if (f.content_lengths > 1) {
		atr_reply_invalid(r, "Content-Length", "'Content-Length' is given more than once");
		return -1;
	}
	if (f.te && strcasecmp(f.te, "chunked") != 0) {
		atr_reply_invalid(r, "Transfer-Encoding", "'Transfer-Encoding: %.40s' is not supported (only chunked)",
				  f.te);
		return -1;
	}
	if (f.te && f.content_lengths) {
		atr_reply_invalid(r, "Transfer-Encoding", "'Transfer-Encoding' and 'Content-Length' together");
		return -1;
	}
	if (!f.host && version && strcmp(version, "HTTP/1.1") == 0) {
		atr_reply_invalid(r, "Host", "HTTP/1.1 requests name their 'Host'");
		return -1;
	}
	return 0;
}

static void begin_checked(struct atr_req *r);

static void begin(struct atr_req *r)
{
	struct atr_server *s = r->srv;
	const char *path;
	int rc;
	char allow[128];
	const char *bad = NULL;
	char *storage = atr_req_alloc(r, strlen(r->url) + ATR_MAX_PARAMS + 1);
	enum atr_match m;

	if (!storage) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	/* MLflow's UI calls its API under /ajax-api: the same routes */
	path = strncmp(r->url, "/ajax-api/2.0/", 14) == 0 ? r->url + 9 : r->url; /* "/2.0/..." */
	if (path != r->url) {
		char *p = atr_req_alloc(r, strlen(path) + 5);
		if (!p) {
			atr_reply_nomem(r, NULL, "out of memory");
			return;
		}
		memcpy(p, "/api", 4);
		memcpy(p + 4, path, strlen(path) + 1);
		path = p;
	}
	m = atr_router_match(s->o.routes, s->o.nroutes, r->method, path, storage, r->params, &r->nparams, &r->route,
			     allow, sizeof(allow), &bad);
	if (m == ATR_MATCH_NOT_FOUND) {
		bool api = strncmp(r->url, "/api/", 5) == 0 || strncmp(r->url, "/v2/", 4) == 0 ||
			   strcmp(r->url, "/api") == 0;
		if (s->o.fallback && !api && (!strcmp(r->method, "GET") || r->is_head)) {
			r->fallback = true;
			return; /* served at the end of the (empty) body */
		}
		atr_reply_no_route(r, NULL, "no route for '%s %s'", r->method, r->url);
		return;
	}
	if (m == ATR_MATCH_BAD_METHOD) {
		atr_reply_header(r, "Allow", allow);
		atr_reply_method_not_allowed(r, NULL, "'%s' is not allowed here; allowed: %s", r->method, allow);
		return;
	}
	if (m == ATR_MATCH_BAD_PARAM) {
		char name[64];
		size_t n = 0;
		while (bad[n] && bad[n] != '}' && bad[n] != '.' && n + 1 < sizeof(name)) {
			name[n] = bad[n];
			n++;
		}
		name[n] = 0;
		atr_reply_invalid(r, name, "'%s' has a bad percent-encoding or a control character", name);
		return;
	}
	rc = credentials(r);
	if (rc == 0)
		begin_checked(r);
	/* (rc > 0: a password is checked on the thread pool; atr_pipeline_authenticated goes on) */
}

/* After the credentials: the rest of what is decided from the headers, in order. */
static void begin_checked(struct atr_req *r)
{
	struct atr_server *s = r->srv;

	if (authorize(r) < 0)
		return;
	if (r->route->flags & ATR_RF_STREAM) {
		if (r->content_length != UINT64_MAX && r->content_length > s->o.max_upload) {
			atr_reply_too_large(r, NULL, "the body is larger than the %llu-byte limit",
					    (unsigned long long)s->o.max_upload);
			return;
		}
	} else if (r->content_length != UINT64_MAX && r->content_length > s->o.max_body) {
		atr_reply_too_large(r, NULL, "the body is larger than the %llu-byte limit",
				    (unsigned long long)s->o.max_body);
		return;
	}
	/* an exact replay of this caller's answer of this store generation: decided when it was made */
	if ((r->route->flags & ATR_RF_CACHE) && cache_lookup(r))
		return;
	/* the resource the path points at, and the caller's access to it: once, before anything else
	 * (MLflow's API names it in the body: then once the body is read, in finish) */
	if (r->route->resource != ATR_RES_NONE && !(r->route->flags & ATR_RF_MLFLOW) && s->o.resolve &&
	    s->o.resolve(s->o.app, r) < 0)
		return;
	if (atr_req_check_query(r) < 0)
		return;
	if (r->route->body && r->content_length && !json_content_type_ok(r)) {
		atr_reply_unsupported_media(r, "Content-Type", "the body must be application/json");
		return;
	}
	if (r->route->flags & ATR_RF_IDEMPOTENT) {
		replay_idempotent(r);
		if (!atr_req_may_answer(r))
			return;
	}
	if ((r->route->flags & ATR_RF_STREAM) && r->route->on_begin)
		r->route->on_begin(r);
}

void atr_pipeline_authenticated(struct atr_req *r, int rc)
{
	r->auth_pending = false;
	if (r->phase == ATR_REQ_CLOSED)
		return;
	if (rc == 0) {
		atr_conns_authenticated(r);
		begin_checked(r);
	} else {
		refuse_credentials(r, rc);
	}
	atr_req_mhd_resume(r); /* MHD calls the request again: its body, its final call */
}

static void take_body(struct atr_req *r, const char *data, size_t len)
{
	struct atr_server *s = r->srv;

	if (r->route && (r->route->flags & ATR_RF_STREAM)) {
		r->streamed += len;
		if (r->streamed > s->o.max_upload) {
			atr_reply_too_large(r, NULL, "the body is larger than the %llu-byte limit",
					    (unsigned long long)s->o.max_upload);
			return;
		}
		if (r->route->on_chunk)
			r->route->on_chunk(r, data, len);
		return;
	}
	if (!r->route) {
		return; /* fallback routes take no body */
	}
	if (len > s->o.max_body - r->body_len) {
		atr_reply_too_large(r, NULL, "the body is larger than the %llu-byte limit",
				    (unsigned long long)s->o.max_body);
		return;
	}
	if (r->body_len + len + 1 > r->body_cap) {
		size_t ncap = r->body_cap ? r->body_cap : 1024;
		char *p;
		while (ncap < r->body_len + len + 1)
			ncap *= 2;
		p = realloc(r->body_buf, ncap);
		if (!p) {
			atr_reply_nomem(r, NULL, "out of memory");
			return;
		}
		r->body_buf = p;
		r->body_cap = ncap;
	}
	memcpy(r->body_buf + r->body_len, data, len);
	r->body_len += len;
	r->body_buf[r->body_len] = 0;
}

static void finish(struct atr_req *r)
{
	const struct atr_route *rt = r->route;

	if (r->fallback) {
		r->srv->o.fallback(r);
		return;
	}
	if (rt->flags & ATR_RF_RAW_BODY) {
		r->raw_body = r->body_buf;
		r->raw_len = r->body_len;
	} else if (rt->body) {
		json_error_t jerr;
		char field[128], msg[400];
		if (r->body_len == 0) {
			r->body = json_object();
		} else {
			(void)atr_json_oom_take();
			r->body = json_loadb(r->body_buf, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
			if (!r->body && atr_json_oom_take()) { /* (jansson says "invalid token") */
				atr_reply_nomem(r, NULL, "out of memory reading the body");
				return;
			}
			if (!r->body) {
				atr_reply_invalid_json(r, "body", "the body is not valid JSON: %s (line %d, column %d)",
						       jerr.text, jerr.line, jerr.column);
				return;
			}
		}
		if (atr_json_validate(r->body, rt->body, field, sizeof(field), msg, sizeof(msg)) < 0) {
			atr_reply_invalid(r, field, "%s", msg);
			return;
		}
	}
	if (rt->resource != ATR_RES_NONE && (rt->flags & ATR_RF_MLFLOW) && r->srv->o.resolve &&
	    r->srv->o.resolve(r->srv->o.app, r) < 0)
		return;
	rt->handler(r);
}

/*
 * MHD's access callback: the first call has the headers (the pipeline decides), the next ones
 * carry body pieces, the last one (no data) runs the handler. Each call moves the request
 * through its phases (request.c); an answer goes to MHD when MHD may take it (atr_req_flush).
 */
enum MHD_Result atr_pipeline_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				    const char *version, const char *upload_data, size_t *upload_data_size,
				    void **con_cls)
{
	struct atr_server *s = cls;
	struct atr_req *r = *con_cls;

	if (!r) {
		r = atr_req_new(s, c, url, method);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		atr_conns_request_began(r);
		if (s->stopping)
			atr_reply_unavailable(r, NULL, "the server is shutting down");
		else if (check_framing(r, version) == 0)
			begin(r);
		atr_req_flush(r);
		return MHD_YES;
	}
	if (*upload_data_size) {
		r->call = ATR_CALL_BODY;
		if (r->phase == ATR_REQ_READ)
			take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0; /* (an answered request's body is read and dropped) */
		return MHD_YES;
	}
	r->call = ATR_CALL_FINAL;
	if (r->phase == ATR_REQ_READ && atr_req_enter(r, ATR_REQ_HANDLE)) {
		finish(r);
		if (r->phase == ATR_REQ_HANDLE) {
			atr_error("route '%s' did not answer request %s", r->route ? r->route->name : "-",
				  r->request_id);
			atr_reply_internal(r, NULL, "the server did not answer");
		}
	}
	atr_req_flush(r);
	return MHD_YES;
}
