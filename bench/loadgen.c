/*
 * loadgen.c: the benchmark's HTTP/1.1 load generator. One thread, one epoll set, N keep-alive
 * connections on loopback; each connection sends a request, reads the whole answer
 * (Content-Length, chunked, or until close), records the latency and sends the next. After a
 * warm-up whose figures are thrown away it measures for a fixed time and prints one line of
 * key=value results: req/s (2xx answers only), latency percentiles from a log-linear
 * histogram (1.6% resolution), errors (transport) and non-2xx answers, and its own CPU use,
 * so a run can tell whether the generator itself was the bottleneck.
 *
 * A one-shot mode (-1) sends a single request and writes the body out: bench/run.sh seeds
 * data and fetches the bytes the reference server replays with it, so the driver needs no
 * curl or jq. A counted mode (-N) sends a fixed number of requests as fast as the connections
 * allow and can record each answer (-R: when it was sent and answered, its status and the
 * first "id" in its body), which is how the dispatch scenario learns when each job was
 * submitted. Not here: anything about what is measured (the scenarios in bench/scenarios/).
 */
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "loadgen"
#define MAX_CONNS 4096
#define MAX_HEADERS 32
#define HDR_CAP 16384
#define CAPTURE_CAP (64u << 20)

static const char usage[] =
	"usage: loadgen [options]\n"
	"  -p PORT        server port on 127.0.0.1 (or -f FILE: read it from a host:port file)\n"
	"  -c CONNS       keep-alive connections (32)\n"
	"  -d SECONDS     measured duration (5); in -1 mode, the time limit (10)\n"
	"  -w SECONDS     warm-up before measuring (1)\n"
	"  -m METHOD      request method (GET)\n"
	"  -u PATH        request path (/); '{n}' is replaced by a request counter\n"
	"  -H 'K: V'      extra request header (repeatable)\n"
	"  -a FILE        send 'Authorization: Bearer <first line of FILE>'\n"
	"  -b BODY        request body; '{n}' is replaced by a request counter\n"
	"  -n START       the first value of the '{n}' counter (0)\n"
	"  -N COUNT       send COUNT requests in all, then stop (no time limit; -w and -d are ignored)\n"
	"  -R FILE        with -N: write one line per answer: 'ID SENT_NS DONE_NS STATUS' (CLOCK_MONOTONIC;\n"
	"                 ID is the first \"id\" number of the body, -1 when there is none)\n"
	"  -1             one request only: body to stdout (or -o FILE), exit 0 on 2xx, 3 otherwise\n"
	"  -o FILE        with -1: write the body here\n"
	"  -t FILE        with -1: write the answer's Content-Type here\n"
	"  -P PID         also report the server's CPU time per answer (from /proc/PID/stat)\n"
	"output (not -1): requests= rps= p50_us= p90_us= p99_us= max_us= errors= non2xx= bad_status=\n"
	"                 bytes= cpu_pct= server_us_per_req= seconds=\n"
	"                 (errors: the whole run, warm-up included; the rest: the measured part)\n";

/* ---- latency histogram: log-linear, 64 sub-buckets per power of two (<= 1.6% error) ---- */

#define H_SUB 64
#define H_BUCKETS (2 * H_SUB + 58 * H_SUB)

struct hist {
	uint64_t count[H_BUCKETS];
	uint64_t n, max;
};

static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift;
	if (v < 2 * H_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - 6; /* v >> shift is in [64, 127] */
	return 2 * H_SUB + (shift - 1) * H_SUB + (unsigned)((v >> shift) - H_SUB);
}

static uint64_t hist_value(unsigned i)
{
	unsigned shift;
	if (i < 2 * H_SUB)
		return i;
	shift = (i - 2 * H_SUB) / H_SUB + 1;
	return ((uint64_t)((i - 2 * H_SUB) % H_SUB + H_SUB) << shift) + (1ull << shift) / 2; /* mid-bucket */
}

static void hist_add(struct hist *h, uint64_t v)
{
	unsigned i = hist_index(v);
	if (i >= H_BUCKETS)
		i = H_BUCKETS - 1;
	h->count[i]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

static uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t want = (uint64_t)(p / 100.0 * (double)h->n + 0.5), seen = 0;
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < H_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want)
			return hist_value(i) < h->max ? hist_value(i) : h->max;
	}
	return h->max;
}

