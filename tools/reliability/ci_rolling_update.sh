#!/usr/bin/env bash
# CI step: the rolling update of two replicas behind nginx under load (rolling_update.py), 0 failed requests.
#   tools/reliability/ci_rolling_update.sh [path/to/signbert]   (default: a release build in .build-rel)
# Installs nginx-light (Debian) when nginx is missing. About 30 s on a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-}"
if [ -z "$binary" ]; then
  swift build -c release --scratch-path .build-rel >/dev/null
  binary=.build-rel/release/signbert
fi
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
started=$SECONDS
python3 tools/reliability/rolling_update.py "$binary"
echo "== rolling_update: pass ($((SECONDS - started)) s)"
