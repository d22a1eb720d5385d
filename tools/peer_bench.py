#!/usr/bin/env python3
"""The servers users would pick instead, end to end, in one run: signbert against TorchServe (TorchScript, its
batching on), KServe's Python model server with ONNX Runtime (V2 protocol) and a plain FastAPI + ONNX Runtime
app, all on the same model and weights, with the same client (wrk) and the same clip.

    tools/peer_bench.py --binary .build/release/signbert [--model models/demo-gestures]
                        [--servers signbert,fastapi,kserve,torchserve] [--concurrency 1,32]
                        [--duration 10] [--rounds 3] [--json OUT.json]

Set-up (once, outside the repository): a virtualenv at $SIGNBERT_PEER_VENV (default
~/.cache/signbert/peer-venv) with torch, onnxruntime, fastapi, uvicorn, kserve, torchserve and
torch-model-archiver from PyPI (`--setup` installs them; torch from $SIGNBERT_TORCH_WHEEL when given, for
the CPU-only wheel). TorchServe also needs a Java runtime (Debian: default-jre-headless).

What it does:
  1. loads the model's safetensors into tools/signbert_reference.py's SignBERT (v1), and exports it as
     TorchScript (TorchServe) and ONNX (opset 17, dynamic batch; ONNX Runtime); computes PyTorch's logits for
     the benchmark clip;
  2. for each server, one at a time: starts it, times the cold start (launch to the first correct answer),
     checks that its logits equal PyTorch's within 1e-4, samples the idle RSS of its whole process tree;
  3. at each concurrency, `rounds` wrk runs of `duration` seconds (the best round is kept, the machine is
     shared), one clip per request; the process tree's CPU time and peak RSS (sampled every 50 ms) during
     the runs; then stops it.
  4. prints a Markdown table (c=1 p50/p99, c=32 clips/s and p99, CPU ms per clip at c=32, CPU-seconds per
     wall-second at c=1, idle/peak RSS, cold start) and the ratios signbert/best peer.

Worker configuration, the best each peer had on 2 cores (docs/PERFORMANCE.md): 2 worker processes with one
compute thread each (FastAPI: 2 uvicorn workers; TorchServe: 2 workers, batch_size 8, max_batch_delay 5 ms). KServe 0.21 runs one
worker with a 2-thread ONNX Runtime session: with `--workers 2` its child processes died at start-up in a loop
(a custom kserve.Model is pickled into spawned workers). signbert runs as its README says, with its defaults.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
from load_bench import LUA_TEMPLATE, make_body, run_wrk  # noqa: E402

PEER_PACKAGES = ["numpy", "safetensors", "onnx", "onnxruntime", "fastapi", "uvicorn", "kserve", "torchserve",
                 "torch-model-archiver"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(message):
    print(f"[peer_bench] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- process trees

def tree_pids(root):
    """The root and every descendant, from /proc's parent links."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def tree_sum(root, read):
    """read(pid) summed over the tree; a process that ended meanwhile counts 0."""
    total = 0
    for pid in tree_pids(root):
        try:
            total += read(pid)
        except (OSError, IndexError, ValueError):
            continue
    return total


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def tree_cpu_seconds(root):
    return tree_sum(root, cpu_seconds)


def tree_rss_bytes(root):
    return tree_sum(root, rss_bytes)


class PeakSampler:
    """The process tree's summed RSS every 50 ms while a measurement runs (a tree has no single VmHWM)."""

    def __init__(self, root):
        self.root, self.peak, self._stop = root, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.root))
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------------- the model in each form

