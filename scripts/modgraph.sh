#!/bin/sh
# scripts/modgraph.sh: the module graph of src/, from what each file includes and what its
# object file calls (nm), checked against the table of allowed dependencies below.
#
#   scripts/modgraph.sh [OBJDIR]           check: lists every upward dependency, exit 1 if any
#   scripts/modgraph.sh --figures [OBJDIR] prints the figures (files in a cross-module cycle,
#                                          upward dependencies) and exits 0
#   scripts/modgraph.sh --edges [OBJDIR]   prints "file -> file (module -> module, how)"
#
# OBJDIR holds the objects of src/ as the Makefile builds them (default build/obj, else
# build/asan/obj). MODGRAPH_SRC (default src) and MODGRAPH_INC (default include/atrium)
# let tests/unit/test_modgraph.sh feed the checker a tree of its own.
#
# A module is a folder of src/ (src/main.c and src/serve.c are "serve"). A file depends on a
# module when it includes one of the module's headers (the table HEADERS below names the
# module of every public header; a header missing from it fails the check) or calls a
# function defined in one of the module's files. The allowed direction is
#   core -> store, net -> domain (sched, jobs, registry, artifacts, dispatch, deploy)
#        -> http, api -> serve, worker
# and each module's row in ALLOWED lists what it may use. Like curl's checksrc, the rule is
# a table a reviewer reads, and a failure names the file, the module it reached and how.
set -u
cd "$(dirname "$0")/.."

mode=check
case "${1:-}" in
--figures) mode=figures; shift ;;
--edges) mode=edges; shift ;;
esac
OBJ=${1:-}
SRC=${MODGRAPH_SRC:-src}
INC=${MODGRAPH_INC:-include/atrium}
if [ -z "$OBJ" ]; then
	if [ -d build/obj/src ]; then OBJ=build/obj; else OBJ=build/asan/obj; fi
fi

# module: the modules it may depend on (besides itself)
ALLOWED='
core:
store: core
net: core
sched: core
artifacts: core store
jobs: core store sched
registry: core store net
dispatch: core store net sched jobs registry
deploy: core store net sched jobs registry dispatch
sweeps: core store sched jobs
http: core
api: core store net sched jobs registry artifacts dispatch deploy http sweeps
serve: core store net sched jobs registry artifacts dispatch deploy http api worker import sweeps
import: core
worker: core net http
'

# the module of each public header (include/atrium/NAME.h)
HEADERS='
access: core
buf: core
config: core
downsample: core
embed: core
err: core
json: core
log: core
metric_batch: core
metric_codec: core
mlflow_query: core
runquery: core
util: core
version: core
principal: core
credentials: core
metrics: core
scoring: core
sweep: core
profile: core
launch_params: core
page: http
store: store
db: store
store_datasets: store
store_competitions: store
store_comp_scorers: store
store_deployments: store
store_monitoring: store
store_monitors: store
store_files: store
store_gc: store
store_identity: store
store_jobs: store
store_lineage: store
store_metrics: store
store_models: store
store_mlflow_tracking: store
store_projects: store
store_runs: store
store_search: store
store_stats: store
store_workers: store
store_clusters: store
store_sweeps: store
store_evaluations: store
store_benchmarks: store
store_launchers: store
store_templates: store
client: net
loop: net
sched: sched
jobstate: core
dispatch: dispatch
slurm: dispatch
cluster_link: dispatch
registry: registry
model_hooks: registry
auth: registry
artifacts: artifacts
gc: artifacts
engine: jobs
launcher: jobs
deploy: deploy
sweeps: sweeps
http: http
server: http
router: http
work: http
app: api
serve: serve
worker: worker
worker_runner: worker
gpu: worker
import_mlflow: import
'

