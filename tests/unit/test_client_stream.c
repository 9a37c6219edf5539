/*
 * test_client_stream.c: the HTTP client's streaming against an atr_server on the same loop:
 * a 50 MiB download through a sink (hashed on the way, in many pieces, with the process's
 * peak memory barely moving), an error answer buffered for its message instead of sunk, a
 * sink that aborts, uploads from a file descriptor checked on the server side by size and
 * sha256 (8 MiB, empty, a file shorter than announced), and a request that asks for a copied
 * body and an upload at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "atrium/client.h"
#include "atrium/err.h"
#include "atrium/server.h"
#include "atrium/util.h"

#define BIG (50ull << 20)

struct fixture {
	uv_loop_t loop;
	struct atr_server *srv;
	struct atr_client *cli;
	int port;
	int stopped;
	/* the server's side of an upload */
	EVP_MD_CTX *up_md;
	uint64_t up_bytes;
	/* the server's side of a download */
	uint64_t sent;
};

static struct fixture F;

/* The bytes of the big file: a 251-byte cycle, so pieces never line up with it. */
static void pattern(uint64_t off, char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((off + i) % 251);
}

static void hex_of(EVP_MD_CTX *md, char out[65])
{
	unsigned char d[32];
	unsigned dl = 0;
	EVP_DigestFinal_ex(md, d, &dl);
	atr_hex_encode(d, 32, out);
}

static long big_read(void *cls, char *buf, size_t max)
{
	uint64_t *off = cls;
	size_t n = max;
	if (*off >= BIG)
		return -1;
	if (n > BIG - *off)
		n = (size_t)(BIG - *off);
	pattern(*off, buf, n);
	*off += n;
	F.sent = *off;
	return (long)n;
}

static const struct atr_stream_ops big_ops = { big_read, free };

static void h_big(struct atr_req *r)
{
	uint64_t *off = calloc(1, sizeof(*off));
	atr_reply_stream(r, 200, "application/octet-stream", &big_ops, off);
}

static int up_chunk(struct atr_req *r, const char *data, size_t len)
{
	(void)r;
	EVP_DigestUpdate(F.up_md, data, len);
	F.up_bytes += len;
	return 0;
}

static void h_upload(struct atr_req *r)
{
	char hex[65];
	hex_of(F.up_md, hex);
	atr_reply_json(r, 201,
		       json_pack("{s:I, s:s, s:s}", "size", (json_int_t)F.up_bytes, "sha256", hex, "method",
				 atr_req_method(r)));
}

static void h_upload_begin(struct atr_req *r)
{
	(void)r;
	EVP_DigestInit_ex(F.up_md, EVP_sha256(), NULL);
	F.up_bytes = 0;
}

static const struct atr_route routes[] = {
	{ .method = "GET", .pattern = "/big", .handler = h_big, .access = ATR_ACCESS_PUBLIC, .name = "big" },
	{ .method = "PUT",
	  .pattern = "/up",
	  .handler = h_upload,
	  .access = ATR_ACCESS_PUBLIC,
	  .flags = ATR_RF_STREAM,
	  .name = "up",
	  .on_begin = h_upload_begin,
	  .on_chunk = up_chunk },
};

/* ---- the client's side ---- */

struct got {
	int done;
	long status;
	int curl_code;
	bool aborted;
	char body[512];
	size_t body_len;
	char error[256];
	/* sink */
	EVP_MD_CTX *md;
	uint64_t bytes;
	int pieces;
	uint64_t abort_after; /* 0: never */
};

static size_t sink(void *cls, const char *data, size_t len)
{
	struct got *g = cls;
	if (g->abort_after && g->bytes + len > g->abort_after)
		return 0;
	EVP_DigestUpdate(g->md, data, len);
	g->bytes += len;
	g->pieces++;
	return len;
}

