#ifndef ATRIUM_ACCESS_H
#define ATRIUM_ACCESS_H
/*
 * access.h: the words of the access policy, shared by the route table (which names, for each
 * route, the resource its path points at and the project role it needs), the store (which
 * keeps members' roles) and the API's one access decision (src/api/access.c).
 */

/* Project roles, in order: each includes what the ones before it may do. */
enum atr_prole {
	ATR_PROLE_NONE = 0,
	ATR_PROLE_VIEWER,
	ATR_PROLE_LAUNCHER, /* a viewer who may also run the project's launchers (issue 20) */
	ATR_PROLE_EDITOR,
	ATR_PROLE_OWNER
};

/* "owner" -> ATR_PROLE_OWNER ...; NULL/unknown -> ATR_PROLE_NONE. */
enum atr_prole atr_prole_parse(const char *s);
/* "viewer", "launcher", "editor", "owner" ("none" for ATR_PROLE_NONE). */
const char *atr_prole_name(enum atr_prole r);

/*
 * What a route's path points at. The request pipeline loads it (through the resolver that
 * serve.c installs), decides access once, and hands it to the handler. Each names the path
 * parameters it is found by.
 */
enum atr_res {
	ATR_RES_NONE = 0,
	ATR_RES_PROJECT,	  /* {project}: a name or an id */
	ATR_RES_DATASET,	  /* {project}/datasets/{dataset} */
	ATR_RES_DATASET_VERSION,  /* {project}/datasets/{dataset}/versions/{version} (a number or "latest") */
	ATR_RES_RUN,		  /* /runs/{run} */
	ATR_RES_JOB,		  /* /jobs/{job} */
	ATR_RES_MODEL,		  /* {project}/models/{model} */
	ATR_RES_MODEL_VERSION,	  /* {project}/models/{model}/versions/{version} (number, alias, "latest") */
	ATR_RES_MODEL_VERSION_ID, /* /model-versions/{id} */
	ATR_RES_DEPLOYMENT,	  /* /deployments/{name}, /v2/models/{name} */
	ATR_RES_PROMOTION,	  /* /promotions/{id} */
	ATR_RES_BENCHMARK,	  /* {project}/benchmarks/{benchmark} (a name or an id) */
	ATR_RES_EVALUATION,	  /* {project}/benchmarks/{benchmark}/evaluations/{evaluation} */
	ATR_RES_COMPETITION,	  /* /competitions/{competition} (a name) */
	ATR_RES_LAUNCHER,	  /* {project}/launchers/{launcher} (a name or an id) */
	ATR_RES_SWEEP,		  /* {project}/sweeps/{sweep} (an id) */
	ATR_RES_COUNT
};

/* "project", "dataset version", ... as error messages and the OpenAPI document name it. */
const char *atr_res_name(enum atr_res r);

#endif
