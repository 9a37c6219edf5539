/*
 * test_engine.c: the job engine (src/jobs/) on a real store, with a fake backend the test
 * answers and a fake clock the test moves (engine_fakes.h): placement (no GPU given twice,
 * reasons for jobs that fit nowhere, priority order, cordoned and offline workers), what
 * each dispatch answer does (accepted, refused and the suspect worker, failed, rejected, no
 * answer settled by heartbeats or by the grace), requeue on a lost worker, cancel in every
 * state, final reports (stale attempts ignored), job tokens revoked, and atr_engine_submit's
 * one transaction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "atrium/store_runs.h"
#include "engine_fakes.h"
#include "jobs/jobs_internal.h"

static int setup(void **state)
{
	struct efx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(efx_open(f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct efx *f = *state;

	assert_int_equal(efx_close(f), 0);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static int64_t submit_job(struct efx *f, const char *name, int gpus, int priority, int max_attempts)
{
	json_t *cmd = json_pack("[s, s]", "python", "train.py");
	struct atr_job_spec spec = { .project_id = f->project,
				     .created_by = f->user,
				     .name = name,
				     .kind = "training",
				     .command = cmd,
				     .gpus = gpus,
				     .cpus = 1,
				     .memory_mb = 1024,
				     .priority = priority,
				     .max_attempts = max_attempts };
	struct atr_job_submit sub = { .spec = &spec };
	int64_t id = 0;

	assert_int_equal(atr_engine_submit(f->e, &sub, &id), 0);
	json_decref(cmd);
	assert_true(id > 0);
	return id;
}

static const char *state_of(struct efx *f, int64_t id)
{
	static char buf[32];
	return efx_job_str(f, id, "state", buf, sizeof(buf));
}

static void answer(struct efx *f, int64_t job_id, enum atr_dispatch_result res, const char *why)
{
	struct fake_send *s = fake_last_send(&f->be, job_id);

	assert_non_null(s);
	assert_false(s->answered);
	s->answered = true;
	atr_engine_dispatch_result(f->e, job_id, res, why);
	settle(f);
}

/* Submits, places and starts a job: its send is accepted. */
static struct fake_send *run_job(struct efx *f, int64_t id)
{
	struct fake_send *s;

	settle(f);
	s = fake_last_send(&f->be, id);
	assert_non_null(s);
	answer(f, id, ATR_DISPATCH_ACCEPTED, NULL);
	assert_string_equal(state_of(f, id), "running");
	return s;
}

static json_t *heartbeat(struct efx *f, int64_t worker_id, const int64_t *ids, int n)
{
	json_t *running = json_array(), *cancel;

	for (int i = 0; i < n; i++)
		json_array_append_new(running, json_integer(ids[i]));
	cancel = atr_engine_heartbeat(f->e, worker_id, running);
	json_decref(running);
	settle(f);
	assert_non_null(cancel);
	return cancel;
}

/* Whether any event of the job moved it to `to` with a message containing `text` (NULL: any). */
static bool has_event(struct efx *f, int64_t job_id, const char *to, const char *text)
{
	struct atr_page p = { .limit = 100 };
	json_t *arr = json_array(), *ev;
	bool more, found = false;
	size_t i;

	assert_int_equal(atr_store_job_events(f->s, job_id, &p, arr, &more), 0);
	json_array_foreach(arr, i, ev)
	{
		if (strcmp(atr_json_str(ev, "to_state", ""), to) != 0)
			continue;
		if (!text || strstr(atr_json_str(ev, "message", ""), text))
			found = true;
	}
	json_decref(arr);
	return found;
}

/* Marks a worker offline in the store as its missed heartbeats would, then tells the engine. */
static void worker_offline(struct efx *f, int64_t worker_id)
{
	assert_int_equal(atr_store_worker_deregister(f->s, worker_id), 0);
	atr_engine_worker_gone(f->e, worker_id, "lost: its worker went offline", false);
	settle(f);
}

/* ---- placement ---- */

