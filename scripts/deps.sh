#!/bin/sh
# Installs what Atrium needs on Debian when something is missing.
#   scripts/deps.sh         build dependencies (make, make run; esbuild minifies the vendored JS)
#   scripts/deps.sh test    also what the tests drive: curl and jq (README walkthrough),
#                           chromium, nodejs and npm (dashboard browser tests), openssl
#                           (the TLS test's certificate), and Slurm for test_slurm (as root,
#                           through tests/slurm/slurm-up.sh install). `make fuzz` also needs clang.
# As root it runs apt-get; otherwise it prints the exact command and stops.
set -eu

PKGS="gcc make pkg-config libmicrohttpd-dev libuv1-dev libjansson-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libcmocka-dev esbuild"
if [ "${1:-build}" = test ]; then
	PKGS="$PKGS curl jq procps chromium openssl"
fi
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# Node.js may come from elsewhere (nodesource bundles npm): look for the commands, then for
# the version the browser tests' pinned playwright-core needs (its "engines" field in
# tests/web/package-lock.json; Debian 12's own nodejs, 18.x, satisfies it).
NODE_MIN=$(sed -n 's/.*"node": ">=\([0-9][0-9]*\).*/\1/p' tests/web/package-lock.json 2>/dev/null | head -n 1)
NODE_MIN=${NODE_MIN:-18}
node_major() {
	node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0
}
if [ "${1:-build}" = test ] && ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
	missing="$missing nodejs npm"
fi
node_check() {
	[ "${1:-build}" = test ] || return 0
	command -v node >/dev/null || return 0
	have=$(node_major)
	if [ "$have" -lt "$NODE_MIN" ]; then
		echo "deps: $(command -v node) is Node.js $(node --version 2>/dev/null), the browser tests" >&2
		echo "deps: (playwright-core, pinned in tests/web/package.json) need Node.js $NODE_MIN or newer." >&2
		echo "deps: Debian 12's own package is new enough: apt-get install nodejs npm, and put" >&2
		echo "deps: /usr/bin ahead of $(dirname "$(command -v node)") in PATH (or remove the older Node)." >&2
		return 1
	fi
}
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run: sudo apt-get install -y$missing" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Slurm for test_slurm, after everything else (a Slurm that fails to install must not keep
# the build's packages out): its own script installs it without starting services and, when
# that fails, takes the half-configured packages out again (root only; the test says SKIP).
if [ "${1:-build}" = test ] && [ "$(id -u)" -eq 0 ] && ! command -v slurmrestd >/dev/null; then
	bash tests/slurm/slurm-up.sh install || echo "deps: Slurm could not be installed: test_slurm will say SKIP" >&2
fi
node_check "${1:-build}"
