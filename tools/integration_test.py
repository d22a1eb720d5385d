#!/usr/bin/env python3
"""End-to-end check of a built `signbert` binary as a real HTTP client (Python standard library only).

Usage:
    python3 tools/integration_test.py [path/to/signbert]

The binary defaults to .build/release/signbert, else .build/debug/signbert (relative to the repository root).
It starts `signbert serve` on the v1-small PyTorch fixture (Tests/SignBERTRuntimeTests/Fixtures/parity/v1-small)
on 127.0.0.1 with a port the kernel picks and `--max-body-bytes 100000`, then checks, one line per check:

  * http.client keep-alive: several requests on one HTTPConnection, one TCP connection;
  * POST /predict with case.json's clips answers its float32 logits (max |diff| <= case.json's tolerance, 1e-4);
  * malformed JSON -> 400 with "error"; wrong Content-Type -> 415; a 200 KB body -> 413;
  * GET /metrics mentions signbert_requests_total;
  * Content-Encoding: the body gzip- and deflate-compressed (Python's gzip and zlib, as Triton's client does with
    request compression) answers the same logits; GET / says "status": "alive" (KServe V1's liveness); with
    `--cors-origin http://localhost:3000`, a preflight from that origin is 204 and from another 403;
  * the Open Inference Protocol (KServe V2) through tools/open_inference_client.py (standard library): health,
    metadata, and infer with JSON and with binary tensors (FP32, FP64) answers case.json's logits; /invocations,
    KServe V1's instances route and V2 give /predict's logits exactly;
  * a ~3 s `wrk` run (8 connections, a generated Lua script POSTing one clip): requests > 0, no non-2xx,
    no socket errors (wrk must be installed: Debian package `wrk`);
  * SIGTERM -> exit status 0 with "draining" and "drained" in the JSON log.

Prints `N passed, M failed` last and exits non-zero when anything failed. Takes well under a minute.
"""
import http.client
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from open_inference_client import OpenInferenceClient, OpenInferenceError
from signbert_tools import wrk
from signbert_tools import checks
from signbert_tools.checks import check
from signbert_tools.paths import FIXTURES, REPO as ROOT, V1_SMALL_CHECKPOINT as CHECKPOINT
from signbert_tools.server import ServeProcess

FIXTURE = FIXTURES / "parity" / "v1-small"
MAX_BODY = 100_000
CORS_ORIGIN = "http://localhost:3000"