static void test_gpus_never_given_twice(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 2, "A100", 16);
	int64_t a = submit_job(f, "a", 1, 0, 1), b = submit_job(f, "b", 1, 0, 1), c = submit_job(f, "c", 1, 0, 1);
	struct fake_send *sa, *sb, *sc;
	char reason[200];

	settle(f);
	assert_int_equal(f->be.nsent, 2);
	sa = fake_last_send(&f->be, a);
	sb = fake_last_send(&f->be, b);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_null(fake_last_send(&f->be, c));
	assert_int_equal(sa->worker_id, w);
	assert_int_equal(sa->ngpus, 1);
	assert_int_equal(sb->ngpus, 1);
	assert_int_not_equal(sa->gpus[0], sb->gpus[0]);
	assert_string_equal(sa->kind, "training");
	assert_int_equal(sa->attempt, 1);
	assert_string_equal(state_of(f, a), "dispatched");
	assert_string_equal(state_of(f, c), "queued");
	assert_non_null(strstr(efx_job_str(f, c, "pending_reason", reason, sizeof(reason)), "waiting for 1 GPU"));

	answer(f, a, ATR_DISPATCH_ACCEPTED, NULL);
	answer(f, b, ATR_DISPATCH_ACCEPTED, NULL);
	assert_string_equal(state_of(f, a), "running");
	assert_int_equal(f->be.nsent, 2); /* still no GPU for c */

	/* a ends: its GPU, and only that one, goes to c */
	assert_true(efx_token_valid(f, sa->token));
	assert_int_equal(efx_report(f, a, w, 1, "succeeded", 0, NULL), 0);
	settle(f);
	assert_string_equal(state_of(f, a), "succeeded");
	assert_false(efx_token_valid(f, sa->token));
	assert_true(efx_token_valid(f, sb->token));
	sc = fake_last_send(&f->be, c);
	assert_non_null(sc);
	assert_int_equal(sc->gpus[0], sa->gpus[0]);
	assert_int_not_equal(sc->gpus[0], sb->gpus[0]);
}

static void test_fits_nowhere_stays_queued(void **state)
{
	struct efx *f = *state;
	json_t *cmd = json_pack("[s]", "x");
	struct atr_job_spec typed = { .project_id = f->project,
				      .created_by = f->user,
				      .name = "typed",
				      .kind = "training",
				      .command = cmd,
				      .gpus = 1,
				      .gpu_type = "H100",
				      .max_attempts = 1 };
	struct atr_job_submit sub = { .spec = &typed };
	int64_t big, h100;
	char why[200], reason[200];

	efx_worker(f, "w1", 2, "A100", 16);
	big = submit_job(f, "big", 4, 0, 1);
	assert_int_equal(atr_engine_submit(f->e, &sub, &h100), 0);
	settle(f);
	eng_tick(f->e);
	settle(f);
	assert_int_equal(f->be.nsent, 0);
	assert_string_equal(state_of(f, big), "queued");
	assert_non_null(strstr(efx_job_str(f, big, "pending_reason", reason, sizeof(reason)), "4 GPUs"));
	assert_string_equal(state_of(f, h100), "queued");
	assert_non_null(strstr(efx_job_str(f, h100, "pending_reason", reason, sizeof(reason)), "type H100"));

	/* what the API checks before it submits */
	typed.gpus = 4;
	typed.gpu_type = NULL;
	assert_false(atr_engine_feasible(f->e, &typed, why, sizeof(why)));
	assert_non_null(strstr(why, "the most is 2"));
	typed.gpus = 2;
	assert_true(atr_engine_feasible(f->e, &typed, why, sizeof(why)));
	json_decref(cmd);
}

static void test_priority_order(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16);
	int64_t low = submit_job(f, "low", 1, 0, 1), mid = submit_job(f, "mid", 1, 5, 1),
		high = submit_job(f, "high", 1, 10, 1);

	/* all three wait for the same pass: the highest priority goes first, whatever the order */
	settle(f);
	assert_int_equal(f->be.nsent, 1);
	assert_int_equal(f->be.sent[0].job_id, high);
	run_job(f, high);
	assert_int_equal(efx_report(f, high, w, 1, "succeeded", 0, NULL), 0);
	settle(f);
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].job_id, mid);
	run_job(f, mid);
	assert_int_equal(efx_report(f, mid, w, 1, "failed", 1, "boom"), 0);
	settle(f);
	assert_int_equal(f->be.nsent, 3);
	assert_int_equal(f->be.sent[2].job_id, low);
}

