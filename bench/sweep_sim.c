/*
 * sweep_sim.c: the sweep scenario's simulated GPU workers, and its report.
 *
 * Serve mode registers W workers with Atrium (one GPU each; one listener serves them all by
 * path, /w<i>/v1/jobs, as bench/dispatch_sim.c does), heartbeats for them with the job each
 * holds, and "trains" every trial dispatched to it: the trial's parameter q is the last word
 * of its command; every STEP_MS it logs loss = q/100 + 1/step (+ a little noise) for the
 * next step through the trial's run's metrics with the job's token (POST
 * /api/v1/runs/{run}/metrics, as training code does), up to STEPS steps, then reports the job
 * succeeded (POST /api/v1/workers/jobs/{id}/status with the worker's secret). A cancel
 * (DELETE /w<i>/v1/jobs/{id}: ASHA stopped the trial) is noted and reported `cancelled` at
 * once, so the server frees the GPU. It records, per worker, when each dispatch and each
 * cancel arrived and how long each metric request took, and writes them to OUT_FILE at
 * SIGTERM ("D NS WORKER JOB", "C NS WORKER JOB", "M LAT_NS" lines).
 *
 * Report mode reads OUT_FILE and prints: trials dispatched, stopped, the time from a cancel
 * reaching a worker to the next trial's dispatch reaching the same (freed) worker p50/p99/max,
 * and the metric requests' latency p50/p99 (a client's view: HTTP, the store, ASHA).
 *
 * Not here: creating the launcher and the sweep, reading the daemon's own decision times from
 * /metrics (bench/scenarios/55-sweep.sh).
 */
#include "common.h"
#include "http_call.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "sweep_sim"
#define MAX_WORKERS 1000
#define MAX_BODY 65536
#define TRAINERS 4

static const char usage[] =
	"usage: sweep_sim -f ADDR_FILE -j JOIN_TOKEN_FILE -w WORKERS -n STEPS -i STEP_MS -o OUT_FILE [-r READY_FILE]\n"
	"       sweep_sim -s OUT_FILE\n"
	"  serve mode: WORKERS simulated one-GPU workers train the trials dispatched to them, STEPS\n"
	"  points each, one per STEP_MS; a cancel is reported at once; records go to OUT_FILE at SIGTERM\n"
	"  report mode: trials= stopped= free_p50_ms= free_p99_ms= free_max_ms= metric_p50_ms=\n"
	"  metric_p99_ms= metrics= heartbeat_s=\n";

struct job {
	int64_t id, run_id, attempt;
	char token[128];
	double q;
	int step;
	uint64_t next_due;
	bool cancelled;
};

struct worker {
	int64_t id;
	char secret[128];
	struct job job; /* id 0: idle */
};

struct event {
	char kind; /* D, C, M */
	uint64_t ns;
	int worker;
	int64_t job;
};

