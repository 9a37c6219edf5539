#ifndef ATRIUM_BENCH_HTTP_CALL_H
#define ATRIUM_BENCH_HTTP_CALL_H
/*
 * http_call.h: a blocking HTTP/1.1 client for the bench programs' simulated workers and
 * trainers (registration, heartbeats, reports: a few a second; header-only like common.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One request to 127.0.0.1:port on a new connection; the answer's body (NUL-terminated) in
 * out. Returns the status, or -1 when the server could not be reached or answered nonsense. */
static inline int bench_http_call(int port, const char *method, const char *path, const char *bearer, const char *body,
				  char *out, size_t outcap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char head[1024];
	size_t blen = body ? strlen(body) : 0, got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, status = -1, n;
	char *p;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
		     "%s%s%sContent-Length: %zu\r\n\r\n",
		     method, path, bearer ? "Authorization: Bearer " : "", bearer ? bearer : "", bearer ? "\r\n" : "",
		     blen);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || send(fd, head, (size_t)n, MSG_NOSIGNAL) != n ||
	    (blen && send(fd, body, blen, MSG_NOSIGNAL) != (ssize_t)blen)) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, out + got, outcap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == outcap - 1)
			break;
	}
	close(fd);
	out[got] = 0;
	if (got > 12 && strncmp(out, "HTTP/1.", 7) == 0)
		status = (int)strtol(out + 9, NULL, 10);
	p = strstr(out, "\r\n\r\n");
	if (p)
		memmove(out, p + 4, strlen(p + 4) + 1);
	else
		out[0] = 0;
	return status;
}

#endif
