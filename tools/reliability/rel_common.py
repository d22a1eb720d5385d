"""Shared pieces of the load and fault scenarios in tools/reliability/ (standard library only).

- `start_server`: `signbert serve` on 127.0.0.1 with a kernel-chosen port (tools/load_bench.py's Server);
- `proc_sample` / `Sampler`: the server's open descriptors (/proc/PID/fd), RSS and threads, sampled on a thread;
- `Client`: an asyncio HTTP/1.1 client, open loop (requests scheduled at a fixed rate, latency counted from
  the scheduled time so a slow server cannot hide its queue) or closed loop (N sequential workers), keep-alive;
  every request carries its own X-Request-Id, and each ends in exactly one outcome (see `Outcome`);
- `capacity`: wrk at c=32 on /predict, the clips/s every scenario scales its load from;
- `sigterm_phase`: SIGTERM to the server under load, then the client's count of every request matched
  against the server's access log by request id: nothing the server accepted may go unanswered;
- `Table`/`finish`: the result table and the exit status.
"""
import asyncio
import json
import os
import socket
import sys
import tempfile
import threading
import time
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import load_bench  # noqa: E402  (tools/load_bench.py: Server, wrk and /metrics parsing)

percentile = load_bench.percentile
loadavg = load_bench.loadavg
machine_info = load_bench.machine_info


