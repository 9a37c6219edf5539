/*
 * reply.c: building answers (JSON, errors from the one error table, bytes, files, streams).
 * Every answer goes through deliver(): request id and extra headers, then the request's
 * life takes it (atr_req_answered in request.c: audit, the group-commit hold, queued now or
 * when MHD allows it). JSON answers are also kept for Idempotency-Key replays and the answer
 * cache.
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

static void deliver(struct atr_req *r, unsigned status, struct MHD_Response *resp, uint64_t len)
{
	if (!resp) {
		atr_error("out of memory building an answer to request %s", r->request_id);
		return;
	}
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	for (struct atr_req_hdr *h = r->hdrs; h; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	atr_req_answered(r, status, resp, len);
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

void atr_reply_data_owned(struct atr_req *r, unsigned status, const char *content_type, char *data, size_t len)
{
	struct MHD_Response *resp;

	if (!atr_req_may_answer(r)) {
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

	if (!atr_req_may_answer(r))
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

	if (!atr_req_may_answer(r)) {
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

	if (!atr_req_may_answer(r))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err == ATR_EDB || err == ATR_EIO || err == ATR_ENOMEM || err == ATR_EINTERNAL)
		atr_error("request %s: %s: %s", r->request_id, msg, atr_strerror(err));
	/* Messages may quote client input: never echo raw control characters. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	if (r->mlflow) /* MLflow's clients read its own shape: {"error_code", "message"} */
		o = json_pack("{s:s, s:s}", "error_code", atr_err_mlflow_code(err), "message", msg);
	else
		o = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code, "message", msg, "field", field);
	if (!o) {
		/* Invalid UTF-8 in the message: answer without it rather than not at all. */
		o = r->mlflow ? json_pack("{s:s, s:s}", "error_code", atr_err_mlflow_code(err), "message",
					  "invalid input")
			      : json_pack("{s:{s:s, s:s, s:n}}", "error", "code", code, "message", "invalid input",
					  "field");
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

#define REPLY_HELPER(name, value, status, code, helper, text, mlflow)                       \
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

	if (!atr_req_may_answer(r)) {
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
	atr_req_stream_idle(w->r);
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

	if (!atr_req_may_answer(r) || !(w = calloc(1, sizeof(*w)))) {
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
