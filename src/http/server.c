/*
 * server.c: libmicrohttpd driven by the libuv loop: MHD's epoll descriptor is watched by a
 * uv_poll, its timeouts by a uv_timer, and a uv_prepare writes each turn's log lines. Start,
 * graceful shutdown, and the few accessors reply.c needs. The request pipeline is pipeline.c.
 */
#include "atrium/server.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/metrics.h"
#include "atrium/util.h"
#include "http_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static void run_mhd(struct atr_server *s);
static void on_handle_closed(uv_handle_t *h);

static void on_prepare(uv_prepare_t *p)
{
	(void)p;
	atr_log_flush();
}

static void on_timer(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run_mhd(p->data);
}

static void run_mhd(struct atr_server *s)
{
	MHD_UNSIGNED_LONG_LONG to;

	if (!s->d)
		return;
	s->kicked = false;
	s->in_run = true;
	MHD_run(s->d);
	s->in_run = false;
	if (!s->d)
		return;
	if (s->kicked) {
		uv_timer_start(&s->timer, on_timer, 0, 0);
	} else if (s->held) {
		/*
		 * MHD asks to run again at once while a held answer waits (its connection stays
		 * among the ready ones); that run is useless before the commit, and a 0 ms timer
		 * started from a timer's callback would run in this same turn, forever. The
		 * commit comes before the loop waits, and its release kicks the next run.
		 */
		uv_timer_stop(&s->timer);
	} else if (MHD_get_timeout(s->d, &to) == MHD_YES) {
		uv_timer_start(&s->timer, on_timer, (uint64_t)to, 0);
	} else {
		uv_timer_stop(&s->timer);
	}
}

void atr_server_kick(struct atr_server *s)
{
	s->kicked = true;
	if (!s->in_run)
		uv_timer_start(&s->timer, on_timer, 0, 0);
}

/* Paths are decoded by the router, segment by segment: keep MHD from decoding them. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct atr_server *s = cls;
	atr_conns_notify(s, c, socket_ctx, code);
	if (s->o.metrics)
		atr_metrics_connections(s->o.metrics, code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static void on_guard(uv_timer_t *t)
{
	atr_conns_sweep(t->data);
}

static bool is_mutating(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

bool atr_server_stopping(const struct atr_server *s)
{
	return s->stopping;
}

void atr_server_audit(struct atr_server *s, struct atr_req *r)
{
	if (s->o.audit && r->route && !(r->route->flags & ATR_RF_NO_AUDIT) && is_mutating(r->method))
		s->o.audit(s->o.app, r);
}

void atr_server_idem_put(struct atr_server *s, struct atr_req *r, const char *key, unsigned status, const char *body)
{
	if (s->o.idem_put)
		s->o.idem_put(s->o.app, r, key, status, body);
}

/* The options, with the connection guard's defaults where they are 0. */
static void set_opts(struct atr_server *s, const struct atr_server_opts *opts)
{
	s->o = *opts;
	if (!s->o.max_connections)
		s->o.max_connections = ATR_DEFAULT_MAX_CONNECTIONS;
	if (!s->o.head_timeout_ms)
		s->o.head_timeout_ms = ATR_DEFAULT_HEAD_TIMEOUT_MS;
	if (!s->o.idle_timeout_ms)
		s->o.idle_timeout_ms = ATR_DEFAULT_IDLE_TIMEOUT_MS;
	if (s->o.conns_reserve >= s->o.max_connections)
		s->o.conns_reserve = s->o.max_connections / 8;
}

/* The TLS options (HTTPS with the PEM certificate and key of the options) or none: the flag to
 * add (MHD_USE_TLS or 0), or -1 when this libmicrohttpd cannot serve HTTPS. */
static unsigned tls_options(const struct atr_server *s, struct MHD_OptionItem tls[3])
{
	tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)s->o.tls_cert_pem };
	tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)s->o.tls_key_pem };
	tls[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	if (!s->o.tls_cert_pem || !s->o.tls_key_pem) {
		tls[0].option = MHD_OPTION_END;
		return 0;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		atr_error("this libmicrohttpd is built without TLS: cannot serve HTTPS");
		return (unsigned)-1;
	}
	return MHD_USE_TLS;
}

static struct MHD_Daemon *start_mhd(struct atr_server *s, struct sockaddr_in *sin, struct MHD_OptionItem *tls,
				    unsigned https)
{
	return MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | https, 0, NULL, NULL, atr_pipeline_access, s,
		MHD_OPTION_ARRAY, tls, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sin, MHD_OPTION_NOTIFY_COMPLETED,
		atr_pipeline_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK,
		no_unescape, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)(s->o.idle_timeout_ms / 1000),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->o.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(32 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_END);
}

int atr_server_start(uv_loop_t *loop, const struct atr_addr *addr, const struct atr_server_opts *opts,
		     struct atr_server **out)
{
	struct atr_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;
	int fd;

