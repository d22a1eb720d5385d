#!/usr/bin/env bash
# `promtool check metrics` (Prometheus's own linter: HELP and TYPE on every family, naming rules) on the /metrics
# of a running `signbert serve` after a prediction, the HTTP/1.1 and HTTP/2 requests it counts, and a 404.
# promtool comes from the Debian package `prometheus` (installed here when missing: only its promtool is used).
# Usage: tools/check_metrics.sh path/to/signbert
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:?usage: tools/check_metrics.sh path/to/signbert}"
if ! command -v promtool >/dev/null; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
work="$(mktemp -d)"
"$binary" serve --host 127.0.0.1 --port 0 >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
port=""
for _ in $(seq 1 600); do
  port="$(sed -n 's/.*"listen":"[^"]*:\([0-9]*\)".*/\1/p' "$work/serve.log" | head -1)"
  [ -n "$port" ] && curl -sf "localhost:$port/ready" >/dev/null && break
  sleep 0.1
done
[ -n "$port" ] || { echo "error: the server did not start: $(cat "$work/serve.log")" >&2; exit 1; }
curl -sf -H 'Content-Type: application/json' --data-binary @examples/wave.json "localhost:$port/predict" >/dev/null
curl -sf --http2-prior-knowledge "localhost:$port/health" >/dev/null
curl -s "localhost:$port/no-such-route" >/dev/null
curl -sf "localhost:$port/metrics" >"$work/metrics.txt"
echo "promtool check metrics on $(grep -c '^# TYPE' "$work/metrics.txt") families:"
promtool check metrics <"$work/metrics.txt"
echo "promtool: no problems"
