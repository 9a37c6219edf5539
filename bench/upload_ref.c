/*
 * upload_ref.c: the upload scenario's references (the denominators an Atrium upload is
 * measured against). Writes a file of BYTES pseudo-random bytes in DIR (the disk Atrium's
 * data dir is on), then times, REPS times each: `cp` of it to a new file in DIR followed by an
 * fsync of the copy (an upload is acknowledged only once it is on disk), and an in-process
 * sha256 of it with OpenSSL EVP in 1 MiB reads. The source stays in the page cache, as an
 * upload's bytes arrive from memory too. MB are 10^6 bytes.
 * Prints: cp_mb_s= sha256_mb_s= (medians) bytes= reps=
 */
#include "common.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "upload_ref"
#define CHUNK (1u << 20)
#define MAX_REPS 32

extern char **environ;

static void make_source(const char *path, uint64_t bytes, unsigned char *buf)
{
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		bench_die(PROG, "cannot create '%s': %s", path, strerror(errno));
	for (uint64_t done = 0; done < bytes;) {
		size_t n = bytes - done < CHUNK ? (size_t)(bytes - done) : CHUNK;
		for (size_t i = 0; i + 8 <= CHUNK; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		if (write(fd, buf, n) != (ssize_t)n)
			bench_die(PROG, "cannot write '%s': %s", path, strerror(errno));
		done += n;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		bench_die(PROG, "cannot write '%s': %s", path, strerror(errno));
}

static double time_cp(const char *src, const char *dst, uint64_t bytes)
{
	char cp[] = "cp";
	char *args[] = { cp, (char *)(uintptr_t)src, (char *)(uintptr_t)dst, NULL };
	uint64_t t0 = bench_now_ns();
	pid_t pid;
	int status, fd;

	if (posix_spawnp(&pid, "cp", NULL, NULL, args, environ) != 0)
		bench_die(PROG, "cannot run cp");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die(PROG, "cp '%s' '%s' failed", src, dst);
	fd = open(dst, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0 || close(fd) < 0)
		bench_die(PROG, "cannot fsync '%s'", dst);
	return (double)bytes / ((double)(bench_now_ns() - t0) / 1e9) / 1e6;
}

static double time_sha256(const char *path, uint64_t bytes, unsigned char *buf)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	uint64_t t0 = bench_now_ns(), seen = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (!ctx || fd < 0 || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		bench_die(PROG, "cannot hash '%s'", path);
	while ((n = read(fd, buf, CHUNK)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		seen += (uint64_t)n;
	}
	if (n < 0 || seen != bytes || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		bench_die(PROG, "cannot hash '%s'", path);
	close(fd);
	EVP_MD_CTX_free(ctx);
	return (double)bytes / ((double)(bench_now_ns() - t0) / 1e9) / 1e6;
}

int main(int argc, char **argv)
{
	double cp[MAX_REPS], sha[MAX_REPS];
	char src[4100], dst[4100];
	unsigned char *buf;
	uint64_t bytes;
	int reps;

	bytes = (uint64_t)bench_dir_count_reps(PROG, "BYTES", argc, argv, MAX_REPS, &reps);
	if (!(buf = malloc(CHUNK)))
		bench_die(PROG, "out of memory");
	snprintf(src, sizeof(src), "%s/upload-src.bin", argv[1]);
	snprintf(dst, sizeof(dst), "%s/upload-dst.bin", argv[1]);
	make_source(src, bytes, buf);
	for (int i = 0; i < reps; i++) {
		cp[i] = time_cp(src, dst, bytes);
		unlink(dst);
		sha[i] = time_sha256(src, bytes, buf);
	}
	unlink(src);
	free(buf);
	printf("cp_mb_s=%.0f sha256_mb_s=%.0f bytes=%llu reps=%d\n", bench_median(cp, (size_t)reps),
	       bench_median(sha, (size_t)reps), (unsigned long long)bytes, reps);
	return 0;
}
