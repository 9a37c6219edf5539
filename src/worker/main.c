/*
 * main.c (worker): `atrium worker`. Checks the options, starts the agent's parts on one
 * libuv loop (its HTTP API, the curl client, signals), finds the GPUs, registers, and on
 * SIGTERM/SIGINT stops in order: no new jobs, --grace seconds for running ones, cancel
 * what is left, ship logs and reports, deregister, close every handle, exit 0.
 */
#include "agent.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/server.h"
#include "atrium/util.h"
#include "atrium/worker.h"

#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_TICK_MS 200
#define REPORT_GRACE_MS 15000 /* after the kill grace: time left to ship logs and reports */

int atr_worker_labels_parse(const char *s, json_t **out, char *err, size_t errlen)
{
	json_t *o = json_object();
	const char *p = s;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return ATR_ENOMEM;
	}
	while (*p) {
		const char *end = strchr(p, ','), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[600], *k, *v, *e;

		if (n >= sizeof(item)) {
			snprintf(err, errlen, "label '%.40s...' is too long", p);
			goto bad;
		}
		memcpy(item, p, n);
		item[n] = 0;
		p += n + (end ? 1 : 0);
		for (k = item; isspace((unsigned char)*k); k++)
			;
		for (e = k + strlen(k); e > k && isspace((unsigned char)e[-1]); e--)
			*(e - 1) = 0;
		if (!*k)
			continue;
		eq = strchr(k, '=');
		if (!eq || eq == k) {
			snprintf(err, errlen, "label '%s' is not KEY=VALUE", k);
			goto bad;
		}
		v = (char *)eq + 1;
		*(char *)eq = 0;
		for (const char *c = k; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("-_./", *c)) {
				snprintf(err, errlen,
					 "label name '%s' may only have letters, digits and '-', '_', '.', '/'", k);
				goto bad;
			}
		if (strlen(k) > 63 || strlen(v) > 255) {
			snprintf(err, errlen, "label '%s' is too long (names up to 63 bytes, values up to 255)", k);
			goto bad;
		}
		json_object_set_new(o, k, json_string(v));
	}
	*out = o;
	return 0;
bad:
	json_decref(o);
	return ATR_EINVAL;
}

/* ---- stopping ---- */

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_http_stopped(void *arg)
{
	struct agent *a = arg;
	a->http = NULL;
}

static void close_all(struct agent *a)
{
	if (a->closing)
		return;
	a->closing = true;
	agent_jobs_drop_all(a);
	atr_gpu_probe_cancel(a->probe);
	a->probe = NULL;
	a->reg_xfer = a->hb_xfer = a->dereg_xfer = NULL; /* cancelled by atr_client_free */
	atr_client_free(a->client);
	a->client = NULL;
	uv_close((uv_handle_t *)&a->reg_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->hb_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->stop_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->hk_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->fence_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->sigterm, on_handle_closed);
	uv_close((uv_handle_t *)&a->sigint, on_handle_closed);
	if (a->http)
		atr_server_shutdown(a->http, 2000, on_http_stopped, a);
	atr_info("stopped");
}

static void stop_step(struct agent *a)
{
	uint64_t ms = (atr_mono_us() - a->stop_started_us) / 1000, grace = (uint64_t)a->cfg->grace_s * 1000;

	if (a->closing)
		return;
	if (a->njobs > 0) {
		if (!a->cancelled_all && ms >= grace) {
			atr_warn("grace period over: cancelling %d job%s", a->njobs, a->njobs == 1 ? "" : "s");
			a->cancelled_all = true;
			agent_jobs_cancel_all(a);
		}
		if (ms < grace + AGENT_KILL_GRACE_MS + REPORT_GRACE_MS)
			return;
		agent_jobs_drop_all(a);
	}
	if (a->dereg_xfer)
		return;
	if (a->registered) {
		agent_deregister(a); /* comes back here when answered */
		return;
	}
	close_all(a);
}

static void on_stop_tick(uv_timer_t *t)
{
	stop_step(t->data);
}

