/*
 * shim.c (worker): `atrium job-shim AGENT_PID [--exec FILE] -- ARGV...`, the small supervisor
 * between the agent and a job's command, so that a job's processes never outlive the agent.
 * runner.c spawns it (the agent's own executable) in a session and process group of its own,
 * with the job's environment, folder and stdio, and fd 3 a pipe on which an exec failure is
 * reported. It
 *  - asks for ATR_SHIM_KILL_SIG when its parent dies, then checks that its parent is still the
 *    agent (else it exits at once: the agent died before that request);
 *  - makes itself a child subreaper, so that what the command starts and leaves (a daemon
 *    that forked twice and called setsid) is re-parented to it, not to init;
 *  - forks and execs the command (FILE, default ARGV[0], searched on the job's PATH) in its
 *    process group, adding nothing to its environment;
 *  - blocks the signals it may be sent and takes them with sigwaitinfo: SIGCHLD reaps; the
 *    parent-death signal (ATR_SHIM_KILL_SIG, which the runner also sends when a job's grace
 *    period is over) SIGKILLs every descendant, then the group, itself last; anything else
 *    is ignored (the agent's SIGTERM to the group reaches the command directly);
 *  - once the command ended, SIGKILLs what it left running (its descendants) and ends as the
 *    command did: the same exit status, or the same signal raised on itself, so the agent's
 *    exit handling and reports do not change.
 * It is single-threaded, so what its forked child runs before exec is as safe as the parent.
 * Not here: starting it, signalling the group, reading the output, timeouts (runner.c).
 */
#include "atrium/worker_runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STATUS_FD 3
#define KILL_ROUNDS 400 /* of 5 ms: how long the descendants get to die of SIGKILL */

/* Every signal but those it cannot block and those a fault of its own raises. */
static void waited_signals(sigset_t *s)
{
	sigfillset(s);
	sigdelset(s, SIGKILL);
	sigdelset(s, SIGSTOP);
	sigdelset(s, SIGSEGV);
	sigdelset(s, SIGBUS);
	sigdelset(s, SIGFPE);
	sigdelset(s, SIGILL);
	sigdelset(s, SIGTRAP);
	sigdelset(s, SIGSYS);
	sigdelset(s, SIGABRT);
}

/* ---- its descendants ---- */

struct proc_entry {
	pid_t pid, ppid;
	char state;
	signed char below; /* 0: not known yet, 1: a descendant of the shim, -1: not */
};

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc_entry *)a)->pid, y = ((const struct proc_entry *)b)->pid;
	return x < y ? -1 : x > y;
}

/* Every process of /proc: pid, parent, state ("pid (comm) S ppid ..."; comm may hold ')'). */
static struct proc_entry *list_processes(size_t *n)
{
	struct proc_entry *v = NULL;
	size_t cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char path[64], buf[512], *p;
		ssize_t len;
		int fd, ppid;
		char state;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct proc_entry *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = ncap;
		}
		v[*n].pid = (pid_t)strtol(e->d_name, NULL, 10);
		v[*n].ppid = (pid_t)ppid;
		v[*n].state = state;
		v[*n].below = 0;
		(*n)++;
	}
	closedir(d);
	return v;
}

static signed char below(struct proc_entry *v, size_t n, size_t i, pid_t self, int depth)
{
	struct proc_entry key = { .pid = v[i].ppid }, *parent;

	if (v[i].below)
		return v[i].below;
	if (v[i].ppid == self)
		return v[i].below = 1;
	parent = depth < 4096 && v[i].ppid > 1 ? bsearch(&key, v, n, sizeof(*v), by_pid) : NULL;
	return v[i].below = parent ? below(v, n, (size_t)(parent - v), self, depth + 1) : -1;
}

/* SIGKILL to every live process below this one; returns how many there were. */
static int kill_round(void)
{
	pid_t self = getpid();
	size_t n, i;
	struct proc_entry *v = list_processes(&n);
	int killed = 0;

	if (!v)
		return 0;
	qsort(v, n, sizeof(*v), by_pid);
	for (i = 0; i < n; i++)
		if (below(v, n, i, self, 0) > 0 && v[i].state != 'Z' && v[i].state != 'X') {
			kill(v[i].pid, SIGKILL);
			killed++;
		}
	free(v);
	return killed;
}