static void on_resp(void *cls, const struct atr_client_resp *resp)
{
	struct got *g = cls;
	g->done = 1;
	g->status = resp->status;
	g->curl_code = resp->curl_code;
	g->aborted = resp->aborted;
	g->body_len = resp->len;
	snprintf(g->body, sizeof(g->body), "%s", resp->body);
	snprintf(g->error, sizeof(g->error), "%s", resp->error ? resp->error : "");
}

static void wait_for(struct got *g)
{
	while (!g->done)
		uv_run(&F.loop, UV_RUN_ONCE);
}

static void url_of(char *url, size_t n, const char *path)
{
	snprintf(url, n, "http://127.0.0.1:%d%s", F.port, path);
}

static long peak_rss_kib(const char *field)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");
	size_t fl = strlen(field);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, fl) == 0 && sscanf(line + fl, ": %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void get(const char *path, struct got *g, bool with_sink)
{
	char url[256];
	struct atr_client_req rq = { .method = "GET", .url = url, .timeout_ms = -1, .stall_s = 10 };
	if (with_sink)
		rq.sink = sink;
	url_of(url, sizeof(url), path);
	g->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(g->md, EVP_sha256(), NULL);
	assert_int_equal(atr_client_send(F.cli, &rq, on_resp, g, NULL), 0);
	wait_for(g);
}

static void test_download_to_sink(void **state)
{
	struct got g = { 0 };
	char want[65], have[65], *buf = malloc(1 << 20);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	long rss0 = peak_rss_kib("VmRSS"), hwm;
	(void)state;

	get("/big", &g, true);
	hwm = peak_rss_kib("VmHWM");
	assert_int_equal(g.status, 200);
	assert_int_equal(g.curl_code, 0);
	assert_false(g.aborted);
	assert_int_equal(g.bytes, BIG);
	assert_int_equal(g.body_len, 0); /* nothing kept */
	assert_true(g.pieces > 50);	 /* it came in pieces, as it arrived */
	/* the bytes are right: the same sha256 as the pattern */
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (uint64_t off = 0; off < BIG; off += 1 << 20) {
		pattern(off, buf, 1 << 20);
		EVP_DigestUpdate(md, buf, 1 << 20);
	}
	hex_of(md, want);
	hex_of(g.md, have);
	assert_string_equal(have, want);
	/* and not held in memory: the peak grew by far less than the 50 MiB that went through */
	fprintf(stderr, "rss before %ld KiB, peak after %ld KiB\n", rss0, hwm);
	assert_true(rss0 > 0 && hwm > 0);
	assert_true(hwm - rss0 < 16 * 1024);
	EVP_MD_CTX_free(md);
	EVP_MD_CTX_free(g.md);
	free(buf);
}

static void test_error_answer_is_buffered(void **state)
{
	struct got g = { 0 };
	(void)state;
	get("/nothing-here", &g, true);
	assert_int_equal(g.status, 404);
	assert_int_equal(g.bytes, 0); /* the sink only sees 2xx bodies */
	assert_non_null(strstr(g.body, "not_found"));
	EVP_MD_CTX_free(g.md);
}

static void test_sink_aborts(void **state)
{
	struct got g = { .abort_after = 1 << 20 }, again = { 0 };
	(void)state;
	get("/big", &g, true);
	assert_true(g.aborted);
	assert_int_equal(g.curl_code, CURLE_WRITE_ERROR);
	assert_true(g.bytes <= 1 << 20);
	assert_true(F.sent < BIG); /* the server stopped sending too */
	EVP_MD_CTX_free(g.md);
	/* the client and the server go on */
	get("/nothing", &again, false);
	assert_int_equal(again.status, 404);
	EVP_MD_CTX_free(again.md);
}

/* A temp file of n pseudo-random bytes; its sha256 in hex. The fd's offset is left at its end. */
static int temp_file(size_t n, char hex[65])
{
	char path[] = "/tmp/atrium-stream-XXXXXX";
	int fd = mkstemp(path);
	char *buf = malloc(n ? n : 1);
	uint64_t x = 88172645463325252ull;
	assert_true(fd >= 0);
	unlink(path);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (char)x;
	}
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	atr_sha256_hex(buf, n, hex);
	free(buf);
	return fd;
}

