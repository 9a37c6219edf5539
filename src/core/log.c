/* log.c: leveled logging to stderr, text or JSON lines. One write() per line. */
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static enum atr_log_level min_level = ATR_LOG_INFO;
static int json_format;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void atr_log_setup(enum atr_log_level min, int json)
{
	min_level = min;
	json_format = json;
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

/* Appends s as a JSON string body (without quotes), escaping what JSON requires. */
static size_t json_escape(char *out, size_t cap, size_t pos, const char *s)
{
	for (; *s && pos + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)c;
		} else if (c < 0x20) {
			pos += (size_t)snprintf(out + pos, cap - pos, "\\u%04x", c);
		} else {
			out[pos++] = (char)c;
		}
	}
	return pos;
}

/* Text format: control characters from the outside world never reach the terminal. */
static size_t text_copy(char *out, size_t cap, size_t pos, const char *s)
{
	for (; *s && pos + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		out[pos++] = c < 0x20 ? '?' : (char)c;
	}
	return pos;
}

static void emit(enum atr_log_level lvl, const char *msg, const char *const *kv, size_t nkv)
{
	char line[4096];
	char ts[40];
	size_t pos = 0;

	atr_time_format(atr_now_ms(), ts, sizeof(ts));
	if (json_format) {
		pos += (size_t)snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
					level_names[lvl]);
		pos = json_escape(line, sizeof(line), pos, msg);
		if (pos < sizeof(line) - 2)
			line[pos++] = '"';
		for (size_t i = 0; i + 1 < nkv; i += 2) {
			pos += (size_t)snprintf(line + pos, sizeof(line) - pos, ",\"%s\":\"", kv[i]);
			if (pos >= sizeof(line) - 8)
				break;
			pos = json_escape(line, sizeof(line), pos, kv[i + 1] ? kv[i + 1] : "");
			line[pos++] = '"';
		}
		if (pos > sizeof(line) - 3)
			pos = sizeof(line) - 3;
		line[pos++] = '}';
	} else {
		pos += (size_t)snprintf(line, sizeof(line), "%s %-5s ", ts, level_names[lvl]);
		pos = text_copy(line, sizeof(line), pos, msg);
		for (size_t i = 0; i + 1 < nkv && pos < sizeof(line) - 8; i += 2) {
			pos += (size_t)snprintf(line + pos, sizeof(line) - pos, " %s=", kv[i]);
			if (pos >= sizeof(line) - 2)
				break;
			pos = text_copy(line, sizeof(line), pos, kv[i + 1] ? kv[i + 1] : "-");
		}
		if (pos > sizeof(line) - 2)
			pos = sizeof(line) - 2;
	}
	line[pos++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, pos);
	(void)w;
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
