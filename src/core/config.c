/* config.c: flags and ATRIUM_* variables for `serve` and `worker`, one table each. */
#include "atrium/config.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SOPT(n, t, f, mv, h)                                                                                       \
	{                                                                                                          \
		n, t, offsetof(struct atr_serve_config, f), sizeof(((struct atr_serve_config *)0)->f), 0, 0, mv, h \
	}
#define SINT(n, f, lo, hi, h)                                                           \
	{                                                                               \
		n, ATR_OPT_INT, offsetof(struct atr_serve_config, f), 0, lo, hi, "N", h \
	}
#define WOPT(n, t, f, mv, h)                                                                                         \
	{                                                                                                            \
		n, t, offsetof(struct atr_worker_config, f), sizeof(((struct atr_worker_config *)0)->f), 0, 0, mv, h \
	}
#define WINT(n, f, lo, hi, h)                                                            \
	{                                                                                \
		n, ATR_OPT_INT, offsetof(struct atr_worker_config, f), 0, lo, hi, "N", h \
	}

const struct atr_opt atr_serve_opts[] = {
	SOPT("listen", ATR_OPT_ADDR, listen, "ADDR:PORT", "address to listen on (port 0 picks one)"),
	SOPT("data-dir", ATR_OPT_STR, data_dir, "DIR", "database, artifacts and admin token"),
	SOPT("log-level", ATR_OPT_LEVEL, log_level, "LEVEL", "debug | info | warn | error"),
	SOPT("log-format", ATR_OPT_FORMAT, log_json, "FORMAT", "text | json"),
	SOPT("max-body-bytes", ATR_OPT_SIZE, max_body_bytes, "SIZE", "largest JSON request body"),
	SOPT("max-upload-bytes", ATR_OPT_SIZE, max_upload_bytes, "SIZE", "largest uploaded file"),
	SOPT("local-worker", ATR_OPT_BOOL, local_worker, NULL, "also run a worker on this host"),
	SOPT("sync", ATR_OPT_STR, sync, "MODE", "normal (survives crashes) | full (survives power loss)"),
	SINT("heartbeat-timeout", heartbeat_timeout_s, 2, 3600, "seconds without heartbeat before a worker is offline"),
	SINT("max-connections", max_connections, 64, 1000000, "HTTP connections held at once"),
	SINT("max-connections-per-address", max_connections_per_address, 1, 1000000,
	     "connections without a valid token one client address may hold"),
	SINT("head-timeout", head_timeout_s, 1, 3600, "seconds a connection has to send a whole request head"),
	SOPT("public-url", ATR_OPT_STR, public_url, "URL", "URL workers and jobs use to reach the server"),
	SOPT("web-dir", ATR_OPT_STR, web_dir, "DIR", "serve the dashboard from DIR instead of the embedded copy"),
	SINT("gc-interval", gc_interval_s, 0, 86400 * 7, "seconds between background blob GC passes (0: off)"),
	SINT("audit-retention-days", audit_retention_days, 0, 36500, "days of audit log kept (0: forever)"),
	SINT("job-log-retention-days", job_log_retention_days, 0, 36500,
	     "days a finished job's log is kept (0: forever)"),
	SINT("housekeeping", housekeeping_s, 1, 3600, "seconds between retention passes (audit log, job logs)"),
	SOPT("tls-cert", ATR_OPT_STR, tls_cert, "FILE", "serve HTTPS with this PEM certificate (chain)"),
	SOPT("tls-key", ATR_OPT_STR, tls_key, "FILE", "the PEM private key of --tls-cert"),
	{ 0 },
};

