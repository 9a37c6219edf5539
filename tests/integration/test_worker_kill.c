/*
 * test_worker_kill.c: a job's processes live no longer than the worker agent that runs them
 * (issue 17), with the real server and real workers on loopback (--heartbeat-timeout 3).
 *
 * - kill -9 of the agent while jobs run: within two seconds every process of every job is
 *   gone (the job's main process, its child, a descendant that left the job's session with
 *   setsid, and the pid the agent reported), the jobs are requeued and end succeeded on a
 *   second worker, no two attempts of a job ever ran at the same time, and each job's
 *   command finished exactly once (the killed attempt never reached its end). Each attempt
 *   writes what it is (its pids, when it started, when it finished) into RECORDS/.
 * - self-fencing: a worker whose server stops answering (SIGSTOP) stops its jobs once the
 *   heartbeat timeout passed since its last successful heartbeat (SIGTERM; SIGKILL after
 *   --grace for one that ignores SIGTERM), says so in their logs and its own, refuses new
 *   jobs meanwhile, and heartbeats again once the server answers.
 */
#include "fixtures.h"
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NJOBS 4
#define JOB_SLEEP_S 6

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A process that runs (a zombie has ended: nobody may have reaped it yet). */
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

static long long submit(struct h_server *s, const char *body)
{
	json_t *j = h_call(s, "POST", "/api/v1/projects/fence/jobs", s->admin_token, body, 201);
	long long id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

static const char *job_state(struct h_server *s, long long id)
{
	static char st[32];
	json_t *j = h_call(s, "GET", h_fmt("/api/v1/jobs/%lld", id), s->admin_token, NULL, 200);
	snprintf(st, sizeof(st), "%s", f_str(j, "state"));
	json_decref(j);
	return st;
}

static json_t *wait_job_end(struct h_server *s, long long id, int timeout_s)
{
	for (int waited = 0; waited < timeout_s; waited += 20) {
		json_t *j =
			h_call(s, "GET", h_fmt("/api/v1/jobs/%lld/wait?timeout_s=20", id), s->admin_token, NULL, 200);
		const char *st = f_str(j, "state");
		if (!strcmp(st, "succeeded") || !strcmp(st, "failed") || !strcmp(st, "cancelled"))
			return j;
		json_decref(j);
	}
	fprintf(stderr, "job %lld did not end in %d s\n", id, timeout_s);
	fail();
	return NULL;
}

static void setup_server(struct h_server *s)
{
	static const char *const extra[] = { "--heartbeat-timeout", "3", NULL };

	h_server_start(s, extra);
	json_decref(h_call(s, "POST", "/api/v1/projects", s->admin_token, "{\"name\":\"fence\"}", 201));
	assert_int_equal(h_sh("mkdir -p '%s/records'", s->dir), 0);
}

/* ---- the records the jobs write ---- */

struct attempt {
	long sh, child, daemon;	    /* the job's shell, its sleep, and a sleep it left running with setsid */
	long long start_ns, end_ns; /* end_ns 0: it never reached its end */
};

/* Every attempt of job id recorded under RECORDS/ (files "<id>.<shell pid>.start" and ".end"). */
static int attempts_of(struct h_server *s, long long id, struct attempt *out, int max)
{
	char dir[400], prefix[32], path[700];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/records", s->dir);
	snprintf(prefix, sizeof(prefix), "%lld.", id);
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		FILE *f;
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 6 || strcmp(e->d_name + len - 6, ".start"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		memset(&out[n], 0, sizeof(out[n]));
		assert_non_null(f = fopen(path, "r"));
		assert_int_equal(
			fscanf(f, "%ld %ld %ld %lld", &out[n].sh, &out[n].child, &out[n].daemon, &out[n].start_ns), 4);
		fclose(f);
		snprintf(path, sizeof(path), "%s/%.*s.end", dir, (int)(len - 6), e->d_name);
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%lld", &out[n].end_ns) != 1)
				out[n].end_ns = 0;
			fclose(f);
		}
		n++;
	}
	closedir(d);
	return n;
}

