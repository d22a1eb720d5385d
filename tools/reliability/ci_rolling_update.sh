#!/usr/bin/env bash
# CI step: the rolling update of two replicas behind nginx under load (rolling_update.py), 0 failed requests.
#   tools/reliability/ci_rolling_update.sh path/to/signbert   (a release build, e.g. the container test's
#   .build-deploy/release/signbert). Installs nginx-light (Debian) when nginx is missing. About 20 s.
set -euo pipefail
binary="$(readlink -f "${1:?usage: ci_rolling_update.sh path/to/signbert (a release build)}")"
cd "$(dirname "$0")/../.."
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
started=$SECONDS
python3 tools/reliability/rolling_update.py "$binary"
echo "== rolling_update: pass ($((SECONDS - started)) s)"
