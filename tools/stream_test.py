#!/usr/bin/env python3
"""Live streams over WebSocket (docs/STREAMING.md) against a built `signbert` binary, over real sockets.

Usage:
    python3 tools/stream_test.py [path/to/signbert] [--seed N]

Needs the `websockets` package (tools/test.sh installs it into a virtualenv under .build/). Starts `signbert serve`
on the bundled demo model (models/demo-gestures, v1, D = 64) and on a v2 training-run fixture
(Tests/SignBERTRuntimeTests/Fixtures/fidelity/v2-run-d16, D = 16, with an API key), then checks, one line each:

  * parity: for random window/stride settings, every window's prediction (and the flush window's) equals what
    POST /predict answers for the same frames with the same top_k, for landmarks (JSON and binary frames mixed,
    hands sometimes missing) and features, on both models; windows computed + skipped = windows due;
  * the protocol, with a raw-socket client: the RFC 6455 handshake example, 426 for a plain GET, 404 for an
    unknown model, 403 for a foreign Origin, a fragmented and masked start message with a ping between its
    fragments, and the close code of each violation: bad UTF-8 (1007), a frame over the size limit and a
    fragmented message over it (1009), an unknown opcode, an unmasked frame and a reserved bit (1002), bad JSON
    and a first message that is not start (1007), a client close echoed (1000), too many streams (1013);
  * authentication: 401 without the key, the key as Bearer or as the signbert.key.KEY subprotocol (never echoed);
  * metrics and the per-stream access-log line; SIGTERM while streaming: the pending predictions, then close 1001.

Prints `N passed, M failed` last and exits non-zero when anything failed.
"""
import asyncio
import base64
import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from signbert_tools import checks
from signbert_tools.checks import check

try:
    import websockets
    from websockets.asyncio.client import connect
except ImportError:
    sys.exit("stream_test.py needs the websockets package (pip install websockets); tools/test.sh installs it")

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "models/demo-gestures"
V2 = ROOT / "Tests/SignBERTRuntimeTests/Fixtures/fidelity/v2-run-d16/training_run/checkpoint_best.pth"
ORIGIN = "http://localhost:3000"
KEY = "stream-test-key"
MAX_STREAMS = 4



class Server:
    def __init__(self, binary, workdir, name, model_args, extra=()):
        self.log_path = Path(workdir) / f"{name}.log"
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(binary), "serve", *model_args, "--host", "127.0.0.1", "--port", "0", "--max-queue-delay-ms", "2",
             "--threads", "1", *extra],
            stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file)
        self.port = None

    def log_lines(self):
        lines = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                pass
        return lines

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {self.log_path.read_text()}")
            if self.port is None:
                for line in self.log_lines():
                    if line.get("message") == "started":
                        self.port = int(line["listen"].rsplit(":", 1)[1])
            if self.port is not None:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    connection.request("GET", "/ready")
                    status = connection.getresponse().status
                    connection.close()
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"not ready within {timeout} s: {self.log_path.read_text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def predict(port, clip, top_k, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"inputs": [clip], "top_k": top_k}).encode()
    connection.request("POST", "/predict", body=body, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"/predict answered {response.status}: {data[:300]!r}")
    return [{"label": e["label"], "index": e["class_id"], "score": e["score"]} for e in json.loads(data)["predictions"][0]["top_k"]]


# --- frames ------------------------------------------------------------------------------------------------------

