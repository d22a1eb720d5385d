#!/usr/bin/env bash
# The container test (what CI runs): builds the image from the unchanged Dockerfile with podman (no
# Docker engine, no registry), runs it as the Kubernetes manifests do, and checks it end to end.
#
#   1. installs podman & co. if missing; makes the base images if podman lacks them (base_images.sh);
#   2. builds the host binary (swift build -c release --scratch-path .build-deploy) unless --host-binary;
#   3. podman build of the Dockerfile; reports the image size;
#   4. runs the image with --cpus 1 --memory 256m, a published port, a read-only root, no capabilities:
#      waits for /ready (cold start: `podman run` to /ready 200), checks the "started" log line says
#      blas_threads 1, compares POST /predict on every examples/gestures/*.json (and generated clips)
#      with the host build's `signbert predict` (same class, logits within 1e-4, the right gesture),
#      runs the image's HEALTHCHECK, runs probe_check.py (the Deployment's probes against the
#      container), then `podman stop -t 30`: exit code 0, "drained" logged, within 5 s;
#   5. the same with a model mounted from the host (SIGNBERT_MODEL), converted from the parity fixture;
#   6. as SageMaker runs it: `podman run IMAGE serve`, a training run (the parity fixture's checkpoint, config.yaml
#      and label map) mounted at /opt/ml/model: /ping, and POST /invocations against the host build;
#   7. as Vertex AI runs it: AIP_STORAGE_URI naming the mounted model of step 5, AIP_HTTP_PORT, AIP_HEALTH_ROUTE and
#      AIP_PREDICT_ROUTE: the health route, and /predict and the predict route (instances) against the host build.
# Containers it started are removed on exit, whatever happens; images are kept (they are the cache).
#
#   deploy/test/container_test.sh [--host-binary PATH] [--image NAME] [--model DIR] [--no-build]
#     --host-binary PATH  the host build to compare with (default: build one in .build-deploy)
#     --image NAME        the tag to build and test (default localhost/signbert:test)
#     --model DIR         the model directory to mount in step 5 (default: converted from the fixture)
#     --no-build          test NAME as it is (it must exist)
#     --cold-starts N     start and stop the image N more times to measure the cold start (default 5)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

total_started=$(now_ms)
host_binary=""
image="localhost/signbert:test"
mounted_model=""
build=1
cold_starts=5
cold_summary=""
while (($#)); do
  case "$1" in
    --host-binary) host_binary="$(readlink -f "${2:?--host-binary needs a path}")"; shift 2 ;;
    --image) image="${2:?--image needs a name}"; shift 2 ;;
    --model) mounted_model="$(readlink -f "${2:?--model needs a directory}")"; shift 2 ;;
    --no-build) build=0; shift ;;
    --cold-starts) cold_starts="${2:?--cold-starts needs a count}"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

CPUS=1
MEMORY=256m
STOP_BUDGET_MS=5000
READY_TIMEOUT_S=60
passed=0
failed=0
containers=()
tmp="$(mktemp -d /var/tmp/signbert-container-test.XXXXXX)"

check() {  # check DESCRIPTION COMMAND...: runs a check, counts it, never exits
  if "${@:2}"; then
    passed=$((passed + 1)); log "ok: $1"
  else
    failed=$((failed + 1)); log "FAIL: $1"
  fi
}
finish() {
  local status=$?
  local name
  for name in "${containers[@]}"; do
    timeout 60 podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
  local seconds=$(( ($(now_ms) - total_started) / 1000 ))
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  log "container test: $([ "$failed" -eq 0 ] && echo PASSED || echo FAILED) in ${seconds} s (total run time)"
  echo "container-test: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] || exit 1
}
trap finish EXIT
trap 'exit 130' INT TERM

# 1. Tools and base images.
ensure_apt_packages "${CONTAINER_PACKAGES[@]}" curl python3 python3-venv
venv_bin="$(ensure_deploy_venv)"
[ -f models/demo-gestures/model.safetensors ] || die "models/demo-gestures/model.safetensors is missing: the image bundles it"
if ((build)); then
  "$DEPLOY_TEST_DIR/base_images.sh"
fi

# 2. The host build to compare with.
if [ -z "$host_binary" ]; then
  log "building the host binary: swift build -c release --scratch-path .build-deploy --product signbert"
  step=$(now_ms)
  timeout 1800 swift build -c release --scratch-path .build-deploy --product signbert >"$tmp/host-build.log" 2>&1 || {
    tail -n 40 "$tmp/host-build.log" >&2; die "the host build failed (log above)"; }
  host_binary="$REPO_ROOT/.build-deploy/release/signbert"
  log "host binary built in $(( ($(now_ms) - step) / 1000 )) s"
