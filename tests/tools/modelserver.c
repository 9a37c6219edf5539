/*
 * modelserver.c: a tiny model server for tests and the README walkthrough, so deployments
 * can be exercised without any outside runtime. It serves a linear model
 * y = weights . x + bias read from $ATRIUM_MODEL_DIR/model.json
 * ({"weights": [..], "bias": b}) on $PORT (all interfaces), speaking the Open Inference
 * Protocol (KServe V2) and a plain JSON predict:
 *
 *   GET  /v2/health/live, /v2/health/ready      (ready once --ready-delay-ms has passed)
 *   GET  /v2/models/{name}[/versions/{v}]        metadata
 *   GET  /v2/models/{name}[/versions/{v}]/ready
 *   POST /v2/models/{name}[/versions/{v}]/infer  {"inputs": [{"name", "shape": [B, n], "datatype", "data"}]}
 *   POST /predict                                {"instances": [[..], ..]} or {"x": [..]}, optional
 *                                                "delay_ms" (answer that much later) and "pad" (that
 *                                                many bytes more in the answer)
 *
 * Answers carry the model version ($ATRIUM_MODEL_VERSION) and the process id, so tests can
 * tell which version and which replica answered. Without a readable model.json it exits 1
 * (a broken version). It stops on SIGTERM, and when its parent (the worker) dies unless
 * MODELSERVER_KEEP_RUNNING is set (as a real model server would: the tests then check that
 * the worker, started again, stops it).
 */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FEATURES 1024
#define MAX_BODY (4u << 20)

static double weights[MAX_FEATURES], bias;
static size_t nfeatures;
static char version[32] = "1", model_name[128] = "model";
static struct timespec ready_at;

struct body {
	char *data;
	size_t len;
	int too_big;
};

static int now_after(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int load_model(const char *dir)
{
	char path[4096];
	json_error_t err;
	json_t *m, *w, *v;
	size_t i;

	snprintf(path, sizeof(path), "%s/model.json", dir);
	m = json_load_file(path, 0, &err);
	if (!m) {
		fprintf(stderr, "modelserver: cannot read %s: %s\n", path, err.text);
		return -1;
	}
	w = json_object_get(m, "weights");
	if (!json_is_array(w) || json_array_size(w) == 0 || json_array_size(w) > MAX_FEATURES) {
		fprintf(stderr, "modelserver: %s: 'weights' must be an array of 1-%d numbers\n", path, MAX_FEATURES);
		json_decref(m);
		return -1;
	}
	json_array_foreach(w, i, v) weights[i] = json_number_value(v);
	nfeatures = json_array_size(w);
	bias = json_number_value(json_object_get(m, "bias"));
	json_decref(m);
	return 0;
}

static double predict_one(const json_t *row, int *ok)
{
	double y = bias;
	size_t i;
	json_t *v;

	if (!json_is_array(row) || json_array_size(row) != nfeatures) {
		*ok = 0;
		return 0;
	}
	json_array_foreach(row, i, v)
	{
		if (!json_is_number(v)) {
			*ok = 0;
			return 0;
		}
		y += weights[i] * json_number_value(v);
	}
	return y;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT), pid[32];
	struct MHD_Response *r;
	enum MHD_Result rc;

	json_decref(o);
	if (!text)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "X-Model-Server-Pid", pid);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return answer(c, status, json_pack("{s:s}", "error", msg));
}

static json_t *metadata(void)
{
	return json_pack("{s:s, s:[s], s:s, s:[{s:s, s:s, s:[i,i]}], s:[{s:s, s:s, s:[i]}]}", "name", model_name,
			 "versions", version, "platform", "atrium-linear", "inputs", "name", "x", "datatype", "FP64",
			 "shape", -1, (int)nfeatures, "outputs", "name", "y", "datatype", "FP64", "shape", -1);
}

