#ifndef ATRIUM_BUF_H
#define ATRIUM_BUF_H
/*
 * A growable byte buffer with a hard cap (curl's dynbuf idea): an append that would pass
 * the cap fails with ATR_ETOOBIG and leaves the buffer as it was; a failed allocation
 * frees the contents and fails with ATR_ENOMEM. The data is always NUL-terminated.
 */
#include <stddef.h>
#include <stdarg.h>

struct atr_buf {
	char *data;
	size_t len;
	size_t cap;   /* allocated */
	size_t limit; /* hard cap on len */
};

void atr_buf_init(struct atr_buf *b, size_t limit);
void atr_buf_release(struct atr_buf *b);
void atr_buf_reset(struct atr_buf *b); /* len = 0, keeps memory */
int atr_buf_append(struct atr_buf *b, const void *data, size_t len);
/* Makes room for n more bytes at once (a large answer written piece by piece then grows once,
 * not by copies at each doubling). 0, ATR_ETOOBIG or ATR_ENOMEM. */
int atr_buf_reserve(struct atr_buf *b, size_t n);
int atr_buf_puts(struct atr_buf *b, const char *s);
int atr_buf_printf(struct atr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int atr_buf_vprintf(struct atr_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the data to the caller (free() it) and re-inits the buffer. Never NULL on success. */
char *atr_buf_steal(struct atr_buf *b);
/* Drops the first n bytes. */
void atr_buf_consume(struct atr_buf *b, size_t n);

#endif
