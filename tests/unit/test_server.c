/*
 * test_server.c: atr_server_start's failure paths on a real loop. When MHD's epoll descriptor
 * cannot be watched, the server has already initialised its timers: they must stay valid
 * until their close callbacks ran, and the caller's loop must still run to its end and close
 * (uv_loop_close() == 0). The happy paths are test_loop.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/server.h"

static void h_never(struct atr_req *r)
{
	(void)r;
}

static const struct atr_route routes[] = {
	{ .method = "GET", .pattern = "/never", .handler = h_never, .access = ATR_ACCESS_PUBLIC },
};

/* Each handle still on the loop: memory that someone owns until its close callback (reading
 * it here, in instrumented code, is what lets ASan see a handle freed too early; libuv's own
 * reads of it are not instrumented). */
static void count_closing_timer(uv_handle_t *h, void *arg)
{
	int *n = arg;
	assert_int_equal(h->type, UV_TIMER); /* (a direct read: instrumented) */
	assert_non_null(h->data);
	assert_true(uv_is_closing(h));
	(*n)++;
}

/*
 * uv_poll_init checks a descriptor by adding it to the loop's epoll instance (and removing it
 * again). With the loop's epoll descriptor pointing at /dev/null for the duration of
 * atr_server_start, that epoll_ctl fails (EINVAL: not an epoll instance), as it would for any
 * descriptor the kernel refuses to watch; nothing else in atr_server_start uses it.
 */
static void test_epoll_fd_not_watchable(void **state)
{
	struct atr_addr addr = { .host = "127.0.0.1", .port = 0 };
	struct atr_server_opts o = { .routes = routes, .nroutes = 1, .max_body = 1024, .max_upload = 1024 };
	struct atr_server *srv = NULL;
	uv_loop_t loop;
	int backend, saved, devnull, closing = 0;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	backend = uv_backend_fd(&loop);
	saved = dup(backend);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(saved >= 0 && devnull >= 0);
	assert_int_equal(dup2(devnull, backend), backend);

	assert_int_equal(atr_server_start(&loop, &addr, &o, &srv), ATR_EIO);
	assert_null(srv);

	assert_int_equal(dup2(saved, backend), backend);
	close(saved);
	close(devnull);
	/* what the server had initialised is closing, and still valid */
	uv_walk(&loop, count_closing_timer, &closing);
	assert_int_equal(closing, 3); /* the MHD timer, the shutdown grace timer, the connection guard */
	/* the caller runs its loop to the end: the closing timers are processed (and the server
	 * freed) there, and nothing is left on it */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoll_fd_not_watchable),
	};
	atr_log_setup(ATR_LOG_ERROR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
