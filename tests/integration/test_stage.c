/*
 * test_stage.c: a real `atrium worker` (fake GPUs) against a FAKE server that runs in this
 * test (an atr_server on its own loop, in a thread): registration, heartbeats, log batches
 * and reports, plus the dataset/model file downloads and the job output uploads the worker
 * stages. Checked: bad `downloads` refused at accept time naming the field; input files
 * arriving under $ATRIUM_INPUT_DIR/<as>/ and ATRIUM_MODEL_DIR with the right bytes (odd
 * names, an empty file, 5 MiB, the same content twice fetched once); the cache serving a
 * second job without a GET; a sha256 mismatch (3 tries) and a 404 (1 try) failing the job
 * before its process starts; outputs (nested, empty, 20 MiB, a name with a space) arriving
 * with the right sha256 while a symbolic link is skipped; no outputs; a run of an earlier job
 * id not uploading the old run's files; an upload failing 3 times failing the job; cancel and
 * SIGTERM while fetching reporting cancelled. No timing assertions.
 */
#include "harness.h"

#include "atrium/server.h"
#include "atrium/util.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define SECRET "atr_fake_worker_secret"
#define JOB_TOKEN "atr_job_token_1234"

/* ---- the fake server ---- */

struct ffile {
	char key[300]; /* "datasets/cifar/3/a.csv" (decoded) */
	char *data;
	size_t len;
	char sha[65];
	int gets;
	bool stall; /* never ends: bytes trickle until the client goes */
};

struct flog {
	long long job;
	char *data;
	size_t len;
	json_t *report;
	int puts; /* output uploads tried */
};

struct fout {
	long long job;
	char path[600];
	uint64_t size;
	char sha[65];
};

struct fake {
	pthread_t thread;
	pthread_mutex_t mu;
	uv_loop_t loop;
	uv_async_t stop;
	struct atr_server *srv;
	int port;
	struct ffile files[32];
	int nfiles;
	struct flog jobs[64];
	int njobs;
	struct fout outs[256];
	int nouts;
	int fail_puts;	  /* answer the next N output uploads with 500 */
	int stalled_open; /* stalled downloads still connected */
	int stalled_seen;
	int bad_token; /* transfers that came without the job's token */
};

static struct fake F;

/* printf into one of many rotating buffers (h_fmt's 8 are too few for nested bodies). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char bufs[128][8192];
	static int i;
	char *b = bufs[i++ % 128];
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

static struct flog *flog_of(long long job)
{
	for (int i = 0; i < F.njobs; i++)
		if (F.jobs[i].job == job)
			return &F.jobs[i];
	assert_true(F.njobs < 64);
	memset(&F.jobs[F.njobs], 0, sizeof(F.jobs[0]));
	F.jobs[F.njobs].job = job;
	return &F.jobs[F.njobs++];
}

static long long param_id(struct atr_req *r)
{
	return atoll(atr_req_param(r, "id"));
}

static void h_register(struct atr_req *r)
{
	atr_reply_json(r, 201,
		       json_pack("{s:i, s:s, s:s, s:i}", "worker_id", 1, "name", "stage-w", "secret", SECRET,
				 "heartbeat_s", 1));
}

static void h_heartbeat(struct atr_req *r)
{
	atr_reply_json(r, 200,
		       json_pack("{s:s, s:b, s:b, s:[]}", "state", "online", "drain", 0, "cordoned", 0, "cancel"));
}

static void h_deregister(struct atr_req *r)
{
	atr_reply_empty(r, 204);
}

static void h_logs(struct atr_req *r)
{
	const char *h = atr_req_header(r, "X-Log-Offset");
	long long off = h ? atoll(h) : -1;
	struct flog *l;
	size_t end, raw_len;
	const char *raw = atr_req_raw_body(r, &raw_len);

	pthread_mutex_lock(&F.mu);
	l = flog_of(param_id(r));
	if (off < 0 || (size_t)off > l->len) {
		end = l->len;
		pthread_mutex_unlock(&F.mu);
		atr_reply_json(r, 409, json_pack("{s:I}", "next_offset", (json_int_t)end));
		return;
	}
	if ((size_t)off + raw_len > l->len) {
		size_t skip = l->len - (size_t)off, add = raw_len - skip;
		l->data = realloc(l->data, l->len + add + 1);
		memcpy(l->data + l->len, raw + skip, add);
		l->len += add;
		l->data[l->len] = 0;
	}
	end = l->len;
	pthread_mutex_unlock(&F.mu);
	atr_reply_json(r, 200, json_pack("{s:I}", "next_offset", (json_int_t)end));
}

static void h_status(struct atr_req *r)
{
	size_t raw_len;
	const char *raw = atr_req_raw_body(r, &raw_len);
	json_t *j = json_loadb(raw, raw_len, 0, NULL);
	struct flog *l;

	pthread_mutex_lock(&F.mu);
	l = flog_of(param_id(r));
	json_decref(l->report);
	l->report = j;
	pthread_mutex_unlock(&F.mu);
	atr_reply_json(r, 200, json_object());
}

/* A download that never ends: 1 KiB every 20 ms, until the client goes away. */
struct trickle {
	uv_timer_t t;
	struct atr_req *r;
	bool ready;
};

