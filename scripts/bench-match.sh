#!/bin/sh
# bench-match.sh measures cyberpact match end to end: it generates 1,000,000
# indicators (STIX bundle) and a 2,000,000-line JSON-lines file of ECS
# events (1% naming an indicator) into a temporary directory, then runs,
# RUNS times each and in the same session:
#
#   - the index load alone (go test -run TestLoadBundle), for time and RSS;
#   - cyberpact match --indicators indicators.json events.jsonl;
#   - grep -F -f values.txt events.jsonl, the same values as fixed strings;
#
# all under /usr/bin/time, and prints the best of the runs (the machine
# may be shared: the best run is the one least disturbed).
#
# Usage: scripts/bench-match.sh [INDICATORS [EVENTS [RUNS]]]
set -eu
N_IND=${1:-1000000}
N_EV=${2:-2000000}
RUNS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

cd "$ROOT"
go build -o "$DIR/cyberpact" ./cmd/cyberpact
go build -o "$DIR/eventgen" ./internal/eventgen/cmd/eventgen
go test -c -o "$DIR/match.test" ./match
"$DIR/eventgen" -indicators "$N_IND" -events "$N_EV" -hit-rate 0.01 -dir "$DIR"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "files: indicators.json $(du -m "$DIR/indicators.json" | cut -f1) MB ($N_IND indicators), events.jsonl $(du -m "$DIR/events.jsonl" | cut -f1) MB ($N_EV lines), values.txt $(wc -l < "$DIR/values.txt") values"

best() { sort -n | head -1; }

: > "$DIR/load.txt"
for i in $(seq "$RUNS"); do
	CYBERPACT_MATCH_BUNDLE="$DIR/indicators.json" /usr/bin/time -f "%e %M %U" -o "$DIR/t" \
		"$DIR/match.test" -test.run TestLoadBundle -test.v > "$DIR/load.out" 2>&1
	# build seconds, peak RSS KB, process user CPU seconds, live heap MB
	echo "$(grep -o 'in [0-9.]* s' "$DIR/load.out" | cut -d' ' -f2) $(cut -d' ' -f2,3 "$DIR/t") $(grep -o 'heap [0-9]* MB' "$DIR/load.out" | cut -d' ' -f2)" >> "$DIR/load.txt"
done
echo "index load alone ($N_IND indicators, bundle read and compiled in one process): best of $RUNS:"
sort -n "$DIR/load.txt" | head -1 | awk '{printf "  %.2f s, peak RSS %.0f MB, %.2f s user CPU, live heap %d MB after GC\n", $1, $2/1024, $3, $4}'
echo "  all runs (s, RSS KB, user s, heap MB): $(tr '\n' ';' < "$DIR/load.txt")"

: > "$DIR/match.txt"
for i in $(seq "$RUNS"); do
	/usr/bin/time -f "%e %M" -o "$DIR/t" "$DIR/cyberpact" match --indicators "$DIR/indicators.json" "$DIR/events.jsonl" \
		> "$DIR/alerts.jsonl" 2> "$DIR/match.err"
	rate=$(grep -o '[0-9]* events/s' "$DIR/match.err" | cut -d' ' -f1)
	build=$(grep -o 'built in [0-9.]*m\?s' "$DIR/match.err" | cut -d' ' -f3)
	echo "$rate $(cat "$DIR/t") $build $(wc -l < "$DIR/alerts.jsonl")" >> "$DIR/match.txt"
done
echo "cyberpact match: best of $RUNS (by matching rate):"
sort -rn "$DIR/match.txt" | head -1 | awk '{printf "  matching %d events/s; whole run %.2f s wall (index build %s), peak RSS %.0f MB, %d alerts\n", $1, $2, $4, $3/1024, $5}'
tail -2 "$DIR/match.err" | sed 's/^/  last run: /'
echo "  all runs (events/s, wall s, RSS KB, build, alerts): $(tr '\n' ';' < "$DIR/match.txt")"

: > "$DIR/grep.txt"
for i in $(seq "$RUNS"); do
	/usr/bin/time -f "%e %M" -o "$DIR/t" grep -F -f "$DIR/values.txt" "$DIR/events.jsonl" > "$DIR/grep.out" || true
	echo "$(cat "$DIR/t") $(wc -l < "$DIR/grep.out")" >> "$DIR/grep.txt"
done
echo "grep -F -f values.txt events.jsonl: best of $RUNS:"
sort -n "$DIR/grep.txt" | head -1 | awk -v n="$N_EV" '{printf "  %.2f s wall, %d lines/s, peak RSS %.0f MB, %d matching lines\n", $1, n/$1, $2/1024, $3}'

m=$(sort -rn "$DIR/match.txt" | head -1)
g=$(sort -n "$DIR/grep.txt" | head -1)
echo "$m" "$g" | awk -v n="$N_EV" '{
	printf "ratio: cyberpact matching rate / grep rate = %.1fx; whole-run wall time grep / cyberpact = %.1fx\n", $1/(n/$6), $6/$2 }'