void agent_stop(struct agent *a, int exit_code)
{
	if (!a->stopping) {
		a->stopping = true;
		a->exit_code = exit_code;
		a->stop_started_us = atr_mono_us();
		uv_timer_stop(&a->hb_timer);
		uv_timer_stop(&a->reg_timer);
		if (a->reg_xfer) {
			atr_client_cancel(a->reg_xfer);
			a->reg_xfer = NULL;
		}
		if (a->hb_xfer) {
			atr_client_cancel(a->hb_xfer);
			a->hb_xfer = NULL;
		}
		atr_gpu_probe_cancel(a->probe);
		a->probe = NULL;
		agent_jobs_cancel_preparing(a); /* they would be cancelled before they ran */
		if (a->njobs)
			atr_info("stopping: no new jobs; %d running job%s get up to %lld s", a->njobs,
				 a->njobs == 1 ? "" : "s", (long long)a->cfg->grace_s);
	}
	/* go on from the timer, never from inside the caller (often a curl callback) */
	if (!a->closing)
		uv_timer_start(&a->stop_timer, on_stop_tick, 0, STOP_TICK_MS);
}

void agent_job_gone(struct agent *a)
{
	if (a->stopping && !a->closing)
		uv_timer_start(&a->stop_timer, on_stop_tick, 0, STOP_TICK_MS); /* not from inside the job's callback */
}

bool agent_parent_alive(struct agent *a)
{
	if (a->parent_pid <= 0 || getppid() == a->parent_pid)
		return true;
	if (!a->stopping) {
		atr_warn("the server that started this worker (pid %d) is gone: stopping", (int)a->parent_pid);
		agent_stop(a, 0);
	}
	return false;
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct agent *a = s->data;

	if (signum == SIGINT && a->parent_pid > 0)
		return; /* a Ctrl-C meant for the server, which stops this worker with SIGTERM */

	if (a->stopping) {
		if (!a->cancelled_all) {
			atr_warn("second %s: cancelling running jobs now", signum == SIGINT ? "SIGINT" : "SIGTERM");
			a->cancelled_all = true;
			agent_jobs_cancel_all(a);
		}
		return;
	}
	atr_info("%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
	agent_stop(a, 0);
}

/* ---- starting ---- */

static int check_options(struct agent *a, struct atr_worker_config *cfg)
{
	char err[300], host[256], abs[PATH_MAX];
	ssize_t len;
	size_t n;

	if (!cfg->server[0] || (strncmp(cfg->server, "http://", 7) != 0 && strncmp(cfg->server, "https://", 8) != 0)) {
		fprintf(stderr, "atrium: --server must be the server's URL (http://HOST:PORT)\n");
		return ATR_EINVAL;
	}
	if (!cfg->join_token[0]) {
		fprintf(stderr,
			"atrium: --join-token is required (an admin makes one: POST /api/v1/workers/join-tokens)\n");
		return ATR_EINVAL;
	}
	atr_copy(a->server, sizeof(a->server), cfg->server);
	n = strlen(a->server);
	while (n > 0 && a->server[n - 1] == '/')
		a->server[--n] = 0;
	if (atr_worker_labels_parse(cfg->labels, &a->labels, err, sizeof(err)) < 0) {
		fprintf(stderr, "atrium: --labels: %s\n", err);
		return ATR_EINVAL;
	}
	if (cfg->name[0]) {
		atr_copy(a->name, sizeof(a->name), cfg->name);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "worker");
		host[sizeof(host) - 1] = 0;
		atr_copy(a->name, sizeof(a->name), host);
	}
	for (const char *p = a->name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p)) {
			fprintf(stderr, "atrium: --name: '%s' may only have letters, digits, '-', '_' and '.'\n",
				a->name);
			return ATR_EINVAL;
		}
	if (atr_mkdirs(cfg->work_dir, 0750) < 0 || !realpath(cfg->work_dir, abs) ||
	    strlen(abs) >= sizeof(a->work_dir)) {
		fprintf(stderr, "atrium: --work-dir: cannot create '%s'\n", cfg->work_dir);
		return ATR_EINVAL;
	}
	atr_copy(a->work_dir, sizeof(a->work_dir), abs);
	/* every job runs under `<this executable> job-shim` (shim.c): it must be there */
	len = readlink("/proc/self/exe", a->exe, sizeof(a->exe) - 1);
	if (len > 0 && (size_t)len < sizeof(a->exe) - 1)
		a->exe[len] = 0;
	if (len <= 0 || (size_t)len >= sizeof(a->exe) - 1 || access(a->exe, X_OK) < 0) {
		fprintf(stderr,
			"atrium: cannot find this program's own executable (/proc/self/exe), which runs jobs\n");
		return ATR_EINVAL;
	}
	a->fake_gpus = atr_gpu_fake_count();
	if (getenv("ATRIUM_PARENT_PID")) {
		int64_t pid;
		if (atr_parse_i64(getenv("ATRIUM_PARENT_PID"), 1, INT32_MAX, &pid) == 0)
			a->parent_pid = (pid_t)pid;
	}
	return 0;
}

