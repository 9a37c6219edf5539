#!/bin/sh
# tests/lint/test_modgraph.sh: feeds scripts/modgraph.sh (the module-dependency rule of
# make lint) small trees of its own: one that follows the table must pass, and each upward
# dependency (a store file that includes an HTTP header, a store file that calls into the
# API, an unclassified header) must fail, naming the file and how.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
T=$(mktemp -d /tmp/modgraph-test.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
CC=${CC:-cc}
fails=0

# mk DIR FILE TEXT: a source file of the tree in DIR, and its object compiled from TEXT
# without its #include lines (the checker reads includes from the text, calls from objects).
mk() {
	mkdir -p "$1/$(dirname "$2")" "$1/obj/$(dirname "$2")"
	printf '%s\n' "$3" >"$1/$2"
	printf '%s\n' "$3" | grep -v '^#include' >"$1/obj/$2.tmp.c"
	"$CC" -c -o "$1/obj/${2%.c}.o" "$1/obj/$2.tmp.c" || { echo "cannot compile $2"; exit 1; }
	rm -f "$1/obj/$2.tmp.c"
}

# run NAME DIR WANT_RC [PATTERN]: the checker on the tree; PATTERN must be in its output.
run() {
	out=$(MODGRAPH_SRC=src "$2/scripts/modgraph.sh" obj 2>&1)
	rc=$?
	if [ "$rc" -ne "$3" ] || { [ -n "${4:-}" ] && ! printf '%s' "$out" | grep -q "$4"; }; then
		echo "FAIL $1: exit $rc (want $3)${4:+, want '$4' in:}"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	else
		echo "ok   $1"
	fi
}

# The checker runs from the tree's root: give each tree the script's own location.
tree() {
	mkdir -p "$1/scripts"
	cp "$ROOT/scripts/modgraph.sh" "$1/scripts/"
}

A=$T/good
tree "$A"
mk "$A" src/core/util.c 'int core_util(void) { return 1; }'
mk "$A" src/store/rows.c '#include "atrium/util.h"
int core_util(void);
int store_rows(void) { return core_util(); }'
mk "$A" src/api/things.c '#include "atrium/http.h"
#include "atrium/store.h"
int store_rows(void);
int api_things(void) { return store_rows(); }'
run "a tree that follows the table" "$A" 0

B=$T/include
tree "$B"
mk "$B" src/core/util.c 'int core_util(void) { return 1; }'
mk "$B" src/store/rows.c '#include "atrium/http.h"
int store_rows(void) { return 2; }'
run "a store file that includes an HTTP header" "$B" 1 'upward: src/store/rows.c (store) -> http by include:http.h'

C=$T/call
tree "$C"
mk "$C" src/api/things.c 'int api_things(void) { return 3; }'
mk "$C" src/store/rows.c 'int api_things(void);
int store_rows(void) { return api_things(); }'
run "a store file that calls into the API" "$C" 1 'upward: src/store/rows.c (store) -> api by call:api_things'

D=$T/unknown
tree "$D"
mk "$D" src/store/rows.c '#include "atrium/mystery.h"
int store_rows(void) { return 4; }'
run "a header the table does not classify" "$D" 1 'unknown header: src/store/rows.c (include:mystery.h)'

E=$T/module
tree "$E"
mk "$E" src/gadgets/thing.c 'int gadget(void) { return 5; }'
mk "$E" src/api/things.c 'int gadget(void);
int api_things(void) { return gadget(); }'
run "a folder the table does not list" "$E" 1 'unknown module'

[ "$fails" -eq 0 ] && echo "modgraph: all cases behave" && exit 0
exit 1
