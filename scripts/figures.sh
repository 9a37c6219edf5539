#!/bin/sh
# scripts/figures.sh: the structure figures the architecture issue tracks (issue 13), printed
# so a before/after needs no hand counting. Needs a build (make) for the module graph.
#   functions over 60 lines (bodies from a "{" to a "}" in column 0; tables end in "};")
#   hand-written 400 replies in src/api (atr_reply_invalid / a literal 400)
#   copies of the project access check (functions that compare a caller's project role)
#   files in a cross-module cycle and upward dependencies (scripts/modgraph.sh --figures)
set -u
cd "$(dirname "$0")/.."
long=$(find src -name '*.c' | sort | xargs awk '
	FNR == 1 { start = 0 }
	/^\{$/ { start = FNR; next }
	/^\}$/ && start { n = FNR - start - 1; if (n > 60) printf "  %s:%d %d lines\n", FILENAME, start, n; start = 0 }')
echo "functions over 60 lines: $(printf '%s' "$long" | grep -c .)"
[ -n "$long" ] && echo "$long"
echo "hand-written 400 replies in src/api: $(cat src/api/*.c | grep -cE 'atr_reply_error\([^,]+, 400|atr_reply_invalid\(|ATR_EINVAL, "')"
echo "copies of the access check (role compared outside src/api/access.c): $(grep -lE 'role < need|role == ATR_PROLE_NONE' src/api/*.c | grep -v 'src/api/access.c' | wc -l) files, $(grep -hE 'role < need|role == ATR_PROLE_NONE' src/api/*.c | wc -l) checks in src/api overall"
scripts/modgraph.sh --figures "$@"
