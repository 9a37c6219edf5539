#ifndef ATRIUM_SERVE_H
#define ATRIUM_SERVE_H
/* serve.h: `atrium serve`, the daemon. Returns the process exit code. */
#include "atrium/config.h"

int atr_serve_run(struct atr_serve_config *cfg);

#endif