struct started {
	struct h_server *s;
	long long *ids;
	int n;
};

static bool all_started(void *arg)
{
	struct started *w = arg;
	struct attempt a[4];
	for (int i = 0; i < w->n; i++)
		if (attempts_of(w->s, w->ids[i], a, 4) < 1)
			return false;
	return true;
}

/* ---- kill -9 of the agent mid-job ---- */

static void test_agent_killed(void **state)
{
	struct h_server S;
	struct h_worker victim, rescuer;
	long long ids[NJOBS];
	long pids[NJOBS * 4];
	int npids = 0, problems = 0, outlived = 0;
	long long t_kill, t_gone;
	(void)state;

	setup_server(&S);
	h_worker_start(&victim, &S, h_join_token(&S, "victim"), "victim", 0, NULL);
	assert_true(h_worker_wait_registered(&victim, 0, 20000));
	for (int i = 0; i < NJOBS; i++)
		ids[i] = submit(
			&S,
			h_fmt("{\"name\":\"once-%d\",\"max_attempts\":3,\"command\":\"f=%s/records/$ATRIUM_JOB_ID.$$;"
			      " setsid sleep 60 </dev/null >/dev/null 2>&1 & d=$!; sleep %d & c=$!;"
			      " echo \\\"$$ $c $d $(date +%%s%%N)\\\" > $f.tmp && mv $f.tmp $f.start; wait $c;"
			      " date +%%s%%N > $f.end\"}",
			      i, S.dir, JOB_SLEEP_S));
	{
		struct started w = { &S, ids, NJOBS };
		assert_true(h_wait(all_started, &w, 30000));
	}
	/* what runs now: every recorded pid, and the pid the agent gives for each job */
	for (int i = 0; i < NJOBS; i++) {
		struct attempt a[4];
		assert_int_equal(attempts_of(&S, ids[i], a, 4), 1);
		pids[npids++] = a[0].sh;
		pids[npids++] = a[0].child;
		pids[npids++] = a[0].daemon;
	}
	{
		struct h_server api = h_worker_api(&victim, &S);
		json_t *list = h_call(&api, "GET", "/v1/jobs", victim.secret, NULL, 200), *it;
		size_t i;
		json_array_foreach(json_object_get(list, "items"), i, it)
		{
			long pid = (long)f_int(it, "pid");
			bool known = false;
			for (int k = 0; k < npids; k++)
				known |= pids[k] == pid;
			if (!known) /* (the shell itself when the agent runs the command directly) */
				pids[npids++] = pid;
		}
		json_decref(list);
	}
	for (int i = 0; i < npids; i++)
		assert_true(alive(pids[i]));

	t_kill = now_ns();
	assert_int_equal(h_worker_stop(&victim, SIGKILL), 128 + SIGKILL);
	/* a job's processes die with the agent that runs them: within two seconds */
	for (int t = 0; t < 2000; t += 20) {
		outlived = 0;
		for (int i = 0; i < npids; i++)
			outlived += alive(pids[i]);
		if (!outlived)
			break;
		sleep_ms(20);
	}
	t_gone = now_ns();
	if (outlived) {
		fprintf(stderr, "%d of the %d processes of %d jobs outlived their agent by 2 s:", outlived, npids,
			NJOBS);
		for (int i = 0; i < npids; i++)
			if (alive(pids[i]))
				fprintf(stderr, " %ld", pids[i]);
		fprintf(stderr, "\n");
		problems++;
	} else {
		fprintf(stderr, "all %d processes of %d jobs gone %.2f s after the agent's SIGKILL\n", npids, NJOBS,
			(double)(t_gone - t_kill) / 1e9);
	}

	/* the requeued attempts run on another worker, and end succeeded */
	h_worker_start(&rescuer, &S, h_join_token(&S, "rescuer"), "rescuer", 0, NULL);
	assert_true(h_worker_wait_registered(&rescuer, 0, 20000));
	for (int i = 0; i < NJOBS; i++) {
		json_t *j = wait_job_end(&S, ids[i], 120);
		if (strcmp(f_str(j, "state"), "succeeded") != 0) {
			fprintf(stderr, "job %lld ended %s: %s\n", ids[i], f_str(j, "state"), f_str(j, "message"));
			problems++;
		}
		json_decref(j);
	}

	/* from the records: each command finished once; no two attempts of a job ran at once */
	for (int i = 0; i < NJOBS; i++) {
		struct attempt a[4];
		int n = attempts_of(&S, ids[i], a, 4), ends = 0;
		for (int k = 0; k < n; k++) {
			ends += a[k].end_ns > 0;
			if (a[k].start_ns < t_kill && a[k].end_ns > 0) {
				fprintf(stderr,
					"job %lld: the attempt killed with its agent (shell %ld) reached its end\n",
					ids[i], a[k].sh);
				problems++;
			}
			if (a[k].end_ns > 0 && alive(a[k].daemon)) {
				fprintf(stderr, "job %lld: what attempt %ld left running with setsid outlived it\n",
					ids[i], a[k].sh);
				problems++;
			}
		}
		if (n < 2 || ends != 1) {
			fprintf(stderr, "job %lld: %d attempts ran, %d finished its command (want 2 and 1)\n", ids[i],
				n, ends);
			problems++;
		}
		for (int x = 0; x < n; x++)
			for (int y = 0; y < n; y++) {
				/* an attempt that never reached its end was gone by t_gone at the latest */
				long long x_end = a[x].end_ns ? a[x].end_ns : t_gone;
				long long y_end = a[y].end_ns ? a[y].end_ns : t_gone;
				if (x != y && a[x].start_ns <= a[y].start_ns && a[y].start_ns < x_end) {
					fprintf(stderr,
						"job %lld: attempts %ld and %ld ran at the same time (for %.1f s)\n",
						ids[i], a[x].sh, a[y].sh,
						(double)((x_end < y_end ? x_end : y_end) - a[y].start_ns) / 1e9);
					problems++;
				}
			}
	}
	assert_int_equal(problems, 0);
	h_server_cleanup(&S);
}

