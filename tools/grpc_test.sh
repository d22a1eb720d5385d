#!/usr/bin/env bash
# CI step for the gRPC API: real gRPC clients against a running `signbert serve` (tools/grpc_test.py):
# tritonclient[grpc,http] and a client generated from Protos/grpc_predict_v2.proto with grpcio-tools at test time.
# The clients live in a venv outside the repository (default ~/.cache/signbert/grpc-venv, or $SIGNBERT_GRPC_VENV),
# made on first use from PyPI.
# Usage: tools/grpc_test.sh path/to/signbert
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:?usage: tools/grpc_test.sh path/to/signbert}"
venv="${SIGNBERT_GRPC_VENV:-$HOME/.cache/signbert/grpc-venv}"
if ! "$venv/bin/python" -c "import tritonclient.grpc, tritonclient.http, grpc_tools, numpy" 2>/dev/null; then
  echo "creating $venv with tritonclient[grpc,http], grpcio-tools and numpy (PyPI)"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "tritonclient[grpc,http]>=2.40,<3" "grpcio-tools>=1.60" "numpy>=1.24"
  "$venv/bin/python" -c "import tritonclient.grpc, tritonclient.http, grpc_tools, numpy" || { echo "error: the gRPC clients did not install" >&2; exit 1; }
fi
exec "$venv/bin/python" tools/grpc_test.py "$binary"
