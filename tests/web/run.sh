#!/bin/sh
# tests/web/run.sh: the dashboard's browser tests. Starts the real daemon (ATRIUM_BIN, default
# build/asan/atrium) on 127.0.0.1 with an ephemeral port and a temporary data dir, seeds it
# through the REST API (seed.mjs), drives the system Chromium with playwright-core
# (dashboard.test.mjs; no browser is ever downloaded), then stops the daemon with SIGTERM and
# expects exit status 0 (so sanitizer reports and leaks fail the run too).
# Once seeded, a real `atrium worker` (gpu-a, 4 fake GPUs: ATRIUM_FAKE_GPUS) joins with the
# seed's join token, so the Workers views show a live host and jobs run (seed.mjs jobs then
# submits the seeded jobs); it is stopped with SIGTERM after the tests and must exit 0 too.
# Env: ATRIUM_WEB_DIR (serve web/ from disk), WEB_TEST_FILTER (run matching tests only),
# ATRIUM_TEST_KEEP (keep the data dir).
# Logs: build/test-logs/web/ (server.log, worker.log, seed.json); screenshots: build/test-logs/web/screenshots/.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${ATRIUM_BIN:-$ROOT/build/asan/atrium}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
LOGS=$ROOT/build/test-logs/web
SHOTS=$LOGS/screenshots

fail() {
	echo "web tests: $*" >&2
	exit 1
}

[ -x "$BIN" ] || fail "no server binary at $BIN (run: make test-build)"
[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM (run: scripts/deps.sh test)"
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (run: scripts/deps.sh test)"
mkdir -p "$SHOTS" || fail "cannot create $SHOTS"
rm -f "$SHOTS"/*.png

# npm ci when playwright-core is missing or is not the version the lock file pins (a checkout
# that moved to another pin must not test with the old one).
want=$(node -e 'process.stdout.write(require("./tests/web/package-lock.json").packages["node_modules/playwright-core"].version)') ||
	fail "cannot read tests/web/package-lock.json"
have=$(node -e 'try { process.stdout.write(require("./tests/web/node_modules/playwright-core/package.json").version) } catch (e) {}')
if [ "$have" != "$want" ]; then
	echo "web tests: installing playwright-core $want (npm ci)"
	(cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
		fail "npm ci failed in tests/web"
fi

TMP=$(mktemp -d /tmp/atrium-web-XXXXXX) || fail "mktemp failed"
DATA=$TMP/data
PID=""
WPID=""
cleanup() {
	for p in $WPID $PID; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	[ -n "${ATRIUM_TEST_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export ATRIUM_ADMIN_PASSWORD="${ATRIUM_ADMIN_PASSWORD:-dashboard-test-admin-pw}"
export ATRIUM_TEST_PBKDF2_ITERATIONS="${ATRIUM_TEST_PBKDF2_ITERATIONS:-1000}"
# ATRIUM_WEB_DIR=web serves the dashboard from the tree (no rebuild while working on it);
# by default the copy embedded in the binary is tested, as it ships.
ATRIUM_LOG_LEVEL="${ATRIUM_TEST_LOG_LEVEL:-warn}" "$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" \
	${ATRIUM_WEB_DIR:+--web-dir "$ATRIUM_WEB_DIR"} >"$LOGS/server.log" 2>&1 &
PID=$!

# wait_for WHAT PID LOG FILE...: waits (up to 60 s) until every FILE is non-empty, failing
# (with LOG's tail) if process PID exits first.
wait_for() {
	what=$1 pid=$2 log=$3
	shift 3
	i=0
	for f in "$@"; do
		while [ ! -s "$f" ]; do
			kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; fail "the $what exited at start"; }
			i=$((i + 1))
			[ "$i" -le 600 ] || fail "the $what did not start within 60 s"
			sleep 0.1
		done
	done
}

# The daemon writes its address and the admin token once it listens.
wait_for server "$PID" "$LOGS/server.log" "$DATA/listen.addr" "$DATA/admin.token"
export ATRIUM_URL="http://$(cat "$DATA/listen.addr")"
export ATRIUM_ADMIN_TOKEN="$(cat "$DATA/admin.token")"
export SEED_FILE="$LOGS/seed.json"
export SCREENSHOT_DIR="$SHOTS"
export CHROMIUM
echo "web tests: server $ATRIUM_URL ($BIN)"

node tests/web/seed.mjs "$ATRIUM_URL" "$ATRIUM_ADMIN_TOKEN" >"$SEED_FILE" || fail "seeding failed"

# The worker: the join token goes in the environment, as docs/workers.md advises.
WORK=$TMP/worker
mkdir -p "$WORK" || fail "cannot create $WORK"
JOIN=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).workers.join_token)' "$SEED_FILE") ||
	fail "no join token in $SEED_FILE"
ATRIUM_JOIN_TOKEN="$JOIN" ATRIUM_FAKE_GPUS=4 ATRIUM_LOG_LEVEL="${ATRIUM_TEST_LOG_LEVEL:-warn}" "$BIN" worker \
	--server "$ATRIUM_URL" --listen 127.0.0.1:0 --name gpu-a --work-dir "$WORK" --labels pool=large,zone=a \
	>"$LOGS/worker.log" 2>&1 &
WPID=$!
# worker.json is written once it has registered
wait_for worker "$WPID" "$LOGS/worker.log" "$WORK/worker.json"
# Jobs need a registered worker: seeded now, added to the seed file.
node tests/web/seed.mjs "$ATRIUM_URL" "$ATRIUM_ADMIN_TOKEN" jobs <"$SEED_FILE" >"$SEED_FILE.jobs" &&
	mv "$SEED_FILE.jobs" "$SEED_FILE" || fail "seeding jobs failed"

node tests/web/dashboard.test.mjs
rc=$?

# stop WHAT PID LOG: SIGTERM, then wants exit status 0 (sanitizer reports and leaks fail it).
stop() {
	kill -TERM "$2"
	wait "$2"
	st=$?
	if [ "$st" -ne 0 ]; then
		echo "web tests: the $1 exited with status $st after SIGTERM (want 0); see $3" >&2
		tail -30 "$3" >&2
		rc=1
	fi
}
# The worker first: it deregisters from the server on its way out.
stop worker "$WPID" "$LOGS/worker.log"
WPID=""
stop server "$PID" "$LOGS/server.log"
PID=""
ls "$SHOTS"/*.png >/dev/null 2>&1 && echo "web tests: screenshots in $SHOTS"
exit "$rc"
