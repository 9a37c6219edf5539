/*
 * request.c: a request's life. The struct (private to src/http: http_internal.h) and the one
 * transition between its phases (atr_req_enter, with the table of allowed moves), its memory
 * (an arena freed with it), what handlers may read of it (accessors), and the moves that
 * involve MHD: suspending, resuming, queueing the answer when MHD allows it. Building answers
 * is reply.c; deciding before the handler runs is pipeline.c; the group-commit hold is hold.c.
 */
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "http_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct atr_arena_block {
	struct atr_arena_block *next;
	size_t used, cap;
	char data[];
};

/* ---- the phases ---- */

static const char *const phase_names[] = { "read", "handle", "wait", "answered", "held", "sent", "idle", "closed" };

/* allowed[from] has a bit for each phase it may move to (CLOSED is always allowed). */
#define B(p) (1u << (p))
static const unsigned allowed[] = {
	[ATR_REQ_READ] = B(ATR_REQ_HANDLE) | B(ATR_REQ_ANSWERED) | B(ATR_REQ_WAIT),
	[ATR_REQ_HANDLE] = B(ATR_REQ_WAIT) | B(ATR_REQ_ANSWERED),
	[ATR_REQ_WAIT] = B(ATR_REQ_ANSWERED),
	[ATR_REQ_ANSWERED] = B(ATR_REQ_HELD) | B(ATR_REQ_SENT),
	[ATR_REQ_HELD] = B(ATR_REQ_ANSWERED) | B(ATR_REQ_HANDLE),
	[ATR_REQ_SENT] = B(ATR_REQ_IDLE),
	[ATR_REQ_IDLE] = B(ATR_REQ_SENT),
	[ATR_REQ_CLOSED] = 0,
};
#undef B

bool atr_req_enter(struct atr_req *r, enum atr_req_phase to)
{
	if (r->phase == to)
		return true;
	if (r->phase == ATR_REQ_CLOSED || (to != ATR_REQ_CLOSED && !(allowed[r->phase] & (1u << to)))) {
		atr_error("request %s: no move from %s to %s", r->request_id, phase_names[r->phase], phase_names[to]);
		return false;
	}
	r->phase = to;
	return true;
}

bool atr_req_may_answer(const struct atr_req *r)
{
	return r->phase == ATR_REQ_READ || r->phase == ATR_REQ_HANDLE || r->phase == ATR_REQ_WAIT;
}

bool atr_req_done(const struct atr_req *r)
{
	return !atr_req_may_answer(r);
}

/* ---- birth and death ---- */

bool atr_is_mlflow_path(const char *url)
{
	if (strncmp(url, "/ajax-api/", 10) == 0)
		url += 5; /* (MLflow's UI calls the same API under /ajax-api) */
	return strncmp(url, "/api/2.0/mlflow/", 16) == 0 || strncmp(url, "/api/2.0/mlflow-artifacts/", 26) == 0 ||
	       strcmp(url, "/api/2.0/mlflow-artifacts") == 0;
}

static void set_request_id(struct atr_req *r)
{
	const char *in = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
	size_t n = in ? strlen(in) : 0;
	bool ok = n > 0 && n < sizeof(r->request_id);

	for (size_t i = 0; ok && i < n; i++) {
		char c = in[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		     c == '_' || c == '.';
	}
	if (ok)
		memcpy(r->request_id, in, n + 1);
	else
		atr_fmt_hex64(r->request_id, atr_fast_rand());
}

static void set_client(struct atr_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa && sa->sa_family == AF_INET) { /* (inet_ntop formats through sprintf: a tenth of a cached read) */
		const unsigned char *a =
			(const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		char *p = r->client;
		for (int i = 0; i < 4; i++) {
			p += atr_fmt_u64(p, a[i]);
			*p++ = i < 3 ? '.' : '\0';
		}
	} else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->client,
			  sizeof(r->client));
	else
		atr_copy(r->client, sizeof(r->client), "-");
}

struct atr_req *atr_req_new(struct atr_server *s, struct MHD_Connection *c, const char *url, const char *method)
{
	struct atr_req *r = calloc(1, sizeof(*r));
	const char *cl;

