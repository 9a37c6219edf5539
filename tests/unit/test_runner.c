/*
 * test_runner.c: jobs as real child processes on a real loop: the environment the child sees
 * (CUDA_VISIBLE_DEVICES, ATRIUM_*, no worker secrets), output captured exactly (stdout and
 * stderr interleaved, ~10 MB printed fast through a small memory cap, read back by offset),
 * exit codes and signals, a program that cannot start, timeout and cancel killing the whole
 * process group (grandchild included, SIGTERM ignored), and the spool alone (a failing file).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "atrium/err.h"
#include "atrium/util.h"
#include "atrium/worker_runner.h"

static char root[256];
static char shim[4096]; /* the atrium executable that runs each job as `job-shim` */

struct run {
	uv_loop_t loop;
	struct atr_proc *p;
	int done;
	int outputs;
	/* a consumer that reads and releases as output arrives, like the shipper */
	bool consume;
	char *got;
	size_t got_len, got_cap;
	uint64_t acked;
};

static void consume(struct run *r)
{
	struct atr_spool *sp = atr_proc_spool(r->p);
	char buf[65536];
	long n;

	while ((n = atr_spool_read(sp, r->acked, buf, sizeof(buf))) > 0) {
		if (r->got_len + (size_t)n > r->got_cap) {
			r->got_cap = (r->got_len + (size_t)n) * 2;
			r->got = realloc(r->got, r->got_cap);
			assert_non_null(r->got);
		}
		memcpy(r->got + r->got_len, buf, (size_t)n);
		r->got_len += (size_t)n;
		r->acked += (uint64_t)n;
		atr_spool_release(sp, r->acked);
	}
	assert_true(n == 0);
}

static void on_output(void *cls, struct atr_proc *p)
{
	struct run *r = cls;
	(void)p;
	r->outputs++;
	if (r->consume)
		consume(r);
}

static void on_done(void *cls, struct atr_proc *p)
{
	struct run *r = cls;
	(void)p;
	r->done++;
	if (r->consume)
		consume(r);
}

static const struct atr_proc_ops ops = { on_output, on_done };

static void start(struct run *r, struct atr_proc_spec *spec)
{
	static int64_t next_id = 1;
	memset(r, 0, sizeof(*r));
	assert_int_equal(uv_loop_init(&r->loop), 0);
	spec->id = next_id++;
	spec->work_root = root;
	spec->shim = shim;
	if (!spec->grace_ms)
		spec->grace_ms = 300;
	assert_int_equal(atr_proc_start(&r->loop, spec, &ops, r, &r->p), 0);
	assert_int_equal(r->done, 0);
}

static void wait_done(struct run *r)
{
	while (!r->done)
		uv_run(&r->loop, UV_RUN_ONCE);
	assert_int_equal(r->done, 1);
}

static void finish(struct run *r)
{
	atr_proc_free(r->p);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&r->loop), 0);
	free(r->got);
}

/* The whole log, read back by offset (file and memory). Caller frees. */
static char *whole_log(struct atr_proc *p, size_t *len)
{
	struct atr_spool *sp = atr_proc_spool(p);
	char *all = malloc(sp->total + 1);
	uint64_t off = 0;

	assert_non_null(all);
	while (off < sp->total) {
		long n = atr_spool_read(sp, off, all + off, (size_t)(sp->total - off));
		assert_true(n > 0);
		off += (uint64_t)n;
	}
	all[off] = 0;
	*len = (size_t)off;
	return all;
}

static void expect_log(struct atr_proc *p, const char *want)
{
	size_t n;
	char *got = whole_log(p, &n);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "log: '%s'\nwant: '%s'\n", got, want);
	assert_string_equal(got, want);
	free(got);
}

