/*
 * spool.c: a job's log as a byte stream by offset. Every byte goes to the log file (pwrite
 * at its offset, so a short write is simply rewritten); the unshipped tail is also kept in
 * memory up to a cap, so the shipper rarely reads the disk. Invariant: every byte of
 * [0, total) is in the file ([0, file_len)) or in memory ([mem_base, total)), until it is
 * released. It does not know about HTTP: the shipper in jobs.c reads and releases.
 */
#include "atrium/worker_runner.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int atr_spool_open(struct atr_spool *sp, const char *path, size_t mem_cap)
{
	memset(sp, 0, sizeof(*sp));
	atr_buf_init(&sp->mem, mem_cap ? mem_cap : 1u << 20);
	sp->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	return sp->fd < 0 ? ATR_EIO : 0;
}

void atr_spool_close(struct atr_spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	atr_buf_release(&sp->mem);
}

static bool write_at(int fd, const char *data, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, data, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		data += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return true;
}

/* Brings the file up to total from memory (after an earlier write failed). */
static bool file_catch_up(struct atr_spool *sp)
{
	uint64_t from = sp->file_len;
	if (sp->fd < 0)
		return false;
	if (from == sp->total)
		return true;
	if (from < sp->mem_base) /* the gap was released from memory: the file cannot be whole again */
		return false;
	if (!write_at(sp->fd, sp->mem.data + (from - sp->mem_base), (size_t)(sp->total - from), from))
		return false;
	sp->file_len = sp->total;
	return true;
}

int atr_spool_append(struct atr_spool *sp, const void *data, size_t n)
{
	bool on_disk = false;
	int rc;

	if (n == 0)
		return 0;
	if (file_catch_up(sp) && write_at(sp->fd, data, n, sp->total)) {
		sp->file_len = sp->total + n;
		on_disk = true;
	}
	rc = atr_buf_append(&sp->mem, data, n);
	if (rc == 0) {
		sp->total += n;
		return 0;
	}
	if (rc == ATR_ENOMEM)
		sp->mem_base = sp->total; /* the buffer freed its contents */
	if (on_disk) {
		/* memory is full (or failed) and everything is in the file: drop the memory copy */
		atr_buf_reset(&sp->mem);
		sp->total += n;
		sp->mem_base = sp->total;
		return 0;
	}
	if (sp->lost == 0)
		atr_warn("job log: the log file cannot be written and memory is full; output is being dropped");
	sp->lost += n;
	return ATR_EIO;
}

long atr_spool_read(struct atr_spool *sp, uint64_t off, char *buf, size_t max)
{
	uint64_t n;

	if (off >= sp->total || max == 0)
		return 0;
	if (off >= sp->mem_base) {
		n = sp->total - off;
		if (n > max)
			n = max;
		memcpy(buf, sp->mem.data + (off - sp->mem_base), (size_t)n);
		return (long)n;
	}
	if (off >= sp->file_len || sp->fd < 0)
		return -1;
	n = sp->file_len - off;
	if (n > max)
		n = max;
	for (;;) {
		ssize_t r = pread(sp->fd, buf, (size_t)n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		return r > 0 ? (long)r : -1;
	}
}

void atr_spool_release(struct atr_spool *sp, uint64_t upto)
{
	uint64_t drop;

	if (upto <= sp->mem_base)
		return;
	if (upto > sp->total)
		upto = sp->total;
	drop = upto - sp->mem_base;
	atr_buf_consume(&sp->mem, (size_t)drop);
	sp->mem_base = upto;
}
