#!/usr/bin/env bash
# End-to-end export benchmarks for BENCHMARKS.md: a generated bundle of
# about INDICATORS indicators (internal/gen writes 60 in every 100 objects)
# is imported into a fresh SQLite store, then each sensor format is
# exported from it by the real `cyberpact export --org` (read through the
# sharing rule, sightings read for the decay), each beside the plain STIX
# export of the indicators (`--format stix --type indicator`), in the same
# run; wall time and peak RSS from /usr/bin/time.
# Usage: scripts/bench-export.sh [INDICATORS] [FORMAT...]   (default 1000000, all)
# With CYBERPACT_BENCH_DATA=DIR, the store is kept in DIR: imported when DIR
# does not exist yet, reused as it is when it does.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
shift || true
formats=("$@")
if [ ${#formats[@]} -eq 0 ]; then
  formats=(suricata snort zeek csv blocklist-ip blocklist-cidr blocklist-domain blocklist-url blocklist-hash blocklist-email rpz navigator)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/cyberpact" ./cmd/cyberpact
# The times go to the script's own standard output (fd 3), whatever the
# command's output is redirected to.
exec 3>&1
timed() {
  /usr/bin/time -o "$tmp/time" -f "  %e s wall, %U s user, %S s sys, %M KB peak RSS" "$@"
  cat "$tmp/time" >&3
}
data=${CYBERPACT_BENCH_DATA:-$tmp/d}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD), $(go version | cut -d' ' -f3)"
objects=$((n * 100 / 60))
if [ ! -e "$data" ]; then
  "$tmp/cyberpact" generate --objects "$objects" --seed 1 > "$tmp/gen.json"
  "$tmp/cyberpact" org create Bench --nation GB --sector other --data "$data" >/dev/null
  echo "== import of $objects generated objects"
  timed "$tmp/cyberpact" import --data "$data" --org Bench "$tmp/gen.json"
  rm "$tmp/gen.json"
else
  echo "== reusing the store in $data"
fi
# Judged at the generator's base time, when most generated indicators are valid.
at=--at=2025-06-01T00:00:00Z
for f in stix "${formats[@]}"; do
  echo "== $f"
  case $f in
    stix) timed "$tmp/cyberpact" export --data "$data" --org Bench --type indicator > "$tmp/out" ;;
    navigator) timed "$tmp/cyberpact" export --data "$data" --org Bench --format navigator > "$tmp/out" ;;
    *) timed "$tmp/cyberpact" export --data "$data" --org Bench --format "$f" "$at" > "$tmp/out" 2> "$tmp/err"; head -1 "$tmp/err" ;;
  esac
  echo "  $(wc -l < "$tmp/out") lines, $(du -h "$tmp/out" | cut -f1)"
done
