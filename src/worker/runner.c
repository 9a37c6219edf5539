/*
 * runner.c: one job as a child process on the loop: its folder, environment, process group,
 * output pipe, timeout, cancel (SIGTERM to the group, SIGKILL after the grace period) and
 * final state. The child is the job shim (shim.c: the agent's own executable), which runs the
 * command in its process group and dies with the agent; its status pipe (its fd 3) says when
 * the command could not be exec'd. It knows nothing of HTTP or of the server: jobs.c ships
 * the log and reports.
 */
#include "atrium/worker_runner.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

#define DRAIN_MS 2000	  /* after the main process ended, how long the pipe may stay open */
#define SHIM_KILL_MS 1000 /* after asking the shim to kill everything, SIGKILL to the group */

enum kill_reason { KILL_NONE, KILL_CANCEL, KILL_TIMEOUT, KILL_STOP };

struct atr_proc {
	uv_process_t proc;
	uv_pipe_t out;
	uv_pipe_t status; /* the shim's fd 3: the errno of a failed exec, then EOF */
	uv_timer_t timeout, grace, drain;
	int open_handles;
	struct atr_spool own;	 /* the log, when the caller gave none */
	struct atr_spool *spool; /* the log written into: &own or the caller's */
	const struct atr_proc_ops *ops;
	void *cls;
	int64_t id;
	uint64_t grace_ms;
	pid_t pid;
	enum atr_proc_state state;
	enum kill_reason reason;
	int exit_code, sig;
	int64_t started_at, ended_at;
	bool spawned, exited, eof, status_eof, finished, term_sent, shim_killing, freeing;
	unsigned char exec_err[sizeof(int)]; /* from the status pipe */
	size_t exec_err_len;
	char file[300]; /* the command's program, for "cannot start" */
	char dir[1100];
	char message[300];
	char stop_message[300]; /* KILL_STOP: the reason given */
	char readbuf[65536];
};

const char *atr_proc_state_name(enum atr_proc_state s)
{
	switch (s) {
	case ATR_PROC_RUNNING:
		return "running";
	case ATR_PROC_SUCCEEDED:
		return "succeeded";
	case ATR_PROC_FAILED:
		return "failed";
	case ATR_PROC_CANCELLED:
		return "cancelled";
	case ATR_PROC_TIMEOUT:
		return "timeout";
	}
	return "failed";
}

/* ---- environment ---- */

struct envb {
	char **v;
	size_t n, cap;
};

static size_t name_len(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (size_t)(eq - e) : 0;
}

static bool env_has(const struct envb *b, const char *e, size_t nl)
{
	for (size_t i = 0; i < b->n; i++)
		if (name_len(b->v[i]) == nl && strncmp(b->v[i], e, nl) == 0)
			return true;
	return false;
}

/* Adds "NAME=value" (copied) unless NAME is already there; 0 or ATR_ENOMEM. */
static int env_add(struct envb *b, const char *e)
{
	size_t nl = name_len(e);
	char *c;

	if (nl == 0 || env_has(b, e, nl))
		return 0;
	if (b->n + 2 > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		char **nv = realloc(b->v, ncap * sizeof(*nv));
		if (!nv)
			return ATR_ENOMEM;
		b->v = nv;
		b->cap = ncap;
	}
	c = strdup(e);
	if (!c)
		return ATR_ENOMEM;
	b->v[b->n++] = c;
	b->v[b->n] = NULL;
	return 0;
}

static int env_addf(struct envb *b, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *tmp = malloc(n);
	int rc;
	if (!tmp)
		return ATR_ENOMEM;
	snprintf(tmp, n, "%s=%s", name, value);
	rc = env_add(b, tmp);
	free(tmp);
	return rc;
}

static void env_free(struct envb *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i]);
	free(b->v);
}

