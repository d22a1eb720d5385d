#!/usr/bin/env bash
# The project's test command (README's second command; .ci/run calls it): installs what is missing, builds, runs
# every XCTest suite, then the Python standard-library client test, the live-stream test (tools/stream_test.py, with the
# websockets package in a virtualenv) and the README's commands against the binary.
# It needs nothing beside the repository: the tests on the real recordings of ../shared/data/pose (the
# `SharedRecordings` classes) are left out here and run by .ci/run's own step, tools/test_shared_recordings.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build --build-tests
swift test --skip-build --skip SharedRecordings
bin="$(swift build --show-bin-path)/signbert"
python3 tools/integration_test.py "$bin"
# The live-stream tests need the websockets package (13 or later): a virtualenv under .build (not committed) gets
# it once, unless python3 has it already.
py=python3
if ! python3 -c "import websockets.asyncio.client" 2>/dev/null; then
  venv=.build/test-venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  if ! "$venv/bin/python" -c "import websockets.asyncio.client" 2>/dev/null; then
    "$venv/bin/pip" install -q "websockets>=13" || {
      echo "error: cannot install the websockets package into $venv (tools/stream_test.py needs it): pip needs network access to PyPI" >&2
      exit 1
    }
  fi
  py="$venv/bin/python"
fi
"$py" tools/stream_test.py "$bin"
"$py" clients/python/tests/test_signbert_stream.py "$bin"
python3 tools/readme_test.py "$bin"
