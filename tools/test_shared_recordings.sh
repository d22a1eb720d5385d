#!/usr/bin/env bash
# The tests on the real MediaPipe recordings of the shared data (../shared/data/pose beside the repository, or
# SIGNBERT_SHARED_DATA): the `SharedRecordings` test classes, which tools/test.sh leaves out so that a fresh clone
# passes. A step of .ci/run of its own: it fails when the recordings are missing, and when the filter runs no test.
# Expects the build tools/test.sh made.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${SIGNBERT_SHARED_DATA:-../shared/data}"
for name in mediapipe.pose mediapipe_long.pose; do
  if [ ! -f "$data/pose/$name" ]; then
    echo "error: $data/pose/$name is missing: this step needs the shared recordings (../shared beside the repository, or SIGNBERT_SHARED_DATA)" >&2
    exit 1
  fi
done
SIGNBERT_SHARED_DATA="$(cd "$data" && pwd)"
export SIGNBERT_SHARED_DATA
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
swift test --skip-build --filter SharedRecordings 2>&1 | tee "$log"
# Three tests: a filter that matches nothing must not pass as a success.
grep -Eq "Executed 3 tests, with 0 failures" "$log" || { echo "error: expected 3 SharedRecordings tests to run and pass" >&2; exit 1; }