static struct sim {
	int atrium_port, port;
	int nworkers;
	struct worker w[MAX_WORKERS];
	int heartbeat_s;
	int steps;
	uint64_t step_ns;
	struct event *ev;
	size_t nev, cap;
	const char *out_file;
	pthread_mutex_t mu;
	volatile sig_atomic_t stop;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void note(char kind, uint64_t ns, int worker, int64_t job)
{
	if (S.nev == S.cap) {
		size_t ncap = S.cap ? S.cap * 2 : 65536;
		struct event *p = realloc(S.ev, ncap * sizeof(*p));
		if (!p)
			bench_die(PROG, "out of memory");
		S.ev = p;
		S.cap = ncap;
	}
	S.ev[S.nev++] = (struct event){ kind, ns, worker, job };
}

static void register_workers(const char *join_token)
{
	static char out[65536];

	for (int i = 0; i < S.nworkers; i++) {
		char name[32], url[96];
		json_t *o = json_object();
		char *body;
		int status;

		snprintf(name, sizeof(name), "sim-%03d", i);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/w%d", S.port, i);
		/* one GPU each: a worker holds one trial at a time */
		json_object_set_new(o, "join_token", json_string(join_token));
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "url", json_string(url));
		json_object_set_new(o, "cpus", json_integer(1024));
		json_object_set_new(o, "memory_mb", json_integer(1048576));
		json_object_set_new(o, "version", json_string("bench"));
		json_object_set_new(o, "gpus",
				    json_pack("[{s:i, s:s, s:i}]", "index", 0, "name", "SIM", "memory_mb", 1024));
		body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		status = body ? bench_http_call(S.atrium_port, "POST", "/api/v1/workers/register", NULL, body, out,
						sizeof(out))
			      : -1;
		free(body);
		if (status != 201)
			bench_die(PROG, "registering worker %d: HTTP %d: %.300s", i, status, out);
		o = json_loads(out, 0, NULL);
		if (!o || !json_is_integer(json_object_get(o, "worker_id")) ||
		    !json_is_string(json_object_get(o, "secret")))
			bench_die(PROG, "registering worker %d: unexpected answer %.300s", i, out);
		S.w[i].id = json_integer_value(json_object_get(o, "worker_id"));
		snprintf(S.w[i].secret, sizeof(S.w[i].secret), "%s", json_string_value(json_object_get(o, "secret")));
		if (json_is_integer(json_object_get(o, "heartbeat_s")))
			S.heartbeat_s = (int)json_integer_value(json_object_get(o, "heartbeat_s"));
		json_decref(o);
	}
}

/* Every few seconds, each worker says which jobs it holds. */
static void *heartbeats(void *arg)
{
	static char out[65536];
	unsigned period = S.heartbeat_s > 0 && S.heartbeat_s < 2 ? (unsigned)S.heartbeat_s : 2;

	(void)arg;
	while (!S.stop) {
		for (int i = 0; i < S.nworkers && !S.stop; i++) {
			json_t *o = json_object(), *run = json_array();
			char *body;
			int status;

			pthread_mutex_lock(&S.mu);
			if (S.w[i].job.id)
				json_array_append_new(run, json_integer(S.w[i].job.id));
			pthread_mutex_unlock(&S.mu);
			json_object_set_new(o, "running", run);
			json_object_set_new(o, "load", json_real(0));
			body = json_dumps(o, JSON_COMPACT);
			json_decref(o);
			status = body ? bench_http_call(S.atrium_port, "POST", "/api/v1/workers/heartbeat",
							S.w[i].secret, body, out, sizeof(out))
				      : -1;
			free(body);
			if (status != 200 && !S.stop)
				fprintf(stderr, "%s: heartbeat of worker %d: HTTP %d: %.200s\n", PROG, i, status, out);
		}
		for (unsigned t = 0; t < period * 10 && !S.stop; t++)
			bench_sleep_ns(100000000ULL);
	}
	return NULL;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "application/json");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* The worker index of "/w<i>/v1/jobs[/...]", -1 for anything else. */
static int worker_of(const char *url, const char **rest)
{
	char *end = NULL;
	long i;

	if (url[0] != '/' || url[1] != 'w')
		return -1;
	i = strtol(url + 2, &end, 10);
	if (end == url + 2 || i < 0 || i >= S.nworkers || strncmp(end, "/v1/jobs", 8) != 0)
		return -1;
	*rest = end + 8;
	return (int)i;
}

/* ---- training: each trainer thread drives the trials of every TRAINERS-th worker ---- */

static void report_end(int wi, const struct job *j, const char *state)
{
	char path[96], body[256], out[4096];
	int status;

	snprintf(path, sizeof(path), "/api/v1/workers/jobs/%lld/status", (long long)j->id);
	snprintf(body, sizeof(body), "{\"state\":\"%s\",\"attempt\":%lld,\"exit_code\":%s,\"log_bytes\":0}", state,
		 (long long)j->attempt, strcmp(state, "succeeded") ? "null" : "0");
	status = bench_http_call(S.atrium_port, "POST", path, S.w[wi].secret, body, out, sizeof(out));
	if (status != 200 && !S.stop)
		fprintf(stderr, "%s: report of job %lld: HTTP %d: %.200s\n", PROG, (long long)j->id, status, out);
}

