/*
 * upload_put.c: the upload scenario's client. PUTs BYTES pseudo-random bytes (the stream
 * bench/upload_ref.c writes to its source file, generated in memory as it is sent, as an
 * upload's bytes arrive from memory) to one path on Atrium, with Content-Length and the
 * X-Content-SHA256 of the stream (computed first, outside the clock), and checks that the
 * 201 names that size and sha256. The clock runs from the first byte sent to the whole
 * answer; MB are 10^6 bytes.
 *
 * Usage: upload_put ADDR_FILE TOKEN_FILE PATH BYTES
 * Prints: mb_s= seconds= bytes= status=
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "upload_put"
#define CHUNK (1u << 20)

/* The bytes of upload_ref.c's make_source: xorshift64 words, restarted for each MiB. */
static void fill(unsigned char *buf, uint64_t *x)
{
	for (size_t i = 0; i + 8 <= CHUNK; i += 8) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		memcpy(buf + i, x, 8);
	}
}

static void stream_sha256(uint64_t bytes, unsigned char *buf, char hex[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	uint64_t x = 0x2545f4914f6cdd1dULL;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		bench_die(PROG, "no sha256");
	for (uint64_t done = 0; done < bytes;) {
		size_t n = bytes - done < CHUNK ? (size_t)(bytes - done) : CHUNK;
		fill(buf, &x);
		EVP_DigestUpdate(ctx, buf, n);
		done += n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			bench_die(PROG, "the connection broke while sending: %s", w < 0 ? strerror(errno) : "closed");
		c += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char head[2048], hex[65], answer[8192], *tok;
	unsigned char *buf;
	uint64_t bytes, x = 0x2545f4914f6cdd1dULL, t0;
	size_t got = 0;
	int port, fd, n, status = 0;
	double secs;

	if (argc != 5) {
		fprintf(stderr, "usage: %s ADDR_FILE TOKEN_FILE PATH BYTES\n", PROG);
		return 2;
	}
	if ((port = bench_read_port_file(argv[1])) < 0)
		bench_die(PROG, "no port in '%s'", argv[1]);
	if (!(tok = bench_read_file(argv[2], NULL)))
		bench_die(PROG, "cannot read '%s'", argv[2]);
	tok[strcspn(tok, "\r\n")] = 0;
	bytes = (uint64_t)bench_num(PROG, "BYTES", argv[4]);
	if (!(buf = malloc(CHUNK)))
		bench_die(PROG, "out of memory");
	stream_sha256(bytes, buf, hex);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		bench_die(PROG, "cannot connect to 127.0.0.1:%d", port);
	n = snprintf(head, sizeof(head),
		     "PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
		     "Content-Type: application/octet-stream\r\nX-Content-SHA256: %s\r\nContent-Length: %llu\r\n\r\n",
		     argv[3], port, tok, hex, (unsigned long long)bytes);
	t0 = bench_now_ns();
	send_all(fd, head, (size_t)n);
	for (uint64_t done = 0; done < bytes;) {
		size_t k = bytes - done < CHUNK ? (size_t)(bytes - done) : CHUNK;
		fill(buf, &x);
		send_all(fd, buf, k);
		done += k;
	}
	/* the answer is small and the server closes nothing: read until its body is complete */
	for (;;) {
		ssize_t r = recv(fd, answer + got, sizeof(answer) - 1 - got, 0);
		char *body, *cl;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		answer[got] = 0;
		body = strstr(answer, "\r\n\r\n");
		cl = strstr(answer, "Content-Length: ");
		if (body && cl && (size_t)(answer + got - (body + 4)) >= strtoull(cl + 16, NULL, 10))
			break;
		if (got == sizeof(answer) - 1)
			break;
	}
	secs = (double)(bench_now_ns() - t0) / 1e9;
	close(fd);
	if (got > 12 && strncmp(answer, "HTTP/1.", 7) == 0)
		status = (int)strtol(answer + 9, NULL, 10);
	if (status != 201)
		bench_die(PROG, "PUT %s answered %d: %.400s", argv[3], status, answer);
	if (!strstr(answer, hex))
		bench_die(PROG, "the answer does not name the sha256 %s: %.400s", hex, answer);
	printf("mb_s=%.0f seconds=%.3f bytes=%llu status=%d\n", (double)bytes / secs / 1e6, secs,
	       (unsigned long long)bytes, status);
	free(tok);
	free(buf);
	return 0;
}
