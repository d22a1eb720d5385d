#!/usr/bin/env python3
"""Waits until the machine is quiet enough to quote a benchmark: a short in-process `signbert bench` at batch 1 runs
under a given median. Exits 0 then, 1 when --timeout passes first.

On a shared host the forward's speed moves by a third between minutes (docs/PERFORMANCE.md), and with it every
engine's; a reference run taken in a busy minute is not worth quoting. Put this in front of one:

    python3 tools/wait_quiet.py --binary .build/release/signbert --below-ms 4.4 --timeout 1800 && \\
        /work/venv/bin/python tools/bench_reference.py ... --compare-cmd "... bench --sgemm --peak --json ..."

Each probe is `BINARY bench --batches 1 --threads T --seconds S --json` (random weights at the default v1
architecture); between probes it sleeps --interval seconds. Pick --below-ms from a quiet run of your own machine
(4.0-4.3 ms on the 2-vCPU machine of docs/PERFORMANCE.md; 4.4 let through 2 quiet runs of 3 there).
"""
import argparse
import sys
import time

from ab_bench import median_ms  # tools/ is the script's own directory, first on sys.path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True, help="a signbert binary (release build)")
    parser.add_argument("--below-ms", type=float, required=True, help="quiet when batch 1's median is under this")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds (default 1800)")
    parser.add_argument("--interval", type=float, default=20, help="seconds between probes (default 20)")
    parser.add_argument("--seconds", type=float, default=1, help="timed seconds per probe (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="threads per probe (default 2)")
    args = parser.parse_args()
    args.bench_args = ""

    deadline = time.monotonic() + args.timeout
    while True:
        ms = median_ms(args.binary, 1, args)
        print(f"{time.strftime('%H:%M:%S')} batch 1: {ms:.3f} ms", file=sys.stderr, flush=True)
        if ms < args.below_ms:
            return 0
        if time.monotonic() + args.interval > deadline:
            print(f"wait_quiet: not under {args.below_ms} ms within {args.timeout:.0f} s", file=sys.stderr)
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
