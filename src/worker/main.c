/* main.c (worker): `atrium worker` entry point. The agent itself lands with the jobs issue. */
#include "atrium/config.h"

#include <stdio.h>

int atr_worker_main(struct atr_worker_config *cfg);

int atr_worker_main(struct atr_worker_config *cfg)
{
	(void)cfg;
	fprintf(stderr, "atrium: the worker agent is not built yet\n");
	return 1;
}