/* ---- self-fencing: the server stops answering ---- */

static bool gone(void *pid)
{
	return !alive(*(long *)pid);
}

static long read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

struct pidfile_wait {
	const char *path;
};

static bool has_pid(void *arg)
{
	return read_pid(((struct pidfile_wait *)arg)->path) > 0;
}

static bool worker_online(void *arg)
{
	struct h_server *s = ((void **)arg)[0];
	struct h_worker *w = ((void **)arg)[1];
	json_t *j = h_call(s, "GET", h_fmt("/api/v1/workers/%lld", w->id), s->admin_token, NULL, 200);
	bool ok = !strcmp(f_str(j, "state"), "online");
	json_decref(j);
	return ok;
}

static pid_t stopped_server; /* SIGCONT by the teardown, whatever the test's end */

static int teardown_fencing(void **state)
{
	(void)state;
	if (stopped_server > 0)
		kill(stopped_server, SIGCONT);
	stopped_server = 0;
	return 0;
}

static void test_self_fencing(void **state)
{
	const char *const wargs[] = { "--grace", "2", NULL };
	struct h_server S;
	struct h_worker w;
	long long polite, stubborn;
	long polite_pid, stubborn_pid, polite_shim = 0, stubborn_shim = 0;
	char polite_file[400], stubborn_file[400];
	long long t_stop;
	(void)state;

	setup_server(&S);
	h_worker_start(&w, &S, h_join_token(&S, "fenced"), "fenced", 0, wargs);
	assert_true(h_worker_wait_registered(&w, 0, 20000));
	snprintf(polite_file, sizeof(polite_file), "%s/records/polite.pid", S.dir);
	snprintf(stubborn_file, sizeof(stubborn_file), "%s/records/stubborn.pid", S.dir);
	/* one job stops on SIGTERM; the other ignores it (and so does its sleep) */
	polite = submit(&S, h_fmt("{\"command\":\"echo $$ > %s; exec sleep 120\",\"max_attempts\":1}", polite_file));
	stubborn = submit(&S, h_fmt("{\"command\":\"trap '' TERM; echo $$ > %s; sleep 120; echo survived\","
				    "\"max_attempts\":1}",
				    stubborn_file));
	{
		struct pidfile_wait a = { polite_file }, b = { stubborn_file };
		assert_true(h_wait(has_pid, &a, 30000));
		assert_true(h_wait(has_pid, &b, 30000));
	}
	polite_pid = read_pid(polite_file);
	stubborn_pid = read_pid(stubborn_file);
	{
		struct h_server api = h_worker_api(&w, &S);
		json_t *list = h_call(&api, "GET", "/v1/jobs", w.secret, NULL, 200), *it;
		size_t i;
		json_array_foreach(json_object_get(list, "items"), i, it)
		{
			if (f_int(it, "id") == polite)
				polite_shim = (long)f_int(it, "pid");
			else if (f_int(it, "id") == stubborn)
				stubborn_shim = (long)f_int(it, "pid");
		}
		json_decref(list);
	}
	assert_true(alive(polite_pid) && alive(stubborn_pid) && alive(polite_shim) && alive(stubborn_shim));

	/* the server stops answering: heartbeats get no answer */
	stopped_server = S.pid;
	assert_int_equal(kill(S.pid, SIGSTOP), 0);
	t_stop = now_ns();
	sleep_ms(500);
	assert_true(alive(polite_pid) && alive(stubborn_pid)); /* not before the timeout */
	/* 3 s after the last successful heartbeat (sent at most ~1 s before the stop): SIGTERM;
	 * the one that ignores it gets SIGKILL 2 s (--grace) later */
	assert_true(h_wait(gone, &polite_pid, 10000));
	assert_true(h_wait(gone, &polite_shim, 2000));
	fprintf(stderr, "the job that stops on SIGTERM ended %.1f s after the server stopped answering\n",
		(double)(now_ns() - t_stop) / 1e9);
	assert_true(h_wait(gone, &stubborn_pid, 10000));
	assert_true(h_wait(gone, &stubborn_shim, 2000));
	fprintf(stderr, "the job that ignores SIGTERM ended %.1f s after the server stopped answering\n",
		(double)(now_ns() - t_stop) / 1e9);
	/* it says why, in its own log and in each job's */
	assert_int_equal(h_sh("grep -q 'no contact with the server for 3 s' '%s/worker.log'", w.dir), 0);
	assert_int_equal(h_sh("grep -q 'atrium: no contact with the server for 3 s' '%s/jobs/%lld/log'", w.dir, polite),
			 0);
	assert_int_equal(h_sh("grep -q 'SIGKILL' '%s/jobs/%lld/log'", w.dir, stubborn), 0);
	assert_int_equal(h_sh("grep -q 'survived' '%s/jobs/%lld/log'", w.dir, stubborn), 1);
	/* while out of contact it takes no new job */
	{
		struct h_server api = h_worker_api(&w, &S);
		f_expect_message(&api, "POST", "/v1/jobs", w.secret, "{\"id\":999999,\"command\":\"true\"}", 503,
				 "no contact with the server");
	}

	/* the server answers again: the worker heartbeats again and is online */
	assert_int_equal(kill(S.pid, SIGCONT), 0);
	stopped_server = 0;
	{
		void *arg[2] = { &S, &w };
		assert_true(h_wait(worker_online, arg, 20000));
	}
	for (long long id = polite; id <= stubborn; id++) {
		json_t *j;
		if (!strcmp(job_state(&S, id), "queued") || !strcmp(job_state(&S, id), "running") ||
		    !strcmp(job_state(&S, id), "dispatched")) {
			struct h_resp r;
			h_req(&S, "POST", h_fmt("/api/v1/jobs/%lld/cancel", id), S.admin_token, NULL, NULL, &r);
			h_resp_free(&r);
		}
		j = wait_job_end(&S, id, 60);
		fprintf(stderr, "job %lld: %s (%s)\n", id, f_str(j, "state"), f_str(j, "message"));
		json_decref(j);
	}
	h_server_cleanup(&S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_killed),
		cmocka_unit_test_teardown(test_self_fencing, teardown_fencing),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