const struct atr_opt atr_worker_opts[] = {
	WOPT("server", ATR_OPT_STR, server, "URL", "the Atrium server, e.g. http://10.0.0.1:8080"),
	WOPT("join-token", ATR_OPT_STR, join_token, "TOKEN", "join token from POST /api/v1/workers/join-tokens"),
	WOPT("listen", ATR_OPT_ADDR, listen, "ADDR:PORT", "address of the worker's own API (port 0 picks one)"),
	WOPT("name", ATR_OPT_STR, name, "NAME", "worker name (default: host name)"),
	WOPT("work-dir", ATR_OPT_STR, work_dir, "DIR", "where jobs run and logs spool"),
	WOPT("labels", ATR_OPT_STR, labels, "K=V,...", "labels jobs can select on"),
	WOPT("log-level", ATR_OPT_LEVEL, log_level, "LEVEL", "debug | info | warn | error"),
	WOPT("log-format", ATR_OPT_FORMAT, log_json, "FORMAT", "text | json"),
	WINT("heartbeat", heartbeat_s, 1, 300, "seconds between heartbeats"),
	WINT("grace", grace_s, 0, 86400, "seconds running jobs get on SIGTERM before they are handed back"),
	WINT("gpu-busy-mb", gpu_busy_mb, 0, 1 << 30, "MiB used by other processes above which a GPU is withheld"),
	WOPT("advertise", ATR_OPT_STR, advertise, "HOST", "host name the server uses to reach this worker"),
	WINT("housekeeping", housekeeping_s, 0, 86400, "seconds between disk clean-ups (0: never)"),
	WINT("keep-jobs", keep_jobs_s, 0, 86400 * 365, "seconds a finished job's folder is kept"),
	WINT("cache-max-mb", cache_max_mb, 0, INT64_C(1) << 40, "MiB the input cache may hold (0: no limit)"),
	WOPT("ca-file", ATR_OPT_STR, ca_file, "FILE", "PEM CA certificates to verify an https:// server with"),
	{ 0 },
};

void atr_serve_config_defaults(struct atr_serve_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen.host, sizeof(c->listen.host), "127.0.0.1");
	c->listen.port = 8080;
	snprintf(c->data_dir, sizeof(c->data_dir), "./data");
	c->log_level = ATR_LOG_INFO;
	c->max_body_bytes = 16u << 20;
	c->max_upload_bytes = 10ULL << 30;
	snprintf(c->sync, sizeof(c->sync), "normal");
	c->heartbeat_timeout_s = 15;
	c->max_connections = 4096;
	c->max_connections_per_address = 512;
	c->head_timeout_s = 10;
	c->gc_interval_s = 3600;
	c->audit_retention_days = 0;
	c->job_log_retention_days = 0;
	c->housekeeping_s = 30;
}

void atr_worker_config_defaults(struct atr_worker_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen.host, sizeof(c->listen.host), "127.0.0.1");
	c->listen.port = 0;
	snprintf(c->work_dir, sizeof(c->work_dir), "./worker");
	c->log_level = ATR_LOG_INFO;
	c->heartbeat_s = 3;
	c->grace_s = 30;
	c->gpu_busy_mb = 1024;
	c->housekeeping_s = 600;
	c->keep_jobs_s = 86400;
	c->cache_max_mb = 100 * 1024;
}

int atr_parse_addr(const char *s, struct atr_addr *a)
{
	const char *colon = strrchr(s, ':');
	int64_t port;
	size_t hl;

	if (!colon)
		return ATR_EINVAL;
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof(a->host))
		return ATR_EINVAL;
	if (atr_parse_i64(colon + 1, 0, 65535, &port) < 0)
		return ATR_EINVAL;
	memcpy(a->host, s, hl);
	a->host[hl] = 0;
	a->port = (int)port;
	return 0;
}

/* The options whose value is one word of a short list (a flag, a log level, a log format):
 * the word as the int stored, or -1 when v is none of them. */
static int word_value(enum atr_opt_type t, const char *v, int *out)
{
	enum atr_log_level l;

	switch (t) {
	case ATR_OPT_BOOL:
		if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
			*out = 1;
		else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !*v)
			*out = 0;
		else
			return -1;
		return 0;
	case ATR_OPT_LEVEL:
		if (atr_log_parse_level(v, &l) < 0)
			return -1;
		*out = (int)l;
		return 0;
	case ATR_OPT_FORMAT:
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return -1;
		*out = !strcmp(v, "json");
		return 0;
	default:
		return -1;
	}
}

/* A one-word option into dst (an int, or an enum atr_log_level for a level). */
static int set_word(const struct atr_opt *o, char *dst, const char *v, const char *from, FILE *err)
{
	enum atr_log_level l;
	int w;

	if (word_value(o->type, v, &w) < 0) {
		fprintf(err, "atrium: %s: '%s' is not %s\n", from, v,
			o->type == ATR_OPT_BOOL	   ? "true or false"
			: o->type == ATR_OPT_LEVEL ? "one of debug, info, warn, error"
						   : "one of text, json");
		return ATR_EINVAL;
	}
	if (o->type == ATR_OPT_LEVEL) {
		l = (enum atr_log_level)w;
		memcpy(dst, &l, sizeof(l));
	} else {
		memcpy(dst, &w, sizeof(w));
	}
	return 0;
}

