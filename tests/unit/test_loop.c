/*
 * test_loop.c: the HTTP server (MHD on uv_poll/uv_timer) and the HTTP client (curl multi on
 * the same loop) against each other over loopback: plain answers, suspended answers resumed
 * from a timer, a chunked stream fed by timers, a streamed upload, 404/405/413/401, a long
 * poll answered at shutdown, and a clean loop close (every handle closed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "atrium/client.h"
#include "atrium/server.h"

struct fixture {
	uv_loop_t loop;
	struct atr_server *srv;
	struct atr_client *cli;
	int port;
	int pending; /* client requests in flight */
	int stopped;
	uint64_t uploaded;
	struct atr_req *poller;
	struct atr_req *streamer;
	int stream_step;
	uv_timer_t timer;
	char last[256];
};

static struct fixture F;

static void h_hello(struct atr_req *r)
{
	atr_reply_json(r, 200,
		       json_pack("{s:s}", "hello", atr_req_query(r, "name") ? atr_req_query(r, "name") : "you"));
}

static void h_echo(struct atr_req *r)
{
	atr_reply_json(r, 201, json_incref(atr_req_body(r)));
}

static void slow_fire(uv_timer_t *t)
{
	struct atr_req *r = t->data;
	atr_reply_json(r, 200, json_pack("{s:b}", "late", 1));
	atr_req_unref(r);
	uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static void h_slow(struct atr_req *r)
{
	uv_timer_t *t = malloc(sizeof(*t));
	uv_timer_init(&F.loop, t);
	t->data = r;
	atr_req_ref(r);
	atr_req_suspend(r);
	uv_timer_start(t, slow_fire, 20, 0);
}

static void poll_shutdown(struct atr_req *r)
{
	atr_reply_json(r, 200, json_pack("{s:s}", "state", "server stopping"));
}

static void poll_close(struct atr_req *r)
{
	(void)r;
	F.poller = NULL;
}

static void h_poll(struct atr_req *r)
{
	F.poller = r;
	atr_req_on_shutdown(r, poll_shutdown);
	atr_req_on_close(r, poll_close);
	atr_req_suspend(r);
}

static long stream_read(void *cls, char *buf, size_t max)
{
	(void)cls;
	(void)max;
	if ((F.stream_step & 0xff) >= 3)
		return -1;
	if (F.stream_step == 0 || (F.stream_step & 0x100)) {
		int n = F.stream_step & 0xff;
		F.stream_step = n + 1;
		memcpy(buf, "line\n", 5);
		return 5;
	}
	return 0; /* wait for the timer */
}

static void stream_tick(uv_timer_t *t)
{
	(void)t;
	if (!F.streamer)
		return;
	F.stream_step |= 0x100;
	atr_stream_wake(F.streamer);
}

static void stream_done(void *cls)
{
	(void)cls;
	F.streamer = NULL;
	uv_timer_stop(&F.timer);
}

static const struct atr_stream_ops stream_ops = { stream_read, stream_done };

static void h_stream(struct atr_req *r)
{
	F.streamer = r;
	F.stream_step = 0;
	uv_timer_start(&F.timer, stream_tick, 10, 10);
	atr_reply_stream(r, 200, "text/plain", &stream_ops, NULL);
}

static int up_chunk(struct atr_req *r, const char *data, size_t len)
{
	(void)r;
	(void)data;
	F.uploaded += len;
	return 0;
}

static void h_upload(struct atr_req *r)
{
	atr_reply_json(r, 201, json_pack("{s:I}", "bytes", (json_int_t)F.uploaded));
}

static int authenticate(void *app, const char *token, struct atr_principal *out)
{
	(void)app;
	if (strcmp(token, "good") != 0)
		return -10;
	memset(out, 0, sizeof(*out));
	out->kind = ATR_P_USER;
	snprintf(out->username, sizeof(out->username), "tester");
	return 0;
}

static const struct atr_field echo_schema[] = { { "msg", ATR_F_STRING, ATR_FF_REQUIRED, 1, 100, NULL, NULL }, { 0 } };

static const struct atr_qparam hello_query[] = {
	{ "name", ATR_Q_STRING, 0, 1, 64, 0, NULL, NULL },
	{ 0 },
};

static const struct atr_route routes[] = {
	{ .method = "GET",
	  .pattern = "/hello",
	  .handler = h_hello,
	  .access = ATR_ACCESS_PUBLIC,
	  .query = hello_query,
	  .name = "hello" },
	{ .method = "POST",
	  .pattern = "/echo",
	  .handler = h_echo,
	  .access = ATR_ACCESS_USER,
	  .body = echo_schema,
	  .name = "echo" },
	{ .method = "GET", .pattern = "/slow", .handler = h_slow, .access = ATR_ACCESS_PUBLIC, .name = "slow" },
	{ .method = "GET", .pattern = "/poll", .handler = h_poll, .access = ATR_ACCESS_PUBLIC, .name = "poll" },
	{ .method = "GET", .pattern = "/stream", .handler = h_stream, .access = ATR_ACCESS_PUBLIC, .name = "stream" },
	{ .method = "PUT",
	  .pattern = "/upload",
	  .handler = h_upload,
	  .access = ATR_ACCESS_PUBLIC,
	  .flags = ATR_RF_STREAM,
	  .name = "upload",
	  .on_chunk = up_chunk },
};

struct expect {
	long status;
	const char *contains;
};

static void on_resp(void *cls, const struct atr_client_resp *resp)
{
	struct expect *e = cls;
	if (resp->status != e->status || (e->contains && !strstr(resp->body, e->contains))) {
		fprintf(stderr, "expected %ld '%s', got %ld '%s' (%s)\n", e->status, e->contains ? e->contains : "",
			resp->status, resp->body, resp->error ? resp->error : "");
		fail();
	}
	free(e);
	F.pending--;
}

static void send_req(const char *method, const char *path, const char *bearer, const char *body, size_t len,
		     long status, const char *contains)
{
	char url[256];
	struct atr_client_req rq = { .method = method, .url = url, .bearer = bearer, .body = body, .body_len = len };
	struct expect *e = malloc(sizeof(*e));
	e->status = status;
	e->contains = contains;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", F.port, path);
	assert_int_equal(atr_client_send(F.cli, &rq, on_resp, e, NULL), 0);
	F.pending++;
}

static void run_until_idle(void)
{
	while (F.pending > 0)
		uv_run(&F.loop, UV_RUN_ONCE);
}

static int setup(void **state)
{
	struct atr_addr a = { "127.0.0.1", 0 };
	struct atr_server_opts o = { .routes = routes,
				     .nroutes = sizeof(routes) / sizeof(routes[0]),
				     .max_body = 1024,
				     .max_upload = 10 << 20,
				     .authenticate = authenticate,
				     .app = &F };
	(void)state;
	memset(&F, 0, sizeof(F));
	assert_int_equal(uv_loop_init(&F.loop), 0);
	uv_timer_init(&F.loop, &F.timer);
	assert_int_equal(atr_server_start(&F.loop, &a, &o, &F.srv), 0);
	F.port = atr_server_port(F.srv);
	assert_true(F.port > 0);
	assert_int_equal(atr_client_new(&F.loop, &F.cli), 0);
	return 0;
}

static void test_plain(void **state)
{
	(void)state;
	send_req("GET", "/hello?name=a%20b", NULL, NULL, 0, 200, "\"hello\":\"a b\"");
	send_req("GET", "/nope", NULL, NULL, 0, 404, "not_found");
	send_req("DELETE", "/hello", NULL, NULL, 0, 405, "method_not_allowed");
	send_req("POST", "/echo", "good", "{\"msg\":\"hi\"}", 12, 201, "\"msg\":\"hi\"");
	send_req("POST", "/echo", NULL, "{\"msg\":\"hi\"}", 12, 401, "unauthorized");
	send_req("POST", "/echo", "bad", "{\"msg\":\"hi\"}", 12, 401, "unauthorized");
	send_req("POST", "/echo", "good", "{\"msg\":5}", 9, 400, "\"field\":\"msg\"");
	send_req("POST", "/echo", "good", "{nope", 5, 400, "invalid_json");
	{
		char big[2048];
		memset(big, ' ', sizeof(big));
		send_req("POST", "/echo", "good", big, sizeof(big), 413, "too_large");
	}
	run_until_idle();
}

static void test_suspend_and_stream(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++)
		send_req("GET", "/slow", NULL, NULL, 0, 200, "late");
	send_req("GET", "/stream", NULL, NULL, 0, 200, "line\nline\nline\n");
	run_until_idle();
}

static void test_upload(void **state)
{
	size_t n = 3u << 20;
	char *data = malloc(n);
	(void)state;
	memset(data, 'x', n);
	F.uploaded = 0;
	send_req("PUT", "/upload", NULL, data, n, 201, "\"bytes\":3145728");
	free(data);
	run_until_idle();
}

static void on_stopped(void *arg)
{
	(void)arg;
	F.stopped = 1;
}

static void start_shutdown(uv_timer_t *t)
{
	(void)t;
	atr_server_shutdown(F.srv, 2000, on_stopped, NULL);
}

static void test_shutdown_answers_long_poll(void **state)
{
	(void)state;
	send_req("GET", "/poll", NULL, NULL, 0, 200, "server stopping");
	/* let the poll arrive, then stop the server while it waits */
	uv_timer_start(&F.timer, start_shutdown, 50, 0);
	run_until_idle();
	while (!F.stopped)
		uv_run(&F.loop, UV_RUN_ONCE);
	assert_null(F.poller);
}

static int teardown(void **state)
{
	(void)state;
	atr_client_free(F.cli);
	uv_close((uv_handle_t *)&F.timer, NULL);
	uv_run(&F.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&F.loop), 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_suspend_and_stream),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_shutdown_answers_long_poll),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
