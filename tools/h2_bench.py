#!/usr/bin/env python3
"""HTTP/2 beside HTTP/1.1 against one `signbert serve`: h2load on 1 connection x 32 streams and wrk on
32 HTTP/1.1 connections, interleaved in the same run, each posting the same single-clip JSON body.

    tools/h2_bench.py --binary .build-rel/release/signbert [--model models/demo-gestures]
                      [--body examples/gestures/wave.json] [--rounds 3] [--duration 10] [--threads 2]

Per round: wrk (HTTP/1.1, -c 32) then h2load (h2c prior knowledge, -c 1 -m 32), each after a short warm-up.
clips/s = requests/s (one clip per request). Latency: wrk's --latency percentiles; for h2load, the p50/p99 of
its --log-file per-request times. Prints every round and the medians, and HTTP/2 ÷ HTTP/1.1 clips/s.
Standard library only, plus the `wrk` and `h2load` binaries (Debian: wrk, nghttp2-client).
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile

from signbert_tools import wrk
from signbert_tools.server import ServeProcess, ServerError


def start_server(binary, model, threads):
    server = ServeProcess(binary, ["--model", model, "--threads", threads])
    try:
        return server.start(timeout=30)
    except ServerError as error:
        server.kill()
        sys.exit(str(error))


def run_wrk(port, script, duration, connections):
    result = wrk.run(f"http://127.0.0.1:{port}/predict", script, connections, duration, threads=2)
    socket_errors = any(result["socket_errors"].values())
    return {"clips_per_s": result["requests_per_s_reported"], "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"],
            "errors": result["non_2xx"] + (1 if socket_errors else 0)}


def run_h2load(port, body, duration, streams):
    with tempfile.NamedTemporaryFile(prefix="h2bench-", suffix=".tsv") as log:
        out = subprocess.run(["h2load", "-c", "1", "-m", str(streams), "-D", str(duration), "--warm-up-time", "1",
                              "-d", body, "-H", "content-type: application/json", "--log-file", log.name,
                              f"http://127.0.0.1:{port}/predict"], capture_output=True, text=True, check=True).stdout
        rows = [line.split("\t") for line in open(log.name) if line.strip()]
    latencies = sorted(int(row[2]) / 1000 for row in rows if row[1] == "200")
    failed = int(re.search(r"(\d+) failed", out).group(1)) + int(re.search(r"(\d+) errored", out).group(1))
    non2xx = sum(1 for row in rows if row[1] != "200")
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    def pct(p):
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]
    return {"clips_per_s": rps, "p50_ms": pct(50), "p99_ms": pct(99), "errors": failed + non2xx}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build-rel/release/signbert")
    parser.add_argument("--model", default="models/demo-gestures")
    parser.add_argument("--body", default="examples/gestures/wave.json")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", help="write the rounds and medians here")
    args = parser.parse_args()

    body = open(args.body, "rb").read()
    script = tempfile.NamedTemporaryFile("w", prefix="h2bench-", suffix=".lua", delete=False)
    script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                 f"wrk.body = {json.dumps(body.decode())}\n")
    script.close()
    server = start_server(args.binary, args.model, args.threads)
    port = server.port
    rounds = []
    try:
        run_wrk(port, script.name, 2, args.concurrency)  # warm-up (h2load warms itself up)
        for index in range(args.rounds):
            load = os.getloadavg()[0]
            http1 = run_wrk(port, script.name, args.duration, args.concurrency)
            http2 = run_h2load(port, args.body, args.duration, args.concurrency)
            rounds.append({"load_1min": load, "http1": http1, "http2": http2})
            print(f"round {index + 1} (load {load:.2f}): HTTP/1.1 {http1}\n    HTTP/2 {http2}", flush=True)
    finally:
        server.proc.send_signal(signal.SIGINT)
        server.proc.wait(timeout=30)
    medians = {proto: {key: statistics.median(r[proto][key] for r in rounds) for key in rounds[0][proto]}
               for proto in ("http1", "http2")}
    ratio = medians["http2"]["clips_per_s"] / medians["http1"]["clips_per_s"]
    print(f"\nmedians of {len(rounds)} rounds, {args.duration} s each, concurrency {args.concurrency}:")
    print("| protocol | client | clips/s | p50 ms | p99 ms | errors |\n|---|---|---:|---:|---:|---:|")
    print(f"| HTTP/1.1, {args.concurrency} connections | wrk | {medians['http1']['clips_per_s']:.1f} | "
          f"{medians['http1']['p50_ms']:.1f} | {medians['http1']['p99_ms']:.1f} | {medians['http1']['errors']:.0f} |")
    print(f"| HTTP/2, 1 connection x {args.concurrency} streams | h2load | {medians['http2']['clips_per_s']:.1f} | "
          f"{medians['http2']['p50_ms']:.1f} | {medians['http2']['p99_ms']:.1f} | {medians['http2']['errors']:.0f} |")
    print(f"\nHTTP/2 / HTTP/1.1 clips/s: {ratio:.3f} (target >= 0.95: {'met' if ratio >= 0.95 else 'MISSED'})")
    print(f"per-round ratios: {[round(r['http2']['clips_per_s'] / r['http1']['clips_per_s'], 3) for r in rounds]}")
    if args.json:
        json.dump({"rounds": rounds, "medians": medians, "ratio": ratio}, open(args.json, "w"), indent=2)


if __name__ == "__main__":
    main()