fi
[ -x "$host_binary" ] || die "the host binary $host_binary is not an executable"

# 3. The image, from the unchanged Dockerfile. The Swift stand-in finds the toolchain and the machine's
#    git mirrors (url.<dir>.insteadOf rules) at the same paths, mounted read-only into the build.
if ((build)); then
  toolchain="$(swift_toolchain)"
  mounts=(-v "$toolchain:$toolchain:ro")
  while read -r dir; do
    if [ -n "$dir" ] && [ -d "$dir" ]; then mounts+=(-v "$dir:$dir:ro"); fi
  done < <({ git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true
             git config --global --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true; } |
           sed -n 's|^url\.\(/.*\)\.insteadof .*|\1|p' | sed 's|/*$||' | sort -u)
  log "podman build -t $image . (mounts: ${mounts[*]//-v /}; a cold build takes several minutes)"
  step=$(now_ms)
  timeout 2400 podman build --pull=never --format docker --network host "${mounts[@]}" -t "$image" . \
    >"$tmp/image-build.log" 2>&1 || { tail -n 60 "$tmp/image-build.log" >&2; die "podman build failed (log above)"; }
  log "image built in $(( ($(now_ms) - step) / 1000 )) s"
fi
podman image exists "$image" || die "no image $image (build it, or drop --no-build)"
image_bytes="$(podman image inspect --format '{{.Size}}' "$image")"
image_mb="$(awk -v b="$image_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
image_user="$(podman image inspect --format '{{.Config.User}}' "$image")"
log "image $image: $image_mb MB, USER $image_user"

