# syntax=docker/dockerfile:1
# signbert: the inference server and its bundled demo model in a small Debian image.
#
#   docker build -t signbert .
#   docker run --rm -p 8080:8080 signbert                       # serves models/demo-gestures
#   docker run --rm -p 8080:8080 -v "$PWD/my-model:/models/my-model:ro" \
#       -e SIGNBERT_MODEL=/models/my-model signbert             # serves a mounted model directory
#
# Build stage: the official Swift image plus OpenBLAS, nghttp2 and zlib headers. The Swift standard library and Foundation
# are linked statically, so the runtime stage needs only OpenBLAS (and the C/C++ runtime Debian ships).
# deploy/test/container_test.sh builds this file unchanged with podman on a machine without a registry.

ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# Versions are not pinned: the base image tag pins the Debian release, and Debian stable only ever
# takes security and bug fixes, which a pin would refuse (and a pinned version disappears from the
# mirror once superseded, breaking the build).
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libopenblas-dev libnghttp2-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Package.resolved is optional (the repository does not commit it); the glob lets COPY match nothing.
COPY Package.swift Package.resolve[d] ./
COPY Sources/ Sources/
# SwiftPM checks that every declared target's folder exists, the test targets' too.
COPY Tests/ Tests/
# The cache mount keeps SwiftPM's checkouts and object files between builds on one machine; the
# binary is copied out of it in the same step.
RUN --mount=type=cache,target=/build/.build,id=signbert-swiftpm \
    swift build -c release --static-swift-stdlib --product signbert \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/signbert" /out/bin/signbert \
 && cp -R "$(swift build -c release --static-swift-stdlib --show-bin-path)/signbert-server_InferenceService.resources" /out/bin/ \
 && strip /out/bin/signbert
# The bundled models, readable by the unprivileged user whatever modes the build context had.
COPY models/ /out/models/
RUN chmod -R a+rX,go-w /out/models

FROM ${RUNTIME_IMAGE}
# libopenblas0-pthread: the OpenBLAS build the binary was linked against (libopenblas-dev's default
# variant); it brings libgfortran5. libnghttp2-14: the HTTP/2 framing library the server links.
# Not pinned, for the reason given in the build stage.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas0-pthread libnghttp2-14 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 signbert \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin signbert
# <prefix>/bin/signbert finds <prefix>/models/demo-gestures by itself (and so does the working directory).
WORKDIR /opt/signbert
COPY --from=build /out/bin/ /opt/signbert/bin/
COPY --from=build /out/models/ /opt/signbert/models/
# Fails the build if a shared library the binary needs is missing from this stage.
RUN ["/opt/signbert/bin/signbert", "--version"]
ENV PATH=/opt/signbert/bin:$PATH
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8080
# The server drains on SIGTERM (/ready turns 503, in-flight requests finish) and exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/opt/signbert/bin/signbert", "healthcheck", "--path", "/ready"]
# The bundled model by default; SIGNBERT_MODEL (a model directory) or SIGNBERT_CHECKPOINT (with
# SIGNBERT_CONFIG / SIGNBERT_LABELS) serve a mounted one instead; every serve flag has a variable.
ENTRYPOINT ["/opt/signbert/bin/signbert", "serve"]
