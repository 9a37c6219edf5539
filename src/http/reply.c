/*
 * reply.c: building answers (JSON, errors, bytes, files, streams), the per-request arena,
 * query parameters, and suspension. Every answer goes through deliver(): request id and
 * extra headers, audit, idempotency record, then queued now or when MHD allows it.
 */
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/router.h"
#include "atrium/server.h"
#include "atrium/util.h"
#include "http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct atr_arena_block {
	struct atr_arena_block *next;
	size_t used, cap;
	char data[];
};

struct atr_req_hdr {
	struct atr_req_hdr *next;
	char *name, *value;
};

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

void atr_req_free_internals(struct atr_req *r)
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
	char *out;

	if (!raw)
		return NULL;
	out = atr_req_alloc(r, strlen(raw) + 1);
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

void atr_reply_header(struct atr_req *r, const char *name, const char *value)
{
	struct atr_req_hdr *h = calloc(1, sizeof(*h));
	if (!h)
		return;
	h->name = strdup(name);
	h->value = strdup(value);
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		free(h);
		return;
	}
	h->next = r->hdrs;
	r->hdrs = h;
}

bool atr_req_done(const struct atr_req *r)
{
	return r->closed || r->answered;
}

void atr_req_suspend(struct atr_req *r)
{
	if (r->suspended || r->answered || r->closed)
		return;
	r->suspended = true;
	MHD_suspend_connection(r->conn);
}

void atr_req_flush(struct atr_req *r)
{
	if (!r->pending || r->suspended || r->held || r->stream_waiting || r->closed || r->phase == ATR_PHASE_BODY)
		return;
	/*
	 * An answer made from the headers alone (a cached read, an idempotent replay) goes out
	 * on the request's final call: queued on the first, MHD stops reading the request and
	 * closes the connection after the answer, so every such read paid for a new connection.
	 * Errors still go at once (a 413 must not wait for the body it refuses).
	 */
	if (r->phase == ATR_PHASE_HEADERS && r->pending_status < 400)
		return;
	if (MHD_queue_response(r->conn, r->pending_status, r->pending) != MHD_YES)
		atr_error("could not queue the answer to request %s", r->request_id);
	MHD_destroy_response(r->pending);
	r->pending = NULL;
}

static void deliver(struct atr_req *r, unsigned status, struct MHD_Response *resp, uint64_t len)
{
	if (!resp) {
		atr_error("out of memory building an answer to request %s", r->request_id);
		return;
	}
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	for (struct atr_req_hdr *h = r->hdrs; h; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	r->status = status;
	r->bytes_out = len;
	r->answered = true;
	r->pending = resp;
	r->pending_status = status;
	atr_server_audit(r->srv, r);
	if (atr_server_hold(r->srv, r))
		return; /* sent once what it (or the turn) wrote is committed */
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
		atr_server_kick(r->srv);
	} else {
		atr_req_flush(r);
	}
}

static bool may_answer(struct atr_req *r)
{
	return !r->answered && !r->closed;
}

void atr_reply_data_owned(struct atr_req *r, unsigned status, const char *content_type, char *data, size_t len)
{
	struct MHD_Response *resp;

	if (!may_answer(r)) {
		free(data);
		return;
	}
	resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return;
	}
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	deliver(r, status, resp, len);
}

