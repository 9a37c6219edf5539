/*
 * dispatch_sim.c: the dispatch scenario's simulated workers, and its report.
 *
 * Serve mode registers W workers with Atrium (POST /api/v1/workers/register with a join
 * token, names sim-000 .. and URLs http://127.0.0.1:PORT/w<i>: one listener serves them all,
 * by path prefix; the server appends /v1/jobs), heartbeats for every one of them with the ids
 * of the jobs it holds (docs/workers.md: a job a worker does not list is lost after the
 * server's dispatch grace), and answers each dispatch (POST /w<i>/v1/jobs) with 201 at once,
 * recording when it arrived (CLOCK_MONOTONIC, the clock loadgen -R writes). Once N jobs have
 * arrived it writes them to RECV_FILE ("ID NS WORKER" lines) and goes on heartbeating until
 * SIGTERM. The jobs never end: a simulated worker runs them forever.
 *
 * Report mode joins loadgen's record of the submissions (-R: "ID SENT_NS DONE_NS STATUS") with
 * RECV_FILE and prints: how long from the first submission to the last dispatch, and the
 * submit-to-worker latency (request sent -> dispatch received) per job.
 *
 * Not here: submitting the jobs (loadgen -N, driven by bench/scenarios/50-dispatch.sh).
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

#define PROG "dispatch_sim"
#define MAX_WORKERS 1000
#define MAX_BODY 65536
#define HB_MAX_RUNNING 4096 /* the heartbeat schema's limit */

static const char usage[] =
	"usage: dispatch_sim -f ADDR_FILE -j JOIN_TOKEN_FILE -w WORKERS -n JOBS -o RECV_FILE [-r READY_FILE]\n"
	"       dispatch_sim -s SUBMIT_FILE -o RECV_FILE\n"
	"  serve mode: registers WORKERS simulated workers with the Atrium at ADDR_FILE, heartbeats for\n"
	"  them, accepts every dispatch with 201 and, once JOBS have arrived, writes RECV_FILE; writes\n"
	"  READY_FILE once all are registered; runs until SIGTERM\n"
	"  report mode: joins loadgen's -R record with RECV_FILE and prints\n"
	"  jobs= dispatched= missing= duplicates= all_dispatched_s= submit_s= p50_ms= p99_ms= max_ms=\n"
	"  (a job whose dispatch arrived twice, a retry, counts from its first arrival)\n";

struct arrival {
	int64_t id;
	uint64_t ns;
	int worker;
};

struct worker {
	int64_t id;
	char secret[128];
	int64_t *running; /* job ids it holds */
	size_t nrunning, cap;
};

static struct sim {
	int atrium_port, port;
	int nworkers;
	struct worker w[MAX_WORKERS];
	int heartbeat_s;
	size_t want;
	struct arrival *arr;
	size_t narr, cap;
	const char *recv_file;
	bool written;
	pthread_mutex_t mu;
	volatile sig_atomic_t stop;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

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
		/* big enough to hold every job of the scenario: capacity never limits dispatch */
		json_object_set_new(o, "join_token", json_string(join_token));
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "url", json_string(url));
		json_object_set_new(o, "cpus", json_integer(1024));
		json_object_set_new(o, "memory_mb", json_integer(1048576));
		json_object_set_new(o, "version", json_string("bench"));
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
			for (size_t k = 0; k < S.w[i].nrunning && k < HB_MAX_RUNNING; k++)
				json_array_append_new(run, json_integer(S.w[i].running[k]));
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

/* ---- the workers' API: POST /w<i>/v1/jobs ---- */

struct upload {
	char *body;
	size_t len;
};

static void write_arrivals(void)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.part", S.recv_file);
	if (!(f = fopen(tmp, "w")))
		bench_die(PROG, "cannot write '%s'", tmp);
	for (size_t i = 0; i < S.narr; i++)
		fprintf(f, "%lld %llu %d\n", (long long)S.arr[i].id, (unsigned long long)S.arr[i].ns, S.arr[i].worker);
	if (fclose(f) != 0 || rename(tmp, S.recv_file) != 0)
		bench_die(PROG, "cannot write '%s'", S.recv_file);
}