static long trickle_read(void *cls, char *buf, size_t max)
{
	struct trickle *tr = cls;
	size_t n = max < 1024 ? max : 1024;
	if (!tr->ready)
		return 0;
	tr->ready = false;
	memset(buf, 'z', n);
	return (long)n;
}

static void trickle_tick(uv_timer_t *t)
{
	struct trickle *tr = t->data;
	tr->ready = true;
	atr_stream_wake(tr->r);
}

static void trickle_done(void *cls)
{
	struct trickle *tr = cls;
	uv_timer_stop(&tr->t);
	uv_close((uv_handle_t *)&tr->t, (uv_close_cb)free);
	pthread_mutex_lock(&F.mu);
	F.stalled_open--;
	pthread_mutex_unlock(&F.mu);
}

static const struct atr_stream_ops trickle_ops = { trickle_read, trickle_done };

static void serve_file(struct atr_req *r, const char *kind, const char *name)
{
	char key[300];
	struct ffile *f = NULL;

	snprintf(key, sizeof(key), "%s/%s/%s/%s", kind, name, atr_req_param(r, "version"), atr_req_param(r, "path"));
	pthread_mutex_lock(&F.mu);
	if (atr_req_who(r)->kind != ATR_P_JOB)
		F.bad_token++;
	for (int i = 0; i < F.nfiles; i++)
		if (strcmp(F.files[i].key, key) == 0)
			f = &F.files[i];
	if (f)
		f->gets++;
	if (f && f->stall) {
		struct trickle *tr = calloc(1, sizeof(*tr));
		F.stalled_open++;
		F.stalled_seen++;
		pthread_mutex_unlock(&F.mu);
		tr->r = r;
		uv_timer_init(&F.loop, &tr->t);
		tr->t.data = tr;
		uv_timer_start(&tr->t, trickle_tick, 20, 20);
		atr_reply_stream(r, 200, "application/octet-stream", &trickle_ops, tr);
		return;
	}
	pthread_mutex_unlock(&F.mu);
	if (!f) {
		atr_reply_not_found(r, NULL, "file '%s' does not exist", atr_req_param(r, "path"));
		return;
	}
	atr_reply_header(r, "X-Content-SHA256", f->sha);
	atr_reply_data(r, 200, "application/octet-stream", f->data, f->len);
}

static void h_dataset_file(struct atr_req *r)
{
	serve_file(r, "datasets", atr_req_param(r, "dataset"));
}

static void h_model_file(struct atr_req *r)
{
	serve_file(r, "models", atr_req_param(r, "model"));
}

struct put_ctx {
	EVP_MD_CTX *md;
	uint64_t size;
};

static void put_ctx_free(void *p)
{
	struct put_ctx *c = p;
	EVP_MD_CTX_free(c->md);
	free(c);
}

static void h_output_begin(struct atr_req *r)
{
	struct put_ctx *c = calloc(1, sizeof(*c));
	c->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
	atr_req_set_ctx(r, c, put_ctx_free);
}

static int h_output_chunk(struct atr_req *r, const char *data, size_t len)
{
	struct put_ctx *c = atr_req_ctx(r);
	EVP_DigestUpdate(c->md, data, len);
	c->size += len;
	return 0;
}

static void h_output(struct atr_req *r)
{
	struct put_ctx *c = atr_req_ctx(r);
	const char *want = atr_req_header(r, "X-Content-SHA256");
	const char *path = atr_req_param(r, "path");
	unsigned char d[32];
	unsigned dl = 0;
	char sha[65];
	bool fail_now;
	struct fout *o = NULL;

	EVP_DigestFinal_ex(c->md, d, &dl);
	atr_hex_encode(d, 32, sha);
	pthread_mutex_lock(&F.mu);
	if (atr_req_who(r)->kind != ATR_P_JOB)
		F.bad_token++;
	flog_of(param_id(r))->puts++;
	fail_now = F.fail_puts > 0;
	if (fail_now)
		F.fail_puts--;
	pthread_mutex_unlock(&F.mu);
	if (fail_now) {
		atr_reply_internal(r, NULL, "the disk is on fire");
		return;
	}
	if (!want || strcmp(want, sha) != 0) {
		atr_reply_invalid(r, "X-Content-SHA256", "the body's sha256 is %s, not %s", sha,
				  want ? want : "(none)");
		return;
	}
	pthread_mutex_lock(&F.mu);
	for (int i = 0; i < F.nouts; i++)
		if (F.outs[i].job == param_id(r) && strcmp(F.outs[i].path, path) == 0)
			o = &F.outs[i];
	if (!o && F.nouts < 256)
		o = &F.outs[F.nouts++];
	if (o) {
		o->job = param_id(r);
		snprintf(o->path, sizeof(o->path), "%s", path);
		o->size = c->size;
		memcpy(o->sha, sha, sizeof(sha));
	}
	pthread_mutex_unlock(&F.mu);
	atr_reply_json(r, 201, json_pack("{s:s, s:I, s:s}", "path", path, "size", (json_int_t)c->size, "sha256", sha));
}

static int fake_auth(void *app, const char *token, struct atr_principal *out)
{
	(void)app;
	memset(out, 0, sizeof(*out));
	if (strcmp(token, SECRET) == 0)
		out->kind = ATR_P_WORKER;
	else if (strcmp(token, JOB_TOKEN) == 0)
		out->kind = ATR_P_JOB;
	else
		return -10;
	return 0;
}