/* What the job is given first wins: the fixed variables, then spec->env, then the worker's own. */
static int build_env(const struct atr_proc_spec *s, const char *dir, struct envb *b)
{
	char gpus[512], num[32], path[1200];
	size_t off = 0;
	int rc = 0;

	gpus[0] = 0;
	for (int i = 0; i < s->ngpus && off + 8 < sizeof(gpus); i++)
		off += (size_t)snprintf(gpus + off, sizeof(gpus) - off, "%s%d", i ? "," : "", s->gpus[i]);
	rc |= env_addf(b, "CUDA_VISIBLE_DEVICES", gpus);
	/* the indices are nvidia-smi's, which count in PCI bus order; CUDA's default order is
	 * fastest first, which differs on mixed hosts */
	rc |= env_addf(b, "CUDA_DEVICE_ORDER", "PCI_BUS_ID");
	rc |= env_addf(b, "ATRIUM_URL", s->url ? s->url : "");
	rc |= env_addf(b, "ATRIUM_TOKEN", s->token ? s->token : "");
	snprintf(num, sizeof(num), "%lld", (long long)s->id);
	rc |= env_addf(b, "ATRIUM_JOB_ID", num);
	if (s->run_id > 0)
		snprintf(num, sizeof(num), "%lld", (long long)s->run_id);
	else
		num[0] = 0;
	rc |= env_addf(b, "ATRIUM_RUN_ID", num);
	snprintf(path, sizeof(path), "%s/input", dir);
	rc |= env_addf(b, "ATRIUM_INPUT_DIR", path);
	snprintf(path, sizeof(path), "%s/output", dir);
	rc |= env_addf(b, "ATRIUM_OUTPUT_DIR", path);
	if (s->port > 0) {
		snprintf(num, sizeof(num), "%d", s->port);
		rc |= env_addf(b, "PORT", num);
	}
	for (const char *const *e = s->env; e && *e && rc == 0; e++)
		rc |= env_add(b, *e);
	/* the worker's own settings (its join token among them) never reach a job */
	for (char **e = environ; e && *e && rc == 0; e++)
		if (strncmp(*e, "ATRIUM_", 7) != 0)
			rc |= env_add(b, *e);
	return rc ? ATR_ENOMEM : 0;
}

/* ---- lifecycle ---- */

static void handle_closed(uv_handle_t *h)
{
	struct atr_proc *p = h->data;
	if (--p->open_handles > 0)
		return;
	atr_spool_close(&p->own);
	free(p);
}

/* The command could not be exec'd (the shim said so): the job failed to start. */
static void exec_failed(struct atr_proc *p)
{
	char line[400];
	int err;

	memcpy(&err, p->exec_err, sizeof(err));
	p->state = ATR_PROC_FAILED;
	p->exit_code = -1;
	p->sig = 0;
	snprintf(p->message, sizeof(p->message), "cannot start '%s': %s", p->file, uv_strerror(-err));
	snprintf(line, sizeof(line), "atrium: %s\n", p->message);
	atr_spool_append(p->spool, line, strlen(line));
}

static void maybe_finish(struct atr_proc *p)
{
	if (p->finished || !p->exited || !p->eof || !p->status_eof)
		return;
	if (p->exec_err_len == sizeof(p->exec_err))
		exec_failed(p);
	p->finished = true;
	uv_timer_stop(&p->drain);
	uv_timer_stop(&p->grace);
	uv_timer_stop(&p->timeout);
	if (p->ops->done && !p->freeing)
		p->ops->done(p->cls, p);
}

