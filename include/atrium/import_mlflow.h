/* import_mlflow.h: `atrium import-mlflow`, a command-line copy of a running MLflow tracking
 * server's experiments, runs, metric histories, artifacts and registry into Atrium. */
#ifndef ATRIUM_IMPORT_MLFLOW_H
#define ATRIUM_IMPORT_MLFLOW_H

/* argv[0] is "atrium", argv[1] "import-mlflow". Exit status: 0 all copied, 1 something could
 * not be copied (the summary says what), 2 bad arguments or a side unreachable. */
int atr_import_mlflow_main(int argc, char **argv);

#endif
