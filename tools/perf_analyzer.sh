#!/usr/bin/env bash
# Triton's perf_analyzer against a running `signbert serve`, over HTTP (V2 REST) and gRPC, at concurrency 1 and 32.
#
#   tools/perf_analyzer.sh BINARY [--model DIR | --model-repository DIR --model-name NAME] [--duration-ms 5000]
#                         [--concurrency "1 32"] [--protocol-bench]
#
# BINARY is a signbert binary (a release build for figures worth quoting). The server is started on loopback with
# --model DIR (default models/demo-gestures), or with --model-repository DIR and perf_analyzer pointed at its model
# NAME (the highest version, as Triton's clients address it), and stopped at the end; --protocol-bench then runs
# tools/protocol_bench.py (the server's own load benchmark) on the same binary and model, for figures from one run.
# Every request carries one real clip (examples/wave.json, given to perf_analyzer as --input-data JSON with its
# shape): perf_analyzer's `--input-data random` fills FP32 tensors with random bytes, NaNs among them, which the
# server refuses with a 400 (as it should), and `zero` is not a pose.
#
# perf_analyzer itself: the PyPI package `perf-analyzer` is an empty placeholder; the real binary ships in the
# tritonclient manylinux wheel (tritonclient-2.41.0.data/data/bin/perf_analyzer; later wheels link the same way).
# It needs Debian's libb64-0d and NVIDIA's libcudart.so.12, which it calls only for CUDA shared memory (7 symbols:
# cudaFree, cudaGetErrorName, cudaGetErrorString, cudaIpcGetMemHandle, cudaMalloc, cudaMemcpy, cudaSetDevice).
# A stub libcudart.so.12 is built here with `cc`: those 7 functions, versioned `libcudart.so.12` as the binary
# asks, each failing with cudaErrorNoDevice. Everything lives in a cache outside the repository
# (~/.cache/signbert/perf-analyzer, or $SIGNBERT_PERF_ANALYZER_DIR); the wheel comes from PyPI through pip.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:?usage: tools/perf_analyzer.sh BINARY [--model DIR] [--duration-ms MS] [--concurrency \"1 32\"] [--protocol-bench]}"
shift
model=models/demo-gestures
repository=""
model_name=""
interval=5000
concurrencies="1 32"
protocol_bench=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --model) model="$2"; shift 2 ;;
        --model-repository) repository="$2"; shift 2 ;;
        --model-name) model_name="$2"; shift 2 ;;
        --duration-ms) interval="$2"; shift 2 ;;
        --concurrency) concurrencies="$2"; shift 2 ;;
        --protocol-bench) protocol_bench=1; shift ;;
        *) echo "perf_analyzer.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[[ -x "$binary" ]] || { echo "perf_analyzer.sh: $binary is not an executable" >&2; exit 1; }
[[ -z "$repository" || -n "$model_name" ]] || { echo "perf_analyzer.sh: --model-repository needs --model-name" >&2; exit 2; }
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

cache="${SIGNBERT_PERF_ANALYZER_DIR:-$HOME/.cache/signbert/perf-analyzer}"
version=2.41.0
pa="$cache/$version/perf_analyzer"
mkdir -p "$cache/$version"

# 1. The binary, from the tritonclient wheel.
if [[ ! -x "$pa" ]]; then
    pip="$(command -v pip3 || command -v pip || true)"
    [[ -n "$pip" ]] || { echo "perf_analyzer.sh: pip is needed to fetch the tritonclient wheel" >&2; exit 1; }
    wheels="$cache/$version/wheel"
    mkdir -p "$wheels"
    echo "fetching tritonclient==$version (manylinux wheel, ~12 MB) into $wheels"
    "$pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: --platform manylinux1_x86_64 \
        --python-version 3.11 "tritonclient==$version" -d "$wheels"
    python3 - "$wheels"/tritonclient-"$version"-*.whl "$pa" <<'EOF'
