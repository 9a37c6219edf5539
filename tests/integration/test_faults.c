/*
 * test_faults.c: the faults found by trying (issue 17), each with the reproduction that failed
 * before its fix, against a real daemon on loopback:
 *   - an Idempotency-Key answer is never replayed across projects, nor before access is decided;
 *   - idle and trickling connections cannot exhaust the server: a request head has a deadline,
 *     connections without a valid token are capped per address and overall, and a client with
 *     a token always gets in.
 */
#include "fixtures.h"
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int raw_connect(struct h_server *s)
{
	struct sockaddr_in sin = { 0 };
	const char *colon = strrchr(s->base, ':');
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the server closed fd (a read gives 0 or ECONNRESET) within ms. */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];

	if (poll(&p, 1, ms) <= 0)
		return false;
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* ---- Idempotency-Key ---- */

static void test_idempotency_stays_in_its_project(void **state)
{
	struct h_server S;
	const char *alice, *bob;
	const char *key[] = { "Idempotency-Key: build-7", NULL };
	struct h_resp r1, r2;
	(void)state;

	h_server_start(&S, NULL);
	alice = h_user(&S, "alice", false);
	f_project(&S, alice, "a", "private");
	f_project(&S, alice, "b", "private");
	bob = h_user(&S, "bob", false);

	/* alice's run in a, made with a key */
	h_req(&S, "POST", "/api/v1/projects/a/runs", alice, "{\"name\": \"secret\"}", key, &r1);
	assert_int_equal(r1.status, 201);
	/* the same key and body sent to another project: another request, so a 409, never a's run */
	h_req(&S, "POST", "/api/v1/projects/b/runs", alice, "{\"name\": \"secret\"}", key, &r2);
	assert_int_equal(r2.status, 409);
	assert_null(strstr(r2.body, "secret"));
	h_resp_free(&r2);
	/* bob may not see a: the same key gets him the 404 everyone gets, not alice's answer */
	h_req(&S, "POST", "/api/v1/projects/a/runs", bob, "{\"name\": \"secret\"}", key, &r2);
	assert_int_equal(r2.status, 404);
	assert_null(strstr(r2.body, "secret"));
	h_resp_free(&r2);
	/* alice again in a: the replay */
	h_req(&S, "POST", "/api/v1/projects/a/runs", alice, "{\"name\": \"secret\"}", key, &r2);
	assert_int_equal(r2.status, 201);
	assert_non_null(h_header(&r2, "Idempotency-Replayed"));
	assert_int_equal(f_int(r2.json, "id"), f_int(r1.json, "id"));
	h_resp_free(&r2);
	/* once alice may no longer read a (an admin archived it and removed her? she is its owner:
	 * make bob an owner instead, and remove alice), her replay is a 404 too */
	f_member(&S, "a", "bob", "owner");
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/a/members/alice", bob, NULL, 204));
	h_req(&S, "POST", "/api/v1/projects/a/runs", alice, "{\"name\": \"secret\"}", key, &r2);
	assert_int_equal(r2.status, 404);
	h_resp_free(&r2);
	h_resp_free(&r1);
	h_server_cleanup(&S);
}

/* ---- connections ---- */

/* Idle connections from one address beyond its cap are shed; a client with a token gets in. */
static void test_idle_connections_do_not_lock_out(void **state)
{
	const char *const args[] = { "--max-connections", "200", "--max-connections-per-address", "40", NULL };
	enum { IDLE = 300 };
	struct h_server S;
	int fds[IDLE], n = 0, shed = 0;
	int64_t t0;
	(void)state;

	h_server_start(&S, args);
	for (int i = 0; i < IDLE; i++) {
		int fd = raw_connect(&S);
		if (fd >= 0)
			fds[n++] = fd;
	}
	/* a client with a token still gets an answer at once */
	t0 = now_ms();
	json_decref(h_call(&S, "GET", "/api/v1/users/me", S.admin_token, NULL, 200));
	assert_true(now_ms() - t0 < 3000);
	/* the oldest idle ones were closed to make room */
	for (int i = 0; i < n; i++)
		shed += closed_within(fds[i], i < n / 2 ? 200 : 0);
	assert_true(shed >= n - 40 - 1);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	h_server_cleanup(&S);
}

/* A connection that sends a request head one byte at a time is closed at the head deadline. */
static void test_trickled_head_is_cut(void **state)
{
	const char *const args[] = { "--head-timeout", "2", NULL };
	const char head[] = "GET /api/v1/version HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct h_server S;
	int fd;
	int64_t t0;
	bool cut = false;
	(void)state;

	h_server_start(&S, args);
	fd = raw_connect(&S);
	assert_true(fd >= 0);
	t0 = now_ms();
	/* a byte every 200 ms: never idle for MHD's inactivity timeout, and never done */
	for (size_t i = 0; i < 60 && !cut; i++) {
		char c = head[i % (sizeof(head) - 1)];
		if (send(fd, &c, 1, MSG_NOSIGNAL) != 1 || closed_within(fd, 200))
			cut = true;
	}
	assert_true(cut);
	assert_true(now_ms() - t0 >= 1800);
	assert_true(now_ms() - t0 < 6000);
	close(fd);
	/* and a connection that sends nothing at all */
	fd = raw_connect(&S);
	assert_true(closed_within(fd, 4000));
	close(fd);
	h_server_cleanup(&S);
}

