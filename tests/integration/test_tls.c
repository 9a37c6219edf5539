/*
 * test_tls.c: HTTPS. `atrium serve --tls-cert --tls-key` with a self-signed certificate made
 * here by `openssl req`: the API answers over HTTPS to a client that trusts the certificate
 * and not to one that does not, nor in plain HTTP; a worker joins over HTTPS with --ca-file
 * and refuses a server its CA file cannot verify; a daemon listening beyond loopback without
 * TLS says that tokens travel in clear, one on loopback does not.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static char dir[64], cert[128], key[128], other[128];

static bool make_cert(const char *certpath, const char *keypath)
{
	return h_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
		    "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' 2>/dev/null",
		    keypath, certpath) == 0;
}

static int setup(void **state)
{
	const char *extra[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/atrium-tls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(other, sizeof(other), "%s/other.pem", dir);
	assert_true(make_cert(cert, key));
	assert_true(make_cert(other, h_fmt("%s/other-key.pem", dir)));
	h_server_start(&S, extra);
	assert_true(strncmp(S.base, "http://", 7) == 0);
	memmove(S.base + 8, S.base + 7, strlen(S.base + 7) + 1);
	memcpy(S.base, "https://", 8);
	snprintf(S.ca_file, sizeof(S.ca_file), "%s", cert);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_server_cleanup(&S);
	h_sh("rm -rf '%s'", dir);
	return 0;
}

static void test_https_answers(void **state)
{
	struct h_server untrusting = S, plain = S;
	struct h_resp r;
	(void)state;

	json_decref(h_call(&S, "GET", "/api/v1/tokens", S.admin_token, NULL, 200));
	/* a client that does not trust the certificate gets no answer */
	untrusting.ca_file[0] = 0;
	h_req(&untrusting, "GET", "/api/v1/tokens", S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 0);
	h_resp_free(&r);
	snprintf(untrusting.ca_file, sizeof(untrusting.ca_file), "%s", other);
	h_req(&untrusting, "GET", "/api/v1/tokens", S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 0);
	h_resp_free(&r);
	/* nor does plain HTTP on the same port (no token goes out in clear to an HTTPS server) */
	snprintf(plain.base, sizeof(plain.base), "http://%s", S.base + 8);
	h_req(&plain, "GET", "/api/v1/tokens", S.admin_token, NULL, NULL, &r);
	assert_int_not_equal(r.status, 200);
	h_resp_free(&r);
}

struct logwait {
	const char *path, *needle;
};

static bool log_has(void *arg)
{
	const struct logwait *lw = arg;
	return h_sh("grep -q '%s' '%s'", lw->needle, lw->path) == 0;
}

static void test_worker_over_https(void **state)
{
	const char *with_ca[] = { "--ca-file", cert, NULL }, *wrong_ca[] = { "--ca-file", other, NULL };
	struct h_worker good, bad, none;
	struct logwait lw;
	(void)state;

	h_worker_start(&good, &S, h_join_token(&S, "tls-good"), "tls-good", 0, with_ca);
	assert_true(h_worker_wait_registered(&good, 0, 60000));
	/* a CA file that does not verify the server's certificate, and none (the system's CAs):
	 * the worker refuses the server and says why */
	h_worker_start(&bad, &S, h_join_token(&S, "tls-bad"), "tls-bad", 0, wrong_ca);
	h_worker_start(&none, &S, h_join_token(&S, "tls-none"), "tls-none", 0, NULL);
	lw.needle = "cannot register with https";
	lw.path = h_fmt("%s/worker.log", bad.dir);
	assert_true(h_wait(log_has, &lw, 60000));
	lw.path = h_fmt("%s/worker.log", none.dir);
	assert_true(h_wait(log_has, &lw, 60000));
	assert_false(h_worker_wait_registered(&bad, 0, 1));
	assert_false(h_worker_wait_registered(&none, 0, 1));
	assert_int_equal(h_worker_stop(&bad, SIGTERM), 0);
	assert_int_equal(h_worker_stop(&none, SIGTERM), 0);
	assert_int_equal(h_worker_stop(&good, SIGTERM), 0);
}

static void test_clear_text_warning(void **state)
{
	const char *open_listen[] = { "--listen", "0.0.0.0:0", NULL };
	struct h_server plain;
	(void)state;

	/* the HTTPS server on loopback said nothing of the kind */
	assert_int_not_equal(h_sh("grep -q 'travel in clear' '%s/server.log'", S.dir), 0);
	h_server_start(&plain, open_listen);
	assert_int_equal(h_sh("grep -q 'tokens and passwords travel in clear' '%s/server.log'", plain.dir), 0);
	h_server_cleanup(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_https_answers),
		cmocka_unit_test(test_worker_over_https),
		cmocka_unit_test(test_clear_text_warning),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
