/*
 * fence.c (worker): self-fencing. The server marks a worker offline and requeues its jobs
 * once heartbeat_timeout_s pass without a heartbeat from it, and starts the requeued
 * attempts no sooner than that last heartbeat + heartbeat_timeout_s + 20 s. So when this
 * agent has had no contact for heartbeat_timeout_s (a heartbeat answered 200, or a
 * registration; counted on the loop's monotonic clock from when it was sent, which is before
 * the server saw it), its jobs are no longer its own: each running job gets a line in its
 * log, SIGTERM to its process group and SIGKILL min(--grace, 15 s) later, well before the
 * server may start another attempt; a job still fetching its inputs is cancelled; new jobs
 * are refused (routes.c). Heartbeats go on as before; when one succeeds again the agent goes
 * on as usual (the server has marked those attempts lost; their reports are stale to it).
 * Not here: sending heartbeats (link.c), stopping a process (runner.c).
 */
#include "agent.h"
#include "atrium/log.h"

#include <stdio.h>

static void on_fence(uv_timer_t *t)
{
	struct agent *a = t->data;
	uint64_t kill_ms = (uint64_t)a->cfg->grace_s * 1000;
	unsigned secs = (unsigned)((a->heartbeat_timeout_ms + 999) / 1000);
	char message[200], line[400];
	int n = 0;

	if (kill_ms > AGENT_FENCE_KILL_MAX_MS)
		kill_ms = AGENT_FENCE_KILL_MAX_MS;
	a->fenced = true;
	snprintf(message, sizeof(message), "stopped by the worker: no contact with the server for %u s", secs);
	snprintf(line, sizeof(line),
		 "atrium: no contact with the server for %u s: it has marked this worker offline and requeued this "
		 "job; stopping it (SIGTERM now, SIGKILL in %.0f s)\n",
		 secs, (double)kill_ms / 1000.0);
	for (struct agent_job *j = a->jobs, *next; j; j = next) {
		next = j->next; /* (a job that ends here stays in the list until its report is in) */
		n += agent_job_fence(j, line, message, kill_ms);
	}
	atr_warn("no contact with the server for %u s: it has marked this worker offline and requeued its jobs; "
		 "stopping them (%d job%s: SIGTERM now, SIGKILL in %.0f s); no new jobs until a heartbeat succeeds",
		 secs, n, n == 1 ? "" : "s", (double)kill_ms / 1000.0);
}

void agent_fence_contact(struct agent *a, uint64_t sent_ms)
{
	uint64_t now = uv_now(a->loop), due = sent_ms + a->heartbeat_timeout_ms;

	if (a->fenced)
		atr_info("in contact with the server again: taking jobs again");
	a->fenced = false;
	if (a->closing || !a->heartbeat_timeout_ms)
		return;
	uv_timer_start(&a->fence_timer, on_fence, due > now ? due - now : 0, 0);
}
