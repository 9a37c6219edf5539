#!/bin/sh
# Lays out the real MLflow 2.9.2 Python client (and server) for the tests and the benchmark,
# from Debian packages and MLflow's own source, without PyPI. Used by .ci/run when the shared
# folder with MLflow's source tarball (../shared/mlflow, or $MLFLOW_SHARED) is there; a machine
# without it simply skips the MLflow client tests.
#   scripts/mlflow-client.sh            install into $MLFLOW_CLIENT_DIR (default /var/cache/mlflowc)
#   scripts/mlflow-client.sh --env      print the env.sh to source, or exit 1 when not installed
# The layout (source under src/, two stand-in modules under stubs/, env.sh) is the one the
# shared setup.sh makes; it is that script which does the work.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${MLFLOW_CLIENT_DIR:-/var/cache/mlflowc}
shared=${MLFLOW_SHARED:-$root/../shared/mlflow}

if [ "${1:-}" = --env ]; then
	if [ -f "$dest/env.sh" ] && [ -f "$dest/src/mlflow/version.py" ] && [ -x /usr/bin/python3 ]; then
		echo "$dest/env.sh"
		exit 0
	fi
	echo "the MLflow client is not installed under $dest (scripts/mlflow-client.sh installs it from $shared)"
	exit 1
fi
if ! [ -f "$shared/setup.sh" ]; then
	echo "mlflow-client: no $shared/setup.sh: the MLflow client is not installed (its tests will be skipped)"
	exit 0
fi
skip_apt=1
[ "$(id -u)" -eq 0 ] && skip_apt=0
DEST="$dest" SKIP_APT="${SKIP_APT:-$skip_apt}" bash "$shared/setup.sh"