static void test_cordoned_and_offline_workers_get_nothing(void **state)
{
	struct efx *f = *state;
	int64_t w1 = efx_worker(f, "w1", 1, "A100", 16), w2 = efx_worker(f, "w2", 1, "A100", 16), j;
	struct atr_worker_flags flags;
	struct atr_worker_usage u = { .load = -1, .memory_used_mb = -1, .disk_total_mb = -1, .disk_free_mb = -1 };
	int64_t swept[4];
	int n = 0;
	char reason[200];

	/* w1 cordoned: the job goes to w2 */
	assert_int_equal(atr_store_worker_set_flags(f->s, w1, 1, -1), 0);
	atr_engine_worker_changed(f->e, w1, false);
	j = submit_job(f, "j", 1, 0, 3);
	run_job(f, j);
	assert_int_equal(fake_last_send(&f->be, j)->worker_id, w2);

	/* w2 misses its heartbeats (w1 does not): the registry's sweep marks it offline */
	fake_clock_advance_ms(120000);
	assert_int_equal(atr_store_worker_heartbeat(f->s, w1, NULL, NULL, &u, &flags), 0);
	assert_int_equal(atr_store_workers_sweep(f->s, atr_now_ms() - 60000, swept, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(swept[0], w2);
	atr_engine_worker_gone(f->e, w2, "lost: its worker went offline", false);
	settle(f);

	/* requeued, and nowhere to go: cordoned w1 and offline w2 get nothing */
	assert_string_equal(state_of(f, j), "queued");
	assert_true(has_event(f, j, "lost", "went offline"));
	assert_int_equal(f->be.nsent, 1);
	eng_tick(f->e);
	settle(f);
	assert_int_equal(f->be.nsent, 1);
	assert_non_null(strstr(efx_job_str(f, j, "pending_reason", reason, sizeof(reason)), "no schedulable worker"));

	/* uncordoned: w1 takes it, attempt 2 */
	assert_int_equal(atr_store_worker_set_flags(f->s, w1, 0, -1), 0);
	atr_engine_worker_changed(f->e, w1, false);
	settle(f);
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].worker_id, w1);
	assert_int_equal(f->be.sent[1].attempt, 2);
}

/* ---- dispatch answers ---- */

static void test_refused_requeues_and_suspects_the_worker(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 1);

	settle(f);
	assert_int_equal(f->be.nsent, 1);
	assert_int_equal(f->be.sent[0].attempt, 1);
	answer(f, j, ATR_DISPATCH_REFUSED, "no room on it");

	/* back in the queue with its attempt given back */
	assert_string_equal(state_of(f, j), "queued");
	assert_int_equal(efx_job_int(f, j, "attempts"), 0);
	assert_true(has_event(f, j, "queued", "no room on it"));
	assert_false(efx_token_valid(f, f->be.sent[0].token));

	/* the worker is suspect for 30 s: not offered the job again meanwhile */
	assert_int_equal(f->be.nsent, 1);
	fake_clock_advance_ms(29000);
	eng_tick(f->e);
	settle(f);
	assert_int_equal(f->be.nsent, 1);

	/* past it: offered again, and the attempt (max 1) was not used up */
	fake_clock_advance_ms(2000);
	eng_tick(f->e);
	settle(f);
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].worker_id, w);
	assert_int_equal(f->be.sent[1].attempt, 1);
	answer(f, j, ATR_DISPATCH_ACCEPTED, NULL);
	assert_string_equal(state_of(f, j), "running");
}

static void test_failed_send_requeues_without_suspicion(void **state)
{
	struct efx *f = *state;
	int64_t j;

	efx_worker(f, "w1", 1, "A100", 16);
	j = submit_job(f, "j", 1, 0, 1);
	settle(f);
	answer(f, j, ATR_DISPATCH_FAILED, NULL);
	/* nothing to blame the worker for: placed again at the next pass, same attempt */
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].attempt, 1);
	assert_string_equal(state_of(f, j), "dispatched");
	assert_true(has_event(f, j, "queued", "could not be sent"));
}

static void test_rejected_fails_the_job(void **state)
{
	struct efx *f = *state;
	int64_t j, next;
	char msg[200];
	int revoked;

	efx_worker(f, "w1", 1, "A100", 16);
	j = submit_job(f, "j", 1, 0, 3);
	next = submit_job(f, "next", 1, 0, 1);
	settle(f);
	assert_int_equal(f->be.nsent, 1);
	revoked = f->be.revoked;
	answer(f, j, ATR_DISPATCH_REJECTED, "unknown image");
	assert_string_equal(state_of(f, j), "failed");
	assert_string_equal(efx_job_str(f, j, "message", msg, sizeof(msg)), "unknown image");
	assert_true(f->be.revoked > revoked);
	assert_false(efx_token_valid(f, f->be.sent[0].token));
	/* its GPU is free again */
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].job_id, next);
}

static void test_no_answer_then_heartbeat_lists_it(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 1);
	json_t *cancel;

	settle(f);
	answer(f, j, ATR_DISPATCH_UNKNOWN, NULL);
	assert_string_equal(state_of(f, j), "dispatched");
	/* the worker says it has it: running */
	fake_clock_advance_ms(3000);
	cancel = heartbeat(f, w, &j, 1);
	assert_int_equal(json_array_size(cancel), 0);
	json_decref(cancel);
	assert_string_equal(state_of(f, j), "running");
	/* later, well past the grace, heartbeats that list it change nothing */
	fake_clock_advance_ms(60000);
	eng_tick(f->e);
	cancel = heartbeat(f, w, &j, 1);
	json_decref(cancel);
	assert_string_equal(state_of(f, j), "running");
}

