/*
 * hold.c: the group-commit hold. The store commits the writes of one loop turn together,
 * when the loop is about to wait (atrium/store.h, group commit): a commit per turn instead of
 * a commit per request is most of what a small write costs. Nothing written may be
 * acknowledged before its commit, so an answer made while the store holds uncommitted writes
 * with 2xx or 3xx is held (the request's phase HELD) on the server's list (errors go at once); after the commit
 * (atr_server_release_held, called by serve.c from the store's commit hook) every held answer
 * goes out, and after a failed commit each 2xx among them becomes a 503, as its change was
 * lost. A kill -9 at any moment therefore loses nothing that was answered 2xx.
 *
 * The held request is not suspended: MHD keeps a request whose final call queued nothing
 * among its ready connections and calls the handler again on its next run (a connection
 * suspended and resumed for this paid two epoll_ctl per write). The commit comes before that
 * run (a uv_prepare, serve.c), and atr_req_flush sends nothing while the answer is held.
 * server.c stops MHD's 0 ms re-runs while answers are held (they would spin until the commit).
 */
#include "http_internal.h"

bool atr_server_hold(struct atr_server *s, struct atr_req *r)
{
	/* An error acknowledges nothing: it goes at once, even while the turn's writes (its own
	 * audit entry, say) wait for their commit; so a refusal made from the headers reaches the
	 * client before it sends the body it was refused for. */
	if (r->status >= 400 || r->phase != ATR_REQ_ANSWERED || !s->o.uncommitted || !s->o.uncommitted(s->o.app))
		return false;
	if (!atr_req_enter(r, ATR_REQ_HELD))
		return false;
	r->held_next = s->held;
	s->held = r;
	atr_req_ref(r);
	return true;
}

void atr_server_release_held(struct atr_server *s, bool committed)
{
	struct atr_req *r = s->held, *next;

	s->held = NULL;
	for (; r; r = next) {
		next = r->held_next;
		r->held_next = NULL;
		atr_req_release(r, committed);
		atr_req_unref(r);
	}
	atr_server_kick(s);
}