/* 200 connections at a byte a second (slowloris) do not slow a client with a token. */
static void test_slowloris_is_harmless(void **state)
{
	enum { SLOW = 200 };
	struct h_server S;
	int fds[SLOW], n = 0;
	int64_t t0;
	(void)state;

	h_server_start(&S, NULL);
	for (int i = 0; i < SLOW; i++) {
		int fd = raw_connect(&S);
		if (fd >= 0) {
			send(fd, "G", 1, MSG_NOSIGNAL);
			fds[n++] = fd;
		}
	}
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < n; i++)
			send(fds[i], "E", 1, MSG_NOSIGNAL);
		t0 = now_ms();
		json_decref(h_call(&S, "GET", "/api/v1/users/me", S.admin_token, NULL, 200));
		assert_true(now_ms() - t0 < 2000);
		usleep(300 * 1000);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	h_server_cleanup(&S);
}

/* Sends raw, then reads the first line and the body of the answer (within 3 s). */
static bool raw_exchange(struct h_server *s, const char *raw, size_t len, char *line, size_t linelen, char *body,
			 size_t bodylen)
{
	char buf[8192];
	size_t got = 0;
	int fd = raw_connect(s);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char *eol, *sep;

	assert_true(fd >= 0);
	send(fd, raw, len, MSG_NOSIGNAL);
	while (got < sizeof(buf) - 1 && poll(&p, 1, 3000) > 0) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = 0;
		if ((sep = strstr(buf, "\r\n\r\n")) && strchr(sep + 4, '}'))
			break;
	}
	close(fd);
	buf[got] = 0;
	if (!got || !(eol = strstr(buf, "\r\n")) || !(sep = strstr(buf, "\r\n\r\n")))
		return false;
	snprintf(line, linelen, "%.*s", (int)(eol - buf), buf);
	snprintf(body, bodylen, "%s", sep + 4);
	return true;
}

/* 401 and 413 come from the headers: before the body (and no 100 Continue for it). */
static void test_refused_from_the_headers(void **state)
{
	struct h_server S;
	char line[200], body[1024], raw[600];
	int64_t t0;
	(void)state;

	h_server_start(&S, NULL);
	/* no token, a large body announced: 401 at once, without 100 Continue */
	t0 = now_ms();
	assert_true(
		raw_exchange(&S,
			     "POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			     "Expect: 100-continue\r\nContent-Length: 11000000\r\n\r\n",
			     strlen("POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				    "Expect: 100-continue\r\nContent-Length: 11000000\r\n\r\n"),
			     line, sizeof(line), body, sizeof(body)));
	assert_non_null(strstr(line, " 401 "));
	assert_non_null(strstr(body, "\"unauthorized\""));
	assert_true(now_ms() - t0 < 1500);
	/* a token, a body over the limit, part of it sent: 413 at once */
	snprintf(raw, sizeof(raw),
		 "POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/json\r\nContent-Length: 99000000\r\n\r\n{\"name\": \"",
		 S.admin_token);
	t0 = now_ms();
	assert_true(raw_exchange(&S, raw, strlen(raw), line, sizeof(line), body, sizeof(body)));
	assert_non_null(strstr(line, " 413 "));
	assert_non_null(strstr(body, "\"too_large\""));
	assert_true(now_ms() - t0 < 1500);
	h_server_cleanup(&S);
}

/* Requests that two servers could read two ways are refused, in JSON. */
static void test_http_framing_is_strict(void **state)
{
	static const struct {
		const char *raw, *field;
	} cases[] = {
		{ "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
		  "Content-Length" },
		{ "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{}",
		  "Transfer-Encoding" },
		{ "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: "
		  "2\r\n\r\n"
		  "2\r\n{}\r\n0\r\n\r\n",
		  "Transfer-Encoding" },
		{ "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length : 2\r\n\r\n{}", "headers" },
		{ "GET /healthz HTTP/1.1\r\n\r\n", "Host" },
	};
	struct h_server S;
	char line[200], body[1024], want[64];
	(void)state;

	h_server_start(&S, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(
			raw_exchange(&S, cases[i].raw, strlen(cases[i].raw), line, sizeof(line), body, sizeof(body)));
		assert_non_null(strstr(line, " 400 "));
		snprintf(want, sizeof(want), "\"field\":\"%s\"", cases[i].field);
		assert_non_null(strstr(body, want));
	}
	/* HTTP/1.0 needs no Host */
	assert_true(raw_exchange(&S, "GET /healthz HTTP/1.0\r\n\r\n", 25, line, sizeof(line), body, sizeof(body)));
	assert_non_null(strstr(line, " 200 "));
	h_server_cleanup(&S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idempotency_stays_in_its_project),
		cmocka_unit_test(test_idle_connections_do_not_lock_out),
		cmocka_unit_test(test_trickled_head_is_cut),
		cmocka_unit_test(test_slowloris_is_harmless),
		cmocka_unit_test(test_refused_from_the_headers),
		cmocka_unit_test(test_http_framing_is_strict),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
