#!/usr/bin/env python3
"""Slowloris (slow headers) and R-U-Dead-Yet (slow body) with slowhttptest while normal clients keep predicting.

    tools/reliability/slowloris.py .build-rel/release/signbert [--duration 30] [--connections 1000]
                                   [--modes header,body,over-limit] [--no-sigterm]

Normal clients, all through each phase: 2 keep-alive workers (sequential /predict on one connection each,
opened before the attack) and 2 workers that open a new connection per request (Connection: close).
Phases, each `--duration` seconds, the server's fds/RSS sampled every 0.5 s:
  baseline    no attack: the normal clients' p50/p99 to compare with;
  header      slowhttptest -H: connections opened at connections/8 per second, each sending a header line
              every 3 s; the server's 10 s header timeout (408, close) ends each one, so about `--connections`
              are open at once;
  body        slowhttptest -B: `--connections` connections send headers, then a few body bytes every 5 s:
              each stays (the body timeout is per idle gap), so all of them are held;
  over-limit  slowhttptest -B with 1.5 x 1024 connections: past --max-connections (1024) new connections
              get 503 + Retry-After and are closed, past twice that they are closed at once;
  SIGTERM     the header attack again, SIGTERM after half the duration: exit 0, nothing accepted lost.
Pass: keep-alive clients get only 200s (p99 under --p99-limit-ms); new-connection clients get only 200s
below the connection limit and only 200 or 503-with-Retry-After above it; fds back to the baseline after each
phase; RSS bounded. Installs slowhttptest with apt-get when missing.
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import rel_common as rc

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_CONNECTIONS = 1024  # the server's default --max-connections


def ensure_slowhttptest():
    if shutil.which("slowhttptest"):
        return
    rc.log("installing slowhttptest (apt-get)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slowhttptest"],
                   check=True, env=env)


class SlowHTTPTest:
    def __init__(self, port, mode, connections, rate, duration, log_path):
        url = f"http://127.0.0.1:{port}/predict"
        self.cmd = ["slowhttptest", "-c", str(connections), "-r", str(rate), "-l", str(int(duration)), "-u", url,
                    "-p", "5"]
        if mode == "header":
            self.cmd += ["-H", "-i", "3", "-t", "POST"]
        else:
            self.cmd += ["-B", "-i", "5", "-s", "65536", "-x", "10", "-f", "application/json"]
        self.log_path = log_path
        self.proc = None

    def start(self):
        rc.log("  " + " ".join(self.cmd))
        self.out = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.out, stderr=subprocess.STDOUT)
        return self

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(10)
        self.out.close()
        text = ANSI.sub("", open(self.log_path, encoding="utf-8", errors="replace").read())
        connected = [int(x) for x in re.findall(r"connected:\s+(\d+)", text)]
        closed = [int(x) for x in re.findall(r"closed:\s+(\d+)", text)]
        errors = [int(x) for x in re.findall(r"error:\s+(\d+)", text)]
        avail = re.findall(r"service available:\s+(\S+)", text)
        return {"max_connected": max(connected, default=0), "closed": closed[-1] if closed else 0,
                "errors": errors[-1] if errors else 0, "service_unavailable_reports": avail.count("NO"),
                "rc": self.proc.returncode}


def normal_clients(port, body, tag):
    ka = rc.Client(port, body, workers=2, prefix=f"{tag}k").start()
    nc = rc.Client(port, body, workers=2, prefix=f"{tag}n", keep_alive=False).start()
    return ka, nc


def phase(server, args, tmp, body, name, mode, connections, rate, table, details, baseline_fds):
    ka, nc = normal_clients(server.port, body, name[:2])
    time.sleep(1)  # the keep-alive connections exist before the attack
    sampler = rc.Sampler(server.proc.pid, 0.5).start()
    t0 = time.monotonic()
    slow = None
    if mode:
        total = connections if mode == "body" else max(connections, int(rate * args.duration))
        slow = SlowHTTPTest(server.port, mode, total, rate, args.duration, os.path.join(tmp, f"slow-{name}.log")).start()
        st = slow.wait(args.duration + 30)
    else:
        time.sleep(args.duration)
        st = None
    t1 = time.monotonic()
    s_ka, s_nc = rc.summarize(ka.stop()), rc.summarize(nc.stop())
    # Measured only while the attack ran (slowhttptest's sockets close when it exits).
    s_ka_att = rc.summarize(ka.records, since=t0 + 2, until=t1)
    s_nc_att = rc.summarize(nc.records, since=t0 + 2, until=t1)
    settle = rc.wait_fds_settle(server.proc.pid, baseline_fds, 30)
    samples = sampler.stop()
    peak_fds, peak_rss = sampler.peak("fds"), sampler.peak("rss_mib")
    label = name
    table.add(f"{label}: slow connections held (server fds peak − baseline)",
              f"{(peak_fds or 0) - baseline_fds}" + (f" (slowhttptest: max connected {st['max_connected']}, "
                                                      f"closed {st['closed']}, errors {st['errors']})" if st else ""),
              "", None)
    p99_ok = s_ka_att["p99_ms"] is not None and s_ka_att["p99_ms"] <= args.p99_limit_ms
    table.add(f"{label}: keep-alive client 200s / requests, p50 / p99 ms",
              f"{s_ka_att['ok']} / {s_ka_att['requests']}, {rc.fmt(s_ka_att['p50_ms'])} / {rc.fmt(s_ka_att['p99_ms'])}",
              f"all 200, p99 ≤ {args.p99_limit_ms:.0f}", s_ka_att["ok"] == s_ka_att["requests"] > 0 and p99_ok)
    # At the limit (the normal clients hold a few of the 1024 too), new connections are turned away with 503.
    over = mode is not None and ((peak_fds or 0) - baseline_fds >= MAX_CONNECTIONS - 8 or connections > MAX_CONNECTIONS)
    nc_counts = s_nc_att["counts"]
    if over:
        only = set(nc_counts) <= {rc.Outcome.OK, rc.Outcome.UNAVAILABLE} and s_nc_att["503_without_retry_after"] == 0
        crit, ok = "only 200 or 503 + Retry-After", only and s_nc_att["requests"] > 0
    else:
        crit, ok = "all 200", s_nc_att["ok"] == s_nc_att["requests"] > 0
    table.add(f"{label}: new-connection client outcomes, p50 / p99 ms of 200s",
              f"{dict(sorted(nc_counts.items()))}, {rc.fmt(s_nc_att['p50_ms'])} / {rc.fmt(s_nc_att['p99_ms'])}",
              crit, ok)
    before = samples[0] if samples else None
    table.add(f"{label}: server fds before / peak / after; RSS MiB before / peak / after",
              f"{before['fds'] if before else '?'} / {peak_fds} / {settle['fds']}; "
              f"{before['rss_mib'] if before else 0:.0f} / {rc.fmt(peak_rss, 0)} / {settle['rss_mib']:.0f}",
              f"fds back to {baseline_fds}; RSS peak ≤ {args.rss_limit_mib} MiB",
              settle["fds"] <= baseline_fds and (peak_rss or 0) <= args.rss_limit_mib)
    details[name] = {"slowhttptest": st, "cmd": slow.cmd if slow else None, "keepalive": s_ka_att,
                     "newconn": s_nc_att, "keepalive_all": s_ka, "newconn_all": s_nc, "peak_fds": peak_fds,
                     "peak_rss_mib": peak_rss, "after": settle, "loadavg": rc.loadavg()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rc.add_server_arguments(p)
    p.add_argument("--duration", type=float, default=30, help="seconds per phase (default 30)")
    p.add_argument("--connections", type=int, default=1000, help="slow connections held at once (default 1000)")
    p.add_argument("--modes", default="header,body,over-limit", help="phases after the baseline")
    p.add_argument("--p99-limit-ms", type=float, default=1000.0,
                   help="keep-alive client's p99 bound during an attack (default 1000 ms)")
    p.add_argument("--rss-limit-mib", type=int, default=1024, help="server RSS bound (default 1024 MiB)")
    p.add_argument("--no-sigterm", action="store_true")
    args = p.parse_args()
    ensure_slowhttptest()
    table = rc.Table("Slowloris and slow body (slowhttptest) with normal clients")
    details = {"machine": rc.machine_line()}
    rc.log(details["machine"])
    modes = [m for m in args.modes.split(",") if m]
    with rc.tempdir("rel-slow-", args) as tmp:
        server = rc.start_server(args, tmp, "slowloris")
        try:
            body = rc.make_body(server)
            baseline_fds = rc.proc_sample(server.proc.pid)["fds"]
            table.add("machine", details["machine"], "", None)
            phase(server, args, tmp, body, "baseline", None, 0, 0, table, details, baseline_fds)
            rate = max(1, math.ceil(args.connections / 8))
            for m in modes:
                if m == "header":
                    phase(server, args, tmp, body, "header", "header", args.connections, rate, table, details,
                          baseline_fds)
                elif m == "body":
                    phase(server, args, tmp, body, "body", "body", args.connections, max(rate, 200), table,
                          details, baseline_fds)
                elif m == "over-limit":
                    phase(server, args, tmp, body, "over-limit", "body", int(MAX_CONNECTIONS * 1.5), 400, table,
                          details, baseline_fds)
                else:
                    raise SystemExit(f"unknown mode {m}")
            if not args.no_sigterm:
                ka = rc.Client(server.port, body, workers=4, prefix="t").start()
                slow = SlowHTTPTest(server.port, "header", int(rate * args.duration), rate, args.duration,
                                    os.path.join(tmp, "slow-sigterm.log")).start()
                time.sleep(max(3.0, args.duration / 2))
                rc.sigterm_into(table, details, server, ka)
                slow.wait(args.duration + 30)
        finally:
            if server.proc.poll() is None:
                server.stop()
    rc.finish(table, args, details)


if __name__ == "__main__":
    sys.exit(main())