tmp=$(mktemp -d /tmp/modgraph.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT

module_of() { # path relative to the repo -> module
	case "$1" in
	"$SRC"/main.c | "$SRC"/serve.c) echo serve ;;
	"$SRC"/*/*) p=${1#"$SRC"/}; echo "${p%%/*}" ;;
	*) echo "?" ;;
	esac
}

# 1. includes: file -> header module
for f in $(find "$SRC" -name '*.c' -o -name '*.h' | sort); do
	m=$(module_of "$f")
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"atrium\/\([a-z0-9_]*\)\.h".*/\1/p' "$f" |
		while read -r h; do echo "$f $m $h"; done
done >"$tmp/includes"
echo "$HEADERS" | awk -F': *' 'NF == 2 { print $1, $2 }' >"$tmp/headers"
awk 'NR == FNR { mod[$1] = $2; next }
	{ hm = ($3 in mod) ? mod[$3] : "?"; print $1, $2, "include:" $3 ".h", hm }' \
	"$tmp/headers" "$tmp/includes" >"$tmp/inc_edges"

# 2. calls: symbols each object defines and uses
: >"$tmp/defs"
: >"$tmp/uses"
for o in $(find "$OBJ/$SRC" -name '*.o' 2>/dev/null | sort); do
	f=${o#"$OBJ"/}
	f=${f%.o}.c
	[ -f "$f" ] || continue # (an object left from a file that moved)
	nm -g --defined-only "$o" 2>/dev/null | awk -v f="$f" 'NF >= 3 { print $3, f }' >>"$tmp/defs"
	nm -u "$o" 2>/dev/null | awk -v f="$f" '{ print f, $NF }' >>"$tmp/uses"
done
awk 'NR == FNR { def[$1] = $2; next } ($2 in def) && def[$2] != $1 { print $1, def[$2], $2 }' \
	"$tmp/defs" "$tmp/uses" | sort -u >"$tmp/calls"

# 3. one edge list: from-file from-module to-module how [to-file]
{
	awk '{ print $1, $2, $4, $3, "-" }' "$tmp/inc_edges"
	while read -r from to sym; do
		echo "$from $(module_of "$from") $(module_of "$to") call:$sym $to"
	done <"$tmp/calls"
} | awk '$2 != $3' >"$tmp/edges"

echo "$ALLOWED" | awk -F': *' 'NF >= 1 && $1 != "" { print $1 ":" $2 }' >"$tmp/allowed"
awk 'NR == FNR { i = index($0, ":"); mod = substr($0, 1, i - 1); n = split(substr($0, i + 1), a, " ");
		 known[mod] = 1; for (k = 1; k <= n; k++) ok[mod " " a[k]] = 1; next }
	{ if ($3 == "?") { print "unknown header: " $1 " (" $4 "): add it to HEADERS in scripts/modgraph.sh"; next }
	  if (!($2 in known)) { print "unknown module: " $1 " is in module " $2 ", which ALLOWED does not list"; next }
	  if (!(($2 " " $3) in ok)) print "upward: " $1 " (" $2 ") -> " $3 " by " $4 }' \
	"$tmp/allowed" "$tmp/edges" | sort -u >"$tmp/violations"
# every folder of src/ must have its row, whether or not anything depends on it yet
for f in $(find "$SRC" -name '*.c' | sort); do
	m=$(module_of "$f")
	grep -q "^$m:" "$tmp/allowed" || echo "unknown module: $f is in module $m, which ALLOWED does not list"
done | sort -u >>"$tmp/violations"

if [ "$mode" = edges ]; then
	awk '{ print $1 " -> " ($5 == "-" ? "(" $3 ")" : $5) "  (" $2 " -> " $3 ", " $4 ")" }' "$tmp/edges" | sort -u
	exit 0
fi

if [ "$mode" = figures ]; then
	# files in a cross-module cycle: f reaches a file g of another module that reaches f back
	# (the file graph of calls, closed transitively)
	awk '{ print $1, $2 }' "$tmp/calls" | sort -u >"$tmp/fe"
	cyc=$(awk '
	function mod(p,   q) { if (p ~ /^src\/(main|serve)\.c$/) return "serve"; q = p; sub(/^src\//, "", q); sub(/\/.*/, "", q); return q }
	{ if (!($1 in id)) { id[$1] = ++n; name[n] = $1 } if (!($2 in id)) { id[$2] = ++n; name[n] = $2 }
	  r[id[$1], id[$2]] = 1 }
	END {
		for (k = 1; k <= n; k++) for (i = 1; i <= n; i++) if ((i, k) in r) for (j = 1; j <= n; j++) if ((k, j) in r) r[i, j] = 1
		c = 0
		for (i = 1; i <= n; i++) { inc = 0
			for (j = 1; j <= n && !inc; j++) if (mod(name[j]) != mod(name[i]) && ((i, j) in r) && ((j, i) in r)) inc = 1
			if (inc) { c++; list = list " " name[i] } }
		print c list }' "$tmp/fe")
	up=$(grep -c '^upward:' "$tmp/violations")
	upm=$(sed -n 's/^upward: [^ ]* (\([a-z]*\)) -> \([a-z]*\) .*/\1 -> \2/p' "$tmp/violations" | sort -u | wc -l)
	echo "files in a cross-module cycle: ${cyc%% *}"
	[ "${cyc%% *}" != 0 ] && echo "  ${cyc#* }"
	echo "upward dependencies: $up (file, how) in $upm module pairs"
	sed -n 's/^upward: [^ ]* (\([a-z]*\)) -> \([a-z]*\) .*/  \1 -> \2/p' "$tmp/violations" | sort | uniq -c
	exit 0
fi

if [ ! -s "$tmp/defs" ]; then
	echo "modgraph: no objects under $OBJ/$SRC (build first: make)" >&2
	exit 2
fi
if [ -s "$tmp/violations" ]; then
	echo "modgraph: dependencies the module table does not allow (scripts/modgraph.sh):"
	sed 's/^/  /' "$tmp/violations"
	exit 1
fi
exit 0
