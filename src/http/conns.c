/*
 * conns.c: the connection guard. libmicrohttpd closes a connection after a period of
 * inactivity, caps the connections it holds, and nothing else: an idle connection costs a
 * client nothing, and a connection that sends one byte a minute is never inactive. So the
 * server keeps its own record of every connection (MHD's connection notifications) and:
 *   - gives each connection a deadline to finish a request head: head_timeout_ms after it
 *     opens, and after each answer (keep-alive: the idle time between requests counts);
 *     past it, the connection is shut down. A request being handled (uploading, waiting on
 *     an event) has no deadline here;
 *   - keeps a reserve for authenticated clients: connections that never carried a valid
 *     token may hold at most max_connections - reserve of them, and at most per_address of
 *     them from one address; past either, the oldest such idle connection is shed to make room
 *     (shedding, not refusing: at accept time nothing says who is calling, and a client on
 *     the same address as an attacker must still get in). A connection that carried a valid
 *     token is never shed.
 * A connection is shut down with shutdown(2) on its socket: MHD sees the end of the stream
 * and closes it as any other. A sweep on a 1 s timer applies the deadlines.
 */
#include "atrium/log.h"
#include "atrium/util.h"
#include "http_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct atr_conn {
	struct atr_conn *next, *prev; /* all connections, oldest first */
	int fd;
	char addr[64];
	uint64_t deadline_us; /* to finish a request head; 0 while a request is handled */
	bool authed;	      /* carried a valid token: never shed */
	bool shed;	      /* shut down by the guard, waiting for MHD to close it */
};

static void addr_of(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)len);
	else
		atr_copy(out, len, "-");
}

static void shed(struct atr_server *s, struct atr_conn *k, const char *why)
{
	if (k->shed)
		return;
	k->shed = true;
	s->conns_unauthed_open -= !k->authed;
	shutdown(k->fd, SHUT_RDWR);
	atr_debug("connection from %s closed: %s", k->addr, why);
}

/* The oldest idle connection without a valid token (of addr, or of any address). */
static struct atr_conn *oldest_unauthed(struct atr_server *s, const char *addr)
{
	for (struct atr_conn *k = s->conns; k; k = k->next)
		if (!k->authed && !k->shed && k->deadline_us && (!addr || strcmp(k->addr, addr) == 0))
			return k;
	return NULL;
}

static int unauthed_from(struct atr_server *s, const char *addr)
{
	int n = 0;
	for (struct atr_conn *k = s->conns; k; k = k->next)
		n += !k->authed && !k->shed && strcmp(k->addr, addr) == 0;
	return n;
}

static void opened(struct atr_server *s, struct MHD_Connection *c, void **socket_ctx)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct atr_conn *k = calloc(1, sizeof(*k)), *victim;

	*socket_ctx = k;
	if (!k)
		return;
	k->fd = ci ? ci->connect_fd : -1;
	addr_of(c, k->addr, sizeof(k->addr));
	k->deadline_us = atr_mono_us() + s->o.head_timeout_ms * 1000;
	k->prev = s->conns_tail;
	if (s->conns_tail)
		s->conns_tail->next = k;
	else
		s->conns = k;
	s->conns_tail = k;
	s->conns_unauthed_open++;
	if (s->o.conns_per_address && unauthed_from(s, k->addr) > (int)s->o.conns_per_address &&
	    (victim = oldest_unauthed(s, k->addr)))
		shed(s, victim, "its address holds too many connections without a valid token");
	if (s->o.max_connections && s->conns_unauthed_open > (int)(s->o.max_connections - s->o.conns_reserve) &&
	    (victim = oldest_unauthed(s, NULL)))
		shed(s, victim, "connections without a valid token fill the server");
}

static void closed(struct atr_server *s, struct atr_conn *k)
{
	if (!k)
		return;
	if (!k->shed)
		s->conns_unauthed_open -= !k->authed;
	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		s->conns_tail = k->prev;
	free(k);
}

void atr_conns_notify(struct atr_server *s, struct MHD_Connection *c, void **socket_ctx,
		      enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		opened(s, c, socket_ctx);
	else
		closed(s, *socket_ctx);
}

static struct atr_conn *conn_of(struct atr_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void atr_conns_request_began(struct atr_req *r)
{
	struct atr_conn *k = conn_of(r);
	if (k)
		k->deadline_us = 0;
}

void atr_conns_request_ended(struct atr_req *r)
{
	struct atr_conn *k = conn_of(r);
	/* keep-alive: the next head is due within the head timeout, or for a client with a valid
	 * token, the idle timeout (MHD's own inactivity timeout is the same) */
	if (k && !k->shed)
		k->deadline_us =
			atr_mono_us() + (k->authed ? r->srv->o.idle_timeout_ms : r->srv->o.head_timeout_ms) * 1000;
}

void atr_conns_authenticated(struct atr_req *r)
{
	struct atr_conn *k = conn_of(r);
	if (k && !k->authed && !k->shed) {
		k->authed = true;
		r->srv->conns_unauthed_open--;
	}
}

void atr_conns_sweep(struct atr_server *s)
{
	uint64_t now = atr_mono_us();

	for (struct atr_conn *k = s->conns; k; k = k->next)
		if (k->deadline_us && now > k->deadline_us && !k->shed)
			shed(s, k, "it did not send a whole request head in time");
}

void atr_conns_free(struct atr_server *s)
{
	while (s->conns)
		closed(s, s->conns);
}
