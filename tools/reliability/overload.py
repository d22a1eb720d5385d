#!/usr/bin/env python3
"""Overload at 4x capacity: the excess gets 503 + Retry-After, admitted requests' p99 is bounded, RSS is bounded.

    tools/reliability/overload.py .build-rel/release/signbert [--factor 4] [--duration 20] [--no-sigterm]

1. capacity: wrk -c 32 on /predict for --capacity-seconds (one clip per request), in this run, on this server;
2. an open-loop client (tools/reliability/rel_common.py: requests scheduled at factor x capacity per second, up
   to 900 connections, keep-alive, latency counted from each request's scheduled time) for --duration seconds;
   server fds/RSS sampled every 0.5 s;
3. pass: every answer is 200 or 503, every 503 has Retry-After, nothing else (no other 5xx, no reset, no
   timeout); admitted p99 <= the bound below; RSS peak <= RSS before + --rss-growth-mib; fds back to the
   baseline afterwards;
4. SIGTERM under the same overload: exit 0, nothing the server accepted is lost.

The bound on an admitted request's latency: the queue admits a request only while at most --max-queue clips
wait (default 256); ahead of it are then at most max_queue clips plus the batch being computed, and its own
batch must be computed too. At the rate R the server answers 200s during the overload (clips/s),
    bound = (max_queue + 2 x max_batch) / R,
times 1.25 plus 100 ms for the client's own scheduling on a shared 2-core machine.
"""
import argparse
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
    with rc.tempdir("rel-over-") as tmp:
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
            bound_s = (args.max_queue + 2 * args.max_batch) / ok_rate if ok_rate else float("inf")
            limit_ms = bound_s * 1e3 * 1.25 + 100
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
            table.add("admitted, server-side p50 / p99 / max ms",
                      f"{rc.fmt(rc.percentile(server_ms, 50))} / {rc.fmt(sp99)} / {rc.fmt(max(server_ms, default=None))}",
                      f"p99 ≤ {limit_ms:.0f} ms (= 1.25 x ({args.max_queue} + 2x{args.max_batch}) / {ok_rate:.1f} s + 100 ms)",
                      sp99 is not None and sp99 <= limit_ms)
            table.add("admitted, client-side p50 / p99 / max ms (from the scheduled send time)",
                      f"{rc.fmt(s['p50_ms'])} / {rc.fmt(s['p99_ms'])} / {rc.fmt(s['max_ms'])}", "", None)
            details["server_side_ms"] = {"p50": rc.percentile(server_ms, 50), "p99": sp99, "n": len(server_ms)}
            peak_rss = max((x["rss_mib"] for x in samples), default=0)
            server.wait_idle()
            time.sleep(6)  # the client's keep-alive connections time out
            after = rc.wait_fds_settle(pid, before["fds"], 20)
            table.add("server RSS MiB before / peak / after", f"{before['rss_mib']:.0f} / {peak_rss:.0f} / {after['rss_mib']:.0f}",
                      f"peak ≤ before + {args.rss_growth_mib:.0f}", peak_rss <= before["rss_mib"] + args.rss_growth_mib)
            table.add("server fds before / peak / after", f"{before['fds']} / {max((x['fds'] for x in samples), default=0)} / {after['fds']}",
                      "after = before", after["fds"] <= before["fds"])
            details.update(before=before, after=after, peak_rss_mib=peak_rss, bound_ms=limit_ms)

            if not args.no_sigterm:
                client = rc.Client(server.port, body, rate=rate, max_connections=900, timeout=30, prefix="t").start()
                time.sleep(max(3.0, args.duration / 4))
                st = rc.sigterm_phase(server, client)
                table.extend(rc.sigterm_rows(st))
                details["sigterm"] = st
        finally:
            if server.proc.poll() is None:
                server.stop()
    rc.finish(table, args, details)


if __name__ == "__main__":
    sys.exit(main())
