/*
 * client.c: libcurl multi on the libuv loop. curl says which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> uv_poll per socket) and when to wake it
 * (CURLMOPT_TIMERFUNCTION -> one uv_timer); finished transfers are collected with
 * curl_multi_info_read and their callbacks run on the loop. A response body is buffered
 * (capped) or handed to the caller's sink as it arrives; a request body is copied or read
 * from the caller's file as curl sends it, so transfers of any size use little memory.
 */
#include "atrium/client.h"
#include "atrium/buf.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

struct atr_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	uv_idle_t soon; /* curl's "timeout 0": the next loop iteration (see timer_cb) */
	int active;
	int open_handles;
	bool closing;
	struct atr_xfer *xfers; /* in flight */
	struct sock_ctx *socks; /* watched sockets */
	char *ca_file;		/* CURLOPT_CAINFO; NULL: the system's */
};

struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	struct atr_client *c;
	struct sock_ctx *next, *prev;
};

struct atr_xfer {
	struct atr_xfer *next, *prev;
	struct atr_client *c;
	CURL *easy;
	struct curl_slist *hdrs, *rcpt;
	char *req_body;
	bool mem_upload; /* e-mail: the copied body is read by curl as the upload */
	struct atr_buf body;
	atr_client_cb cb;
	void *cls;
	char content_type[128];
	char errbuf[CURL_ERROR_SIZE];
	bool truncated;
	uint64_t t0;
	/* streaming */
	size_t (*sink)(void *cls, const char *data, size_t len);
	bool aborted;
	int up_fd;
	uint64_t up_size, up_off;
	char up_err[160]; /* why reading the upload failed */
};

static void check_done(struct atr_client *c);

static void on_poll_closed(uv_handle_t *h)
{
	free(h->data);
}

static void close_sock(struct sock_ctx *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->c->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, on_poll_closed);
}

static void on_sock(uv_poll_t *p, int status, int events)
{
	struct sock_ctx *s = p->data;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->c->multi, s->fd, flags, &running);
	check_done(s->c);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
	struct atr_client *c = userp;
	struct sock_ctx *s = socketp;
	int events = 0;

	(void)easy;
	if (action == CURL_POLL_REMOVE) {
		if (s) {
			close_sock(s);
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->fd = fd;
		s->c = c;
		if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->next = c->socks;
		if (c->socks)
			c->socks->prev = s;
		c->socks = s;
		curl_multi_assign(c->multi, fd, s);
	}
	if (action != CURL_POLL_OUT)
		events |= UV_READABLE;
	if (action != CURL_POLL_IN)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, on_sock);
	return 0;
}

static void on_timeout(uv_timer_t *t)
{
	struct atr_client *c = t->data;
	int running;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static void on_soon(uv_idle_t *h)
{
	uv_idle_stop(h);
	on_timeout(&((struct atr_client *)h->data)->timer);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct atr_client *c = userp;
	(void)multi;
	if (timeout_ms < 0) {
		uv_timer_stop(&c->timer);
		uv_idle_stop(&c->soon);
	} else if (timeout_ms == 0) {
		/* 0 means "soon", not "from inside this callback" (multi-uv.c). multi-uv.c waits
		 * 1 ms for it, which is a millisecond added to every request (the gateway's whole
		 * budget); an idle handle runs on the next loop iteration instead, without blocking
		 * in between and without running twice in one iteration. */
		uv_timer_stop(&c->timer);
		uv_idle_start(&c->soon, on_soon);
	} else {
		uv_idle_stop(&c->soon);
		uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
	}
	return 0;
}

int atr_client_new(uv_loop_t *loop, struct atr_client **out)
{
	struct atr_client *c = calloc(1, sizeof(*c));
	if (!c)
		return ATR_ENOMEM;
	c->loop = loop;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return ATR_ENOMEM;
	}
	uv_timer_init(loop, &c->timer);
	uv_idle_init(loop, &c->soon);
	c->timer.data = c->soon.data = c;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 512L);
	*out = c;
	return 0;
}

static void xfer_free(struct atr_xfer *x)
{
	curl_slist_free_all(x->hdrs);
	curl_slist_free_all(x->rcpt);
	free(x->req_body);
	atr_buf_release(&x->body);
	free(x);
}

static void on_client_handle_closed(uv_handle_t *h)
{
	struct atr_client *c = h->data;
	if (--c->open_handles == 0) {
		free(c->ca_file);
		free(c);
	}
}

static void unlink_xfer(struct atr_xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		x->c->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->c->active--;
}

