/*
 * refserver.c: the reference server for the API-read ratio. A bare libmicrohttpd daemon in
 * the same mode as Atrium's (src/http/server.c): MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
 * MHD_USE_TURBO, no threads of its own, its epoll descriptor watched by a uv_poll on one libuv
 * loop, MHD_run on readiness and a uv_timer re-armed from MHD_get_timeout. It answers every
 * request with the same bytes (one file) and Content-Type Atrium answered, plus an
 * X-Request-Id header of the same length, from a response built once, on the second call of
 * the access handler as Atrium does: what is left is the cost of HTTP on this stack, the
 * denominator Atrium's router, auth, SQLite read, JSON and logging are measured against.
 *
 * MHD's options stay at their defaults: the tuning Atrium adds (connection memory limit,
 * timeouts, limits) is Atrium's choice and part of what the ratio measures (the 256 KiB
 * memory limit is zeroed by MHD on every request: see docs/benchmarks.md, Findings).
 * Not here: routing, authentication, anything per request beyond MHD's own work.
 */
#include "common.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <uv.h>

#define PROG "refserver"

struct ref {
	struct MHD_Daemon *d;
	struct MHD_Response *resp;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_signal_t sigint, sigterm;
};

static void run_mhd(struct ref *s);

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

/* The same glue as src/http/server.c's run_mhd(). */
static void run_mhd(struct ref *s)
{
	MHD_UNSIGNED_LONG_LONG to;

	MHD_run(s->d);
	if (MHD_get_timeout(s->d, &to) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, (uint64_t)to, 0);
	else
		uv_timer_stop(&s->timer);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct ref *s = cls;

	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*upload_data_size) { /* a body is read and dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!*con_cls) { /* first call, headers only: answer on the second, as Atrium does */
		*con_cls = s;
		return MHD_YES;
	}
	return MHD_queue_response(c, MHD_HTTP_OK, s->resp);
}

static void on_close(uv_handle_t *h)
{
	(void)h;
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct ref *s = sig->data;

	(void)signum;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, on_close);
	uv_close((uv_handle_t *)&s->timer, on_close);
	uv_close((uv_handle_t *)&s->sigint, on_close);
	uv_close((uv_handle_t *)&s->sigterm, on_close);
}

int main(int argc, char **argv)
{
	struct ref s;
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;
	uv_loop_t loop;
	char *body;
	size_t len;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: refserver BODY_FILE CONTENT_TYPE PORT_FILE\n"
				"  listens on 127.0.0.1 (a free port, written to PORT_FILE as 127.0.0.1:PORT)\n"
				"  and answers every request 200 with BODY_FILE's bytes; SIGTERM stops it\n");
		return 2;
	}
	memset(&s, 0, sizeof(s));
	signal(SIGPIPE, SIG_IGN);
	if (!(body = bench_read_file(argv[1], &len)))
		bench_die(PROG, "cannot read '%s'", argv[1]);
	s.resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!s.resp || MHD_add_response_header(s.resp, "Content-Type", argv[2]) != MHD_YES ||
	    MHD_add_response_header(s.resp, "X-Request-Id", "0123456789abcdef") != MHD_YES)
		bench_die(PROG, "cannot build the answer");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* atr_server_start()'s flags; MHD's default options (see the comment at the top). */
	s.d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO, 0, NULL, NULL, on_access, &s,
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_END);
	if (!s.d)
		bench_die(PROG, "cannot listen on 127.0.0.1");
	uv_loop_init(&loop);
	info = MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || uv_poll_init(&loop, &s.poll, info->epoll_fd) != 0)
		bench_die(PROG, "cannot watch MHD's epoll descriptor");
	uv_timer_init(&loop, &s.timer);
	uv_signal_init(&loop, &s.sigint);
	uv_signal_init(&loop, &s.sigterm);
	s.poll.data = s.timer.data = s.sigint.data = s.sigterm.data = &s;
	uv_poll_start(&s.poll, UV_READABLE, on_poll);
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	info = MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_BIND_PORT);
	f = fopen(argv[3], "w");
	if (!info || !f || fprintf(f, "127.0.0.1:%u\n", (unsigned)info->port) < 0 || fclose(f) != 0)
		bench_die(PROG, "cannot write '%s'", argv[3]);
	run_mhd(&s);
	uv_run(&loop, UV_RUN_DEFAULT);
	MHD_stop_daemon(s.d);
	MHD_destroy_response(s.resp);
	return uv_loop_close(&loop) == 0 ? 0 : 1;
}
