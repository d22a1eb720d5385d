#!/usr/bin/env bash
# The fast load and fault scenarios, reduced so that each takes under a minute, for CI:
#   tools/reliability/ci_quick.sh [path/to/signbert]   (default: a release build in .build-rel)
# disconnects (no 30 s write-timeout stallers: HTTPServerLimitTests covers the write timeout), slowloris at
# 300 connections for 6 s per phase (header mode and over the 1024-connection limit), a short overload.
# Each ends with SIGTERM under load. Exits non-zero if any fails. The full runs are in docs/RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-}"
if [ -z "$binary" ]; then
  swift build -c release --scratch-path .build-rel >/dev/null
  binary=.build-rel/release/signbert
fi
status=0
run() {
  local name=$1
  shift
  local t0=$SECONDS
  echo "== $name"
  if python3 "tools/reliability/$name.py" "$binary" "$@"; then
    echo "== $name: pass ($((SECONDS - t0)) s)"
  else
    echo "== $name: FAIL ($((SECONDS - t0)) s)"
    status=1
  fi
}
run disconnects --repeat 50 --stallers 0
run slowloris --duration 6 --connections 300 --modes header,over-limit
run overload --duration 8 --capacity-seconds 5
exit $status
