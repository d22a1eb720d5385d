#!/usr/bin/env bash
# The project's test command (README's second command; .ci/run calls it): installs what is missing,
# builds, runs every XCTest suite, then the Python standard-library client test against the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build --build-tests
swift test --skip-build
python3 tools/integration_test.py "$(swift build --show-bin-path)/signbert"
