/*
 * service.c (worker): a `service` job (a deployment's replica) is a process that should
 * keep running. It gets a free port in PORT (a new one at every start), its health path is
 * polled on the loop (GET http://127.0.0.1:PORT/<health_path>, 200 = ready; every 0.5 s
 * until ready, then every second; three failures in a row make it not ready again), and
 * when it exits without being asked to it is started again after a pause (1 s, doubling to
 * 60 s; back to 1 s after a minute of being ready), counting restarts. Every change of
 * state is reported at once (POST /api/v1/workers/jobs/{id}/service) and the current
 * state rides on every heartbeat, so a lost report costs at most one heartbeat.
 * A service ends only when cancelled (or when it cannot be started at all).
 * Like every job's, its process group is in jobs/<id>/process.pid while it runs (leftovers.c).
 * Not here: fetching the model (fetch.c) and the process itself (runner.c, jobs.c).
 */
#include "agent.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROBE_STARTING_MS 500
#define PROBE_READY_MS 1000
#define PROBE_TIMEOUT_MS 2000
#define UNHEALTHY_AFTER 3
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define STABLE_MS 60000 /* ready this long: the next crash restarts after the shortest pause */

enum svc_state { SVC_STARTING, SVC_READY, SVC_RESTARTING };
static const char *const state_names[] = { "starting", "ready", "restarting" };

struct agent_service {
	struct agent_job *j;
	uv_timer_t timer; /* health probes, or the pause before a restart */
	struct atr_xfer *probe, *report;
	bool report_again;
	bool stopped;
	enum svc_state state;
	char health_path[256];
	int port;
	int restarts;
	int fails;
	uint64_t backoff_ms;
	int64_t ready_since;
	int64_t seq;
	char message[300];
};

int agent_service_new(struct agent_job *j, const json_t *service, char *field, size_t fieldlen, char *why,
		      size_t whylen)
{
	const char *path = atr_json_str(service, "health_path", "/v2/health/ready");
	struct agent_service *s;

	if (!*path || path[0] != '/' || strlen(path) >= sizeof(s->health_path) || strpbrk(path, " \t\r\n?#"))
		return agent_refuse(field, fieldlen, "service.health_path", why, whylen, ATR_EINVAL,
				    "'service.health_path' must be a path starting with '/'");
	if (!(s = calloc(1, sizeof(*s))))
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	s->j = j;
	atr_copy(s->health_path, sizeof(s->health_path), path);
	uv_timer_init(j->a->loop, &s->timer);
	s->timer.data = s;
	j->svc = s;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

void agent_service_stop(struct agent_job *j)
{
	struct agent_service *s = j->svc;
	if (!s)
		return;
	s->stopped = true;
	uv_timer_stop(&s->timer);
	if (s->probe)
		atr_client_cancel(s->probe);
	if (s->report)
		atr_client_cancel(s->report);
	s->probe = s->report = NULL;
}

void agent_service_free(struct agent_service *s)
{
	if (!s)
		return;
	agent_service_stop(s->j);
	uv_close((uv_handle_t *)&s->timer, on_closed);
}

/* A port nothing listens on now (bound to 0, then let go; the process binds it next). */
int agent_service_port(struct agent_job *j)
{
	struct agent_service *s = j->svc;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	s->port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		s->port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return s->port;
}

json_t *agent_service_json(const struct agent_job *j)
{
	const struct agent_service *s = j->svc;
	return json_pack("{s:I, s:I, s:I, s:s, s:o, s:i, s:s}", "id", (json_int_t)j->id, "attempt",
			 (json_int_t)j->attempt, "seq", (json_int_t)s->seq, "state", state_names[s->state], "port",
			 s->port > 0 ? json_integer(s->port) : json_null(), "restarts", s->restarts, "message",
			 s->message);
}

/* ---- reporting ---- */

static void send_report(struct agent_service *s);

static void on_reported(void *cls, const struct atr_client_resp *resp)
{
	struct agent_service *s = cls;
	s->report = NULL;
	if (resp->status == 401)
		agent_secret_rejected(s->j->a);
	if (s->report_again && !s->stopped)
		send_report(s);
}

static void send_report(struct agent_service *s)
{
	struct agent_job *j = s->j;
	json_t *body;
	char path[128], *text;

	s->report_again = false;
	if (!j->a->registered || j->a->stopping)
		return; /* the next heartbeat carries it */
	if (s->report) {
		s->report_again = true;
		return;
	}
	body = agent_service_json(j);
	if (body)
		json_object_del(body, "id");
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	snprintf(path, sizeof(path), "/api/v1/workers/jobs/%lld/service", (long long)j->id);
	if (!text ||
	    agent_send(j->a, "POST", path, NULL, text, strlen(text), NULL, 10000, on_reported, s, &s->report) < 0)
		s->report = NULL;
	free(text);
}

static void set_state(struct agent_service *s, enum svc_state st)
{
	if (s->state == st)
		return;
	s->state = st;
	s->seq++;
	s->fails = 0;
	if (st == SVC_READY)
		s->ready_since = atr_now_ms();
	atr_info("job %lld: service %s (port %d, %d restart%s)", (long long)s->j->id, state_names[st], s->port,
		 s->restarts, s->restarts == 1 ? "" : "s");
	send_report(s);
}

/* ---- health ---- */

static void on_timer(uv_timer_t *t);

static void probe_later(struct agent_service *s)
{
	if (!s->stopped)
		uv_timer_start(&s->timer, on_timer, s->state == SVC_READY ? PROBE_READY_MS : PROBE_STARTING_MS, 0);
}

static void on_probe(void *cls, const struct atr_client_resp *resp)
{
	struct agent_service *s = cls;

	s->probe = NULL;
	if (s->state == SVC_RESTARTING)
		return;
	if (resp->status == 200) {
		s->fails = 0;
		if (s->state != SVC_READY) {
			s->message[0] = 0;
			set_state(s, SVC_READY);
		}
	} else if (s->state == SVC_READY && ++s->fails >= UNHEALTHY_AFTER) {
		snprintf(s->message, sizeof(s->message), "health check failed %d times: %s", s->fails,
			 resp->status  ? "it answered an error"
			 : resp->error ? resp->error
				       : "no answer");
		set_state(s, SVC_STARTING);
	}
	probe_later(s);
}

static void probe(struct agent_service *s)
{
	char url[400];
	struct atr_client_req rq = { .method = "GET",
				     .url = url,
				     .timeout_ms = PROBE_TIMEOUT_MS,
				     .connect_timeout_ms = 1000,
				     .max_response = 64 * 1024 };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, s->health_path);
	if (atr_client_send(s->j->a->client, &rq, on_probe, s, &s->probe) < 0) {
		s->probe = NULL;
		probe_later(s);
	}
}