	if (!s)
		return ATR_ENOMEM;
	s->loop = loop;
	set_opts(s, opts);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)addr->port);
	if (inet_pton(AF_INET, strcmp(addr->host, "localhost") == 0 ? "127.0.0.1" : addr->host, &sin.sin_addr) != 1) {
		atr_error("listen address '%s' is not an IPv4 address", addr->host);
		free(s);
		return ATR_EINVAL;
	}
	struct MHD_OptionItem tls[3];
	unsigned https = tls_options(s, tls);
	if (https == (unsigned)-1) {
		free(s);
		return ATR_EINVAL;
	}
	s->d = start_mhd(s, &sin, tls, https);
	if (!s->d) {
		atr_error("cannot listen on %s:%d (in use, or not an address of this host%s)", addr->host, addr->port,
			  https ? "; or the TLS certificate and key are not a valid PEM pair" : "");
		free(s);
		return ATR_EIO;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : addr->port;
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	fd = info ? info->epoll_fd : -1;
	uv_timer_init(loop, &s->timer);
	uv_timer_init(loop, &s->grace);
	uv_timer_init(loop, &s->guard);
	s->timer.data = s->grace.data = s->guard.data = s->poll.data = s;
	if (fd < 0 || uv_poll_init(loop, &s->poll, fd) != 0) {
		atr_error("cannot watch the HTTP server's epoll descriptor");
		MHD_stop_daemon(s->d);
		s->d = NULL;
		/* The timers are on the loop already: s goes when both are closed, as the caller
		 * runs its loop (uv_poll_init failed before it initialised the poll handle). */
		s->closing_handles = 3;
		uv_close((uv_handle_t *)&s->timer, on_handle_closed);
		uv_close((uv_handle_t *)&s->grace, on_handle_closed);
		uv_close((uv_handle_t *)&s->guard, on_handle_closed);
		return ATR_EIO;
	}
	uv_poll_start(&s->poll, UV_READABLE, on_poll);
	uv_timer_start(&s->guard, on_guard, 1000, 1000);
	uv_unref((uv_handle_t *)&s->guard);
	uv_prepare_init(loop, &s->flush);
	s->flush.data = s;
	uv_prepare_start(&s->flush, on_prepare);
	uv_unref((uv_handle_t *)&s->flush);
	run_mhd(s);
	*out = s;
	return 0;
}

int atr_server_port(const struct atr_server *s)
{
	return s->port;
}

int atr_server_active(const struct atr_server *s)
{
	return s->active;
}

/* The server is freed in the close callback of the last of its handles (libuv owns a closing
 * handle's memory until then). */
static void on_handle_closed(uv_handle_t *h)
{
	struct atr_server *s = h->data;
	if (--s->closing_handles > 0)
		return;
	if (s->done)
		s->done(s->done_arg);
	atr_cache_clear(&s->cache);
	free(s);
}

static void stop_now(struct atr_server *s)
{
	if (!s->d)
		return;
	if (s->o.flush)
		s->o.flush(s->o.app); /* held answers go out committed */
	if (s->held)
		atr_server_release_held(s, true);
	/* Anything still suspended must be resumed before MHD_stop_daemon. */
	for (struct atr_req *r = s->live; r; r = r->next)
		atr_req_force_resume(r);
	MHD_run(s->d);
	MHD_stop_daemon(s->d);
	s->d = NULL;
	atr_conns_free(s);
	s->closing_handles = 5;
	uv_prepare_stop(&s->flush);
	uv_close((uv_handle_t *)&s->flush, on_handle_closed);
	uv_close((uv_handle_t *)&s->poll, on_handle_closed);
	uv_close((uv_handle_t *)&s->timer, on_handle_closed);
	uv_close((uv_handle_t *)&s->grace, on_handle_closed);
	uv_close((uv_handle_t *)&s->guard, on_handle_closed);
}

static void on_grace(uv_timer_t *t)
{
	struct atr_server *s = t->data;
	if (s->active > 0 && atr_mono_us() < s->grace_deadline_us) {
		uv_timer_start(&s->grace, on_grace, 20, 0);
		return;
	}
	stop_now(s);
}

void atr_server_shutdown(struct atr_server *s, uint64_t grace_ms, void (*done)(void *arg), void *arg)
{
	MHD_socket ls;

	if (s->stopping)
		return;
	s->stopping = true;
	s->done = done;
	s->done_arg = arg;
	s->grace_deadline_us = atr_mono_us() + grace_ms * 1000;
	ls = MHD_quiesce_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	/* Answer whatever waits on an event: long polls and log streams end now. */
	for (struct atr_req *r = s->live; r; r = r->next)
		atr_req_shutdown(r);
	atr_server_kick(s);
	uv_timer_start(&s->grace, on_grace, 0, 0);
}
