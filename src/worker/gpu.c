/*
 * gpu.c: GPU discovery (nvidia-smi run on the loop, its CSV parsed by a pure function),
 * fake GPUs for tests, and the host's CPUs, memory and load. It does not decide what is
 * offered to jobs beyond the busy rule (gpu.h); the worker does.
 */
#include "atrium/gpu.h"
#include "atrium/buf.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

/* ---- parsing ---- */

/* Trims spaces, tabs and CRs around [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* A number field: -1 when unknown ("[N/A]", "[Not Supported]", empty), -2 when garbage. */
static int64_t num_field(const char *s, const char *e)
{
	char tmp[32];
	int64_t v;
	size_t n = (size_t)(e - s);

	if (n == 0 || *s == '[')
		return -1;
	if (n >= sizeof(tmp))
		return -2;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	/* some drivers print "81920.00" even with nounits */
	if (strchr(tmp, '.'))
		*strchr(tmp, '.') = 0;
	if (atr_parse_i64(tmp, 0, INT64_MAX / 2, &v) < 0)
		return -2;
	return v;
}

static void str_field(const char *s, const char *e, char *out, size_t outlen)
{
	size_t n = (size_t)(e - s);
	if (n == 0 || *s == '[') {
		out[0] = 0;
		return;
	}
	snprintf(out, outlen, "%.*s", (int)n, s);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
}

/* One line into g; false when it is not a GPU line. */
static bool parse_line(const char *s, const char *e, struct atr_gpu *g)
{
	const char *f[6][2];
	const char *p = s;
	int64_t idx, util;

	for (int nf = 0; nf < 6; nf++) {
		const char *c = memchr(p, ',', (size_t)(e - p));
		if ((nf < 5 && !c) || (nf == 5 && c))
			return false; /* not exactly six fields */
		f[nf][0] = p;
		f[nf][1] = c ? c : e;
		trim(&f[nf][0], &f[nf][1]);
		p = c ? c + 1 : e;
	}
	memset(g, 0, sizeof(*g));
	idx = num_field(f[0][0], f[0][1]);
	if (idx < 0 || idx >= ATR_GPU_MAX)
		return false;
	g->index = (int)idx;
	str_field(f[1][0], f[1][1], g->uuid, sizeof(g->uuid));
	str_field(f[2][0], f[2][1], g->name, sizeof(g->name));
	g->memory_mb = num_field(f[3][0], f[3][1]);
	g->memory_used_mb = num_field(f[4][0], f[4][1]);
	util = num_field(f[5][0], f[5][1]);
	if (g->memory_mb < -1 || g->memory_used_mb < -1 || util < -1 || util > 100)
		return false;
	g->utilization = (int)util;
	return true;
}

int atr_gpu_parse(const char *text, size_t len, struct atr_gpu *out, int max, int *bad)
{
	const char *p = text, *end = text + len;
	uint64_t seen = 0;
	int n = 0, nbad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *ls = p;
		struct atr_gpu g;

		trim(&ls, &le);
		p = nl ? nl + 1 : end;
		if (ls == le)
			continue;
		if (!parse_line(ls, le, &g) || (seen & (1ULL << g.index)) || n >= max) {
			nbad++;
			continue;
		}
		seen |= 1ULL << g.index;
		out[n++] = g;
	}
	if (bad)
		*bad = nbad;
	return n;
}

void atr_gpu_fake(struct atr_gpu *out, int n)
{
	for (int i = 0; i < n && i < ATR_GPU_MAX; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].index = i;
		snprintf(out[i].uuid, sizeof(out[i].uuid), "GPU-fake-%d", i);
		snprintf(out[i].name, sizeof(out[i].name), "Fake GPU");
		out[i].memory_mb = 16384;
	}
}

int atr_gpu_fake_count(void)
{
	const char *v = getenv("ATRIUM_FAKE_GPUS");
	int64_t n;
	if (!v || !*v || atr_parse_i64(v, 0, ATR_GPU_MAX, &n) < 0)
		return -1;
	return (int)n;
}

void atr_gpu_mark_busy(struct atr_gpu *gpus, int n, int64_t busy_mb, uint64_t atrium_mask)
{
	for (int i = 0; i < n; i++) {
		bool ours =
			gpus[i].index >= 0 && gpus[i].index < ATR_GPU_MAX && (atrium_mask & (1ULL << gpus[i].index));
		gpus[i].busy = !ours && gpus[i].memory_used_mb >= 0 && gpus[i].memory_used_mb > busy_mb;
	}
}

/* ---- the host ---- */

static int64_t meminfo_kb(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
			long long v;
			if (sscanf(p + kl + 1, " %lld", &v) == 1 && v >= 0)
				return (int64_t)v;
			return -1;
		}
	}
	return -1;
}

int atr_meminfo_parse(const char *text, int64_t *total_kb, int64_t *avail_kb)
{
	*total_kb = meminfo_kb(text, "MemTotal");
	*avail_kb = meminfo_kb(text, "MemAvailable");
	if (*avail_kb < 0) /* kernels before 3.14 */
		*avail_kb = meminfo_kb(text, "MemFree");
	return *total_kb >= 0 && *avail_kb >= 0 ? 0 : ATR_EINVAL;
}