static void test_no_answer_then_heartbeats_without_it(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 2);
	json_t *cancel;

	settle(f);
	answer(f, j, ATR_DISPATCH_UNKNOWN, NULL);
	/* within the grace a heartbeat that does not list it may have left before the job came */
	fake_clock_advance_ms(DISPATCH_GRACE_MS - 1000);
	cancel = heartbeat(f, w, NULL, 0);
	json_decref(cancel);
	assert_string_equal(state_of(f, j), "dispatched");
	assert_false(has_event(f, j, "lost", NULL));
	assert_int_equal(f->be.nsent, 1);
	/* after it, the worker does not have it: lost, and requeued (attempt 1 of 2 used) */
	fake_clock_advance_ms(2000);
	cancel = heartbeat(f, w, NULL, 0);
	json_decref(cancel);
	assert_true(has_event(f, j, "lost", "no longer has it"));
	assert_true(has_event(f, j, "queued", NULL));
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].attempt, 2);
}

static void test_no_answer_and_no_heartbeat_times_out(void **state)
{
	struct efx *f = *state;
	int64_t j;

	efx_worker(f, "w1", 1, "A100", 16);
	j = submit_job(f, "j", 1, 0, 1);
	settle(f);
	answer(f, j, ATR_DISPATCH_UNKNOWN, NULL);
	fake_clock_advance_ms(DISPATCH_GRACE_MS);
	eng_tick(f->e);
	settle(f);
	assert_string_equal(state_of(f, j), "dispatched"); /* not past the grace yet */
	assert_int_equal(f->be.nsent, 1);
	fake_clock_advance_ms(1);
	eng_tick(f->e);
	settle(f);
	/* never confirmed: back to the queue with the attempt given back, and sent again */
	assert_true(has_event(f, j, "queued", "never confirmed"));
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].attempt, 1);
}

static void test_heartbeat_cancels_what_is_not_its(void **state)
{
	struct efx *f = *state;
	int64_t w1 = efx_worker(f, "w1", 1, "A100", 16), w2 = efx_worker(f, "w2", 1, "A100", 16);
	int64_t j = submit_job(f, "j", 1, 0, 1), ids[2];
	struct fake_send *s = run_job(f, j);
	int64_t other = s->worker_id == w1 ? w2 : w1;
	json_t *cancel;

	/* a worker that reports a job placed elsewhere, and one nobody knows, is told to stop them */
	ids[0] = j;
	ids[1] = 999999;
	cancel = heartbeat(f, other, ids, 2);
	assert_int_equal(json_array_size(cancel), 2);
	json_decref(cancel);
	assert_string_equal(state_of(f, j), "running");
}

/* ---- lost workers ---- */

/* A worker out of contact may still run its job: the requeued attempt waits until its agent,
 * out of contact, has stopped it by itself (last heartbeat + timeout + ATR_FENCE_MARGIN_MS). */
static void test_lost_out_of_contact_holds_the_requeued_attempt(void **state)
{
	struct efx *f = *state;
	int64_t w1 = efx_worker(f, "w1", 1, "A100", 16), w2 = efx_worker(f, "w2", 1, "A100", 16);
	int64_t j = submit_job(f, "j", 1, 0, 3), first, hold_ends;
	json_t *cancel;
	char reason[300];

	first = run_job(f, j)->worker_id;
	cancel = heartbeat(f, first, &j, 1); /* its last heartbeat: now */
	json_decref(cancel);
	hold_ends = atr_now_ms() + 15000 + ATR_FENCE_MARGIN_MS; /* (the fixture's timeout: 15 s) */
	fake_clock_advance_ms(16000);
	assert_int_equal(atr_store_worker_deregister(f->s, first), 0);
	atr_engine_worker_gone(f->e, first, "lost: its worker stopped sending heartbeats", true);
	settle(f);
	assert_string_equal(state_of(f, j), "queued");
	assert_true(has_event(f, j, "queued", "held until"));
	assert_non_null(strstr(efx_job_str(f, j, "pending_reason", reason, sizeof(reason)), "held until"));
	/* the other worker is free, but not before the hold ends */
	for (int64_t t = atr_now_ms(); t < hold_ends - 1000; t += 1000) {
		fake_clock_advance_ms(1000);
		eng_tick(f->e);
		settle(f);
		assert_int_equal(f->be.nsent, 1);
	}
	fake_clock_advance_ms(2000);
	eng_tick(f->e);
	settle(f);
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(fake_last_send(&f->be, j)->worker_id, first == w1 ? w2 : w1);
	assert_int_equal(fake_last_send(&f->be, j)->attempt, 2);
}

