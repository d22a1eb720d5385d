#!/usr/bin/env python3
"""End-to-end HTTP load benchmark for `signbert serve`, against the same binary's in-process `signbert bench`.

    tools/load_bench.py --binary .build/release/signbert [--model DIR | --checkpoint F]
                        [--concurrency 1,8,32] [--duration 10] [--threads 2] [--json OUT]

What it does, in one run:
  1. `signbert bench --batches 1,32 --threads T --json` (the in-process baseline, same model, same binary);
  2. `signbert serve --host 127.0.0.1 --port 0 --threads T` (+ the model), waits for GET /ready;
  3. for each concurrency c: `wrk -t min(c,2) -c c -d D --latency -s post.lua` posting one single-clip
     JSON body (a random clip from a fixed seed, 4-decimal numbers); at c=1 also a Python http.client
     keep-alive loop (one connection, sequential requests, per-request times);
  4. /metrics before and after each level: mean batch size (signbert_batch_size sum/count), server compute
     time per batch, queue wait, server-side request duration; plus the access log's per-request duration_ms;
  5. a Markdown table and PASS/MISS for the two targets:
       c=32: end-to-end clips/s >= 85% of in-process batch-32 clips/s
       c=1 : end-to-end p50 <= in-process batch-1 median + 1.5 ms
  6. at c=1 the same measurement again on a second server with --max-queue-delay-ms 0 (skip with
     --no-zero-delay), since a lone request otherwise waits up to the queue delay for company;
  7. SIGTERM to every server it started, and a check that each exits 0.

Without --model/--checkpoint a random-weight model at the default architecture is written to a temp dir
with tools/signbert_reference.py (needs torch + safetensors: this interpreter or /work/venv/bin/python).
Standard library only, plus the `wrk` binary. The load generator runs on the same machine as the server,
so on a small machine it competes for the same cores: the per-level CPU columns in the JSON show how much.
"""
import argparse
import http.client
import json
import math
import os
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from signbert_tools import wrk
from signbert_tools.server import ServeProcess, ServerError

HERE = os.path.dirname(os.path.abspath(__file__))
C32_TARGET_RATIO = 0.85
C1_TARGET_MS = 1.5


def log(msg):
    print(f"[load_bench] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- machine

def machine_info():
    model = None
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.SubprocessError):
        pass
    if model is None:
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        model = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        nproc = os.cpu_count() or 1
    return {"cpu_model": model or "unknown", "nproc": nproc, "cpu_count": os.cpu_count(),
            "kernel": os.uname().release}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            parts = f.read().split()
        return [float(parts[0]), float(parts[1]), float(parts[2])]
    except (OSError, ValueError, IndexError):
        return None


