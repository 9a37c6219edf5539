#!/bin/sh
# Installs Atrium's build dependencies on Debian when one is missing. As root it runs
# apt-get; otherwise it prints the exact command and stops.
set -eu

PKGS="libmicrohttpd-dev libuv1-dev libjansson-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libcmocka-dev pkg-config gcc make"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run: sudo apt-get install -y$missing" >&2
	exit 1
fi