/* One step of worker wi's trial: its point, or its end. */
static void train(int wi, uint64_t now)
{
	struct job j;
	char path[96], body[256], out[4096];
	uint64_t t0;
	int status;

	pthread_mutex_lock(&S.mu);
	j = S.w[wi].job;
	if (j.id && (j.cancelled || j.step >= S.steps))
		S.w[wi].job.id = 0; /* ends now: reported below */
	else if (j.id && now >= j.next_due) {
		S.w[wi].job.step++;
		S.w[wi].job.next_due = now + S.step_ns;
	}
	pthread_mutex_unlock(&S.mu);
	if (!j.id)
		return;
	if (j.cancelled || j.step >= S.steps) {
		report_end(wi, &j, j.cancelled ? "cancelled" : "succeeded");
		return;
	}
	if (now < j.next_due)
		return;
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/metrics", (long long)j.run_id);
	snprintf(body, sizeof(body), "{\"metrics\":[{\"key\":\"loss\",\"value\":%.6f,\"step\":%d}]}",
		 j.q / 100.0 + 1.0 / (j.step + 1) + (double)((j.id * 7919 + j.step * 104729) % 1000) / 1e5, j.step + 1);
	t0 = bench_now_ns();
	status = bench_http_call(S.atrium_port, "POST", path, j.token, body, out, sizeof(out));
	if (status == 200) {
		pthread_mutex_lock(&S.mu);
		note('M', bench_now_ns() - t0, wi, j.id);
		pthread_mutex_unlock(&S.mu);
	} else if (!S.stop) {
		/* a cancelled job's token is revoked: a late point is refused, as for a real trainer */
		pthread_mutex_lock(&S.mu);
		if (S.w[wi].job.id == j.id)
			S.w[wi].job.cancelled = true;
		pthread_mutex_unlock(&S.mu);
	}
}

static void *trainer(void *arg)
{
	int t = (int)(intptr_t)arg;

	while (!S.stop) {
		uint64_t now = bench_now_ns();
		for (int i = t; i < S.nworkers && !S.stop; i += TRAINERS)
			train(i, now);
		bench_sleep_ns(500000ULL);
	}
	return NULL;
}

/* ---- the workers' API: POST /w<i>/v1/jobs (dispatch), DELETE /w<i>/v1/jobs/{id} (cancel) ---- */

struct upload {
	char *body;
	size_t len;
};

/* A dispatch: the trial's id, run, attempt, token, and q (its command's last word). */
static enum MHD_Result dispatched(struct MHD_Connection *c, int wi, const struct upload *u)
{
	json_t *o = u->body ? json_loadb(u->body, u->len, 0, NULL) : NULL, *cmd = json_object_get(o, "command");
	const char *q = json_string_value(json_array_get(cmd, json_array_size(cmd) - 1));
	struct job j = { 0 };
	char reply[160];

	j.id = json_integer_value(json_object_get(o, "id"));
	j.run_id = json_integer_value(json_object_get(o, "run_id"));
	j.attempt = json_integer_value(json_object_get(o, "attempt"));
	snprintf(j.token, sizeof(j.token), "%s",
		 json_is_string(json_object_get(o, "token")) ? json_string_value(json_object_get(o, "token")) : "");
	j.q = q ? strtod(q, NULL) : 0;
	json_decref(o);
	if (j.id <= 0 || j.run_id <= 0)
		return answer(c, 400, "{\"error\":{\"code\":\"invalid\",\"message\":\"no id\",\"field\":\"id\"}}");
	pthread_mutex_lock(&S.mu);
	if (S.w[wi].job.id) {
		pthread_mutex_unlock(&S.mu);
		return answer(c, 409,
			      "{\"error\":{\"code\":\"conflict\",\"message\":\"GPU in use\",\"field\":\"gpus\"}}");
	}
	j.next_due = bench_now_ns();
	S.w[wi].job = j;
	note('D', bench_now_ns(), wi, j.id);
	pthread_mutex_unlock(&S.mu);
	snprintf(reply, sizeof(reply), "{\"id\":%lld,\"attempt\":%lld,\"state\":\"running\",\"message\":null}",
		 (long long)j.id, (long long)j.attempt);
	return answer(c, 201, reply);
}

