/*
 * serve.c: `atrium serve`. Builds the daemon's parts in order on one libuv loop (store,
 * auth, metrics, HTTP client, HTTP server, timers, signals), bootstraps the first admin,
 * and on SIGINT/SIGTERM stops accepting, lets in-flight requests finish, closes the
 * database and returns 0.
 */
#include "atrium/serve.h"
#include "atrium/app.h"
#include "atrium/artifacts.h"
#include "atrium/auth.h"
#include "atrium/client.h"
#include "atrium/cluster_link.h"
#include "atrium/deploy.h"
#include "atrium/dispatch.h"
#include "atrium/slurm.h"
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/gc.h"
#include "atrium/log.h"
#include "atrium/metrics.h"
#include "atrium/registry.h"
#include "atrium/server.h"
#include "atrium/store.h"
#include "atrium/store_identity.h"
#include "atrium/store_workers.h"
#include "atrium/sweeps.h"
#include "atrium/util.h"
#include "atrium/version.h"
#include "atrium/worker.h"
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

struct daemon {
	struct atr_app app;
	uv_signal_t sigint, sigterm;
	uv_timer_t housekeeping;
	int64_t optimized_ms;		       /* when the planner's statistics were last refreshed */
	uv_prepare_t end_read;		       /* before the loop waits: end the turn's shared read transaction */
	struct atr_local_worker *local_worker; /* --local-worker */
	uv_timer_t forgotten;		       /* the test hook ATRIUM_TEST_FORGET_HANDLE: never closed */
	bool stopping;
	int exit_code;
	char *tls_cert_pem, *tls_key_pem; /* --tls-cert, --tls-key: HTTPS */
};

/* A whole PEM file, NUL-terminated (at start, before the loop runs). NULL when unreadable. */
static char *read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *p;
	size_t len = 0, n;

	if (!f)
		return NULL;
	do {
		if (!(p = realloc(buf, len + 65536 + 1))) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = p;
		n = fread(buf + len, 1, 65536, f);
		len += n;
	} while (n > 0 && len < (1u << 20));
	fclose(f);
	buf[len] = 0;
	return buf;
}

/* --sync; --tls-cert and --tls-key: both or neither, each a readable file (read into d).
 * 0 or -1 (said on stderr). */
static int check_options(struct daemon *d, const struct atr_serve_config *cfg)
{
	if (strcmp(cfg->sync, "normal") != 0 && strcmp(cfg->sync, "full") != 0) {
		fprintf(stderr, "atrium: --sync: '%s' is not one of normal, full\n", cfg->sync);
		return -1;
	}
	if (!cfg->tls_cert[0] && !cfg->tls_key[0])
		return 0;
	if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
		fprintf(stderr, "atrium: --tls-cert and --tls-key go together\n");
		return -1;
	}
	if (!(d->tls_cert_pem = read_pem(cfg->tls_cert))) {
		fprintf(stderr, "atrium: --tls-cert: cannot read '%s'\n", cfg->tls_cert);
		return -1;
	}
	if (!(d->tls_key_pem = read_pem(cfg->tls_key))) {
		fprintf(stderr, "atrium: --tls-key: cannot read '%s'\n", cfg->tls_key);
		return -1;
	}
	return 0;
}

/* Whether the listen address is this host's loopback (127.0.0.0/8). */
static bool listens_on_loopback(const struct atr_addr *a)
{
	return strncmp(a->host, "127.", 4) == 0 || strcmp(a->host, "localhost") == 0;
}

static int write_secret_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);
	ssize_t w;

	if (fd < 0)
		return ATR_EIO;
	w = write(fd, text, n);
	if (fsync(fd) < 0 || close(fd) < 0 || w != (ssize_t)n)
		return ATR_EIO;
	return 0;
}

