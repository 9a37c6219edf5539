/*
 * log.c: leveled logging to stderr, text or JSON lines. Lines are built with memcpy into a
 * buffer that is written once per loop turn (atr_log_flush, called by the HTTP server before
 * the loop waits), when it fills, before any warning or error, and at exit: one write(2)
 * for many access-log lines instead of one each. A kill -9 may lose the current turn's lines.
 */
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define BUF_BYTES (64 * 1024)

static enum atr_log_level min_level = ATR_LOG_INFO;
static int json_format;
static char pending[BUF_BYTES];
static size_t npending;
static int flush_registered;

static const char *level_names[] = { "debug", "info", "warn", "error" };
static const char *level_pad[] = { "debug ", "info  ", "warn  ", "error " };

void atr_log_flush(void)
{
	size_t off = 0;
	while (off < npending) {
		ssize_t w = write(STDERR_FILENO, pending + off, npending - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	npending = 0;
}

void atr_log_setup(enum atr_log_level min, int json)
{
	min_level = min;
	json_format = json;
	if (!flush_registered) {
		atexit(atr_log_flush);
		flush_registered = 1;
	}
}

int atr_log_parse_level(const char *s, enum atr_log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum atr_log_level)i;
			return 0;
		}
	}
	return -2;
}

int atr_log_enabled(enum atr_log_level lvl)
{
	return lvl >= min_level;
}

struct line {
	char b[LINE_MAX_BYTES];
	size_t n;
};

static void put(struct line *l, const char *s, size_t len)
{
	if (len > sizeof(l->b) - 2 - l->n)
		len = sizeof(l->b) - 2 - l->n;
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Outside text: JSON-escaped, or in text format with control characters shown as '?'. */
static void put_value(struct line *l, const char *s)
{
	static const char hx[] = "0123456789abcdef";
	for (; *s && l->n < sizeof(l->b) - 8; s++) {
		unsigned char c = (unsigned char)*s;
		size_t run = 0;
		/* a run of characters that need nothing goes in one copy (most values are one run) */
		while (c > '\\' || (c >= 0x20 && c != '"' && c != '\\'))
			c = (unsigned char)s[++run];
		if (run) {
			if (run > sizeof(l->b) - 8 - l->n)
				run = sizeof(l->b) - 8 - l->n;
			memcpy(l->b + l->n, s, run);
			l->n += run;
			s += run - 1;
			continue;
		}
		if (json_format && (c == '"' || c == '\\')) {
			l->b[l->n++] = '\\';
			l->b[l->n++] = (char)c;
		} else if (c < 0x20 && json_format) {
			memcpy(l->b + l->n, "\\u00", 4);
			l->b[l->n + 4] = hx[c >> 4];
			l->b[l->n + 5] = hx[c & 15];
			l->n += 6;
		} else {
			l->b[l->n++] = c < 0x20 ? '?' : (char)c;
		}
	}
}

static void emit(enum atr_log_level lvl, const char *msg, const char *const *kv, size_t nkv)
{
	static int64_t ts_ms = -1; /* lines of the same millisecond share its formatted time */
	static char ts[40];
	struct line l;
	int64_t now = atr_now_ms();

	l.n = 0;
	if (now != ts_ms) {
		atr_time_format(now, ts, sizeof(ts));
		ts_ms = now;
	}
	if (json_format) {
		puts_(&l, "{\"ts\":\"");
		puts_(&l, ts);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_names[lvl]);
		puts_(&l, "\",\"msg\":\"");
		put_value(&l, msg);
		puts_(&l, "\"");
		for (size_t i = 0; i + 1 < nkv; i += 2) {
			puts_(&l, ",\"");
			puts_(&l, kv[i]);
			puts_(&l, "\":\"");
			put_value(&l, kv[i + 1] ? kv[i + 1] : "");
			puts_(&l, "\"");
		}
		puts_(&l, "}");
	} else {
		puts_(&l, ts);
		puts_(&l, " ");
		puts_(&l, level_pad[lvl]);
		put_value(&l, msg);
		for (size_t i = 0; i + 1 < nkv; i += 2) {
			puts_(&l, " ");
			puts_(&l, kv[i]);
			puts_(&l, "=");
			put_value(&l, kv[i + 1] ? kv[i + 1] : "-");
		}
	}
	l.b[l.n++] = '\n';
	if (npending + l.n > sizeof(pending))
		atr_log_flush();
	memcpy(pending + npending, l.b, l.n);
	npending += l.n;
	/* Warnings and errors go out at once (and everything before them). */
	if (lvl >= ATR_LOG_WARN)
		atr_log_flush();
}

void atr_log(enum atr_log_level lvl, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (lvl < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(lvl, msg, NULL, 0);
}

void atr_log_kv(enum atr_log_level lvl, const char *msg, ...)
{
	const char *kv[32];
	size_t n = 0;
	va_list ap;
	const char *s;

	if (lvl < min_level)
		return;
	va_start(ap, msg);
	while (n < 32 && (s = va_arg(ap, const char *)) != NULL) {
		kv[n++] = s;
		if (n < 32)
			kv[n++] = va_arg(ap, const char *);
	}
	va_end(ap);
	emit(lvl, msg, kv, n);
}