static enum MHD_Result cancelled(struct MHD_Connection *c, int wi, const char *rest)
{
	int64_t id = rest[0] == '/' ? strtoll(rest + 1, NULL, 10) : 0;
	bool held;

	pthread_mutex_lock(&S.mu);
	held = id && S.w[wi].job.id == id;
	if (held && !S.w[wi].job.cancelled) {
		S.w[wi].job.cancelled = true;
		note('C', bench_now_ns(), wi, id);
	}
	pthread_mutex_unlock(&S.mu);
	return held ? answer(c, 202, "{\"state\":\"running\"}")
		    : answer(c, 404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such job\",\"field\":null}}");
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				 const char *version, const char *data, size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	const char *rest = NULL, *auth;
	int wi = worker_of(url, &rest);

	(void)cls;
	(void)version;
	if (!u) {
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*size) {
		if (u->len + *size <= MAX_BODY) {
			char *p = realloc(u->body, u->len + *size + 1);
			if (!p)
				return MHD_NO;
			memcpy(p + u->len, data, *size);
			u->body = p;
			u->len += *size;
			u->body[u->len] = 0;
		}
		*size = 0;
		return MHD_YES;
	}
	if (wi < 0)
		return answer(c, 404,
			      "{\"error\":{\"code\":\"not_found\",\"message\":\"no such worker\",\"field\":null}}");
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, S.w[wi].secret) != 0)
		return answer(c, 401,
			      "{\"error\":{\"code\":\"unauthorized\",\"message\":\"bad secret\",\"field\":null}}");
	if (strcmp(method, "DELETE") == 0)
		return cancelled(c, wi, rest);
	if (strcmp(method, "POST") == 0 && !*rest)
		return dispatched(c, wi, u);
	return answer(c, 405, "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"no\",\"field\":null}}");
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		free(u->body);
		free(u);
		*con_cls = NULL;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	S.stop = 1;
}

static void write_events(void)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.part", S.out_file);
	if (!(f = fopen(tmp, "w")))
		bench_die(PROG, "cannot write '%s'", tmp);
	fprintf(f, "H %d 0 0\n", S.heartbeat_s);
	for (size_t i = 0; i < S.nev; i++)
		fprintf(f, "%c %llu %d %lld\n", S.ev[i].kind, (unsigned long long)S.ev[i].ns, S.ev[i].worker,
			(long long)S.ev[i].job);
	if (fclose(f) != 0 || rename(tmp, S.out_file) != 0)
		bench_die(PROG, "cannot write '%s'", S.out_file);
}

static int serve(const char *addr_file, const char *join_file, const char *ready_file)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	pthread_t hb, tr[TRAINERS];
	char *join;
	FILE *f;

	if ((S.atrium_port = bench_read_port_file(addr_file)) < 0)
		bench_die(PROG, "no port in '%s'", addr_file);
	if (!(join = bench_read_file(join_file, NULL)))
		bench_die(PROG, "cannot read '%s'", join_file);
	join[strcspn(join, "\r\n")] = 0;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0,
			     NULL, NULL, on_access, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
			     MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16000,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)60, MHD_OPTION_END);
	if (!d || !(info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)))
		bench_die(PROG, "cannot listen on 127.0.0.1");
	S.port = info->port;
	register_workers(join);
	free(join);
	if (pthread_create(&hb, NULL, heartbeats, NULL) != 0)
		bench_die(PROG, "cannot start the heartbeat thread");
	for (intptr_t t = 0; t < TRAINERS; t++)
		if (pthread_create(&tr[t], NULL, trainer, (void *)t) != 0)
			bench_die(PROG, "cannot start a trainer thread");
	if (ready_file) {
		if (!(f = fopen(ready_file, "w")) || fprintf(f, "127.0.0.1:%d\n", S.port) < 0 || fclose(f) != 0)
			bench_die(PROG, "cannot write '%s'", ready_file);
	}
	while (!S.stop)
		bench_sleep_ns(50000000ULL);
	pthread_join(hb, NULL);
	for (int t = 0; t < TRAINERS; t++)
		pthread_join(tr[t], NULL);
	MHD_stop_daemon(d);
	write_events();
	free(S.ev);
	return 0;
}