def f32(x):
    """x rounded to float32, so the JSON and the binary form of a frame are the same numbers."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def landmark_frame(rng, t):
    def points(count, width, cx, cy, spread):
        return [[f32(cx + spread * rng.uniform(-1, 1)), f32(cy + spread * rng.uniform(-1, 1)), f32(rng.uniform(-0.2, 0.2)),
                 f32(rng.uniform(0.5, 1.0))][:width] for _ in range(count)]
    frame = {"pose": points(33, 4, 0.5, 0.5, 0.25)}
    for key, cx in (("left_hand", 0.35), ("right_hand", 0.65)):
        frame[key] = points(21, 4, cx + 0.05 * (t % 7) / 7, 0.45, 0.06) if rng.random() < 0.8 else None
    return frame


def landmark_binary(frames):
    values = []
    for frame in frames:
        for key, count in (("pose", 33), ("left_hand", 21), ("right_hand", 21)):
            part = frame[key]
            values += [v for point in part for v in point] if part is not None else [float("nan")] * (count * 4)
    return struct.pack(f"<{len(values)}f", *values)


def feature_frame(rng, joints, coords):
    return [[f32(rng.uniform(-1.5, 1.5)) for _ in range(coords)] for _ in range(joints)]


def feature_binary(frames):
    values = [v for frame in frames for joint in frame for v in joint]
    return struct.pack(f"<{len(values)}f", *values)


# --- parity --------------------------------------------------------------------------------------------------------

async def parity_run(port, name, form, clip_frames, joints, coords, rng, extra_headers=None):
    window = rng.randint(1, 2 * clip_frames)
    stride = rng.randint(1, max(1, window))
    top_k = rng.randint(1, 8)
    count = window + stride * rng.randint(1, 4) + rng.randint(0, stride)
    image = (1280, 720)
    frames = [landmark_frame(rng, t) if form == "landmarks" else feature_frame(rng, joints, coords) for t in range(count)]
    start = {"type": "start", "input": form, "window": window, "stride": stride, "top_k": top_k}
    if form == "landmarks":
        start.update(image_width=image[0], image_height=image[1])
    messages = []
    async with connect(f"ws://127.0.0.1:{port}/stream", subprotocols=["signbert.stream.v1"],
                       additional_headers=extra_headers or {}, max_size=None) as ws:
        await ws.send(json.dumps(start))
        ready = json.loads(await ws.recv())
        sent = 0
        while sent < count:
            n = rng.randint(1, 12)
            chunk = frames[sent:sent + n]
            if rng.random() < 0.5:
                await ws.send(json.dumps({"type": "frames", "frames": chunk}))
            else:
                await ws.send(landmark_binary(chunk) if form == "landmarks" else feature_binary(chunk))
            sent += len(chunk)
            if rng.random() < 0.3:
                await asyncio.sleep(0.01)
        await ws.send(json.dumps({"type": "flush"}))
        await ws.send(json.dumps({"type": "stop"}))
        async for raw in ws:
            messages.append(json.loads(raw))
        close_code = ws.close_code
    label = f"{name} {form} window {window} stride {stride} top_k {top_k}, {count} frames"
    if not check(f"{label}: ready", ready.get("type") == "ready" and ready.get("window") == window
                 and ready.get("stride") == stride and ready.get("clip_frames") == clip_frames, str(ready)[:300]):
        return
    predictions = [m for m in messages if m["type"] == "prediction"]
    end = [m for m in messages if m["type"] == "end"]
    due = (count - window) // stride + 1 if count >= window else 0
    flush_extra = 1 if (count < window or (count - window) % stride != 0) else 0
    check(f"{label}: flushed, end, close 1000", any(m["type"] == "flushed" for m in messages) and len(end) == 1
          and close_code == 1000, f"types {[m['type'] for m in messages][-4:]}, close {close_code}")
    if end:
        check(f"{label}: windows + skipped = windows due", end[0]["windows"] + end[0]["skipped"] == due + flush_extra
              and end[0]["frames"] == count and end[0]["windows"] == len(predictions),
              f"end {end[0]}, due {due} + flush {flush_extra}, {len(predictions)} predictions")
    mismatches = []
    for p in predictions:
        s, e = p["start_frame"], p["end_frame"]
        clip = frames[s:e + 1]
        if form == "landmarks":
            clip = {"image_width": image[0], "image_height": image[1], "frames": clip}
        expected = predict(port, clip, top_k, extra_headers)
        if p["predictions"] != expected:
            mismatches.append((s, e, p["predictions"][:2], expected[:2]))
    check(f"{label}: {len(predictions)} window predictions equal /predict on the same frames",
          predictions and not mismatches, f"first mismatch {mismatches[:1]}" if mismatches else "")


# --- raw socket client -----------------------------------------------------------------------------------------

class Raw:
    """A WebSocket client on a plain socket, to send what a correct client never would."""

    def __init__(self, port, path="/stream", headers=None, key="dGhlIHNhbXBsZSBub25jZQ=="):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                break
            self.buffer += data
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status_line, *fields = head.decode().split("\r\n")
        self.status = int(self.status_line.split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (f.split(":", 1) for f in fields)}

    def send(self, opcode, payload=b"", fin=True, mask=True, rsv=0):
        first = (0x80 if fin else 0) | rsv | opcode
        n = len(payload)
        if n < 126:
            header = bytes([first, (0x80 if mask else 0) | n])
        elif n < 65536:
            header = bytes([first, (0x80 if mask else 0) | 126]) + struct.pack(">H", n)
        else:
            header = bytes([first, (0x80 if mask else 0) | 127]) + struct.pack(">Q", n)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            header += key
        self.sock.sendall(header + payload)

    def _read(self, n):
        while len(self.buffer) < n:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buffer += data
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv(self):
        first, second = self._read(2)
        n = second & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        if second & 0x80:
            raise RuntimeError("the server masked a frame")
        return first & 0x0F, self._read(n)

    def close_code(self):
        """Reads until the close frame; its code, with the error messages seen before it."""
        errors = []
        try:
            while True:
                opcode, payload = self.recv()
                if opcode == 8:
                    return (struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None), errors
                if opcode == 1:
                    message = json.loads(payload)
                    if message.get("type") == "error":
                        errors.append(message["error"])
        except (ConnectionError, socket.timeout) as error:
            return f"no close frame ({error})", errors

    def close(self):
        self.sock.close()


def http_get(port, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def protocol_checks(port):
    raw = Raw(port, headers={"Sec-WebSocket-Protocol": "signbert.stream.v1"})
    check("handshake: RFC 6455's example key gets s3pPLMBiTxaQ9kYGzzhZRbK+xOo= and the subprotocol",
          raw.status == 101 and raw.headers.get("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
          and raw.headers.get("sec-websocket-protocol") == "signbert.stream.v1", f"{raw.status_line} {raw.headers}")
    raw.send(0x9, b"hello?")
    opcode, payload = raw.recv()
    check("ping -> pong with the same payload", (opcode, payload) == (0xA, b"hello?"), f"{opcode} {payload!r}")
    start = json.dumps({"type": "start", "input": "landmarks", "image_width": 640, "image_height": 480}).encode()
    raw.send(0x1, start[:10], fin=False)
    raw.send(0x9, b"between")
    raw.send(0x0, start[10:20], fin=False)
    raw.send(0x0, start[20:])
    pong = raw.recv()
    ready = json.loads(raw.recv()[1])
    check("a start message in 3 masked fragments with a ping between -> pong, then ready",
          pong == (0xA, b"between") and ready.get("type") == "ready" and ready.get("window") == 64 and ready.get("stride") == 16,
          f"{pong} {ready}")
    raw.send(0x8, struct.pack(">H", 1000) + b"bye")
    code, _ = raw.close_code()
    check("a client close 1000 is echoed", code == 1000, str(code))
    raw.close()

    status, data = http_get(port, "/stream")
    check("plain GET /stream -> 426 with an error", status == 426 and b"error" in data, f"{status} {data[:100]!r}")
    raw = Raw(port, "/v2/models/nope/stream")
    check("unknown model -> 404 before the upgrade", raw.status == 404, raw.status_line)
    raw.close()
    raw = Raw(port, "/v2/models/signbert/stream")
    check("/v2/models/signbert/stream -> 101", raw.status == 101, raw.status_line)
    raw.close()
    raw = Raw(port, headers={"Origin": "http://evil.example"})
    check("a foreign Origin -> 403", raw.status == 403, raw.status_line)
    raw.close()
    for origin in (ORIGIN, f"http://127.0.0.1:{port}"):
        raw = Raw(port, headers={"Origin": origin})
        check(f"Origin {origin} (CORS list or own) -> 101", raw.status == 101, raw.status_line)
        raw.close()
    raw = Raw(port, key="short")
    check("a bad Sec-WebSocket-Key -> 400", raw.status == 400, raw.status_line)
    raw.close()

    def violation(name, expected, action, start_first=False):
        raw = Raw(port)
        if start_first:
            raw.send(0x1, start)
            raw.recv()
        action(raw)
        code, errors = raw.close_code()
        check(f"{name} -> close {expected}", code == expected, f"close {code}, errors {errors}")
        raw.close()

    violation("bad UTF-8 in a text frame", 1007, lambda r: r.send(0x1, b'{"type": "\xc3\x28"}'))
    violation("bad UTF-8 split over fragments", 1007, lambda r: (r.send(0x1, b"\xe2\x82", fin=False), r.send(0x0, b"\x28")))
    violation("a frame of 1 MiB + 1 byte", 1009, lambda r: r.send(0x2, bytes(1024 * 1024 + 1)))
    violation("a fragmented message over 1 MiB", 1009,
              lambda r: [r.send(0x2 if i == 0 else 0x0, bytes(300_000), fin=False) for i in range(4)])
    violation("opcode 3 (reserved)", 1002, lambda r: r.send(0x3, b"x"))
    violation("opcode 11 (reserved control)", 1002, lambda r: r.send(0xB, b""))
    violation("an unmasked client frame", 1002, lambda r: r.send(0x1, start, mask=False))
    violation("RSV1 set", 1002, lambda r: r.send(0x1, start, rsv=0x40))
    violation("a continuation with nothing to continue", 1002, lambda r: r.send(0x0, b"x"))
    violation("a 126-byte ping", 1002, lambda r: r.send(0x9, bytes(126)))
    violation("close code 1005 sent by the client", 1002, lambda r: r.send(0x8, struct.pack(">H", 1005)))
    violation("malformed JSON", 1007, lambda r: r.send(0x1, b'{"type": "start",'))
    violation("a first message that is not start", 1007, lambda r: r.send(0x1, b'{"type": "frames", "frames": []}'))
    violation("binary frames before start", 1007, lambda r: r.send(0x2, bytes(1200)))
    violation("a window of 0", 1007, lambda r: r.send(0x1, b'{"type":"start","input":"features","window":0}'))
    violation("a landmark frame with 32 pose points", 1007,
              lambda r: r.send(0x1, json.dumps({"type": "frames", "frames": [{"pose": [[0.5, 0.5, 0, 1]] * 32}]}).encode()),
              start_first=True)
    violation("a binary block that is not whole frames", 1007, lambda r: r.send(0x2, bytes(1201)), start_first=True)
    violation("a binary pose that is partly NaN", 1007,
              lambda r: r.send(0x2, struct.pack("<300f", float("nan"), *([0.5] * 299))), start_first=True)
    violation("an infinite feature... in a landmark stream (inf)", 1007,
              lambda r: r.send(0x2, struct.pack("<300f", float("inf"), *([0.5] * 299))), start_first=True)

    held = [Raw(port) for _ in range(MAX_STREAMS)]
    extra = Raw(port)
    code, errors = extra.close_code()
    check(f"stream {MAX_STREAMS + 1} with --max-streams {MAX_STREAMS} -> error, close 1013", code == 1013 and errors,
          f"{code} {errors}")
    for raw in held + [extra]:
        raw.close()


def auth_checks(port):
    raw = Raw(port)
    check("with an API key: no key -> 401 before the upgrade", raw.status == 401, raw.status_line)
    raw.close()
    raw = Raw(port, headers={"Authorization": f"Bearer {KEY}"})
    check("Authorization: Bearer KEY -> 101", raw.status == 101, raw.status_line)
    raw.close()
    raw = Raw(port, headers={"Sec-WebSocket-Protocol": f"signbert.stream.v1, signbert.key.{KEY}"})
    check("the signbert.key.KEY subprotocol -> 101, only signbert.stream.v1 echoed",
          raw.status == 101 and raw.headers.get("sec-websocket-protocol") == "signbert.stream.v1", f"{raw.status_line} {raw.headers}")
    raw.close()
    raw = Raw(port, headers={"Sec-WebSocket-Protocol": "signbert.stream.v1, signbert.key.wrong"})
    check("a wrong key subprotocol -> 401", raw.status == 401, raw.status_line)
    raw.close()


async def drain_check(server):
    port = server.port
    async with connect(f"ws://127.0.0.1:{port}/stream", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "input": "features", "window": 8, "stride": 1}))
        await ws.recv()
        rng = random.Random(7)
        await ws.send(feature_binary([feature_frame(rng, 27, 3) for _ in range(40)]))
        await asyncio.sleep(0.05)
        server.process.send_signal(signal.SIGTERM)
        messages = []
        try:
            async for raw in ws:
                messages.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        code = ws.close_code
    predictions = [m for m in messages if m["type"] == "prediction"]
    check("SIGTERM while streaming: predictions, an error, then close 1001",
          code == 1001 and predictions and messages[-1]["type"] == "error" and predictions[-1]["end_frame"] == 39,
          f"close {code}, {len(predictions)} predictions, last {messages[-1] if messages else None}")
    server.process.wait(timeout=30)
    check("the server exits 0 after the drain", server.process.returncode == 0, str(server.process.returncode))


def main():
    args = [a for a in sys.argv[1:]]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else random.randrange(1 << 30)
    if "--seed" in args:
        del args[args.index("--seed"):args.index("--seed") + 2]
    binary = Path(args[0]).resolve() if args else ROOT / ".build/debug/signbert"
    print(f"binary: {binary}, seed {seed}", flush=True)
    rng = random.Random(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="signbert-stream-") as workdir:
        demo = Server(binary, workdir, "demo", ["--model", str(DEMO)],
                      ["--cors-origin", ORIGIN, "--max-streams", str(MAX_STREAMS)])
        v2 = Server(binary, workdir, "v2", ["--checkpoint", str(V2)], ["--api-key", KEY])
        try:
            demo.wait_ready()
            v2.wait_ready()
            for _ in range(2):
                for form in ("landmarks", "features"):
                    asyncio.run(parity_run(demo.port, "v1 demo", form, 64, 27, 3, rng))
                    asyncio.run(parity_run(v2.port, "v2 d16", form, 16, 27, 3, rng, {"Authorization": f"Bearer {KEY}"}))
            protocol_checks(demo.port)
            auth_checks(v2.port)
            status, data = http_get(demo.port, "/metrics")
            text = data.decode()
            check("metrics: streams open, frames, windows, events",
                  all(name in text for name in ("signbert_streams_open", "signbert_stream_frames_total",
                                                 'signbert_stream_windows_total{outcome="computed"}', "signbert_stream_events_total")),
                  "")
            lines = [l for l in demo.log_lines() if l.get("message") == "stream"]
            check("an access-log line per stream with frames, windows and duration",
                  lines and all(k in lines[0] for k in ("frames", "windows", "skipped", "duration_ms", "close_code")),
                  str(lines[:1])[:300])
            asyncio.run(drain_check(demo))
        except Exception as error:  # an unexpected failure is a failed check, not a traceback
            check("stream run", False, f"{type(error).__name__}: {error}")
        finally:
            demo.stop()
            v2.stop()
    checks.finish(f"{time.monotonic() - started:.1f} s, seed {seed}")


if __name__ == "__main__":
    main()
