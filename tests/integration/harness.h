#ifndef ATRIUM_TEST_HARNESS_H
#define ATRIUM_TEST_HARNESS_H
/*
 * harness.h: integration tests start the real `atrium` binary (ATRIUM_BIN, default
 * build/asan/atrium) on an ephemeral loopback port with a temporary data dir and talk HTTP
 * to it with libcurl. Every wait has a timeout. Every daemon and worker it starts must exit 0
 * when stopped with SIGTERM (h_server_stop, h_worker_stop, h_server_cleanup); h_finish, the
 * value every main returns, stops what is left and fails the run if one did not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>
#include <jansson.h>

struct h_server {
	pid_t pid;
	char dir[256];
	char base[64];
	char admin_token[128];
	void *curl;
	char ca_file[256]; /* HTTPS: the CA that verifies the server (set by the test; "": none) */
};

struct h_resp {
	long status;
	char *body;
	size_t len;
	json_t *json; /* parsed body when it is JSON */
	char *headers;
};

const char *h_bin(void);
/* A fresh data dir; extra args are appended to `atrium serve`. Asserts on failure. */
void h_server_start(struct h_server *s, const char *const *extra);
/* Starts again on the data dir of s (a restart). */
void h_server_restart(struct h_server *s, const char *const *extra);
/*
 * Sends sig and waits (15 s, then SIGKILL) for exit; returns the exit status, 128+signal when
 * killed by a signal, -2 when it had to be killed. After SIGTERM or SIGINT (a clean stop) a
 * status other than 0 is reported with the end of the log and fails h_finish.
 */
int h_server_stop(struct h_server *s, int sig);
/* h_server_stop without that check: for a test of a stop that must fail. */
int h_server_stop_unchecked(struct h_server *s, int sig);
/* Stops (SIGTERM, checked) its workers still running, then the server if running, and removes
 * the data dir. */
void h_server_cleanup(struct h_server *s);
/*
 * What every integration test's main returns: h_finish(cmocka_run_group_tests(...)). Stops
 * (SIGTERM, checked) each daemon and worker still running, workers first; returns rc, or 1
 * when any clean stop of the run did not exit 0. (cmocka does not count a failure in a
 * group teardown, so an assertion there alone would not fail the run.) A main that exits
 * without it is failed at exit.
 */
int h_finish(int rc);

/* One request. body may be NULL; extra_headers is NULL-terminated "Name: value". */
void h_req(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
	   const char *const *extra_headers, struct h_resp *out);
void h_resp_free(struct h_resp *r);
/* A response header's value (copied into a static buffer), or NULL. */
const char *h_header(const struct h_resp *r, const char *name);
/* Request asserting the status; returns the JSON body (new reference, may be NULL). */
json_t *h_call(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
	       long expect);
/* printf-style path helper into a static rotating buffer. */
const char *h_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Asserts an error answer: status, error.code and error.field (NULL: not checked). */
void h_expect_error(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
		    long status, const char *field);
/* Creates a user (member unless admin) and returns its token (static rotating buffer). */
const char *h_user(struct h_server *s, const char *name, bool admin);
/* Runs a shell command, returns its exit status. */
int h_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Polls fn until true or timeout_ms passes. */
bool h_wait(bool (*fn)(void *), void *arg, int timeout_ms);
/* Resident set size of a process in KiB (from /proc). */
long h_rss_kib(pid_t pid);

/* ---- workers (`atrium worker` processes against a server) ---- */
struct h_worker {
	pid_t pid;
	char dir[300]; /* its --work-dir (under the server's data dir) */
	char name[64];
	char url[128]; /* its API, from WORK_DIR/worker.json once registered */
	char secret[128];
	long long id;
};
/* Starts a worker named name against s with join_token (fake_gpus >= 0 sets ATRIUM_FAKE_GPUS),
 * --heartbeat 1, listening on 127.0.0.1:0; extra args are appended. Its log is DIR/worker.log. */
void h_worker_start(struct h_worker *w, struct h_server *s, const char *join_token, const char *name, int fake_gpus,
		    const char *const *extra);
/* Waits for WORK_DIR/worker.json (written at each registration) with a worker id other than
 * not_id (0: any) and fills url, secret and id. */
bool h_worker_wait_registered(struct h_worker *w, long long not_id, int timeout_ms);
/* Sends sig and waits (30 s, then SIGKILL) for exit; returns as h_server_stop, with the same
 * check after SIGTERM or SIGINT. */
int h_worker_stop(struct h_worker *w, int sig);
/* A view of s that talks to the worker's own API (same curl handle). */
struct h_server h_worker_api(const struct h_worker *w, const struct h_server *s);
/* A fresh join token from the admin (static rotating buffer). */
const char *h_join_token(struct h_server *s, const char *name);

#endif