/* ---- one answer, parsed as it streams in ---- */

enum rphase { R_HEAD, R_BODY_LEN, R_BODY_EOF, R_CHUNK_SIZE, R_CHUNK_DATA, R_CHUNK_END, R_TRAILER, R_DONE };

struct resp {
	enum rphase phase;
	char head[HDR_CAP];
	size_t hlen;
	char line[256]; /* chunk-size and trailer lines */
	size_t llen;
	uint64_t remain;
	int status;
	bool close;
	char ctype[256];
	uint64_t body_bytes;
	bool keep_body; /* -1 mode: the body is kept in capture */
	char *capture;
	size_t cap_len, cap_cap;
};

static void resp_reset(struct resp *r)
{
	r->phase = R_HEAD;
	r->hlen = r->llen = 0;
	r->remain = 0;
	r->status = 0;
	r->close = false;
	r->ctype[0] = 0;
	r->body_bytes = 0;
	r->cap_len = 0;
}

static int body_bytes(struct resp *r, const char *p, size_t n)
{
	r->body_bytes += n;
	if (!r->keep_body)
		return 0;
	if (r->cap_len + n > CAPTURE_CAP)
		return -1;
	if (r->cap_len + n > r->cap_cap) {
		size_t ncap = r->cap_cap > 4096 ? r->cap_cap : 4096;
		char *q;
		while (ncap < r->cap_len + n)
			ncap *= 2;
		q = realloc(r->capture, ncap);
		if (!q)
			return -1;
		r->capture = q;
		r->cap_cap = ncap;
	}
	memcpy(r->capture + r->cap_len, p, n);
	r->cap_len += n;
	return 0;
}