void atr_host_info_read(struct atr_host_info *out)
{
	char text[8192];
	int64_t total, avail;
	double load[1];
	ssize_t n;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int fd;

	memset(out, 0, sizeof(*out));
	out->cpus = cpus > 0 ? (int)cpus : 1;
	/* procfs answers from memory: reading it on the loop does not wait on a device */
	fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n > 0) {
			text[n] = 0;
			if (atr_meminfo_parse(text, &total, &avail) == 0) {
				out->memory_mb = total / 1024;
				out->memory_used_mb = (total - avail) / 1024;
			}
		}
	}
	if (getloadavg(load, 1) == 1)
		out->load1 = load[0];
}

/* ---- nvidia-smi on the loop ---- */

struct atr_gpu_probe {
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	struct atr_buf buf;
	atr_gpu_probe_cb cb;
	void *cls;
	int open_handles;
	bool exited, eof, cancelled, timed_out;
	int64_t exit_status;
};

static void probe_closed(uv_handle_t *h)
{
	struct atr_gpu_probe *p = h->data;
	if (--p->open_handles > 0)
		return;
	atr_buf_release(&p->buf);
	free(p);
}

static void probe_close(struct atr_gpu_probe *p)
{
	uv_timer_stop(&p->timer);
	if (!uv_is_closing((uv_handle_t *)&p->proc))
		uv_close((uv_handle_t *)&p->proc, probe_closed);
	if (!uv_is_closing((uv_handle_t *)&p->out))
		uv_close((uv_handle_t *)&p->out, probe_closed);
	if (!uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, probe_closed);
}

static void probe_finish(struct atr_gpu_probe *p)
{
	struct atr_gpu gpus[ATR_GPU_MAX];
	int n = 0, bad = 0, rc = 0;

	if (!p->exited || !p->eof || p->cancelled)
		return;
	if (p->timed_out) {
		rc = ATR_EIO;
		atr_warn("nvidia-smi did not answer in time; it was killed");
	} else {
		n = atr_gpu_parse(p->buf.data ? p->buf.data : "", p->buf.len, gpus, ATR_GPU_MAX, &bad);
		if (p->exit_status != 0) {
			atr_warn("nvidia-smi exited with status %lld", (long long)p->exit_status);
			rc = ATR_EIO;
		} else if (bad > 0) {
			atr_warn("nvidia-smi printed %d line(s) that are not GPUs", bad);
		}
	}
	p->cancelled = true; /* once */
	p->cb(p->cls, rc, gpus, rc < 0 ? 0 : n);
	probe_close(p);
}

static void probe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char scratch[16384]; /* the loop is single-threaded; consumed before the next read */
	(void)h;
	(void)hint;
	b->base = scratch;
	b->len = sizeof(scratch);
}

static void probe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct atr_gpu_probe *p = s->data;
	if (n > 0) {
		if (atr_buf_append(&p->buf, b->base, (size_t)n) < 0)
			atr_buf_reset(&p->buf); /* more than a host could print: parse nothing */
		return;
	}
	if (n < 0) {
		uv_read_stop(s);
		p->eof = true;
		probe_finish(p);
	}
}

static void probe_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct atr_gpu_probe *p = proc->data;
	p->exited = true;
	p->exit_status = sig ? 128 + sig : status;
	probe_finish(p);
}

static void probe_timeout(uv_timer_t *t)
{
	struct atr_gpu_probe *p = t->data;
	p->timed_out = true;
	uv_process_kill(&p->proc, SIGKILL);
}

int atr_gpu_probe_start(uv_loop_t *loop, uint64_t timeout_ms, atr_gpu_probe_cb cb, void *cls,
			struct atr_gpu_probe **out)
{
	const char *bin = getenv("ATRIUM_NVIDIA_SMI");
	char *args[] = { (char *)"nvidia-smi",
			 (char *)"--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu",
			 (char *)"--format=csv,noheader,nounits", NULL };
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	struct atr_gpu_probe *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return ATR_ENOMEM;
	p->cb = cb;
	p->cls = cls;
	atr_buf_init(&p->buf, 1u << 20);
	uv_pipe_init(loop, &p->out, 0);
	uv_timer_init(loop, &p->timer);
	p->out.data = p->timer.data = p->proc.data = p;
	memset(&o, 0, sizeof(o));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&p->out;
	stdio[2].flags = UV_IGNORE;
	o.file = bin && *bin ? bin : "nvidia-smi";
	o.args = args;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = probe_exit;
	rc = uv_spawn(loop, &p->proc, &o);
	if (rc < 0) {
		/* the process handle is initialised even when the spawn fails: close all three */
		p->cancelled = true;
		p->open_handles = 3;
		probe_close(p);
		return rc == UV_ENOENT || rc == UV_EACCES ? ATR_ENOTFOUND : ATR_EIO;
	}
	p->open_handles = 3;
	uv_read_start((uv_stream_t *)&p->out, probe_alloc, probe_read);
	uv_timer_start(&p->timer, probe_timeout, timeout_ms, 0);
	if (out)
		*out = p;
	return 0;
}

void atr_gpu_probe_cancel(struct atr_gpu_probe *p)
{
	if (!p || p->cancelled)
		return;
	p->cancelled = true;
	if (!p->exited)
		uv_process_kill(&p->proc, SIGKILL);
	probe_close(p);
}
