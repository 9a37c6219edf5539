/*
 * local.c: `atrium serve --local-worker` keeps one `atrium worker` child running beside the
 * server: spawned with uv_spawn from /proc/self/exe, restarted with backoff when it dies,
 * SIGTERMed and waited for when the server stops. It is a supervisor only: the child talks
 * to the server over HTTP like any other worker.
 */
#include "atrium/worker.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define STABLE_MS 60000 /* a child that ran this long resets the backoff */

struct child {
	uv_process_t proc;
	struct atr_local_worker *lw;
};

struct atr_local_worker {
	uv_loop_t *loop;
	struct child *child; /* the running worker, or NULL */
	uv_timer_t restart, kill;
	bool stopping, timers_closing;
	int open_timers;
	int children; /* child structs not yet freed (running or closing) */
	char server[256], token[128], work_dir[1100], name[64];
	char ca_file[1024]; /* "": none */
	char grace[24];
	uint64_t backoff_ms;
	uint64_t started_us;
	void (*done)(void *);
	void *done_arg;
};

static void spawn_child(struct atr_local_worker *lw);

static void timer_closed(uv_handle_t *h)
{
	struct atr_local_worker *lw = h->data;
	if (--lw->open_timers > 0)
		return;
	if (lw->done)
		lw->done(lw->done_arg);
	free(lw);
}

static void close_timers(struct atr_local_worker *lw)
{
	if (lw->timers_closing || lw->children > 0)
		return;
	lw->timers_closing = true;
	uv_close((uv_handle_t *)&lw->restart, timer_closed);
	uv_close((uv_handle_t *)&lw->kill, timer_closed);
}

static void child_closed(uv_handle_t *h)
{
	struct child *c = h->data;
	struct atr_local_worker *lw = c->lw;
	free(c);
	lw->children--;
	if (lw->stopping)
		close_timers(lw);
}

static void on_restart(uv_timer_t *t)
{
	spawn_child(t->data);
}

static void backoff(struct atr_local_worker *lw)
{
	lw->backoff_ms = lw->backoff_ms ? lw->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (lw->backoff_ms > BACKOFF_MAX_MS)
		lw->backoff_ms = BACKOFF_MAX_MS;
	uv_timer_start(&lw->restart, on_restart, lw->backoff_ms, 0);
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig)
{
	struct child *c = p->data;
	struct atr_local_worker *lw = c->lw;
	uint64_t ran_ms = (atr_mono_us() - lw->started_us) / 1000;

	lw->child = NULL;
	uv_timer_stop(&lw->kill);
	uv_close((uv_handle_t *)p, child_closed);
	if (lw->stopping) {
		atr_info("local worker stopped (%s %lld)", sig ? "signal" : "status", (long long)(sig ? sig : status));
		return;
	}
	if (ran_ms >= STABLE_MS)
		lw->backoff_ms = 0;
	backoff(lw);
	atr_warn("local worker exited (%s %lld); starting it again in %.0f s", sig ? "signal" : "status",
		 (long long)(sig ? sig : status), (double)lw->backoff_ms / 1000.0);
}

/* The server's environment without ATRIUM_* (they configure the server, not the worker),
 * plus the worker's join token and ATRIUM_PARENT_PID: the worker then leaves SIGINT (a
 * Ctrl-C reaches the whole process group) to the server, which stops it with SIGTERM, and
 * stops by itself if the server dies. */
static char **child_env(const char *token)
{
	extern char **environ;
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "ATRIUM_", 7) != 0 || strncmp(environ[i], "ATRIUM_FAKE_GPUS=", 17) == 0 ||
		    strncmp(environ[i], "ATRIUM_NVIDIA_SMI=", 18) == 0 || strncmp(environ[i], "ATRIUM_LOG_", 11) == 0)
			env[k++] = environ[i];
	/* one allocation holds both added lines, so the caller frees just the last entry */
	env[k + 1] = malloc(strlen(token) + 64);
	if (!env[k + 1]) {
		free(env);
		return NULL;
	}
	snprintf(env[k + 1], strlen(token) + 64, "ATRIUM_JOIN_TOKEN=%s", token);
	env[k] = env[k + 1] + strlen(env[k + 1]) + 1;
	snprintf(env[k], 30, "ATRIUM_PARENT_PID=%d", (int)getpid());
	return env;
}

