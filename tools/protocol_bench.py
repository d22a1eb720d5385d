#!/usr/bin/env python3
"""End-to-end throughput of the request forms side by side, at one concurrency, on one server:

    tools/protocol_bench.py --binary .build/release/signbert [--model DIR | --checkpoint F]
                            [--concurrency 32] [--duration 8] [--rounds 3] [--threads 2] [--json OUT]

The same single clip (random, fixed seed, 4-decimal numbers) is sent as:
  * `predict-json`  POST /predict, {"inputs": [clip]} (~42 KB of JSON at 64x27x3);
  * `v2-json`       POST /v2/models/signbert/infer, the tensor as JSON `data`;
  * `v2-binary`     POST /v2/models/signbert/infer with the binary tensor extension (FP32 bytes in, binary
                    logits out; ~21 KB);
each with `wrk -c C` for D seconds, and
  * `grpc`          ModelInfer of inference.GRPCInferenceService with the clip as FP32 raw_input_contents (~21 KB
                    message), by `h2load -c 1 -m C` (one HTTP/2 connection, C concurrent calls: a gRPC channel's
                    shape) on the same port; h2load counts HTTP statuses only, so every call's grpc-status is
                    checked afterwards on the server's metrics (any status but OK, and CANCELLED for the calls
                    h2load abandons when its time is up, is counted as non-2xx);
the forms interleaved round by round (the machine is noisy: compare medians within the run). `--no-grpc` leaves
the gRPC form out. Prints a Markdown table: clips/s, p50 and p99 latency, the ratio to predict-json, and the
server's mean batch size. Without --model/--checkpoint, a random-weight default-architecture model is written
with tools/signbert_reference.py (torch + safetensors: this interpreter or /work/venv/bin/python).
Standard library only, plus `wrk` and (for gRPC) `h2load` (Debian: nghttp2-client).
"""
import argparse
import json
import os
import platform
import random
import re
import statistics
import struct
import subprocess
import sys
import tempfile

from signbert_tools.protowire import field, grpc_frame, varint  # noqa: E402
from load_bench import (LUA_TEMPLATE, Server, log, loadavg, machine_info, make_random_model,  # noqa: E402
                        metric, metrics_delta, run_wrk)

# load_bench's wrk script (one body per request, exact numbers in done()), with each form's own headers.
LUA = LUA_TEMPLATE.replace('wrk.headers["Content-Type"] = "application/json"', "%(headers)s")


def forms(clip, shape):
    flat = [x for frame in clip for joint in frame for x in joint]
    predict = json.dumps({"inputs": [clip]}, separators=(",", ":")).encode()
    v2_json = json.dumps({"inputs": [{"name": "keypoints", "shape": shape, "datatype": "FP32", "data": flat}],
                          "outputs": [{"name": "logits"}]}, separators=(",", ":")).encode()
    payload = struct.pack(f"<{len(flat)}f", *flat)
    header = json.dumps({"inputs": [{"name": "keypoints", "shape": shape, "datatype": "FP32",
                                     "parameters": {"binary_data_size": len(payload)}}],
                         "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]},
                        separators=(",", ":")).encode()
    return [
        ("predict-json", "/predict", {"Content-Type": "application/json"}, predict),
        ("v2-json", "/v2/models/signbert/infer", {"Content-Type": "application/json"}, v2_json),
        ("v2-binary", "/v2/models/signbert/infer", {"Content-Type": "application/octet-stream",
                                                     "Inference-Header-Content-Length": str(len(header))},
         header + payload),
    ]


def grpc_model_infer(flat, shape):
    """One length-prefixed ModelInferRequest (Protos/grpc_predict_v2.proto field numbers): model_name 1, inputs 5
    (name 1, datatype 2, shape 3), outputs 6 (name 1), raw_input_contents 7."""
    tensor = field(1, "keypoints") + field(2, "FP32") + field(3, b"".join(varint(d) for d in shape))
    message = (field(1, "signbert") + field(5, tensor) + field(6, field(1, "logits"))
               + field(7, struct.pack(f"<{len(flat)}f", *flat)))
    return grpc_frame(message)


GRPC_PATH = "/inference.GRPCInferenceService/ModelInfer"


def run_grpc_h2load(port, body_path, concurrency, duration, tmp):
    """h2load as a gRPC client: one connection, `concurrency` streams; p50/p99 from its per-request log."""
    log_path = os.path.join(tmp, "grpc-h2load.tsv")
    cmd = ["h2load", "-c", "1", "-m", str(concurrency), "-D", str(int(max(1, duration))), "--warm-up-time", "1",
           "-d", body_path, "-H", "content-type: application/grpc", "-H", "te: trailers", "--log-file", log_path,
           f"http://127.0.0.1:{port}{GRPC_PATH}"]
    log("  " + " ".join(cmd))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in open(log_path) if line.strip()]
    latencies = sorted(int(row[2]) / 1000 for row in rows if row[1] == "200")

    def pct(p):
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] if latencies else float("nan")
    failed = int(re.search(r"(\d+) failed", out).group(1)) + int(re.search(r"(\d+) errored", out).group(1))
    rate = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    return {"ok_requests_per_s": rate, "p50_ms": pct(50), "p99_ms": pct(99),
            "non_2xx": failed + sum(1 for row in rows if row[1] != "200"), "command": cmd}