static void stop_reading(struct atr_proc *p)
{
	if (!p->eof) {
		p->eof = true;
		uv_read_stop((uv_stream_t *)&p->out);
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct atr_proc *p = h->data;
	(void)hint;
	b->base = p->readbuf;
	b->len = sizeof(p->readbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct atr_proc *p = s->data;
	if (n > 0) {
		atr_spool_append(p->spool, b->base, (size_t)n);
		if (p->ops->output)
			p->ops->output(p->cls, p);
		return;
	}
	if (n < 0) {
		stop_reading(p);
		maybe_finish(p);
	}
}

static void stop_status(struct atr_proc *p)
{
	if (!p->status_eof) {
		p->status_eof = true;
		uv_read_stop((uv_stream_t *)&p->status);
	}
}

static void on_status_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct atr_proc *p = h->data;
	(void)hint;
	b->base = (char *)p->exec_err + p->exec_err_len;
	b->len = sizeof(p->exec_err) - p->exec_err_len;
}

static void on_status(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct atr_proc *p = s->data;
	(void)b;
	if (n > 0)
		p->exec_err_len += (size_t)n;
	if (n < 0 || p->exec_err_len == sizeof(p->exec_err)) {
		stop_status(p);
		maybe_finish(p);
	}
}

static void on_drain(uv_timer_t *t)
{
	struct atr_proc *p = t->data;
	/* something that left the group (setsid) still holds the pipe: stop waiting for it */
	stop_reading(p);
	stop_status(p);
	maybe_finish(p);
}

static void kill_group(struct atr_proc *p, int sig)
{
	if (p->pid > 0 && kill(-p->pid, sig) < 0 && errno != ESRCH)
		atr_warn("job %lld: cannot signal process group %d: %s", (long long)p->id, (int)p->pid,
			 strerror(errno));
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
	struct atr_proc *p = proc->data;

	p->exited = true;
	p->ended_at = atr_now_ms();
	p->sig = sig;
	p->exit_code = sig ? -1 : (int)status;
	if (p->reason == KILL_TIMEOUT) {
		p->state = ATR_PROC_TIMEOUT;
		snprintf(p->message, sizeof(p->message), "stopped after its time limit");
	} else if (p->reason == KILL_CANCEL) {
		p->state = ATR_PROC_CANCELLED;
		snprintf(p->message, sizeof(p->message), "cancelled");
	} else if (p->reason == KILL_STOP) {
		p->state = ATR_PROC_CANCELLED;
		snprintf(p->message, sizeof(p->message), "%s", p->stop_message);
	} else if (sig) {
		p->state = ATR_PROC_FAILED;
		snprintf(p->message, sizeof(p->message), "killed by signal %d (%s)", sig, strsignal(sig));
	} else if (status == 0) {
		p->state = ATR_PROC_SUCCEEDED;
		snprintf(p->message, sizeof(p->message), "exited with status 0");
	} else {
		p->state = ATR_PROC_FAILED;
		snprintf(p->message, sizeof(p->message), "exited with status %lld", (long long)status);
	}
	/* what the job left running in its group dies with it */
	kill_group(p, SIGKILL);
	uv_timer_stop(&p->timeout);
	uv_timer_stop(&p->grace);
	uv_timer_start(&p->drain, on_drain, DRAIN_MS, 0);
	maybe_finish(p);
}

/* The grace period is over: the shim SIGKILLs everything below it (what left the group
 * too), then the group and itself; SIGKILL to the group a little later, should it not. */
static void on_grace(uv_timer_t *t)
{
	struct atr_proc *p = t->data;

	if (p->exited)
		return;
	if (!p->shim_killing && p->pid > 0 && kill(p->pid, ATR_SHIM_KILL_SIG) == 0) {
		p->shim_killing = true;
		uv_timer_start(&p->grace, on_grace, SHIM_KILL_MS, 0);
		return;
	}
	kill_group(p, SIGKILL);
}

/* SIGTERM now (once), SIGKILL after grace_ms: the sooner of this and an earlier call's. */
static void terminate(struct atr_proc *p, enum kill_reason why, uint64_t grace_ms)
{
	if (p->exited)
		return;
	if (p->term_sent) {
		if (!p->shim_killing && uv_is_active((uv_handle_t *)&p->grace) &&
		    uv_timer_get_due_in(&p->grace) > grace_ms)
			uv_timer_start(&p->grace, on_grace, grace_ms, 0);
		return;
	}
	p->term_sent = true;
	p->reason = why;
	kill_group(p, SIGTERM);
	uv_timer_start(&p->grace, on_grace, grace_ms, 0);
}

static void on_timeout(uv_timer_t *t)
{
	struct atr_proc *p = t->data;
	terminate(p, KILL_TIMEOUT, p->grace_ms);
}

void atr_proc_cancel(struct atr_proc *p)
{
	terminate(p, KILL_CANCEL, p->grace_ms);
}

void atr_proc_stop(struct atr_proc *p, uint64_t grace_ms, const char *message)
{
	if (!p->term_sent)
		snprintf(p->stop_message, sizeof(p->stop_message), "%s", message);
	terminate(p, KILL_STOP, grace_ms);
}

/* The program could not be exec'd: the job ends now (done runs from the drain timer). */
static void spawn_failed(struct atr_proc *p, const char *what, int err)
{
	char line[400];

	p->exited = true; /* eof comes from the timer, so done runs after atr_proc_start returned */
	p->status_eof = true;
	p->ended_at = atr_now_ms();
	p->state = ATR_PROC_FAILED;
	p->exit_code = -1;
	snprintf(p->message, sizeof(p->message), "cannot start '%s': %s", what, uv_strerror(err));
	snprintf(line, sizeof(line), "atrium: %s\n", p->message);
	atr_spool_append(p->spool, line, strlen(line));
	uv_timer_start(&p->drain, on_drain, 0, 0);
}

static int make_dirs(const struct atr_proc_spec *s, struct atr_proc *p)
{
	char sub[1200];

	snprintf(p->dir, sizeof(p->dir), "%s/jobs/%lld", s->work_root, (long long)s->id);
	snprintf(sub, sizeof(sub), "%s/input", p->dir);
	if (atr_mkdirs(sub, 0750) < 0)
		return ATR_EIO;
	snprintf(sub, sizeof(sub), "%s/output", p->dir);
	if (atr_mkdirs(sub, 0750) < 0)
		return ATR_EIO;
	if (s->spool) {
		p->spool = s->spool;
		return 0;
	}
	p->spool = &p->own;
	snprintf(sub, sizeof(sub), "%s/log", p->dir);
	return atr_spool_open(&p->own, sub, s->log_mem_cap);
}

/* `SHIM job-shim AGENT_PID [--exec /bin/sh] -- ARGV...` (NULL-terminated; caller frees the
 * array, its strings are borrowed but for the pid, kept in pidbuf). */
static const char **shim_args(const struct atr_proc_spec *s, char *pidbuf, size_t pidlen)
{
	const char *sh_args[] = { "sh", "-c", s->shell, NULL };
	const char *const *cmd = s->argv ? s->argv : sh_args;
	size_t n = 0, k = 0;
	const char **v;

	while (cmd[n])
		n++;
	if (!(v = calloc(n + 8, sizeof(*v))))
		return NULL;
	snprintf(pidbuf, pidlen, "%d", (int)getpid());
	v[k++] = s->shim;
	v[k++] = "job-shim";
	v[k++] = pidbuf;
	if (!s->argv) {
		v[k++] = "--exec";
		v[k++] = "/bin/sh";
	}
	v[k++] = "--";
	for (size_t i = 0; i < n; i++)
		v[k++] = cmd[i];
	v[k] = NULL;
	return v;
}

/* The handles a job owns, each closed (and counted down) by atr_proc_free. */
static void init_handles(uv_loop_t *loop, struct atr_proc *p)
{
	uv_pipe_init(loop, &p->out, 0);
	uv_pipe_init(loop, &p->status, 0);
	uv_timer_init(loop, &p->timeout);
	uv_timer_init(loop, &p->grace);
	uv_timer_init(loop, &p->drain);
	p->proc.data = p->out.data = p->status.data = p->timeout.data = p->grace.data = p->drain.data = p;
	p->open_handles = 6;
}

/*
 * Spawns the shim (which runs the command: shim.c) in its own session and process group: the
 * command's output on fds[1] (stdout and stderr), the shim's word on a failed exec on sfds[1]
 * (its fd 3). On failure the job ends at once (spawn_failed).
 */
static void spawn(uv_loop_t *loop, struct atr_proc *p, const struct atr_proc_spec *spec, const char **args, char **env,
		  uv_file fds[2], uv_file sfds[2])
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[4];
	int rc;

	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = fds[1];
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = fds[1];
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = sfds[1];
	o.file = spec->shim;
	o.args = (char **)args;
	o.env = env; /* the shim's environment is the command's: it adds nothing */
	o.cwd = p->dir;
	o.flags = UV_PROCESS_DETACHED; /* setsid(): its own session and process group */
	o.stdio = stdio;
	o.stdio_count = 4;
	o.exit_cb = on_exit_cb;
	rc = uv_spawn(loop, &p->proc, &o);
	close(fds[1]);
	close(sfds[1]);
	if (rc < 0) {
		close(fds[0]);
		close(sfds[0]);
		spawn_failed(p, o.file, rc);
		return;
	}
	p->spawned = true;
	p->pid = p->proc.pid;
	uv_pipe_open(&p->out, fds[0]);
	uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
	uv_pipe_open(&p->status, sfds[0]);
	uv_read_start((uv_stream_t *)&p->status, on_status_alloc, on_status);
	if (spec->timeout_ms)
		uv_timer_start(&p->timeout, on_timeout, spec->timeout_ms, 0);
}

