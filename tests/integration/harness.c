/* harness.c: starting and stopping the real daemon, and a small HTTP client for tests. */
#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Every `atrium serve` and `atrium worker` this process started, and how each one ended. A
 * clean stop (SIGTERM or SIGINT) must end in exit status 0: under the sanitizers a leak or a
 * report exits 1, and so does a handle left open on the loop (atr_loop_close), as libuv's
 * test runner fails a test whose uv_loop_close() != 0. cmocka ignores what fails in a group
 * teardown, so the verdict is kept here and given by h_finish, which every main returns.
 */
#define H_PROCS 256

static struct h_proc {
	pid_t pid;
	bool worker;
	bool running;
	int status; /* once stopped: as h_server_stop returns it */
	char what[96];
	char log[400];
} procs[H_PROCS];
static int nprocs, unclean;
static bool finished, guard_registered;

static void sleep_ms(int ms);
static void finish_guard(void);

static void track(pid_t pid, bool worker, const char *what, const char *log)
{
	struct h_proc *p;

	if (!guard_registered) {
		atexit(finish_guard);
		guard_registered = true;
	}
	if (nprocs == H_PROCS) {
		fprintf(stderr, "harness: more than %d processes started; raise H_PROCS\n", H_PROCS);
		fail();
	}
	p = &procs[nprocs++];
	p->pid = pid;
	p->worker = worker;
	p->running = true;
	p->status = 0;
	snprintf(p->what, sizeof(p->what), "%s", what);
	snprintf(p->log, sizeof(p->log), "%s", log);
}

static struct h_proc *find_proc(pid_t pid)
{
	for (int i = nprocs - 1; i >= 0; i--)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

static void exited(pid_t pid, int status)
{
	struct h_proc *p = find_proc(pid);
	if (p && p->running) {
		p->running = false;
		p->status = status;
	}
}

/* Sends sig, waits up to wait_ms, then SIGKILL: the exit status, 128+signal when killed by a
 * signal, -2 when it had to be killed. A process the harness already stopped is not
 * signalled again (its pid may be another process's by now): its status is returned. */
static int stop_pid(pid_t pid, int sig, int wait_ms, bool check)
{
	struct h_proc *p = find_proc(pid);
	int st = 0, rc = -2;

	if (p && !p->running)
		return p->status;
	kill(pid, sig);
	for (int t = 0; t < wait_ms; t += 10) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		sleep_ms(10);
	}
	if (rc == -2) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	exited(pid, rc);
	if (check && (sig == SIGTERM || sig == SIGINT) && rc != 0) {
		unclean++;
		if (rc == -2)
			fprintf(stderr, "harness: %s (pid %d) did not stop within %d s of %s; killed\n",
				p ? p->what : "a daemon", (int)pid, wait_ms / 1000,
				sig == SIGTERM ? "SIGTERM" : "SIGINT");
		else
			fprintf(stderr,
				"harness: %s (pid %d) exited with status %d after %s, not 0 (a sanitizer report, "
				"a leak, a handle left open?)\n",
				p ? p->what : "a daemon", (int)pid, rc, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		if (p) { /* the first report in its log, else its end */
			fprintf(stderr, "harness: from %s:\n", p->log);
			h_sh("(grep -m1 -A60 -e 'ERROR: ' -e 'left open at exit' '%s' || tail -n 40 '%s') >&2", p->log,
			     p->log);
		}
	}
	return rc;
}

int h_finish(int rc)
{
	finished = true;
	/* workers first: they deregister from their server as they stop */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < nprocs; i++)
			if (procs[i].running && procs[i].worker == (pass == 0)) {
				fprintf(stderr, "harness: %s (pid %d) still runs at the end; stopping it (SIGTERM)\n",
					procs[i].what, (int)procs[i].pid);
				stop_pid(procs[i].pid, SIGTERM, 30000, true);
			}
	if (unclean)
		fprintf(stderr, "harness: %d daemon stop%s did not exit 0 (see above): failing\n", unclean,
			unclean == 1 ? "" : "s");
	return rc != 0 ? rc : unclean ? 1 : 0;
}

/* A main that returns without h_finish would leave its daemons running and unchecked. */
static void finish_guard(void)
{
	if (finished)
		return;
	fprintf(stderr, "harness: main did not return h_finish(...): the daemons' exits were not checked\n");
	h_finish(0);
	fflush(NULL); /* (_exit skips it) */
	_exit(1);
}

const char *h_bin(void)
{
	const char *b = getenv("ATRIUM_BIN");
	return b && *b ? b : "build/asan/atrium";
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static bool read_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f)
		return false;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = 0;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = 0;
	return n > 0;
}

