/* buf.c: the capped growable buffer of buf.h. */
#include "atrium/buf.h"
#include "atrium/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void atr_buf_init(struct atr_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void atr_buf_release(struct atr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void atr_buf_reset(struct atr_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

static int grow(struct atr_buf *b, size_t need)
{
	size_t ncap;
	char *p;

	if (need > b->limit)
		return ATR_ETOOBIG;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->limit + 1)
		ncap = b->limit + 1;
	p = realloc(b->data, ncap);
	if (!p) {
		atr_buf_release(b);
		return ATR_ENOMEM;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int atr_buf_append(struct atr_buf *b, const void *data, size_t len)
{
	int rc;

	if (len > b->limit - b->len)
		return ATR_ETOOBIG;
	rc = grow(b, b->len + len);
	if (rc < 0)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

int atr_buf_reserve(struct atr_buf *b, size_t n)
{
	if (n > b->limit - b->len)
		return ATR_ETOOBIG;
	return grow(b, b->len + n);
}

int atr_buf_puts(struct atr_buf *b, const char *s)
{
	return atr_buf_append(b, s, strlen(s));
}

int atr_buf_vprintf(struct atr_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	int rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return ATR_EINVAL;
	if ((size_t)n > b->limit - b->len)
		return ATR_ETOOBIG;
	rc = grow(b, b->len + (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int atr_buf_printf(struct atr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = atr_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *atr_buf_steal(struct atr_buf *b)
{
	char *p = b->data ? b->data : calloc(1, 1);

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void atr_buf_consume(struct atr_buf *b, size_t n)
{
	if (n >= b->len) {
		atr_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = 0;
}
