#!/usr/bin/env bash
# Regenerates the committed Swift of the gRPC API (Sources/InferenceService/GRPC/Generated/) from Protos/*.proto,
# with protoc (Debian: protobuf-compiler) and the protoc-gen-swift plugin of swift-protobuf 1.39.0, the version
# Package.swift depends on. The plugin takes about 10 minutes to build, so it is built once, outside the repo, and
# CI never builds it (the generated code is committed):
#
#   tools/generate_protos.sh [--plugin PATH] [--build-plugin DIR] [--check]
#
#   --plugin PATH       the protoc-gen-swift binary (default: $PROTOC_GEN_SWIFT, then DIR's build, then $PATH)
#   --build-plugin DIR  clone swift-protobuf 1.39.0 into DIR (from the package mirror) and build the plugin there
#                       (default DIR: ~/.cache/signbert/protoc-gen-swift)
#   --check             regenerate into a temporary folder and fail if it differs from the committed code
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.39.0
DIR="$HOME/.cache/signbert/protoc-gen-swift"
PLUGIN="${PROTOC_GEN_SWIFT:-}"
BUILD=0
CHECK=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --plugin) PLUGIN="$2"; shift 2 ;;
        --build-plugin) BUILD=1; [[ $# -gt 1 && "$2" != --* ]] && { DIR="$2"; shift; }; shift ;;
        --check) CHECK=1; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "generate_protos.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
command -v protoc > /dev/null || { echo "generate_protos.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
if [[ $BUILD == 1 ]]; then
    [[ -d "$DIR/src" ]] || git clone -q https://github.com/apple/swift-protobuf "$DIR/src"
    git -C "$DIR/src" checkout -q "$VERSION"
    (cd "$DIR/src" && swift build -c release --product protoc-gen-swift)
fi
if [[ -z "$PLUGIN" && -x "$DIR/src/.build/release/protoc-gen-swift" ]]; then PLUGIN="$DIR/src/.build/release/protoc-gen-swift"; fi
if [[ -z "$PLUGIN" ]]; then PLUGIN="$(command -v protoc-gen-swift || true)"; fi
[[ -n "$PLUGIN" && -x "$PLUGIN" ]] || {
    echo "generate_protos.sh: no protoc-gen-swift; pass --plugin PATH or build it once with --build-plugin (10-25 min)" >&2; exit 1; }
plugin_version="$("$PLUGIN" --version 2>&1 || true)"
[[ "$plugin_version" == *"$VERSION"* ]] || {
    echo "generate_protos.sh: $PLUGIN is \"$plugin_version\", not $VERSION (the version Package.swift uses)" >&2; exit 1; }

OUT=Sources/InferenceService/GRPC/Generated
target="$OUT"
if [[ $CHECK == 1 ]]; then target="$(mktemp -d)"; trap 'rm -rf "$target"' EXIT; fi
mkdir -p "$target"
# Internal visibility: the messages are the service's own, not part of InferenceService's public API.
protoc --plugin=protoc-gen-swift="$PLUGIN" --proto_path=Protos --swift_out="$target" \
    --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath Protos/*.proto
if [[ $CHECK == 1 ]]; then
    diff -ru "$OUT" "$target" && echo "generate_protos.sh: the committed code matches Protos/"
else
    echo "generate_protos.sh: wrote $(ls "$target" | tr '\n' ' ')"
fi