def proc_cpu_seconds(pid):
    """utime + stime of a process (and its threads) in seconds, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
        fields = text[text.rindex(")") + 2:].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        return None


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# ----------------------------------------------------------------------------- model

def make_random_model(tmpdir, seed):
    """Writes SignBERT(num_classes=100) with random weights as safetensors; returns the path or None."""
    path = os.path.join(tmpdir, "signbert-random-default.safetensors")
    code = (
        "import sys, torch, safetensors.torch\n"
        f"sys.path.insert(0, {HERE!r})\n"
        "from signbert_reference import SignBERT\n"
        f"torch.manual_seed({int(seed)})\n"
        "m = SignBERT(num_classes=100).eval()\n"
        "sd = {k: v.detach().contiguous() for k, v in m.state_dict().items()}\n"
        f"safetensors.torch.save_file(sd, {path!r})\n"
    )
    candidates = [sys.executable]
    # Not compared by realpath: a venv's python is a symlink to the base interpreter, yet sees other packages.
    venv = os.environ.get("SIGNBERT_TORCH_PYTHON", "/work/venv/bin/python")
    if os.path.exists(venv) and os.path.abspath(venv) != os.path.abspath(sys.executable):
        candidates.append(venv)
    for python in candidates:
        try:
            r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as e:
            log(f"{python}: {e}")
            continue
        if r.returncode == 0 and os.path.exists(path):
            log(f"wrote a random-weight default-architecture model with {python}: {path}")
            return path
        log(f"{python} could not write the model: {r.stderr.strip().splitlines()[-1:] or r.returncode}")
    return None


def model_args(args):
    if args.model:
        return ["--model", args.model]
    return ["--checkpoint", args.checkpoint]


# ----------------------------------------------------------------------------- in-process baseline

def run_inprocess_bench(args, when):
    cmd = [args.binary, "bench", "--batches", "1,32", "--threads", str(args.threads),
           "--seconds", str(args.bench_seconds), "--json"] + model_args(args)
    log(f"in-process baseline ({when}): " + shlex.join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise SystemExit(f"signbert bench failed ({r.returncode}): {r.stderr.strip()}")
    text = r.stdout.strip()
    start = text.find("{")
    data = json.loads(text[start:])
    data["command"] = cmd
    data["when"] = when
    data["loadavg"] = loadavg()
    return data


# ----------------------------------------------------------------------------- server

class Server(ServeProcess):
    """`signbert serve` with the benchmark's settings (signbert_tools.server.ServeProcess), its log in `tmpdir`."""

    def __init__(self, args, tmpdir, name, extra=()):
        command = ["--threads", str(args.threads), "--log-level", "info"] + model_args(args)
        if args.max_batch_size is not None:
            command += ["--max-batch-size", str(args.max_batch_size)]
        super().__init__(args.binary, command + list(extra), log_path=os.path.join(tmpdir, f"server-{name}.log"),
                         log_stdout=False)
        self.args = args
        self.name = name

    def start(self, timeout=300):
        log(f"starting server ({self.name}): " + shlex.join(self.cmd))
        t0 = time.monotonic()
        try:
            super().start(timeout)
        except ServerError as error:
            raise SystemExit(str(error)) from None
        log(f"server ({self.name}) ready on 127.0.0.1:{self.port} after {time.monotonic() - t0:.2f}s")

    def metrics(self):
        status, _, body = self.get("/metrics")
        if status != 200:
            raise SystemExit(f"/metrics answered {status}")
        return parse_prometheus(body.decode("utf-8", "replace"))

    def wait_idle(self, timeout=120):
        """Until nothing is queued or in flight (wrk leaves requests behind when it stops); seconds waited."""
        t0 = time.monotonic()
        while True:
            snap = self.metrics()
            busy = (metric(snap, "signbert_requests_in_flight") or 0) + (metric(snap, "signbert_queue_clips") or 0)
            if busy <= 0:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                log(f"server ({self.name}) still busy after {timeout}s; going on")
                return time.monotonic() - t0
            time.sleep(0.05)

    def cpu_seconds(self):
        return proc_cpu_seconds(self.proc.pid)

    def stop(self, timeout=60):
        if self.proc is None or self.proc.poll() is not None:
            return {"sent_sigterm": False, "exit_code": None if self.proc is None else self.proc.returncode,
                    "ok": False, "seconds": 0.0}
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"server ({self.name}) still running {timeout}s after SIGTERM; killing it")
            self.proc.kill()
            rc = self.proc.wait()
        self.log_file.close()
        took = time.monotonic() - t0
        ok = rc == 0
        log(f"server ({self.name}) exited with {rc} {took:.2f}s after SIGTERM" + ("" if ok else "  <-- expected 0"))
        return {"sent_sigterm": True, "exit_code": rc, "ok": ok, "seconds": round(took, 3)}