# 4./5. Running it.
start_container() {  # start_container NAME [podman run options...] [-- COMMAND...]; sets host_port and cold_start_ms
  local name="$1"; shift
  local options=() command=()
  while (($#)); do
    if [ "$1" = "--" ]; then shift; command=("$@"); break; fi
    options+=("$1"); shift
  done
  containers+=("$name")
  local started; started=$(now_ms)
  # --health-interval disable: no systemd timers here; `podman healthcheck run` still runs the image's.
  timeout 60 podman run -d --name "$name" --cpus "$CPUS" --memory "$MEMORY" --read-only --cap-drop ALL \
    --security-opt no-new-privileges --health-interval disable -p 127.0.0.1::8080 "${options[@]}" "$image" "${command[@]}" \
    >"$tmp/$name.run" 2>&1 || { cat "$tmp/$name.run" >&2; die "podman run $name failed"; }
  host_port="$(podman port "$name" 8080/tcp | sed -n 's/.*:\([0-9]*\)$/\1/p' | head -n1)"
  [ -n "$host_port" ] || die "$name: port 8080 is not published"
  local code=""
  while [ $(( $(now_ms) - started )) -lt $((READY_TIMEOUT_S * 1000)) ]; do
    code="$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$host_port/ready" || true)"
    [ "$code" = 200 ] && break
    if [ "$(podman inspect --format '{{.State.Running}}' "$name")" != true ]; then
      podman logs "$name" 2>&1 | tail -n 20 >&2; die "$name exited before it was ready (log above)"
    fi
    sleep 0.02
  done
  cold_start_ms=$(( $(now_ms) - started ))
  [ "$code" = 200 ] || { podman logs "$name" 2>&1 | tail -n 20 >&2; die "$name: /ready not 200 after ${READY_TIMEOUT_S} s"; }
}
started_line() { podman logs "$1" 2>&1 | grep -m1 '"message":"started"'; }
log_field() {  # log_field FIELD < JSON line
  python3 -c 'import json, sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"
}
stop_container() {  # stop_container NAME [IN_FLIGHT_REQUEST]: podman stop -t 30 (with a request in flight);
  # checks exit code 0, "drained" logged, the time, and that the in-flight request was answered 200
  local name="$1" request="${2:-}" started stop_ms exit_code client=""
  if [ -n "$request" ]; then
    # 16 copies of the clip in one request: a few hundred ms of compute on one CPU, under way at SIGTERM.
    python3 - "http://127.0.0.1:$host_port/predict" "$request" >"$tmp/in-flight.status" 2>&1 <<'EOF_PY' &
import json, sys, urllib.error, urllib.request
body = json.load(open(sys.argv[2]))
data = json.dumps({"inputs": body["inputs"][:1] * 16, "top_k": 1}).encode()
request = urllib.request.Request(sys.argv[1], data=data, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.status)
except urllib.error.HTTPError as error:
    print(error.code)
except OSError as error:
    print(error)
EOF_PY
    client=$!
    # Stop once the request is in (the server logs requests when answered, so wait on its gauge).
    local in_flight=0
    for _ in $(seq 1 200); do
      if curl -s -m 1 "http://127.0.0.1:$host_port/metrics" | grep -Eq '^signbert_requests_in_flight(\{[^}]*\})? [1-9]'; then
        in_flight=1; break
      fi
      sleep 0.01
    done
    check "$name: a /predict request (16 clips) is in flight when SIGTERM is sent" [ "$in_flight" = 1 ]
  fi
  started=$(now_ms)
  timeout 60 podman stop -t 30 "$name" >/dev/null 2>>"$tmp/podman.err" || true
  stop_ms=$(( $(now_ms) - started ))
  if [ -n "$client" ]; then
    wait "$client" || true
    check "$name: the request in flight at SIGTERM was answered: $(cat "$tmp/in-flight.status")" \
      grep -qx 200 "$tmp/in-flight.status"
  fi
  exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$name")"
  check "$name: podman stop -t 30 -> exit code $exit_code (want 0)" [ "$exit_code" = 0 ]
  check "$name: the log says drained" bash -c "podman logs '$name' 2>&1 | grep -q '\"message\":\"drained\"'"
  check "$name: stopped in $stop_ms ms (budget $STOP_BUDGET_MS ms)" [ "$stop_ms" -lt "$STOP_BUDGET_MS" ]
  last_stop_ms=$stop_ms
}

log "run 1: the bundled model, podman run --cpus $CPUS --memory $MEMORY --read-only --cap-drop ALL -p 127.0.0.1::8080"
bundled="signbert-test-$$-bundled"
start_container "$bundled"
bundled_cold_ms=$cold_start_ms
line="$(started_line "$bundled")"
server_startup_ms="$(log_field startup_ms <<<"$line")"
blas_threads="$(log_field blas_threads <<<"$line")"
log "ready: cold start ${bundled_cold_ms} ms from podman run to /ready 200 (the server's own startup_ms: $server_startup_ms)"
check "/ready 200 on 127.0.0.1:$host_port in $bundled_cold_ms ms" true
check "the server saw $CPUS CPU: blas_threads=$blas_threads in its started line" [ "$blas_threads" = "$CPUS" ]
memory_limit="$(log_field memory_limit <<<"$line")"
body_budget="$(log_field max_buffered_body_bytes <<<"$line")"
check "the server saw the 256 MiB limit (memory_limit=$memory_limit) and held request bodies to a quarter (max_buffered_body_bytes=$body_budget)" \
  test "$memory_limit" = "268435456" -a "$body_budget" = "67108864"
check "POST /predict matches the host build on examples/gestures/*.json and generated clips" \
  python3 "$DEPLOY_TEST_DIR/predict_compare.py" --url "http://127.0.0.1:$host_port" --host-binary "$host_binary" \
  --model models/demo-gestures --expect-label-from-name --random 2 examples/gestures/*.json
check "SageMaker /ping, /invocations, KServe V1 and V2 binary infer answer /predict's logits (protocols_check.py)" \
  python3 "$DEPLOY_TEST_DIR/protocols_check.py" --url "http://127.0.0.1:$host_port" examples/gestures/*.json
check "the image's HEALTHCHECK (signbert healthcheck, run by podman healthcheck run) passes" \
  bash -c "timeout 30 podman healthcheck run '$bundled' >>'$tmp/podman.err' 2>&1"
memory="$(podman stats --no-stream --format '{{.MemUsage}}' "$bundled" 2>/dev/null || echo unknown)"
log "memory after the predictions: $memory"
check "the Deployment's probes against the container (probe_check.py)" \
  "$venv_bin/python" "$DEPLOY_TEST_DIR/probe_check.py" --manifests deploy/kubernetes --port-map "8080=$host_port" \
  --cold-start-ms "$bundled_cold_ms" --exec "podman exec $bundled" --image-user "$image_user" \
  --ran-with-cpus "$CPUS" --ran-with-memory "$MEMORY" --load-request examples/wave.json
stop_container "$bundled" examples/wave.json
bundled_stop_ms=$last_stop_ms

if ((cold_starts > 0)); then
  log "cold start, $cold_starts more times (podman run to /ready 200, then podman stop)"
  samples=()
  for i in $(seq 1 "$cold_starts"); do
    start_container "signbert-test-$$-cold$i"
    samples+=("$cold_start_ms")
    timeout 60 podman rm -f -t 30 "signbert-test-$$-cold$i" >/dev/null 2>>"$tmp/podman.err" || true
  done
  cold_summary="$(printf '%s\n' "${samples[@]}" | sort -n | awk '{ a[NR] = $1 } END {
    printf "median %d ms (min %d, max %d, n=%d)", a[int((NR + 1) / 2)], a[1], a[NR], NR }')"
  log "cold start: $cold_summary"
fi

log "run 2: a model mounted from the host (SIGNBERT_MODEL), as deploy/kubernetes/own-model does"
if [ -z "$mounted_model" ]; then
  mounted_model="$tmp/fixture-model"
  "$host_binary" convert Tests/SignBERTRuntimeTests/Fixtures/parity/v1-small/training_run/checkpoint_best.pth \
    --output "$mounted_model" >"$tmp/convert.log" 2>&1 || { cat "$tmp/convert.log" >&2; die "signbert convert failed"; }
fi
chmod -R a+rX "$tmp"
mounted="signbert-test-$$-mounted"
start_container "$mounted" -v "$mounted_model:/models/custom:ro" -e SIGNBERT_MODEL=/models/custom
check "/ready 200 in $cold_start_ms ms, serving the mounted /models/custom (its started line)" \
  bash -c "podman logs '$mounted' 2>&1 | grep -m1 '\"message\":\"started\"' | grep -q '/models/custom'"
check "POST /predict on the mounted model matches the host build" \
  python3 "$DEPLOY_TEST_DIR/predict_compare.py" --url "http://127.0.0.1:$host_port" --host-binary "$host_binary" \
  --model "$mounted_model" --random 3
stop_container "$mounted"

log "run 3: as SageMaker runs it: podman run IMAGE serve, a training run unpacked in /opt/ml/model"
sagemaker_model="$tmp/sagemaker-model"
mkdir -p "$sagemaker_model"
cp Tests/SignBERTRuntimeTests/Fixtures/parity/v1-small/training_run/* "$sagemaker_model/"
chmod -R a+rX "$tmp"
sagemaker="signbert-test-$$-sagemaker"
start_container "$sagemaker" -v "$sagemaker_model:/opt/ml/model:ro" -- serve
check "/ready 200 in $cold_start_ms ms with the argument serve, serving /opt/ml/model/checkpoint_best.pth (its started line)" \
  bash -c "podman logs '$sagemaker' 2>&1 | grep -m1 '\"message\":\"started\"' | grep -q '/opt/ml/model/checkpoint_best.pth'"
check "SageMaker's GET /ping answers 200" curl -sf -o /dev/null -m 5 "http://127.0.0.1:$host_port/ping"
check "POST /invocations on /opt/ml/model matches the host build (--checkpoint)" \
  python3 "$DEPLOY_TEST_DIR/predict_compare.py" --url "http://127.0.0.1:$host_port" --host-binary "$host_binary" \
  --checkpoint "$sagemaker_model/checkpoint_best.pth" --path /invocations --random 3
stop_container "$sagemaker"

log "run 4: as Vertex AI runs it: AIP_STORAGE_URI naming a mounted model directory, AIP_HTTP_PORT and the AIP routes"
vertex="signbert-test-$$-vertex"
start_container "$vertex" -v "$mounted_model:/mnt/vertex/model:ro" -e AIP_STORAGE_URI=/mnt/vertex/model \
  -e AIP_HTTP_PORT=8080 -e AIP_HEALTH_ROUTE=/vertex/health -e AIP_PREDICT_ROUTE=/vertex/predict
check "/ready 200 in $cold_start_ms ms, serving AIP_STORAGE_URI=/mnt/vertex/model (its started line)" \
  bash -c "podman logs '$vertex' 2>&1 | grep -m1 '\"message\":\"started\"' | grep -q '/mnt/vertex/model'"
check "Vertex AI's AIP_HEALTH_ROUTE answers 200" curl -sf -o /dev/null -m 5 "http://127.0.0.1:$host_port/vertex/health"
check "POST /predict and AIP_PREDICT_ROUTE (instances) on AIP_STORAGE_URI's model match the host build" \
  python3 "$DEPLOY_TEST_DIR/predict_compare.py" --url "http://127.0.0.1:$host_port" --host-binary "$host_binary" \
  --model "$mounted_model" --instances-path /vertex/predict --random 3
stop_container "$vertex"

log "summary: image $image_mb MB; cold start (podman run to /ready 200) $bundled_cold_ms ms${cold_summary:+, over $((cold_starts)) more runs: $cold_summary}, server startup_ms $server_startup_ms; stop $bundled_stop_ms ms; memory $memory"