#define NA ATR_RF_NO_AUDIT
static const struct atr_route fake_routes[] = {
	{ .method = "POST",
	  .pattern = "/api/v1/workers/register",
	  .handler = h_register,
	  .access = ATR_ACCESS_PUBLIC,
	  .flags = ATR_RF_RAW_BODY,
	  .name = "register" },
	{ .method = "POST",
	  .pattern = "/api/v1/workers/heartbeat",
	  .handler = h_heartbeat,
	  .access = ATR_ACCESS_WORKER,
	  .flags = ATR_RF_RAW_BODY,
	  .name = "hb" },
	{ .method = "POST",
	  .pattern = "/api/v1/workers/deregister",
	  .handler = h_deregister,
	  .access = ATR_ACCESS_WORKER,
	  .flags = ATR_RF_RAW_BODY,
	  .name = "dereg" },
	{ .method = "POST",
	  .pattern = "/api/v1/workers/jobs/{id}/logs",
	  .handler = h_logs,
	  .access = ATR_ACCESS_WORKER,
	  .flags = ATR_RF_RAW_BODY,
	  .name = "logs" },
	{ .method = "POST",
	  .pattern = "/api/v1/workers/jobs/{id}/status",
	  .handler = h_status,
	  .access = ATR_ACCESS_WORKER,
	  .flags = ATR_RF_RAW_BODY,
	  .name = "status" },
	{ .method = "GET",
	  .pattern = "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/files/{path...}",
	  .handler = h_dataset_file,
	  .access = ATR_ACCESS_USER,
	  .flags = ATR_RF_JOB_OK,
	  .name = "dsfile" },
	{ .method = "GET",
	  .pattern = "/api/v1/projects/{project}/models/{model}/versions/{version}/files/{path...}",
	  .handler = h_model_file,
	  .access = ATR_ACCESS_USER,
	  .flags = ATR_RF_JOB_OK,
	  .name = "mfile" },
	{ .method = "PUT",
	  .pattern = "/api/v1/jobs/{id}/outputs/{path...}",
	  .handler = h_output,
	  .access = ATR_ACCESS_USER,
	  .flags = ATR_RF_JOB_OK | ATR_RF_STREAM,
	  .name = "output",
	  .on_begin = h_output_begin,
	  .on_chunk = h_output_chunk },
};

static void fake_stopped(void *arg)
{
	(void)arg;
}

static void on_stop(uv_async_t *a)
{
	atr_server_shutdown(F.srv, 1000, fake_stopped, NULL);
	uv_close((uv_handle_t *)a, NULL);
}

static void *fake_main(void *arg)
{
	(void)arg;
	uv_run(&F.loop, UV_RUN_DEFAULT);
	return NULL;
}

static void fake_start(void)
{
	struct atr_addr a = { "127.0.0.1", 0 };
	struct atr_server_opts o = { .routes = fake_routes,
				     .nroutes = sizeof(fake_routes) / sizeof(fake_routes[0]),
				     .max_body = 1u << 20,
				     .max_upload = 1ull << 30,
				     .authenticate = fake_auth,
				     .app = &F };
	pthread_mutex_init(&F.mu, NULL);
	assert_int_equal(uv_loop_init(&F.loop), 0);
	uv_async_init(&F.loop, &F.stop, on_stop);
	assert_int_equal(atr_server_start(&F.loop, &a, &o, &F.srv), 0);
	F.port = atr_server_port(F.srv);
	assert_int_equal(pthread_create(&F.thread, NULL, fake_main, NULL), 0);
}

static void fake_stop(void)
{
	uv_async_send(&F.stop);
	pthread_join(F.thread, NULL);
	assert_int_equal(uv_loop_close(&F.loop), 0);
	for (int i = 0; i < F.nfiles; i++)
		free(F.files[i].data);
	for (int i = 0; i < F.njobs; i++) {
		free(F.jobs[i].data);
		json_decref(F.jobs[i].report);
	}
}

/* A file the fake serves; its sha256 into sha (may be NULL). */
static void fake_file(const char *key, const char *data, size_t len, bool stall, char *sha)
{
	struct ffile *f;
	pthread_mutex_lock(&F.mu);
	f = &F.files[F.nfiles++];
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->data = malloc(len ? len : 1);
	memcpy(f->data, data, len);
	f->len = len;
	f->stall = stall;
	atr_sha256_hex(data, len, f->sha);
	if (sha)
		memcpy(sha, f->sha, 65);
	pthread_mutex_unlock(&F.mu);
}

static int fake_gets(const char *key)
{
	int n = -1;
	pthread_mutex_lock(&F.mu);
	for (int i = 0; i < F.nfiles; i++)
		if (strcmp(F.files[i].key, key) == 0)
			n = F.files[i].gets;
	pthread_mutex_unlock(&F.mu);
	return n;
}

static int fake_gets_total(void)
{
	int n = 0;
	pthread_mutex_lock(&F.mu);
	for (int i = 0; i < F.nfiles; i++)
		n += F.files[i].gets;
	pthread_mutex_unlock(&F.mu);
	return n;
}

/* Transfers of files that came without the job's token. */
static int bad_tokens(void)
{
	int n;
	pthread_mutex_lock(&F.mu);
	n = F.bad_token;
	pthread_mutex_unlock(&F.mu);
	return n;
}

