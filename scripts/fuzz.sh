#!/bin/sh
# fuzz.sh runs every fuzz target of the module (each func Fuzz... in a
# _test.go file) for DURATION each, one after the other, and keeps going
# when one fails. Run it before resolving an issue; it is not part of CI.
#
# What the fuzzer finds is kept: an input that makes a target fail is
# written by go test to the package's testdata/fuzz/<target>/ and stays
# there, so that every later `go test` runs it as a regression case
# (commit it with the fix); the inputs that only widened coverage stay in
# go's fuzz cache ($(go env GOCACHE)/fuzz), so each run goes on from where
# the last one stopped.
#
# Usage: scripts/fuzz.sh [DURATION [TARGET-REGEXP]]
#   DURATION      go test -fuzztime, e.g. 3m (the default), 20s or 10000x
#   TARGET-REGEXP only targets whose name matches, e.g. 'FuzzParse$'
# PARALLEL (default 2) is the number of fuzzing workers per target.
set -u
DURATION=${1:-3m}
FILTER=${2:-.}
PARALLEL=${PARALLEL:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

failed=""
count=0
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	for target in $(grep -h '^func Fuzz' "$dir"/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/' | sort -u); do
		echo "$target" | grep -Eq -- "$FILTER" || continue
		count=$((count + 1))
		echo "== $dir $target ($DURATION)"
		if ! go test "$dir" -run '^$' -fuzz "^$target\$" -fuzztime "$DURATION" -parallel "$PARALLEL"; then
			failed="$failed $dir:$target"
		fi
	done
done

echo "== $count fuzz targets run for $DURATION each"
new=$(git status --porcelain -- '*/testdata/fuzz/*' | sed 's/^...//')
if [ -n "$new" ]; then
	echo "new failing inputs kept in the corpus (fix, then commit them):"
	echo "$new"
fi
if [ -n "$failed" ]; then
	echo "failed:$failed"
	exit 1
fi
echo "no failures"
