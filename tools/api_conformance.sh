#!/usr/bin/env bash
# Runs schemathesis (PyPI) against the OpenAPI document a running `signbert serve` publishes at /openapi.json:
# every route, with generated valid and invalid requests, checking that nothing answers 5xx, that every status,
# content type, header and body is the one the document declares, and that invalid requests are refused.
#
#   tools/api_conformance.sh [path/to/signbert] [max examples per operation, default 12]
#
# It serves the bundled model (models/demo-gestures) with Vertex AI's routes set, so those are checked too, then
# again with an API key (a shorter run).
# openapi-spec-validator first checks that the served document is valid OpenAPI 3.
# schemathesis and openapi-spec-validator go into a virtualenv outside the repository ($SIGNBERT_TEST_VENV, default
# ~/.cache/signbert/test-venv). Excluded check: positive_data_acceptance, because some rules of a valid request
# cannot be written in a schema (a V2 tensor's data length must match its shape; Inference-Header-Content-Length
# must frame the body; coordinates so large that the model overflows float32), and such requests are refused
# with a documented 400.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-$(swift build --show-bin-path)/signbert}"
examples="${2:-12}"
venv="${SIGNBERT_TEST_VENV:-$HOME/.cache/signbert/test-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "creating $venv with schemathesis (PyPI)"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis>=4.32,<5"
fi
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check "openapi-spec-validator>=0.7,<1"
fi
# One server per configuration: the default one (with Vertex AI's routes), then one with an API key, where
# schemathesis also checks that requests without the key are refused (its ignored_auth check).
run_against() {  # examples, then extra `serve` arguments; the environment carries the rest
  local examples="$1"; shift
  local port log server status=0
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  log="$(mktemp)"
  # --max-clips-per-request 32: schemathesis's coverage phase sends maxItems + 1 clips as an invalid body; at the
  # default 256 that body passes --max-body-bytes and gets 413 (which it does not count as a refusal), and
  # generating it takes minutes. With 32 the oversize batch is small enough to reach the decoder's 400.
  "$binary" serve --model models/demo-gestures --host 127.0.0.1 --port "$port" --log-level warning \
    --max-clips-per-request 32 "$@" 2>"$log" &
  server=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "error: signbert serve exited" >&2; return 1; }
    sleep 0.1
  done
  # The served document itself must be valid OpenAPI 3 (schemathesis tolerates some invalid documents).
  curl -fsS "${auth[@]}" "http://127.0.0.1:$port/openapi.json" -o "$log.openapi.json"
  "$venv/bin/openapi-spec-validator" "$log.openapi.json" || status=1
  rm -f "$log.openapi.json"
  "$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" "${auth[@]}" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$examples" --seed 20261125 --no-color || status=$?
  # The server must still be alive and serving after everything schemathesis sent.
  if ! curl -fs "http://127.0.0.1:$port/ready" >/dev/null; then
    echo "FAIL: the server stopped answering /ready after the schemathesis run" >&2
    cat "$log" >&2
    status=1
  fi
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
  return "$status"
}

status=0
auth=()
AIP_PREDICT_ROUTE=/vertex/predict AIP_HEALTH_ROUTE=/vertex/health run_against "$examples" || status=1
auth=(-H "Authorization: Bearer conformance-key")
SIGNBERT_API_KEY=conformance-key run_against 4 --protect-metrics || status=1
exit "$status"
