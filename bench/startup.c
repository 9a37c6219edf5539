/*
 * startup.c: the footprint scenario's probe. Starts `atrium serve --listen 127.0.0.1:0` on a
 * data dir RUNS times; each time it measures the time from just before the exec to the first
 * 200 from /healthz (polling DATA_DIR/listen.addr, then the port, every 100 us), lets the
 * daemon sit idle for a moment, reads its VmRSS from /proc/PID/status, and stops it with
 * SIGTERM, which must end it with status 0. It also reads how much of the start the daemon
 * spent on a CPU and how much it waited for one (/proc/PID/task/T/schedstat): on a machine
 * busy with other work the waiting grows, the work does not. The first run finds an empty
 * data dir (migrations and the first admin are part of it); the others are restarts. Prints
 * one key=value line: first_start_ms= first_cpu_ms= first_rss_kib= start_ms= start_cpu_ms=
 * start_wait_ms= rss_kib= runs= (the start_ and rss_ figures: medians of the restarts).
 * Not here: any load (the API scenarios measure RSS under load).
 */
#include "common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "startup"
#define MAX_RUNS 64
#define START_LIMIT_NS (20ULL * 1000000000ULL)

static const char *log_path;

/* One blocking GET /healthz on loopback; true on a 200. */
static bool healthz_ok(int port)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[64];
	ssize_t n;
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1) {
		while (got < 12 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
			got += (size_t)n;
		buf[got] = 0;
		ok = got >= 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0;
	}
	close(fd);
	return ok;
}

static long rss_kib(pid_t pid)
{
	char path[64], *s, *p;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = bench_read_file(path, NULL);
	if (s && (p = strstr(s, "\nVmRSS:")) != NULL)
		kib = strtol(p + 7, NULL, 10);
	free(s);
	return kib;
}

/* On-CPU and run-queue-wait nanoseconds of all the process's threads (/proc/PID/task/T/schedstat). */
static void sched_ns(pid_t pid, double *cpu_ns, double *wait_ns)
{
	char path[300];
	DIR *d;
	struct dirent *e;

	*cpu_ns = *wait_ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d)) != NULL) {
		unsigned long long run = 0, wait = 0;
		char *s;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		s = bench_read_file(path, NULL);
		if (s && sscanf(s, "%llu %llu", &run, &wait) == 2) {
			*cpu_ns += (double)run;
			*wait_ns += (double)wait;
		}
		free(s);
	}
	closedir(d);
}

static pid_t spawn(const char *bin, const char *dir)
{
	pid_t pid = fork();

	if (pid < 0)
		bench_die(PROG, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		unsetenv("ATRIUM_ADMIN_PASSWORD"); /* a first start must not spend time on PBKDF2 */
		execl(bin, bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int stop(pid_t pid)
{
	int status = 0;
	uint64_t t0 = bench_now_ns();

	kill(pid, SIGTERM);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (bench_now_ns() - t0 > 10000000000ULL) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "%s: the daemon did not stop within 10 s of SIGTERM\n", PROG);
			return -1;
		}
		bench_sleep_ns(1000000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: the daemon ended with %s %d (log: %s)\n", PROG,
			WIFEXITED(status) ? "status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log_path);
		return -1;
	}
	return 0;
}

struct run {
	double ms;	/* exec to the first 200 from /healthz */
	double cpu_ms;	/* of that, on a CPU */
	double wait_ms; /* of that, runnable but waiting for a CPU (other work on the machine) */
	double kib;	/* VmRSS after settle_ms idle */
};

/* One start and its figures. */
static int one_run(const char *bin, const char *dir, double settle_ms, struct run *out)
{
	char addr_path[4200];
	uint64_t t0, t1;
	pid_t pid;
	int status;

	snprintf(addr_path, sizeof(addr_path), "%s/listen.addr", dir);
	unlink(addr_path); /* the last run's port is not this run's */
	t0 = bench_now_ns();
	pid = spawn(bin, dir);
	for (;;) {
		int port = bench_read_port_file(addr_path);
		if (port > 0 && healthz_ok(port))
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "%s: the daemon exited before answering /healthz (log: %s)\n", PROG, log_path);
			return -1;
		}
		if (bench_now_ns() - t0 > START_LIMIT_NS) {
			fprintf(stderr, "%s: no /healthz answer within 20 s (log: %s)\n", PROG, log_path);
			stop(pid);
			return -1;
		}
		bench_sleep_ns(100000);
	}
	t1 = bench_now_ns();
	sched_ns(pid, &out->cpu_ms, &out->wait_ms);
	out->ms = (double)(t1 - t0) / 1e6;
	out->cpu_ms /= 1e6;
	out->wait_ms /= 1e6;
	bench_sleep_ns((uint64_t)(settle_ms * 1e6));
	out->kib = (double)rss_kib(pid);
	return stop(pid);
}

static double median_of(const struct run *r, size_t n, size_t field)
{
	double v[MAX_RUNS];
	for (size_t i = 0; i < n; i++)
		v[i] = *(const double *)(const void *)((const char *)&r[i] + field);
	return bench_median(v, n);
}

int main(int argc, char **argv)
{
	struct run runs_[MAX_RUNS], *restarts = runs_ + 1;
	double settle;
	size_t nrest;
	int runs;

	if (argc != 6) {
		fprintf(stderr, "usage: startup ATRIUM_BIN DATA_DIR RUNS SETTLE_MS LOG_FILE\n"
				"  DATA_DIR should not exist yet: the first run is a first start\n");
		return 2;
	}
	runs = (int)bench_num(PROG, "RUNS", argv[3]);
	settle = bench_num(PROG, "SETTLE_MS", argv[4]);
	log_path = argv[5];
	if (runs < 2 || runs > MAX_RUNS)
		bench_die(PROG, "RUNS must be 2..%d (one first start, then restarts)", MAX_RUNS);
	for (int i = 0; i < runs; i++)
		if (one_run(argv[1], argv[2], settle, &runs_[i]) < 0)
			return 1;
	nrest = (size_t)runs - 1;
	printf("first_start_ms=%.1f first_cpu_ms=%.1f first_rss_kib=%.0f start_ms=%.1f start_cpu_ms=%.1f "
	       "start_wait_ms=%.1f rss_kib=%.0f runs=%d\n",
	       runs_[0].ms, runs_[0].cpu_ms, runs_[0].kib, median_of(restarts, nrest, offsetof(struct run, ms)),
	       median_of(restarts, nrest, offsetof(struct run, cpu_ms)),
	       median_of(restarts, nrest, offsetof(struct run, wait_ms)),
	       median_of(restarts, nrest, offsetof(struct run, kib)), runs);
	return 0;
}
