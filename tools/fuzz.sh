#!/usr/bin/env bash
# Builds the libFuzzer targets (FuzzTesting/, release, -sanitize=fuzzer,address) and runs each one for a time
# budget or a number of runs, on a corpus that persists between runs, seeded from the test fixtures
# (tools/fuzz_seeds.py) and with the target's dictionary. Prints per target: executions, exec/s, coverage
# (libFuzzer's cov: edges and ft: features), corpus size and crashes. Exits non-zero on any crash; the
# crashing input is kept under <work>/crashes/ and the log under <work>/logs/.
#
#   tools/fuzz.sh [--seconds N | --runs N] [--target NAME]... [--jobs N] [--work DIR] [--build-dir DIR] [--no-build]
#
#   --seconds N   time budget per target (default 60)
#   --runs N      a number of executions per target instead of a time budget; with --seconds as well,
#                 whichever comes first (the long run: --runs 10000000 --seconds 3600)
#   --target NAME run only this target (repeatable, in the order given); default: all of them
#   --jobs N      targets run at once (default 1; the fuzzers themselves are single-threaded)
#   --work DIR    corpora, crashes and logs (default FuzzTesting/.build/fuzz-work, not committed)
#   --build-dir DIR  build there instead of FuzzTesting/.build (e.g. while other runs use the binaries there)
#   --no-build    use the binaries already built
#   --replay      only run each target once over its corpus and FuzzTesting/Regressions/<target>/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# name | max input length | dictionary
TARGETS=(
    "FuzzHTTPRequest|4096|http.dict"
    "FuzzHTTPChunked|4096|http.dict"
    "FuzzJSONParser|8192|json.dict"
    "FuzzPredictJSON|16384|json.dict"
    "FuzzOpenInference|16384|json.dict"
    "FuzzPoseFile|40000|pose.dict"
    "FuzzUnpickler|16384|pickle.dict"
    "FuzzTorchZip|40000|zip.dict"
    "FuzzSafeTensors|40000|json.dict"
    "FuzzHTTP2Frames|16384|http2.dict"
    "FuzzWebSocketFrames|8192|websocket.dict"
    "FuzzGRPCFraming|16384|grpc.dict"
)

SECONDS_PER_TARGET=60
SECONDS_SET=0
RUNS=""
JOBS=1
WORK="$ROOT/FuzzTesting/.build/fuzz-work"
BUILD=1
BUILD_DIR=""
REPLAY=0
SELECTED=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) SECONDS_PER_TARGET="$2"; SECONDS_SET=1; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --target) SELECTED+=("$2"); shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --work) WORK="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --build-dir) BUILD_DIR="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
        --replay) REPLAY=1; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

known=" $(for t in "${TARGETS[@]}"; do printf '%s ' "${t%%|*}"; done)"
for name in "${SELECTED[@]+"${SELECTED[@]}"}"; do
    [[ "$known" == *" $name "* ]] || { echo "fuzz.sh: no target $name; targets:$known" >&2; exit 2; }
done

FLAGS=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
[[ -n "$BUILD_DIR" ]] && FLAGS+=(--scratch-path "$BUILD_DIR")
if [[ $BUILD == 1 ]]; then
    start=$(date +%s)
    # ld.gold warns "Cannot export local symbol __asan_*" for every target: harmless, filtered out.
    (cd FuzzTesting && swift build "${FLAGS[@]}" 2>&1 | grep -v "Cannot export local symbol") || {
        echo "fuzz.sh: build failed" >&2; exit 1; }
    echo "fuzz.sh: build took $(( $(date +%s) - start )) s"
fi
BIN="$(cd FuzzTesting && swift build "${FLAGS[@]}" --show-bin-path)"

mkdir -p "$WORK/seeds" "$WORK/corpus" "$WORK/crashes" "$WORK/logs"
rm -rf "$WORK/seeds" && python3 tools/fuzz_seeds.py "$WORK/seeds" > /dev/null

# Swift's own crash backtracer gets in the way of AddressSanitizer's report.
export SWIFT_BACKTRACE=enable=no