void atr_reply_data(struct atr_req *r, unsigned status, const char *content_type, const void *data, size_t len)
{
	struct MHD_Response *resp;

	if (!may_answer(r))
		return;
	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	if (resp && content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	deliver(r, status, resp, len);
}

void atr_reply_empty(struct atr_req *r, unsigned status)
{
	atr_reply_data(r, status, NULL, "", 0);
}

void atr_reply_json(struct atr_req *r, unsigned status, json_t *body)
{
	char *s;
	size_t len;

	if (!may_answer(r)) {
		json_decref(body);
		return;
	}
	s = atr_json_write(body, &len);
	json_decref(body);
	if (!s) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	if (r->idem_key && status >= 200 && status < 300)
		atr_server_idem_put(r->srv, r, r->idem_key, status, s);
	if (r->cache_key && status == 200)
		atr_cache_put(&r->srv->cache, r->cache_key, r->cache_gen, s, len);
	atr_reply_data_owned(r, status, "application/json; charset=utf-8", s, len);
}

static void reply_verr(struct atr_req *r, int err, const char *field, const char *fmt, va_list ap)
{
	char msg[1024];
	const char *code = atr_err_code(err);
	json_t *o;

	if (!may_answer(r))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err == ATR_EDB || err == ATR_EIO || err == ATR_ENOMEM || err == ATR_EINTERNAL)
		atr_error("request %s: %s: %s", r->request_id, msg, atr_strerror(err));
	/* Messages may quote client input: never echo raw control characters. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	o = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code, "message", msg, "field", field);
	if (!o) {
		/* Invalid UTF-8 in the message: answer without it rather than not at all. */
		o = json_pack("{s:{s:s, s:s, s:n}}", "error", "code", code, "message", "invalid input", "field");
	}
	atr_reply_json(r, atr_err_http_status(err), o);
}

void atr_reply_err(struct atr_req *r, int err, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verr(r, err, field, fmt, ap);
	va_end(ap);
}

#define REPLY_HELPER(name, value, status, code, helper, text)                               \
	void atr_reply_##helper(struct atr_req *r, const char *field, const char *fmt, ...) \
	{                                                                                   \
		va_list ap;                                                                 \
		va_start(ap, fmt);                                                          \
		reply_verr(r, name, field, fmt, ap);                                        \
		va_end(ap);                                                                 \
	}
ATR_ERRORS(REPLY_HELPER)
#undef REPLY_HELPER

void atr_reply_fd(struct atr_req *r, unsigned status, const char *content_type, int fd, uint64_t off, uint64_t len)
{
	struct MHD_Response *resp;

	if (!may_answer(r)) {
		close(fd);
		return;
	}
	resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
	if (!resp) {
		close(fd);
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	deliver(r, status, resp, len);
}

struct stream_wrap {
	struct atr_req *r;
	const struct atr_stream_ops *ops;
	void *cls;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_wrap *w = cls;
	long n;

	(void)pos;
	if (atr_server_stopping(w->r->srv))
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = w->ops->read(w->cls, buf, max);
	if (n > 0) {
		w->r->bytes_out += (uint64_t)n;
		return n;
	}
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	w->r->stream_waiting = true;
	MHD_suspend_connection(w->r->conn);
	return 0;
}

static void stream_free(void *cls)
{
	struct stream_wrap *w = cls;
	if (w->ops->done)
		w->ops->done(w->cls);
	w->r->stream = NULL;
	atr_req_unref(w->r);
	free(w);
}

void atr_reply_stream(struct atr_req *r, unsigned status, const char *content_type, const struct atr_stream_ops *ops,
		      void *cls)
{
	struct stream_wrap *w;
	struct MHD_Response *resp;

	if (!may_answer(r) || !(w = calloc(1, sizeof(*w)))) {
		if (ops->done)
			ops->done(cls);
		return;
	}
	w->r = r;
	w->ops = ops;
	w->cls = cls;
	atr_req_ref(r);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, w, stream_free);
	if (!resp) {
		stream_free(w);
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	r->stream = w;
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	deliver(r, status, resp, 0);
}

void atr_stream_wake(struct atr_req *r)
{
	if (!r->stream_waiting || r->closed)
		return;
	r->stream_waiting = false;
	MHD_resume_connection(r->conn);
	atr_server_kick(r->srv);
}

void atr_req_shutdown(struct atr_req *r)
{
	if (r->on_shutdown && !r->closed)
		r->on_shutdown(r);
	atr_stream_wake(r);
}

void atr_req_force_resume(struct atr_req *r)
{
	if (r->suspended && !r->answered)
		atr_reply_unavailable(r, NULL, "the server is shutting down");
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
	}
	if (r->stream_waiting) {
		r->stream_waiting = false;
		MHD_resume_connection(r->conn);
	}
}
