#!/bin/sh
# make lint: the project rules a compiler does not check.
#  - banned functions (unbounded copies, unchecked conversions), like curl's checksrc;
#  - no blocking calls on the loop: sleep/usleep, system/popen, curl_easy_perform;
#  - no SQL built with printf;
#  - the module graph: no upward include or call (scripts/modgraph.sh, on the built objects);
#  - clang-format, when a .clang-format exists and clang-format is installed.
set -u
cd "$(dirname "$0")/.."
status=0

check() {
	what="$1"; pattern="$2"; skip="${3:-^$}"
	hits=$(grep -rnE "$pattern" src include --include='*.c' --include='*.h' | grep -vE '^\S+:\s*[0-9]+:\s*(/\*|\*)' |
		grep -vE "$skip" || true)
	if [ -n "$hits" ]; then
		echo "lint: $what:"
		echo "$hits" | sed 's/^/  /'
		status=1
	fi
}

check "banned functions (use snprintf, strtoll, a bounded copy)" '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)\s*\('
check "blocking calls in the daemon (use uv timers, uv_spawn, curl multi)" '\b(sleep|usleep|system|popen|curl_easy_perform)\s*\(' \
	'^src/import/' # the import-mlflow command (src/import/) is a CLI, never in the daemon
check "SQL built with printf (bind parameters instead)" '(snprintf|sqlite3_mprintf|asprintf)\s*\([^;]*"(SELECT|INSERT|UPDATE|DELETE)'

# The allowed direction between modules (core -> store -> domain -> http/api -> serve): the
# table and the checker are scripts/modgraph.sh; it reads the objects of the last build.
if [ -d build/obj/src ] || [ -d build/asan/obj/src ]; then
	scripts/modgraph.sh || status=1
else
	echo "lint: module graph not checked: nothing built yet (make, then make lint)"
fi

if [ -f .clang-format ] && command -v clang-format >/dev/null; then
	bad=$(for f in $(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 'bench/*.h' 'tools/*.c' 'fuzz/*.c' 'fuzz/*.h'); do
		clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
	done)
	if [ -n "$bad" ]; then
		echo "lint: not clang-formatted (run clang-format -i):"
		echo "$bad" | sed 's/^/  /'
		status=1
	fi
fi
[ $status -eq 0 ] && echo "lint: ok"
exit $status
