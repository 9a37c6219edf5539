/*
 * test_shim.c: the job shim (`atrium job-shim`, src/worker/shim.c) run as the agent runs it,
 * from this process: it adds nothing to the command's environment, ends as the command ended
 * (exit status, or the same signal), outlives the signals sent to its group, reports a
 * command it could not exec on fd 3, kills what the command left running (even outside its
 * group) when it ends, refuses to start under a parent that is not the agent, and -- the
 * point of it -- takes every process of the job with it when the agent dies (kill -9).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[256], shim[4096];

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Running, not a zombie. */
static bool alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool yes = false;

	if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		yes = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return yes;
}

static bool gone_within(long pid, int ms)
{
	for (int t = 0; t < ms && alive(pid); t += 10)
		sleep_ms(10);
	return !alive(pid);
}

static long read_pid(const char *name)
{
	char path[400];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	for (int t = 0; t < 5000 && !pid; t += 10) {
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (!pid)
			sleep_ms(10);
	}
	assert_true(pid > 0);
	return pid;
}

/* In a child: the shim with agent pid `agent`, command cmd, environment env; fd 3 is sfd
 * when >= 0; stdout and stderr go to out (a pipe's write end). */
static void exec_shim(long agent, const char *const *cmd, const char *const *env, int out, int sfd)
{
	const char *argv[32];
	char pid[24];
	int n = 0;

	snprintf(pid, sizeof(pid), "%ld", agent);
	argv[n++] = shim;
	argv[n++] = "job-shim";
	argv[n++] = pid;
	argv[n++] = "--";
	for (int i = 0; cmd[i] && n < 31; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	if (chdir(root) < 0)
		_exit(120);
	setsid(); /* as uv_spawn's UV_PROCESS_DETACHED */
	dup2(out, 1);
	dup2(out, 2);
	if (sfd >= 0)
		dup2(sfd, 3);
	else
		close(3);
	execve(shim, (char *const *)argv, (char *const *)env);
	_exit(121);
}

struct result {
	int status;
	char out[4096];
	int err; /* from fd 3: the errno of a command that could not be exec'd, or 0 */
};

/* Runs the shim as the agent would (this process its parent) and waits for its end. */
static void run(const char *const *cmd, const char *const *env, struct result *r)
{
	int out[2], st[2];
	pid_t pid;
	ssize_t n;
	size_t len = 0;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(st), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		close(st[0]);
		exec_shim((long)getppid(), cmd, env, out[1], st[1]);
	}
	close(out[1]);
	close(st[1]);
	while ((n = read(out[0], r->out + len, sizeof(r->out) - 1 - len)) > 0)
		len += (size_t)n;
	r->out[len] = 0;
	if (read(st[0], &r->err, sizeof(r->err)) != (ssize_t)sizeof(r->err))
		r->err = 0;
	close(out[0]);
	close(st[0]);
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

static const char *const job_env[] = { "FOO=bar baz", "ATRIUM_JOB_ID=42", "PATH=/usr/bin:/bin", NULL };

static void test_adds_nothing_to_the_environment(void **state)
{
	const char *cmd[] = { "env", NULL };
	struct result r;
	(void)state;

	run(cmd, job_env, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
	assert_string_equal(r.out, "FOO=bar baz\nATRIUM_JOB_ID=42\nPATH=/usr/bin:/bin\n");
	/* and its own is the job's too, so leftovers.c recognises it by ATRIUM_JOB_ID */
	{
		const char *cmp[] = { "sh", "-c", "cmp /proc/$PPID/environ /proc/$$/environ && echo same", NULL };
		run(cmp, job_env, &r);
		assert_string_equal(r.out, "same\n");
	}
}

static void test_ends_as_the_command(void **state)
{
	const char *exit3[] = { "sh", "-c", "echo out; exit 3", NULL };
	const char *segv[] = { "sh", "-c", "kill -SEGV $$", NULL };
	const char *killed[] = { "sh", "-c", "kill -KILL $$", NULL };
	const char *term[] = { "sh", "-c", "kill -TERM $$", NULL };
	/* a signal to the whole group (the agent's SIGTERM, a user's SIGUSR1) reaches the command;
	 * the shim lives on and ends as the command does */
	const char *group[] = { "sh", "-c", "trap 'echo usr1' USR1; kill -USR1 0; trap 'exit 5' TERM; kill -TERM 0",
				NULL };
	struct result r;
	(void)state;

	run(exit3, job_env, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 3);
	assert_string_equal(r.out, "out\n");
	assert_int_equal(r.err, 0);
	run(segv, job_env, &r);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGSEGV);
	run(killed, job_env, &r);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGKILL);
	run(term, job_env, &r);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGTERM);
	run(group, job_env, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 5);
	assert_string_equal(r.out, "usr1\n");
}

