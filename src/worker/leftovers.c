/*
 * leftovers.c (worker): what a killed worker left running. Every job's process group is
 * written to WORK_DIR/jobs/<id>/process.pid while it runs; a worker starting on that work
 * dir first stops the groups still running (agent_jobs_sweep, before it offers any GPU):
 * the server has marked those jobs lost by then, and their processes must not hold GPUs
 * that new jobs are given. A pid is only trusted when /proc/<pid>/environ still carries
 * ATRIUM_JOB_ID=<id> (not a reused pid).
 * Not here: starting and stopping jobs (jobs.c, runner.c).
 */
#include "agent.h"
#include "atrium/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void agent_job_pid_file(struct agent_job *j, pid_t pid)
{
	char path[1200], text[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/process.pid", j->dir);
	if (pid <= 0) {
		unlink(path);
		return;
	}
	n = snprintf(text, sizeof(text), "%d\n", (int)pid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, (size_t)n) != n)
		atr_warn("job %lld: cannot write '%s': %s", (long long)j->id, path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Whether process pid runs with ATRIUM_JOB_ID=<job> in its environment (not a reused pid). */
static bool runs_job(long pid, const char *job)
{
	char path[64], want[64], buf[65536];
	size_t wl;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
	wl = (size_t)snprintf(want, sizeof(want), "ATRIUM_JOB_ID=%s", job);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strlen(buf + i) == wl && !memcmp(buf + i, want, wl))
			return true;
	return false;
}

void agent_jobs_sweep(const char *work_dir)
{
	char path[1200], text[32];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/jobs", work_dir);
	if (!(dir = opendir(path)))
		return;
	while ((e = readdir(dir))) {
		long pid;
		int fd;
		ssize_t n;

		if (strspn(e->d_name, "0123456789") != strlen(e->d_name) || !e->d_name[0])
			continue;
		snprintf(path, sizeof(path), "%s/jobs/%s/process.pid", work_dir, e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		text[n > 0 ? n : 0] = 0;
		pid = strtol(text, NULL, 10);
		if (pid > 1 && runs_job(pid, e->d_name)) {
			atr_warn("job %s: its process group %ld was left running by an earlier run of this worker;"
				 " stopping it",
				 e->d_name, pid);
			kill((pid_t)-pid, SIGKILL);
		}
		unlink(path);
	}
	closedir(dir);
}