	if (!r)
		return NULL;
	r->t0_us = atr_mono_us();
	r->srv = s;
	r->app = s->o.app;
	r->conn = c;
	r->refs = 1;
	r->phase = ATR_REQ_READ;
	r->call = ATR_CALL_HEADERS;
	r->method = atr_req_strdup(r, method);
	r->url = atr_req_strdup(r, url);
	r->is_head = strcmp(method, "HEAD") == 0;
	r->mlflow = atr_is_mlflow_path(url);
	r->content_length = UINT64_MAX;
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (cl) {
		int64_t v;
		if (atr_parse_i64(cl, 0, INT64_MAX, &v) == 0)
			r->content_length = (uint64_t)v;
	}
	set_request_id(r);
	set_client(r);
	r->next = s->live;
	if (s->live)
		s->live->prev = r;
	s->live = r;
	s->active++;
	return r;
}

static void free_internals(struct atr_req *r)
{
	while (r->arena) {
		struct atr_arena_block *n = r->arena->next;
		free(r->arena);
		r->arena = n;
	}
	while (r->hdrs) {
		struct atr_req_hdr *n = r->hdrs->next;
		free(r->hdrs->name);
		free(r->hdrs->value);
		free(r->hdrs);
		r->hdrs = n;
	}
	if (r->pending)
		MHD_destroy_response(r->pending);
	r->pending = NULL;
}

void atr_req_ref(struct atr_req *r)
{
	r->refs++;
}

void atr_req_unref(struct atr_req *r)
{
	if (--r->refs > 0)
		return;
	if (r->ctx_free && r->ctx)
		r->ctx_free(r->ctx);
	json_decref(r->body);
	free(r->body_buf);
	free_internals(r);
	free(r);
}

void atr_req_closed(struct atr_req *r)
{
	struct atr_server *s = r->srv;

	atr_req_enter(r, ATR_REQ_CLOSED);
	if (r->on_close)
		r->on_close(r);
	if (r->prev)
		r->prev->next = r->next;
	else
		s->live = r->next;
	if (r->next)
		r->next->prev = r->prev;
	s->active--;
	atr_req_unref(r);
}

/* ---- memory ---- */

