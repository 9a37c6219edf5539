/*
 * test_monitor_alerts.c: monitors, alerts and the retraining action end to end, against the
 * real server, a real worker and the tiny V2 model server: the example model deployed with a
 * reference from its training data, traffic drawn from the reference (the drift monitor goes
 * no_data -> ok), then shifted traffic (-> alerting): its history, the audit entry, the
 * /metrics gauge, a webhook signed with HMAC-SHA256 arriving at a receiver on loopback (which
 * fails the first attempt: the delivery log shows the retry), an e-mail at an SMTP receiver on
 * loopback (libcurl SMTP on the same multi), and the retraining job submitted with the newest
 * training dataset version, its run tagged with the alert's id. A Slack-format channel's body
 * and a channel that gives up after max_attempts (its receiver always 500). Then every route's
 * bad input and access.
 */
#include "fixtures.h"
#include "atrium/util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 90000
#define SECRET "a-secret-of-sixteen-bytes-or-more"

static struct h_server S;
static struct h_worker W;
static char tok[4][128]; /* owner, editor, viewer, outsider of project "ma" */
static char ms[PATH_MAX];
static long long channel_id, mail_id;

#define OWNER tok[0]
#define EDITOR tok[1]
#define VIEWER tok[2]
#define OUTSIDER tok[3]
#define ADMIN (S.admin_token)

