#!/bin/sh
# Runs the README's curl walkthrough against a real daemon, so the README cannot drift from the
# product: every ```sh block after a "<!-- walkthrough -->" line, in order, as one script (later
# blocks go on from the state earlier ones left); `run.sh NAME` runs the blocks after
# "<!-- NAME -->" instead (walkthrough-competition, walkthrough-monitoring). Any failing curl (-f) fails it.
set -eu
marker="<!-- ${1:-walkthrough} -->"
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="${ATRIUM_BIN:-$root/build/asan/atrium}"
work=$(mktemp -d /tmp/atrium-readme-XXXXXX)
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
# the example model server the walkthrough deploys (its cwd is not the repository)
export MODELSERVER="${MODELSERVER:-$root/build/tests/tools/modelserver}"

awk -v m="$marker" '$0 == m {on=1; next} on && /^```sh/{inblock=1; next} inblock && /^```/{on=0; inblock=0; next} inblock{print}' \
	"$root/README.md" >"$work/walkthrough.sh"
[ -s "$work/walkthrough.sh" ] || { echo "no walkthrough block in README.md"; exit 1; }
cd "$work"
if ! sh -eux "$work/walkthrough.sh" >"$work/out.log" 2>&1; then
	echo "README walkthrough failed:"; tail -40 "$work/out.log"; echo "--- server log:"; tail -20 "$work/server.log"
	exit 1
fi
echo "README walkthrough passed ($(grep -c '^+ curl' "$work/out.log") curl calls)"
