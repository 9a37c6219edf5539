/*
 * blob.c: streamed uploads into content-addressed blobs, and Range parsing for downloads.
 * A crash at any point loses nothing referenced: bytes are renamed into blobs/ before the
 * database row that points at them is written, and a blob is only removed after its row.
 */
#include "atrium/artifacts.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store.h"
#include "atrium/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Bytes are gathered into this much before a write(2): MHD hands a request body over in
 * pieces of its connection buffer (32 KiB at most), one write each cost a syscall per piece. */
#define UPLOAD_BUF (512 * 1024)

struct atr_upload {
	int fd;
	char tmp[1200];
	EVP_MD_CTX *md;
	uint64_t size;
	int err;
	bool committed;
	unsigned char *buf; /* UPLOAD_BUF bytes; blen of them not written yet */
	size_t blen;
};

int atr_upload_open(struct atr_store *s, struct atr_upload **out)
{
	struct atr_upload *u = calloc(1, sizeof(*u));
	char rnd[17];
	uint64_t r = atr_fast_rand();

	if (!u)
		return ATR_ENOMEM;
	atr_hex_encode(&r, sizeof(r), rnd);
	snprintf(u->tmp, sizeof(u->tmp), "%s/upload-%s", s->tmp_dir, rnd);
	u->fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	u->md = EVP_MD_CTX_new();
	u->buf = malloc(UPLOAD_BUF);
	if (u->fd < 0 || !u->md || !u->buf || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		atr_error("cannot start an upload in '%s': %s", s->tmp_dir, strerror(errno));
		atr_upload_free(u);
		return ATR_EIO;
	}
	*out = u;
	return 0;
}

/* Writes len bytes at p to the file; 0, or ATR_EIO with u->err set. */
static int write_all(struct atr_upload *u, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(u->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			u->err = w < 0 ? errno : EIO;
			return ATR_EIO;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int flush_buf(struct atr_upload *u)
{
	int rc = write_all(u, u->buf, u->blen);
	u->blen = 0;
	return rc;
}

int atr_upload_write(struct atr_upload *u, const void *data, size_t len)
{
	if (u->err)
		return ATR_EIO;
	EVP_DigestUpdate(u->md, data, len);
	u->size += len;
	if (u->blen + len > UPLOAD_BUF && flush_buf(u) < 0)
		return ATR_EIO;
	if (len >= UPLOAD_BUF)
		return write_all(u, data, len);
	memcpy(u->buf + u->blen, data, len);
	u->blen += len;
	return 0;
}

uint64_t atr_upload_size(const struct atr_upload *u)
{
	return u->size;
}

int atr_upload_errno(const struct atr_upload *u)
{
	return u->err;
}

void atr_blob_path(const struct atr_store *s, const char *sha256, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%.2s/%s", s->blob_dir, sha256, sha256);
}

int atr_upload_commit(struct atr_store *s, struct atr_upload *u, const char *expect, bool sync, char sha_out[65])
{
	unsigned char d[32];
	unsigned int dl = 0;
	char path[1300], dir[1200];
	struct stat st;

	if (u->err || flush_buf(u) < 0)
		return ATR_EIO;
	if (EVP_DigestFinal_ex(u->md, d, &dl) != 1 || dl != 32)
		return ATR_EIO;
	atr_hex_encode(d, 32, sha_out);
	if (expect && strcasecmp(expect, sha_out) != 0)
		return ATR_EINVAL;
	if (sync && fsync(u->fd) < 0)
		return ATR_EIO;
	close(u->fd);
	u->fd = -1;
	snprintf(dir, sizeof(dir), "%s/%.2s", s->blob_dir, sha_out);
	if (atr_mkdirs(dir, 0750) < 0)
		return ATR_EIO;
	atr_blob_path(s, sha_out, path, sizeof(path));
	if (stat(path, &st) == 0 && (uint64_t)st.st_size == u->size) {
		unlink(u->tmp); /* the same bytes are stored already */
	} else if (rename(u->tmp, path) < 0) {
		atr_error("cannot store blob '%s': %s", path, strerror(errno));
		return ATR_EIO;
	} else if (sync) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	u->committed = true;
	return 0;
}

void atr_upload_free(struct atr_upload *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (!u->committed && u->tmp[0])
		unlink(u->tmp);
	EVP_MD_CTX_free(u->md);
	free(u->buf);
	free(u);
}

int atr_blob_unlink(const struct atr_store *s, const char *sha256)
{
	char path[1300];
	atr_blob_path(s, sha256, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return ATR_EIO;
	return 0;
}

int atr_range_parse(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a = 0, b = 0;
	const char *p;
	char *end;

	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0; /* absent, another unit, or several ranges: answer the whole file */
	p = h + 6;
	if (*p == '-') {
		if (p[1] < '0' || p[1] > '9')
			return 0;
		b = strtoull(p + 1, &end, 10);
		if (*end)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*len = b > size ? size : b;
		*off = size - *len;
		return 1;
	}
	if (*p < '0' || *p > '9')
		return 0;
	a = strtoull(p, &end, 10);
	if (*end != '-')
		return 0;
	p = end + 1;
	if (*p == 0) {
		b = size ? size - 1 : 0;
	} else {
		if (*p < '0' || *p > '9')
			return 0;
		b = strtoull(p, &end, 10);
		if (*end)
			return 0;
		if (b >= size)
			b = size ? size - 1 : 0;
	}
	if (a >= size || b < a)
		return -1;
	*off = a;
	*len = b - a + 1;
	return 1;
}
