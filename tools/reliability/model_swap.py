#!/usr/bin/env python3
"""Model changes under load with 0 failed or wrong answers (issue 19's second acceptance item).

    tools/reliability/model_swap.py path/to/signbert [--clients 2] [--rounds 3] [--json FILE]

1. a model repository in a temp dir: `v1` (the v1 training run fixture), `v2` (the v2 training run, D = 16) and
   `swap/1`, a model directory (`signbert convert` of the v1-small training run);
2. PyTorch-free reference logits for each model and each weight set, from single-model servers
   (`serve --checkpoint` / `--model`), one fixed clip per model;
3. `serve --model-repository DIR`; --clients closed-loop keep-alive clients per model POST V2 infer
   (`/v2/models/NAME/infer`, the highest version) the whole time;
4. --rounds times: version k+1 of `swap` appears (copied beside, renamed into place; the weights alternate between
   the v1-small conversion and models/demo-gestures, so consecutive versions answer differently), the load call
   (or SIGHUP, every second round) loads and warms it beside k and swaps it in; then k's folder is removed and
   the next load call unloads (drains) it;
5. pass: every answer is 200 and its logits equal (1e-4) the reference of the version the answer names; each new
   version answered; the old one is gone from the repository index.

Standard library only. About 20-40 s.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from signbert_tools.checks import check, finish  # noqa: E402
from signbert_tools.paths import DEMO_MODEL, FIXTURES, V1_SMALL_CHECKPOINT  # noqa: E402
from signbert_tools.server import ServeProcess  # noqa: E402

V1_RUN = FIXTURES / "fidelity" / "v1-run" / "training_run"
V2_RUN = FIXTURES / "fidelity" / "v2-run-d16" / "training_run"


def clip_body(seed, frames=20):
    """A V2 infer body of one clip [1, frames, 27, 3] of seeded numbers (every model here takes 27 x 3)."""
    rng = random.Random(seed)
    data = [round(rng.uniform(-1, 1), 4) for _ in range(frames * 27 * 3)]
    return json.dumps({"inputs": [{"name": "keypoints", "datatype": "FP32", "shape": [1, frames, 27, 3], "data": data}],
                       "outputs": [{"name": "logits"}]}).encode()


def infer(conn, path, body):
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    return response.status, payload


def reference(binary, args, body):
    """The logits one clip gets from a single-model server."""
    server = ServeProcess(binary, [*args, "--threads", "1"]).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        status, payload = infer(conn, "/v2/models/signbert/infer", body)
        conn.close()
        if status != 200:
            raise RuntimeError(f"reference server answered {status}: {payload[:200]}")
        return json.loads(payload)["outputs"][0]["data"]
    finally:
        server.terminate()


def close(a, b, tolerance=1e-4):
    return len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b)) <= tolerance


class Clients:
    """Closed-loop keep-alive clients of one model: every answer checked against the reference of its version."""

    def __init__(self, port, model, body, references, count):
        self.port, self.model, self.body, self.references = port, model, body, references
        self.count = count
        self.lock = threading.Lock()
        self.ok = 0
        self.failed = []
        self.wrong = []
        self.versions = {}
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(count)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stopping.is_set():
            try:
                status, payload = infer(conn, f"/v2/models/{self.model}/infer", self.body)
            except (OSError, http.client.HTTPException) as error:
                with self.lock:
                    self.failed.append(f"connection: {error!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            with self.lock:
                if status != 200:
                    self.failed.append(f"{status} {payload[:200]!r}")
                    continue
                answer = json.loads(payload)
                version = answer.get("model_version")
                logits = answer["outputs"][0]["data"]
                expected = self.references.get(version)
                if expected is None or not close(logits, expected):
                    self.wrong.append(f"version {version}: {logits[:3]}...")
                else:
                    self.ok += 1
                    self.versions[version] = self.versions.get(version, 0) + 1
        conn.close()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)


def post(port, path, body=b"", timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def index(port):
    status, payload = post(port, "/v2/repository/index")
    return {(e["name"], e["version"]): e["state"] for e in json.loads(payload)} if status == 200 else {}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--clients", type=int, default=2, help="closed-loop clients per model (default 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds of load between changes (default 1)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="signbert-model-swap-")
    try:
        # The weight sets: A = the v1-small run converted to a model directory; B = the bundled demo model.
        weights_a = os.path.join(tmp, "weights-a")
        code = os.spawnv(os.P_WAIT, args.binary, [args.binary, "convert", str(V1_SMALL_CHECKPOINT), "--output", weights_a])
        if code != 0:
            raise RuntimeError("signbert convert failed")
        weights = {"a": weights_a, "b": str(DEMO_MODEL)}
        bodies = {"v1": clip_body(1), "v2": clip_body(2), "swap": clip_body(3)}
        refs = {
            "v1": {"1": reference(args.binary, ["--checkpoint", V1_RUN / "checkpoint_best.pth"], bodies["v1"])},
            "v2": {"1": reference(args.binary, ["--checkpoint", V2_RUN / "checkpoint_best.pth"], bodies["v2"])},
        }
        by_weights = {key: reference(args.binary, ["--model", path], bodies["swap"]) for key, path in weights.items()}
        check("the two weight sets answer differently", not close(by_weights["a"], by_weights["b"]))
        # The swap model's version k has weight set a when k is odd, b when even.
        refs["swap"] = {str(k): by_weights["a" if k % 2 else "b"] for k in range(1, args.rounds + 2)}

        repo = os.path.join(tmp, "repository")
        os.makedirs(repo)
        shutil.copytree(V1_RUN, os.path.join(repo, "v1"))
        shutil.copytree(V2_RUN, os.path.join(repo, "v2"))
        shutil.copytree(weights["a"], os.path.join(repo, "swap", "1"), ignore=shutil.ignore_patterns("*.md"))

        server = ServeProcess(args.binary, ["--model-repository", repo, "--threads", "2"]).start()
        clients = {name: Clients(server.port, name, bodies[name], refs[name], args.clients) for name in bodies}
        for group in clients.values():
            group.start()
        rounds = []
        try:
            time.sleep(args.settle)
            for k in range(1, args.rounds + 1):
                new = k + 1
                t0 = time.monotonic()
                staging = os.path.join(repo, f".staging-{new}")
                shutil.copytree(weights["a" if new % 2 else "b"], staging, ignore=shutil.ignore_patterns("*.md"))
                os.rename(staging, os.path.join(repo, "swap", str(new)))
                use_signal = k % 2 == 0
                if use_signal:
                    server.proc.send_signal(signal.SIGHUP)
                    deadline = time.monotonic() + 60
                    while index(server.port).get(("swap", str(new))) != "READY" and time.monotonic() < deadline:
                        time.sleep(0.05)
                    loaded = index(server.port).get(("swap", str(new))) == "READY"
                else:
                    status, payload = post(server.port, "/v2/repository/models/swap/load")
                    loaded = status == 200 and index(server.port).get(("swap", str(new))) == "READY"
                load_s = time.monotonic() - t0
                check(f"round {k}: version {new} loaded ({'SIGHUP' if use_signal else 'load call'})", loaded, f"{load_s:.2f} s")
                time.sleep(args.settle)
                t1 = time.monotonic()
                shutil.rmtree(os.path.join(repo, "swap", str(k)))
                status, payload = post(server.port, "/v2/repository/models/swap/load")
                unload_s = time.monotonic() - t1
                state = index(server.port)
                check(f"round {k}: version {k} unloaded", status == 200 and state.get(("swap", str(k))) == "UNAVAILABLE"
                      and state.get(("swap", str(new))) == "READY", f"{unload_s:.2f} s")
                rounds.append({"round": k, "new_version": new, "via": "SIGHUP" if use_signal else "load",
                               "load_seconds": round(load_s, 3), "unload_seconds": round(unload_s, 3)})
                time.sleep(args.settle)
        finally:
            for group in clients.values():
                group.stop()
            code, _, _ = server.terminate()
        total = sum(group.ok + len(group.failed) + len(group.wrong) for group in clients.values())
        for name, group in clients.items():
            check(f"{name}: 0 failed", not group.failed, "; ".join(group.failed[:3]))
            check(f"{name}: 0 wrong answers", not group.wrong, "; ".join(group.wrong[:3]))
            check(f"{name}: answers", group.ok > 0, f"{group.ok} ok, by version {dict(sorted(group.versions.items()))}")
        swap_versions = set(clients["swap"].versions)
        check("every swap version answered", swap_versions == {str(k) for k in range(1, args.rounds + 2)},
              f"{sorted(swap_versions)}")
        check("the server drained cleanly", code == 0, f"exit {code}")
        # Every access-log line of a model route names its model.
        lines = [e for e in server.log_entries() if e.get("message") == "request" and str(e.get("path", "")).startswith("/v2/models/")]
        named = [e for e in lines if e.get("model") == e["path"].split("/")[3]]
        check("the access log names the model", lines and len(named) == len(lines), f"{len(named)} of {len(lines)} lines")
        figures = {
            "seconds": round(time.monotonic() - started, 1), "requests": total,
            "failed": sum(len(g.failed) for g in clients.values()), "wrong": sum(len(g.wrong) for g in clients.values()),
            "by_model": {name: {"ok": g.ok, "versions": g.versions} for name, g in clients.items()}, "rounds": rounds,
        }
        print(json.dumps(figures))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
