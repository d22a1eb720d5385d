#!/usr/bin/env python3
"""CPU time of `signbert serve` when idle, lightly loaded and at one client (c=1), against the wall time of the
clips it computed: an idle or lightly loaded server must not spin (issue 16).

    python3 tools/cpu_at_rest.py --binary .build/release/signbert [--model models/demo-gestures] [--threads 2]

Phases (one server, one keep-alive connection; CPU = utime + stime of the server process from /proc):
  idle   no request for --seconds after a warm-up request;
  light  one request every --gap-ms (a lightly loaded server: it sleeps between clips);
  c=1    requests back to back.
For each: CPU-seconds, the server's compute seconds (signbert_compute_seconds_sum from /metrics: the wall time of
the clips computed), and CPU-seconds per compute-second (a split clip keeps up to --threads cores busy while it
computes, so up to --threads is expected; more means CPU spent outside computing, e.g. spinning threads).
Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import time
import urllib.request

from signbert_tools.server import ServeProcess


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compute_seconds(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("signbert_compute_seconds_sum"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", default="models/demo-gestures")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each phase")
    ap.add_argument("--gap-ms", type=float, default=50.0, help="pause between requests in the light phase")
    args = ap.parse_args()

    # The server's log (an access-log line per request) goes to a file: an unread pipe would fill and block it.
    server = ServeProcess(args.binary, ["--model", args.model, "--threads", args.threads]).start(timeout=30)
    port = server.port
    try:
        rng = random.Random(1234)
        clip = [[[round(rng.uniform(-1, 1), 4) for _ in range(3)] for _ in range(27)] for _ in range(64)]
        body = json.dumps({"inputs": [clip]}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def request():
            conn.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status

        for _ in range(20):
            request()
        time.sleep(0.5)
        rows = []
        for phase in ("idle", "light", "c=1"):
            cpu0, compute0, t0, n = cpu_seconds(server.proc.pid), compute_seconds(port), time.monotonic(), 0
            while time.monotonic() - t0 < args.seconds:
                if phase == "idle":
                    conn.close()  # the server closes idle keep-alive connections; the next request reconnects
                    time.sleep(args.seconds)
                    continue
                request()
                n += 1
                if phase == "light":
                    time.sleep(args.gap_ms / 1000)
            wall = time.monotonic() - t0
            cpu, compute = cpu_seconds(server.proc.pid) - cpu0, compute_seconds(port) - compute0
            rows.append((phase, n, wall, cpu, compute))
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        print(f"signbert serve --threads {args.threads}, {args.model}; 1/5/15-min load average at the end: {' '.join(load)}")
        print("| phase | requests | wall s | server CPU s | CPU cores | compute s | CPU s per compute s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for phase, n, wall, cpu, compute in rows:
            per = f"{cpu / compute:.2f}" if compute > 0 else "-"
            print(f"| {phase} | {n} | {wall:.2f} | {cpu:.2f} | {cpu / wall:.2f} | {compute:.3f} | {per} |")
    finally:
        server.terminate(timeout=30)


if __name__ == "__main__":
    main()
