#!/usr/bin/env python3
"""Overload at 4x capacity: the excess gets 503 + Retry-After, admitted requests' p99 is bounded, RSS is bounded.

    tools/reliability/overload.py .build-rel/release/signbert [--factor 4] [--duration 20] [--no-sigterm]

1. capacity: wrk -c 32 on /predict for --capacity-seconds (one clip per request), in this run, on this server;
2. an open-loop client (tools/reliability/rel_common.py: requests scheduled at factor x capacity per second, up
   to 900 connections, keep-alive, latency counted from each request's scheduled time) for --duration seconds;
   server fds/RSS sampled every 0.5 s;
3. pass: every answer is 200 or 503, every 503 has Retry-After, nothing else (no other 5xx, no reset, no
   timeout); no admitted request overtaken by more answers than the queue bound below; RSS peak <= RSS before + --rss-growth-mib; fds back to the
   baseline afterwards;
4. SIGTERM under the same overload: exit 0, nothing the server accepted is lost.

The bound on an admitted request's wait: the queue admits a request only while at most --max-queue clips wait
(default 256); ahead of it are then at most max_queue clips plus the batch being computed, and its own batch's
peers are answered with it. So while it waits, at most max_queue + 2 x max_batch answers complete (checked for every
admitted request, from the client's timestamps, with one batch of slack for a batch completing between the
client's send and the server's admission: a FIFO bound, whatever the rate). In seconds that is
(max_queue + 2 x max_batch) / R at R clips/s: the table gives it at the mean rate and at the 10th percentile of the
rate in 2 s windows (on a shared machine the rate moves by tens of percent within a run). The hard ceiling, whatever
the rate, is --request-timeout: 504 after 30 s.
"""
import argparse
import bisect
import sys
import time

