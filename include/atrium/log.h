#ifndef ATRIUM_LOG_H
#define ATRIUM_LOG_H
/* Logging to stderr, as text or one JSON object per line. */
#include <stdarg.h>

enum atr_log_level { ATR_LOG_DEBUG, ATR_LOG_INFO, ATR_LOG_WARN, ATR_LOG_ERROR };

void atr_log_setup(enum atr_log_level min, int json);
/* Lines are buffered: this writes them out (the HTTP server calls it once per loop turn; it
 * also runs before any warning or error, when the buffer fills, and at exit). */
void atr_log_flush(void);
/* Parses "debug|info|warn|error"; returns 0 or ATR_EINVAL. */
int atr_log_parse_level(const char *s, enum atr_log_level *out);
int atr_log_enabled(enum atr_log_level lvl);

/* A message; in JSON format it becomes {"ts","level","msg"}. */
void atr_log(enum atr_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A structured line: pairs of key, value strings ended by NULL, e.g. the access log. */
void atr_log_kv(enum atr_log_level lvl, const char *msg, ...);

#define atr_debug(...) atr_log(ATR_LOG_DEBUG, __VA_ARGS__)
#define atr_info(...) atr_log(ATR_LOG_INFO, __VA_ARGS__)
#define atr_warn(...) atr_log(ATR_LOG_WARN, __VA_ARGS__)
#define atr_error(...) atr_log(ATR_LOG_ERROR, __VA_ARGS__)

#endif
