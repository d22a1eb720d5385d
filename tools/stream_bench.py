#!/usr/bin/env python3
"""Load benchmark of live streams (issue 21, acceptance 3): N concurrent streams, each sending one landmark frame
every 1/30 s (binary float32, as a camera app would) with window 64 and stride 8, for N = 1, 2, 4, ... until the
server no longer keeps up. Per N it reports, over all windows of all streams: windows computed and skipped, the
server's latency_ms (arrival of a window's last frame to its answer being written) at p50/p99, and the client's
latency from sending a window's last frame to receiving its prediction. A level "keeps up" when nothing was skipped
and the p99 client latency is within one stride's time (8 / 30 s = 267 ms).

Usage:
    python3 tools/stream_bench.py --port PORT [--seconds 10] [--max-streams 64] [--fps 30] [--stride 8]
(against a running `signbert serve --model models/demo-gestures --max-streams 256`; needs the websockets package).
"""
import argparse
import asyncio
import json
import math
import random
import struct
import time

from websockets.asyncio.client import connect


def frame_bytes(rng, t):
    values = []
    for count, cx in ((33, 0.5), (21, 0.35), (21, 0.65)):
        for _ in range(count):
            values += [cx + 0.1 * math.sin(t / 9 + rng.random()), 0.5 + 0.1 * rng.random(), 0.0, 0.9]
    return struct.pack("<300f", *values)


async def one_stream(port, seconds, fps, stride, results, rng):
    sent_at = {}
    latencies, server_latencies = [], []
    skipped = 0
    async with connect(f"ws://127.0.0.1:{port}/stream", subprotocols=["signbert.stream.v1"]) as ws:
        await ws.send(json.dumps({"type": "start", "input": "landmarks", "image_width": 1280, "image_height": 720,
                                  "window": 64, "stride": stride, "top_k": 1}))
        json.loads(await ws.recv())

        async def reader():
            nonlocal skipped
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "prediction":
                    now = time.monotonic()
                    latencies.append((now - sent_at[message["end_frame"]]) * 1000)
                    server_latencies.append(message["latency_ms"])
                    skipped += message["skipped"]
                elif message["type"] == "end":
                    skipped = message["skipped"]
                    return

        task = asyncio.create_task(reader())
        start = time.monotonic()
        frames = int(seconds * fps)
        await asyncio.sleep(rng.random() / fps)  # streams out of phase, as real cameras are
        for t in range(frames):
            target = start + t / fps
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at[t] = time.monotonic()
            await ws.send(frame_bytes(rng, t))
        await ws.send(json.dumps({"type": "stop"}))
        await task
    results.append((latencies, server_latencies, skipped))


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(p / 100 * len(ordered))) - 1)]


async def level(port, n, seconds, fps, stride):
    results = []
    rng = random.Random(n)
    await asyncio.gather(*(one_stream(port, seconds, fps, stride, results, rng) for _ in range(n)))
    latencies = [x for r in results for x in r[0]]
    server = [x for r in results for x in r[1]]
    skipped = sum(r[2] for r in results)
    return len(latencies), skipped, percentile(server, 50), percentile(server, 99), percentile(latencies, 50), percentile(latencies, 99)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--fps", type=float, default=30)
    parser.add_argument("--stride", type=int, default=8)
    parser.add_argument("--max-streams", type=int, default=64)
    args = parser.parse_args()
    budget = args.stride / args.fps * 1000
    print(f"{args.fps:g} frames/s per stream, window 64, stride {args.stride}: one stride = {budget:.0f} ms; "
          f"{args.seconds:g} s per level")
    print(f"{'streams':>7} {'windows':>8} {'skipped':>8} {'srv p50':>8} {'srv p99':>8} {'cli p50':>8} {'cli p99':>8}  keeps up")
    n, best = 1, 0
    while n <= args.max_streams:
        windows, skipped, s50, s99, c50, c99 = asyncio.run(level(args.port, n, args.seconds, args.fps, args.stride))
        ok = skipped == 0 and c99 <= budget
        print(f"{n:>7} {windows:>8} {skipped:>8} {s50:>8.1f} {s99:>8.1f} {c50:>8.1f} {c99:>8.1f}  {'yes' if ok else 'no'}", flush=True)
        if not ok:
            break
        best = n
        n *= 2
    print(f"largest N that keeps up (of the levels tried): {best}")


if __name__ == "__main__":
    main()