static int fake_puts(long long job)
{
	int n;
	pthread_mutex_lock(&F.mu);
	n = flog_of(job)->puts;
	pthread_mutex_unlock(&F.mu);
	return n;
}

/* The output the fake holds for job and path (copied), or false. */
static bool fake_out(long long job, const char *path, struct fout *out)
{
	bool found = false;
	pthread_mutex_lock(&F.mu);
	for (int i = 0; i < F.nouts; i++)
		if (F.outs[i].job == job && strcmp(F.outs[i].path, path) == 0) {
			*out = F.outs[i];
			found = true;
		}
	pthread_mutex_unlock(&F.mu);
	return found;
}

static int fake_outs_of(long long job)
{
	int n = 0;
	pthread_mutex_lock(&F.mu);
	for (int i = 0; i < F.nouts; i++)
		n += F.outs[i].job == job;
	pthread_mutex_unlock(&F.mu);
	return n;
}

/* ---- the worker ---- */

static struct h_server S; /* base = the fake, dir = a temp dir holding the worker's */
static struct h_worker W;
static struct h_server API;

struct report_wait {
	long long job;
};

static bool has_report(void *arg)
{
	struct report_wait *w = arg;
	bool yes;
	pthread_mutex_lock(&F.mu);
	yes = flog_of(w->job)->report != NULL;
	pthread_mutex_unlock(&F.mu);
	return yes;
}

/* Waits for the job's report; returns it (new reference) with the job's whole log in *log. */
static json_t *wait_report(long long job, const char *state, char **log)
{
	struct report_wait w = { job };
	struct flog *l;
	json_t *rep;

	if (!h_wait(has_report, &w, 30000)) {
		fprintf(stderr, "no report for job %lld\n", job);
		h_sh("tail -30 '%s/worker.log' >&2", W.dir);
		fail();
	}
	pthread_mutex_lock(&F.mu);
	l = flog_of(job);
	rep = json_incref(l->report);
	if (log)
		*log = strdup(l->data ? l->data : "");
	json_decref(l->report);
	l->report = NULL; /* a later run of the same id reports again */
	free(l->data);
	l->data = NULL;
	l->len = 0;
	pthread_mutex_unlock(&F.mu);
	if (strcmp(json_string_value(json_object_get(rep, "state")), state) != 0) {
		char *d = json_dumps(rep, 0);
		fprintf(stderr, "job %lld: expected '%s', got %s\nits log:\n%s\n", job, state, d, log ? *log : "");
		free(d);
		fail();
	}
	return rep;
}

static const char *msg_of(const json_t *rep)
{
	return json_string_value(json_object_get(rep, "message"));
}

/* A downloads entry for the fake's dataset 'cifar' version 3. */
static const char *dl_entry(const char *dir, const char *kind, const char *name, int version, const char *files)
{
	return fmt("{\"dir\":\"%s\",\"base\":\"/api/v1/projects/vision/%s/%s/versions/%d/files/\",\"files\":[%s]}", dir,
		   kind, name, version, files);
}

static const char *file_entry(const char *path, const char *sha, size_t size)
{
	return fmt("{\"path\":\"%s\",\"sha256\":\"%s\",\"size\":%zu}", path, sha, size);
}

static char sha_a[65], sha_b[65], sha_big[65], sha_empty[65], sha_w[65], sha_uni[65];
static char *big;
#define BIG_LEN (5u << 20)

static void post_job(long long id, const char *extra, const char *command, long expect, const char *expect_state)
{
	json_t *j = h_call(&API, "POST", "/v1/jobs", W.secret,
			   fmt("{\"id\":%lld,\"command\":\"%s\",\"token\":\"" JOB_TOKEN "\"%s%s}", id, command,
			       extra ? "," : "", extra ? extra : ""),
			   expect);
	if (expect_state)
		assert_string_equal(json_string_value(json_object_get(j, "state")), expect_state);
	json_decref(j);
}