def find_binary():
    if len(sys.argv) > 1:
        return Path(sys.argv[1]).resolve()
    for candidate in (ROOT / ".build/release/signbert", ROOT / ".build/debug/signbert"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("no signbert binary: pass its path, or build .build/release/signbert or .build/debug/signbert")


def load_case():
    case = json.loads((FIXTURE / "case.json").read_text())
    b, t, v, c = case["inputs"]["shape"]
    values = case["inputs"]["values"]
    clips = [[[values[((i * t + f) * v + j) * c:((i * t + f) * v + j) * c + c] for j in range(v)]
              for f in range(t)] for i in range(b)]
    expected = [x for row in case["expected"]["f32"] for x in row]
    return clips, expected, case["tolerance"]["max_abs"]


def post(connection, body, content_type="application/json", path="/predict"):
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    return response.status, response.read()


def max_abs(a, b):
    if len(a) != len(b):
        return float("inf")
    return max((abs(x - y) for x, y in zip(a, b)), default=0.0)


def run_checks(binary, workdir):
    clips, expected, tolerance = load_case()
    server = ServeProcess(binary, ["--checkpoint", CHECKPOINT, "--max-queue-delay-ms", "2", "--max-body-bytes", MAX_BODY,
                                   "--cors-origin", CORS_ORIGIN], log_path=Path(workdir) / "serve.log")
    try:
        server.start(timeout=20)
        port = server.port
        check("serve starts and /ready answers 200", True, f"port {port}")

        # Keep-alive: several requests on one connection, and the socket stays the same.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"inputs": clips, "return_logits": True, "top_k": 3}).encode()
        statuses, sockets, results = [], set(), []
        for _ in range(5):
            status, data = post(connection, body)
            statuses.append(status)
            sockets.add(connection.sock.getsockname()[1] if connection.sock else None)
            results.append(data)
        connection.request("GET", "/health")
        health = connection.getresponse()
        health.read()
        statuses.append(health.status)
        sockets.add(connection.sock.getsockname()[1] if connection.sock else None)
        # http.client silently reconnects when the server closed the connection: the local port would change.
        check("keep-alive: 6 requests on one HTTPConnection", statuses == [200] * 6 and len(sockets) == 1
              and None not in sockets, f"statuses {statuses}, local port(s) {sorted(map(str, sockets))}")

        answer = json.loads(results[0])
        logits = [x for p in answer["predictions"] for x in p["logits"]]
        difference = max_abs(logits, expected)
        check("POST /predict answers case.json's float32 logits", difference <= tolerance,
              f"max |diff| {difference:.2e} <= {tolerance}")
        check("every keep-alive answer is the same", all(r == results[0] for r in results))

        status, data = post(connection, b'{"inputs": [[[0.5, 0.5')
        error = json.loads(data) if data.startswith(b"{") else {}
        check("malformed JSON -> 400 with error", status == 400 and isinstance(error.get("error"), str),
              f"{status} {data[:120]!r}")
        status, data = post(connection, body, content_type="text/plain")
        check("wrong Content-Type -> 415", status == 415 and b"error" in data, f"{status} {data[:120]!r}")
        connection.close()

        # Oversize: a fresh connection, since the server may close it after refusing the body.
        oversize = json.dumps({"inputs": [[[0.25] * 81] * 16] * 20}).encode()
        oversize += b" " * max(0, 200_000 - len(oversize))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            status, data = post(connection, oversize)
        except (ConnectionError, http.client.HTTPException) as error:
            status, data = None, repr(error).encode()
        connection.close()
        check(f"{len(oversize)} byte body with --max-body-bytes {MAX_BODY} -> 413", status == 413, f"{status} {data[:120]!r}")

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/metrics")
        metrics = connection.getresponse()
        text = metrics.read().decode()
        connection.close()
        check("GET /metrics has signbert_requests_total", metrics.status == 200 and "signbert_requests_total" in text,
              f"{metrics.status}")

        run_operator_checks(port, body, logits)

        run_open_inference(port, clips, expected, tolerance, logits)

        run_wrk(port, clips[0], workdir)

        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(15)
        except subprocess.TimeoutExpired:
            code = None
        messages = [line.get("message") for line in server.log_entries()]
        check("SIGTERM -> exit 0 with draining and drained logged",
              code == 0 and "draining" in messages and "drained" in messages, f"exit {code}")
    finally:
        server.kill()


def run_operator_checks(port, body, logits):
    """Request compression, KServe V1's liveness body and a CORS preflight, as their clients send them."""
    import gzip
    import zlib
    for coding, data in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/predict", body=data,
                           headers={"Content-Type": "application/json", "Content-Encoding": coding})
        response = connection.getresponse()
        answer = response.read()
        connection.close()
        got = [x for p in json.loads(answer)["predictions"] for x in p["logits"]] if response.status == 200 else []
        check(f"Content-Encoding: {coding} ({len(data)} of {len(body)} bytes) -> the same logits",
              response.status == 200 and got == logits, f"{response.status} {answer[:120]!r}")

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/")
    response = connection.getresponse()
    root = json.loads(response.read())
    check("GET / has \"status\": \"alive\" beside the model", root.get("status") == "alive" and "labels" in root,
          f"{response.status} {sorted(root)[:6]}")
    results = []
    for origin in (CORS_ORIGIN, "https://elsewhere.example"):
        connection.request("OPTIONS", "/predict", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                           "Access-Control-Request-Headers": "content-type"})
        response = connection.getresponse()
        response.read()
        results.append((response.status, response.getheader("Access-Control-Allow-Origin")))
    connection.close()
    check("CORS preflight: 204 from the listed origin, 403 from another",
          results == [(204, CORS_ORIGIN), (403, None)], f"{results}")