import rel_common as rc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rc.add_server_arguments(p)
    p.add_argument("--factor", type=float, default=4.0, help="offered load / capacity (default 4)")
    p.add_argument("--duration", type=float, default=20, help="seconds of overload (default 20)")
    p.add_argument("--capacity-seconds", type=int, default=8)
    p.add_argument("--max-queue", type=int, default=256, help="serve --max-queue (default 256, the default)")
    p.add_argument("--max-batch", type=int, default=32, help="serve --max-batch-size (default 32)")
    p.add_argument("--rss-growth-mib", type=float, default=256)
    p.add_argument("--no-sigterm", action="store_true")
    args = p.parse_args()
    table = rc.Table(f"Overload at {args.factor:g}x capacity")
    details = {"machine": rc.machine_line()}
    rc.log(details["machine"])
    table.add("machine", details["machine"], "", None)
    extra = ["--max-queue", str(args.max_queue), "--max-batch-size", str(args.max_batch)]
    with rc.tempdir("rel-over-", args) as tmp:
        server = rc.start_server(args, tmp, "overload", extra)
        pid = server.proc.pid
        try:
            body = rc.make_body(server)
            cap = rc.capacity(server, body, tmp, seconds=args.capacity_seconds)
            details["capacity"] = cap
            table.add("capacity (wrk c=32, same server, just before)",
                      f"{cap['clips_per_s']:.1f} clips/s (p99 {rc.fmt(cap['p99_ms'])} ms; load {cap['loadavg']})",
                      "", cap["clips_per_s"] > 0)
            if cap["clips_per_s"] <= 0:
                rc.finish(table, args, details)
            time.sleep(6)  # wrk's keep-alive connections time out
            before = rc.proc_sample(pid)
            rate = args.factor * cap["clips_per_s"]
            sampler = rc.Sampler(pid, 0.5).start()
            client = rc.Client(server.port, body, rate=rate, max_connections=900, timeout=30, prefix="o").start()
            time.sleep(args.duration)
            records = client.stop()
            samples = sampler.stop()
            s = rc.summarize(records)
            details["overload"] = s
            details["loadavg_after"] = rc.loadavg()
            ok_rate = s["ok_per_s"] or 0.0
            # The rate in 2 s windows once the queue is full (3 s in) until the client stops: its 10th
            # percentile is the slow end of what the shared machine gave, which sets how long a full queue takes.
            ends = sorted(r.end for r in records if r.outcome == rc.Outcome.OK)
            windows = []
            t = client.started_at + 3
            while t + 2 <= client.stopped_at:
                windows.append(sum(1 for e in ends if t <= e < t + 2) / 2.0)
                t += 2
            slow_rate = rc.percentile(windows, 10) or ok_rate
            bound_s = (args.max_queue + 2 * args.max_batch) / slow_rate if slow_rate else float("inf")
            details["rate_windows"] = windows
            counts = s["counts"]
            others = {k: v for k, v in counts.items() if k not in (rc.Outcome.OK, rc.Outcome.UNAVAILABLE)}
            table.add("offered (open loop) / answered 200 per s",
                      f"{rc.fmt(s['sent_per_s'])} req/s ({rc.fmt((s['sent_per_s'] or 0) / cap['clips_per_s'], 2)}x) / "
                      f"{ok_rate:.1f} clips/s", f"offered ≥ {0.9 * args.factor:g}x capacity",
                      (s["sent_per_s"] or 0) >= 0.9 * args.factor * cap["clips_per_s"])
            table.add("outcomes", str(dict(sorted(counts.items()))), "200 and 503 only", not others)
            table.add("503 without Retry-After", str(s["503_without_retry_after"]), "0", s["503_without_retry_after"] == 0)
            # The server's own duration of each admitted request (access log, first request byte to last answer
            # byte): what the queue bound is about. The client's figure adds its own lag on the shared cores.
            logged = rc.server_access_log(server)
            server_ms = [float(logged[r.rid]["duration_ms"]) for r in records
                         if r.outcome == rc.Outcome.OK and r.rid in logged and "duration_ms" in logged[r.rid]]
            sp99 = rc.percentile(server_ms, 99)
            # The queue bound, checked per request and independent of how fast the shared machine happened
            # to be: while an admitted request waited, at most max_queue clips were ahead of it, plus the batch
            # being computed, plus the peers of its own batch (answered at the same instant) - so the answers
            # completed between its send and its answer number at most max_queue + 2 x max_batch.
            ok_recs = [r for r in records if r.outcome == rc.Outcome.OK]
            ends = sorted(r.end for r in ok_recs)
            overtaken = [bisect.bisect_left(ends, r.end) - bisect.bisect_right(ends, r.start) for r in ok_recs]
            # One batch of slack: a batch may complete between the client's send and the server's admission.
            limit = args.max_queue + 2 * args.max_batch
            slack = limit + args.max_batch
            worst = max(overtaken, default=0)
            table.add("answers completed while an admitted request waited: p99 / max",
                      f"{rc.percentile(overtaken, 99) or 0:.0f} / {worst}",
                      f"max ≤ {limit} (= {args.max_queue} queued + 2 x {args.max_batch}), + {args.max_batch} slack",
                      worst <= slack)
            table.add("admitted, server-side p50 / p99 / max ms",
                      f"{rc.fmt(rc.percentile(server_ms, 50))} / {rc.fmt(sp99)} / {rc.fmt(max(server_ms, default=None))}",
                      f"≈ {limit} clips / the rate: {limit / ok_rate * 1e3:.0f} ms at the mean {ok_rate:.1f}, "
                      f"{bound_s * 1e3:.0f} ms at the 10th-percentile {slow_rate:.1f} clips/s", None)
            table.add("admitted, client-side p50 / p99 / max ms (from the scheduled send time)",
                      f"{rc.fmt(s['p50_ms'])} / {rc.fmt(s['p99_ms'])} / {rc.fmt(s['max_ms'])}", "", None)
            details["overtaken"] = {"p99": rc.percentile(overtaken, 99), "max": worst, "limit": limit}
            details["server_side_ms"] = {"p50": rc.percentile(server_ms, 50), "p99": sp99, "n": len(server_ms)}
            peak_rss = max((x["rss_mib"] for x in samples), default=0)
            server.wait_idle()
            time.sleep(6)  # the client's keep-alive connections time out
            after = rc.wait_fds_settle(pid, before["fds"], 20)
            table.add("server RSS MiB before / peak / after", f"{before['rss_mib']:.0f} / {peak_rss:.0f} / {after['rss_mib']:.0f}",
                      f"peak ≤ before + {args.rss_growth_mib:.0f}", peak_rss <= before["rss_mib"] + args.rss_growth_mib)
            table.add("server fds before / peak / after", f"{before['fds']} / {max((x['fds'] for x in samples), default=0)} / {after['fds']}",
                      "after = before", after["fds"] <= before["fds"])
            details.update(before=before, after=after, peak_rss_mib=peak_rss)

            if not args.no_sigterm:
                client = rc.Client(server.port, body, rate=rate, max_connections=900, timeout=30, prefix="t").start()
                time.sleep(max(3.0, args.duration / 4))
                rc.sigterm_into(table, details, server, client)
        finally:
            if server.proc.poll() is None:
                server.stop()
    rc.finish(table, args, details)


if __name__ == "__main__":
    sys.exit(main())
