#!/bin/sh
# Compares the monitoring statistics with SciPy (tests/drift/check_scipy.py) through the
# sanitizer build's test_profile --drift / --check. Needs Debian's python3-scipy (a test tool
# only, never a runtime dependency of Atrium): `tests/drift/run.sh --available` says whether it
# is installed (exit 0) or not (exit 1, with the reason), so tests/run.sh can say it skipped.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3

if ! [ -x "$py" ] || ! "$py" -c 'import scipy, numpy' 2>/dev/null; then
	echo "python3-scipy is not installed (apt-get install python3-scipy)"
	exit 1
fi
[ "${1:-}" = --available ] && exit 0
exec "$py" "$root/tests/drift/check_scipy.py" "${PROFILE_BIN:-$root/build/asan/tests/unit/test_profile}"