static void test_accept_checks(void **state)
{
	const char *ok = file_entry("a.csv", sha_a, 3);
	struct {
		const char *downloads;
		const char *field;
	} cases[] = {
		{ fmt("[%s]", dl_entry("../up", "datasets", "cifar", 3, ok)), "downloads[0].dir" },
		{ fmt("[%s]", dl_entry("log", "datasets", "cifar", 3, ok)), "downloads[0].dir" },
		{ fmt("[%s]", dl_entry("input/x", "datasets", "cifar", 3, file_entry("a/../b", sha_a, 3))),
		  "downloads[0].files[0].path" },
		{ fmt("[%s]", dl_entry("input/x", "datasets", "cifar", 3, file_entry("/etc/passwd", sha_a, 3))),
		  "downloads[0].files[0].path" },
		{ fmt("[%s]", dl_entry("input/x", "datasets", "cifar", 3, fmt("%s,%s", ok, file_entry("b", "zz", 3)))),
		  "downloads[0].files[1].sha256" },
		{ fmt("[%s,%s]", dl_entry("input/x", "datasets", "cifar", 3, ok),
		      dl_entry("input/x", "datasets", "cifar", 3, ok)),
		  "downloads[1].files[0].path" },
		{ fmt("[%s,%s]", dl_entry("input/x", "datasets", "cifar", 3, ok),
		      dl_entry("input/y", "datasets", "cifar", 3, file_entry("a.csv", sha_a, 4))),
		  "downloads[1].files[0].size" },
		{ "[{\"dir\":\"input/x\",\"base\":\"http://evil.example/\",\"files\":[]}]", "downloads[0].base" },
		{ "[{\"dir\":\"input/x\",\"base\":\"/a b/\",\"files\":[]}]", "downloads[0].base" },
		{ "[{\"dir\":\"input/x\",\"base\":\"/files/\"}]", "downloads[0].files" },
		{ "[{\"dir\":\"input/x\",\"base\":\"/files/\",\"files\":[],\"extra\":1}]", "downloads[0].extra" },
		{ "[{\"dir\":\"input/x\",\"base\":\"/files/"
		  "\",\"files\":[{\"path\":\"a\",\"sha256\":\"x\",\"size\":-1}]}]",
		  "downloads[0].files[0].sha256" },
		{ "{}", "downloads" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		h_expect_error(&API, "POST", "/v1/jobs", W.secret,
			       fmt("{\"id\":9000,\"command\":\"true\",\"downloads\":%s}", cases[i].downloads), 400,
			       cases[i].field);
	h_expect_error(&API, "POST", "/v1/jobs", W.secret,
		       "{\"id\":9000,\"command\":\"true\",\"upload_outputs\":\"yes\"}", 400, "upload_outputs");
	/* nothing was kept of the refused jobs */
	{
		json_t *j = h_call(&API, "GET", "/v1/jobs", W.secret, NULL, 200);
		assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
		json_decref(j);
	}
	/* empty downloads and explicit nulls: a plain job */
	post_job(9001, "\"downloads\":[],\"upload_outputs\":false", "true", 201, "running");
	json_decref(wait_report(9001, "succeeded", NULL));
	post_job(9002, "\"downloads\":null,\"upload_outputs\":null", "true", 201, "running");
	json_decref(wait_report(9002, "succeeded", NULL));
}

static const char *inputs_json(const char *as)
{
	const char *files = fmt("%s,%s,%s,%s,%s,%s", file_entry("a.csv", sha_a, 8), file_entry("sub/b c.csv", sha_b, 6),
				file_entry("big.bin", sha_big, BIG_LEN), file_entry("empty", sha_empty, 0),
				file_entry("copy-of-a.csv", sha_a, 8), file_entry("\u00fcn\u00ef.txt", sha_uni, 4));
	char ds[4096];
	snprintf(ds, sizeof(ds), "%s", dl_entry(fmt("input/%s", as), "datasets", "cifar", 3, files));
	return fmt("\"downloads\":[%s,%s]", ds,
		   dl_entry("model", "models", "resnet", 2, file_entry("weights.bin", sha_w, 7)));
}

#define READ_INPUTS                                                                                     \
	"cat $ATRIUM_INPUT_DIR/%s/a.csv; cat \\\"$ATRIUM_INPUT_DIR/%s/sub/b c.csv\\\"; cat "            \
	"$ATRIUM_INPUT_DIR/%s/copy-of-a.csv; cat $ATRIUM_INPUT_DIR/%s/ün*.txt; sha256sum < "           \
	"$ATRIUM_INPUT_DIR/%s/big.bin; "                                                                \
	"test -f $ATRIUM_INPUT_DIR/%s/empty && test ! -s $ATRIUM_INPUT_DIR/%s/empty && echo empty-ok; " \
	"echo model=$ATRIUM_MODEL_DIR; cat $ATRIUM_MODEL_DIR/weights.bin"

static void check_inputs_log(long long job, const char *log)
{
	char want[200];
	assert_non_null(strstr(log, "alpha,1\nb,c,2\nalpha,1\nuni\n"));
	snprintf(want, sizeof(want), "%s  -\n", sha_big);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "empty-ok\n"));
	snprintf(want, sizeof(want), "model=%s/jobs/%lld/model\nweights", W.dir, job);
	assert_non_null(strstr(log, want));
}

/* The file is the cache's (a hard link), read-only, so a job cannot change the cache's bytes. */
static void check_linked(long long job, const char *rel, const char *sha)
{
	struct stat in_job, cached;
	assert_int_equal(stat(fmt("%s/jobs/%lld/%s", W.dir, job, rel), &in_job), 0);
	assert_int_equal(stat(fmt("%s/cache/%s", W.dir, sha), &cached), 0);
	assert_true(in_job.st_ino == cached.st_ino);
	assert_int_equal(cached.st_mode & 0222, 0);
}

/* Runs a job that reads the inputs (into input/<as>) and checks what it saw; returns its log. */
static char *run_inputs_job(long long id, const char *as)
{
	json_t *rep;
	char *log;

	post_job(id, inputs_json(as), fmt(READ_INPUTS, as, as, as, as, as, as, as), 201, "preparing");
	rep = wait_report(id, "succeeded", &log);
	check_inputs_log(id, log);
	assert_int_equal(json_integer_value(json_object_get(rep, "exit_code")), 0);
	assert_true(json_is_string(json_object_get(rep, "started_at")));
	json_decref(rep);
	return log;
}

