#ifndef ATRIUM_DISPATCH_H
#define ATRIUM_DISPATCH_H
/*
 * dispatch.h: the backend that runs jobs on Atrium's own workers over HTTP
 * (src/dispatch/dispatch.c). serve.c makes one and hands its atr_job_backend to the engine.
 */
struct uv_loop_s;
struct atr_store;
struct atr_client;
struct atr_registry;
struct atr_job_backend;
struct atr_dispatcher;
struct atr_slurm;

struct atr_dispatcher_opts {
	struct uv_loop_s *loop;
	struct atr_store *store;       /* the job's dispatch view */
	struct atr_client *client;     /* HTTP on the loop */
	struct atr_registry *registry; /* worker secrets */
	struct atr_slurm *slurm;       /* Slurm clusters (slurm.h): their jobs go there; may be NULL */
};

int atr_dispatcher_new(const struct atr_dispatcher_opts *o, struct atr_dispatcher **out);
/* The backend to give the engine (atr_engine_opts.backend); it lives as long as d. */
const struct atr_job_backend *atr_dispatcher_backend(struct atr_dispatcher *d);
/* Drops every transfer in flight. Free the engine first: it aborts what it sent. */
void atr_dispatcher_free(struct atr_dispatcher *d);

#endif