/* First start on an empty data dir: user 'admin' and its token in DATA_DIR/admin.token. */
static int bootstrap_admin(struct atr_store *s)
{
	struct atr_token_spec spec = { .kind = "user", .name = "bootstrap" };
	char token[ATR_TOKEN_MAX], path[1200], line[ATR_TOKEN_MAX + 2];
	char hash[160];
	const char *pw = getenv("ATRIUM_ADMIN_PASSWORD");
	int64_t id;
	int rc;

	if (atr_store_user_count(s) != 0)
		return 0;
	if (pw && *pw && atr_password_hash(pw, hash, sizeof(hash)) < 0)
		return ATR_EIO;
	if ((rc = atr_store_begin(s)) < 0)
		return rc;
	rc = atr_store_user_create(s, "admin", "Administrator", true, pw && *pw ? hash : NULL, &id);
	spec.user_id = id;
	if (rc == 0)
		rc = atr_store_token_create(s, &spec, token, NULL);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/admin.token", s->data_dir);
		snprintf(line, sizeof(line), "%s\n", token);
		rc = write_secret_file(path, line);
	}
	if (rc < 0) {
		atr_store_rollback(s);
		fprintf(stderr, "atrium: could not create the first admin\n");
		return rc;
	}
	if ((rc = atr_store_commit(s)) < 0)
		return rc;
	atr_log_flush(); /* the start-up lines first, then the banner */
	printf("Created user 'admin'. Its API token (shown once, also in %s):\n\n    %s\n\n", path, token);
	fflush(stdout);
	return 0;
}

static uint64_t store_generation(void *app)
{
	return atr_store_generation(((struct atr_app *)app)->store);
}

static bool store_uncommitted(void *app)
{
	return atr_store_uncommitted(((struct atr_app *)app)->store);
}

static void store_flush(void *app)
{
	atr_store_flush(((struct atr_app *)app)->store);
}

/* After each commit of a loop turn's writes: the answers that waited for it go out. */
static void on_commit(void *arg, int rc)
{
	struct daemon *d = arg;
	if (d->app.http)
		atr_server_release_held(d->app.http, rc == 0);
}

static const char *route_label(void *cls, size_t i)
{
	(void)cls;
	return atr_routes[i].name;
}

static int authenticate(void *app, const char *token, struct atr_principal *out)
{
	return atr_auth_lookup(((struct atr_app *)app)->auth, token, out);
}

static int basic_lookup(void *app, const char *user, char *hash, size_t hashlen, struct atr_principal *out)
{
	return atr_auth_basic_lookup(((struct atr_app *)app)->auth, user, hash, hashlen, out);
}

#define PRUNE_BUDGET_US 20000 /* of loop time per pass; what is left waits for the next one */

/* Old job logs go a few jobs at a time, so one pass never holds the loop for long. */
static void prune_job_logs(struct daemon *d)
{
	int64_t before = atr_now_ms() - d->app.cfg->job_log_retention_days * 86400000LL;
	uint64_t t0 = atr_mono_us();
	int n, total = 0;

	do {
		n = atr_store_job_logs_prune(d->app.store, before, 8);
		total += n > 0 ? n : 0;
	} while (n == 8 && atr_mono_us() - t0 < PRUNE_BUDGET_US);
	if (n < 0)
		atr_warn("job log retention: the store failed (%s)", atr_strerror(n));
	if (total > 0)
		atr_info("job log retention: deleted the logs of %d job%s that ended over %lld days ago", total,
			 total == 1 ? "" : "s", (long long)d->app.cfg->job_log_retention_days);
}

static void on_housekeeping(uv_timer_t *t)
{
	struct daemon *d = t->data;
	atr_auth_flush(d->app.auth);
	if (atr_now_ms() - d->optimized_ms >= 600000) {
		d->optimized_ms = atr_now_ms();
		atr_store_optimize(d->app.store);
	}
	if (d->app.cfg->audit_retention_days > 0)
		atr_store_audit_prune(d->app.store, atr_now_ms() - d->app.cfg->audit_retention_days * 86400000LL);
	if (d->app.cfg->job_log_retention_days > 0)
		prune_job_logs(d);
}

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

/* Before the loop waits: the turn's reads end, its writes commit (group commit). */
static void on_end_read(uv_prepare_t *p)
{
	struct daemon *d = p->data;
	atr_store_end_read(d->app.store);
	atr_store_flush(d->app.store);
}

/* The parts below the API, each given what it uses (the modules below never see the app). */
static void tokens_revoked(void *cls)
{
	atr_auth_invalidate(cls);
}

static void worker_offline(void *cls, int64_t worker_id, const char *why)
{
	struct daemon *d = cls;
	atr_engine_worker_gone(d->app.engine, worker_id, why, true); /* out of contact: it may still run them */
}

