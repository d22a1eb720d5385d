#!/usr/bin/env bash
# Makes, on a machine with podman but no registry, the two images the Dockerfile starts from:
#   - debian:bookworm-slim: `debootstrap --variant=minbase` from the Debian mirror apt is configured with,
#     slimmed as the official image is (no docs, man pages, locales or apt lists), imported with podman;
#   - swift:<version>-bookworm: a stand-in for the official Swift image, that base plus the packages
#     Swift builds need, with this machine's toolchain on PATH (mounted at build time, not copied).
# Each is made only when podman does not have it yet (--force remakes both). Runs as root (debootstrap).
#
#   deploy/test/base_images.sh [--force]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done

RUNTIME_IMAGE="$(qualified_image "$(dockerfile_arg RUNTIME_IMAGE)")"
SWIFT_IMAGE="$(qualified_image "$(dockerfile_arg SWIFT_IMAGE)")"
if [ -z "$RUNTIME_IMAGE" ] || [ -z "$SWIFT_IMAGE" ]; then die "cannot read ARG SWIFT_IMAGE / RUNTIME_IMAGE from the Dockerfile"; fi
command -v podman >/dev/null || die "podman is not installed (deploy/test/container_test.sh installs it)"

# The Debian mirror and security mirror apt uses here (one-line or deb822 sources), unless given.
apt_uri_for_suite() {  # apt_uri_for_suite SUITE -> the first URI that serves it
  local suite="$1"
  {
    cat /etc/apt/sources.list 2>/dev/null || true
    cat /etc/apt/sources.list.d/*.list 2>/dev/null || true
  } | awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                                       if ($(i + 1) == s) { print $i; exit } }'
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
          if ($i ~ /^Suites:/) { n = split($i, a, /[ \t]+/); for (j = 2; j <= n; j++) if (a[j] == s) ok = 1 }
        }
        if (ok && uri != "") { print uri; exit } }' "$file"
  done
}
release="${RUNTIME_IMAGE##*:}"; release="${release%%-*}"   # bookworm-slim -> bookworm
MIRROR="${DEBIAN_MIRROR:-$(apt_uri_for_suite "$release" | head -n1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-$(apt_uri_for_suite "$release-security" | head -n1)}"

workdir=""
cleanup() { if [ -n "$workdir" ]; then rm -rf "$workdir"; fi; }
trap cleanup EXIT

make_debian_base() {
  ensure_apt_packages debootstrap
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
  workdir="$(mktemp -d /var/tmp/signbert-base.XXXXXX)"
  local root="$workdir/rootfs" started
  started=$(now_ms)
  log "debootstrap --variant=minbase $release from $MIRROR (about a minute)"
  debootstrap --variant=minbase "$release" "$root" "$MIRROR" >"$workdir/debootstrap.log" 2>&1 || {
    tail -n 30 "$workdir/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  }
  # As the official slim image: dpkg leaves out docs, man pages and locales; apt keeps no lists or debs.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/usr/share/info/* \
         "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
         "$root"/var/log/* "$root"/etc/hostname
  # The sources the official image has: the release, its updates and security.
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$release" "$release"
    if [ -n "$SECURITY_MIRROR" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$SECURITY_MIRROR" "$release"
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"
  log "importing as $RUNTIME_IMAGE"
  tar -C "$root" --numeric-owner -c . | podman import -q --change 'CMD ["bash"]' - "$RUNTIME_IMAGE" >/dev/null \
    || die "podman import failed"
  rm -rf "$workdir"; workdir=""
  log "made $RUNTIME_IMAGE in $(( ($(now_ms) - started) / 1000 )) s"
}

make_swift_standin() {
  local toolchain version expected started
  toolchain="$(swift_toolchain)"
  version="$("$toolchain/usr/bin/swift" --version 2>/dev/null | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n1)"
  expected="${SWIFT_IMAGE##*:}"; expected="${expected%%-*}"
  if [ "$version" != "$expected" ]; then
    log "warning: the machine's Swift is $version but the Dockerfile asks for $SWIFT_IMAGE; the stand-in uses $version"
  fi
  workdir="$(mktemp -d /var/tmp/signbert-swift.XXXXXX)"
  # The machine's url.<base>.insteadOf rules (how it reaches GitHub packages), for SwiftPM in the build.
  : >"$workdir/gitconfig"
  local key value
  while read -r key value; do
    git config --file "$workdir/gitconfig" --add "$key" "$value"
  done < <({ git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true
             git config --global --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true; })
  cp "$DEPLOY_TEST_DIR/swift-standin.Containerfile" "$workdir/Containerfile"
  started=$(now_ms)
  log "building the stand-in $SWIFT_IMAGE (toolchain $toolchain, Swift $version)"
  podman build --pull=never --network host --build-arg "TOOLCHAIN=$toolchain" -t "$SWIFT_IMAGE" \
    -f "$workdir/Containerfile" "$workdir" >"$workdir/build.log" 2>&1 || {
    tail -n 30 "$workdir/build.log" >&2
    die "building the Swift stand-in failed (log above)"
  }
  podman run --rm --network none -v "$toolchain:$toolchain:ro" "$SWIFT_IMAGE" swift --version >/dev/null 2>&1 \
    || die "the Swift stand-in cannot run swift from $toolchain"
  rm -rf "$workdir"; workdir=""
  log "made $SWIFT_IMAGE in $(( ($(now_ms) - started) / 1000 )) s"
}

if ((force)) || ! podman image exists "$RUNTIME_IMAGE"; then
  podman image rm -f "$SWIFT_IMAGE" >/dev/null 2>&1 || true   # it is built on the base
  make_debian_base
else
  log "reusing $RUNTIME_IMAGE"
fi
if ((force)) || ! podman image exists "$SWIFT_IMAGE"; then
  make_swift_standin
else
  log "reusing $SWIFT_IMAGE"
fi
