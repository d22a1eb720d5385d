#!/usr/bin/env python3
"""A busy model cannot starve a quiet one: the compute pool's policy (oldest waiting clip first), measured.

    tools/reliability/model_fairness.py path/to/signbert [--requests 30] [--busy-clients 12] [--busy-clips 16]

A repository of two models: `busy` (models/demo-gestures, ~630 MFLOP a clip) and `quiet` (the v1 training-run
fixture, a small model). One client sends --requests single-clip requests to `quiet`, one at a time, first alone,
then while --busy-clients closed-loop clients keep `busy`'s queue full with --busy-clips clips each (192 clips, six
batches of 32, by default). Each model's compute thread offers one batch at a time to the compute pool, which runs
the one whose oldest clip waited longest: a quiet request waits for the batch running when it arrives and at most
one busy batch already waiting, not for the busy model's whole queue (what one FIFO queue over both models would
make it wait). The script reports the latencies in ms and in busy batches (their mean compute time, from
/metrics), and checks that quiet p99 stays under that FIFO wait (the busy queue's batches).
Standard library only. About 20-40 s.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from signbert_tools.checks import check, finish  # noqa: E402
from signbert_tools.paths import DEMO_MODEL, FIXTURES  # noqa: E402
from signbert_tools.server import ServeProcess  # noqa: E402


def body(seed, clips, frames=32):
    rng = random.Random(seed)
    return json.dumps({"inputs": [[[[round(rng.uniform(-1, 1), 3) for _ in range(3)] for _ in range(27)]
                                   for _ in range(frames)] for _ in range(clips)]}).encode()


def post(conn, path, payload):
    conn.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status


def quiet_latencies(port, count):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    payload, latencies, failures = body(7, 1), [], 0
    for _ in range(count):
        started = time.monotonic()
        if post(conn, "/predictions/quiet", payload) != 200:
            failures += 1
        latencies.append((time.monotonic() - started) * 1000)
        time.sleep(0.02)
    conn.close()
    return sorted(latencies), failures


def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def batch_seconds(server, model):
    """Mean compute seconds per batch of `model`, from its labelled histogram."""
    text = server.get("/metrics")[2].decode()
    def value(name):
        match = re.search(rf'^{name}{{model="{model}",version="1"}} ([0-9.e+-]+)$', text, re.M)
        return float(match.group(1)) if match else 0.0
    count = value("signbert_model_compute_seconds_count")
    return value("signbert_model_compute_seconds_sum") / count if count else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--busy-clients", type=int, default=12)
    parser.add_argument("--busy-clips", type=int, default=16)
    parser.add_argument("--json")
    args = parser.parse_args()
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="signbert-fairness-")
    try:
        repo = os.path.join(tmp, "repository")
        shutil.copytree(DEMO_MODEL, os.path.join(repo, "busy"), ignore=shutil.ignore_patterns("*.md"))
        shutil.copytree(FIXTURES / "fidelity" / "v1-run" / "training_run", os.path.join(repo, "quiet"))
        server = ServeProcess(args.binary, ["--model-repository", repo, "--threads", "2"]).start()
        try:
            alone, alone_failed = quiet_latencies(server.port, args.requests)
            stopping = threading.Event()
            busy_counts = []

            def busy_client(seed):
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                payload, done = body(seed, args.busy_clips), 0
                while not stopping.is_set():
                    if post(conn, "/predictions/busy", payload) == 200:
                        done += 1
                busy_counts.append(done)
                conn.close()

            threads = [threading.Thread(target=busy_client, args=(100 + i,), daemon=True) for i in range(args.busy_clients)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)
            busy_started = time.monotonic()
            loaded, loaded_failed = quiet_latencies(server.port, args.requests)
            busy_elapsed = time.monotonic() - busy_started
            stopping.set()
            for thread in threads:
                thread.join(120)
            busy_batch_ms = batch_seconds(server, "busy") * 1000
            quiet_batch_ms = batch_seconds(server, "quiet") * 1000
        finally:
            server.terminate()
        figures = {
            "quiet_alone_ms": {"p50": round(pct(alone, 50), 1), "p99": round(pct(alone, 99), 1)},
            "quiet_beside_busy_ms": {"p50": round(pct(loaded, 50), 1), "p99": round(pct(loaded, 99), 1)},
            "busy_batch_compute_ms": round(busy_batch_ms, 1), "quiet_batch_compute_ms": round(quiet_batch_ms, 1),
            "busy_clips_per_s": round(sum(busy_counts) * args.busy_clips / busy_elapsed, 1),
            "busy_queue_clips": args.busy_clients * args.busy_clips,
            "quiet_p50_in_busy_batches": round(pct(loaded, 50) / busy_batch_ms, 2) if busy_batch_ms else None,
            "quiet_p99_in_busy_batches": round(pct(loaded, 99) / busy_batch_ms, 2) if busy_batch_ms else None,
        }
        print(json.dumps(figures))
        check("quiet: every request answered 200", alone_failed == 0 and loaded_failed == 0)
        fifo = args.busy_clients * args.busy_clips / 32 * busy_batch_ms
        check("quiet p99 beside busy under the wait behind busy's whole queue (one FIFO queue)", pct(loaded, 99) < fifo,
              f"{pct(loaded, 99):.0f} ms < {fifo:.0f} ms")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