int atr_proc_start(uv_loop_t *loop, const struct atr_proc_spec *spec, const struct atr_proc_ops *ops, void *cls,
		   struct atr_proc **out)
{
	struct atr_proc *p = calloc(1, sizeof(*p));
	const char **args = NULL;
	struct envb env = { 0 };
	uv_file fds[2] = { -1, -1 }, sfds[2] = { -1, -1 };
	char pidbuf[24];
	int rc;

	if (!p)
		return ATR_ENOMEM;
	if (((!spec->argv || !spec->argv[0]) && !spec->shell) || !spec->shim || spec->shim[0] != '/') {
		free(p);
		return ATR_EINVAL;
	}
	p->ops = ops;
	p->cls = cls;
	p->id = spec->id;
	p->grace_ms = spec->grace_ms;
	p->state = ATR_PROC_RUNNING;
	p->started_at = atr_now_ms();
	p->own.fd = -1;
	snprintf(p->file, sizeof(p->file), "%s", spec->argv ? spec->argv[0] : "/bin/sh");
	rc = make_dirs(spec, p);
	if (rc == 0)
		rc = build_env(spec, p->dir, &env);
	if (rc == 0 && !(args = shim_args(spec, pidbuf, sizeof(pidbuf))))
		rc = ATR_ENOMEM;
	if (rc == 0 && uv_pipe(fds, UV_NONBLOCK_PIPE, 0) < 0)
		rc = ATR_EIO;
	if (rc == 0 && uv_pipe(sfds, UV_NONBLOCK_PIPE, 0) < 0) {
		close(fds[0]);
		close(fds[1]);
		rc = ATR_EIO;
	}
	if (rc < 0) {
		free(args);
		env_free(&env);
		atr_spool_close(&p->own);
		free(p);
		return rc;
	}
	init_handles(loop, p);
	spawn(loop, p, spec, args, env.v, fds, sfds);
	free(args);
	env_free(&env);
	*out = p;
	return 0;
}

