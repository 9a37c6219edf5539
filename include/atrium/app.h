#ifndef ATRIUM_APP_H
#define ATRIUM_APP_H
/*
 * app.h: the daemon's parts, reachable from every REST handler as req->app. Owned by serve.c,
 * which creates them in order and tears them down in reverse. Only src/api and serve.c see
 * it: the modules below the API get what they use, one by one, in their options.
 */
#include <stdint.h>

#include "atrium/config.h"

struct uv_loop_s;
struct atr_store;
struct atr_auth;
struct atr_server;
struct atr_metrics;
struct atr_client;
struct atr_engine;
struct atr_registry;
struct atr_dispatcher;
struct atr_gc;
struct atr_deploy;
struct api_follows;
struct api_scorers;
struct atr_sweeps;

struct atr_app {
	struct uv_loop_s *loop;
	const struct atr_serve_config *cfg;
	struct atr_store *store;
	struct atr_auth *auth;
	struct atr_server *http;
	struct atr_metrics *metrics;
	struct atr_client *client; /* outgoing HTTP on the loop (libcurl multi) */
	int64_t started_ms;
	char public_url[256];		   /* how workers and jobs reach this server */
	struct atr_registry *registry;	   /* workers: secrets, the offline sweep (atrium/registry.h) */
	struct atr_dispatcher *dispatcher; /* runs jobs on the workers (atrium/dispatch.h) */
	struct atr_slurm *slurm;	   /* Slurm clusters as a backend (atrium/slurm.h) */
	struct atr_cluster_links *links;   /* the link to each cluster's slurmrestd (atrium/cluster_link.h) */
	struct atr_gc *gc;		   /* the artifact garbage collector (atrium/gc.h) */
	struct atr_engine *engine;	   /* jobs: scheduling, dispatch, reconciliation (atrium/engine.h) */
	struct atr_deploy *deploy;	   /* deployments: controller and inference gateway (atrium/deploy.h) */
	struct api_scorers *scorers;	   /* custom scorers' jobs, followed (src/api/evaluation_scorer.c) */
	struct api_follows *evaljobs;	   /* evaluations run as jobs, followed (src/api/evaluation_watch.c) */
	struct api_follows *compjobs;	 /* model-version competition submissions (src/api/competition_model_watch.c) */
	struct api_follows *compscorers; /* competition scorers' jobs (src/api/competition_scorer.c) */
	struct atr_sweeps *sweeps;	 /* sweeps: trials submitted, ASHA, stopping (atrium/sweeps.h) */
};

#endif