static void spawn(struct h_server *s, const char *const *extra)
{
	char log[300], addr[300], lpath[300];
	const char *argv[64];
	int n = 0;

	snprintf(lpath, sizeof(lpath), "%s/listen.addr", s->dir);
	unlink(lpath);
	argv[n++] = h_bin();
	argv[n++] = "serve";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--data-dir";
	argv[n++] = s->dir;
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("ATRIUM_LOG_LEVEL", getenv("ATRIUM_TEST_LOG_LEVEL") ? getenv("ATRIUM_TEST_LOG_LEVEL") : "warn",
		       0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	track(s->pid, false, "'atrium serve'", log);
	for (int i = 0; i < 1000; i++) {
		int st;
		if (read_file(lpath, addr, sizeof(addr))) {
			snprintf(s->base, sizeof(s->base), "http://%s", addr);
			break;
		}
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			exited(s->pid, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			s->pid = 0;
			fprintf(stderr, "harness: the server exited at start; see %s\n", log);
			h_sh("tail -20 %s >&2", log);
			fail();
		}
		sleep_ms(10);
	}
	assert_true(s->base[0]);
	snprintf(lpath, sizeof(lpath), "%s/admin.token", s->dir);
	assert_true(read_file(lpath, s->admin_token, sizeof(s->admin_token)));
	if (!s->curl)
		s->curl = curl_easy_init();
}

void h_server_start(struct h_server *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/atrium-test-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	spawn(s, extra);
}

void h_server_restart(struct h_server *s, const char *const *extra)
{
	s->base[0] = 0;
	spawn(s, extra);
}

static int server_stop(struct h_server *s, int sig, bool check)
{
	int rc;

	if (s->pid <= 0)
		return -1;
	rc = stop_pid(s->pid, sig, 15000, check);
	s->pid = 0;
	if (s->curl) {
		curl_easy_cleanup(s->curl);
		s->curl = NULL;
	}
	return rc;
}

int h_server_stop(struct h_server *s, int sig)
{
	return server_stop(s, sig, true);
}

int h_server_stop_unchecked(struct h_server *s, int sig)
{
	return server_stop(s, sig, false);
}

void h_server_cleanup(struct h_server *s)
{
	size_t n = strlen(s->dir);

	/* its workers (their work dirs are in its data dir), then itself: each must exit 0 */
	for (int i = 0; n && i < nprocs; i++)
		if (procs[i].running && procs[i].worker && strncmp(procs[i].log, s->dir, n) == 0 &&
		    procs[i].log[n] == '/')
			stop_pid(procs[i].pid, SIGTERM, 30000, true);
	if (s->pid > 0)
		h_server_stop(s, SIGTERM);
	if (s->curl) {
		curl_easy_cleanup(s->curl);
		s->curl = NULL;
	}
	if (s->dir[0] && !getenv("ATRIUM_TEST_KEEP"))
		h_sh("rm -rf '%s'", s->dir);
}

struct grow {
	char *p;
	size_t n;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct grow *g = ud;
	size_t n = size * nmemb;
	char *np = realloc(g->p, g->n + n + 1);
	if (!np)
		return 0;
	memcpy(np + g->n, ptr, n);
	g->p = np;
	g->n += n;
	g->p[g->n] = 0;
	return n;
}

void h_req(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
	   const char *const *extra_headers, struct h_resp *out)
{
	CURL *c = s->curl;
	struct curl_slist *h = NULL;
	struct grow b = { 0 }, hd = { 0 };
	char url[4096], auth[300];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (s->ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (body) {
		bool has_ct = false;
		for (int i = 0; extra_headers && extra_headers[i]; i++)
			if (strncasecmp(extra_headers[i], "Content-Type:", 13) == 0)
				has_ct = true;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		if (!has_ct)
			h = curl_slist_append(h, "Content-Type: application/json");
	}
	h = curl_slist_append(h, "Expect:");
	for (int i = 0; extra_headers && extra_headers[i]; i++)
		h = curl_slist_append(h, extra_headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		fprintf(stderr, "harness: %s %s failed: %s\n", method, path, curl_easy_strerror(rc));
		out->status = 0;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	}
	out->body = b.p ? b.p : calloc(1, 1);
	out->len = b.n;
	out->headers = hd.p ? hd.p : calloc(1, 1);
	if (out->len)
		out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, NULL);
}

void h_resp_free(struct h_resp *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

const char *h_header(const struct h_resp *r, const char *name)
{
	static char val[1024];
	size_t nl = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)(ll - (size_t)(v - p)), v);
			return val;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

json_t *h_call(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
	       long expect)
{
	struct h_resp r;
	json_t *j;

	h_req(s, method, path, token, body, NULL, &r);
	if (r.status != expect) {
		fprintf(stderr, "harness: %s %s: expected %ld, got %ld: %s\n", method, path, expect, r.status, r.body);
		h_resp_free(&r);
		fail();
	}
	j = r.json;
	r.json = NULL;
	h_resp_free(&r);
	return j;
}

void h_expect_error(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
		    long status, const char *field)
{
	json_t *j = h_call(s, method, path, token, body, status);
	json_t *e = json_object_get(j, "error");
	assert_non_null(e);
	assert_true(json_is_string(json_object_get(e, "code")));
	assert_true(json_is_string(json_object_get(e, "message")));
	if (field) {
		const char *f = json_string_value(json_object_get(e, "field"));
		if (!f || strcmp(f, field) != 0) {
			fprintf(stderr, "harness: %s %s: expected field '%s', got '%s'\n", method, path, field,
				f ? f : "(null)");
			json_decref(j);
			fail();
		}
	}
	json_decref(j);
}

const char *h_fmt(const char *fmt, ...)
{
	static char bufs[8][2048];
	static int i;
	char *b = bufs[i++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

const char *h_user(struct h_server *s, const char *name, bool admin)
{
	static char toks[8][128];
	static int i;
	char *t = toks[i++ % 8];
	json_t *j = h_call(s, "POST", "/api/v1/users", s->admin_token,
			   h_fmt("{\"username\":\"%s\",\"role\":\"%s\"}", name, admin ? "admin" : "member"), 201);
	snprintf(t, 128, "%s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
	return t;
}

int h_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool h_wait(bool (*fn)(void *), void *arg, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 20) {
		if (fn(arg))
			return true;
		sleep_ms(20);
	}
	return fn(arg);
}

long h_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---- workers ---- */

void h_worker_start(struct h_worker *w, struct h_server *s, const char *join_token, const char *name, int fake_gpus,
		    const char *const *extra)
{
	char log[400], server[128], fake[16], namebuf[sizeof(w->name)], what[96];
	const char *argv[64];
	int n = 0;

	snprintf(namebuf, sizeof(namebuf), "%s", name); /* name may be w->name: a restart under the same name */
	name = namebuf;
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->dir, sizeof(w->dir), "%s/workers/%s", s->dir, name);
	assert_int_equal(h_sh("mkdir -p '%s'", w->dir), 0);
	snprintf(server, sizeof(server), "%s", s->base);
	snprintf(fake, sizeof(fake), "%d", fake_gpus);
	argv[n++] = h_bin();
	argv[n++] = "worker";
	argv[n++] = "--server";
	argv[n++] = server;
	argv[n++] = "--join-token";
	argv[n++] = join_token;
	argv[n++] = "--name";
	argv[n++] = name;
	argv[n++] = "--work-dir";
	argv[n++] = w->dir;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--heartbeat";
	argv[n++] = "1";
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/worker.log", w->dir);
	w->pid = fork();
	assert_true(w->pid >= 0);
	if (w->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (fake_gpus >= 0)
			setenv("ATRIUM_FAKE_GPUS", fake, 1);
		setenv("ATRIUM_LOG_LEVEL", getenv("ATRIUM_TEST_LOG_LEVEL") ? getenv("ATRIUM_TEST_LOG_LEVEL") : "info",
		       0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	snprintf(what, sizeof(what), "'atrium worker' %s", w->name);
	track(w->pid, true, what, log);
}

bool h_worker_wait_registered(struct h_worker *w, long long not_id, int timeout_ms)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/worker.json", w->dir);
	for (int t = 0; t <= timeout_ms; t += 20) {
		json_t *j = json_load_file(path, 0, NULL);
		long long id = (long long)json_integer_value(json_object_get(j, "worker_id"));
		if (j && id > 0 && id != not_id) {
			snprintf(w->url, sizeof(w->url), "%s", json_string_value(json_object_get(j, "url")));
			snprintf(w->secret, sizeof(w->secret), "%s", json_string_value(json_object_get(j, "secret")));
			w->id = id;
			json_decref(j);
			return true;
		}
		json_decref(j);
		sleep_ms(20);
	}
	fprintf(stderr, "harness: worker '%s' did not register; its log:\n", w->name);
	h_sh("tail -20 '%s/worker.log' >&2", w->dir);
	return false;
}

int h_worker_stop(struct h_worker *w, int sig)
{
	int rc;

	if (w->pid <= 0)
		return -1;
	rc = stop_pid(w->pid, sig, 30000, true);
	w->pid = 0;
	return rc;
}

struct h_server h_worker_api(const struct h_worker *w, const struct h_server *s)
{
	struct h_server v = *s;
	v.pid = 0;
	snprintf(v.base, sizeof(v.base), "%s", w->url);
	return v;
}

const char *h_join_token(struct h_server *s, const char *name)
{
	static char toks[8][128];
	static int i;
	char *t = toks[i++ % 8];
	json_t *j =
		h_call(s, "POST", "/api/v1/workers/join-tokens", s->admin_token, h_fmt("{\"name\":\"%s\"}", name), 201);
	snprintf(t, 128, "%s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
	return t;
}