void atr_proc_free(struct atr_proc *p)
{
	if (!p || p->freeing)
		return;
	p->freeing = true;
	if (p->spawned && !p->exited)
		kill_group(p, SIGKILL);
	uv_close((uv_handle_t *)&p->proc, handle_closed);
	uv_close((uv_handle_t *)&p->out, handle_closed);
	uv_close((uv_handle_t *)&p->status, handle_closed);
	uv_close((uv_handle_t *)&p->timeout, handle_closed);
	uv_close((uv_handle_t *)&p->grace, handle_closed);
	uv_close((uv_handle_t *)&p->drain, handle_closed);
}

enum atr_proc_state atr_proc_state(const struct atr_proc *p)
{
	return p->finished ? p->state : ATR_PROC_RUNNING;
}

pid_t atr_proc_pid(const struct atr_proc *p)
{
	return p->pid;
}

int atr_proc_exit_code(const struct atr_proc *p)
{
	return p->exit_code;
}

int atr_proc_signal(const struct atr_proc *p)
{
	return p->sig;
}

const char *atr_proc_message(const struct atr_proc *p)
{
	return p->message;
}

int64_t atr_proc_started_at(const struct atr_proc *p)
{
	return p->started_at;
}

int64_t atr_proc_ended_at(const struct atr_proc *p)
{
	return p->ended_at;
}

struct atr_spool *atr_proc_spool(struct atr_proc *p)
{
	return p->spool;
}

const char *atr_proc_dir(const struct atr_proc *p)
{
	return p->dir;
}