static void test_worker_lost_requeues_then_fails(void **state)
{
	struct efx *f = *state;
	int64_t w1 = efx_worker(f, "w1", 1, "A100", 16), w2 = efx_worker(f, "w2", 1, "A100", 16);
	int64_t j = submit_job(f, "j", 1, 0, 2), first, second;
	struct fake_send *s;
	char msg[200];
	int revoked;

	s = run_job(f, j);
	first = s->worker_id;
	worker_offline(f, first);
	assert_true(has_event(f, j, "lost", "went offline"));
	assert_true(has_event(f, j, "queued", "requeued after its worker was lost"));
	/* placed again on the other worker: attempt 2 */
	s = fake_last_send(&f->be, j);
	assert_int_equal(f->be.nsent, 2);
	second = s->worker_id;
	assert_int_equal(second, first == w1 ? w2 : w1);
	assert_int_equal(s->attempt, 2);
	answer(f, j, ATR_DISPATCH_ACCEPTED, NULL);

	/* lost again with no attempt left: failed */
	revoked = f->be.revoked;
	worker_offline(f, second);
	assert_string_equal(state_of(f, j), "failed");
	assert_non_null(strstr(efx_job_str(f, j, "message", msg, sizeof(msg)), "no attempts remain"));
	assert_true(f->be.revoked > revoked);
	assert_int_equal(f->be.nsent, 2);
}

static void test_registered_again_loses_its_jobs(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 2);

	run_job(f, j);
	/* the same name registers again: the old processes are gone */
	assert_int_equal(efx_worker(f, "w1", 1, "A100", 16), w);
	settle(f);
	assert_true(has_event(f, j, "lost", "registered again"));
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].attempt, 2);
}

static void test_cancel_requested_before_loss(void **state)
{
	struct efx *f = *state;
	int64_t j;
	struct fake_send *s;
	char msg[200];

	efx_worker(f, "w1", 1, "A100", 16);
	j = submit_job(f, "j", 1, 0, 3);
	s = run_job(f, j);
	assert_int_equal(atr_engine_cancel(f->e, j), 0);
	assert_true(fake_was_cancelled(&f->be, j));
	worker_offline(f, s->worker_id);
	/* attempts remain, but it was to stop: cancelled, not requeued */
	assert_string_equal(state_of(f, j), "cancelled");
	assert_non_null(strstr(efx_job_str(f, j, "message", msg, sizeof(msg)), "its worker was lost"));
	assert_int_equal(f->be.nsent, 1);
}

/* ---- cancel ---- */

static void test_cancel_queued(void **state)
{
	struct efx *f = *state;
	int64_t j = submit_job(f, "j", 1, 0, 1); /* no worker: it waits */

	settle(f);
	assert_string_equal(state_of(f, j), "queued");
	assert_int_equal(atr_engine_cancel(f->e, j), 0);
	assert_string_equal(state_of(f, j), "cancelled");
	assert_int_equal(f->be.ncancelled, 0);
	assert_int_equal(f->be.revoked, 1);
	assert_int_equal(atr_engine_cancel(f->e, j), ATR_ECONFLICT);
	/* nothing of it is left to place */
	efx_worker(f, "w1", 1, "A100", 16);
	settle(f);
	assert_int_equal(f->be.nsent, 0);
}

static void test_cancel_running(void **state)
{
	struct efx *f = *state;
	json_t *cmd = json_pack("[s]", "train");
	struct atr_job_spec spec = { .project_id = f->project,
				     .created_by = f->user,
				     .name = "tracked",
				     .kind = "training",
				     .command = cmd,
				     .gpus = 1,
				     .max_attempts = 1 };
	struct atr_job_submit sub = { .spec = &spec, .run_name = "run-1", .run_user_id = f->user };
	struct atr_run run;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j;
	json_t *cancel;

	assert_int_equal(atr_engine_submit(f->e, &sub, &j), 0);
	json_decref(cmd);
	run_job(f, j);
	assert_int_equal(atr_engine_cancel(f->e, j), 0);
	assert_int_equal(f->be.ncancelled, 1);
	assert_int_equal(f->be.cancelled[0], j);
	assert_string_equal(state_of(f, j), "running"); /* until the worker reports */

	/* asked again while the first is under way: nothing more goes out */
	assert_int_equal(atr_engine_cancel(f->e, j), 0);
	assert_int_equal(f->be.ncancelled, 1);

	/* the cancel did not get through: the next heartbeat that lists the job carries it, and
	 * the next request sends it again */
	atr_engine_cancel_result(f->e, j, false);
	cancel = heartbeat(f, w, &j, 1);
	assert_int_equal(json_array_size(cancel), 1);
	assert_int_equal(json_integer_value(json_array_get(cancel, 0)), j);
	json_decref(cancel);
	assert_int_equal(atr_engine_cancel(f->e, j), 0);
	assert_int_equal(f->be.ncancelled, 2);

	/* the report settles it, and its run */
	assert_int_equal(efx_report(f, j, w, 1, "cancelled", 143, "stopped"), 0);
	assert_string_equal(state_of(f, j), "cancelled");
	assert_int_equal(atr_store_run_get(f->s, efx_job_int(f, j, "run_id"), &run), 0);
	assert_string_equal(run.status, "killed");
	assert_int_equal(atr_engine_cancel(f->e, j), ATR_ECONFLICT);
}

