#!/bin/sh
# Compares live quality by task with scikit-learn (tests/quality/check_sklearn.py) through the
# sanitizer build's test_quality --sklearn. Needs Debian's python3-sklearn (a test tool only,
# never a runtime dependency of Atrium): `tests/quality/run.sh --available` says whether it is
# installed (exit 0) or not (exit 1, with the reason), so tests/run.sh can say it skipped.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3

if ! [ -x "$py" ] || ! "$py" -c 'import sklearn, numpy' 2>/dev/null; then
	echo "python3-sklearn is not installed (apt-get install python3-sklearn)"
	exit 1
fi
[ "${1:-}" = --available ] && exit 0
exec "$py" "$root/tests/quality/check_sklearn.py" "${QUALITY_BIN:-$root/build/asan/tests/unit/test_quality}"