/* ---- report ---- */

static double pct(double *v, size_t n, double p)
{
	return n ? v[(size_t)(p * (double)(n - 1))] : -1.0;
}

static int report(const char *file)
{
	FILE *f = fopen(file, "r");
	struct event *ev = NULL;
	size_t n = 0, cap = 0, nfree = 0, nm = 0, trials = 0, stopped = 0;
	double *gap, *met;
	unsigned long long ns;
	long long job;
	int wi, hb = 0;
	char kind;

	if (!f)
		bench_die(PROG, "cannot read '%s'", file);
	while (fscanf(f, " %c %llu %d %lld", &kind, &ns, &wi, &job) == 4) {
		if (kind == 'H') {
			hb = (int)ns;
			continue;
		}
		if (n == cap && !(ev = realloc(ev, (cap = cap ? cap * 2 : 65536) * sizeof(*ev))))
			bench_die(PROG, "out of memory");
		ev[n++] = (struct event){ kind, ns, wi, job };
	}
	fclose(f);
	if (!(gap = malloc((n + 1) * sizeof(*gap))) || !(met = malloc((n + 1) * sizeof(*met))))
		bench_die(PROG, "out of memory");
	/* events are in arrival order: a cancel on worker w is answered by w's next dispatch */
	for (size_t i = 0; i < n; i++) {
		trials += ev[i].kind == 'D';
		if (ev[i].kind == 'M')
			met[nm++] = (double)ev[i].ns / 1e6;
		if (ev[i].kind != 'C')
			continue;
		stopped++;
		for (size_t k = i + 1; k < n; k++)
			if (ev[k].kind == 'D' && ev[k].worker == ev[i].worker) {
				gap[nfree++] = (double)(ev[k].ns - ev[i].ns) / 1e6;
				break;
			}
	}
	qsort(gap, nfree, sizeof(*gap), bench_cmp_double);
	qsort(met, nm, sizeof(*met), bench_cmp_double);
	printf("trials=%zu stopped=%zu refilled=%zu free_p50_ms=%.2f free_p99_ms=%.2f free_max_ms=%.2f "
	       "metric_p50_ms=%.3f metric_p99_ms=%.3f metrics=%zu heartbeat_s=%d\n",
	       trials, stopped, nfree, pct(gap, nfree, 0.5), pct(gap, nfree, 0.99), nfree ? gap[nfree - 1] : -1.0,
	       pct(met, nm, 0.5), pct(met, nm, 0.99), nm, hb);
	free(gap);
	free(met);
	free(ev);
	return trials ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *join = NULL, *ready = NULL, *rep = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "f:j:w:n:i:o:r:s:h")) != -1) {
		switch (ch) {
		case 'f':
			addr = optarg;
			break;
		case 'j':
			join = optarg;
			break;
		case 'w':
			S.nworkers = (int)bench_num(PROG, "-w", optarg);
			break;
		case 'n':
			S.steps = (int)bench_num(PROG, "-n", optarg);
			break;
		case 'i':
			S.step_ns = (uint64_t)(bench_num(PROG, "-i", optarg) * 1e6);
			break;
		case 'o':
			S.out_file = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 's':
			rep = optarg;
			break;
		default:
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (rep)
		return report(rep);
	if (!addr || !join || !S.out_file || S.nworkers < 1 || S.nworkers > MAX_WORKERS || S.steps < 1) {
		fputs(usage, stderr);
		return 2;
	}
	return serve(addr, join, ready);
}