def float32(values):
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def run_open_inference(port, clips, expected, tolerance, predict_logits):
    client = OpenInferenceClient("127.0.0.1", port)
    try:
        check("V2 live, ready, model ready", client.is_server_live() and client.is_server_ready()
              and client.is_model_ready("signbert"))
        metadata = client.model_metadata("signbert")
        inputs = metadata.get("inputs", [{}])
        check("V2 model metadata names the input and the outputs",
              inputs[0].get("name") == "keypoints" and [o["name"] for o in metadata.get("outputs", [])] == ["logits", "probabilities"],
              json.dumps(metadata)[:200])
        shape = [len(clips), len(clips[0]), len(clips[0][0]), len(clips[0][0][0])]
        flat = [x for clip in clips for frame in clip for joint in frame for x in joint]
        for name, options in [("JSON", {}), ("binary FP32 in and out", {"binary": True, "binary_outputs": True}),
                              ("binary FP64 in", {"binary": True, "datatype": "FP64"})]:
            outputs = client.infer("signbert", "keypoints", flat, shape, request_id="integration", **options)
            logits, logits_shape = outputs["logits"]
            probabilities, _ = outputs["probabilities"]
            row_sums = [sum(probabilities[i * logits_shape[1]:(i + 1) * logits_shape[1]]) for i in range(logits_shape[0])]
            same = float32(logits) == float32(predict_logits)  # JSON carries float32 as its shortest decimal
            check(f"V2 infer ({name}) answers case.json's logits", max_abs(logits, expected) <= tolerance
                  and same and all(abs(s - 1) < 1e-5 for s in row_sums),
                  f"max |diff| {max_abs(logits, expected):.2e}, same float32 as /predict: {same}")
        try:
            client.infer("signbert", "wrong_name", flat, shape)
            check("V2 infer with a wrong input name -> 400", False, "answered 200")
        except OpenInferenceError as error:
            check("V2 infer with a wrong input name -> 400", error.status == 400 and "keypoints" in error.message,
                  f"{error.status} {error.message}")
    finally:
        client.close()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    same = True
    for path, body in [("/invocations", {"inputs": clips, "return_logits": True}),
                       ("/v1/models/signbert:predict", {"instances": clips, "parameters": {"return_logits": True}})]:
        status, data = post(connection, json.dumps(body).encode(), path=path)
        answer = json.loads(data) if status == 200 else {}
        same = same and [x for p in answer.get("predictions", []) for x in p["logits"]] == predict_logits
    connection.close()
    check("/invocations and /v1/models/signbert:predict answer /predict's logits exactly", same)


def run_wrk(port, clip, workdir):
    if not check("wrk is installed", shutil.which("wrk") is not None, "Debian package wrk"):
        return
    body_path = Path(workdir) / "predict.json"
    body_path.write_text(json.dumps({"inputs": [clip]}))
    script = wrk.post_script(Path(workdir) / "predict.lua", body_path)
    try:
        result = wrk.run(f"http://127.0.0.1:{port}/predict", script, 8, 3, timeout_s=5, threads=2, latency=False)
    except wrk.WrkError as error:
        check("wrk 3 s x 8 connections: requests > 0", False, str(error)[:500])
        return
    count = result.get("requests", 0)
    rate = result.get("requests_per_s_reported")
    check("wrk 3 s x 8 connections: requests > 0", count > 0,
          f"{count} requests, {rate if rate is not None else '?'} req/s" if count else result["output"].strip()[:500])
    check("wrk: no non-2xx responses", result["non_2xx"] == 0, f"{result['non_2xx']} non-2xx")
    errors = result["socket_errors"]
    check("wrk: no socket errors", not any(errors.values()),
          "Socket errors: " + ", ".join(f"{k} {v}" for k, v in errors.items()) if any(errors.values()) else "none")


def main():
    binary = find_binary()
    print(f"binary: {binary}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="signbert-integration-") as workdir:
        try:
            run_checks(binary, workdir)
        except Exception as error:  # any unexpected failure is a failed check, not a traceback
            check("integration run", False, f"{type(error).__name__}: {error}")
    checks.finish(f"{time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