def log(msg):
    print(f"[{os.path.basename(sys.argv[0])}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- server

def add_server_arguments(parser):
    parser.add_argument("binary", help="the signbert binary (a release build: swift build -c release)")
    parser.add_argument("--model", default=os.path.join(REPO, "models", "demo-gestures"),
                        help="model directory (default: the bundled demo model)")
    parser.add_argument("--threads", type=int, default=2, help="serve --threads (default 2)")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--keep-dir", help="keep the server log and work files in this directory (default: a temp dir)")


def start_server(args, tmpdir, name, extra=()):
    ns = SimpleNamespace(binary=os.path.abspath(args.binary), threads=args.threads, model=args.model,
                         checkpoint=None, max_batch_size=None)
    server = load_bench.Server(ns, tmpdir, name, list(extra))
    server.start()
    return server


def make_body(server, seed=1234):
    status, _, desc = server.get("/")
    arch = json.loads(desc).get("architecture", {}) if status == 200 else {}
    return load_bench.make_body(arch.get("num_frames", 64), arch.get("num_joints", 27), arch.get("num_coords", 3),
                                seed, 3)


def proc_sample(pid):
    """{'fds', 'rss_mib', 'threads'} of a live process, or None once it is gone."""
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        rss_kib, threads = None, None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss_kib = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        return {"t": time.monotonic(), "fds": fds, "rss_mib": (rss_kib or 0) / 1024.0, "threads": threads}
    except (OSError, ValueError):
        return None


class Sampler:
    """Samples `proc_sample(pid)` every `interval` seconds on a thread until `stop()`."""

    def __init__(self, pid, interval=1.0):
        self.pid, self.interval, self.samples = pid, interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            s = proc_sample(self.pid)
            if s is not None:
                self.samples.append(s)
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.samples

    def peak(self, key):
        return max((s[key] for s in self.samples), default=None)


def wait_fds_settle(pid, baseline, timeout):
    """Polls the descriptor count until it is back to `baseline` (or `timeout`); the last sample."""
    deadline = time.monotonic() + timeout
    while True:
        s = proc_sample(pid)
        if s is None or s["fds"] <= baseline or time.monotonic() > deadline:
            return s
        time.sleep(0.25)


def slope_per_minute(samples, key, skip_seconds=0.0):
    """Least-squares slope of samples[key] over time, per minute, after the first `skip_seconds`."""
    if not samples:
        return None
    t0 = samples[0]["t"]
    pts = [(s["t"] - t0, s[key]) for s in samples if s["t"] - t0 >= skip_seconds]
    if len(pts) < 3:
        return None
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx * 60.0


# ----------------------------------------------------------------------------- capacity (wrk)

def capacity(server, body, tmpdir, seconds=8, concurrency=32):
    """clips/s that wrk gets from /predict at `concurrency` connections (one clip per request)."""
    body_path = os.path.join(tmpdir, "body.json")
    with open(body_path, "wb") as f:
        f.write(body)
    lua_path = os.path.join(tmpdir, "post.lua")
    with open(lua_path, "w") as f:
        f.write(load_bench.LUA_TEMPLATE % {"body_path": body_path})
    url = f"http://127.0.0.1:{server.port}/predict"
    load_bench.run_wrk(url, lua_path, concurrency, 2, 30)  # warm-up
    server.wait_idle()
    r = load_bench.run_wrk(url, lua_path, concurrency, seconds, 30)
    server.wait_idle()
    errors = sum(r["socket_errors"].values()) + r["non_2xx"]
    return {"clips_per_s": r.get("ok_requests_per_s") or 0.0, "p50_ms": r.get("p50_ms"), "p99_ms": r.get("p99_ms"),
            "errors": errors, "seconds": seconds, "concurrency": concurrency, "loadavg": loadavg()}


# ----------------------------------------------------------------------------- the asyncio client

class Outcome:
    OK = "200"                 # a complete 200 answer
    UNAVAILABLE = "503"        # a complete 503 answer (with or without Retry-After: see `retry_after`)
    REFUSED = "refused"        # connect() refused: nobody listening (after the listener closed)
    CONNECT_TIMEOUT = "connect-timeout"
    CLOSED_UNSENT = "closed-before-answer"  # the connection ended before any byte of an answer
    CLOSED_MID = "closed-mid-answer"        # the connection ended inside an answer
    TIMEOUT = "timeout"        # no complete answer within the client's timeout
    # any other status: its number as a string


class Record:
    __slots__ = ("rid", "sched", "start", "end", "outcome", "retry_after", "reused", "error", "batch")

    def __init__(self, rid, sched):
        self.rid, self.sched, self.start, self.end = rid, sched, None, None
        self.outcome, self.retry_after, self.reused, self.error, self.batch = None, None, False, None, None

    @property
    def latency_ms(self):
        return None if self.end is None else (self.end - self.sched) * 1e3


class Client:
    """POSTs `body` to `path`, open loop at `rate` requests/s or closed loop with `workers` sequential workers.

    Runs on its own thread with its own event loop (`start()` / `stop()`), so the caller can sample, signal and
    watch the server meanwhile. `records` holds one Record per request started."""

    def __init__(self, port, body, path="/predict", rate=None, workers=None, max_connections=900,
                 timeout=60.0, connect_timeout=5.0, prefix="c", keep_alive=True):
        assert (rate is None) != (workers is None)
        self.port, self.body, self.path, self.rate, self.workers = port, body, path, rate, workers
        self.max_connections, self.timeout, self.connect_timeout = max_connections, timeout, connect_timeout
        self.prefix, self.keep_alive = prefix, keep_alive
        self.records = []
        self._idle = []
        self._open = 0
        self._stopping = False
        self._thread = None
        self._loop = None
        self._seq = 0
        self.started_at = None
        self.stopped_at = None

    # -- lifecycle
    def start(self):
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            ready.set()
            self._loop.run_until_complete(self._main())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self, grace=None):
        """Stops starting requests; waits (up to `grace`, default the timeout) for those under way."""
        self._stopping = True
        self.stopped_at = time.monotonic()
        self._thread.join((grace if grace is not None else self.timeout) + 10)
        return self.records

    # -- the loop
    async def _main(self):
        self.started_at = time.monotonic()
        self._slot = asyncio.Semaphore(self.max_connections)
        tasks = set()
        if self.rate is not None:
            interval = 1.0 / self.rate
            n = 0
            while not self._stopping:
                sched = self.started_at + n * interval
                delay = sched - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                t = asyncio.ensure_future(self._request(sched))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                n += 1
        else:
            async def worker():
                while not self._stopping:
                    rec = await self._request(time.monotonic())
                    if rec.outcome in (Outcome.REFUSED, Outcome.CONNECT_TIMEOUT, Outcome.CLOSED_UNSENT):
                        await asyncio.sleep(0.1)  # a sequential client backs off rather than spin
            tasks = {asyncio.ensure_future(worker()) for _ in range(self.workers)}
            # The workers run until stop(); only then is the wait for their last requests bounded (before, a
            # closed-loop run ended timeout + 5 s after its start, with requests under way left unanswered).
            while not self._stopping:
                await asyncio.sleep(0.05)
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout + 5)
        for _, w in self._idle:
            w.transport.abort()

    async def _connection(self):
        while self._idle:
            r, w = self._idle.pop()
            if not w.is_closing() and not r.at_eof():
                return r, w, True
            w.transport.abort()
            self._open -= 1
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), self.connect_timeout)
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._open += 1
        return r, w, False

    def _drop(self, w):
        w.transport.abort()
        self._open -= 1

    async def _request(self, sched):
        self._seq += 1
        rec = Record(f"{self.prefix}{self._seq}", sched)
        self.records.append(rec)
        await self._exchange(rec)
        return rec

    async def _exchange(self, rec):
        async with self._slot:  # at most max_connections requests (and connections) at once
            rec.start = time.monotonic()
            try:
                r, w, rec.reused = await self._connection()
            except ConnectionRefusedError:
                rec.outcome, rec.end = Outcome.REFUSED, time.monotonic()
                return
            except asyncio.TimeoutError:
                rec.outcome, rec.end = Outcome.CONNECT_TIMEOUT, time.monotonic()
                return
            except OSError as e:
                rec.outcome, rec.error, rec.end = Outcome.CLOSED_UNSENT, f"connect: {e}", time.monotonic()
                return
            head = (f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(self.body)}\r\nX-Request-Id: {rec.rid}\r\n"
                    + ("" if self.keep_alive else "Connection: close\r\n") + "\r\n").encode()
            got_any = False
            try:
                w.write(head + self.body)
                await w.drain()
                status, headers, got_any = await asyncio.wait_for(self._read_response(r), self.timeout)
            except asyncio.TimeoutError:
                rec.outcome, rec.end = Outcome.TIMEOUT, time.monotonic()
                self._drop(w)
                return
            except (OSError, asyncio.IncompleteReadError, EOFError) as e:
                got_any = got_any or (isinstance(e, asyncio.IncompleteReadError) and bool(e.partial))
                rec.outcome = Outcome.CLOSED_MID if got_any else Outcome.CLOSED_UNSENT
                rec.error, rec.end = type(e).__name__, time.monotonic()
                self._drop(w)
                return
            rec.end = time.monotonic()
            rec.outcome = str(status)
            rec.retry_after = headers.get("retry-after")
            rec.batch = headers.get("x-batch-size")
            if headers.get("connection", "").lower() == "close" or not self.keep_alive or self._stopping:
                self._drop(w)
            else:
                self._idle.append((r, w))

    @staticmethod
    async def _read_response(r):
        head = await r.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            await r.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
                await r.readexactly(size + 2)
                if size == 0:
                    break
        return status, headers, True


