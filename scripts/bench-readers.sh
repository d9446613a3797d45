#!/usr/bin/env bash
# How long readers wait while a large import runs (BENCHMARKS.md, issue
# 15): a hub of 10,000 generated objects, then `cyberpact import` of a
# generated bundle of OBJECTS (default 1,000,000), and beside it, every half
# second, a new process for each of `stats`, `search` (an indicator's value)
# and `audit verify`, each timed; the same reads before (idle) and after.
# Prints one line per read: phase, command, exit code, milliseconds.
# Usage: scripts/bench-readers.sh [OBJECTS]
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/cyberpact" ./cmd/cyberpact
B=$tmp/cyberpact D=$tmp/hub
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
$B org create Bench --nation GB --sector other --data "$D" >/dev/null
$B generate --objects 10000 --seed 9 > "$tmp/small.json"
$B generate --objects "$n" --seed 1 > "$tmp/big.json"
$B import --data "$D" --org Bench "$tmp/small.json" >/dev/null
word=$(grep -o '"name":"Malicious SHA-256 [0-9a-f]*' "$tmp/small.json" | head -1 | awk '{print $3}')
reads() {
  for c in "stats" "search --limit 5 $word" "audit verify"; do
    s=$(date +%s%N); $B $c --data "$D" >/dev/null 2>"$tmp/err"; rc=$?; e=$(date +%s%N)
    echo "$1 ${c%% *} exit=$rc ms=$(( (e-s)/1000000 )) $(date +%T) $(head -c 200 "$tmp/err")"
  done
}
for i in 1 2 3 4 5; do reads idle; sleep 0.5; done
echo "import starts $(date +%T)"
/usr/bin/time -f "import: %e s wall, %M KB peak RSS" $B import --data "$D" --org Bench "$tmp/big.json" > "$tmp/imp.out" 2>&1 &
p=$!
sleep 1
while kill -0 $p 2>/dev/null; do reads during; sleep 0.5; done
wait $p
echo "import ended $(date +%T)"; cat "$tmp/imp.out"
for i in 1 2 3; do reads after; sleep 0.5; done