static void test_inputs_arrive(void **state)
{
	char *log = run_inputs_job(11, "cifar");
	(void)state;

	assert_non_null(strstr(log, "atrium: fetching inputs: 7 files"));
	assert_non_null(strstr(log, "atrium: inputs ready: 7 files"));
	free(log);
	/* every distinct content once: a.csv and copy-of-a.csv are the same bytes */
	assert_int_equal(fake_gets("datasets/cifar/3/a.csv") + fake_gets("datasets/cifar/3/copy-of-a.csv"), 1);
	assert_int_equal(fake_gets("datasets/cifar/3/sub/b c.csv"), 1);
	assert_int_equal(fake_gets("datasets/cifar/3/\u00fcn\u00ef.txt"), 1);
	assert_int_equal(fake_gets("datasets/cifar/3/big.bin"), 1);
	assert_int_equal(fake_gets("models/resnet/2/weights.bin"), 1);
	assert_int_equal(bad_tokens(), 0);
	/* the cache holds each content once, read-only, linked into the job's folder */
	check_linked(11, "input/cifar/big.bin", sha_big);
	check_linked(11, "input/cifar/a.csv", sha_a);
	check_linked(11, "input/cifar/copy-of-a.csv", sha_a);
	check_linked(11, "model/weights.bin", sha_w);
}

static void test_cache_serves_second_job(void **state)
{
	int before = fake_gets_total();
	char *log = run_inputs_job(12, "again");
	(void)state;

	assert_non_null(strstr(log, "7 in this worker's cache, 0 bytes to download"));
	assert_non_null(strstr(log, "downloaded 0 (0 bytes)"));
	assert_int_equal(fake_gets_total(), before); /* no network */
	check_linked(12, "input/again/sub/b c.csv", sha_b);
	free(log);
}

static void test_fetch_failures(void **state)
{
	char wrong[65];
	json_t *rep;
	char *log;
	(void)state;

	/* the server's bytes do not match the sum: 3 tries, then the job fails without running */
	fake_file("datasets/cifar/3/bad.csv", "tampered", 8, false, NULL);
	atr_sha256_hex("original", 8, wrong);
	post_job(13,
		 fmt("\"downloads\":[%s]",
		     dl_entry("input/cifar", "datasets", "cifar", 3, file_entry("bad.csv", wrong, 8))),
		 "touch ran", 201, "preparing");
	rep = wait_report(13, "failed", &log);
	assert_non_null(
		strstr(msg_of(rep), "could not fetch input 'bad.csv' of dataset 'cifar' version 3: its sha256 is"));
	assert_true(json_is_null(json_object_get(rep, "exit_code")));
	assert_true(json_is_null(json_object_get(rep, "started_at")));
	assert_true(json_is_string(json_object_get(rep, "finished_at")));
	assert_non_null(strstr(log, "trying again"));
	assert_non_null(strstr(log, "atrium: could not fetch input 'bad.csv'"));
	assert_int_equal(fake_gets("datasets/cifar/3/bad.csv"), 3);
	assert_int_equal(access(fmt("%s/jobs/13/ran", W.dir), F_OK), -1); /* the process never started */
	/* nothing half-written stays in the cache */
	assert_int_equal(h_sh("ls -a '%s/cache' | grep -q part", W.dir), 1);
	json_decref(rep);
	free(log);

	/* a file the server does not have: no point in trying again */
	post_job(14,
		 fmt("\"downloads\":[%s]", dl_entry("model", "models", "resnet", 2, file_entry("gone.bin", wrong, 8))),
		 "touch ran", 201, "preparing");
	rep = wait_report(14, "failed", &log);
	assert_non_null(strstr(msg_of(rep), "could not fetch input 'gone.bin' of model 'resnet' version 2: HTTP 404"));
	assert_non_null(strstr(msg_of(rep), "does not exist"));
	assert_int_equal(access(fmt("%s/jobs/14/ran", W.dir), F_OK), -1);
	json_decref(rep);
	free(log);
}

static void sha_of_file(const char *path, char out[65])
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32], buf[65536];
	unsigned dl = 0;
	size_t n;
	assert_non_null(f);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	fclose(f);
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	atr_hex_encode(d, 32, out);
}

static void expect_output(long long job, const char *path, uint64_t size)
{
	struct fout o;
	char sha[65];
	if (!fake_out(job, path, &o)) {
		fprintf(stderr, "output '%s' of job %lld did not arrive\n", path, job);
		fail();
	}
	assert_int_equal(o.size, size);
	sha_of_file(fmt("%s/jobs/%lld/output/%s", W.dir, job, path), sha);
	assert_string_equal(o.sha, sha);
}