/* The V2 tensor's rows: data flat (shape [B, n]) or nested. New reference, or NULL. */
static json_t *rows_of(const json_t *input)
{
	const json_t *data = json_object_get(input, "data"), *shape = json_object_get(input, "shape");
	json_t *rows;
	size_t b, i;

	if (!json_is_array(data))
		return NULL;
	if (json_array_size(data) > 0 && json_is_array(json_array_get(data, 0)))
		return json_incref((json_t *)data);
	if (json_array_size(data) % nfeatures != 0)
		return NULL;
	b = json_array_size(data) / nfeatures;
	if (json_is_array(shape) && json_array_size(shape) >= 1 &&
	    json_integer_value(json_array_get(shape, 0)) != (json_int_t)b)
		return NULL;
	rows = json_array();
	for (i = 0; i < b; i++) {
		json_t *row = json_array();
		for (size_t k = 0; k < nfeatures; k++)
			json_array_append(row, json_array_get(data, i * nfeatures + k));
		json_array_append_new(rows, row);
	}
	return rows;
}

static json_t *predict_rows(const json_t *rows, int *ok)
{
	json_t *out = json_array(), *row;
	size_t i;

	*ok = 1;
	json_array_foreach(rows, i, row) json_array_append_new(out, json_real(predict_one(row, ok)));
	return out;
}

static enum MHD_Result infer(struct MHD_Connection *c, const struct body *b)
{
	json_t *req = json_loadb(b->data ? b->data : "", b->len, 0, NULL), *input, *rows, *ys;
	const char *id;
	int ok;

	input = json_array_get(json_object_get(req, "inputs"), 0);
	if (!input || !(rows = rows_of(input))) {
		json_decref(req);
		return error(c, 400, "expected {\"inputs\": [{\"name\", \"shape\": [B, n], \"datatype\", \"data\"}]}");
	}
	ys = predict_rows(rows, &ok);
	json_decref(rows);
	if (!ok) {
		json_decref(ys);
		json_decref(req);
		return error(c, 400, "each row must have as many numbers as the model has weights");
	}
	id = json_string_value(json_object_get(req, "id"));
	{
		json_t *o = json_pack("{s:s, s:s, s:[{s:s, s:s, s:[I], s:o}], s:i}", "model_name", model_name,
				      "model_version", version, "outputs", "name", "y", "datatype", "FP64", "shape",
				      (json_int_t)json_array_size(ys), "data", ys, "pid", (int)getpid());
		if (id)
			json_object_set_new(o, "id", json_string(id));
		json_decref(req);
		return answer(c, 200, o);
	}
}

static enum MHD_Result predict(struct MHD_Connection *c, const struct body *b)
{
	json_t *req = json_loadb(b->data ? b->data : "", b->len, 0, NULL), *rows, *ys;
	long delay = (long)json_integer_value(json_object_get(req, "delay_ms"));
	long pad = (long)json_integer_value(json_object_get(req, "pad"));
	int ok;

	if (delay > 0 && delay < 600000)
		sleep_ms(delay);
	rows = json_incref(json_object_get(req, "instances"));
	if (!rows && json_is_array(json_object_get(req, "x")))
		rows = json_pack("[O]", json_object_get(req, "x"));
	if (!json_is_array(rows)) {
		json_decref(rows);
		json_decref(req);
		return error(c, 400, "expected {\"instances\": [[...], ...]} or {\"x\": [...]}");
	}
	ys = predict_rows(rows, &ok);
	json_decref(rows);
	json_decref(req);
	if (!ok) {
		json_decref(ys);
		return error(c, 400, "each row must have as many numbers as the model has weights");
	}
	{
		json_t *o =
			json_pack("{s:o, s:s, s:i}", "predictions", ys, "model_version", version, "pid", (int)getpid());
		if (pad > 0 && pad <= (64L << 20)) {
			char *p = malloc((size_t)pad);
			if (p) {
				memset(p, 'x', (size_t)pad);
				json_object_set_new(o, "pad", json_stringn(p, (size_t)pad));
				free(p);
			}
		}
		return answer(c, 200, o);
	}
}