/* ---- the process ---- */

void agent_service_started(struct agent_job *j)
{
	struct agent_service *s = j->svc;

	s->state = SVC_STARTING;
	s->fails = 0;
	s->seq++; /* a new port: reported even when the state is the same */
	atr_info("job %lld: service starting on port %d (%d restart%s)", (long long)j->id, s->port, s->restarts,
		 s->restarts == 1 ? "" : "s");
	send_report(s);
	probe_later(s);
}

static void restart(struct agent_service *s)
{
	struct agent_job *j = s->j;
	char why[300];

	atr_proc_free(j->proc);
	j->proc = NULL;
	if (agent_job_start_process(j, why, sizeof(why)) < 0)
		agent_job_finish(j, ATR_PROC_FAILED, why, true);
}

static void on_timer(uv_timer_t *t)
{
	struct agent_service *s = t->data;

	if (s->stopped)
		return;
	if (s->state == SVC_RESTARTING)
		restart(s);
	else if (!s->probe)
		probe(s);
}

bool agent_service_exited(struct agent_job *j)
{
	struct agent_service *s = j->svc;
	char line[600];

	if (!s || s->stopped || atr_proc_state(j->proc) == ATR_PROC_CANCELLED)
		return false; /* asked to stop: the job ends */
	if (s->probe) {
		atr_client_cancel(s->probe);
		s->probe = NULL;
	}
	uv_timer_stop(&s->timer);
	if (s->state == SVC_READY && atr_now_ms() - s->ready_since >= STABLE_MS)
		s->backoff_ms = 0;
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->restarts++;
	atr_copy(s->message, sizeof(s->message), atr_proc_message(j->proc));
	snprintf(line, sizeof(line), "atrium: the service %s; starting it again in %.1f s (restart %d)\n", s->message,
		 (double)s->backoff_ms / 1000.0, s->restarts);
	atr_spool_append(&j->log, line, strlen(line));
	agent_ship_soon(j);
	set_state(s, SVC_RESTARTING);
	uv_timer_start(&s->timer, on_timer, s->backoff_ms, 0);
	return true;
}

bool agent_service_waiting(const struct agent_job *j)
{
	return j->svc && j->svc->state == SVC_RESTARTING;
}
