#!/bin/sh
# Compares the scoring library with scikit-learn (tests/scoring/check_sklearn.py) through the
# sanitizer build's test_scoring --score. Needs Debian's python3-sklearn (a test tool only,
# never a runtime dependency of Atrium): `tests/scoring/run.sh --available` says whether it is
# installed (exit 0) or not (exit 1, with the reason), so tests/run.sh can say it skipped.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3

if ! [ -x "$py" ] || ! "$py" -c 'import sklearn, numpy' 2>/dev/null; then
	echo "python3-sklearn is not installed (apt-get install python3-sklearn python3-scipy)"
	exit 1
fi
[ "${1:-}" = --available ] && exit 0
exec "$py" "$root/tests/scoring/check_sklearn.py" "${SCORING_BIN:-$root/build/asan/tests/unit/test_scoring}"