def summarize(records, since=None, until=None):
    """Counts per outcome and latency percentiles of the 200s among records scheduled in [since, until)."""
    sel = [r for r in records if r.outcome is not None and (since is None or r.sched >= since)
           and (until is None or r.sched < until)]
    counts = {}
    for r in sel:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    ok = [r.latency_ms for r in sel if r.outcome == Outcome.OK]
    span = (max(r.sched for r in sel) - min(r.sched for r in sel)) if len(sel) > 1 else 0.0
    unavailable = [r for r in sel if r.outcome == Outcome.UNAVAILABLE]
    # Answers keep coming after the client stops sending (the queue drains): goodput is over the time from the
    # first request to the last answer.
    ok_end = max((r.end for r in sel if r.outcome == Outcome.OK), default=None)
    ok_span = (ok_end - min(r.sched for r in sel)) if ok_end is not None else 0.0
    return {"requests": len(sel), "counts": counts, "seconds": span,
            "ok": len(ok), "ok_per_s": (len(ok) / ok_span) if ok_span else None,
            "sent_per_s": (len(sel) / span) if span else None,
            "p50_ms": percentile(ok, 50), "p99_ms": percentile(ok, 99), "max_ms": max(ok) if ok else None,
            "success_rate": (len(ok) / len(sel)) if sel else None,
            "503_without_retry_after": sum(1 for r in unavailable if not r.retry_after)}


# ----------------------------------------------------------------------------- SIGTERM under load

def server_access_log(server):
    """{request_id: entry} of every exchange the server logged (its onExchange: one per request it read)."""
    return {e["request_id"]: e for e in server.log_entries() if e.get("message") == "request" and e.get("request_id")}


def server_access_log_all(server):
    """Every access-log entry (also those without a request id, such as the server's own 408s)."""
    return [e for e in server.log_entries() if e.get("message") == "request"]


