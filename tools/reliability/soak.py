#!/usr/bin/env python3
"""Soak: a long run at 80% of capacity; the server's RSS, descriptors and threads sampled, and flat.

    tools/reliability/soak.py .build-rel/release/signbert [--duration 600] [--fraction 0.8] [--no-sigterm]

1. capacity: wrk -c 32 on /predict (one clip per request), on this server, just before;
2. an open-loop client at fraction x capacity requests/s (keep-alive, up to 900 connections) for --duration
   seconds (10 minutes by default; CI does not run this); every --interval seconds: RSS, fds, threads;
3. pass: every answer is 200 (--allow-503 tolerates 503 + Retry-After, for a machine whose other load takes
   the headroom away); RSS slope after the first --warmup seconds (least squares, MiB/min) within
   ±--max-rss-slope; fds back to the baseline once the client's connections time out; threads ≤ the count
   at the first sample + 4;
4. SIGTERM under the same load: exit 0, nothing the server accepted is lost.
"""
import argparse
import sys
import time

import rel_common as rc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rc.add_server_arguments(p)
    p.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    p.add_argument("--fraction", type=float, default=0.8, help="offered load / capacity (default 0.8)")
    p.add_argument("--interval", type=float, default=5, help="sampling interval in seconds (default 5)")
    p.add_argument("--warmup", type=float, default=60, help="seconds left out of the slope (default 60)")
    p.add_argument("--max-rss-slope", type=float, default=0.5, help="MiB/min (default 0.5)")
    p.add_argument("--capacity-seconds", type=int, default=8)
    p.add_argument("--allow-503", action="store_true")
    p.add_argument("--no-sigterm", action="store_true")
    args = p.parse_args()
    table = rc.Table(f"Soak: {args.duration:g} s at {args.fraction:g} x capacity")
    details = {"machine": rc.machine_line()}
    rc.log(details["machine"])
    table.add("machine", details["machine"], "", None)
    with rc.tempdir("rel-soak-", args) as tmp:
        server = rc.start_server(args, tmp, "soak")
        pid = server.proc.pid
        try:
            body = rc.make_body(server)
            cap = rc.capacity(server, body, tmp, seconds=args.capacity_seconds)
            details["capacity"] = cap
            table.add("capacity (wrk c=32, same server, just before)",
                      f"{cap['clips_per_s']:.1f} clips/s (load {cap['loadavg']})", "", cap["clips_per_s"] > 0)
            time.sleep(6)
            before = rc.proc_sample(pid)
            rate = args.fraction * cap["clips_per_s"]
            sampler = rc.Sampler(pid, args.interval).start()
            client = rc.Client(server.port, body, rate=rate, max_connections=900, timeout=30, prefix="s").start()
            t0 = time.monotonic()
            next_log = t0 + 60
            while time.monotonic() - t0 < args.duration:
                time.sleep(min(1.0, args.duration - (time.monotonic() - t0)) if args.duration > 0 else 0)
                if time.monotonic() >= next_log:
                    last = sampler.samples[-1] if sampler.samples else {}
                    rc.log(f"  {time.monotonic() - t0:.0f}s: {len(client.records)} requests; rss "
                           f"{last.get('rss_mib', 0):.1f} MiB, fds {last.get('fds')}, load {rc.loadavg()}")
                    next_log += 60
            records = client.stop()
            samples = sampler.stop()
            s = rc.summarize(records)
            details.update(summary=s, samples=samples, loadavg_after=rc.loadavg())
            counts = s["counts"]
            allowed = {rc.Outcome.OK} | ({rc.Outcome.UNAVAILABLE} if args.allow_503 else set())
            errors = {k: v for k, v in counts.items() if k not in allowed}
            table.add("offered / answered 200 per s", f"{rc.fmt(s['sent_per_s'])} / {rc.fmt(s['ok_per_s'])} "
                      f"({args.fraction:g} x {cap['clips_per_s']:.1f})", "", None)
            table.add("outcomes", str(dict(sorted(counts.items()))),
                      "200 only" + (" (503 + Retry-After allowed)" if args.allow_503 else ""),
                      not errors and s["503_without_retry_after"] == 0)
            table.add("latency p50 / p99 / max ms", f"{rc.fmt(s['p50_ms'])} / {rc.fmt(s['p99_ms'])} / {rc.fmt(s['max_ms'])}",
                      "", None)
            warm = args.warmup if args.duration > 2 * args.warmup else 0
            rss_slope = rc.slope_per_minute(samples, "rss_mib", warm)
            fd_slope = rc.slope_per_minute(samples, "fds", warm)
            rss = [x["rss_mib"] for x in samples]
            fds = [x["fds"] for x in samples]
            threads = [x["threads"] for x in samples]
            table.add("RSS MiB first / min / max / last sample", f"{rss[0]:.1f} / {min(rss):.1f} / {max(rss):.1f} / {rss[-1]:.1f}"
                      if rss else "n/a", "", None)
            table.add(f"RSS slope after {warm:g} s (MiB/min)", rc.fmt(rss_slope, 3),
                      f"abs(slope) ≤ {args.max_rss_slope}", rss_slope is not None and abs(rss_slope) <= args.max_rss_slope)
            table.add("fds min / max during; slope (fds/min)", f"{min(fds) if fds else '?'} / {max(fds) if fds else '?'}; "
                      f"{rc.fmt(fd_slope, 3)}", "", None)
            table.add("threads min / max", f"{min(threads)} / {max(threads)}" if threads else "n/a",
                      "max ≤ first + 4", bool(threads) and max(threads) <= threads[0] + 4)
            server.wait_idle()
            time.sleep(6)
            after = rc.wait_fds_settle(pid, before["fds"], 20)
            table.add("fds before / after the run", f"{before['fds']} / {after['fds']}", "equal", after["fds"] <= before["fds"])
            table.add("samples", f"{len(samples)} every {args.interval:g} s", "", None)
            if not args.no_sigterm:
                client = rc.Client(server.port, body, rate=rate, max_connections=900, timeout=30, prefix="t").start()
                time.sleep(5)
                rc.sigterm_into(table, details, server, client)
        finally:
            if server.proc.poll() is None:
                server.stop()
    rc.finish(table, args, details)


if __name__ == "__main__":
    sys.exit(main())