static int start_parts(struct daemon *d)
{
	struct atr_app *a = &d->app;
	struct atr_registry_opts ro = { .loop = a->loop,
					.store = a->store,
					.metrics = a->metrics,
					.offline = worker_offline,
					.cls = d,
					.heartbeat_timeout_s = a->cfg->heartbeat_timeout_s };
	struct atr_dispatcher_opts dio = { .loop = a->loop, .store = a->store, .client = a->client };
	struct atr_engine_opts eo = { .loop = a->loop,
				      .store = a->store,
				      .metrics = a->metrics,
				      .tokens_revoked = tokens_revoked,
				      .cls = a->auth };
	struct atr_deploy_opts dpo = { .loop = a->loop,
				       .store = a->store,
				       .client = a->client,
				       .metrics = a->metrics,
				       .max_body = a->cfg->max_body_bytes,
				       .started_ms = a->started_ms };
	struct atr_sweeps_opts swo = { .loop = a->loop, .store = a->store, .metrics = a->metrics };
	int rc;

	struct atr_slurm_opts so = { .loop = a->loop,
				     .store = a->store,
				     .client = a->client,
				     .public_url = a->public_url,
				     .heartbeat_s = a->cfg->heartbeat_timeout_s / 3,
				     .blob_path = atr_blob_path,
				     .gc_interval_ms = a->cfg->gc_interval_s * 1000 };

	if (atr_registry_new(&ro, &a->registry) < 0)
		return ATR_EIO;
	dio.registry = a->registry;
	if (atr_slurm_new(&so, &a->slurm) < 0 || atr_cluster_links_new(a->slurm, &a->links) < 0)
		return ATR_ENOMEM;
	dio.slurm = a->slurm;
	if (atr_dispatcher_new(&dio, &a->dispatcher) < 0)
		return ATR_ENOMEM;
	eo.backend = atr_dispatcher_backend(a->dispatcher);
	if (atr_engine_new(&eo, &a->engine) < 0)
		return ATR_EDB;
	atr_slurm_start(a->slurm, a->engine);
	dpo.engine = a->engine;
	if ((rc = atr_deploy_new(&dpo, &a->deploy)) < 0)
		return rc;
	swo.engine = a->engine;
	if ((rc = atr_sweeps_new(&swo, &a->sweeps)) < 0)
		return rc;
	if ((rc = api_scorers_start(a)) < 0)
		return rc;
	if ((rc = api_compjobs_start(a)) < 0)
		return rc;
	if ((rc = api_compscorers_start(a)) < 0)
		return rc;
	return api_evaljobs_start(a);
}

/* In reverse: deployments watch the engine's jobs, the engine aborts what the dispatcher
 * sends, the dispatcher's transfers go before the client. */
static void stop_parts(struct daemon *d)
{
	struct atr_app *a = &d->app;

	api_evaljobs_stop(a);
	api_compscorers_stop(a);
	api_compjobs_stop(a);
	api_scorers_stop(a);
	atr_sweeps_free(a->sweeps); /* its trials watch the engine's jobs */
	a->sweeps = NULL;
	atr_deploy_free(a->deploy);
	a->deploy = NULL;
	atr_cluster_links_free(a->links); /* (its checks go before the client) */
	a->links = NULL;
	atr_slurm_stop(a->slurm);
	atr_engine_free(a->engine);
	a->engine = NULL;
	atr_dispatcher_free(a->dispatcher);
	a->dispatcher = NULL;
	atr_slurm_free(a->slurm);
	a->slurm = NULL;
	atr_registry_free(a->registry);
	a->registry = NULL;
}

static void close_loop_handles(struct daemon *d);

static void on_http_stopped(void *arg)
{
	struct daemon *d = arg;

	d->app.http = NULL;
	stop_parts(d);
	atr_auth_flush(d->app.auth);
	atr_client_free(d->app.client);
	d->app.client = NULL;
	atr_gc_free(d->app.gc);
	d->app.gc = NULL;
	close_loop_handles(d);
	atr_info("stopped");
}

/* The local worker deregisters over HTTP as it stops: the server stops after it. */
static void on_local_worker_stopped(void *arg)
{
	struct daemon *d = arg;
	d->local_worker = NULL;
	atr_server_shutdown(d->app.http, 10000, on_http_stopped, d);
}