static int set_value(const struct atr_opt *o, void *cfg, const char *v, const char *from, FILE *err)
{
	char *dst = (char *)cfg + o->offset;
	uint64_t sz;
	int64_t n;

	switch (o->type) {
	case ATR_OPT_STR:
		if (strlen(v) >= o->size) {
			fprintf(err, "atrium: %s: value is too long (at most %zu bytes)\n", from, o->size - 1);
			return ATR_EINVAL;
		}
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case ATR_OPT_ADDR:
		if (atr_parse_addr(v, (struct atr_addr *)(void *)dst) < 0) {
			fprintf(err, "atrium: %s: '%s' is not ADDR:PORT (port 0-65535)\n", from, v);
			return ATR_EINVAL;
		}
		return 0;
	case ATR_OPT_SIZE:
		if (atr_parse_size(v, &sz) < 0 || sz == 0) {
			fprintf(err, "atrium: %s: '%s' is not a size (e.g. 1048576, 512k, 10GiB)\n", from, v);
			return ATR_EINVAL;
		}
		memcpy(dst, &sz, sizeof(sz));
		return 0;
	case ATR_OPT_INT:
		if (atr_parse_i64(v, o->min, o->max, &n) < 0) {
			fprintf(err, "atrium: %s: '%s' is not a whole number from %lld to %lld\n", from, v,
				(long long)o->min, (long long)o->max);
			return ATR_EINVAL;
		}
		memcpy(dst, &n, sizeof(n));
		return 0;
	case ATR_OPT_BOOL:
	case ATR_OPT_LEVEL:
	case ATR_OPT_FORMAT:
		return set_word(o, dst, v, from, err);
	}
	return ATR_EINVAL;
}

static void env_name(const char *name, char *out, size_t outlen)
{
	size_t n = (size_t)snprintf(out, outlen, "ATRIUM_");
	for (const char *p = name; *p && n + 1 < outlen; p++)
		out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	out[n] = 0;
}

void atr_config_help(const struct atr_opt *opts, const char *usage, FILE *out)
{
	char env[64], flag[64];

	fprintf(out, "%s\n\noptions (each also as an environment variable):\n", usage);
	for (const struct atr_opt *o = opts; o->name; o++) {
		env_name(o->name, env, sizeof(env));
		snprintf(flag, sizeof(flag), "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(out, "  %-30s %s [%s]\n", flag, o->help, env);
	}
	fprintf(out, "  %-30s %s\n", "--help", "this text");
}

int atr_config_parse(const struct atr_opt *opts, void *cfg, int argc, char **argv, int first, const char *usage,
		     FILE *out, FILE *err)
{
	char env[64], from[96];

	for (const struct atr_opt *o = opts; o->name; o++) {
		const char *v;
		env_name(o->name, env, sizeof(env));
		v = getenv(env);
		if (v && set_value(o, cfg, v, env, err) < 0)
			return ATR_EINVAL;
	}
	for (int i = first; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;
		const struct atr_opt *o;
		size_t nl;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			atr_config_help(opts, usage, out);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(err, "atrium: unexpected argument '%s' (see --help)\n", a);
			return ATR_EINVAL;
		}
		a += 2;
		eq = strchr(a, '=');
		nl = eq ? (size_t)(eq - a) : strlen(a);
		for (o = opts; o->name; o++)
			if (strlen(o->name) == nl && !strncmp(o->name, a, nl))
				break;
		if (!o->name) {
			fprintf(err, "atrium: unknown option '%s' (see --help)\n", argv[i]);
			return ATR_EINVAL;
		}
		snprintf(from, sizeof(from), "--%s", o->name);
		if (eq) {
			val = eq + 1;
		} else if (o->type == ATR_OPT_BOOL) {
			val = "1";
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(err, "atrium: %s needs a value (see --help)\n", from);
			return ATR_EINVAL;
		}
		if (set_value(o, cfg, val, from, err) < 0)
			return ATR_EINVAL;
	}
	return 0;
}