def export_model(python, model_dir, work, clip_path):
    """TorchScript and ONNX of the model, and PyTorch's logits for the clip, written by the peer venv's torch."""
    code = f"""
import json, sys, torch, safetensors.torch
sys.path.insert(0, {str(HERE)!r})
from signbert_reference import SignBERT
config = json.load(open({str(Path(model_dir) / "config.json")!r}))
assert config.get("architecture", "signbert-v1") == "signbert-v1", "peer_bench compares v1 models"
model = SignBERT(num_joints=config["num_joints"], num_coords=config["num_coords"], num_frames=config["num_frames"],
                 embed_dim=config["embed_dim"], depth=config["depth"], num_heads=config["num_heads"],
                 mlp_ratio=config["mlp_ratio"], num_classes=config["num_classes"]).eval()
model.load_state_dict(safetensors.torch.load_file({str(Path(model_dir) / "model.safetensors")!r}))
clips = torch.tensor(json.load(open({str(clip_path)!r}))["inputs"], dtype=torch.float32)
with torch.inference_mode():
    logits = model(clips)
torch.jit.trace(model, clips).save({str(work / "model.pt")!r})
torch.onnx.export(model, (clips,), {str(work / "model.onnx")!r}, opset_version=17, input_names=["x"],
                  output_names=["logits"], dynamic_axes={{"x": {{0: "batch"}}}}, dynamo=False)
json.dump(logits.tolist(), open({str(work / "reference.json")!r}, "w"))
"""
    subprocess.run([python, "-c", code], check=True)
    return json.loads((work / "reference.json").read_text())[0]


# ----------------------------------------------------------------------------- the servers

