#!/usr/bin/env bash
# Installs what this project needs on Debian/Ubuntu and is missing: OpenBLAS, nghttp2 and zlib headers,
# pkg-config, and the clients the tests and benchmarks use (curl, wrk, nghttp and h2load, python3; python3-venv
# for the websockets package of tools/test.sh's live-stream tests and for tools/api_conformance.sh's schemathesis).
# Swift itself (6.1 or later) comes from swift.org; this script checks for it and says so if it is absent.
set -euo pipefail
packages=(libopenblas-dev libnghttp2-dev zlib1g-dev pkg-config curl wrk nghttp2-client python3 python3-venv)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null; then
  echo "error: swift is not on PATH; install a Swift 6.1+ toolchain from https://www.swift.org/install/linux/" >&2
  exit 1
fi
