#!/usr/bin/env python3
"""Two builds of `signbert`, in-process forward speed, run by run in turn: is B faster than A, and by how much?

On a noisy machine a whole run of each build cannot show a 1-3 % change: the host moves the medians by more than
that from one minute to the next. Here the two builds run short `signbert bench` runs in turn (the order
alternated each pair), and each pair gives a ratio B/A of median forward times, so the host's slow drift cancels
within a pair. The result per batch: the median of the per-pair ratios (below 1: B is faster) and how many pairs
B won.

    swift build -c release && cp .build/release/signbert /tmp/signbert-a    # the build before the change
    ... change, rebuild ...
    python3 tools/ab_bench.py --a /tmp/signbert-a --b .build/release/signbert --batches 1,8,32 --pairs 30

Each run is `BIN bench --batches B --threads T --seconds S --json` (plus any --bench-args), on the random-weight
default architecture unless --bench-args names a model. Exits non-zero only if a run fails.
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path


def median_ms(binary, batch, args):
    """The median forward time of one `bench` run at `batch` (args: threads, seconds, bench_args); also used by
    tools/wait_quiet.py. Exits with a one-line error, named after the running script, if the run fails."""
    tool = Path(sys.argv[0]).stem
    command = [binary, "bench", "--batches", str(batch), "--threads", str(args.threads),
               "--seconds", str(args.seconds), "--json", *args.bench_args.split()]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        sys.exit(f"{tool}: cannot run {binary}: {error.strerror}")
    if result.returncode != 0:
        sys.exit(f"{tool}: {' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-300:]}")
    return json.loads(result.stdout)["results"][0]["median_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="the build before (path to a signbert binary)")
    parser.add_argument("--b", required=True, help="the build after")
    parser.add_argument("--batches", default="1,8,32", help="comma-separated batch sizes (default 1,8,32)")
    parser.add_argument("--pairs", type=int, default=20, help="pairs of runs per batch (default 20)")
    parser.add_argument("--seconds", type=float, default=0.5, help="timed seconds per run (default 0.5)")
    parser.add_argument("--threads", type=int, default=2, help="threads per run (default 2)")
    parser.add_argument("--bench-args", default="", help="more arguments for `signbert bench`, e.g. '--variant v2'")
    args = parser.parse_args()
    if args.pairs < 1:
        sys.exit("ab_bench: --pairs must be at least 1")

    print(f"A = {args.a}\nB = {args.b}\n{args.pairs} pairs per batch, {args.seconds} s per run, {args.threads} threads")
    print("| batch | A median ms | B median ms | B/A per pair (median) | pairs B faster |")
    print("|---:|---:|---:|---:|---:|")
    for batch in (int(b) for b in args.batches.split(",")):
        a_times, b_times = [], []
        for pair in range(args.pairs):
            order = [("a", args.a), ("b", args.b)] if pair % 2 == 0 else [("b", args.b), ("a", args.a)]
            for which, binary in order:
                (a_times if which == "a" else b_times).append(median_ms(binary, batch, args))
        ratios = [b / a for a, b in zip(a_times, b_times)]
        faster = sum(1 for r in ratios if r < 1)
        print(f"| {batch} | {statistics.median(a_times):.3f} | {statistics.median(b_times):.3f} | "
              f"{statistics.median(ratios):.3f} | {faster} of {len(ratios)} |", flush=True)


if __name__ == "__main__":
    main()