import shutil, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open(f"tritonclient-{wheel.split('tritonclient-')[1].split('-')[0]}.data/data/bin/perf_analyzer") as src, open(target + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
    chmod +x "$pa.part"
    mv "$pa.part" "$pa"
fi

# 2. The libraries it links: libb64 from Debian, the CUDA runtime stubbed.
if ! ldconfig -p | grep -q 'libb64\.so\.0d'; then
    echo "perf_analyzer.sh: perf_analyzer needs libb64.so.0d: apt-get install -y libb64-0d" >&2
    exit 1
fi
lib="$cache/$version/lib"
if [[ ! -f "$lib/libcudart.so.12" ]]; then
    command -v cc > /dev/null || { echo "perf_analyzer.sh: a C compiler (cc) is needed for the libcudart stub" >&2; exit 1; }
    mkdir -p "$lib"
    cat > "$lib/cudart_stub.c" <<'EOF'
/* Stands in for NVIDIA's libcudart.so.12: perf_analyzer calls it only for CUDA shared memory, which is unavailable
   here. Every call fails with cudaErrorNoDevice (100). */
#include <stddef.h>
enum { cudaErrorNoDevice = 100 };
int cudaFree(void *ptr) { (void)ptr; return cudaErrorNoDevice; }
int cudaMalloc(void **ptr, size_t size) { (void)size; if (ptr) *ptr = NULL; return cudaErrorNoDevice; }
int cudaMemcpy(void *dst, const void *src, size_t count, int kind) { (void)dst; (void)src; (void)count; (void)kind; return cudaErrorNoDevice; }
int cudaSetDevice(int device) { (void)device; return cudaErrorNoDevice; }
int cudaIpcGetMemHandle(void *handle, void *ptr) { (void)handle; (void)ptr; return cudaErrorNoDevice; }
const char *cudaGetErrorName(int error) { (void)error; return "cudaErrorNoDevice"; }
const char *cudaGetErrorString(int error) { (void)error; return "no CUDA device (stub libcudart.so.12: CUDA shared memory is unavailable)"; }
EOF
    # The binary asks for the symbols at version node libcudart.so.12, as NVIDIA's library defines them.
    printf 'libcudart.so.12 {\n  global: cudaFree; cudaMalloc; cudaMemcpy; cudaSetDevice; cudaIpcGetMemHandle; cudaGetErrorName; cudaGetErrorString;\n  local: *;\n};\n' \
        > "$lib/cudart.map"
    cc -shared -fPIC -O2 -Wl,-soname,libcudart.so.12 -Wl,--version-script="$lib/cudart.map" \
        -o "$lib/libcudart.so.12" "$lib/cudart_stub.c"
fi
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$pa" --version > /dev/null 2>&1 || { echo "perf_analyzer.sh: $pa does not run:" >&2; "$pa" --version >&2; exit 1; }

# 3. The server, on a port the kernel picks (its "started" log line tells it).
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
if [[ -n "$repository" ]]; then source_args=(--model-repository "$repository"); else source_args=(--model "$model"); fi
"$binary" serve --host 127.0.0.1 --port 0 "${source_args[@]}" > "$work/serve.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 600); do
    port="$(grep -o '"listen" *: *"[^"]*:[0-9]*"' "$work/serve.log" | head -1 | grep -o '[0-9]*"$' | tr -d '"' || true)"
    [[ -n "$port" ]] && curl -sf "http://127.0.0.1:$port/ready" > /dev/null 2>&1 && break
    kill -0 "$server_pid" 2> /dev/null || { echo "perf_analyzer.sh: the server exited:" >&2; cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$port" ]] || { echo "perf_analyzer.sh: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

# The model's name and input from Triton's model configuration (which is what perf_analyzer reads too), and the
# input data: one clip, [T, V, C] (the batch dimension left out, as perf_analyzer adds it).
read -r name input shape < <(python3 - "$port" examples/wave.json "$work/input.json" "$model_name" <<'EOF'
import json, sys, urllib.request
port, example, out, name = sys.argv[1:]
name = name or json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/"))["name"]
config = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/models/{name}/config"))
tensor = config["input"][0]
clip = json.load(open(example))["inputs"][0]
shape = [len(clip), len(clip[0]), len(clip[0][0])]
flat = [x for frame in clip for joint in frame for x in joint]
json.dump({"data": [{tensor["name"]: {"content": flat, "shape": shape}}]}, open(out, "w"))
print(name, tensor["name"], ",".join(map(str, shape)))
EOF
)
echo "server: $binary, ${repository:+repository $repository, }model ${repository:+$name}${repository:-$model} ($name, input $input:$shape), port $port; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# 4. perf_analyzer, HTTP then gRPC at each concurrency. Stability is loosened (the machine is shared and noisy):
#    3 windows of --duration-ms within 50 % of each other, at most 10 tries; the CSV gives p50/p99.
printf '\n| protocol | concurrency | infer/s | p50 ms | p99 ms | avg ms | server queue ms | server compute ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n' > "$work/table.md"
for protocol in http grpc; do
    for c in $concurrencies; do
        echo "perf_analyzer -m $name -u 127.0.0.1:$port -i $protocol --concurrency-range $c --input-data wave.json" \
            "--measurement-interval $interval --stability-percentage 50 --max-trials 10"
        "$pa" -m "$name" -u "127.0.0.1:$port" -i "$protocol" --concurrency-range "$c" --input-data "$work/input.json" \
            --measurement-interval "$interval" --stability-percentage 50 --max-trials 10 \
            -f "$work/$protocol-$c.csv" --verbose-csv > "$work/$protocol-$c.out" 2>&1 || {
            cat "$work/$protocol-$c.out"; echo "perf_analyzer.sh: perf_analyzer -i $protocol at concurrency $c failed" >&2; exit 1; }
        sed -n '/Request concurrency/,$p' "$work/$protocol-$c.out"
        python3 - "$work/$protocol-$c.csv" "$protocol" "$c" >> "$work/table.md" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
row = rows[-1]
ms = lambda key: float(row[key]) / 1000 if row.get(key) not in (None, "") else float("nan")
print(f"| {sys.argv[2]} | {sys.argv[3]} | {float(row['Inferences/Second']):.1f} | {ms('p50 latency'):.1f} | {ms('p99 latency'):.1f} "
      f"| {ms('Avg latency'):.1f} | {ms('Server Queue'):.1f} | {ms('Server Compute Infer'):.1f} |")
EOF
    done
done
echo "perf_analyzer $version, $(date -u '+%Y-%m-%d %H:%M UTC'), load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$work/table.md"
kill -TERM "$server_pid" 2> /dev/null || true
wait "$server_pid" 2> /dev/null || true
server_pid=""

# 5. The server's own load benchmark on the same binary and model, right after.
if [[ $protocol_bench == 1 ]]; then
    echo
    echo "python3 tools/protocol_bench.py --binary $binary --model $model --concurrency 32 --duration 6 --rounds 3"
    python3 tools/protocol_bench.py --binary "$binary" --model "$model" --concurrency 32 --duration 6 --rounds 3
fi