void atr_client_free(struct atr_client *c)
{
	if (!c)
		return;
	c->closing = true;
	while (c->xfers)
		atr_client_cancel(c->xfers);
	curl_multi_cleanup(c->multi);
	while (c->socks)
		close_sock(c->socks);
	uv_timer_stop(&c->timer);
	uv_idle_stop(&c->soon);
	c->open_handles = 2;
	uv_close((uv_handle_t *)&c->timer, on_client_handle_closed);
	uv_close((uv_handle_t *)&c->soon, on_client_handle_closed);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct atr_xfer *x = userdata;
	size_t n = size * nmemb;
	if (x->sink) {
		long status = 0;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			if (x->sink(x->cls, ptr, n) == n)
				return n;
			x->aborted = true;
			return 0; /* CURLE_WRITE_ERROR */
		}
	}
	if (atr_buf_append(&x->body, ptr, n) < 0) {
		x->truncated = true;
		return 0; /* aborts with CURLE_WRITE_ERROR */
	}
	return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct atr_xfer *x = userdata;
	size_t n = size * nitems;
	if (n > 13 && strncasecmp(buf, "Content-Type:", 13) == 0) {
		size_t off = 13, end = n;
		while (off < n && buf[off] == ' ')
			off++;
		while (end > off && (buf[end - 1] == '\r' || buf[end - 1] == '\n'))
			end--;
		snprintf(x->content_type, sizeof(x->content_type), "%.*s", (int)(end - off), buf + off);
	}
	return n;
}

/* The upload's next bytes, from the caller's file at our own offset. */
static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct atr_xfer *x = userdata;
	uint64_t left = x->up_size - x->up_off;
	size_t max = size * nitems;
	ssize_t r;

	if (left == 0)
		return 0;
	if (max > left)
		max = (size_t)left;
	if (x->mem_upload) {
		memcpy(buf, x->req_body + x->up_off, max);
		x->up_off += max;
		return max;
	}
	do
		r = pread(x->up_fd, buf, max, (off_t)x->up_off);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		snprintf(x->up_err, sizeof(x->up_err), "cannot read the body to send at byte %llu: %s",
			 (unsigned long long)x->up_off,
			 r == 0 ? "the file is shorter than its announced size" : strerror(errno));
		return CURL_READFUNC_ABORT;
	}
	x->up_off += (uint64_t)r;
	return (size_t)r;
}

/* curl rewinds the body when it must send it again (a reused connection that closed). */
static int on_seek(void *userdata, curl_off_t offset, int origin)
{
	struct atr_xfer *x = userdata;
	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->up_size)
		return CURL_SEEKFUNC_CANTSEEK;
	x->up_off = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static void set_upload(struct atr_xfer *x, const struct atr_client_req *rq)
{
	x->up_fd = rq->upload_fd;
	x->up_size = rq->upload_size;
	curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(x->easy, CURLOPT_SEEKDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->upload_size);
}

/* E-mail over SMTP: the envelope, the login, the message (in req_body) as the upload. */
static int set_mail(struct atr_xfer *x, const struct atr_client_req *rq)
{
	for (const char *const *r = rq->mail_rcpt; r && *r; r++) {
		struct curl_slist *n = curl_slist_append(x->rcpt, *r);
		if (!n)
			return ATR_ENOMEM;
		x->rcpt = n;
	}
	if (!(x->req_body = malloc(rq->body_len ? rq->body_len : 1)))
		return ATR_ENOMEM;
	memcpy(x->req_body, rq->body, rq->body_len);
	x->mem_upload = true;
	x->up_size = rq->body_len;
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(x->easy, CURLOPT_MAIL_FROM, rq->mail_from);
	curl_easy_setopt(x->easy, CURLOPT_MAIL_RCPT, x->rcpt);
	if (rq->username)
		curl_easy_setopt(x->easy, CURLOPT_USERNAME, rq->username);
	if (rq->password)
		curl_easy_setopt(x->easy, CURLOPT_PASSWORD, rq->password);
	curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(x->easy, CURLOPT_SEEKDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
	return 0;
}

/* The transfer's options: callbacks, limits, protocols and the method. */
static void set_options(struct atr_xfer *x, const struct atr_client_req *rq)
{
	curl_easy_setopt(x->easy, CURLOPT_URL, rq->url);
	if (x->c->ca_file)
		curl_easy_setopt(x->easy, CURLOPT_CAINFO, x->c->ca_file);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
			 rq->timeout_ms < 0 ? 0L
			 : rq->timeout_ms   ? rq->timeout_ms
					    : 30000L);
	if (rq->stall_s > 0) {
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME, rq->stall_s);
	}
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms ? rq->connect_timeout_ms : 5000L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
	if (rq->upload) /* before CUSTOMREQUEST: CURLOPT_UPLOAD alone would mean PUT */
		set_upload(x, rq);
	if (rq->mail_from)
		return; /* SMTP: CUSTOMREQUEST would replace its commands */
	curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
}