static void test_env(void **state)
{
	struct run r;
	int gpus[] = { 0, 2 };
	const char *env[] = { "FOO=bar baz", "CUDA_VISIBLE_DEVICES=9", "CUDA_DEVICE_ORDER=FASTEST_FIRST",
			      "ATRIUM_JOB_ID=666", NULL };
	struct atr_proc_spec s = {
		.shell = "echo \"$CUDA_VISIBLE_DEVICES|$CUDA_DEVICE_ORDER|$ATRIUM_JOB_ID|$ATRIUM_RUN_ID|$FOO|"
			 "$ATRIUM_URL|$ATRIUM_TOKEN|${ATRIUM_JOIN_TOKEN:-none}|${PORT:-noport}\"; pwd",
		.env = env,
		.gpus = gpus,
		.ngpus = 2,
		.url = "http://server:8080",
		.token = "atr_jobtoken",
		.run_id = 12
	};
	char want[1400];
	(void)state;

	setenv("ATRIUM_JOIN_TOKEN", "atr_must_not_leak", 1);
	start(&r, &s);
	wait_done(&r);
	unsetenv("ATRIUM_JOIN_TOKEN");
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_SUCCEEDED);
	assert_int_equal(atr_proc_exit_code(r.p), 0);
	snprintf(want, sizeof(want), "0,2|PCI_BUS_ID|%lld|12|bar baz|http://server:8080|atr_jobtoken|none|noport\n%s\n",
		 (long long)s.id, atr_proc_dir(r.p));
	expect_log(r.p, want);
	finish(&r);

	/* no GPUs: the variable is there and empty, so CUDA sees no device; PORT when given */
	struct atr_proc_spec s2 = {
		.shell = "echo \"[${CUDA_VISIBLE_DEVICES-unset}] $PORT\"; test -d \"$ATRIUM_INPUT_DIR\""
			 " && test -d \"$ATRIUM_OUTPUT_DIR\"",
		.port = 9123
	};
	start(&r, &s2);
	wait_done(&r);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_SUCCEEDED);
	expect_log(r.p, "[] 9123\n");
	finish(&r);
}

static void test_argv_and_exit_codes(void **state)
{
	struct run r;
	const char *argv[] = { "printf", "%s-%s\\n", "a b", "c", NULL };
	const char *missing[] = { "/nonexistent/train.py", "--epochs", "3", NULL };
	struct atr_proc_spec s = { .argv = argv };
	(void)state;

	start(&r, &s);
	wait_done(&r);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_SUCCEEDED);
	expect_log(r.p, "a b-c\n");
	finish(&r);

	s = (struct atr_proc_spec){ .shell = "echo out; echo err >&2; echo out2; exit 3" };
	start(&r, &s);
	wait_done(&r);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_FAILED);
	assert_int_equal(atr_proc_exit_code(r.p), 3);
	assert_int_equal(atr_proc_signal(r.p), 0);
	assert_string_equal(atr_proc_message(r.p), "exited with status 3");
	expect_log(r.p, "out\nerr\nout2\n");
	assert_true(atr_proc_ended_at(r.p) >= atr_proc_started_at(r.p));
	finish(&r);

	s = (struct atr_proc_spec){ .shell = "kill -9 $$" };
	start(&r, &s);
	wait_done(&r);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_FAILED);
	assert_int_equal(atr_proc_signal(r.p), 9);
	assert_int_equal(atr_proc_exit_code(r.p), -1);
	finish(&r);

	s = (struct atr_proc_spec){ .argv = missing };
	start(&r, &s);
	wait_done(&r);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_FAILED);
	assert_non_null(strstr(atr_proc_message(r.p), "cannot start '/nonexistent/train.py'"));
	{
		size_t n;
		char *log = whole_log(r.p, &n);
		assert_non_null(strstr(log, "cannot start"));
		free(log);
	}
	finish(&r);
}