static void sleep_ms(int n)
{
	struct timespec ts = { n / 1000, (long)(n % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static const char *find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return hay;
	return NULL;
}

/* ---- a webhook receiver on loopback: by path, /hook answers 500 to its first request and
 * 200 after, /slack always 200, /fail always 500 ---- */

#define RX_MAX_FAILS 64

static struct {
	int fd, port, count;
	pthread_t thread;
	pthread_mutex_t mu;
	char head[4096], body[8192];		 /* the last request to /hook */
	char slack_head[4096], slack_body[8192]; /* the last request to /slack */
	int slack_count, fail_count;
	long long fail_delivery[RX_MAX_FAILS]; /* X-Atrium-Delivery of each request to /fail */
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const char *const rx_ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char *const rx_oops = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* Keeps a request to path (under rx.mu); the answer to give. */
static const char *rx_keep(const char *path, const char *head, int headlen, const char *body, long len)
{
	if (!strncmp(path, "/slack ", 7)) {
		snprintf(rx.slack_head, sizeof(rx.slack_head), "%.*s", headlen, head);
		snprintf(rx.slack_body, sizeof(rx.slack_body), "%.*s", (int)len, body);
		rx.slack_count++;
		return rx_ok;
	}
	if (!strncmp(path, "/fail ", 6)) {
		const char *d = find_ci(head, "X-Atrium-Delivery:");
		if (rx.fail_count < RX_MAX_FAILS)
			rx.fail_delivery[rx.fail_count] = d ? strtoll(d + 18, NULL, 10) : 0;
		rx.fail_count++;
		return rx_oops;
	}
	snprintf(rx.head, sizeof(rx.head), "%.*s", headlen, head);
	snprintf(rx.body, sizeof(rx.body), "%.*s", (int)len, body);
	rx.count++;
	return rx.count == 1 ? rx_oops : rx_ok;
}

static void rx_one(int c)
{
	char buf[12288];
	size_t n = 0;
	char *end = NULL;
	long len = 0;

	while (n < sizeof(buf) - 1) {
		ssize_t k = read(c, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		buf[n] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = find_ci(buf, "Content-Length:");
			len = cl ? strtol(cl + 15, NULL, 10) : 0;
		}
		if (end && (size_t)(end + 4 - buf) + (size_t)len <= n)
			break;
	}
	const char *ans = rx_oops, *path = strchr(buf, ' ');
	pthread_mutex_lock(&rx.mu);
	if (end && path)
		ans = rx_keep(path + 1, buf, (int)(end - buf), end + 4, len);
	pthread_mutex_unlock(&rx.mu);
	if (write(c, ans, strlen(ans)) < 0)
		perror("receiver write");
	close(c);
}

static void *rx_loop(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(rx.fd, NULL, NULL);
		if (c < 0)
			return NULL;
		rx_one(c);
	}
}

static int listen_loopback(int *port);

static void rx_start(void)
{
	rx.fd = listen_loopback(&rx.port);
	pthread_create(&rx.thread, NULL, rx_loop, NULL);
}

/* The header's value in the request head (copied into out). */
static void head_header(const char *head, const char *name, char *out, size_t len)
{
	const char *h = find_ci(head, name), *e;

	out[0] = 0;
	if (!h)
		return;
	h += strlen(name) + 1;
	while (*h == ' ')
		h++;
	e = strstr(h, "\r\n");
	snprintf(out, len, "%.*s", e ? (int)(e - h) : (int)strlen(h), h);
}

/* ---- an SMTP receiver on loopback: takes one message at a time, keeps the last ---- */

static struct {
	int fd, port, count;
	pthread_t thread;
	pthread_mutex_t mu;
	char envelope[512], data[8192]; /* MAIL/RCPT lines; the last message (under mu) */
} mx = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* One line (CRLF stripped) from c into buf; false at the end. */
static bool mx_line(int c, char *buf, size_t len)
{
	size_t n = 0;
	char ch;

	while (read(c, &ch, 1) == 1) {
		if (ch == '\n') {
			if (n && buf[n - 1] == '\r')
				n--;
			buf[n] = 0;
			return true;
		}
		if (n + 1 < len)
			buf[n++] = ch;
	}
	return false;
}

static void mx_say(int c, const char *s)
{
	if (write(c, s, strlen(s)) < 0)
		perror("smtp write");
}

static void mx_session(int c)
{
	char line[1024], msg[8192] = "", env[512] = "";
	bool data = false;

	mx_say(c, "220 test ESMTP\r\n");
	while (mx_line(c, line, sizeof(line))) {
		if (data) {
			if (!strcmp(line, ".")) {
				data = false;
				pthread_mutex_lock(&mx.mu);
				snprintf(mx.data, sizeof(mx.data), "%s", msg);
				snprintf(mx.envelope, sizeof(mx.envelope), "%s", env);
				mx.count++;
				pthread_mutex_unlock(&mx.mu);
				mx_say(c, "250 queued\r\n");
			} else if (strlen(msg) + strlen(line) + 3 < sizeof(msg)) {
				strncat(msg, line, sizeof(msg) - strlen(msg) - 1);
				strncat(msg, "\n", sizeof(msg) - strlen(msg) - 1);
			}
		} else if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
			mx_say(c, "250 test\r\n");
		} else if (!strncasecmp(line, "MAIL", 4) || !strncasecmp(line, "RCPT", 4)) {
			strncat(env, line, sizeof(env) - strlen(env) - 2);
			strncat(env, "\n", sizeof(env) - strlen(env) - 1);
			mx_say(c, "250 ok\r\n");
		} else if (!strncasecmp(line, "DATA", 4)) {
			msg[0] = 0;
			data = true;
			mx_say(c, "354 go on\r\n");
		} else if (!strncasecmp(line, "QUIT", 4)) {
			mx_say(c, "221 bye\r\n");
			break;
		} else {
			mx_say(c, "250 ok\r\n");
		}
	}
	close(c);
}

static void *mx_loop(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(mx.fd, NULL, NULL);
		if (c < 0)
			return NULL;
		mx_session(c);
	}
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	*port = ntohs(a.sin_port);
	return fd;
}

/* ---- the deployment ---- */

static void dataset(const char *name, const char *file, const char *text, int versions)
{
	json_decref(h_call(&S, "POST", "/api/v1/projects/ma/datasets", EDITOR, h_fmt("{\"name\":\"%s\"}", name), 201));
	for (int v = 1; v <= versions; v++) {
		json_decref(
			h_call(&S, "POST", h_fmt("/api/v1/projects/ma/datasets/%s/versions", name), EDITOR, "{}", 201));
		json_decref(f_put(&S, h_fmt("/api/v1/projects/ma/datasets/%s/versions/%d/files/%s", name, v, file),
				  EDITOR, text, strlen(text), NULL, 201));
		json_decref(h_call(&S, "POST", h_fmt("/api/v1/projects/ma/datasets/%s/versions/%d/commit", name, v),
				   EDITOR, "{}", 200));
	}
}

