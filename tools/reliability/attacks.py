#!/usr/bin/env python3
"""The attack classes of issue 15 against a real `signbert serve`, over loopback, with raw sockets and raw HTTP/2 frames.

    tools/reliability/attacks.py .build-rel/release/signbert [--flood-seconds 10] [--slow-bodies 32]

  json-bombs     bodies whose parsed form would be ~1,000x their size ([[0],[0],...,"x"] on /predict, the instances
                 route and V2 JSON; [0,0,...,"x"]): the server's peak RSS (VmHWM, reset through clear_refs before
                 each) must grow by less than 12 x body + 8 MiB, and each gets 400
  slow-bodies    N connections that each declare Content-Length: 33554432 (the server's whole 1 GiB body budget
                 between 32 of them) and send a byte every 2 s; meanwhile honest /predict uploads must all get 200
  h2-floods      two HTTP/2 connections stream (a) empty DATA frames, (b) header blocks of 1-byte HPACK references
                 to a 4,000-byte value, as fast as loopback allows; /health on a kept-alive HTTP/1.1 connection
                 every 10 ms must keep p99 under 50 ms (the same probe without an attack is measured first)
  chunked        bare LF in the chunked framing and control characters in chunk extensions get 400
"""
import argparse
import os
import socket
import threading
import time