void *atr_req_alloc(struct atr_req *r, size_t n)
{
	struct atr_arena_block *b = r->arena;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 2048 ? n : 2048;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = r->arena;
		r->arena = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

char *atr_req_strdup(struct atr_req *r, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = atr_req_alloc(r, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* ---- what handlers read ---- */

void *atr_req_app(const struct atr_req *r)
{
	return r->app;
}

const struct atr_principal *atr_req_who(const struct atr_req *r)
{
	return &r->who;
}

const struct atr_route *atr_req_route(const struct atr_req *r)
{
	return r->route;
}

const char *atr_req_method(const struct atr_req *r)
{
	return r->method;
}

const char *atr_req_path(const struct atr_req *r)
{
	return r->url;
}

const char *atr_req_id(const struct atr_req *r)
{
	return r->request_id;
}

const char *atr_req_client(const struct atr_req *r)
{
	return r->client;
}

json_t *atr_req_body(const struct atr_req *r)
{
	return r->body;
}

const char *atr_req_raw_body(const struct atr_req *r, size_t *len)
{
	if (len)
		*len = r->raw_body ? r->raw_len : 0;
	return r->raw_body ? r->raw_body : "";
}

void *atr_req_resource(const struct atr_req *r)
{
	return r->resource;
}

void atr_req_set_resource(struct atr_req *r, void *resource)
{
	r->resource = resource;
}

void *atr_req_ctx(const struct atr_req *r)
{
	return r->ctx;
}

void atr_req_set_ctx(struct atr_req *r, void *ctx, void (*free_fn)(void *ctx))
{
	r->ctx = ctx;
	r->ctx_free = free_fn;
}

void atr_req_on_close(struct atr_req *r, void (*fn)(struct atr_req *req))
{
	r->on_close = fn;
}

void atr_req_on_shutdown(struct atr_req *r, void (*fn)(struct atr_req *req))
{
	r->on_shutdown = fn;
}

unsigned atr_req_status(const struct atr_req *r)
{
	return r->status;
}

const char *atr_req_audit_text(const struct atr_req *r)
{
	return r->audit_object[0] ? r->audit_object : r->url;
}

const char *atr_req_param(struct atr_req *r, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < r->nparams; i++)
		if (r->params[i].name_len == n && memcmp(r->params[i].name, name, n) == 0)
			return r->params[i].value;
	return NULL;
}

const char *atr_req_query(struct atr_req *r, const char *name)
{
	const char *raw = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);

	return raw ? atr_req_query_decode(r, raw) : NULL;
}

const char *atr_req_query_decode(struct atr_req *r, const char *raw)
{
	char *out = atr_req_alloc(r, strlen(raw) + 1);

	if (!out || atr_percent_decode(raw, strlen(raw), out, 1, 0) < 0)
		return NULL;
	return out;
}

const char *atr_req_header(struct atr_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void atr_req_audit_object(struct atr_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->audit_object, sizeof(r->audit_object), fmt, ap);
	va_end(ap);
}

uv_loop_t *atr_req_loop(struct atr_req *r)
{
	return r->srv->loop;
}

/* ---- the moves that involve MHD ---- */

static void suspend(struct atr_req *r);
static void resume(struct atr_req *r);

void atr_req_mhd_suspend(struct atr_req *r)
{
	suspend(r);
}

void atr_req_mhd_resume(struct atr_req *r)
{
	resume(r);
}

static void suspend(struct atr_req *r)
{
	if (!r->mhd_suspended) {
		r->mhd_suspended = true;
		MHD_suspend_connection(r->conn);
	}
}

static void resume(struct atr_req *r)
{
	if (r->mhd_suspended) {
		r->mhd_suspended = false;
		MHD_resume_connection(r->conn);
		atr_server_kick(r->srv);
	}
}

void atr_req_suspend(struct atr_req *r)
{
	if (atr_req_may_answer(r) && r->phase != ATR_REQ_WAIT && atr_req_enter(r, ATR_REQ_WAIT))
		suspend(r);
}

void atr_req_flush(struct atr_req *r)
{
	if (r->phase != ATR_REQ_ANSWERED || !r->pending || r->mhd_suspended || r->call == ATR_CALL_BODY)
		return;
	/*
	 * An answer made from the headers alone (a cached read, an idempotent replay) goes out
	 * on the request's final call: queued on the first, MHD stops reading the request and
	 * closes the connection after the answer, so every such read paid for a new connection.
	 * Errors still go at once (a 413 must not wait for the body it refuses).
	 */
	if (r->call == ATR_CALL_HEADERS && r->pending_status < 400)
		return;
	if (MHD_queue_response(r->conn, r->pending_status, r->pending) != MHD_YES)
		atr_error("could not queue the answer to request %s", r->request_id);
	MHD_destroy_response(r->pending);
	r->pending = NULL;
	atr_req_enter(r, ATR_REQ_SENT);
}

void atr_req_answered(struct atr_req *r, unsigned status, void *resp, uint64_t len)
{
	r->status = status;
	r->bytes_out = len;
	r->pending = resp;
	r->pending_status = status;
	atr_req_enter(r, ATR_REQ_ANSWERED);
	atr_server_audit(r->srv, r);
	if (atr_server_hold(r->srv, r))
		return; /* sent once what it (or the turn) wrote is committed */
	if (r->mhd_suspended)
		resume(r); /* MHD calls the request again: the answer is queued then */
	else
		atr_req_flush(r);
}

void atr_req_stream_idle(struct atr_req *r)
{
	if (atr_req_enter(r, ATR_REQ_IDLE))
		suspend(r);
}

void atr_stream_wake(struct atr_req *r)
{
	if (r->phase != ATR_REQ_IDLE)
		return;
	atr_req_enter(r, ATR_REQ_SENT);
	resume(r);
}

/* The held answer's commit came (committed) or not: it goes out, or becomes a 503. */
void atr_req_release(struct atr_req *r, bool committed)
{
	if (r->phase != ATR_REQ_HELD)
		return;
	if (!committed && r->status >= 200 && r->status < 300 && r->pending) {
		MHD_destroy_response(r->pending);
		r->pending = NULL;
		atr_req_enter(r, ATR_REQ_HANDLE); /* the answer is made again: its change was lost */
		atr_reply_unavailable(r, NULL, "the change could not be committed; try again");
		if (r->phase == ATR_REQ_HELD)
			return; /* (held again, for the next commit) */
	} else {
		atr_req_enter(r, ATR_REQ_ANSWERED);
	}
	if (r->mhd_suspended)
		resume(r);
	else if (r->call == ATR_CALL_FINAL)
		atr_req_flush(r); /* (before its final call, the next call of the handler sends it) */
}

void atr_req_shutdown(struct atr_req *r)
{
	if (r->on_shutdown && r->phase != ATR_REQ_CLOSED)
		r->on_shutdown(r);
	atr_stream_wake(r);
}

void atr_req_force_resume(struct atr_req *r)
{
	if (r->phase == ATR_REQ_WAIT)
		atr_reply_unavailable(r, NULL, "the server is shutting down");
	if (r->phase == ATR_REQ_IDLE)
		atr_req_enter(r, ATR_REQ_SENT);
	if (r->mhd_suspended) {
		r->mhd_suspended = false;
		MHD_resume_connection(r->conn);
	}
}
