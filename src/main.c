/* main.c: argument parsing and the subcommands (serve, worker, version, help; and job-shim,
 * which the worker runs for each job and nobody else: not listed). */
#include "atrium/json.h"
#include "atrium/config.h"
#include "atrium/import_mlflow.h"
#include "atrium/serve.h"
#include "atrium/version.h"
#include "atrium/worker_runner.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static const char *usage_top = "usage: atrium <command> [options]\n"
			       "\n"
			       "commands:\n"
			       "  serve     run the Atrium server (REST API, dashboard, scheduler)\n"
			       "  worker    run a GPU worker agent that executes jobs\n"
			       "  import-mlflow  copy experiments, runs and models from an MLflow server\n"
			       "  version   print the version\n"
			       "\n"
			       "`atrium <command> --help` lists a command's options.";

static const char *usage_serve = "usage: atrium serve [options]";
static const char *usage_worker = "usage: atrium worker --server URL --join-token TOKEN [options]";

int atr_worker_main(struct atr_worker_config *cfg);

int main(int argc, char **argv)
{
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "job-shim"))
		return atr_job_shim_main(argc, argv); /* first: it must add nothing to a job's process */
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		puts(usage_top);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("atrium %s\n", ATRIUM_VERSION);
		return 0;
	}
	atr_json_setup();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!strcmp(argv[1], "serve")) {
		struct atr_serve_config cfg;
		atr_serve_config_defaults(&cfg);
		rc = atr_config_parse(atr_serve_opts, &cfg, argc, argv, 2, usage_serve, stdout, stderr);
		if (rc == 0)
			rc = atr_serve_run(&cfg);
		else
			rc = rc > 0 ? 0 : 2;
	} else if (!strcmp(argv[1], "import-mlflow")) {
		rc = atr_import_mlflow_main(argc, argv);
	} else if (!strcmp(argv[1], "worker")) {
		struct atr_worker_config cfg;
		atr_worker_config_defaults(&cfg);
		rc = atr_config_parse(atr_worker_opts, &cfg, argc, argv, 2, usage_worker, stdout, stderr);
		if (rc == 0)
			rc = atr_worker_main(&cfg);
		else
			rc = rc > 0 ? 0 : 2;
	} else {
		fprintf(stderr, "atrium: unknown command '%s'\n\n%s\n", argv[1], usage_top);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