static void arrived(int64_t job, int wi)
{
	uint64_t now = bench_now_ns();
	struct worker *w = &S.w[wi];

	pthread_mutex_lock(&S.mu);
	if (S.narr == S.cap) {
		size_t ncap = S.cap ? S.cap * 2 : 16384;
		struct arrival *p = realloc(S.arr, ncap * sizeof(*p));
		if (!p)
			bench_die(PROG, "out of memory");
		S.arr = p;
		S.cap = ncap;
	}
	S.arr[S.narr++] = (struct arrival){ job, now, wi };
	if (w->nrunning == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		int64_t *p = realloc(w->running, ncap * sizeof(*p));
		if (!p)
			bench_die(PROG, "out of memory");
		w->running = p;
		w->cap = ncap;
	}
	w->running[w->nrunning++] = job;
	if (!S.written && S.narr >= S.want) {
		S.written = true;
		write_arrivals();
	}
	pthread_mutex_unlock(&S.mu);
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

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				 const char *version, const char *data, size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	const char *rest = NULL, *auth;
	char reply[128];
	int wi = worker_of(url, &rest);
	json_t *o;
	int64_t job;

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
		return answer(c, 202, "{\"state\":\"cancelled\"}");
	if (strcmp(method, "POST") != 0 || *rest)
		return answer(c, 405,
			      "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"no\",\"field\":null}}");
	o = u->body ? json_loadb(u->body, u->len, 0, NULL) : NULL;
	job = json_is_integer(json_object_get(o, "id")) ? json_integer_value(json_object_get(o, "id")) : -1;
	json_decref(o);
	if (job < 0)
		return answer(c, 400, "{\"error\":{\"code\":\"invalid\",\"message\":\"no id\",\"field\":\"id\"}}");
	arrived(job, wi);
	snprintf(reply, sizeof(reply), "{\"id\":%lld,\"attempt\":1,\"state\":\"running\",\"message\":null}",
		 (long long)job);
	return answer(c, 201, reply);
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

static int serve(const char *addr_file, const char *join_file, const char *ready_file)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	pthread_t hb;
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
	/* 100 workers' worth of connections on one listener: the server opens one per transfer */
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
	if (ready_file) {
		if (!(f = fopen(ready_file, "w")) || fprintf(f, "127.0.0.1:%d\n", S.port) < 0 || fclose(f) != 0)
			bench_die(PROG, "cannot write '%s'", ready_file);
	}
	while (!S.stop)
		bench_sleep_ns(50000000ULL);
	pthread_join(hb, NULL);
	MHD_stop_daemon(d);
	pthread_mutex_lock(&S.mu);
	if (!S.written)
		write_arrivals(); /* what arrived, for a report of an incomplete run */
	pthread_mutex_unlock(&S.mu);
	for (int i = 0; i < S.nworkers; i++)
		free(S.w[i].running);
	free(S.arr);
	return 0;
}

/* ---- report ---- */

static int cmp_id(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

static int report(const char *submit_file, const char *recv_file)
{
	FILE *fs = fopen(submit_file, "r"), *fr = fopen(recv_file, "r");
	struct arrival *sub = NULL, *rec = NULL;
	size_t ns = 0, nr = 0, cs = 0, cr = 0, nlat = 0, missing = 0, dups = 0;
	uint64_t first = UINT64_MAX, last_done = 0, last_recv = 0;
	double *lat;
	long long id;
	unsigned long long a, b;
	int st, wi;

	if (!fs || !fr)
		bench_die(PROG, "cannot read '%s' or '%s'", submit_file, recv_file);
	while (fscanf(fs, "%lld %llu %llu %d", &id, &a, &b, &st) == 4) {
		if (ns == cs && !(sub = realloc(sub, (cs = cs ? cs * 2 : 16384) * sizeof(*sub))))
			bench_die(PROG, "out of memory");
		if (st != 201)
			bench_die(PROG, "a submission answered %d", st);
		sub[ns++] = (struct arrival){ id, a, 0 };
		if (a < first)
			first = a;
		if (b > last_done)
			last_done = b;
	}
	while (fscanf(fr, "%lld %llu %d", &id, &a, &wi) == 3) {
		if (nr == cr && !(rec = realloc(rec, (cr = cr ? cr * 2 : 16384) * sizeof(*rec))))
			bench_die(PROG, "out of memory");
		rec[nr++] = (struct arrival){ id, a, wi };
		if (a > last_recv)
			last_recv = a;
	}
	fclose(fs);
	fclose(fr);
	if (!ns)
		bench_die(PROG, "no submissions in '%s'", submit_file);
	qsort(sub, ns, sizeof(*sub), cmp_id);
	qsort(rec, nr, sizeof(*rec), cmp_id);
	for (size_t k = 1; k < nr; k++)
		dups += rec[k].id == rec[k - 1].id; /* sent again (a retry): the first arrival counts */
	if (!(lat = malloc((ns + 1) * sizeof(*lat))))
		bench_die(PROG, "out of memory");
	for (size_t i = 0, k = 0; i < ns; i++) {
		while (k < nr && rec[k].id < sub[i].id)
			k++;
		if (k < nr && rec[k].id == sub[i].id)
			lat[nlat++] = (double)(rec[k].ns - sub[i].ns) / 1e6;
		else
			missing++;
	}
	bench_median(lat, nlat); /* sorts */
	printf("jobs=%zu dispatched=%zu missing=%zu duplicates=%zu all_dispatched_s=%.3f submit_s=%.3f p50_ms=%.2f "
	       "p99_ms=%.2f "
	       "max_ms=%.2f\n",
	       ns, nlat, missing, dups, nr ? (double)(last_recv - first) / 1e9 : -1.0,
	       (double)(last_done - first) / 1e9, nlat ? lat[nlat / 2] : -1.0,
	       nlat ? lat[(size_t)((double)nlat * 0.99)] : -1.0, nlat ? lat[nlat - 1] : -1.0);
	free(lat);
	free(sub);
	free(rec);
	return missing ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *join = NULL, *ready = NULL, *submit = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "f:j:w:n:o:r:s:h")) != -1) {
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
			S.want = (size_t)bench_num(PROG, "-n", optarg);
			break;
		case 'o':
			S.recv_file = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 's':
			submit = optarg;
			break;
		default:
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : 2;
		}
	}
	if (!S.recv_file || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (submit)
		return report(submit, S.recv_file);
	if (!addr || !join || S.nworkers < 1 || S.nworkers > MAX_WORKERS || S.want < 1) {
		fputs(usage, stderr);
		return 2;
	}
	return serve(addr, join, ready);
}