#define LOCAL_WORKER_GRACE_S 10

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	if (d->stopping)
		return;
	d->stopping = true;
	atr_info("%s: finishing in-flight requests", signum == SIGINT ? "SIGINT" : "SIGTERM");
	uv_timer_stop(&d->housekeeping);
	if (d->local_worker)
		atr_local_worker_stop(d->local_worker, (LOCAL_WORKER_GRACE_S + 30) * 1000, on_local_worker_stopped, d);
	else
		atr_server_shutdown(d->app.http, 10000, on_http_stopped, d);
}

static int start_local_worker(struct daemon *d)
{
	char token[ATR_TOKEN_MAX], dir[1100];
	struct atr_local_worker_opts o = {
		.server = d->app.public_url,
		.join_token = token,
		.work_dir = dir,
		.grace_s = LOCAL_WORKER_GRACE_S,
		.ca_file = d->tls_cert_pem ? d->app.cfg->tls_cert : NULL /* (a self-signed one is its own CA) */
	};

	snprintf(dir, sizeof(dir), "%s/worker", d->app.store->data_dir);
	if (api_workers_local_join_token(&d->app, token) < 0) {
		fprintf(stderr, "atrium: cannot make a join token for the local worker\n");
		return ATR_EDB;
	}
	return atr_local_worker_start(d->app.loop, &o, &d->local_worker);
}

static void write_listen_file(struct daemon *d, int port)
{
	char path[1200], text[128];
	snprintf(path, sizeof(path), "%s/listen.addr", d->app.store->data_dir);
	snprintf(text, sizeof(text), "%s:%d\n", d->app.cfg->listen.host, port);
	if (write_secret_file(path, text) < 0)
		atr_warn("could not write '%s'", path);
}

static int start_http(struct daemon *d)
{
	struct atr_server_opts o = {
		.routes = atr_routes,
		.nroutes = atr_routes_count,
		.max_body = d->app.cfg->max_body_bytes,
		.max_upload = d->app.cfg->max_upload_bytes,
		.authenticate = authenticate,
		.basic_lookup = basic_lookup,
		.audit = api_audit_record,
		.fallback = api_web_fallback,
		.app = &d->app,
		.metrics = d->app.metrics,
		.resolve = api_resolve,
		.idem_get = api_idem_get,
		.idem_put = api_idem_put,
		.generation = store_generation,
		.uncommitted = store_uncommitted,
		.flush = store_flush,
		.access_log = true,
		.max_connections = (unsigned)d->app.cfg->max_connections,
		.conns_reserve = (unsigned)(d->app.cfg->max_connections / 8),
		.conns_per_address = (unsigned)d->app.cfg->max_connections_per_address,
		.head_timeout_ms = (uint64_t)d->app.cfg->head_timeout_s * 1000,
		.tls_cert_pem = d->tls_cert_pem,
		.tls_key_pem = d->tls_key_pem,
	};
	int rc = atr_server_start(d->app.loop, &d->app.cfg->listen, &o, &d->app.http);
	int port;

	if (rc < 0)
		return rc;
	port = atr_server_port(d->app.http);
	if (d->app.cfg->public_url[0])
		atr_copy(d->app.public_url, sizeof(d->app.public_url), d->app.cfg->public_url);
	else
		snprintf(d->app.public_url, sizeof(d->app.public_url), "%s://%s:%d", d->tls_cert_pem ? "https" : "http",
			 strcmp(d->app.cfg->listen.host, "0.0.0.0") == 0 ? "127.0.0.1" : d->app.cfg->listen.host, port);
	atr_info("atrium %s listening on %s:%d%s (data in %s)", ATRIUM_VERSION, d->app.cfg->listen.host, port,
		 d->tls_cert_pem ? " (HTTPS)" : "", d->app.cfg->data_dir);
	if (!d->tls_cert_pem && !listens_on_loopback(&d->app.cfg->listen))
		atr_warn("serving plain HTTP on %s: tokens and passwords travel in clear; serve HTTPS with --tls-cert "
			 "and --tls-key, or listen on loopback behind a TLS proxy",
			 d->app.cfg->listen.host);
	write_listen_file(d, port); /* (last: tests read the log once it exists) */
	return 0;
}

/* The loop's own handles: signals (a SIGTERM must mean a clean stop as soon as listen.addr
 * exists), the housekeeping timer, and the turn's end (reads end, writes commit). */
