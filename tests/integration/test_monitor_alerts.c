/*
 * test_monitor_alerts.c: monitors, alerts and the retraining action end to end, against the
 * real server, a real worker and the tiny V2 model server: the example model deployed with a
 * reference from its training data, traffic drawn from the reference (the drift monitor goes
 * no_data -> ok), then shifted traffic (-> alerting): its history, the audit entry, the
 * /metrics gauge, a webhook signed with HMAC-SHA256 arriving at a receiver on loopback (which
 * fails the first attempt: the delivery log shows the retry), and the retraining job submitted
 * with the newest training dataset version and the alert's id in its labels. Then every
 * route's bad input and access.
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
static long long channel_id;

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

/* ---- a webhook receiver on loopback: answers 500 to the first request, 200 after ---- */

static struct {
	int fd, port, count;
	pthread_t thread;
	pthread_mutex_t mu;
	char head[4096], body[8192]; /* the last request */
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

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
	pthread_mutex_lock(&rx.mu);
	if (end) {
		snprintf(rx.head, sizeof(rx.head), "%.*s", (int)(end - buf), buf);
		snprintf(rx.body, sizeof(rx.body), "%.*s", (int)len, end + 4);
	}
	rx.count++;
	const char *ans = rx.count == 1 ? "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
					: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
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

static void rx_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	rx.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(rx.fd >= 0);
	assert_int_equal(bind(rx.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(rx.fd, 16), 0);
	getsockname(rx.fd, (struct sockaddr *)&a, &al);
	rx.port = ntohs(a.sin_port);
	pthread_create(&rx.thread, NULL, rx_loop, NULL);
}

/* The header's value in the receiver's last request (copied into out). */
static void rx_header(const char *name, char *out, size_t len)
{
	const char *h = find_ci(rx.head, name), *e;

	out[0] = 0;
	if (!h)
		return;
	h += strlen(name) + 1;
	while (*h == ' ')
		h++;
	e = strstr(h, "\r\n");
	snprintf(out, len, "%.*s", e ? (int)(e - h) : (int)strlen(h), h);
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
	return 0;
}

/* ---- tests ---- */

static void check_signature(void)
{
	char ts[64], sig[128], want[65];
	char *msg;

	rx_header("X-Atrium-Timestamp", ts, sizeof(ts));
	rx_header("X-Atrium-Signature", sig, sizeof(sig));
	assert_true(ts[0] && strlen(sig) == 71 && !strncmp(sig, "sha256=", 7));
	msg = strdup(h_fmt("%s.%s", ts, rx.body));
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
			 "\"channels\":[%lld],\"action\":{\"type\":\"retrain\",\"dataset\":\"train\",\"as\":\"data\","
			 "\"job\":{\"name\":\"retrain-lin\",\"command\":[\"sh\",\"-c\",\"exit 0\"],"
			 "\"outputs\":{\"model\":\"lin\"}}}}",
			 channel_id),
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
	check_signature();
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
	/* the audit log and /metrics */
	assert_true(f_sql_int(&S, "SELECT count(*) FROM audit_log WHERE action = 'monitors.state_changed'") >= 2);
	h_req(&S, "GET", "/metrics", ADMIN, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(
		strstr(r.body, h_fmt("atrium_monitor_state{deployment=\"ma\",monitor=\"drift-a\",id=\"%lld\"} 2", id)));
	h_resp_free(&r);
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
		cmocka_unit_test(test_monitors_crud),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_access),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
