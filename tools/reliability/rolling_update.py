#!/usr/bin/env python3
"""A rolling update of two replicas behind nginx, under load: 0 failed requests.

    tools/reliability/rolling_update.py .build-rel/release/signbert [--clients 16] [--steady 4]
        [--next-upstream "error timeout http_502 http_503 non_idempotent"] [--json FILE] [--keep-dir DIR]

1. two `signbert serve` replicas (A, B) on loopback ports, each --threads 1 (one core each), the bundled model;
2. nginx (Debian's, started by this script with its own config in a temp dir: `nginx_conf` below is the
   configuration docs/RELIABILITY.md recommends) on a third port, in front of both;
3. --clients closed-loop keep-alive clients (rel_common.Client) POST /predict through nginx the whole time;
4. after --steady s: SIGTERM to A (it drains: /ready 503, listener closed, in-flight answered, exit 0) while B
   serves; A is started again on the same port, and the script waits until nginx sends it requests again
   (its access log); then the same for B; then --steady s more;
5. pass: every request the clients sent got a 200; both drains exit 0; each restarted replica served again.
   Also reported: requests nginx passed to a second replica (`$upstream_status` with two entries).

Standard library, plus nginx (Debian: nginx-light) on PATH. About 30 s.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

import rel_common as rc
from signbert_tools.paths import DEMO_MODEL
from signbert_tools.server import ServeProcess

NEXT_UPSTREAM = "error timeout http_502 http_503 non_idempotent"


def nginx_conf(tmp, listen_port, replica_ports, next_upstream):
    """The nginx configuration under test: what a user puts in front of several replicas."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in replica_ports)
    return f"""# written by tools/reliability/rolling_update.py
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$status $upstream_addr "$upstream_status" $request_time $msec "$upstream_connect_time"';
    access_log {tmp}/nginx-access.log upstream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    # A clip's JSON is tens of KB: keep bodies in memory (a retry re-sends the buffered body).
    client_body_buffer_size 1m;
    client_max_body_size 32m;

    upstream signbert {{
        # Passive health checks (nginx OSS has no active ones): a replica that refuses connections or answers
        # 502/503 (draining, not yet ready) is left out for fail_timeout, then tried again.
{servers}
        # Connections to the replicas kept open, closed by nginx before the server's own 5 s idle timeout.
        keepalive 32;
        keepalive_timeout 4s;
    }}

    server {{
        listen 127.0.0.1:{listen_port};
        location / {{
            proxy_pass http://signbert;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 1s;
            proxy_read_timeout 60s;
            # Another replica gets the request when this one refuses the connection, times out, closes a kept-alive
            # connection unread (a drain closes idle ones) or answers 502/503. POST /predict has no side effects,
            # so it may be sent twice: non_idempotent allows that for POST; at most one retry, within 10 s.
            proxy_next_upstream {next_upstream};
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 10s;
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_status(port, path, timeout=2):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


class Replica:
    def __init__(self, args, tmp, name, port):
        self.args, self.tmp, self.name, self.port = args, tmp, name, port
        self.generation = 0
        self.server = None

    def start(self):
        self.generation += 1
        self.server = ServeProcess(self.args.binary, ["--model", self.args.model, "--threads", 1],
                                   log_path=os.path.join(self.tmp, f"replica-{self.name}-{self.generation}.log"),
                                   port=self.port, log_stdout=False)
        started = time.monotonic()
        self.server.start(timeout=60)
        return time.monotonic() - started

    def served(self):
        """/predict requests this generation has answered (its access log)."""
        return sum(1 for e in self.server.log_entries() if e.get("message") == "request" and e.get("path") == "/predict")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", help="the signbert binary (a release build: swift build -c release)")
    p.add_argument("--model", default=str(DEMO_MODEL), help="model directory (default: the bundled demo model)")
    p.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients (default 16)")
    p.add_argument("--steady", type=float, default=4, help="seconds of load before the first and after the last step")
    p.add_argument("--rejoin-requests", type=int, default=20,
                   help="requests a restarted replica must serve through nginx before the next step (default 20)")
    p.add_argument("--next-upstream", default=NEXT_UPSTREAM, help=f"proxy_next_upstream (default: {NEXT_UPSTREAM})")
    p.add_argument("--json", help="also write the results as JSON to this file")
    p.add_argument("--keep-dir", help="keep the logs and nginx's config in this directory (default: a temp dir)")
    args = p.parse_args()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        sys.exit("nginx is not installed (Debian: apt-get install nginx-light)")

    table = rc.Table(f"Rolling update of two replicas behind nginx, {args.clients} keep-alive clients")
    details = {"machine": rc.machine_line(), "next_upstream": args.next_upstream}
    table.add("machine", details["machine"], "", None)
    began = time.monotonic()
    with rc.tempdir("rel-rolling-", args) as tmp:
        os.chmod(tmp, 0o755)  # nginx's worker (user nobody when run as root) reads and writes below it
        for sub in ("body", "proxy"):
            os.makedirs(os.path.join(tmp, sub), exist_ok=True)
            os.chmod(os.path.join(tmp, sub), 0o777)
        replicas = [Replica(args, tmp, name, free_port()) for name in ("A", "B")]
        proxy = client = None
        try:
            for replica in replicas:
                replica.start()
            listen = free_port()
            conf = os.path.join(tmp, "nginx.conf")
            with open(conf, "w") as f:
                f.write(nginx_conf(tmp, listen, [r.port for r in replicas], args.next_upstream))
            proxy = subprocess.Popen([nginx, "-e", os.path.join(tmp, "nginx-error.log"), "-p", tmp, "-c", conf],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while get_status(listen, "/ready") != 200:
                if proxy.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"nginx did not come up: {open(os.path.join(tmp, 'nginx-error.log')).read()}")
                time.sleep(0.05)
            rc.log(f"nginx on 127.0.0.1:{listen} in front of A :{replicas[0].port} and B :{replicas[1].port}")

            body = rc.make_body(replicas[0].server)
            client = rc.Client(listen, body, workers=args.clients, timeout=20, prefix="r").start()
            time.sleep(args.steady)
            steps = []
            for replica, other in (replicas, replicas[::-1]):
                before_other = other.served()
                t_term = time.monotonic()
                rc.log(f"SIGTERM to {replica.name} (:{replica.port}); {other.name} serves")
                code, drain_s, killed = replica.server.terminate(timeout=60)
                drained = any(e.get("message") == "drained" for e in replica.server.log_entries())
                start_s = replica.start()
                t_ready = time.monotonic()
                deadline = t_ready + 30
                while replica.served() < args.rejoin_requests and time.monotonic() < deadline:
                    time.sleep(0.05)
                rejoin_s = time.monotonic() - t_ready
                step = {"replica": replica.name, "exit_code": code, "killed": killed, "drain_s": round(drain_s, 3),
                        "drained_logged": drained, "restart_to_ready_s": round(start_s, 3),
                        "ready_to_serving_s": round(rejoin_s, 3), "served_after_restart": replica.served(),
                        "other_served_meanwhile": other.served() - before_other,
                        "step_s": round(time.monotonic() - t_term, 3)}
                rc.log(f"{replica.name}: {step}")
                steps.append(step)
            time.sleep(args.steady)
            records = client.stop(grace=30)
            client = None
        finally:
            if client is not None:
                client.stop(grace=5)
            if proxy is not None and proxy.poll() is None:
                proxy.send_signal(3)  # SIGQUIT: nginx's graceful shutdown
                try:
                    proxy.wait(10)
                except subprocess.TimeoutExpired:
                    proxy.kill()
            for replica in replicas:
                if replica.server is not None and replica.server.proc is not None and replica.server.proc.poll() is None:
                    replica.server.terminate(timeout=30)

        summary = rc.summarize(records)
        # A request still without an answer when the clients stopped (30 s after the last step) failed too.
        unanswered = sum(1 for r in records if r.outcome is None)
        failed = summary["requests"] - summary["ok"] + unanswered
        retried, upstream_errors = 0, {}
        with open(os.path.join(tmp, "nginx-access.log")) as f:
            for line in f:
                statuses = line.split('"')[1] if '"' in line else ""
                if "," in statuses or ":" in statuses:
                    retried += 1
                    first = statuses.replace(":", ",").split(",")[0].strip()
                    upstream_errors[first] = upstream_errors.get(first, 0) + 1
        details.update(steps=steps, summary=summary, unanswered=unanswered, nginx_retried=retried, nginx_first_attempt=upstream_errors,
                       seconds=round(time.monotonic() - began, 1))
        table.add("nginx", f"proxy_next_upstream {args.next_upstream}; max_fails=1 fail_timeout=2s; keepalive 32", "", None)
        table.add("requests sent through nginx / 200", f"{summary['requests'] + unanswered} / {summary['ok']}", "all 200", None)
        table.add("failed requests (anything but a 200, or no answer)",
                  f"{failed}" + (f" {summary['counts']}, {unanswered} unanswered" if failed else ""), "0", failed == 0)
        table.add("p50 / p99 / max latency of the 200s",
                  f"{rc.fmt(summary['p50_ms'])} / {rc.fmt(summary['p99_ms'])} / {rc.fmt(summary['max_ms'])} ms", "", None)
        table.add("requests nginx passed to the other replica (first attempt's status)",
                  f"{retried} {upstream_errors}" if retried else "0", "", None)
        for step in steps:
            name = step["replica"]
            table.add(f"{name}: SIGTERM → exit code, drain time",
                      f"{step['exit_code']}{' (killed)' if step['killed'] else ''}, {step['drain_s']:.2f} s"
                      + ("" if step["drained_logged"] else ", no \"drained\" line"), "0, drained",
                      step["exit_code"] == 0 and step["drained_logged"])
            table.add(f"{name}: restart → /ready 200 → {args.rejoin_requests} requests via nginx",
                      f"{step['restart_to_ready_s']:.2f} s → {step['ready_to_serving_s']:.2f} s "
                      f"({step['served_after_restart']} served); the other served {step['other_served_meanwhile']} meanwhile",
                      f">= {args.rejoin_requests} served", step["served_after_restart"] >= args.rejoin_requests)
        table.add("run time", f"{details['seconds']} s", "", None)
        rc.finish(table, args, details)


if __name__ == "__main__":
    main()