import rel_common as rc

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags=0, stream=0, payload=b""):
    n = len(payload)
    return bytes([n >> 16 & 255, n >> 8 & 255, n & 255, kind, flags]) + stream.to_bytes(4, "big") + payload


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def status_of(sock):
    """Reads one response head and body (Content-Length) from `sock`; returns the status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status


def post(port, path, body, extra=b""):
    s = connect(port, timeout=30)
    try:
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\n"
                  + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        return status_of(s)
    finally:
        s.close()


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def cap_memory(pid, mib):
    """Moves `pid` into a new cgroup-v1 memory cgroup limited to `mib` MiB; its path, or None where that is not
    possible (no writable memory controller)."""
    base = "/sys/fs/cgroup/memory"
    path = os.path.join(base, f"signbert-attacks-{pid}")
    try:
        os.makedirs(path)
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
            f.write(str(mib << 20))
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        return path
    except OSError as error:
        rc.log(f"no memory cap: {error}")
        return None


def json_bombs(server, table):
    pid = server.proc.pid
    small = b",".join([b"[0]"] * 195_000)
    bodies = [
        ("/predict", b'{"inputs": [' + small + b',"x"]}'),
        ("/predict", b'{"inputs": [' + b",".join([b"0"] * 390_000) + b',"x"]}'),
        ("/v1/models/signbert:predict", b'{"instances": [' + small + b',"x"]}'),
        ("/v2/models/signbert/infer",
         b'{"inputs": [{"name": "keypoints", "shape": [1], "datatype": "FP32", "data": [' + small + b',"x"]}]}'),
    ]
    server.get("/health")
    for path, body in bodies:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        before = vm(pid, "VmRSS")
        status = post(server.port, path, body)
        growth = vm(pid, "VmHWM") - before
        bound = 12 * len(body) + 8 * 1024 * 1024
        table.add(f"{path} {body[:14].decode()}... ({len(body) // 1024} KB): status, peak RSS growth",
                  f"{status}, +{growth / 2**20:.1f} MiB", f"400, < 12 x body + 8 MiB = {bound / 2**20:.1f} MiB",
                  status == 400 and growth < bound)


def slow_bodies(server, table, count, seconds):
    stop = threading.Event()
    socks = []
    for _ in range(count):
        s = connect(server.port)
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 33554432\r\n\r\n{")
        socks.append(s)

    def trickle():
        while not stop.wait(2.0):
            for s in socks:
                try:
                    s.sendall(b" ")
                except OSError:
                    pass
    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    time.sleep(1.0)
    body = rc.make_body(server)
    statuses = {}
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        status = post(server.port, "/predict", body)
        latencies.append((time.monotonic() - t0) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    stop.set()
    thread.join()
    answered_slow = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1):
                answered_slow += 1
        except (BlockingIOError, OSError):
            pass
        s.close()
    ok = statuses.get(200, 0)
    total = sum(statuses.values())
    table.add(f"{count} slow bodies declaring 32 MiB each, a byte every 2 s, {seconds} s: honest /predict uploads",
              f"{ok}/{total} 200 ({statuses}), p50 {rc.percentile(latencies, 50):.0f} ms, "
              f"p99 {rc.percentile(latencies, 99):.0f} ms", "all 200", total > 0 and ok == total)
    table.add("slow bodies answered meanwhile (refused for the budget)", str(answered_slow), "0", answered_slow == 0)


def flood_thread(kind, port, stop, counter):
    settings = frame(4)
    while not stop.is_set():
        try:
            s = connect(port, timeout=2)
        except OSError:
            return
        stream = 1
        try:
            if kind == "data":
                s.sendall(PREFACE + settings + frame(1, 0x04, 1, b"\x83\x86\x04\x08/predict\x01\x04test"))
                burst = frame(0, 0, 1) * 7000
                while not stop.is_set():
                    s.sendall(burst)
                    counter[0] += len(burst)
            else:
                block = b"\x82\x86\x84\x01\x04test" + b"\x40\x05x-big\x7f\xa1\x1e" + b"v" * 4000
                s.sendall(PREFACE + settings + frame(1, 0x05, 1, block))
                refs = b"\x82\x86\x84\x01\x04test" + b"\xbe" * 16_000
                while not stop.is_set():
                    burst = b""
                    for _ in range(4):
                        stream += 2
                        burst += frame(1, 0x05, stream, refs)
                    s.sendall(burst)
                    counter[0] += len(burst)
        except OSError:
            pass
        finally:
            s.close()


def probe(port, seconds):
    s = connect(port)
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        if status_of(s) != 200:
            raise RuntimeError("/health did not answer 200")
        latencies.append((time.monotonic() - t0) * 1000)
        time.sleep(0.01)
    s.close()
    return latencies


def h2_floods(server, table, seconds):
    quiet = probe(server.port, min(5, seconds))
    table.add("/health without an attack", f"p50 {rc.percentile(quiet, 50):.2f} ms, p99 {rc.percentile(quiet, 99):.2f} ms, "
              f"{len(quiet)} requests", "")
    for kind, name in [("data", "empty DATA frames"), ("hpack", "HPACK references to a 4,000-byte value")]:
        stop = threading.Event()
        counter = [0]
        threads = [threading.Thread(target=flood_thread, args=(kind, server.port, stop, counter), daemon=True)
                   for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        cpu0 = server.cpu_seconds()
        latencies = probe(server.port, seconds)
        cpu = server.cpu_seconds() - cpu0
        stop.set()
        for t in threads:
            t.join()
        p99 = rc.percentile(latencies, 99)
        table.add(f"/health while 2 connections flood {name} ({counter[0] / 2**20:.0f} MiB sent in {seconds} s, "
                  f"server CPU {cpu / seconds:.2f} s/s)",
                  f"p50 {rc.percentile(latencies, 50):.2f} ms, p99 {p99:.2f} ms, max {max(latencies):.1f} ms, "
                  f"{len(latencies)} requests", "p99 < 50 ms", p99 < 50)


def chunked(server, table):
    cases = {"bare LF after the size": b"5\nhello\r\n0\r\n\r\n", "bare LF after the data": b"5\r\nhello\n0\r\n\r\n",
             "control character in an extension": b"5;a=\x01\r\nhello\r\n0\r\n\r\n"}
    for name, body in cases.items():
        s = connect(server.port)
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        status = status_of(s)
        s.close()
        table.add(f"chunked: {name}", str(status), "400", status == 400)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rc.add_server_arguments(parser)
    parser.add_argument("--flood-seconds", type=float, default=10)
    parser.add_argument("--slow-bodies", type=int, default=32)
    parser.add_argument("--slow-seconds", type=float, default=10)
    parser.add_argument("--memory-cap-mib", type=int, default=160,
                        help="run the server in a cgroup (v1) memory cgroup of this size during the JSON bombs, "
                             "where the machine allows it (0: no cap)")
    args = parser.parse_args()
    table = rc.Table("Attacks of issue 15")
    table.add("machine", rc.machine_line(), "")
    cgroup = None
    with rc.tempdir("attacks-", args) as tmp:
        server = rc.start_server(args, tmp, "attacks")
        try:
            cgroup = cap_memory(server.proc.pid, args.memory_cap_mib) if args.memory_cap_mib else None
            json_bombs(server, table)
            if cgroup:
                with open(os.path.join(cgroup, "memory.max_usage_in_bytes")) as f:
                    peak = int(f.read()) / 2**20
                alive = server.proc.poll() is None and server.get("/health")[0] == 200
                table.add(f"server in a {args.memory_cap_mib} MiB memory cgroup during the bombs: alive, cgroup peak",
                          f"{alive}, {peak:.0f} MiB", "alive", alive)
            slow_bodies(server, table, args.slow_bodies, args.slow_seconds)
            h2_floods(server, table, args.flood_seconds)
            chunked(server, table)
            alive = server.get("/health")[0] == 200
            table.add("server alive afterwards (/health)", str(alive), "True", alive)
        finally:
            server.stop()
            if cgroup:
                try:
                    os.rmdir(cgroup)
                except OSError:
                    pass
    rc.finish(table, args)


if __name__ == "__main__":
    main()