static void test_outputs_uploaded(void **state)
{
	json_t *rep, *j;
	char *log;
	(void)state;

	post_job(15, "\"upload_outputs\":true",
		 "cd $ATRIUM_OUTPUT_DIR && echo hello > a.txt && mkdir -p nested/deeper && "
		 "head -c 20971520 /dev/urandom > nested/deeper/b.bin && : > empty && echo s > 'sp ace.txt' && "
		 "ln -s a.txt link && mkfifo pipe && mkdir emptydir",
		 201, "running");
	rep = wait_report(15, "succeeded", &log);
	assert_int_equal(json_integer_value(json_object_get(rep, "exit_code")), 0);
	assert_non_null(strstr(log, "atrium: uploading 4 output files"));
	assert_non_null(strstr(log, "atrium: uploaded 4 output files"));
	assert_non_null(strstr(log, "'link' is a symbolic link: not uploaded"));
	assert_non_null(strstr(log, "'pipe' is a named pipe: not uploaded"));
	expect_output(15, "a.txt", 6);
	expect_output(15, "nested/deeper/b.bin", 20u << 20);
	expect_output(15, "empty", 0);
	expect_output(15, "sp ace.txt", 2);
	assert_int_equal(fake_outs_of(15), 4);
	assert_int_equal(fake_puts(15), 4);
	assert_int_equal(bad_tokens(), 0);
	json_decref(rep);
	free(log);
	/* the worker forgot it once reported */
	j = h_call(&API, "GET", "/v1/jobs", W.secret, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
}

static void test_no_outputs(void **state)
{
	json_t *rep;
	char *log;
	(void)state;

	post_job(16, "\"upload_outputs\":true", "echo nothing to say", 201, "running");
	rep = wait_report(16, "succeeded", &log);
	assert_non_null(strstr(log, "atrium: no output files to upload"));
	assert_int_equal(fake_puts(16), 0);
	json_decref(rep);
	free(log);
	/* a failed job uploads nothing either */
	post_job(17, "\"upload_outputs\":true", "echo x > $ATRIUM_OUTPUT_DIR/x; exit 3", 201, "running");
	rep = wait_report(17, "failed", NULL);
	assert_int_equal(json_integer_value(json_object_get(rep, "exit_code")), 3);
	assert_int_equal(fake_puts(17), 0);
	json_decref(rep);
	/* a new run of job 15 (another attempt) sends only what it wrote, not the old run's files */
	post_job(15, "\"attempt\":2,\"upload_outputs\":true", "echo again > $ATRIUM_OUTPUT_DIR/second.txt", 201,
		 "running");
	json_decref(wait_report(15, "succeeded", NULL));
	assert_int_equal(fake_puts(15), 5);
	expect_output(15, "second.txt", 6);
}

static void test_upload_fails(void **state)
{
	json_t *rep;
	char *log;
	(void)state;

	pthread_mutex_lock(&F.mu);
	F.fail_puts = 3;
	pthread_mutex_unlock(&F.mu);
	post_job(18, "\"upload_outputs\":true", "echo data > $ATRIUM_OUTPUT_DIR/model.pt", 201, "running");
	rep = wait_report(18, "failed", &log);
	assert_string_equal(msg_of(rep), "could not upload output 'model.pt': HTTP 500: the disk is on fire");
	assert_int_equal(json_integer_value(json_object_get(rep, "exit_code")), 0); /* the process itself succeeded */
	assert_non_null(strstr(
		log, "atrium: uploading output 'model.pt' failed (HTTP 500: the disk is on fire); trying again"));
	assert_int_equal(fake_puts(18), 3);
	json_decref(rep);
	free(log);
}

static bool stalled(void *arg)
{
	int want = *(int *)arg, n;
	pthread_mutex_lock(&F.mu);
	n = F.stalled_seen;
	pthread_mutex_unlock(&F.mu);
	return n >= want;
}

static bool stall_closed(void *arg)
{
	int n;
	(void)arg;
	pthread_mutex_lock(&F.mu);
	n = F.stalled_open;
	pthread_mutex_unlock(&F.mu);
	return n == 0;
}

static void test_cancel_while_preparing(void **state)
{
	char sha[65];
	int one = 1;
	json_t *rep, *j;
	(void)state;

	fake_file("datasets/slow/1/huge.bin", "0123456789", 10, true, sha);
	post_job(19,
		 fmt("\"downloads\":[%s]",
		     dl_entry("input/slow", "datasets", "slow", 1, file_entry("huge.bin", sha, 10))),
		 "touch ran", 201, "preparing");
	assert_true(h_wait(stalled, &one, 10000));
	j = h_call(&API, "GET", "/v1/jobs/19", W.secret, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "preparing");
	assert_true(json_is_null(json_object_get(j, "pid")));
	json_decref(j);
	j = h_call(&API, "DELETE", "/v1/jobs/19", W.secret, NULL, 202);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "cancelled");
	json_decref(j);
	rep = wait_report(19, "cancelled", NULL);
	assert_string_equal(msg_of(rep), "cancelled while fetching its inputs");
	assert_true(json_is_null(json_object_get(rep, "exit_code")));
	json_decref(rep);
	assert_true(h_wait(stall_closed, NULL, 10000)); /* the transfer stopped */
	assert_int_equal(access(fmt("%s/jobs/19/ran", W.dir), F_OK), -1);
}

/* ---- housekeeping ---- */

