#!/usr/bin/env bash
# The demo page in headless Chromium (tools/demo_browser_test.py): its own step of .ci/run, not part of
# tools/test.sh (a newcomer's test command must not need a browser). Needs Debian's `chromium` and the built
# binary (swift build); Playwright goes into a virtualenv outside the repository (SIGNBERT_BROWSER_VENV, default
# ~/.cache/signbert-browser-venv), without Playwright's own browser download: it drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ] && [ -z "${CHROMIUM:-}" ]; then
  # CI starts on a fresh machine: install Debian's chromium as the other steps install their tools.
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[ -x "$chromium" ] || { echo "demo_browser_test: $chromium not found (apt-get install -y chromium)" >&2; exit 1; }
venv="${SIGNBERT_BROWSER_VENV:-$HOME/.cache/signbert-browser-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import playwright" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet playwright
fi
bin="$(swift build --show-bin-path)/signbert"
[ -x "$bin" ] || swift build
exec "$venv/bin/python" tools/demo_browser_test.py "$bin" --chromium "$chromium" "$@"