static char *reference_csv(void)
{
	size_t cap = 16384, n = 0;
	char *s = malloc(cap);

	n += (size_t)snprintf(s + n, cap - n, "a,y,b\n");
	for (int i = 0; i < 260; i++)
		n += (size_t)snprintf(s + n, cap - n, "%d,%.1f,%d\n", i % 10, i % 10 + 2.0 * ((i * 7) % 13) + 0.5,
				      (i * 7) % 13);
	return s;
}

/* One V2 call of five rows (a0 + (k + i) % 10, (k + i) % 13). */
static void infer(int a0, int k)
{
	char data[512];
	size_t n = 0;
	struct h_resp r;

	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(data + n, sizeof(data) - n, "%s%d,%d", i ? "," : "", a0 + (k + i) % 10,
				      (k + i) % 13);
	h_req(&S, "POST", "/v2/models/ma/infer", VIEWER,
	      h_fmt("{\"inputs\":[{\"name\":\"x\",\"shape\":[5,2],\"datatype\":\"FP64\",\"data\":[%s]}]}", data), NULL,
	      &r);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);
}

static void wait_ready(const char *name)
{
	for (int t = 0; t < WAIT_MS; t += 200) {
		json_t *d = h_call(&S, "GET", h_fmt("/api/v1/deployments/%s", name), OWNER, NULL, 200);
		bool ready = !strcmp(f_str(d, "state"), "ready");
		json_decref(d);
		if (ready)
			return;
		sleep_ms(200);
	}
	fail_msg("deployment '%s' never became ready", name);
}

static json_t *wait_state(long long id, const char *state)
{
	for (int t = 0; t < WAIT_MS; t += 200) {
		json_t *m = h_call(&S, "GET", h_fmt("/api/v1/deployments/ma/monitors/%lld", id), VIEWER, NULL, 200);
		if (!strcmp(f_str(m, "state"), state))
			return m;
		json_decref(m);
		sleep_ms(200);
	}
	fail_msg("monitor %lld never became %s", id, state);
	return NULL;
}