static void reap_all(pid_t cmd, int *cmd_status, bool *cmd_done)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (pid == cmd) {
			*cmd_status = st;
			*cmd_done = true;
		}
}

/* Until none is left: a process forked between a scan and its kill is found by the next
 * round, and those whose parent died come to this subreaper to be reaped. */
static void kill_descendants(pid_t cmd, int *cmd_status, bool *cmd_done)
{
	const struct timespec nap = { 0, 5 * 1000000L };

	for (int round = 0; round < KILL_ROUNDS; round++) {
		int n = kill_round();
		reap_all(cmd, cmd_status, cmd_done);
		if (n == 0)
			return;
		nanosleep(&nap, NULL);
	}
}

/* ---- its end ---- */

/* Ends as the command ended: its exit status, or its signal with the default action. */
static void end_as(int st)
{
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		struct rlimit no_core = { 0, 0 };
		struct sigaction dfl;
		sigset_t one;

		setrlimit(RLIMIT_CORE, &no_core); /* the command's core is the one that counts */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(sig, &dfl, NULL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		kill(getpid(), sig);
		_exit(128 + sig); /* a signal whose default is not to end the process */
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

/* The parent-death signal (or the runner's last word): everything below it, then the group,
 * itself last. */
static void kill_all(pid_t cmd)
{
	int st = 0;
	bool done = false;

	kill_descendants(cmd, &st, &done);
	kill(0, SIGKILL);
	_exit(1);
}

/* fd 3 is the runner's status pipe (a job's command never gets it). */
static int status_fd(void)
{
	struct stat st;

	if (fstat(STATUS_FD, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -1;
	fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
	return STATUS_FD;
}

/* The child: the command, with the signal mask the shim was started with. */
static void exec_command(const char *file, char **args, const sigset_t *mask, int sfd)
{
	int err;

	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(file, args);
	err = errno;
	signal(SIGPIPE, SIG_IGN);
	if (sfd >= 0 && write(sfd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int atr_job_shim_main(int argc, char **argv)
{
	sigset_t waited, mask;
	const char *file = NULL;
	char **args;
	long agent;
	pid_t cmd;
	int i = 3, sfd, st = 0;
	bool done = false;

	if (argc < 5 || (agent = strtol(argv[2], NULL, 10)) <= 1)
		goto usage;
	if (!strcmp(argv[i], "--exec") && i + 1 < argc) {
		file = argv[i + 1];
		i += 2;
	}
	if (i + 1 >= argc || strcmp(argv[i], "--") != 0)
		goto usage;
	args = argv + i + 1;
	file = file ? file : args[0];

	waited_signals(&waited);
	sigprocmask(SIG_BLOCK, &waited, &mask);
	if (prctl(PR_SET_PDEATHSIG, ATR_SHIM_KILL_SIG) < 0 || getppid() != (pid_t)agent)
		_exit(1); /* the agent is gone already: the command must not start */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sfd = status_fd();
	cmd = fork();
	if (cmd == 0)
		exec_command(file, args, &mask, sfd);
	if (cmd < 0) {
		int err = errno;
		if (sfd >= 0 && write(sfd, &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	if (sfd >= 0)
		close(sfd);
	while (!done) {
		siginfo_t si;
		int sig = sigwaitinfo(&waited, &si);

		if (sig == ATR_SHIM_KILL_SIG)
			kill_all(cmd);
		else if (sig == SIGCHLD)
			reap_all(cmd, &st, &done);
		/* else: SIGTERM, SIGINT, ... to the group reached the command too; nothing to do */
	}
	kill_descendants(cmd, &st, &done);
	end_as(st);
	return 1;
usage:
	fprintf(stderr, "usage: atrium job-shim AGENT_PID [--exec FILE] -- COMMAND [ARGS...]\n"
			"(run by `atrium worker` for each job: not meant to be run by hand)\n");
	return 2;
}