static void test_cancel_while_the_send_is_in_flight(void **state)
{
	struct efx *f = *state;
	int64_t a, b;

	efx_worker(f, "w1", 2, "A100", 16);
	a = submit_job(f, "a", 1, 0, 1);
	b = submit_job(f, "b", 1, 0, 1);
	settle(f);
	assert_int_equal(f->be.nsent, 2);

	/* no cancel goes out while the dispatch has no answer: the answer sends it */
	assert_int_equal(atr_engine_cancel(f->e, a), 0);
	assert_int_equal(atr_engine_cancel(f->e, b), 0);
	assert_int_equal(f->be.ncancelled, 0);
	answer(f, a, ATR_DISPATCH_ACCEPTED, NULL);
	assert_string_equal(state_of(f, a), "running");
	assert_int_equal(f->be.ncancelled, 1);
	assert_int_equal(f->be.cancelled[0], a);
	/* refused: it never started, so it is cancelled at once */
	answer(f, b, ATR_DISPATCH_REFUSED, "busy");
	assert_string_equal(state_of(f, b), "cancelled");
	assert_true(has_event(f, b, "cancelled", "cancelled before it started"));
	assert_int_equal(f->be.ncancelled, 1);
}

/* ---- reports ---- */

static void test_reports(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 2, "A100", 16);
	int64_t ok = submit_job(f, "ok", 1, 0, 1), bad = submit_job(f, "bad", 1, 0, 1);
	char msg[200];

	run_job(f, ok);
	run_job(f, bad);
	/* a report from another worker, or of another attempt, is kept but not applied */
	assert_int_equal(efx_report(f, ok, w + 100, 1, "succeeded", 0, NULL), 0);
	assert_int_equal(efx_report(f, ok, w, 2, "succeeded", 0, NULL), 0);
	assert_string_equal(state_of(f, ok), "running");

	assert_int_equal(efx_report(f, ok, w, 1, "succeeded", 0, "all good"), 0);
	assert_string_equal(state_of(f, ok), "succeeded");
	assert_int_equal(efx_job_int(f, ok, "exit_code"), 0);
	assert_string_equal(efx_job_str(f, ok, "message", msg, sizeof(msg)), "all good");
	/* a repeat changes nothing */
	assert_int_equal(efx_report(f, ok, w, 1, "failed", 1, "late"), 0);
	assert_string_equal(state_of(f, ok), "succeeded");

	assert_int_equal(efx_report(f, bad, w, 1, "failed", 3, "exit status 3"), 0);
	assert_string_equal(state_of(f, bad), "failed");
	assert_int_equal(efx_job_int(f, bad, "exit_code"), 3);
	assert_string_equal(efx_job_str(f, bad, "message", msg, sizeof(msg)), "exit status 3");
	assert_int_equal(efx_count(f, "SELECT count(*) FROM worker_job_reports"), 3);
}

static void test_stale_attempt_report_is_ignored(void **state)
{
	struct efx *f = *state;
	int64_t w1 = efx_worker(f, "w1", 1, "A100", 16), w2 = efx_worker(f, "w2", 1, "A100", 16);
	int64_t j = submit_job(f, "j", 1, 0, 2), first;
	struct fake_send *s = run_job(f, j);

	first = s->worker_id;
	worker_offline(f, first);
	run_job(f, j);
	assert_int_equal(fake_last_send(&f->be, j)->attempt, 2);
	/* the first worker's late report of attempt 1 */
	assert_int_equal(efx_report(f, j, first, 1, "succeeded", 0, NULL), 0);
	assert_string_equal(state_of(f, j), "running");
	assert_int_equal(efx_report(f, j, first == w1 ? w2 : w1, 2, "succeeded", 0, NULL), 0);
	assert_string_equal(state_of(f, j), "succeeded");
}

static void test_unasked_cancelled_report_hands_the_job_back(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 2);

	run_job(f, j);
	/* the worker stopped (shutdown) and could not wait for the job: nobody asked to cancel */
	assert_int_equal(efx_report(f, j, w, 1, "cancelled", 143, NULL), 0);
	settle(f);
	assert_true(has_event(f, j, "lost", "handed back"));
	assert_int_equal(f->be.nsent, 2);
	assert_int_equal(f->be.sent[1].attempt, 2);
}