static int setup(void **state)
{
	static const char *const names[4] = { "mona", "ed", "vi", "otto" };
	const char *wargs[] = { "--heartbeat", "1", NULL };
	const char *env = getenv("ATRIUM_MODELSERVER");
	const char *model = "{\"weights\":[1,2],\"bias\":0.5}";
	char *csv = reference_csv();
	json_t *run, *ch;
	(void)state;

	if (!realpath(env ? env : "build/tests/tools/modelserver", ms)) {
		fprintf(stderr, "the model server is not built (make test-build)\n");
		free(csv);
		return -1;
	}
	rx_start();
	mx.fd = listen_loopback(&mx.port);
	pthread_create(&mx.thread, NULL, mx_loop, NULL);
	h_server_start(&S, NULL);
	f_people(&S, "ma", names, tok);
	dataset("train", "train.csv", csv, 2);
	free(csv);
	run = h_call(&S, "POST", "/api/v1/projects/ma/runs", EDITOR,
		     "{\"name\":\"fit\",\"inputs\":[{\"dataset\":\"train\",\"version\":1}]}", 201);
	json_decref(h_call(&S, "POST", "/api/v1/projects/ma/models", OWNER, "{\"name\":\"lin\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/ma/models/lin/versions", OWNER,
			   h_fmt("{\"source_run\":%lld}", f_int(run, "id")), 201));
	json_decref(run);
	json_decref(f_put(&S, "/api/v1/projects/ma/models/lin/versions/1/files/model.json", OWNER, model, strlen(model),
			  NULL, 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/ma/models/lin/versions/1/commit", OWNER, "{}", 200));
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 2, wargs);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	json_decref(h_call(&S, "POST", "/api/v1/projects/ma/deployments", EDITOR,
			   h_fmt("{\"name\":\"ma\",\"model\":\"lin\",\"version\":1,\"command\":[\"%s\"],"
				 "\"capture\":{\"sample_rate\":1}}",
				 ms),
			   201));
	ch = h_call(&S, "POST", "/api/v1/notification-channels", ADMIN,
		    h_fmt("{\"name\":\"hook\",\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:%d/hook\","
			  "\"secret\":\"" SECRET "\"}",
			  rx.port),
		    201);
	channel_id = f_int(ch, "id");
	json_decref(ch);
	ch = h_call(&S, "POST", "/api/v1/notification-channels", ADMIN,
		    h_fmt("{\"name\":\"oncall\",\"kind\":\"smtp\",\"url\":\"smtp://127.0.0.1:%d\","
			  "\"from\":\"atrium@example.org\",\"to\":[\"oncall@example.org\",\"ml@example.org\"]}",
			  mx.port),
		    201);
	mail_id = f_int(ch, "id");
	assert_null(json_object_get(ch, "secret"));
	json_decref(ch);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_worker_stop(&W, SIGTERM);
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	h_server_cleanup(&S);
	shutdown(rx.fd, SHUT_RDWR);
	close(rx.fd);
	pthread_join(rx.thread, NULL);
	shutdown(mx.fd, SHUT_RDWR);
	close(mx.fd);
	pthread_join(mx.thread, NULL);
	return 0;
}

/* ---- tests ---- */

/* The request (head, body) is signed with SECRET as the docs say. */
static void check_signature(const char *head, const char *body)
{
	char ts[64], sig[128], want[65];
	char *msg;

	head_header(head, "X-Atrium-Timestamp", ts, sizeof(ts));
	head_header(head, "X-Atrium-Signature", sig, sizeof(sig));
	assert_true(ts[0] && strlen(sig) == 71 && !strncmp(sig, "sha256=", 7));
	msg = strdup(h_fmt("%s.%s", ts, body));
	assert_int_equal(atr_hmac_sha256_hex(SECRET, strlen(SECRET), msg, strlen(msg), want), 0);
	assert_string_equal(sig + 7, want);
	free(msg);
}

static void test_drift_alert_end_to_end(void **state)
{
	json_t *m, *h, *job, *run, *d, *body;
	const json_t *last;
	long long id, alert, job_id;
	struct h_resp r;
	(void)state;

	json_decref(h_call(&S, "PUT", "/api/v1/deployments/ma/monitoring", EDITOR,
			   "{\"prediction\":{\"column\":\"y\"}}", 200));
	m = h_call(&S, "POST", "/api/v1/deployments/ma/monitors", EDITOR,
		   h_fmt("{\"name\":\"drift-a\",\"watch\":\"drift\",\"features\":[\"a\"],\"statistic\":\"psi\","
			 "\"warning\":0.5,\"alerting\":2,\"window_s\":3600,\"interval_s\":1,\"min_samples\":40,"
			 "\"channels\":[%lld,%lld],\"action\":{\"type\":\"retrain\",\"dataset\":\"train\","
			 "\"as\":\"data\",\"job\":{\"name\":\"retrain-lin\",\"command\":[\"sh\",\"-c\",\"exit 0\"],"
			 "\"outputs\":{\"model\":\"lin\"}}}}",
			 channel_id, mail_id),
		   201);
	id = f_int(m, "id");
	assert_string_equal(f_str(m, "state"), "no_data");
	assert_string_equal(f_str(json_object_get(m, "spec"), "direction"), "above");
	json_decref(m);
	wait_ready("ma");
	for (int k = 0; k < 12; k++)
		infer(0, k * 5);
	json_decref(wait_state(id, "ok"));
	for (int k = 0; k < 60; k++)
		infer(50, k);
	m = wait_state(id, "alerting");
	assert_true(json_number_value(json_object_get(m, "value")) >= 2);
	json_decref(m);
	/* the history, newest first: ... -> alerting, with the job its action submitted */
	h = h_call(&S, "GET", h_fmt("/api/v1/deployments/ma/monitors/%lld/history", id), VIEWER, NULL, 200);
	last = json_array_get(json_object_get(h, "items"), 0);
	assert_string_equal(f_str(last, "to"), "alerting");
	alert = f_int(last, "alert_id");
	job_id = f_int(last, "job_id");
	assert_true(job_id > 0);
	last = json_array_get(json_object_get(h, "items"), json_array_size(json_object_get(h, "items")) - 1);
	assert_string_equal(f_str(last, "from"), "no_data");
	assert_string_equal(f_str(last, "to"), "ok");
	json_decref(h);
	/* the retraining job: the newest training version, the alert in its labels */
	job = h_call(&S, "GET", h_fmt("/api/v1/jobs/%lld", job_id), EDITOR, NULL, 200);
	d = json_array_get(json_object_get(job, "inputs"), 0);
	assert_string_equal(f_str(d, "dataset"), "train");
	assert_int_equal(f_int(d, "version"), 2);
	run = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld", f_int(job, "run_id")), EDITOR, NULL, 200);
	assert_string_equal(f_str(json_object_get(run, "tags"), "atrium.alert"), h_fmt("%lld", alert));
	assert_string_equal(f_str(json_object_get(run, "tags"), "atrium.deployment"), "ma");
	json_decref(run);
	json_decref(job);
	/* the signed webhook, after one failed attempt */
	for (int t = 0; t < WAIT_MS; t += 200) {
		bool got;
		pthread_mutex_lock(&rx.mu);
		got = rx.count >= 2 && strstr(rx.body, "\"alerting\"");
		pthread_mutex_unlock(&rx.mu);
		if (got)
			break;
		sleep_ms(200);
	}
	pthread_mutex_lock(&rx.mu);
	check_signature(rx.head, rx.body);
	body = json_loads(rx.body, 0, NULL);
	pthread_mutex_unlock(&rx.mu);
	assert_non_null(body);
	assert_string_equal(f_str(body, "to"), "alerting");
	assert_string_equal(f_str(body, "deployment"), "ma");
	assert_int_equal(f_int(body, "job_id"), job_id);
	json_decref(body);
	for (int t = 0; t < WAIT_MS; t += 200) {
		d = h_call(&S, "GET", h_fmt("/api/v1/notification-channels/%lld/deliveries", channel_id), ADMIN, NULL,
			   200);
		last = json_array_get(json_object_get(d, "items"), 0);
		if (!strcmp(f_str(last, "status"), "delivered"))
			break;
		json_decref(d);
		d = NULL;
		sleep_ms(200);
	}
	assert_non_null(d);
	assert_int_equal(f_int(last, "attempts"), 2);
	assert_int_equal(f_int(last, "alert_id"), alert);
	json_decref(d);
	/* the e-mail, over SMTP: to both recipients, the summary as its subject */
	for (int t = 0; t < WAIT_MS; t += 200) {
		bool got;
		pthread_mutex_lock(&mx.mu);
		got = strstr(mx.data, "\"to\":\"alerting\"") != NULL;
		pthread_mutex_unlock(&mx.mu);
		if (got)
			break;
		sleep_ms(200);
	}
	pthread_mutex_lock(&mx.mu);
	assert_true(mx.count >= 1);
	assert_non_null(strstr(mx.envelope, "RCPT TO:<ml@example.org>"));
	assert_non_null(strstr(mx.envelope, "MAIL FROM:<atrium@example.org>"));
	assert_non_null(strstr(mx.data, "Subject: [atrium] monitor 'drift-a' on deployment 'ma'"));
	assert_non_null(strstr(mx.data, "To: oncall@example.org, ml@example.org"));
	pthread_mutex_unlock(&mx.mu);
	/* the audit log and /metrics */
	assert_true(f_sql_int(&S, "SELECT count(*) FROM audit_log WHERE action = 'monitors.state_changed'") >= 2);
	h_req(&S, "GET", "/metrics", ADMIN, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(
		strstr(r.body, h_fmt("atrium_monitor_state{deployment=\"ma\",monitor=\"drift-a\",id=\"%lld\"} 2", id)));
	h_resp_free(&r);
}

/* The newest delivery of channel ch once its status is want (new reference). */
static json_t *wait_delivery(long long ch, const char *want)
{
	for (int t = 0; t < WAIT_MS; t += 200) {
		json_t *d =
			h_call(&S, "GET", h_fmt("/api/v1/notification-channels/%lld/deliveries", ch), ADMIN, NULL, 200);
		json_t *last = json_array_get(json_object_get(d, "items"), 0);
		if (last && !strcmp(f_str(last, "status"), want)) {
			json_incref(last);
			json_decref(d);
			return last;
		}
		json_decref(d);
		sleep_ms(200);
	}
	fail_msg("channel %lld never had a %s delivery", ch, want);
	return NULL;
}

/* How many requests to /fail carried delivery id. */
static int fail_attempts(long long id)
{
	int n = 0;

	pthread_mutex_lock(&rx.mu);
	for (int i = 0; i < rx.fail_count && i < RX_MAX_FAILS; i++)
		n += rx.fail_delivery[i] == id;
	pthread_mutex_unlock(&rx.mu);
	return n;
}

/* A Slack-format channel gets {"text": summary}, signed; a channel whose receiver always
 * answers 500 is tried max_attempts times, the delivery then failed and never tried again. */
static void test_slack_and_give_up(void **state)
{
	long long slack, fail, id, did;
	char ctype[64], event[64];
	json_t *c, *body, *d;
	bool got = false;
	(void)state;

	c = h_call(&S, "POST", "/api/v1/notification-channels", ADMIN,
		   h_fmt("{\"name\":\"slack\",\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:%d/slack\","
			 "\"secret\":\"" SECRET "\",\"format\":\"slack\"}",
			 rx.port),
		   201);
	slack = f_int(c, "id");
	assert_string_equal(f_str(json_object_get(c, "config"), "format"), "slack");
	json_decref(c);
	c = h_call(&S, "POST", "/api/v1/notification-channels", ADMIN,
		   h_fmt("{\"name\":\"down\",\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:%d/fail\","
			 "\"secret\":\"" SECRET "\",\"max_attempts\":3}",
			 rx.port),
		   201);
	fail = f_int(c, "id");
	json_decref(c);
	/* shifted traffic in the window: a new monitor goes from no_data straight to alerting */
	wait_ready("ma");
	for (int k = 0; k < 12; k++)
		infer(50, k * 5);
	c = h_call(&S, "POST", "/api/v1/deployments/ma/monitors", EDITOR,
		   h_fmt("{\"name\":\"drift-b\",\"watch\":\"drift\",\"features\":[\"a\"],\"alerting\":2,"
			 "\"interval_s\":1,\"min_samples\":40,\"channels\":[%lld,%lld]}",
			 slack, fail),
		   201);
	id = f_int(c, "id");
	json_decref(c);
	json_decref(wait_state(id, "alerting"));
	/* the Slack body: only "text", the one-line summary; signed as any webhook */
	for (int t = 0; t < WAIT_MS && !got; t += 200) {
		pthread_mutex_lock(&rx.mu);
		got = rx.slack_count >= 1;
		pthread_mutex_unlock(&rx.mu);
		if (!got)
			sleep_ms(200);
	}
	assert_true(got);
	pthread_mutex_lock(&rx.mu);
	body = json_loads(rx.slack_body, 0, NULL);
	check_signature(rx.slack_head, rx.slack_body);
	head_header(rx.slack_head, "Content-Type", ctype, sizeof(ctype));
	head_header(rx.slack_head, "X-Atrium-Event", event, sizeof(event));
	pthread_mutex_unlock(&rx.mu);
	assert_string_equal(ctype, "application/json");
	assert_string_equal(event, "monitor.state_changed");
	assert_non_null(body);
	assert_int_equal(json_object_size(body), 1);
	assert_non_null(strstr(f_str(body, "text"),
			       "[atrium] monitor 'drift-b' on deployment 'ma': no_data -> alerting (psi "));
	json_decref(body);
	d = wait_delivery(slack, "delivered");
	assert_int_equal(f_int(d, "attempts"), 1);
	json_decref(d);
	/* the give-up: three attempts, each a 500, then failed */
	d = wait_delivery(fail, "failed");
	did = f_int(d, "id");
	assert_int_equal(f_int(d, "attempts"), 3);
	assert_int_equal(f_int(d, "http_status"), 500);
	assert_non_null(strstr(f_str(d, "error"), "500"));
	json_decref(d);
	assert_int_equal(fail_attempts(did), 3);
	/* a fourth attempt would come 4 s after the third: none comes */
	sleep_ms(6000);
	assert_int_equal(fail_attempts(did), 3);
	d = wait_delivery(fail, "failed");
	assert_int_equal(f_int(d, "id"), did);
	assert_int_equal(f_int(d, "attempts"), 3);
	json_decref(d);
}

static void test_monitors_crud(void **state)
{
	json_t *m, *l;
	long long id;
	(void)state;

	m = h_call(&S, "POST", "/api/v1/deployments/ma/monitors", EDITOR,
		   "{\"name\":\"acc\",\"watch\":\"quality\",\"alerting\":0.8,\"warning\":0.9}", 201);
	id = f_int(m, "id");
	assert_string_equal(f_str(json_object_get(m, "spec"), "statistic"), "accuracy");
	assert_string_equal(f_str(json_object_get(m, "spec"), "direction"), "below");
	json_decref(m);
	l = h_call(&S, "GET", "/api/v1/deployments/ma/monitors", VIEWER, NULL, 200);
	assert_true(json_array_size(json_object_get(l, "items")) >= 1);
	json_decref(l);
	json_decref(h_call(&S, "GET", h_fmt("/api/v1/deployments/ma/monitors/%lld", id), VIEWER, NULL, 200));
	h_expect_error(&S, "POST", "/api/v1/deployments/ma/monitors", EDITOR,
		       "{\"name\":\"acc\",\"watch\":\"error_rate\",\"alerting\":0.1}", 409, "name");
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/deployments/ma/monitors/%lld", id), EDITOR, NULL, 204));
	h_expect_error(&S, "GET", h_fmt("/api/v1/deployments/ma/monitors/%lld", id), VIEWER, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/deployments/ma/monitors/%lld/history", id), VIEWER, NULL, 404, NULL);
}

static void test_bad_input(void **state)
{
	const char *p = "/api/v1/deployments/ma/monitors";
	(void)state;

	h_expect_error(&S, "POST", p, EDITOR, "{\"watch\":\"drift\",\"alerting\":1}", 400, "name");
	h_expect_error(&S, "POST", p, EDITOR, "{\"name\":\"x\",\"watch\":\"moon\",\"alerting\":1}", 400, "watch");
	h_expect_error(&S, "POST", p, EDITOR, "{\"name\":\"x\",\"watch\":\"drift\"}", 400, "alerting");
	h_expect_error(&S, "POST", p, EDITOR, "{\"name\":\"x\",\"watch\":\"drift\",\"alerting\":\"1\"}", 400,
		       "alerting");
	h_expect_error(&S, "POST", p, EDITOR,
		       "{\"name\":\"x\",\"watch\":\"drift\",\"statistic\":\"mae\",\"alerting\":1}", 400, "statistic");
	h_expect_error(&S, "POST", p, EDITOR, "{\"name\":\"x\",\"watch\":\"drift\",\"alerting\":1,\"warning\":2}", 400,
		       "warning");
	h_expect_error(&S, "POST", p, EDITOR,
		       "{\"name\":\"x\",\"watch\":\"error_rate\",\"alerting\":1,\"window_s\":7200}", 400, "window_s");
	h_expect_error(&S, "POST", p, EDITOR, "{\"name\":\"x\",\"watch\":\"drift\",\"alerting\":1,\"interval_s\":0}",
		       400, "interval_s");
	h_expect_error(&S, "POST", p, EDITOR, "{\"name\":\"x\",\"watch\":\"drift\",\"alerting\":1,\"channels\":[999]}",
		       400, "channels[0]");
	h_expect_error(&S, "POST", p, EDITOR,
		       "{\"name\":\"x\",\"watch\":\"drift\",\"alerting\":1,\"action\":{\"type\":\"retrain\","
		       "\"dataset\":\"nope\",\"job\":{\"command\":[\"true\"]}}}",
		       400, "action.dataset");
	h_expect_error(&S, "POST", p, EDITOR,
		       "{\"name\":\"x\",\"watch\":\"drift\",\"alerting\":1,\"action\":{\"type\":\"retrain\","
		       "\"dataset\":\"train\",\"job\":{}}}",
		       400, "action.job.command");
	h_expect_error(&S, "POST", p, EDITOR, "{\"name\":\"x\",\"watch\":\"drift\",\"alerting\":1,\"bogus\":1}", 400,
		       "bogus");
	h_expect_error(&S, "GET", "/api/v1/deployments/ma/monitors/abc", VIEWER, NULL, 400, "id");
	p = "/api/v1/notification-channels";
	h_expect_error(&S, "POST", p, ADMIN,
		       "{\"name\":\"h\",\"kind\":\"webhook\",\"url\":\"ftp://x/\",\"secret\":\"" SECRET "\"}", 400,
		       "url");
	h_expect_error(&S, "POST", p, ADMIN, "{\"name\":\"h\",\"kind\":\"webhook\",\"url\":\"http://x/\"}", 400,
		       "secret");
	h_expect_error(&S, "POST", p, ADMIN,
		       "{\"name\":\"h\",\"kind\":\"webhook\",\"url\":\"http://x/\",\"secret\":\"short\"}", 400,
		       "secret");
	h_expect_error(&S, "POST", p, ADMIN, "{\"name\":\"h\",\"kind\":\"pigeon\",\"url\":\"http://x/\"}", 400, "kind");
	h_expect_error(&S, "POST", p, ADMIN,
		       "{\"name\":\"m\",\"kind\":\"smtp\",\"url\":\"smtp://mail\",\"to\":[\"a@b\"]}", 400, "from");
	h_expect_error(
		&S, "POST", p, ADMIN,
		"{\"name\":\"m\",\"kind\":\"smtp\",\"url\":\"smtp://mail\",\"from\":\"a@b\",\"to\":[\"x\\r\\ny@z\"]}",
		400, "to[0]");
	h_expect_error(&S, "POST", p, ADMIN,
		       "{\"name\":\"hook\",\"kind\":\"webhook\",\"url\":\"http://x/\",\"secret\":\"" SECRET "\"}", 409,
		       "name");
	h_expect_error(&S, "GET", "/api/v1/notification-channels/999", ADMIN, NULL, 404, NULL);
}

static void test_channels(void **state)
{
	char *text;
	json_t *c, *l;
	long long id;
	(void)state;

	c = h_call(
		&S, "POST", "/api/v1/notification-channels", ADMIN,
		"{\"name\":\"mail\",\"kind\":\"smtp\",\"url\":\"smtp://127.0.0.1:1\",\"from\":\"atrium@example.org\","
		"\"to\":[\"oncall@example.org\"],\"username\":\"u\",\"password\":\"p\"}",
		201);
	id = f_int(c, "id");
	assert_string_equal(f_str(c, "kind"), "smtp");
	assert_null(json_object_get(c, "password"));
	assert_null(json_object_get(json_object_get(c, "config"), "password"));
	json_decref(c);
	c = h_call(&S, "GET", h_fmt("/api/v1/notification-channels/%lld", channel_id), ADMIN, NULL, 200);
	text = json_dumps(c, 0);
	assert_null(strstr(text, SECRET));
	free(text);
	json_decref(c);
	l = h_call(&S, "GET", "/api/v1/notification-channels", ADMIN, NULL, 200);
	assert_true(json_array_size(json_object_get(l, "items")) >= 2);
	json_decref(l);
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/notification-channels/%lld", id), ADMIN, NULL, 204));
	h_expect_error(&S, "GET", h_fmt("/api/v1/notification-channels/%lld/deliveries", id), ADMIN, NULL, 404, NULL);
}

static void test_access(void **state)
{
	const char *p = "/api/v1/deployments/ma/monitors",
		   *body = "{\"name\":\"z\",\"watch\":\"drift\",\"alerting\":1}";
	(void)state;

	h_expect_error(&S, "POST", p, VIEWER, body, 403, NULL);
	h_expect_error(&S, "POST", p, OUTSIDER, body, 404, NULL);
	h_expect_error(&S, "GET", p, OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "GET", p, NULL, NULL, 401, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/1", p), OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", h_fmt("%s/1", p), VIEWER, NULL, 403, NULL);
	h_expect_error(&S, "GET", h_fmt("%s/1/history", p), OUTSIDER, NULL, 404, NULL);
	h_expect_error(&S, "POST", "/api/v1/notification-channels", EDITOR,
		       "{\"name\":\"q\",\"kind\":\"webhook\",\"url\":\"http://x/\",\"secret\":\"" SECRET "\"}", 403,
		       NULL);
	h_expect_error(&S, "GET", "/api/v1/notification-channels", OWNER, NULL, 403, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/notification-channels/%lld", channel_id), EDITOR, NULL, 403, NULL);
	h_expect_error(&S, "DELETE", h_fmt("/api/v1/notification-channels/%lld", channel_id), EDITOR, NULL, 403, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/notification-channels/%lld/deliveries", channel_id), VIEWER, NULL, 403,
		       NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drift_alert_end_to_end),
		cmocka_unit_test(test_slack_and_give_up),
		cmocka_unit_test(test_monitors_crud),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_access),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
