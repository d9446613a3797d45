#!/usr/bin/env bash
# End-to-end import benchmarks for BENCHMARKS.md: the enterprise ATT&CK
# bundle and a generated 1,000,000-object bundle, each timed through the
# real `cyberpact import` (wall time and peak RSS from /usr/bin/time), each
# beside the time encoding/json takes merely to decode the same file, in the
# same run. Usage: scripts/bench-import.sh [OBJECTS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/cyberpact" ./cmd/cyberpact
go build -o "$tmp/jsondecode" ./internal/benchtools/jsondecode
timed() { /usr/bin/time -f "  %e s wall, %U s user, %S s sys, %M KB peak RSS" "$@"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD), $(go version | cut -d' ' -f3)"

attack=../shared/data/enterprise-attack-18.1.stix20.json
if [ -f "$attack" ]; then
  echo "== enterprise ATT&CK ($(du -h "$attack" | cut -f1), STIX 2.0)"
  timed "$tmp/cyberpact" import --data "$tmp/attack" "$attack"
  timed "$tmp/jsondecode" "$attack"
else
  echo "(../shared/data absent: ATT&CK skipped)"
fi

echo "== generated, $n objects"
"$tmp/cyberpact" generate --objects "$n" --seed 1 > "$tmp/gen.json"
echo "  $(du -h "$tmp/gen.json" | cut -f1)"
"$tmp/cyberpact" org create Bench --nation GB --sector other --data "$tmp/gen" >/dev/null
timed "$tmp/cyberpact" import --data "$tmp/gen" --org Bench "$tmp/gen.json"
timed "$tmp/jsondecode" "$tmp/gen.json"