/* ~10 MB of numbered lines, printed as fast as awk can, through a 64 KiB memory cap. */
static void test_big_output(void **state)
{
	const int lines = 200000;
	struct atr_proc_spec s = { .shell = "awk 'BEGIN { for (i = 0; i < 200000; i++) printf \"line %07d of the big "
					    "output test, padded to fifty\\n\", i }'",
				   .log_mem_cap = 64 * 1024 };
	size_t line_len = strlen("line 0000000 of the big output test, padded to fifty\n"), n;
	char *want = malloc(line_len * (size_t)lines + 1), *got;
	struct run r;
	(void)state;

	for (int i = 0; i < lines; i++)
		snprintf(want + (size_t)i * line_len, line_len + 1,
			 "line %07d of the big output test, padded to fifty\n", i);
	/* nobody ships: everything past the cap lives in the file only */
	start(&r, &s);
	wait_done(&r);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_SUCCEEDED);
	assert_int_equal(atr_proc_spool(r.p)->total, line_len * (size_t)lines);
	assert_int_equal(atr_proc_spool(r.p)->lost, 0);
	assert_true(atr_proc_spool(r.p)->mem.len <= 64 * 1024);
	got = whole_log(r.p, &n);
	assert_int_equal(n, line_len * (size_t)lines);
	assert_memory_equal(got, want, n);
	free(got);
	finish(&r);

	/* a consumer that keeps up: reads and releases as the bytes come */
	start(&r, &s);
	r.consume = true;
	wait_done(&r);
	assert_int_equal(r.got_len, line_len * (size_t)lines);
	assert_memory_equal(r.got, want, r.got_len);
	assert_true(r.outputs > 1);
	finish(&r);
	free(want);
}

static bool pid_dead(pid_t pid)
{
	char path[64], buf[512];
	int fd;
	ssize_t n;
	const char *st;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	/* a zombie waiting for a reaper that does not come (no init in the container) is dead too */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	st = strrchr(buf, ')');
	return st && st[1] == ' ' && (st[2] == 'Z' || st[2] == 'X');
}

static pid_t read_pid_file(const struct atr_proc *p, const char *name)
{
	char path[1200], buf[32] = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", atr_proc_dir(p), name);
	for (int i = 0; i < 200; i++) {
		f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			if (n > 0 && strchr(buf, '\n'))
				return (pid_t)strtol(buf, NULL, 10);
		}
		usleep(10000);
	}
	fail_msg("no %s", name);
	return 0;
}

static pid_t read_pid(const struct atr_proc *p)
{
	return read_pid_file(p, "grandchild.pid");
}

static void test_timeout_kills_group(void **state)
{
	struct atr_proc_spec s = { .shell = "sleep 100 & echo $! > grandchild.pid; sleep 100", .timeout_ms = 300 };
	struct run r;
	uint64_t t0 = uv_hrtime();
	pid_t gc;
	(void)state;

	start(&r, &s);
	/* the grandchild's pid is read before the loop runs (the timeout is a timer of the loop): on
	 * a loaded machine the 300 ms could pass before the shell wrote it */
	gc = read_pid(r.p);
	wait_done(&r);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_TIMEOUT);
	assert_string_equal(atr_proc_state_name(atr_proc_state(r.p)), "timeout");
	assert_true(uv_hrtime() - t0 < 5000000000ULL);
	for (int i = 0; i < 100 && !pid_dead(gc); i++)
		usleep(20000);
	assert_true(pid_dead(gc));
	finish(&r);
}

static void on_cancel_timer(uv_timer_t *t)
{
	atr_proc_cancel(t->data);
}

static void test_cancel_escalates_to_sigkill(void **state)
{
	/* ignores SIGTERM, and so do its grandchild and what it started in a session of its own:
	 * only the SIGKILL after the grace ends them, all (the shim kills what left the group) */
	struct atr_proc_spec s = { .shell = "trap '' TERM; sleep 100 & echo $! > grandchild.pid;"
					    " setsid sleep 100 </dev/null & echo $! > setsid.pid; sleep 100",
				   .grace_ms = 300 };
	struct run r;
	uv_timer_t t;
	pid_t gc, away;
	(void)state;

	start(&r, &s);
	gc = read_pid(r.p);
	away = read_pid_file(r.p, "setsid.pid");
	uv_timer_init(&r.loop, &t);
	t.data = r.p;
	uv_timer_start(&t, on_cancel_timer, 50, 0);
	wait_done(&r);
	uv_close((uv_handle_t *)&t, NULL);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_CANCELLED);
	assert_int_equal(atr_proc_signal(r.p), SIGKILL);
	for (int i = 0; i < 100 && !(pid_dead(gc) && pid_dead(away)); i++)
		usleep(20000);
	assert_true(pid_dead(gc));
	assert_true(pid_dead(away));
	finish(&r);

	/* a job that stops on SIGTERM ends at once, cancelled */
	s = (struct atr_proc_spec){ .shell = "sleep 100", .grace_ms = 60000 };
	start(&r, &s);
	uv_timer_init(&r.loop, &t);
	t.data = r.p;
	uv_timer_start(&t, on_cancel_timer, 50, 0);
	wait_done(&r);
	uv_close((uv_handle_t *)&t, NULL);
	assert_int_equal(atr_proc_state(r.p), ATR_PROC_CANCELLED);
	assert_int_equal(atr_proc_signal(r.p), SIGTERM);
	finish(&r);
}