/* The request headers, and a copy of a body given in memory (curl reads it as it sends).
 * ATR_ENOMEM when the copy cannot be made. */
static int set_headers_and_body(struct atr_xfer *x, const struct atr_client_req *rq)
{
	char line[600];

	x->hdrs = curl_slist_append(x->hdrs, "Expect:"); /* no 100-continue round trip */
	if (rq->bearer) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", rq->bearer);
		x->hdrs = curl_slist_append(x->hdrs, line);
	}
	if (rq->body) {
		x->req_body = malloc(rq->body_len ? rq->body_len : 1);
		if (!x->req_body)
			return ATR_ENOMEM;
		memcpy(x->req_body, rq->body, rq->body_len);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->req_body);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		snprintf(line, sizeof(line), "Content-Type: %s",
			 rq->content_type ? rq->content_type : "application/json");
		x->hdrs = curl_slist_append(x->hdrs, line);
	}
	if (rq->upload) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 rq->content_type ? rq->content_type : "application/octet-stream");
		x->hdrs = curl_slist_append(x->hdrs, line);
	}
	for (const char *const *h = rq->headers; h && *h; h++)
		x->hdrs = curl_slist_append(x->hdrs, *h);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	return 0;
}

int atr_client_send(struct atr_client *c, const struct atr_client_req *rq, atr_client_cb cb, void *cls,
		    struct atr_xfer **xfer_out)
{
	struct atr_xfer *x;

	if (rq->upload && rq->body)
		return ATR_EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return ATR_ENOMEM;
	x->c = c;
	x->cb = cb;
	x->cls = cls;
	x->sink = rq->sink;
	x->up_fd = -1;
	x->t0 = atr_mono_us();
	atr_buf_init(&x->body, rq->max_response ? rq->max_response : 16u << 20);
	x->easy = curl_easy_init();
	if (!x->easy)
		goto fail;
	set_options(x, rq);
	if (rq->mail_from) {
		if (set_mail(x, rq) < 0)
			goto fail;
	} else if (set_headers_and_body(x, rq) < 0) {
		goto fail;
	}
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
		goto fail;
	c->active++;
	x->next = c->xfers;
	if (c->xfers)
		c->xfers->prev = x;
	c->xfers = x;
	if (xfer_out)
		*xfer_out = x;
	return 0;
fail:
	if (x->easy)
		curl_easy_cleanup(x->easy);
	xfer_free(x);
	return ATR_ENOMEM;
}

void atr_client_cancel(struct atr_xfer *x)
{
	struct atr_client *c = x->c;
	curl_multi_remove_handle(c->multi, x->easy);
	curl_easy_cleanup(x->easy);
	unlink_xfer(x);
	xfer_free(x);
	(void)c;
}

int atr_client_set_ca_file(struct atr_client *c, const char *path)
{
	char *copy = path && *path ? strdup(path) : NULL;

	if (path && *path && !copy)
		return ATR_ENOMEM;
	free(c->ca_file);
	c->ca_file = copy;
	return 0;
}

int atr_client_active(const struct atr_client *c)
{
	return c->active;
}

static void check_done(struct atr_client *c)
{
	CURLMsg *m;
	int left;

	while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
		struct atr_xfer *x = NULL;
		struct atr_client_resp resp;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		memset(&resp, 0, sizeof(resp));
		resp.curl_code = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &resp.status);
		if (resp.curl_code != CURLE_OK) {
			resp.error = x->up_err[0]   ? x->up_err
				     : x->errbuf[0] ? x->errbuf
						    : curl_easy_strerror(m->data.result);
			if (resp.curl_code != CURLE_WRITE_ERROR || !x->truncated)
				resp.status = resp.status ? resp.status : 0;
		}
		resp.body = x->body.data ? x->body.data : (char *)"";
		resp.len = x->body.len;
		resp.truncated = x->truncated;
		resp.aborted = x->aborted;
		memcpy(resp.content_type, x->content_type, sizeof(resp.content_type));
		resp.micros = atr_mono_us() - x->t0;
		curl_multi_remove_handle(c->multi, x->easy);
		curl_easy_cleanup(x->easy);
		unlink_xfer(x);
		x->cb(x->cls, &resp);
		xfer_free(x);
	}
}
