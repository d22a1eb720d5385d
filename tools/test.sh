#!/usr/bin/env bash
# The project's test command (README's second command; .ci/run calls it): installs what is missing, builds, runs
# every XCTest suite, then the Python standard-library client test and the README's commands against the binary.
# It needs nothing beside the repository: the tests on the real recordings of ../shared/data/pose (the
# `SharedRecordings` classes) are left out here and run by .ci/run's own step, tools/test_shared_recordings.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build --build-tests
swift test --skip-build --skip SharedRecordings
bin="$(swift build --show-bin-path)/signbert"
python3 tools/integration_test.py "$bin"
python3 tools/readme_test.py "$bin"