static void test_report_before_the_dispatch_answer(void **state)
{
	struct efx *f = *state;
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 1);

	settle(f);
	answer(f, j, ATR_DISPATCH_UNKNOWN, NULL);
	/* a short job: its report comes before anything said it runs */
	assert_int_equal(efx_report(f, j, w, 1, "succeeded", 0, NULL), 0);
	assert_string_equal(state_of(f, j), "succeeded");
	assert_true(has_event(f, j, "running", NULL));
}

/* ---- watch ---- */

struct seen {
	enum atr_job_state states[16];
	int n;
};

static void on_watch(void *cls, int64_t job_id, enum atr_job_state st, bool log_only)
{
	struct seen *s = cls;

	(void)job_id;
	if (!log_only && s->n < 16)
		s->states[s->n++] = st;
}

static void test_watch_sees_every_move(void **state)
{
	struct efx *f = *state;
	struct seen seen = { 0 };
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 1);
	struct atr_job_watch *wt = atr_engine_watch(f->e, j, on_watch, &seen);

	run_job(f, j);
	assert_int_equal(efx_report(f, j, w, 1, "succeeded", 0, NULL), 0);
	atr_engine_unwatch(f->e, wt);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.states[0], ATR_JOB_DISPATCHED);
	assert_int_equal(seen.states[1], ATR_JOB_RUNNING);
	assert_int_equal(seen.states[2], ATR_JOB_SUCCEEDED);
}

/* ---- submit ---- */

struct also_ctx {
	int64_t job_id, run_id;
	bool job_seen;
	int rc;
};

/* Runs inside the submit's transaction: the job and its run are there; then fails or not. */
static int also(struct atr_store *s, int64_t job_id, void *cls)
{
	struct also_ctx *a = cls;
	struct atr_job_row row;

	a->job_id = job_id;
	if (atr_store_job_row(s, job_id, &row) == 0) {
		a->job_seen = true;
		a->run_id = row.run_id;
		json_decref(row.labels);
	}
	if (atr_store_job_set_pending(s, job_id, "written by also") < 0)
		return ATR_EDB;
	return a->rc;
}

static void test_submit_is_one_transaction(void **state)
{
	struct efx *f = *state;
	json_t *cmd = json_pack("[s]", "train");
	struct atr_job_spec spec = { .project_id = f->project,
				     .created_by = f->user,
				     .name = "tracked",
				     .kind = "training",
				     .command = cmd,
				     .gpus = 1,
				     .max_attempts = 1 };
	struct also_ctx ok = { 0 }, bad = { .rc = ATR_ECONFLICT };
	struct atr_job_submit sub = {
		.spec = &spec, .run_name = "run-1", .run_user_id = f->user, .also = also, .also_cls = &ok
	};
	struct atr_job_row row;
	struct atr_engine_counts counts;
	int64_t id = 0, id2 = -1;
	int64_t jobs, runs;

	/* job, run and what `also` adds commit together */
	assert_int_equal(atr_engine_submit(f->e, &sub, &id), 0);
	assert_int_equal(ok.job_id, id);
	assert_true(ok.job_seen);
	assert_true(ok.run_id > 0);
	assert_int_equal(efx_job_int(f, id, "run_id"), ok.run_id);
	jobs = efx_count(f, "SELECT count(*) FROM jobs");
	runs = efx_count(f, "SELECT count(*) FROM runs");
	assert_int_equal(jobs, 1);
	assert_int_equal(runs, 1);
	atr_engine_counts(f->e, &counts);
	assert_int_equal(counts.by_state[ATR_JOB_QUEUED], 1);

	/* `also` fails: nothing of the job or its run is left, in the store or the engine */
	sub.run_name = "run-2";
	sub.also_cls = &bad;
	assert_int_equal(atr_engine_submit(f->e, &sub, &id2), ATR_ECONFLICT);
	assert_int_equal(id2, -1);
	assert_true(bad.job_seen);
	assert_true(bad.job_id > id);
	assert_int_equal(atr_store_job_row(f->s, bad.job_id, &row), ATR_ENOTFOUND);
	assert_int_equal(efx_count(f, "SELECT count(*) FROM jobs"), jobs);
	assert_int_equal(efx_count(f, "SELECT count(*) FROM runs"), runs);
	assert_int_equal(efx_count(f, "SELECT count(*) FROM runs WHERE name = 'run-2'"), 0);
	atr_engine_counts(f->e, &counts);
	assert_int_equal(counts.by_state[ATR_JOB_QUEUED], 1);

	/* and a worker gets only the committed one */
	efx_worker(f, "w1", 2, "A100", 16);
	settle(f);
	assert_int_equal(f->be.nsent, 1);
	assert_int_equal(f->be.sent[0].job_id, id);
	json_decref(cmd);
}

