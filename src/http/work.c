/* work.c: runs a request's CPU-heavy step on the thread pool, answers on the loop. */
#include "atrium/work.h"
#include "atrium/err.h"

#include <stdlib.h>
#include <uv.h>

struct job {
	uv_work_t w;
	struct atr_req *r;
	atr_work_fn work;
	atr_after_fn after;
	void *data;
};

static void run(uv_work_t *w)
{
	struct job *j = w->data;
	j->work(j->data);
}

static void done(uv_work_t *w, int status)
{
	struct job *j = w->data;
	(void)status;
	j->after(j->r, j->data);
	atr_req_unref(j->r);
	free(j);
}

int atr_req_offload(struct atr_req *r, atr_work_fn work, atr_after_fn after, void *data)
{
	struct job *j = calloc(1, sizeof(*j));
	uv_loop_t *loop;

	if (!j)
		return ATR_ENOMEM;
	j->r = r;
	j->work = work;
	j->after = after;
	j->data = data;
	j->w.data = j;
	loop = atr_req_loop(r);
	if (uv_queue_work(loop, &j->w, run, done) != 0) {
		free(j);
		return ATR_EIO;
	}
	atr_req_ref(r);
	atr_req_suspend(r);
	return 0;
}
