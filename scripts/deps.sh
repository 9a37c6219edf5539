#!/bin/sh
# Installs what Atrium needs on Debian when something is missing.
#   scripts/deps.sh         build dependencies (make, make run)
#   scripts/deps.sh test    also what the tests drive: curl and jq (README walkthrough),
#                           chromium, nodejs and npm (dashboard browser tests)
# As root it runs apt-get; otherwise it prints the exact command and stops.
set -eu

PKGS="gcc make pkg-config libmicrohttpd-dev libuv1-dev libjansson-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libcmocka-dev"
if [ "${1:-build}" = test ]; then
	PKGS="$PKGS curl jq procps chromium"
fi
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# Node.js may come from elsewhere (nodesource bundles npm): look for the commands.
if [ "${1:-build}" = test ] && ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
	missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run: sudo apt-get install -y$missing" >&2
	exit 1
fi