def sigterm_phase(server, client, settle=1.5, exit_timeout=60):
    """Sends SIGTERM while `client` is running, lets it run until the server exits (+`settle` s), then
    classifies every request. Returns a dict with `lost` (accepted by the server, not answered completely),
    the client-side counts and the exit code."""
    t_sig = time.monotonic()
    server.proc.send_signal(15)
    try:
        rc = server.proc.wait(timeout=exit_timeout)
    except Exception:  # noqa: BLE001  (still running: kill, and fail)
        server.proc.kill()
        rc = server.proc.wait()
        rc = f"killed after {exit_timeout}s (did not exit)"
    t_exit = time.monotonic()
    time.sleep(settle)
    records = client.stop(grace=10)
    server.log_file.close()
    logged = server_access_log(server)
    after = [r for r in records if r.start is not None and r.start >= t_sig]
    counts = {}
    for r in records:
        if r.outcome is not None:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
    lost, unaccepted, incomplete_logged = [], 0, 0
    # Only this client's requests: a scenario's deliberate disconnects are logged as abandoned, rightly.
    for r in records:
        entry = logged.get(r.rid)
        answered = r.outcome not in (None, Outcome.REFUSED, Outcome.CONNECT_TIMEOUT, Outcome.CLOSED_UNSENT,
                                     Outcome.CLOSED_MID, Outcome.TIMEOUT)
        if entry is not None and not answered:
            lost.append({"rid": r.rid, "client": r.outcome, "server_status": entry.get("status"),
                         "server_completed": entry.get("completed", True)})
        if entry is None and not answered and r.outcome not in (Outcome.REFUSED, Outcome.CONNECT_TIMEOUT):
            unaccepted += 1
        if entry is not None and entry.get("completed") is False:
            incomplete_logged += 1
    # A request the client never saw an answer for, and the server never logged, was not read by the
    # server: it is not "accepted". `unaccepted` counts those that were not plain refusals.
    return {"exit_code": rc, "exit_ok": rc == 0, "drain_seconds": round(t_exit - t_sig, 3),
            "sent": len([r for r in records if r.outcome is not None]), "counts": counts,
            "sent_after_sigterm": len(after),
            "answered_200": counts.get(Outcome.OK, 0), "answered_503": counts.get(Outcome.UNAVAILABLE, 0),
            "refused": counts.get(Outcome.REFUSED, 0), "connect_timeouts": counts.get(Outcome.CONNECT_TIMEOUT, 0),
            "closed_unread": unaccepted, "server_logged": len(logged),
            "server_logged_incomplete": incomplete_logged, "lost": lost}


def sigterm_ok(s):
    return s["exit_ok"] and not s["lost"] and s["server_logged_incomplete"] == 0


def sigterm_into(table, details, server, client):
    """SIGTERM under `client`'s load (sigterm_phase); its rows go into `table`, its figures into details["sigterm"]."""
    s = sigterm_phase(server, client)
    table.extend(sigterm_rows(s))
    details["sigterm"] = s
    return s


def sigterm_rows(s):
    c = s["counts"]
    other = {k: v for k, v in c.items() if k not in (Outcome.OK, Outcome.UNAVAILABLE, Outcome.REFUSED,
                                                      Outcome.CONNECT_TIMEOUT, Outcome.CLOSED_UNSENT)}
    return [
        ("SIGTERM: exit code / drain time", f"{s['exit_code']} / {s['drain_seconds']:.2f} s", "0", s["exit_ok"]),
        ("SIGTERM: client sent / 200 / 503 / refused after close",
         f"{s['sent']} / {s['answered_200']} / {s['answered_503']} / {s['refused'] + s['connect_timeouts']}", "", None),
        ("SIGTERM: closed before the server read the request", str(s["closed_unread"]), "(not accepted)", None),
        ("SIGTERM: other client outcomes", json.dumps(other) if other else "none", "", None),
        ("SIGTERM: accepted (in the access log) but not answered", str(len(s["lost"])), "0", not s["lost"]),
        ("SIGTERM: exchanges the server logged as abandoned", str(s["server_logged_incomplete"]), "0",
         s["server_logged_incomplete"] == 0),
    ]


# ----------------------------------------------------------------------------- reporting

class Table:
    def __init__(self, title):
        self.title, self.rows = title, []

    def add(self, what, value, criterion="", ok=None):
        self.rows.append((what, value, criterion, ok))

    def extend(self, rows):
        for row in rows:
            self.add(*row)

    @property
    def passed(self):
        return all(ok is not False for *_, ok in self.rows)

    def markdown(self):
        out = [f"### {self.title}", "", "| measure | value | pass criterion | result |", "| --- | --- | --- | --- |"]
        for what, value, criterion, ok in self.rows:
            res = "" if ok is None else ("pass" if ok else "**FAIL**")
            out.append(f"| {what} | {value} | {criterion} | {res} |")
        out.append("")
        out.append(f"Result: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(out)


def machine_line():
    m = machine_info()
    la = loadavg()
    return (f"{m['cpu_model']}, {m['nproc']} cores, kernel {m['kernel']}; load average at start "
            f"{la[0]:.2f} {la[1]:.2f} {la[2]:.2f}" if la else "")


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:.{digits}f}"


def finish(table, args, extra=None):
    print(table.markdown())
    if getattr(args, "json", None):
        with open(args.json, "w") as f:
            json.dump({"title": table.title, "passed": table.passed,
                       "rows": [list(r) for r in table.rows], "details": extra or {}}, f, indent=2, default=str)
    sys.exit(0 if table.passed else 1)


class _Kept:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        return self.path

    def __exit__(self, *exc):
        return False


def tempdir(prefix, args=None):
    if args is not None and getattr(args, "keep_dir", None):
        return _Kept(args.keep_dir)
    return tempfile.TemporaryDirectory(prefix=prefix)