static int start_http(struct agent *a)
{
	struct atr_server_opts o = {
		.routes = agent_routes,
		.nroutes = agent_routes_count,
		.max_body = 32u << 20, /* a dispatch body lists every input file (up to STAGE_MAX_FILES) */
		.max_upload = 1u << 20,
		.authenticate = agent_authenticate,
		.app = a,
		.access_log = atr_log_enabled(ATR_LOG_DEBUG),
	};
	char host[256];
	int rc = atr_server_start(a->loop, &a->cfg->listen, &o, &a->http);

	if (rc < 0)
		return rc;
	if (a->cfg->advertise[0])
		atr_copy(host, sizeof(host), a->cfg->advertise);
	else if (strcmp(a->cfg->listen.host, "0.0.0.0") == 0 && gethostname(host, sizeof(host)) == 0)
		host[sizeof(host) - 1] = 0;
	else
		atr_copy(host, sizeof(host), a->cfg->listen.host);
	snprintf(a->url, sizeof(a->url), "http://%s:%d", host, atr_server_port(a->http));
	return 0;
}

int atr_worker_main(struct atr_worker_config *cfg)
{
	struct agent *a = calloc(1, sizeof(*a));
	uv_loop_t loop;
	int rc = 1;

	if (!a)
		return 1;
	atr_log_setup(cfg->log_level, cfg->log_json);
	a->cfg = cfg;
	a->loop = &loop;
	a->disk_total_mb = a->disk_free_mb = -1;
	if (check_options(a, cfg) < 0) {
		json_decref(a->labels);
		free(a);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&loop) != 0 || atr_client_new(&loop, &a->client) < 0 ||
	    atr_client_set_ca_file(a->client, cfg->ca_file) < 0) {
		json_decref(a->labels);
		free(a);
		return 1;
	}
	uv_timer_init(&loop, &a->reg_timer);
	uv_timer_init(&loop, &a->hb_timer);
	uv_timer_init(&loop, &a->stop_timer);
	uv_timer_init(&loop, &a->hk_timer);
	uv_timer_init(&loop, &a->fence_timer);
	uv_signal_init(&loop, &a->sigterm);
	uv_signal_init(&loop, &a->sigint);
	a->reg_timer.data = a->hb_timer.data = a->stop_timer.data = a->hk_timer.data = a->fence_timer.data =
		a->sigterm.data = a->sigint.data = a;
	if (start_http(a) < 0) {
		a->exit_code = 1;
		close_all(a);
	} else {
		uv_signal_start(&a->sigterm, on_signal, SIGTERM);
		uv_signal_start(&a->sigint, on_signal, SIGINT);
		atr_info("worker '%s' starting: API at %s, work dir %s, server %s", a->name, a->url, a->work_dir,
			 a->server);
		agent_jobs_sweep(a->work_dir); /* before any new job, and before the GPU inventory */
		agent_probe_then(a, false);    /* then registers */
		agent_housekeeping_start(a);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	rc = a->exit_code;
	if (atr_loop_close(&loop) != 0)
		rc = rc ? rc : 1;
	json_decref(a->labels);
	free(a);
	return rc;
}