static void put_fd(int fd, uint64_t size, struct got *g)
{
	char url[256];
	struct atr_client_req rq = { .method = "PUT", .url = url, .upload = true, .upload_fd = fd, .upload_size = size };
	url_of(url, sizeof(url), "/up");
	assert_int_equal(atr_client_send(F.cli, &rq, on_resp, g, NULL), 0);
	wait_for(g);
}

static void test_upload_from_fd(void **state)
{
	char hex[65], want[200];
	int fd = temp_file(8u << 20, hex);
	struct got g = { 0 };
	(void)state;

	put_fd(fd, 8u << 20, &g);
	assert_int_equal(g.status, 201);
	snprintf(want, sizeof(want), "\"size\":%u", 8u << 20);
	assert_non_null(strstr(g.body, want));
	snprintf(want, sizeof(want), "\"sha256\":\"%s\"", hex);
	assert_non_null(strstr(g.body, want));
	assert_non_null(strstr(g.body, "\"method\":\"PUT\""));
	/* the caller's fd is still open and still the caller's */
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

static void test_upload_empty_file(void **state)
{
	char hex[65], want[200];
	int fd = temp_file(0, hex);
	struct got g = { 0 };
	(void)state;

	put_fd(fd, 0, &g);
	assert_int_equal(g.status, 201);
	assert_non_null(strstr(g.body, "\"size\":0"));
	snprintf(want, sizeof(want), "\"sha256\":\"%s\"", hex);
	assert_non_null(strstr(g.body, want));
	close(fd);
}

static void test_upload_file_too_short(void **state)
{
	char hex[65];
	int fd = temp_file(1000, hex);
	struct got g = { 0 };
	char url[64] = "http://127.0.0.1:1/";
	struct atr_client_req both = { .method = "PUT",
				       .url = url,
				       .body = "x",
				       .body_len = 1,
				       .upload = true,
				       .upload_fd = fd,
				       .upload_size = 1 };
	(void)state;

	put_fd(fd, 5000, &g); /* announces more than the file has */
	assert_int_not_equal(g.curl_code, 0);
	assert_non_null(strstr(g.error, "shorter"));
	/* a copied body and an upload at once make no sense */
	assert_int_equal(atr_client_send(F.cli, &both, on_resp, &g, NULL), ATR_EINVAL);
	close(fd);
}

/* ---- setup ---- */

static int setup(void **state)
{
	struct atr_addr a = { "127.0.0.1", 0 };
	struct atr_server_opts o = { .routes = routes,
				     .nroutes = sizeof(routes) / sizeof(routes[0]),
				     .max_body = 1024,
				     .max_upload = 64u << 20,
				     .app = &F };
	(void)state;
	memset(&F, 0, sizeof(F));
	F.up_md = EVP_MD_CTX_new();
	assert_int_equal(uv_loop_init(&F.loop), 0);
	assert_int_equal(atr_server_start(&F.loop, &a, &o, &F.srv), 0);
	F.port = atr_server_port(F.srv);
	assert_int_equal(atr_client_new(&F.loop, &F.cli), 0);
	return 0;
}

static void on_stopped(void *arg)
{
	(void)arg;
	F.stopped = 1;
}

static int teardown(void **state)
{
	(void)state;
	atr_server_shutdown(F.srv, 1000, on_stopped, NULL);
	while (!F.stopped)
		uv_run(&F.loop, UV_RUN_ONCE);
	atr_client_free(F.cli);
	uv_run(&F.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&F.loop), 0);
	EVP_MD_CTX_free(F.up_md);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_download_to_sink), /* first: the peak memory is measured from here */
		cmocka_unit_test(test_error_answer_is_buffered), cmocka_unit_test(test_sink_aborts),
		cmocka_unit_test(test_upload_from_fd),		 cmocka_unit_test(test_upload_empty_file),
		cmocka_unit_test(test_upload_file_too_short),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