def parse_prometheus(text):
    """{(name, frozenset(labels)): value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)', line)
        if not m:
            continue
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        try:
            out[(m.group(1), labels)] = float(m.group(3))
        except ValueError:
            pass
    return out


def metric(snapshot, name, **labels):
    want = frozenset(labels.items())
    total, found = 0.0, False
    for (n, ls), v in snapshot.items():
        if n == name and want <= ls:
            total += v
            found = True
    return total if found else None


def metrics_delta(before, after, wall_seconds):
    def d(name, **labels):
        a, b = metric(after, name, **labels), metric(before, name, **labels)
        if a is None:
            return None
        return a - (b or 0.0)

    out = {}
    bs_sum, bs_count = d("signbert_batch_size_sum"), d("signbert_batch_size_count")
    out["batches"] = bs_count
    out["clips"] = d("signbert_clips_total")
    out["mean_batch_size"] = (bs_sum / bs_count) if bs_count else None
    # The batch-size histogram's bucket deltas (cumulative, le -> count).
    buckets = {}
    for (n, ls), v in after.items():
        if n == "signbert_batch_size_bucket":
            le = dict(ls).get("le")
            buckets[le] = v - (before.get((n, ls)) or 0.0)
    if buckets:
        def key(le):
            return math.inf if le in ("+Inf", "inf") else float(le)
        out["batch_size_histogram"] = {le: int(buckets[le]) for le in sorted(buckets, key=key)}
    c_sum, c_count = d("signbert_compute_seconds_sum"), d("signbert_compute_seconds_count")
    if c_count:
        out["compute_ms_per_batch"] = c_sum / c_count * 1e3
        out["compute_busy_fraction"] = c_sum / wall_seconds if wall_seconds else None
    q_sum, q_count = d("signbert_queue_wait_seconds_sum"), d("signbert_queue_wait_seconds_count")
    if q_count:
        out["queue_wait_ms_mean"] = q_sum / q_count * 1e3
    r_sum = d("signbert_request_duration_seconds_sum", route="/predict")
    r_count = d("signbert_request_duration_seconds_count", route="/predict")
    if r_count:
        out["server_request_ms_mean"] = r_sum / r_count * 1e3
    statuses = {}
    for (n, ls), v in after.items():
        if n == "signbert_requests_total" and dict(ls).get("route") == "/predict":
            delta = v - (before.get((n, ls)) or 0.0)
            if delta:
                statuses[dict(ls).get("status", "?")] = int(delta)
    out["server_status_counts"] = statuses
    return out


def access_log_stats(lines):
    durations, batch_sizes, statuses, incomplete, per_remote = [], [], {}, 0, {}
    for line in lines:
        if '"request"' not in line or '"/predict"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") != "request" or entry.get("path") != "/predict":
            continue
        st = str(entry.get("status"))
        statuses[st] = statuses.get(st, 0) + 1
        if entry.get("completed") is False:
            incomplete += 1
        remote = entry.get("remote")
        if remote and st == "200":
            per_remote[remote] = per_remote.get(remote, 0) + 1
        if isinstance(entry.get("duration_ms"), (int, float)):
            durations.append(float(entry["duration_ms"]))
        if isinstance(entry.get("batch_size"), int):
            batch_sizes.append(entry["batch_size"])
    out = {"requests": len(durations), "statuses": statuses, "incomplete": incomplete}
    if durations:
        out.update({"duration_ms_p50": percentile(durations, 50), "duration_ms_p99": percentile(durations, 99),
                    "duration_ms_mean": statistics.fmean(durations)})
    if batch_sizes:
        out["mean_batch_size_per_request"] = statistics.fmean(batch_sizes)
    if per_remote:
        # Fairness: answered requests per client connection (the remote address:port).
        counts = sorted(per_remote.values())
        out["connections"] = len(counts)
        out["per_connection_min"] = counts[0]
        out["per_connection_max"] = counts[-1]
        out["per_connection_mean"] = statistics.fmean(counts)
    return out


def other_log_lines(lines):
    """Warnings and errors the server logged (not access-log lines)."""
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        if entry.get("level") in ("warning", "error", "critical"):
            out.append(line)
    return out


# ----------------------------------------------------------------------------- request body

def make_body(frames, joints, coords, seed, top_k):
    rng = random.Random(seed)
    clip = [[[round(rng.uniform(-1.0, 1.0), 4) for _ in range(coords)] for _ in range(joints)] for _ in range(frames)]
    text = json.dumps({"inputs": [clip], "top_k": top_k}, separators=(",", ":"))
    # 4 decimals exactly as written ("0.5" stays "0.5": json.dumps prints the shortest form).
    return text.encode("utf-8")


# wrk's POST script for a JSON body (protocol_bench.py swaps its Content-Type line for its own headers).
LUA_TEMPLATE = wrk.POST_SCRIPT.replace("%(content_type)s", "application/json")
parse_wrk = wrk.parse


def run_wrk(url, lua_path, concurrency, duration, timeout_s):
    try:
        return wrk.run(url, lua_path, concurrency, duration, timeout_s, log=log)
    except wrk.WrkError as error:
        raise SystemExit(str(error)) from None


# ----------------------------------------------------------------------------- python keep-alive loop

def percentile(values, pct):
    s = sorted(values)
    if not s:
        return None
    k = (len(s) - 1) * pct / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def run_python_loop(port, body, duration, max_requests, warmup=10):
    """One keep-alive connection, sequential POSTs; per-request wall times (send to last body byte)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "keep-alive"}

    def once():
        t0 = time.perf_counter()
        conn.request("POST", "/predict", body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        t1 = time.perf_counter()
        return (t1 - t0) * 1e3, r.status, r.getheader("X-Batch-Size"), len(data)

    for _ in range(warmup):
        once()
    times, statuses, batch_sizes, response_bytes = [], {}, [], 0
    cpu0 = time.process_time()
    start = time.perf_counter()
    while True:
        ms, status, bs, n = once()
        times.append(ms)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        response_bytes = n
        if bs is not None:
            batch_sizes.append(int(bs))
        elapsed = time.perf_counter() - start
        if (max_requests and len(times) >= max_requests) or (not max_requests and elapsed >= duration):
            break
    cpu = time.process_time() - cpu0
    conn.close()
    ok = statuses.get("200", 0)
    return {"requests": len(times), "seconds": elapsed, "ok_requests_per_s": ok / elapsed,
            "p50_ms": percentile(times, 50), "p90_ms": percentile(times, 90), "p99_ms": percentile(times, 99),
            "min_ms": min(times), "mean_ms": statistics.fmean(times), "max_ms": max(times),
            "statuses": statuses, "non_2xx": sum(v for k, v in statuses.items() if not k.startswith("2")),
            "mean_batch_size_header": statistics.fmean(batch_sizes) if batch_sizes else None,
            "response_bytes": response_bytes, "client_cpu_seconds": cpu}


# ----------------------------------------------------------------------------- one load level

def measure_level(server, kind, concurrency, args, lua_path, body, url):
    """kind: 'wrk' or 'python'. Metrics, access log and CPU around one measured run."""
    server.wait_idle()
    la = loadavg()
    before = server.metrics()
    log_start = server.log_size()
    srv_cpu0, kids0 = server.cpu_seconds(), children_cpu_seconds()
    t0 = time.monotonic()
    if kind == "wrk":
        result = run_wrk(url, lua_path, concurrency, args.duration, args.wrk_timeout)
    else:
        log(f"  python http.client keep-alive loop, 1 connection, "
            f"{str(args.c1_requests) + ' requests' if args.c1_requests else str(args.duration) + ' s'}")
        result = run_python_loop(server.port, body, args.duration, args.c1_requests)
    wall = time.monotonic() - t0
    srv_cpu1, kids1 = server.cpu_seconds(), children_cpu_seconds()
    # Requests wrk left behind finish on the server after it stops: count them with this level.
    result["drain_after_s"] = server.wait_idle()
    after = server.metrics()
    wall += result["drain_after_s"]  # the drained requests' compute is in the deltas too
    lines = server.lines(log_start)
    result["client"] = kind
    result["concurrency"] = concurrency
    result["loadavg_before"] = la
    result["loadavg_after"] = loadavg()
    result["server_metrics"] = metrics_delta(before, after, wall)
    result["access_log"] = access_log_stats(lines)
    result["server_warnings"] = other_log_lines(lines)[:20]
    if srv_cpu0 is not None and srv_cpu1 is not None:
        result["server_cpu_cores"] = (srv_cpu1 - srv_cpu0) / wall
    if kind == "wrk":
        result["wrk_cpu_cores"] = (kids1 - kids0) / wall
    else:
        result["client_cpu_cores"] = result["client_cpu_seconds"] / wall
    return result


def describe_level(r):
    m = r["server_metrics"]
    parts = [f"{r.get('ok_requests_per_s', 0):.1f} req/s", f"p50 {fmt(r.get('p50_ms'))} ms",
             f"p99 {fmt(r.get('p99_ms'))} ms", f"mean batch {fmt(m.get('mean_batch_size'), 2)}"]
    if m.get("compute_ms_per_batch") is not None:
        parts.append(f"compute {m['compute_ms_per_batch']:.2f} ms/batch ({100 * (m.get('compute_busy_fraction') or 0):.0f}% busy)")
    if m.get("queue_wait_ms_mean") is not None:
        parts.append(f"queue wait {m['queue_wait_ms_mean']:.2f} ms")
    if r["access_log"].get("duration_ms_p50") is not None:
        parts.append(f"server-side p50 {r['access_log']['duration_ms_p50']:.2f} ms")
    if m.get("batch_size_histogram"):
        h, prev, cells = m["batch_size_histogram"], 0, []
        for le, cum in h.items():
            if cum - prev:
                cells.append(f"<={le.replace('.0', '')}:{cum - prev}")
            prev = cum
        parts.append("batches " + " ".join(cells))
    al = r["access_log"]
    if al.get("connections", 0) > 1:
        parts.append(f"per-connection answers min/mean/max {al['per_connection_min']}/{al['per_connection_mean']:.1f}/"
                     f"{al['per_connection_max']} over {al['connections']} connections")
    if r["access_log"].get("incomplete"):
        parts.append(f"{r['access_log']['incomplete']} responses to clients gone")
    if r.get("server_cpu_cores") is not None:
        parts.append(f"server CPU {r['server_cpu_cores']:.2f} cores")
    if r.get("wrk_cpu_cores") is not None:
        parts.append(f"wrk CPU {r['wrk_cpu_cores']:.2f} cores")
    if r.get("client_cpu_cores") is not None:
        parts.append(f"client CPU {r['client_cpu_cores']:.2f} cores")
    return ", ".join(parts)


def fmt(x, digits=2):
    if x is None:
        return "–"
    return f"{x:.{digits}f}"


# ----------------------------------------------------------------------------- report

def errors_text(r):
    se = r.get("socket_errors") or {}
    parts = []
    if r.get("non_2xx"):
        parts.append(f"{r['non_2xx']} non-2xx")
    bad = {k: v for k, v in se.items() if v}
    if bad:
        parts.append("socket " + ",".join(f"{k} {v}" for k, v in bad.items()))
    return "; ".join(parts) if parts else "0"


def build_report(res):
    lines = []
    mi = res["machine"]
    lines.append(f"Machine: {mi['cpu_model']}, nproc {mi['nproc']}, kernel {mi['kernel']}")
    la = res["loadavg_before"]
    lines.append(f"Load average before the run: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} (1/5/15 min)"
                 + (f"  WARNING: > 0.5 per core ({la[0] / mi['nproc']:.2f}/core): noisy machine, numbers are pessimistic"
                    if res["noisy"] else ""))
    lines.append(f"Command: {res['command_line']}")
    lines.append(f"Server: {shlex.join(res['server_command'])}")
    b = res["inprocess"]
    lines.append(f"Request body: {res['body_bytes']} bytes of JSON (1 clip, {res['clip_shape']}, 4 decimals, seed {res['seed']});"
                 f" response ~{res.get('response_bytes') or '?'} bytes")
    b1, b32 = res["baseline_b1"], res["baseline_b32"]
    for run in res["inprocess_runs"]:
        rb = {x["batch"]: x for x in run["results"]}
        lines.append(f"In-process {run['when']} the load (signbert bench, {run.get('threads')} threads, OpenBLAS "
                     f"{run.get('blas_core', '?')}, load {run['loadavg'][0]:.2f}): batch 1 median {rb[1]['median_ms']:.3f} ms "
                     f"({rb[1]['clips_per_s']:.1f} clips/s); batch 32 median {rb[32]['median_ms']:.3f} ms "
                     f"({rb[32]['clips_per_s']:.1f} clips/s)")
    lines.append(f"Baseline used (the faster run per batch size): batch 1 {b1['median_ms']:.3f} ms, batch 32 "
                 f"{b32['clips_per_s']:.1f} clips/s")
    lines.append("")
    lines.append(f"| concurrency | client | requests/s (= clips/s) | p50 ms | p99 ms | mean batch size | "
                 f"e2e ÷ in-process b32 clips/s | e2e p50 − in-process b1 median (ms) | errors |")
    lines.append("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in res["levels"]:
        c = r["concurrency"]
        ratio = r["ok_requests_per_s"] / b32["clips_per_s"]
        delta = r["p50_ms"] - b1["median_ms"]
        ratio_s = f"{ratio:.2f}" if c == 32 or c == max(res["concurrency"]) else f"({ratio:.2f})"
        delta_s = f"{delta:+.2f}" if c == 1 else "–"
        label = r["client"] if r["client"] != "python" else "http.client"
        if r.get("variant"):
            label += f", {r['variant']}"
        lines.append(f"| {c} | {label} | {r['ok_requests_per_s']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{fmt(r['server_metrics'].get('mean_batch_size'), 2)} | {ratio_s} | {delta_s} | {errors_text(r)} |")
    lines.append("")
    lines.append("Targets:")
    for t in res["targets"]:
        lines.append(f"  {t['verdict']}  {t['text']}")
    if res.get("insitu"):
        lines.append("In-situ (the server's own compute time in the same window; robust to a busy machine):")
        for t in res["insitu"]:
            lines.append(f"  {t}")
    lines.append("")
    lines.append("Per level (server side from /metrics deltas and the access log):")
    for r in res["levels"]:
        label = f"c={r['concurrency']} {r['client']}" + (f" [{r['variant']}]" if r.get("variant") else "")
        la_b, la_a = r.get("loadavg_before"), r.get("loadavg_after")
        lines.append(f"  {label}: {describe_level(r)}; load {la_b[0]:.2f}->{la_a[0]:.2f}" if la_b and la_a else
                     f"  {label}: {describe_level(r)}")
        if r.get("server_warnings"):
            lines.append(f"    server warnings/errors: {len(r['server_warnings'])} (first: {r['server_warnings'][0][:200]})")
    if res.get("c1_breakdown"):
        lines.append("")
        lines.append("c=1 breakdown (means, ms): " + ", ".join(f"{k} {v:.2f}" for k, v in res["c1_breakdown"].items()))
    lines.append("")
    lines.append("Shutdown: " + "; ".join(f"{s['server']}: SIGTERM -> exit {s['exit_code']} in {s['seconds']}s"
                                          + ("" if s["ok"] else " (NOT 0)") for s in res["shutdown"]))
    lines.append(f"Load average after the run: {' '.join(f'{x:.2f}' for x in res['loadavg_after'])}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, help="the signbert executable (a release build)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--model", help="a model directory (e.g. models/demo-gestures)")
    g.add_argument("--checkpoint", help="a checkpoint file")
    p.add_argument("--concurrency", default="1,8,32", help="comma-separated connection counts (default 1,8,32)")
    p.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--threads", type=int, default=2, help="OpenBLAS threads for bench and serve (default 2)")
    p.add_argument("--bench-seconds", type=float, default=3, help="seconds per batch size in signbert bench (default 3)")
    p.add_argument("--max-batch-size", type=int, help="passed to serve (server default 32)")
    p.add_argument("--max-queue-delay-ms", type=float, help="passed to serve (server default 2)")
    p.add_argument("--no-bench-after", action="store_true",
                   help="run signbert bench only before the load, not also after it (the faster run is the baseline)")
    p.add_argument("--no-zero-delay", action="store_true",
                   help="skip the extra c=1 run on a server with --max-queue-delay-ms 0")
    p.add_argument("--c1-requests", type=int, default=0,
                   help="requests in the c=1 http.client loop (default 0: run for --duration seconds)")
    p.add_argument("--warmup", type=float, default=2, help="seconds of unmeasured wrk load before the levels (default 2)")
    p.add_argument("--wrk-timeout", type=float, default=10, help="wrk --timeout in seconds (default 10)")
    p.add_argument("--seed", type=int, default=1234, help="seed of the random clip and random model (default 1234)")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", dest="json_out", metavar="OUT", help="write every number as JSON here")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (body, Lua script, server logs)")
    args = p.parse_args()

    concurrency = [int(x) for x in args.concurrency.split(",") if x.strip()]
    if not concurrency or any(c < 1 for c in concurrency):
        p.error("--concurrency takes positive integers, e.g. 1,8,32")
    if not os.access(args.binary, os.X_OK):
        p.error(f"--binary {args.binary} is not an executable")
    args.binary = os.path.abspath(args.binary)
    if shutil.which("wrk") is None:
        p.error("wrk is not installed (apt-get install wrk)")

    command_line = shlex.join([sys.executable] + sys.argv)
    mi = machine_info()
    la0 = loadavg() or [0.0, 0.0, 0.0]
    noisy = la0[0] / mi["nproc"] > 0.5
    log(f"machine: {mi['cpu_model']}, nproc {mi['nproc']}; load average {la0}")
    if noisy:
        log(f"WARNING: load average {la0[0]:.2f} is above 0.5 per core: the machine is busy, results will be noisy")

    tmpdir = tempfile.mkdtemp(prefix="signbert-load-")
    servers = []
    shutdown = []
    try:
        if not args.model and not args.checkpoint:
            path = make_random_model(tmpdir, args.seed)
            if path is None:
                p.error("no --model/--checkpoint given and torch+safetensors are not importable to make a random model")
            args.checkpoint = path
            model_desc = f"random weights, default architecture ({path})"
        else:
            model_desc = args.model or args.checkpoint
            if args.model:
                args.model = os.path.abspath(args.model)
            else:
                args.checkpoint = os.path.abspath(args.checkpoint)

        benches = [run_inprocess_bench(args, "before")]
        by_batch = {r["batch"]: r for r in benches[0]["results"]}
        log(f"in-process: batch 1 {by_batch[1]['median_ms']:.3f} ms, batch 32 {by_batch[32]['median_ms']:.3f} ms "
            f"({by_batch[32]['clips_per_s']:.1f} clips/s)")

        extra = []
        if args.max_queue_delay_ms is not None:
            extra = ["--max-queue-delay-ms", str(args.max_queue_delay_ms)]
        main_server = Server(args, tmpdir, "main", extra)
        servers.append(main_server)
        main_server.start()
        status, _, desc = main_server.get("/")
        arch = json.loads(desc).get("architecture", {}) if status == 200 else {}
        frames, joints, coords = arch.get("num_frames", 64), arch.get("num_joints", 27), arch.get("num_coords", 3)
        body = make_body(frames, joints, coords, args.seed, args.top_k)
        body_path = os.path.join(tmpdir, "body.json")
        with open(body_path, "wb") as f:
            f.write(body)
        lua_path = os.path.join(tmpdir, "post.lua")
        with open(lua_path, "w") as f:
            f.write(LUA_TEMPLATE % {"body_path": body_path.replace("\\", "\\\\").replace('"', '\\"')})
        log(f"request body: {len(body)} bytes ({frames}x{joints}x{coords} clip)")

        # One request by hand: fails fast on a bad body and tells the response size.
        conn = http.client.HTTPConnection("127.0.0.1", main_server.port, timeout=60)
        conn.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        first = r.read()
        conn.close()
        if r.status != 200:
            raise SystemExit(f"POST /predict answered {r.status}: {first[:300]!r}")
        response_bytes = len(first)

        url = f"http://127.0.0.1:{main_server.port}/predict"
        if args.warmup > 0:
            log(f"warm-up: {args.warmup}s of wrk at c={max(concurrency)} (not measured)")
            run_wrk(url, lua_path, max(concurrency), args.warmup, args.wrk_timeout)

        levels = []
        for c in concurrency:
            log(f"concurrency {c}")
            r = measure_level(main_server, "wrk", c, args, lua_path, body, url)
            log("  wrk: " + describe_level(r))
            levels.append(r)
            if c == 1:
                r = measure_level(main_server, "python", 1, args, lua_path, body, url)
                log("  http.client: " + describe_level(r))
                levels.append(r)

        delay_label = (f"delay {args.max_queue_delay_ms:g} ms" if args.max_queue_delay_ms is not None
                       else "delay 2 ms (default)")
        for r in levels:
            r["variant"] = None
            r["queue_delay"] = delay_label
        if 1 in concurrency and not args.no_zero_delay and args.max_queue_delay_ms != 0:
            shutdown.append({"server": "main", **main_server.stop()})
            zero = Server(args, tmpdir, "zero-delay", ["--max-queue-delay-ms", "0"])
            servers.append(zero)
            zero.start()
            zurl = f"http://127.0.0.1:{zero.port}/predict"
            run_wrk(zurl, lua_path, 1, min(args.warmup, 1) or 1, args.wrk_timeout)
            log("concurrency 1, --max-queue-delay-ms 0")
            for kind in ("wrk", "python"):
                r = measure_level(zero, kind, 1, args, lua_path, body, zurl)
                r["variant"] = "delay 0"
                r["queue_delay"] = "delay 0 ms"
                log(f"  {kind}: " + describe_level(r))
                levels.append(r)

        for s in servers:
            if s.proc.poll() is None:
                shutdown.append({"server": s.name, **s.stop()})
            elif not any(x["server"] == s.name for x in shutdown):
                shutdown.append({"server": s.name, "sent_sigterm": False, "exit_code": s.proc.returncode,
                                 "ok": False, "seconds": 0.0})

        if not args.no_bench_after:
            benches.append(run_inprocess_bench(args, "after"))
            by_batch = {r["batch"]: r for r in benches[-1]["results"]}
            log(f"in-process (after): batch 1 {by_batch[1]['median_ms']:.3f} ms, batch 32 "
                f"{by_batch[32]['median_ms']:.3f} ms ({by_batch[32]['clips_per_s']:.1f} clips/s)")
        # The baseline for the targets: the faster of the runs for each batch size (the stricter comparison).
        def best(batch):
            rows = [next(r for r in b["results"] if r["batch"] == batch) for b in benches]
            return dict(min(rows, key=lambda r: r["median_ms"]))
        b1, b32 = best(1), best(32)
        inproc = benches[0]

        # Targets.
        targets = []
        top = max(concurrency)
        hi = next((r for r in levels if r["concurrency"] == top and r["client"] == "wrk" and not r.get("variant")), None)
        if hi is not None:
            ratio = hi["ok_requests_per_s"] / b32["clips_per_s"]
            targets.append({"name": f"c={top} throughput", "ratio": ratio, "target_ratio": C32_TARGET_RATIO,
                            "pass": ratio >= C32_TARGET_RATIO,
                            "verdict": "PASS" if ratio >= C32_TARGET_RATIO else "MISS",
                            "text": f"c={top}: end-to-end {hi['ok_requests_per_s']:.1f} clips/s = {100 * ratio:.1f}% of "
                                    f"in-process batch-32 {b32['clips_per_s']:.1f} clips/s (target >= {100 * C32_TARGET_RATIO:.0f}%)"
                                    + ("" if top == 32 else f"  [note: highest concurrency measured is {top}, not 32]")})
        for r in levels:
            if r["concurrency"] != 1:
                continue
            delta = r["p50_ms"] - b1["median_ms"]
            ok = delta <= C1_TARGET_MS
            name = f"c=1 latency ({r['client']}, {r['queue_delay']})"
            targets.append({"name": name, "delta_ms": delta, "target_ms": C1_TARGET_MS, "pass": ok,
                            "verdict": "PASS" if ok else "MISS",
                            "text": f"{name}: end-to-end p50 {r['p50_ms']:.2f} ms − in-process batch-1 median "
                                    f"{b1['median_ms']:.2f} ms = {delta:+.2f} ms (target <= +{C1_TARGET_MS} ms)"})

        # Noise-robust companions (informational): the server's own compute time in the same window, instead of
        # a bench run minutes earlier or later, while other load on the machine changes.
        insitu = []
        for r in levels:
            m = r["server_metrics"]
            if m.get("compute_ms_per_batch") is None:
                continue
            if r["concurrency"] == 1:
                mean = r.get("mean_ms", r.get("latency_mean_ms"))
                over = mean - m["compute_ms_per_batch"]
                insitu.append(f"c=1 {r['client']} ({r['queue_delay']}): mean latency {mean:.2f} ms − mean server compute "
                              f"{m['compute_ms_per_batch']:.2f} ms/batch (same window) = {over:+.2f} ms "
                              f"({'within' if over <= C1_TARGET_MS else 'over'} {C1_TARGET_MS} ms)")
            elif r["concurrency"] == top and r["client"] == "wrk" and not r.get("variant"):
                insitu.append(f"c={top}: compute thread busy {100 * (m.get('compute_busy_fraction') or 0):.0f}% of the wall "
                              f"time; batches of {fmt(m.get('mean_batch_size'), 1)} clips at "
                              f"{m['compute_ms_per_batch']:.1f} ms = "
                              f"{(m.get('mean_batch_size') or 0) / m['compute_ms_per_batch'] * 1e3:.1f} clips/s of compute "
                              f"vs {b32['clips_per_s']:.1f} in-process at batch 32")

        # c=1 breakdown of the mean request: compute, queue wait, the rest of the server's time, outside it.
        c1 = next((r for r in levels if r["concurrency"] == 1 and r["client"] == "python" and not r.get("variant")), None)
        breakdown = None
        if c1 is not None:
            m = c1["server_metrics"]
            if all(m.get(k) is not None for k in ("compute_ms_per_batch", "queue_wait_ms_mean", "server_request_ms_mean")):
                server_ms = m["server_request_ms_mean"]
                breakdown = {
                    "client mean": c1["mean_ms"],
                    "server request mean": server_ms,
                    "  of which compute": m["compute_ms_per_batch"],
                    "  of which queue wait": m["queue_wait_ms_mean"],
                    "  of which parse+encode+copies+wakeups": server_ms - m["compute_ms_per_batch"] - m["queue_wait_ms_mean"],
                    "outside the server (client, kernel, first byte before)": c1["mean_ms"] - server_ms,
                    "in-process batch-1 median": b1["median_ms"],
                }

        res = {
            "tool": "tools/load_bench.py",
            "command_line": command_line,
            "machine": mi,
            "loadavg_before": la0,
            "loadavg_after": loadavg(),
            "noisy": noisy,
            "model": model_desc,
            "threads": args.threads,
            "concurrency": concurrency,
            "duration_s": args.duration,
            "seed": args.seed,
            "clip_shape": f"{frames}x{joints}x{coords}",
            "body_bytes": len(body),
            "response_bytes": response_bytes,
            "server_command": main_server.cmd,
            "server_started": main_server.started_line,
            "inprocess": inproc,
            "inprocess_runs": benches,
            "baseline_b1": b1,
            "baseline_b32": b32,
            "levels": levels,
            "targets": targets,
            "c1_breakdown": breakdown,
            "insitu": insitu,
            "shutdown": shutdown,
        }
        report = build_report(res)
        print(report, flush=True)
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(res, f, indent=2, default=str)
            log(f"wrote {args.json_out}")
        bad_exit = [s for s in shutdown if not s["ok"]]
        return 1 if bad_exit else 0
    finally:
        for s in servers:
            if s.proc is not None and s.proc.poll() is None:
                s.proc.send_signal(signal.SIGTERM)
                try:
                    s.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    s.proc.kill()
        if args.keep_tmp:
            log(f"kept {tmpdir}")
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