static void spawn_child(struct atr_local_worker *lw)
{
	char *args[] = { (char *)"atrium",
			 (char *)"worker",
			 (char *)"--server",
			 lw->server,
			 (char *)"--listen",
			 (char *)"127.0.0.1:0",
			 (char *)"--name",
			 lw->name,
			 (char *)"--work-dir",
			 lw->work_dir,
			 (char *)"--grace",
			 lw->grace,
			 lw->ca_file[0] ? (char *)"--ca-file" : NULL,
			 lw->ca_file,
			 NULL };
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	struct child *c = calloc(1, sizeof(*c));
	char **env = c ? child_env(lw->token) : NULL;
	int rc;

	if (!env) {
		free(c);
		atr_error("cannot start the local worker: out of memory");
		backoff(lw);
		return;
	}
	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD; /* the worker logs where the server logs */
	stdio[1].data.fd = 1;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	o.file = "/proc/self/exe";
	o.args = args;
	o.env = env;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = on_child_exit;
	c->lw = lw;
	c->proc.data = c;
	lw->children++;
	rc = uv_spawn(lw->loop, &c->proc, &o);
	for (size_t i = 0; env[i]; i++)
		if (!env[i + 1])
			free(env[i]); /* the join token line, the only one allocated here */
	free(env);
	if (rc < 0) {
		uv_close((uv_handle_t *)&c->proc, child_closed);
		backoff(lw);
		atr_error("cannot start the local worker: %s; trying again in %.0f s", uv_strerror(rc),
			  (double)lw->backoff_ms / 1000.0);
		return;
	}
	lw->child = c;
	lw->started_us = atr_mono_us();
	atr_info("local worker '%s' started (pid %d)", lw->name, c->proc.pid);
}

int atr_local_worker_start(uv_loop_t *loop, const struct atr_local_worker_opts *o, struct atr_local_worker **out)
{
	struct atr_local_worker *lw = calloc(1, sizeof(*lw));
	char host[200];

	if (!lw)
		return ATR_ENOMEM;
	lw->loop = loop;
	atr_copy(lw->server, sizeof(lw->server), o->server);
	atr_copy(lw->ca_file, sizeof(lw->ca_file), o->ca_file ? o->ca_file : "");
	atr_copy(lw->token, sizeof(lw->token), o->join_token);
	atr_copy(lw->work_dir, sizeof(lw->work_dir), o->work_dir);
	snprintf(lw->grace, sizeof(lw->grace), "%lld", (long long)o->grace_s);
	if (o->name) {
		atr_copy(lw->name, sizeof(lw->name), o->name);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "host");
		host[sizeof(host) - 1] = 0;
		snprintf(lw->name, sizeof(lw->name), "local-%s", host);
		for (char *p = lw->name; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			      *p == '-' || *p == '_' || *p == '.'))
				*p = '-';
	}
	uv_timer_init(loop, &lw->restart);
	uv_timer_init(loop, &lw->kill);
	lw->restart.data = lw->kill.data = lw;
	lw->open_timers = 2;
	spawn_child(lw);
	*out = lw;
	return 0;
}

static void on_kill(uv_timer_t *t)
{
	struct atr_local_worker *lw = t->data;
	if (lw->child) {
		atr_warn("the local worker did not stop in time; killing it");
		uv_process_kill(&lw->child->proc, SIGKILL);
	}
}

void atr_local_worker_stop(struct atr_local_worker *lw, uint64_t kill_after_ms, void (*done)(void *arg), void *arg)
{
	if (lw->stopping)
		return;
	lw->stopping = true;
	lw->done = done;
	lw->done_arg = arg;
	uv_timer_stop(&lw->restart);
	if (!lw->child) {
		close_timers(lw); /* or child_closed does, when a child is still closing */
		return;
	}
	uv_process_kill(&lw->child->proc, SIGTERM);
	uv_timer_start(&lw->kill, on_kill, kill_after_ms, 0);
}