static long long dir_bytes(const char *sub)
{
	FILE *f = popen(fmt("du -sbl '%s/%s' 2>/dev/null | cut -f1", W.dir, sub), "r");
	long long n = -1;
	assert_non_null(f);
	if (fscanf(f, "%lld", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

static bool cleaned_up(void *arg)
{
	struct stat st;
	(void)arg;
	return stat(fmt("%s/jobs/11", W.dir), &st) < 0 && stat(fmt("%s/jobs/12", W.dir), &st) < 0 &&
	       stat(fmt("%s/cache/%s", W.dir, sha_big), &st) < 0 && stat(fmt("%s/cache/.part-stale", W.dir), &st) < 0;
}

/* Restarted with --housekeeping 1 --keep-jobs 3 --cache-max-mb 2: the old job folders go, so
 * nothing links the 5 MiB content any more and the cache drops under 2 MiB; a stale temp file
 * goes, a fresh one stays; a running job's folder stays; a job needing an evicted content
 * downloads it again. */
static void test_housekeeping(void **state)
{
	const char *const args[] = { "--housekeeping", "1", "--keep-jobs", "3", "--cache-max-mb", "2", NULL };
	struct stat st;
	struct timespec old[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
	int big_gets = fake_gets("datasets/cifar/3/big.bin");
	char *log;
	(void)state;

	assert_int_equal(stat(fmt("%s/jobs/11", W.dir), &st), 0);
	assert_true(dir_bytes("cache") > 5 * 1024 * 1024);
	assert_int_equal(h_sh("touch '%s/cache/.part-stale' '%s/cache/.part-fresh'", W.dir, W.dir), 0);
	assert_int_equal(utimensat(AT_FDCWD, fmt("%s/cache/.part-stale", W.dir), old, 0), 0);
	assert_int_equal(h_worker_stop(&W, SIGTERM), 0);
	unlink(fmt("%s/worker.json", W.dir)); /* the restarted worker writes its new address there */
	h_worker_start(&W, &S, "atr_join_unused", "stage-w", 2, args);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	API = h_worker_api(&W, &S);
	/* a job running all along keeps its folder */
	post_job(70, NULL, "sleep 6", 201, "running");
	if (!h_wait(cleaned_up, NULL, 30000)) {
		h_sh("ls -la '%s/jobs' '%s/cache' >&2; tail -20 '%s/worker.log' >&2", W.dir, W.dir, W.dir);
		fail();
	}
	assert_true(dir_bytes("cache") <= 2 * 1024 * 1024);
	assert_int_equal(stat(fmt("%s/cache/.part-fresh", W.dir), &st), 0);
	assert_int_equal(stat(fmt("%s/jobs/70/log", W.dir), &st), 0);
	assert_int_equal(h_sh("grep -q 'housekeeping: removed' '%s/worker.log'", W.dir), 0);
	json_decref(wait_report(70, "succeeded", NULL));
	/* the evicted content comes back when a job needs it */
	log = run_inputs_job(71, "back");
	assert_int_equal(fake_gets("datasets/cifar/3/big.bin"), big_gets + 1);
	check_linked(71, "input/back/big.bin", sha_big);
	free(log);
}

static void test_sigterm_while_preparing(void **state)
{
	char sha[65];
	int two = 2;
	json_t *rep;
	(void)state;

	fake_file("datasets/slow/2/huge.bin", "abcdefghij", 10, true, sha);
	post_job(20,
		 fmt("\"downloads\":[%s]",
		     dl_entry("input/slow", "datasets", "slow", 2, file_entry("huge.bin", sha, 10))),
		 "touch ran", 201, "preparing");
	assert_true(h_wait(stalled, &two, 10000));
	/* --grace 30: a job still fetching is cancelled at once instead */
	assert_int_equal(h_worker_stop(&W, SIGTERM), 0);
	rep = wait_report(20, "cancelled", NULL);
	json_decref(rep);
	assert_true(h_wait(stall_closed, NULL, 10000));
	assert_int_equal(access(fmt("%s/jobs/20/ran", W.dir), F_OK), -1);
	/* it stopped cleanly: no sanitizer report, no handle left open */
	assert_int_equal(h_sh("grep -q -e 'ERROR: ' -e 'open handles' '%s/worker.log'", W.dir), 1);
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	fake_start();
	big = malloc(BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = (char)(i * 7 + (i >> 11));
	fake_file("datasets/cifar/3/a.csv", "alpha,1\n", 8, false, sha_a);
	fake_file("datasets/cifar/3/copy-of-a.csv", "alpha,1\n", 8, false, NULL);
	fake_file("datasets/cifar/3/sub/b c.csv", "b,c,2\n", 6, false, sha_b);
	fake_file("datasets/cifar/3/big.bin", big, BIG_LEN, false, sha_big);
	fake_file("datasets/cifar/3/empty", "", 0, false, sha_empty);
	fake_file("datasets/cifar/3/\u00fcn\u00ef.txt", "uni\n", 4, false, sha_uni);
	fake_file("models/resnet/2/weights.bin", "weights", 7, false, sha_w);

	memset(&S, 0, sizeof(S));
	snprintf(S.dir, sizeof(S.dir), "/tmp/atrium-stage-XXXXXX");
	assert_non_null(mkdtemp(S.dir));
	snprintf(S.base, sizeof(S.base), "http://127.0.0.1:%d", F.port);
	S.curl = curl_easy_init();
	h_worker_start(&W, &S, "atr_join_unused", "stage-w", 2, NULL);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	API = h_worker_api(&W, &S);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_worker_stop(&W, SIGTERM); /* (checked: exit 0; the last test stopped it already) */
	fake_stop();
	free(big);
	h_server_cleanup(&S);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_checks),
		cmocka_unit_test(test_inputs_arrive),
		cmocka_unit_test(test_cache_serves_second_job),
		cmocka_unit_test(test_fetch_failures),
		cmocka_unit_test(test_outputs_uploaded),
		cmocka_unit_test(test_no_outputs),
		cmocka_unit_test(test_upload_fails),
		cmocka_unit_test(test_cancel_while_preparing),
		cmocka_unit_test(test_housekeeping),
		cmocka_unit_test(test_sigterm_while_preparing), /* last: it stops the worker */
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