class Server:
    """One server under test: how to start it, where to post, and how to read its logits."""

    def __init__(self, name, command, env, url, body, logits_of, cwd=None, stop=None):
        self.name, self.command, self.env, self.url, self.body = name, command, env, url, body
        self.logits_of, self.cwd, self.stop_command = logits_of, cwd, stop
        self.process = None

    def start(self, log_path):
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(self.command, env={**os.environ, **self.env}, cwd=self.cwd,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.process.pid

    def post(self, timeout=30):
        request = urllib.request.Request(self.url, data=self.body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read())

    def wait_serving(self, timeout):
        """Seconds from launch until the first answer (a cold start ends when the model answers)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}; see {self.log.name}")
            try:
                return self.post(timeout=5)
            except (OSError, urllib.error.URLError, ValueError):
                time.sleep(0.1)
        raise SystemExit(f"{self.name} did not answer within {timeout} s; see {self.log.name}")

    def stop(self):
        if self.stop_command:
            subprocess.run(self.stop_command, env={**os.environ, **self.env}, capture_output=True, timeout=60)
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def predictions_logits(answer):
    return answer["predictions"][0]["logits"]


def v2_logits(answer):
    return answer["outputs"][0]["data"]


def make_servers(args, venv, work, clip_body, config):
    bin_dir = Path(venv) / "bin"
    ort_env = {"SIGNBERT_ONNX": str(work / "model.onnx"), "SIGNBERT_ORT_THREADS": "1", "OMP_NUM_THREADS": "1"}
    servers = {}
    port = free_port()
    servers["signbert"] = Server(
        "signbert", [args.binary, "serve", "--model", args.model, "--host", "127.0.0.1", "--port", str(port),
                     "--log-level", "warning"], {}, f"http://127.0.0.1:{port}/predict?return_logits=true",
        clip_body, predictions_logits)
    port = free_port()
    servers["fastapi"] = Server(
        "fastapi", [str(bin_dir / "uvicorn"), "fastapi_ort_app:app", "--host", "127.0.0.1", "--port", str(port),
                    "--workers", "2", "--log-level", "warning", "--no-access-log"],
        ort_env, f"http://127.0.0.1:{port}/predict", clip_body, predictions_logits, cwd=str(HERE / "peers"))
    port = free_port()
    clip = json.loads(clip_body)["inputs"]
    flat = [value for frame in clip[0] for joint in frame for value in joint]
    v2_body = json.dumps({"inputs": [{"name": "x", "shape": [1, config["num_frames"], config["num_joints"],
                                                              config["num_coords"]],
                                      "datatype": "FP32", "data": flat}]}, separators=(",", ":")).encode()
    servers["kserve"] = Server(
        "kserve", [str(bin_dir / "python"), str(HERE / "peers" / "kserve_ort_model.py"), "--model_name", "signbert",
                   "--http_port", str(port), "--grpc_port", str(free_port())],
        {**ort_env, "SIGNBERT_ORT_THREADS": "2"}, f"http://127.0.0.1:{port}/v2/models/signbert/infer", v2_body, v2_logits)
    port, management, metrics = free_port(), free_port(), free_port()
    store = work / "torchserve-store"
    (work / "torchserve.properties").write_text(
        f"inference_address=http://127.0.0.1:{port}\nmanagement_address=http://127.0.0.1:{management}\n"
        f"metrics_address=http://127.0.0.1:{metrics}\ndisable_token_authorization=true\nenable_envvars_config=true\n"
        f"default_workers_per_model=2\nmodel_store={store}\n"
        'models={"signbert": {"1.0": {"marName": "signbert.mar", "minWorkers": 2, "maxWorkers": 2, '
        '"batchSize": 8, "maxBatchDelay": 5, "responseTimeout": 120}}}\n')
    servers["torchserve"] = Server(
        "torchserve", [str(bin_dir / "torchserve"), "--start", "--foreground", "--ncs", "--disable-token-auth",
                       "--ts-config", str(work / "torchserve.properties"), "--model-store", str(store),
                       "--models", "signbert=signbert.mar"],
        {"OMP_NUM_THREADS": "1", "TS_DISABLE_SYSTEM_METRICS": "true"},
        f"http://127.0.0.1:{port}/predictions/signbert", clip_body, predictions_logits,
        cwd=str(work), stop=[str(bin_dir / "torchserve"), "--stop"])
    return servers


def archive_torchserve_model(venv, work):
    store = work / "torchserve-store"
    store.mkdir(exist_ok=True)
    subprocess.run([str(Path(venv) / "bin" / "torch-model-archiver"), "--model-name", "signbert", "--version", "1.0",
                    "--serialized-file", str(work / "model.pt"), "--handler",
                    str(HERE / "peers" / "torchserve_handler.py"), "--export-path", str(store), "--force"], check=True)


# ----------------------------------------------------------------------------- measuring

def measure(server, args, work, reference):
    log(f"{server.name}: starting")
    launched = time.monotonic()
    pid = server.start(work / f"{server.name}.log")
    try:
        answer = server.wait_serving(args.start_timeout)
        cold_start = time.monotonic() - launched
        logits = server.logits_of(answer)
        error = max(abs(a - b) for a, b in zip(logits, reference))
        if len(logits) != len(reference) or error > 1e-4:
            raise SystemExit(f"{server.name}: logits differ from PyTorch's by {error:g}")
        for _ in range(20):  # warm every worker before the idle reading
            server.post()
        time.sleep(1.0)
        result = {"server": server.name, "cold_start_s": cold_start, "max_abs_logit_error": error,
                  "idle_rss_mb": tree_rss_bytes(pid) / 2**20, "levels": {}}
        lua = work / f"{server.name}.lua"
        body_path = work / f"{server.name}.body"
        body_path.write_bytes(server.body)
        lua.write_text(LUA_TEMPLATE % {"body_path": str(body_path)})
        peak = 0
        for concurrency in args.concurrency:
            rounds = []
            for round_index in range(args.rounds):
                cpu0, wall0 = tree_cpu_seconds(pid), time.monotonic()
                with PeakSampler(pid) as sampler:
                    run = run_wrk(server.url, str(lua), concurrency, args.duration, 30)
                cpu, wall = tree_cpu_seconds(pid) - cpu0, time.monotonic() - wall0
                peak = max(peak, sampler.peak)
                clips = run["requests"] - run["non_2xx"]
                errors = run["non_2xx"] + sum(run["socket_errors"].values())
                rounds.append({"clips_per_s": run["ok_requests_per_s"], "p50_ms": run["p50_ms"],
                               "p99_ms": run["p99_ms"], "errors": errors,
                               "cpu_ms_per_clip": 1e3 * cpu / max(clips, 1), "cpu_per_wall": cpu / wall})
                log(f"{server.name} c={concurrency} round {round_index + 1}: {rounds[-1]}")
            best = max(rounds, key=lambda r: r["clips_per_s"])
            result["levels"][str(concurrency)] = {"best": best, "rounds": rounds}
        result["peak_rss_mb"] = peak / 2**20
        return result
    finally:
        server.stop()


def table(results, concurrency):
    low, high = str(min(concurrency)), str(max(concurrency))
    lines = [f"| server | c={low} p50 | c={low} p99 | c={low} CPU/wall | c={high} clips/s | c={high} p99 | "
             f"c={high} CPU ms/clip | idle / peak RSS | cold start | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        a, b = r["levels"][low]["best"], r["levels"][high]["best"]
        errors = sum(x["errors"] for level in r["levels"].values() for x in level["rounds"])
        lines.append(f"| {r['server']} | {a['p50_ms']:.1f} ms | {a['p99_ms']:.1f} ms | {a['cpu_per_wall']:.2f} | "
                     f"{b['clips_per_s']:.0f} | {b['p99_ms']:.0f} ms | {b['cpu_ms_per_clip']:.1f} | "
                     f"{r['idle_rss_mb']:.0f} / {r['peak_rss_mb']:.0f} MB | {r['cold_start_s']:.1f} s | {errors} |")
    ours = next((r for r in results if r["server"] == "signbert"), None)
    peers = [r for r in results if r["server"] != "signbert"]
    if ours and peers:
        best_tp = max(peers, key=lambda r: r["levels"][high]["best"]["clips_per_s"])
        best_lat = min(peers, key=lambda r: r["levels"][low]["best"]["p50_ms"])
        tp = ours["levels"][high]["best"]["clips_per_s"] / best_tp["levels"][high]["best"]["clips_per_s"]
        lat = ours["levels"][low]["best"]["p50_ms"] / best_lat["levels"][low]["best"]["p50_ms"]
        cpu_peer = min(p["levels"][high]["best"]["cpu_ms_per_clip"] for p in peers)
        cpu = ours["levels"][high]["best"]["cpu_ms_per_clip"] / cpu_peer
        lines += ["", f"signbert / best peer: c={high} clips/s {tp:.2f}x (vs {best_tp['server']}), "
                      f"c={low} p50 {lat:.2f}x (vs {best_lat['server']}), c={high} CPU per clip {cpu:.2f}x "
                      f"(vs the most frugal peer)"]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=str(REPO / ".build/release/signbert"))
    parser.add_argument("--model", default=str(REPO / "models/demo-gestures"))
    parser.add_argument("--servers", default="signbert,fastapi,kserve,torchserve")
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--start-timeout", type=float, default=180)
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--setup", action="store_true", help="create the peer virtualenv first")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    venv = os.environ.get("SIGNBERT_PEER_VENV", str(Path.home() / ".cache/signbert/peer-venv"))
    if args.setup:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        torch = os.environ.get("SIGNBERT_TORCH_WHEEL", "torch")
        subprocess.run([f"{venv}/bin/pip", "install", "-q", torch, *PEER_PACKAGES], check=True)
    if not Path(venv, "bin", "python").exists():
        raise SystemExit(f"no peer virtualenv at {venv}: run with --setup first")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing (Debian: apt-get install wrk)")
    config = json.loads((Path(args.model) / "config.json").read_text())
    # Kept when a server fails, for its log; removed after a complete run.
    work = Path(tempfile.mkdtemp(prefix="peer-bench-"))
    if True:
        clip_body = make_body(config["num_frames"], config["num_joints"], config["num_coords"], 20261201, 5)
        (work / "clip.json").write_bytes(clip_body)
        reference = export_model(f"{venv}/bin/python", args.model, work, work / "clip.json")
        names = args.servers.split(",")
        if "torchserve" in names:
            archive_torchserve_model(venv, work)
        servers = make_servers(args, venv, work, clip_body, config)
        results = [measure(servers[name], args, work, reference) for name in names]
    shutil.rmtree(work)
    machine = f"{os.cpu_count()} CPUs, {platform_line()}"
    report = (f"Command: {' '.join(sys.argv)}\nMachine: {machine}; load average before: {os.getloadavg()[0]:.2f}\n\n"
              + table(results, args.concurrency))
    print(report)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "report": report}, indent=2))


def platform_line():
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    return model


if __name__ == "__main__":
    main()
