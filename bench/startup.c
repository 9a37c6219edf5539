/*
 * startup.c: the footprint scenario's probe. Starts `atrium serve --listen 127.0.0.1:0` on a
 * data dir RUNS times; each time it measures the time from just before the exec to the first
 * 200 from /healthz (polling DATA_DIR/listen.addr, then the port, every 100 us), lets the
 * daemon sit idle for a moment, reads its VmRSS from /proc/PID/status, and stops it with
 * SIGTERM, which must end it with status 0. The first run finds an empty data dir (migrations
 * and the first admin are part of it); the others are restarts. Prints one key=value line:
 * first_start_ms= first_rss_kib= start_ms= rss_kib= runs= (start_ms and rss_kib: medians of
 * the restarts). Not here: any load (the API scenarios measure RSS under load).
 */
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
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
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
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
			WIFEXITED(status) ? "status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			log_path);
		return -1;
	}
	return 0;
}

/* One start: milliseconds to the first 200 from /healthz, and the idle RSS after settle_ms. */
static int one_run(const char *bin, const char *dir, double settle_ms, double *ms, long *kib)
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
	*ms = (double)(t1 - t0) / 1e6;
	bench_sleep_ns((uint64_t)(settle_ms * 1e6));
	*kib = rss_kib(pid);
	return stop(pid);
}

int main(int argc, char **argv)
{
	double start_ms[MAX_RUNS], rss[MAX_RUNS], first_ms = 0, settle;
	long first_rss = 0;
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
	for (int i = 0; i < runs; i++) {
		double ms;
		long kib;
		if (one_run(argv[1], argv[2], settle, &ms, &kib) < 0)
			return 1;
		if (i == 0) {
			first_ms = ms;
			first_rss = kib;
		} else {
			start_ms[i - 1] = ms;
			rss[i - 1] = (double)kib;
		}
	}
	printf("first_start_ms=%.1f first_rss_kib=%ld start_ms=%.1f rss_kib=%.0f runs=%d\n", first_ms, first_rss,
	       bench_median(start_ms, (size_t)runs - 1), bench_median(rss, (size_t)runs - 1), runs);
	return 0;
}
