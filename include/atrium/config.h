#ifndef ATRIUM_CONFIG_H
#define ATRIUM_CONFIG_H
/*
 * Command-line and environment configuration. Every flag --foo-bar is also ATRIUM_FOO_BAR;
 * the flag wins over the variable. Options are described by tables (struct atr_opt) parsed by
 * one function, so `atrium serve` and `atrium worker` share the rules and the --help text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "atrium/log.h"

enum atr_opt_type {
	ATR_OPT_STR,   /* char[] of opt->size bytes */
	ATR_OPT_ADDR,  /* struct atr_addr: "host:port" */
	ATR_OPT_SIZE,  /* uint64_t, accepts 10GiB, 512k, ... */
	ATR_OPT_INT,   /* int64_t within [min,max] */
	ATR_OPT_BOOL,  /* int, flag without value (env: 1/0/true/false) */
	ATR_OPT_LEVEL, /* enum atr_log_level */
	ATR_OPT_FORMAT /* int: 0 text, 1 json */
};

struct atr_addr {
	char host[64];
	int port; /* 0 picks a free port */
};

struct atr_opt {
	const char *name; /* "listen" -> --listen and ATRIUM_LISTEN */
	enum atr_opt_type type;
	size_t offset; /* into the config struct */
	size_t size;   /* for ATR_OPT_STR */
	int64_t min, max;
	const char *metavar;
	const char *help;
};

struct atr_serve_config {
	struct atr_addr listen;
	char data_dir[1024];
	enum atr_log_level log_level;
	int log_json;
	uint64_t max_body_bytes;
	uint64_t max_upload_bytes;
	int local_worker;
	char sync[8]; /* "normal" (survives process crashes) or "full" (power loss too) */
	int64_t heartbeat_timeout_s;
	int64_t max_connections;	     /* all HTTP connections */
	int64_t max_connections_per_address; /* without a valid token, from one address */
	int64_t head_timeout_s;		     /* to send a whole request head */
	char public_url[256];		     /* how workers and jobs reach this server; default http://listen */
	char web_dir[1024];		     /* serve the dashboard from here instead of the embedded copy */
	int64_t gc_interval_s;
	int64_t audit_retention_days;
	int64_t job_log_retention_days;
	int64_t housekeeping_s;
	/* HTTPS (libmicrohttpd's TLS, GnuTLS): PEM files of the certificate (its chain) and key */
	char tls_cert[1024];
	char tls_key[1024];
};

struct atr_worker_config {
	char server[256];
	char join_token[128];
	struct atr_addr listen;
	char name[64];
	char work_dir[1024];
	char labels[512];
	enum atr_log_level log_level;
	int log_json;
	int64_t heartbeat_s;
	int64_t grace_s;
	int64_t gpu_busy_mb;	/* memory used by foreign processes above which a GPU is withheld */
	char advertise[64];	/* host the server should use to reach this worker */
	int64_t housekeeping_s; /* seconds between housekeeping passes (0: none) */
	int64_t keep_jobs_s;	/* a finished job's folder is kept this long */
	int64_t cache_max_mb;	/* the input cache's size limit (0: none) */
	char ca_file[1024];	/* PEM CA certificates that verify an https:// server (default: the system's) */
};

extern const struct atr_opt atr_serve_opts[];
extern const struct atr_opt atr_worker_opts[];

void atr_serve_config_defaults(struct atr_serve_config *c);
void atr_worker_config_defaults(struct atr_worker_config *c);

/*
 * Applies ATRIUM_* variables, then argv[first..argc). On error writes a clear message to err
 * and returns ATR_EINVAL (the caller exits 2). Returns 1 when --help was asked (printed to out).
 */
int atr_config_parse(const struct atr_opt *opts, void *cfg, int argc, char **argv, int first, const char *usage,
		     FILE *out, FILE *err);
int atr_parse_addr(const char *s, struct atr_addr *a);
void atr_config_help(const struct atr_opt *opts, const char *usage, FILE *out);

#endif