static void start_loop_handles(struct daemon *d, uv_loop_t *loop)
{
	uv_signal_init(loop, &d->sigint);
	uv_signal_init(loop, &d->sigterm);
	d->sigint.data = d->sigterm.data = d;
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_timer_init(loop, &d->housekeeping);
	d->housekeeping.data = d;
	/* Test hook (tests/integration/test_lifecycle.c): a handle nobody closes, as a forgotten
	 * one would be, so that a test sees the daemon name it and fail its exit. */
	if (getenv("ATRIUM_TEST_FORGET_HANDLE"))
		uv_timer_init(loop, &d->forgotten);
	uv_prepare_init(loop, &d->end_read);
	d->end_read.data = d;
	uv_prepare_start(&d->end_read, on_end_read);
	uv_unref((uv_handle_t *)&d->end_read);
}

static void close_loop_handles(struct daemon *d)
{
	uv_close((uv_handle_t *)&d->end_read, on_handle_closed);
	uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
	uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
	uv_close((uv_handle_t *)&d->housekeeping, on_handle_closed);
}

/* What serves before the loop runs: the garbage collector, tokens, metrics, the HTTP client. */
static int start_base(struct daemon *d, uv_loop_t *loop)
{
	const struct atr_serve_config *cfg = d->app.cfg;

	if (atr_gc_new(loop, d->app.store, &d->app.gc) < 0)
		return ATR_ENOMEM;
	/* background passes on the loop's idle time (atrium/gc.h) */
	atr_gc_schedule(d->app.gc, cfg->gc_interval_s * 1000, ATR_GC_GRACE_MS);
	if (atr_auth_new(d->app.store, &d->app.auth) < 0 ||
	    atr_metrics_new(atr_routes_count, route_label, NULL, &d->app.metrics) < 0 ||
	    atr_client_new(loop, &d->app.client) < 0)
		return ATR_ENOMEM;
	return 0;
}

int atr_serve_run(struct atr_serve_config *cfg)
{
	struct daemon d;
	uv_loop_t loop;

	memset(&d, 0, sizeof(d));
	d.exit_code = 1;
	atr_log_setup(cfg->log_level, cfg->log_json);
	signal(SIGPIPE, SIG_IGN);
	if (check_options(&d, cfg) < 0 || uv_loop_init(&loop) != 0) {
		free(d.tls_cert_pem);
		free(d.tls_key_pem);
		return 2;
	}
	d.app.loop = &loop;
	d.app.cfg = cfg;
	d.app.started_ms = atr_now_ms();
	if (atr_store_open(cfg->data_dir, strcmp(cfg->sync, "full") == 0, &d.app.store) < 0)
		goto out_loop;
	if (bootstrap_admin(d.app.store) < 0)
		goto out_store;
	/* From here on a loop turn's writes commit together (atrium/store.h), before any of
	 * them is answered. */
	atr_store_set_group_commit(d.app.store, true, on_commit, &d);
	if (start_base(&d, &loop) < 0)
		goto out_parts;
	start_loop_handles(&d, &loop);
	if (start_http(&d) < 0) {
		close_loop_handles(&d);
		uv_run(&loop, UV_RUN_DEFAULT);
		goto out_parts;
	}
	if (start_parts(&d) < 0 || (cfg->local_worker && start_local_worker(&d) < 0)) {
		atr_server_shutdown(d.app.http, 0, on_http_stopped, &d);
		uv_run(&loop, UV_RUN_DEFAULT);
		goto out_parts;
	}
	uv_timer_start(&d.housekeeping, on_housekeeping, (uint64_t)cfg->housekeeping_s * 1000,
		       (uint64_t)cfg->housekeeping_s * 1000);

	uv_run(&loop, UV_RUN_DEFAULT);
	d.exit_code = 0;
out_parts:
	stop_parts(&d);
	if (d.app.client || d.app.gc) {
		atr_client_free(d.app.client);
		atr_gc_free(d.app.gc);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	atr_metrics_free(d.app.metrics);
	atr_auth_free(d.app.auth);
out_store:
	atr_store_close(d.app.store);
out_loop:
	if (atr_loop_close(&loop) != 0 && d.exit_code == 0)
		d.exit_code = 1; /* a handle was left open: a bug, which fails the exit (and its test) */
	free(d.tls_cert_pem);
	free(d.tls_key_pem);
	return d.exit_code;
}