/* "/v2/models/{name}[/versions/{v}]" + rest: the rest ("", "/ready", "/infer") or NULL. */
static const char *model_path_rest(const char *url)
{
	const char *p;
	if (strncmp(url, "/v2/models/", 11) != 0)
		return NULL;
	p = strchr(url + 11, '/');
	if (!p)
		return "";
	if (strncmp(p, "/versions/", 10) == 0) {
		p = strchr(p + 10, '/');
		if (!p)
			return "";
	}
	return p;
}

static enum MHD_Result route(struct MHD_Connection *c, const char *method, const char *url, const struct body *b)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	const char *rest = model_path_rest(url);

	if (get && !strcmp(url, "/v2/health/live"))
		return answer(c, 200, json_pack("{s:b}", "live", 1));
	if (get && !strcmp(url, "/v2/health/ready"))
		return now_after(&ready_at) ? answer(c, 200, json_pack("{s:b}", "ready", 1)) : error(c, 503, "loading");
	if (get && !strcmp(url, "/v2"))
		return answer(c, 200,
			      json_pack("{s:s, s:s, s:[]}", "name", "atrium-linear", "version", "1", "extensions"));
	if (get && rest && !*rest)
		return answer(c, 200, metadata());
	if (get && rest && !strcmp(rest, "/ready"))
		return answer(c, 200, json_pack("{s:s, s:b}", "name", model_name, "ready", now_after(&ready_at)));
	if (post && rest && !strcmp(rest, "/infer"))
		return infer(c, b);
	if (post && !strcmp(url, "/predict"))
		return predict(c, b);
	return error(c, 404, "no such path");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *ver, const char *upload, size_t *upload_size, void **con_cls)
{
	struct body *b = *con_cls;
	(void)cls;
	(void)ver;

	if (!b) {
		*con_cls = b = calloc(1, sizeof(*b));
		return b ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		if (b->len + *upload_size > MAX_BODY) {
			b->too_big = 1;
		} else {
			char *p = realloc(b->data, b->len + *upload_size + 1);
			if (!p)
				return MHD_NO;
			memcpy(p + b->len, upload, *upload_size);
			b->data = p;
			b->len += *upload_size;
			p[b->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (b->too_big)
		return error(c, 413, "body too large");
	return route(c, method, url, b);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct body *b = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (b) {
		free(b->data);
		free(b);
	}
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	const char *port = getenv("PORT"), *dir = getenv("ATRIUM_MODEL_DIR"), *v = getenv("ATRIUM_MODEL_VERSION");
	const char *name = getenv("ATRIUM_DEPLOYMENT");
	long delay = 0, p;
	struct MHD_Daemon *d;
	sigset_t set;
	pid_t parent = getppid();
	int watch_parent = !getenv("MODELSERVER_KEEP_RUNNING");
	struct timespec tick = { 0, 200 * 1000000L };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ready-delay-ms") && i + 1 < argc) {
			delay = strtol(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: modelserver [--ready-delay-ms N]\n");
			return 2;
		}
	}
	p = port ? strtol(port, NULL, 10) : 0;
	if (p <= 0 || p > 65535 || !dir) {
		fprintf(stderr, "modelserver: PORT and ATRIUM_MODEL_DIR must be set\n");
		return 2;
	}
	if (load_model(dir) < 0)
		return 1;
	if (v && *v)
		snprintf(version, sizeof(version), "%s", v);
	if (name && *name)
		snprintf(model_name, sizeof(model_name), "%s", name);
	clock_gettime(CLOCK_MONOTONIC, &ready_at);
	ready_at.tv_sec += delay / 1000;
	ready_at.tv_nsec += (delay % 1000) * 1000000L;
	if (ready_at.tv_nsec >= 1000000000L) {
		ready_at.tv_sec++;
		ready_at.tv_nsec -= 1000000000L;
	}
	/* signals are taken by the main thread only, below */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t)p, NULL, NULL,
			     on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "modelserver: cannot listen on port %ld\n", p);
		return 1;
	}
	printf("modelserver: version %s of '%s' (%zu features) on port %ld\n", version, model_name, nfeatures, p);
	fflush(stdout);
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (watch_parent && getppid() != parent) /* the worker is gone: so is its service */
			break;
	}
	MHD_stop_daemon(d);
	return 0;
}