static void test_free_while_running(void **state)
{
	struct atr_proc_spec s = { .shell = "sleep 100" };
	struct run r;
	(void)state;

	start(&r, &s);
	uv_run(&r.loop, UV_RUN_NOWAIT);
	finish(&r); /* kills the group, done is not called, every handle closes */
	assert_int_equal(r.done, 0);
}

static void test_spool(void **state)
{
	struct atr_spool sp;
	char path[300], buf[64];
	(void)state;

	snprintf(path, sizeof(path), "%s/spool-test", root);
	assert_int_equal(atr_spool_open(&sp, path, 8), 0);
	assert_int_equal(atr_spool_append(&sp, "abcd", 4), 0);
	assert_int_equal(atr_spool_append(&sp, "efgh", 4), 0);
	assert_int_equal(sp.mem.len, 8);
	assert_int_equal(atr_spool_append(&sp, "ij", 2), 0); /* past the cap: memory dropped, file has all */
	assert_int_equal(sp.mem.len, 0);
	assert_int_equal(sp.total, 10);
	assert_int_equal(atr_spool_append(&sp, "kl", 2), 0);
	assert_int_equal(sp.mem_base, 10);
	assert_int_equal(atr_spool_read(&sp, 3, buf, sizeof(buf)), 9); /* from the file */
	assert_memory_equal(buf, "defghijkl", 9);
	assert_int_equal(atr_spool_read(&sp, 10, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "kl", 2);
	assert_int_equal(atr_spool_read(&sp, 12, buf, sizeof(buf)), 0);
	assert_int_equal(atr_spool_read(&sp, 0, buf, 2), 2);
	atr_spool_release(&sp, 11);
	assert_int_equal(atr_spool_read(&sp, 11, buf, sizeof(buf)), 1);
	assert_int_equal(atr_spool_read(&sp, 0, buf, sizeof(buf)), 12); /* still in the file */
	atr_spool_close(&sp);

	/* the file cannot be written (a full disk): memory alone, then output is dropped */
	assert_int_equal(atr_spool_open(&sp, "/dev/full", 8), 0);
	assert_int_equal(atr_spool_append(&sp, "abcd", 4), 0);
	assert_int_equal(atr_spool_append(&sp, "efgh", 4), 0);
	assert_int_equal(atr_spool_append(&sp, "ij", 2), ATR_EIO);
	assert_int_equal(sp.total, 8);
	assert_int_equal(sp.lost, 2);
	assert_int_equal(atr_spool_read(&sp, 0, buf, sizeof(buf)), 8);
	atr_spool_release(&sp, 8);
	assert_int_equal(atr_spool_append(&sp, "kl", 2), 0); /* room again */
	assert_int_equal(atr_spool_read(&sp, 8, buf, sizeof(buf)), 2);
	assert_int_equal(atr_spool_read(&sp, 0, buf, sizeof(buf)), -1); /* released and never on disk */
	atr_spool_close(&sp);
}

static int setup(void **state)
{
	const char *bin = getenv("ATRIUM_BIN");
	(void)state;
	snprintf(root, sizeof(root), "/tmp/atrium-runner-XXXXXX");
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
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_argv_and_exit_codes),
		cmocka_unit_test(test_big_output),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_cancel_escalates_to_sigkill),
		cmocka_unit_test(test_free_while_running),
		cmocka_unit_test(test_spool),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