def grpc_failures(snapshot):
    """gRPC calls that ended with a status other than OK, from the request metrics. CANCELLED (1) is left out: it is
    the calls h2load abandons when its time is up (wrk's unfinished requests at the end are not counted either)."""
    total = metric(snapshot, "signbert_requests_total", protocol="grpc") or 0
    ok = metric(snapshot, "signbert_requests_total", protocol="grpc", status="0") or 0
    cancelled = metric(snapshot, "signbert_requests_total", protocol="grpc", status="1") or 0
    return total - ok - cancelled


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--model")
    g.add_argument("--checkpoint")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--duration", type=float, default=8)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-batch-size", type=int)
    p.add_argument("--max-queue-delay-ms", type=float)
    p.add_argument("--wrk-timeout", type=float, default=10)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--json", dest="json_out")
    p.add_argument("--no-grpc", action="store_true", help="leave out the gRPC form")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="protocol_bench.") as tmp:
        if not args.model and not args.checkpoint:
            args.checkpoint = make_random_model(tmp, args.seed)
            if args.checkpoint is None:
                raise SystemExit("no --model/--checkpoint and no torch to write a random model")
        extra = []
        if args.max_queue_delay_ms is not None:
            extra += ["--max-queue-delay-ms", str(args.max_queue_delay_ms)]
        server = Server(args, tmp, "protocols", extra)
        server.start()
        try:
            status, _, description = server.get("/")
            model = json.loads(description)
            arch = model.get("architecture", model)
            frames, joints, coords = arch["num_frames"], arch["num_joints"], arch["num_coords"]
            rng = random.Random(args.seed)
            clip = [[[round(rng.uniform(-1.0, 1.0), 4) for _ in range(coords)] for _ in range(joints)] for _ in range(frames)]
            variants = []
            for name, path, headers, body in forms(clip, [1, frames, joints, coords]):
                body_path = os.path.join(tmp, f"{name}.body")
                with open(body_path, "wb") as f:
                    f.write(body)
                lua_path = os.path.join(tmp, f"{name}.lua")
                header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
                with open(lua_path, "w") as f:
                    f.write(LUA % {"headers": header_lines, "body_path": body_path})
                variants.append((name, path, lua_path, len(body)))
            if not args.no_grpc:
                flat = [x for frame in clip for joint in frame for x in joint]
                body = grpc_model_infer(flat, [1, frames, joints, coords])
                body_path = os.path.join(tmp, "grpc.body")
                with open(body_path, "wb") as f:
                    f.write(body)
                variants.append(("grpc", GRPC_PATH, body_path, len(body)))
            # Warm-up, unmeasured.
            run_wrk(f"http://127.0.0.1:{server.port}{variants[0][1]}", variants[0][2], args.concurrency, 2, args.wrk_timeout)
            server.wait_idle()
            results = {name: [] for name, *_ in variants}
            for round_index in range(args.rounds):
                for name, path, lua_path, size in variants:
                    before = server.metrics()
                    if name == "grpc":
                        r = run_grpc_h2load(server.port, lua_path, args.concurrency, args.duration, tmp)
                    else:
                        r = run_wrk(f"http://127.0.0.1:{server.port}{path}", lua_path, args.concurrency, args.duration, args.wrk_timeout)
                    server.wait_idle()
                    after = server.metrics()
                    if name == "grpc":
                        r["non_2xx"] += grpc_failures(after) - grpc_failures(before)
                    delta = metrics_delta(before, after, r.get("seconds") or args.duration)
                    r.pop("stdout", None)
                    r["mean_batch"] = delta.get("mean_batch_size")
                    r["loadavg"] = loadavg()
                    results[name].append(r)
                    log(f"round {round_index + 1} {name}: {r.get('ok_requests_per_s', 0):.1f} clips/s, "
                        f"p50 {r.get('p50_ms', 0):.1f} ms, p99 {r.get('p99_ms', 0):.1f} ms, non-2xx {r.get('non_2xx')}")
        finally:
            server.stop()

    sizes = {name: size for name, _, _, size in variants}
    base = statistics.median(r["ok_requests_per_s"] for r in results["predict-json"])
    print(f"\nmachine: {machine_info()}; {platform.platform()}")
    print(f"concurrency {args.concurrency}, {args.duration:g} s per run, {args.rounds} interleaved rounds, "
          f"threads {args.threads}; medians over rounds\n")
    print("| form | body bytes | clips/s | vs /predict JSON | p50 ms | p99 ms | mean batch | non-2xx |")
    print("|---|---|---|---|---|---|---|---|")
    summary = {}
    for name, runs in results.items():
        rate = statistics.median(r["ok_requests_per_s"] for r in runs)
        p50 = statistics.median(r["p50_ms"] for r in runs)
        p99 = statistics.median(r["p99_ms"] for r in runs)
        batches = [r["mean_batch"] for r in runs if r.get("mean_batch")]
        batch = statistics.median(batches) if batches else float("nan")
        errors = sum(r["non_2xx"] for r in runs)
        summary[name] = {"clips_per_s": rate, "p50_ms": p50, "p99_ms": p99, "mean_batch": batch, "non_2xx": errors,
                         "runs": [r["ok_requests_per_s"] for r in runs]}
        print(f"| {name} | {sizes[name]} | {rate:.1f} | {rate / base:.2f}x | {p50:.1f} | {p99:.1f} | {batch:.1f} | {errors} |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "summary": summary, "runs": results}, f, indent=2, default=str)


if __name__ == "__main__":
    main()