run_target() {
    local name="$1" max_len="$2" dict="$3"
    local corpus="$WORK/corpus/$name" log="$WORK/logs/$name.log"
    local regressions="$ROOT/FuzzTesting/Regressions/$name"
    mkdir -p "$corpus"
    local inputs=("$corpus" "$WORK/seeds/$name")
    [[ -d "$regressions" ]] && inputs+=("$regressions")
    local budget=(-max_total_time="$SECONDS_PER_TARGET")
    if [[ -n "$RUNS" ]]; then
        budget=(-runs="$RUNS")
        [[ $SECONDS_SET == 1 ]] && budget+=(-max_total_time="$SECONDS_PER_TARGET")
    fi
    [[ $REPLAY == 1 ]] && budget=(-runs=0)
    # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: one that takes 2 GB is a memory bomb.
    nice -n 10 "$BIN/$name" "${budget[@]}" -max_len="$max_len" -dict="$ROOT/FuzzTesting/Dictionaries/$dict" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$WORK/crashes/$name-" \
        "${inputs[@]}" > "$log" 2>&1
}

summarize() {
    local name="$1" status="$2" log="$WORK/logs/$1.log"
    local execs rate cov ft corp crash
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
    crash=0
    if [[ $status != 0 ]]; then
        crash=1
        grep -m1 -E "Fatal error|ERROR: (AddressSanitizer|libFuzzer)" "$log" | sed "s/^/  $name: /" >&2 || true
        grep -m1 "Test unit written to" "$log" | sed "s/^/  $name: /" >&2 || true
    fi
    printf '%-18s %12s %8s %7s %7s %12s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "$crash"
    return "$crash"
}

# Selected targets run in the order given, so a long run can start the slowest ones first.
names=(); lens=(); dicts=()
for wanted in "${SELECTED[@]+"${SELECTED[@]}"}"; do
    for entry in "${TARGETS[@]}"; do
        IFS='|' read -r name max_len dict <<< "$entry"
        [[ $name == "$wanted" ]] && { names+=("$name"); lens+=("$max_len"); dicts+=("$dict"); }
    done
done
if [[ ${#SELECTED[@]} -eq 0 ]]; then
    for entry in "${TARGETS[@]}"; do
        IFS='|' read -r name max_len dict <<< "$entry"
        names+=("$name"); lens+=("$max_len"); dicts+=("$dict")
    done
fi

budget_text="${SECONDS_PER_TARGET} s each"
[[ -n "$RUNS" ]] && budget_text="$RUNS runs each"
[[ -n "$RUNS" && $SECONDS_SET == 1 ]] && budget_text="$RUNS runs or ${SECONDS_PER_TARGET} s each, whichever first"
[[ $REPLAY == 1 ]] && budget_text="replay only"
echo "fuzz.sh: ${#names[@]} targets, $budget_text, $JOBS at a time; work dir $WORK"
started=$(date +%s)
declare -A status=() running=()
# Waits for whichever running target ends first (not the oldest: a slot must not idle behind a long target).
reap() {
    local done_pid rc=0
    wait -n -p done_pid "${!running[@]}" || rc=$?
    status[${running[$done_pid]}]=$rc
    unset "running[$done_pid]"
}
for i in "${!names[@]}"; do
    while [[ ${#running[@]} -ge $JOBS ]]; do reap; done
    run_target "${names[$i]}" "${lens[$i]}" "${dicts[$i]}" &
    running[$!]="${names[$i]}"
done
while [[ ${#running[@]} -gt 0 ]]; do reap; done

printf '%-18s %12s %8s %7s %7s %12s %8s\n' target executions exec/s cov ft corpus crashes
crashes=0
for name in "${names[@]}"; do
    summarize "$name" "${status[$name]}" || crashes=$((crashes + 1))
done
echo "fuzz.sh: $crashes of ${#names[@]} targets crashed; $(( $(date +%s) - started )) s of fuzzing"
[[ $crashes == 0 ]]