static void test_restart_rebuilds_from_the_store(void **state)
{
	struct efx *f = *state;
	struct atr_job_backend backend = {
		.cls = &f->be, .send = fake_send, .cancel = fake_cancel, .abort = fake_abort
	};
	struct atr_engine_opts eo = {
		.loop = &f->loop, .store = f->s, .backend = &backend, .tokens_revoked = fake_revoked, .cls = &f->be
	};
	int64_t w = efx_worker(f, "w1", 2, "A100", 16);
	int64_t a = submit_job(f, "a", 1, 0, 1), b = submit_job(f, "b", 1, 0, 1), c = submit_job(f, "c", 1, 0, 1);
	struct fake_send *sa = run_job(f, a);
	struct atr_engine_counts counts;
	int gpu_a = sa->gpus[0];

	run_job(f, b);
	/* a new engine on the same store: it holds what the store says, and gives no GPU twice */
	atr_engine_free(f->e);
	settle(f);
	assert_int_equal(atr_engine_new(&eo, &f->e), 0);
	settle(f);
	atr_engine_counts(f->e, &counts);
	assert_int_equal(counts.by_state[ATR_JOB_RUNNING], 2);
	assert_int_equal(counts.by_state[ATR_JOB_QUEUED], 1);
	assert_int_equal(counts.gpus_allocated, 2);
	assert_null(fake_last_send(&f->be, c));
	assert_int_equal(efx_report(f, a, w, 1, "succeeded", 0, NULL), 0);
	settle(f);
	assert_non_null(fake_last_send(&f->be, c));
	assert_int_equal(fake_last_send(&f->be, c)->gpus[0], gpu_a);
}

static void test_restart_gives_dispatched_jobs_the_grace_again(void **state)
{
	struct efx *f = *state;
	struct atr_job_backend backend = {
		.cls = &f->be, .send = fake_send, .cancel = fake_cancel, .abort = fake_abort
	};
	struct atr_engine_opts eo = {
		.loop = &f->loop, .store = f->s, .backend = &backend, .tokens_revoked = fake_revoked, .cls = &f->be
	};
	int64_t w = efx_worker(f, "w1", 1, "A100", 16), j = submit_job(f, "j", 1, 0, 1),
		k = submit_job(f, "k", 0, 0, 1);
	json_t *cancel;
	char token[ATR_TOKEN_MAX];

	/* sent, and the daemon stops before the answers come: a minute later it starts again */
	settle(f);
	assert_int_equal(f->be.nsent, 2);
	atr_copy(token, sizeof(token), fake_last_send(&f->be, j)->token);
	atr_engine_free(f->e);
	settle(f);
	fake_clock_advance_ms(60000);
	assert_int_equal(atr_engine_new(&eo, &f->e), 0);
	settle(f);

	/* the first tick does not take the jobs back: the workers' heartbeats get the grace to
	 * say whether they run them (answers lost with the daemon, not with the workers) */
	eng_tick(f->e);
	settle(f);
	assert_string_equal(state_of(f, j), "dispatched");
	assert_int_equal(f->be.nsent, 2);
	assert_true(efx_token_valid(f, token));
	fake_clock_advance_ms(5000);
	cancel = heartbeat(f, w, &j, 1);
	assert_int_equal(json_array_size(cancel), 0);
	json_decref(cancel);
	assert_string_equal(state_of(f, j), "running");
	assert_true(efx_token_valid(f, token));

	/* k is in none of them: once the grace is over, it goes back to the queue and out again */
	assert_string_equal(state_of(f, k), "dispatched");
	fake_clock_advance_ms(DISPATCH_GRACE_MS);
	eng_tick(f->e);
	settle(f);
	assert_true(has_event(f, k, "queued", "never confirmed"));
	assert_int_equal(f->be.nsent, 3);
	assert_int_equal(f->be.sent[2].job_id, k);
	assert_string_equal(state_of(f, j), "running");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gpus_never_given_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fits_nowhere_stays_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cordoned_and_offline_workers_get_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_requeues_and_suspects_the_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_send_requeues_without_suspicion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_fails_the_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer_then_heartbeat_lists_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer_then_heartbeats_without_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer_and_no_heartbeat_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_cancels_what_is_not_its, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_lost_requeues_then_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_out_of_contact_holds_the_requeued_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registered_again_loses_its_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_requested_before_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_while_the_send_is_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_attempt_report_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unasked_cancelled_report_hands_the_job_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_before_the_dispatch_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_sees_every_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_is_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_rebuilds_from_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_gives_dispatched_jobs_the_grace_again, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