/* Header names are matched case-insensitively; v points after "name:" and spaces. */
static const char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return NULL;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static int parse_head(struct resp *r, bool head_request)
{
	char *p = r->head, *end = r->head + r->hlen, *eol;
	bool chunked = false, have_len = false;
	uint64_t len = 0;

	if (r->hlen < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return -1;
	r->status = (int)strtol(p + 9, NULL, 10);
	if (r->status < 100 || r->status > 999)
		return -1;
	if (strncmp(p, "HTTP/1.0", 8) == 0)
		r->close = true;
	while ((eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t ll = (size_t)(eol - p);
		const char *v;
		if (ll && p[ll - 1] == '\r')
			ll--;
		p[ll] = 0;
		if ((v = header_value(p, ll, "Content-Length")) != NULL) {
			char *e = NULL;
			len = strtoull(v, &e, 10);
			if (e == v)
				return -1;
			have_len = true;
		} else if ((v = header_value(p, ll, "Transfer-Encoding")) != NULL) {
			chunked = strstr(v, "chunked") != NULL;
		} else if ((v = header_value(p, ll, "Connection")) != NULL) {
			if (strncasecmp(v, "close", 5) == 0)
				r->close = true;
		} else if ((v = header_value(p, ll, "Content-Type")) != NULL) {
			snprintf(r->ctype, sizeof(r->ctype), "%s", v);
		}
		p = eol + 1;
	}
	if (head_request || r->status < 200 || r->status == 204 || r->status == 304)
		r->phase = R_DONE;
	else if (chunked)
		r->phase = R_CHUNK_SIZE;
	else if (have_len) {
		r->remain = len;
		r->phase = len ? R_BODY_LEN : R_DONE;
	} else {
		r->close = true;
		r->phase = R_BODY_EOF;
	}
	return 0;
}

/* Takes one line of a chunked body into r->line; true once the line is complete. */
static bool take_line(struct resp *r, const char **p, const char *end)
{
	while (*p < end) {
		char c = *(*p)++;
		if (c == '\n') {
			if (r->llen && r->line[r->llen - 1] == '\r')
				r->llen--;
			r->line[r->llen] = 0;
			return true;
		}
		if (r->llen + 1 < sizeof(r->line))
			r->line[r->llen++] = c;
	}
	return false;
}

/* Feeds received bytes; 1 when the answer is complete, 0 for more, -1 on a bad answer. */
static int resp_feed(struct resp *r, const char *p, size_t n, bool head_request)
{
	const char *end = p + n;

	if (r->phase == R_HEAD) {
		size_t before = r->hlen, from = before > 3 ? before - 3 : 0, take = n;
		char *hend;
		if (take > HDR_CAP - 1 - before)
			take = HDR_CAP - 1 - before;
		memcpy(r->head + before, p, take);
		r->hlen += take;
		r->head[r->hlen] = 0;
		hend = strstr(r->head + from, "\r\n\r\n");
		if (!hend)
			return r->hlen >= HDR_CAP - 1 ? -1 : 0;
		p += (size_t)(hend + 4 - r->head) - before; /* the body starts after the blank line */
		r->hlen = (size_t)(hend + 2 - r->head);	    /* keep the last header's CRLF */
		if (parse_head(r, head_request) < 0)
			return -1;
	}
	while (p < end && r->phase != R_DONE) {
		size_t k;
		switch (r->phase) {
		case R_BODY_LEN:
		case R_CHUNK_DATA:
			k = (size_t)(end - p) < r->remain ? (size_t)(end - p) : (size_t)r->remain;
			if (body_bytes(r, p, k) < 0)
				return -1;
			p += k;
			r->remain -= k;
			if (r->remain == 0)
				r->phase = r->phase == R_BODY_LEN ? R_DONE : R_CHUNK_END;
			break;
		case R_BODY_EOF:
			if (body_bytes(r, p, (size_t)(end - p)) < 0)
				return -1;
			p = end;
			break;
		case R_CHUNK_SIZE:
			if (take_line(r, &p, end)) {
				char *e = NULL;
				r->remain = strtoull(r->line, &e, 16);
				if (e == r->line)
					return -1;
				r->llen = 0;
				r->phase = r->remain ? R_CHUNK_DATA : R_TRAILER;
			}
			break;
		case R_CHUNK_END:
			if (take_line(r, &p, end)) {
				if (r->llen)
					return -1;
				r->phase = R_CHUNK_SIZE;
			}
			break;
		case R_TRAILER:
			if (take_line(r, &p, end)) {
				if (r->llen == 0)
					r->phase = R_DONE;
				r->llen = 0;
			}
			break;
		default:
			return -1;
		}
	}
	return r->phase == R_DONE;
}

/* ---- the requests ---- */

struct opts {
	int port;
	int conns;
	double duration, warmup;
	const char *method, *path, *body;
	const char *headers[MAX_HEADERS];
	int nheaders;
	char auth[600];
	bool once;
	const char *out_file, *ctype_file;
	bool templated;
	int server_pid;
	uint64_t first_n, total;
	const char *record_file;
};

enum cstate { C_CONNECTING, C_WRITING, C_READING, C_IDLE };

struct conn {
	int fd;
	enum cstate state;
	uint32_t events;
	char *req;
	size_t req_len, req_off, req_cap;
	uint64_t t0;
	struct resp resp;
};

/* One answer of a counted run (-R). */
struct record {
	int64_t id;
	uint64_t sent_ns, done_ns;
	int status;
};

struct gen {
	struct opts o;
	int ep;
	struct sockaddr_in addr;
	struct conn *conns;
	char *fixed_req; /* the request, when it has no {n} */
	size_t fixed_len;
	uint64_t counter;
	bool measuring, head_request;
	struct hist hist;
	uint64_t ok, non2xx, errors, bytes;
	int bad_status;
	bool stop;
	uint64_t answered; /* -N: answers and broken connections so far */
	struct record *rec;
	size_t nrec, reccap;
};

static size_t expand(char *out, size_t cap, const char *tmpl, uint64_t n)
{
	size_t pos = 0;
	char num[24];
	int nl = snprintf(num, sizeof(num), "%llu", (unsigned long long)n);

	for (const char *s = tmpl; *s; s++) {
		if (s[0] == '{' && s[1] == 'n' && s[2] == '}') {
			if (out && pos + (size_t)nl <= cap)
				memcpy(out + pos, num, (size_t)nl);
			pos += (size_t)nl;
			s += 2;
		} else {
			if (out && pos < cap)
				out[pos] = *s;
			pos++;
		}
	}
	return pos;
}

/* Writes the request for counter n into *buf (grown as needed); returns its length. */
static size_t build_request(struct gen *g, uint64_t n, char **buf, size_t *cap)
{
	const struct opts *o = &g->o;
	size_t plen = expand(NULL, 0, o->path, n), blen = o->body ? expand(NULL, 0, o->body, n) : 0;
	size_t need = strlen(o->method) + plen + strlen(o->auth) + blen + 200, pos = 0;
	bool has_body = o->body || strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0 ||
			strcmp(o->method, "PATCH") == 0;

	for (int i = 0; i < o->nheaders; i++)
		need += strlen(o->headers[i]) + 2;
	if (need > *cap) {
		char *p = realloc(*buf, need);
		if (!p)
			bench_die(PROG, "out of memory");
		*buf = p;
		*cap = need;
	}
	pos += (size_t)snprintf(*buf + pos, need - pos, "%s ", o->method);
	pos += expand(*buf + pos, need - pos, o->path, n);
	pos += (size_t)snprintf(*buf + pos, need - pos, " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s", o->port, o->auth);
	for (int i = 0; i < o->nheaders; i++)
		pos += (size_t)snprintf(*buf + pos, need - pos, "%s\r\n", o->headers[i]);
	if (has_body)
		pos += (size_t)snprintf(*buf + pos, need - pos, "Content-Length: %zu\r\n", blen);
	pos += (size_t)snprintf(*buf + pos, need - pos, "\r\n");
	if (o->body)
		pos += expand(*buf + pos, need - pos, o->body, n);
	return pos;
}

static void set_events(struct gen *g, struct conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (c->events == ev)
		return;
	if (epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		bench_die(PROG, "epoll_ctl: %s", strerror(errno));
	c->events = ev;
}

static void conn_open(struct gen *g, struct conn *c);

static void conn_fail(struct gen *g, struct conn *c)
{
	g->errors++;
	if (g->o.total && c->state != C_CONNECTING && ++g->answered >= g->o.total)
		g->stop = true; /* the request it carried counts as answered (an error) */
	if (g->o.once) {
		fprintf(stderr, "%s: connection to 127.0.0.1:%d failed or broke mid-answer\n", PROG, g->o.port);
		g->stop = true;
	}
	close(c->fd);
	c->fd = -1;
	if (!g->stop)
		conn_open(g, c);
}

static void conn_write(struct gen *g, struct conn *c)
{
	while (c->req_off < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			set_events(g, c, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			conn_fail(g, c);
			return;
		}
		c->req_off += (size_t)n;
	}
	c->state = C_READING;
	set_events(g, c, EPOLLIN);
}

static void conn_send(struct gen *g, struct conn *c)
{
	uint64_t n;

	if (g->o.total && g->counter - g->o.first_n >= g->o.total) {
		c->state = C_IDLE; /* every request is out: this connection is done */
		set_events(g, c, 0);
		return;
	}
	n = g->counter++;

	if (g->fixed_req) {
		c->req = g->fixed_req;
		c->req_len = g->fixed_len;
	} else {
		c->req_len = build_request(g, n, &c->req, &c->req_cap);
	}
	c->req_off = 0;
	c->state = C_WRITING;
	resp_reset(&c->resp);
	c->t0 = bench_now_ns();
	conn_write(g, c);
}

static void conn_open(struct gen *g, struct conn *c)
{
	struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		bench_die(PROG, "socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = C_CONNECTING;
	c->events = EPOLLOUT;
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		bench_die(PROG, "epoll_ctl: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&g->addr, sizeof(g->addr)) < 0 && errno != EINPROGRESS) {
		g->errors++;
		if (g->o.once) {
			fprintf(stderr, "%s: cannot connect to 127.0.0.1:%d: %s\n", PROG, g->o.port, strerror(errno));
			g->stop = true;
		}
		/* retried on the next EPOLLOUT/ERR, which a failed socket reports at once */
	}
}

/* The first "id": N of an answer's body, -1 when there is none. */
static int64_t first_id(const struct resp *r)
{
	const char *p = r->capture, *end = r->capture ? r->capture + r->cap_len : NULL;

	for (; p && end - p > 5; p++) {
		const char *v = p + 5;
		if (memcmp(p, "\"id\":", 5) != 0)
			continue;
		while (v < end && *v == ' ')
			v++;
		if (v < end && *v >= '0' && *v <= '9') {
			int64_t id = 0;
			for (; v < end && *v >= '0' && *v <= '9' && id < INT64_MAX / 10 - 9; v++)
				id = id * 10 + (*v - '0');
			return id;
		}
	}
	return -1;
}

static void record(struct gen *g, struct conn *c)
{
	if (g->nrec == g->reccap) {
		size_t ncap = g->reccap ? g->reccap * 2 : 4096;
		struct record *p = realloc(g->rec, ncap * sizeof(*p));
		if (!p)
			bench_die(PROG, "out of memory");
		g->rec = p;
		g->reccap = ncap;
	}
	g->rec[g->nrec++] = (struct record){ first_id(&c->resp), c->t0, bench_now_ns(), c->resp.status };
}

static void answer_done(struct gen *g, struct conn *c)
{
	struct resp *r = &c->resp;

	if (g->o.record_file)
		record(g, c);
	if (g->o.total && ++g->answered >= g->o.total)
		g->stop = true;

	if (g->measuring) {
		hist_add(&g->hist, bench_now_ns() - c->t0);
		g->bytes += r->body_bytes;
		if (r->status >= 200 && r->status < 300) {
			g->ok++;
		} else {
			g->non2xx++;
			if (!g->bad_status)
				g->bad_status = r->status;
		}
	}
	if (g->o.once) {
		g->stop = true;
		return;
	}
	if (r->close) {
		close(c->fd);
		conn_open(g, c);
		return;
	}
	conn_send(g, c);
}

static void conn_read(struct gen *g, struct conn *c)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		int rc;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			conn_fail(g, c);
			return;
		}
		if (n == 0) {
			if (c->resp.phase == R_BODY_EOF) {
				c->resp.phase = R_DONE;
				c->resp.close = true;
				answer_done(g, c);
			} else {
				conn_fail(g, c);
			}
			return;
		}
		rc = resp_feed(&c->resp, buf, (size_t)n, g->head_request);
		if (rc < 0) {
			if (g->o.once)
				fprintf(stderr, "%s: the answer is not valid HTTP/1.1\n", PROG);
			conn_fail(g, c);
			return;
		}
		if (rc == 1) {
			answer_done(g, c);
			return;
		}
	}
}

static void conn_event(struct gen *g, struct conn *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			if (g->o.once)
				fprintf(stderr, "%s: cannot connect to 127.0.0.1:%d: %s\n", PROG, g->o.port,
					strerror(err));
			conn_fail(g, c);
			return;
		}
		conn_send(g, c);
		return;
	}
	if (c->state == C_WRITING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		conn_write(g, c);
		return;
	}
	if (c->state == C_READING && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		conn_read(g, c);
	else if (c->state == C_IDLE && (ev & (EPOLLERR | EPOLLHUP)))
		set_events(g, c, 0);
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

/* A process's user + system CPU seconds from /proc/PID/stat; -1 when unknown. */
static double proc_cpu_seconds(int pid)
{
	char path[64], *s, *p;
	unsigned long long ut = 0, st = 0;
	double v = -1;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = bench_read_file(path, NULL);
	/* fields after the ")" that ends the command name: state is field 3, utime 14, stime 15 */
	if (s && (p = strrchr(s, ')')) != NULL &&
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
		v = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	free(s);
	return v;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		bench_die(PROG, "cannot write '%s'", path);
}

/* -R: one line per answer, in the order they came. */
static void write_records(const struct gen *g)
{
	FILE *f = fopen(g->o.record_file, "w");

	if (!f)
		bench_die(PROG, "cannot write '%s'", g->o.record_file);
	for (size_t i = 0; i < g->nrec; i++)
		fprintf(f, "%lld %llu %llu %d\n", (long long)g->rec[i].id, (unsigned long long)g->rec[i].sent_ns,
			(unsigned long long)g->rec[i].done_ns, g->rec[i].status);
	if (fclose(f) != 0)
		bench_die(PROG, "cannot write '%s'", g->o.record_file);
}

/* -1 mode: the body goes out, the exit status says whether it was a 2xx. */
static int finish_once(struct gen *g)
{
	struct resp *r = &g->conns[0].resp;

	if (!g->ok && !g->non2xx) {
		if (!g->errors)
			fprintf(stderr, "%s: no answer from 127.0.0.1:%d within %.1f s\n", PROG, g->o.port,
				g->o.duration);
		return 1;
	}
	if (g->o.out_file)
		write_file(g->o.out_file, r->capture ? r->capture : "", r->cap_len);
	else if (r->cap_len && fwrite(r->capture, 1, r->cap_len, stdout) != r->cap_len)
		return 1;
	if (g->o.ctype_file)
		write_file(g->o.ctype_file, r->ctype, strlen(r->ctype));
	if (g->non2xx) {
		fprintf(stderr, "%s: %s %s answered %d: %.*s\n", PROG, g->o.method, g->o.path, r->status,
			(int)(r->cap_len > 400 ? 400 : r->cap_len), r->capture ? r->capture : "");
		return 3;
	}
	return 0;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	const char *port_file = NULL, *auth_file = NULL;
	int ch;

	o->conns = 32;
	o->duration = -1;
	o->warmup = 1;
	o->method = "GET";
	o->path = "/";
	o->port = -1;
	while ((ch = getopt(argc, argv, "p:f:c:d:w:m:u:H:a:b:n:N:R:1o:t:P:h")) != -1) {
		switch (ch) {
		case 'p':
			o->port = (int)bench_num(PROG, "-p", optarg);
			break;
		case 'f':
			port_file = optarg;
			break;
		case 'c':
			o->conns = (int)bench_num(PROG, "-c", optarg);
			break;
		case 'd':
			o->duration = bench_num(PROG, "-d", optarg);
			break;
		case 'w':
			o->warmup = bench_num(PROG, "-w", optarg);
			break;
		case 'm':
			o->method = optarg;
			break;
		case 'u':
			o->path = optarg;
			break;
		case 'H':
			if (o->nheaders == MAX_HEADERS)
				bench_die(PROG, "at most %d -H options", MAX_HEADERS);
			o->headers[o->nheaders++] = optarg;
			break;
		case 'a':
			auth_file = optarg;
			break;
		case 'b':
			o->body = optarg;
			break;
		case 'n':
			o->first_n = (uint64_t)bench_num(PROG, "-n", optarg);
			break;
		case 'N':
			o->total = (uint64_t)bench_num(PROG, "-N", optarg);
			break;
		case 'R':
			o->record_file = optarg;
			break;
		case '1':
			o->once = true;
			break;
		case 'o':
			o->out_file = optarg;
			break;
		case 't':
			o->ctype_file = optarg;
			break;
		case 'P':
			o->server_pid = (int)bench_num(PROG, "-P", optarg);
			break;
		default:
			fputs(usage, ch == 'h' ? stdout : stderr);
			exit(ch == 'h' ? 0 : 2);
		}
	}
	if (optind != argc)
		bench_die(PROG, "unexpected argument '%s' (see -h)", argv[optind]);
	if (port_file && (o->port = bench_read_port_file(port_file)) < 0)
		bench_die(PROG, "no port in '%s'", port_file);
	if (o->port <= 0 || o->port > 65535)
		bench_die(PROG, "give the server's port with -p or -f");
	if (o->conns < 1 || o->conns > MAX_CONNS)
		bench_die(PROG, "-c must be 1..%d", MAX_CONNS);
	if (auth_file) {
		char *tok = bench_read_file(auth_file, NULL);
		if (!tok)
			bench_die(PROG, "cannot read the token file '%s'", auth_file);
		tok[strcspn(tok, "\r\n")] = 0;
		snprintf(o->auth, sizeof(o->auth), "Authorization: Bearer %s\r\n", tok);
		free(tok);
	}
	if (o->once) {
		o->conns = 1;
		o->warmup = 0;
	}
	if (o->record_file && !o->total)
		bench_die(PROG, "-R needs -N");
	if (o->total) {
		o->warmup = 0;
		o->duration = 1e6; /* until every answer is in */
	}
	if (o->duration < 0)
		o->duration = o->once ? 10 : 5;
	o->templated = strstr(o->path, "{n}") || (o->body && strstr(o->body, "{n}"));
}

int main(int argc, char **argv)
{
	struct gen *g = calloc(1, sizeof(*g));
	struct epoll_event evs[256];
	uint64_t t_measure = 0, t_warm_end, t_end, now;
	double cpu0 = 0, srv0 = -1, srv1, secs;

	if (!g)
		bench_die(PROG, "out of memory");
	parse_args(&g->o, argc, argv);
	g->head_request = strcmp(g->o.method, "HEAD") == 0;
	g->addr.sin_family = AF_INET;
	g->addr.sin_port = htons((uint16_t)g->o.port);
	g->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!g->o.templated) {
		size_t cap = 0;
		g->fixed_len = build_request(g, 0, &g->fixed_req, &cap);
	}
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	g->conns = calloc((size_t)g->o.conns, sizeof(*g->conns));
	if (g->ep < 0 || !g->conns)
		bench_die(PROG, "cannot set up: %s", strerror(errno));
	if (g->o.once)
		g->conns[0].resp.keep_body = true;
	for (int i = 0; g->o.record_file && i < g->o.conns; i++)
		g->conns[i].resp.keep_body = true;
	g->counter = g->o.first_n;
	now = bench_now_ns();
	t_warm_end = now + (uint64_t)(g->o.warmup * 1e9);
	t_end = t_warm_end + (uint64_t)(g->o.duration * 1e9);
	for (int i = 0; i < g->o.conns && !g->stop; i++)
		conn_open(g, &g->conns[i]);
	while (!g->stop) {
		uint64_t deadline;
		int n;
		now = bench_now_ns();
		if (!g->measuring && now >= t_warm_end) {
			g->measuring = true; /* what the warm-up counted was never recorded */
			t_measure = now;
			cpu0 = cpu_seconds();
			srv0 = proc_cpu_seconds(g->o.server_pid);
		}
		if (now >= t_end)
			break;
		deadline = g->measuring ? t_end : t_warm_end;
		n = epoll_wait(g->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), (int)((deadline - now) / 1000000) + 1);
		if (n < 0 && errno != EINTR)
			bench_die(PROG, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n && !g->stop; i++)
			conn_event(g, evs[i].data.ptr, evs[i].events);
	}
	now = bench_now_ns();
	srv1 = proc_cpu_seconds(g->o.server_pid);
	secs = (double)(now - t_measure) / 1e9;
	if (g->o.once)
		return finish_once(g);
	if (g->o.record_file)
		write_records(g);
	printf("requests=%llu rps=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f errors=%llu non2xx=%llu "
	       "bad_status=%d bytes=%llu cpu_pct=%.0f server_us_per_req=%.1f seconds=%.2f\n",
	       (unsigned long long)(g->ok + g->non2xx), (double)g->ok / secs, (double)hist_pct(&g->hist, 50) / 1e3,
	       (double)hist_pct(&g->hist, 90) / 1e3, (double)hist_pct(&g->hist, 99) / 1e3, (double)g->hist.max / 1e3,
	       (unsigned long long)g->errors, (unsigned long long)g->non2xx, g->bad_status,
	       (unsigned long long)g->bytes, 100.0 * (cpu_seconds() - cpu0) / secs,
	       srv0 >= 0 && srv1 >= 0 && g->ok + g->non2xx ? (srv1 - srv0) * 1e6 / (double)(g->ok + g->non2xx) : -1.0,
	       secs);
	for (int i = 0; i < g->o.conns; i++) {
		if (g->conns[i].fd >= 0)
			close(g->conns[i].fd);
		if (g->conns[i].req != g->fixed_req)
			free(g->conns[i].req);
		free(g->conns[i].resp.capture);
	}
	free(g->fixed_req);
	free(g->rec);
	free(g->conns);
	close(g->ep);
	free(g);
	return 0;
}