static void test_exec_failure_on_fd3(void **state)
{
	const char *missing[] = { "/nonexistent/train.py", "--epochs", "3", NULL };
	const char *not_on_path[] = { "no-such-program-atrium", NULL };
	struct result r;
	(void)state;

	run(missing, job_env, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 127);
	assert_int_equal(r.err, ENOENT);
	run(not_on_path, job_env, &r);
	assert_int_equal(r.err, ENOENT);
}

/* What the command leaves running, in its group or not (setsid, a double fork), dies when
 * it ends. */
static void test_kills_what_the_command_left(void **state)
{
	const char *cmd[] = { "sh", "-c",
			      "sleep 100 & echo $! > left.pid; (setsid sleep 100 & echo $! > daemon.pid) ;"
			      " sleep 0.2; exit 0",
			      NULL };
	struct result r;
	long left, daemon;
	(void)state;

	run(cmd, job_env, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
	left = read_pid("left.pid");
	daemon = read_pid("daemon.pid");
	assert_true(gone_within(left, 2000));
	assert_true(gone_within(daemon, 2000));
}

/* Started under a parent that is not the agent (the agent died before the shim asked for
 * its parent-death signal): the command never runs. */
static void test_orphan_never_starts(void **state)
{
	const char *cmd[] = { "sh", "-c", "echo ran > ran.txt", NULL };
	char path[400];
	int out[2], st;
	pid_t pid;
	(void)state;

	assert_int_equal(pipe(out), 0);
	pid = fork();
	if (pid == 0) {
		close(out[0]);
		exec_shim(2, cmd, job_env, out[1], -1); /* pid 2 is not its parent */
	}
	close(out[1]);
	close(out[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	snprintf(path, sizeof(path), "%s/ran.txt", root);
	assert_int_equal(access(path, F_OK), -1);
}

/* kill -9 of the agent: the shim, the command, its child and what it started with setsid
 * all die at once. */
static void test_dies_with_the_agent(void **state)
{
	const char *cmd[] = { "sh", "-c",
			      "trap '' TERM; sleep 100 & echo $! > child.pid; setsid sleep 100 </dev/null & echo $! >"
			      " setsid.pid; echo $$ > main.pid; wait",
			      NULL };
	int out[2], st;
	pid_t agent, shim_pid = 0;
	long pids[4];
	(void)state;

	assert_int_equal(pipe(out), 0);
	agent = fork();
	assert_true(agent >= 0);
	if (agent == 0) { /* the agent: starts the shim, then waits to be killed */
		pid_t s = fork();
		if (s == 0) {
			int devnull = open("/dev/null", O_WRONLY);
			close(out[0]);
			exec_shim((long)getppid(), cmd, job_env, devnull, -1);
		}
		if (write(out[1], &s, sizeof(s)) != (ssize_t)sizeof(s))
			_exit(1);
		for (;;)
			pause();
	}
	close(out[1]);
	assert_int_equal(read(out[0], &shim_pid, sizeof(shim_pid)), (ssize_t)sizeof(shim_pid));
	close(out[0]);
	pids[0] = shim_pid;
	pids[1] = read_pid("main.pid");
	pids[2] = read_pid("child.pid");
	pids[3] = read_pid("setsid.pid");
	for (int i = 0; i < 4; i++)
		assert_true(alive(pids[i]));
	assert_int_equal(kill(agent, SIGKILL), 0);
	assert_int_equal(waitpid(agent, &st, 0), agent);
	for (int i = 0; i < 4; i++)
		if (!gone_within(pids[i], 2000))
			fail_msg("process %ld (%d of 4) outlived the agent by 2 s", pids[i], i + 1);
}

static int setup(void **state)
{
	const char *bin = getenv("ATRIUM_BIN");
	(void)state;
	snprintf(root, sizeof(root), "/tmp/atrium-shim-XXXXXX");
	assert_non_null(mkdtemp(root));
	if (!realpath(bin && *bin ? bin : "build/asan/atrium", shim)) {
		fprintf(stderr, "no atrium executable for the job shim: set ATRIUM_BIN\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adds_nothing_to_the_environment),
		cmocka_unit_test(test_ends_as_the_command),
		cmocka_unit_test(test_exec_failure_on_fd3),
		cmocka_unit_test(test_kills_what_the_command_left),
		cmocka_unit_test(test_orphan_never_starts),
		cmocka_unit_test(test_dies_with_the_agent),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
