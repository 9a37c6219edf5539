#!/bin/sh
# The real MLflow 2.9.2 client against a real daemon: tests/mlflow/client_loop.py (a data
# scientist's whole loop, permissions, native <-> MLflow). Needs the client laid out by
# scripts/mlflow-client.sh: `tests/mlflow/run.sh --available` says whether it is (exit 0) or
# not (exit 1, with the reason), so tests/run.sh shows SKIP rather than PASS without it.
#   tests/mlflow/run.sh [client_loop|import]     tests/mlflow/run.sh --available [client_loop|import]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
env_sh=$("$root/scripts/mlflow-client.sh" --env) || { echo "$env_sh"; exit 1; }
. "$env_sh"
if ! "$PY" -c 'import mlflow' 2>/dev/null; then
	echo "the MLflow client under $(dirname "$env_sh") does not import (Debian packages missing?)"
	exit 1
fi
if [ "${1:-}" = --available ]; then
	# the import test runs MLflow's own server too
	if [ "${2:-}" = import ] && ! "$PY" -c 'import mlflow.server, flask, gunicorn, sqlalchemy, alembic' 2>/dev/null; then
		echo "the MLflow server's Debian packages (python3-flask, -gunicorn, -sqlalchemy, -alembic) are missing"
		exit 1
	fi
	exit 0
fi
which=${1:-client_loop}
bin="${ATRIUM_BIN:-$root/build/asan/atrium}"
work=$(mktemp -d /tmp/atrium-mlflow-XXXXXX)
trap 'kill $(cat "$work/pids" 2>/dev/null) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

mkdir -p "$work/data"
"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" --local-worker >"$work/server.log" 2>&1 &
echo $! >"$work/pids"
for _ in $(seq 1 500); do
	[ -s "$work/data/listen.addr" ] && break
	sleep 0.02
done
[ -s "$work/data/listen.addr" ] || { cat "$work/server.log"; exit 1; }
export ATRIUM="http://$(cat "$work/data/listen.addr")"
export ATRIUM_ADMIN_TOKEN="$(cat "$work/data/admin.token")"
export ATRIUM_BIN="$bin" WORK="$work"
cd "$work"
if ! "$PY" "$root/tests/mlflow/$which.py"; then
	echo "--- server log:"; tail -30 "$work/server.log"
	exit 1
fi
