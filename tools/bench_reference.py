#!/usr/bin/env python3
"""Benchmark the reference runtimes (PyTorch eager, ONNX Runtime) on SignBERT v1 or v2 (--variant), optionally side by side
with an external runtime (the Swift `signbert bench --json`), and print a Markdown table for docs/PERFORMANCE.md.

How to run:

    python3 -m venv /tmp/signbert-venv
    /tmp/signbert-venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0+cpu"
    /tmp/signbert-venv/bin/pip install numpy safetensors pyyaml onnx onnxruntime onnxscript
    /tmp/signbert-venv/bin/python tools/bench_reference.py [--batches 1,8,32] [--threads 1,2] [--rounds 3]
        [--engines torch,ort] [--seconds 2.5] [--json OUT.json] [--compare-cmd "CMD"]

Quick smoke run:  python tools/bench_reference.py --batches 1,8 --rounds 2 --seconds 0.5

--variant v2: SignBERT v2 (SignBERTV2 in tools/signbert_reference.py) at the spec's defaults with every flag on
(1 + 64 x 27 = 1,729 tokens, ~34.7 GFLOP per clip); compare with `signbert bench --variant v2 --json`.

Model (v1): SignBERT v1 from tools/signbert_reference.py at the DEFAULT architecture (27 joints x 3 coords,
64 frames, D=256, depth 6, 8 heads, mlp 4.0, K=100; 4.8 M parameters, ~0.63 GFLOP per clip), random
weights from a fixed seed, input (B, 64, 27, 3) float32.

Engines ("cells" are engine x threads x batch):
  torch  PyTorch eager float32, model.eval() under torch.inference_mode(), torch.set_num_threads(n)
         (inter-op threads 1). The attention is the training code's explicit softmax(q k^T) v, not SDPA.
  ort    ONNX Runtime CPU: torch.onnx.export(model, (x,), path, opset_version=17, input_names=["x"],
         output_names=["logits"], dynamic_axes={"x": {0: "batch"}}, dynamo=False); InferenceSession with
         intra_op_num_threads=n, inter_op_num_threads=1, sequential execution, ORT_ENABLE_ALL optimisations.
  --compare-cmd "CMD"  an external benchmark run once per round, interleaved with the engines above. CMD is
         run through the shell; the placeholders {batches} {threads} {seconds} are replaced by this script's
         settings (e.g. "swift run -c release signbert bench --json --batches {batches} --threads {threads}").
         Its stdout must be JSON: {"results": [{"batch": 1, "threads": 2, "median_ms": ..., "clips_per_s": ...},
         ...]} (optional top-level "engine": name; default "swift"; "sgemm_gflops" and "peak_gflops" per thread
         count, from `signbert bench --sgemm --peak`, add the sgemm ceiling and the multiply-add peak lines, with
         every engine's share of the peak; other keys ignored).

Method: every cell does a warm-up, then `repeats` timed calls (chosen in round 1 so that a cell takes about
--seconds, then fixed; or --repeats N), and keeps the median ms per batch. Engines run round-robin: each
round runs every engine's cells in turn, with the engine order rotated every round, and the result of a
cell is the best (lowest) median over the rounds: the machine is shared and noisy, and the best round is
the least disturbed one. Ratios are throughput ratios at the same batch size: (clips/s of the row) /
(clips/s of PyTorch eager with 2 threads) and likewise for ONNX Runtime with 2 threads (> 1 = row is faster).
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
from signbert_reference import SignBERT, SignBERTV2, randomize_  # noqa: E402

ARCH = dict(num_joints=27, num_coords=3, num_frames=64, embed_dim=256, depth=6, num_heads=8, mlp_ratio=4.0,
            num_classes=100)


V2_FLAGS = dict(use_cls_token=True, normalize_skeleton=True, use_velocity=True, use_bone=True)


def flops_per_clip(a):
    """Multiply-adds x 2 of the matrix products (LayerNorm, softmax, GELU ignored). For v2 the tokens are
    1 + T*V and input_proj's width C*(1 + velocity + bone), as SignBERTConfig.flopsPerClip counts them."""
    t, d, f = a["num_frames"], a["embed_dim"], a["num_joints"] * a["num_coords"]
    if "use_cls_token" in a:
        t = int(a["use_cls_token"]) + a["num_frames"] * a["num_joints"]
        f = a["num_coords"] * (1 + int(a["use_velocity"]) + int(a["use_bone"]))
    hidden = int(d * a["mlp_ratio"])
    per_block = 2 * t * d * 3 * d + 2 * 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * hidden
    head = 2 * d * (d // 2) + 2 * (d // 2) * a["num_classes"]
    return 2 * t * f * d + a["depth"] * per_block + head


def machine_info():
    info = {"model_name": platform.processor() or "unknown", "cpus": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        info["model_name"] = fields.get("Model name", info["model_name"])
        info["cpus"] = int(fields.get("CPU(s)", info["cpus"]))
        info["threads_per_core"] = int(fields.get("Thread(s) per core", 1))
        info["cores_per_socket"] = int(fields.get("Core(s) per socket", info["cpus"]))
        info["sockets"] = int(fields.get("Socket(s)", 1))
        for key in ("L2 cache", "L3 cache"):
            if key in fields:
                info[key.lower().replace(" ", "_")] = fields[key]
        flags = fields.get("Flags", "").split()
        info["simd"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    info["arch"] = platform.machine()
    info["kernel"] = platform.release()
    return info


def loadavg():
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def versions():
    v = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=(\w+)", cfg)
    v["torch_blas"] = m.group(1) if m else "unknown"
    v["torch_mkldnn"] = bool(torch.backends.mkldnn.is_available())
    try:
        import onnxruntime
        v["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    try:
        import onnx
        v["onnx"] = onnx.__version__
    except ImportError:
        pass
    return v


def time_calls(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


class TorchEngine:
    name = "PyTorch eager"
    key = "torch"

    def __init__(self, model):
        self.model = model

    def runner(self, x, threads):
        torch.set_num_threads(threads)
        model = self.model

        def run():
            with torch.inference_mode():
                return model(x)
        return run

    def check(self, x):
        with torch.inference_mode():
            return self.model(x).numpy()


class OrtEngine:
    name = "ONNX Runtime"
    key = "ort"

    def __init__(self, model, onnx_path, threads_list):
        import onnxruntime as ort
        x = torch.zeros(2, ARCH["num_frames"], ARCH["num_joints"], ARCH["num_coords"])
        t0 = time.perf_counter()
        self.exporter = "torch.onnx.export(dynamo=False)"
        try:
            torch.onnx.export(model, (x,), str(onnx_path), opset_version=17, input_names=["x"],
                              output_names=["logits"], dynamic_axes={"x": {0: "batch"}}, dynamo=False)
        except torch.onnx.errors.UnsupportedOperatorError as first:
            # v2's torch.median has no ONNX translation in either exporter (TorchScript: no symbolic; dynamo:
            # "No ONNX function found for aten.median.dim"). Export the same lower median computed by a sort;
            # the parity check below compares ORT's logits with the torch.median model's.
            if not hasattr(model, "median_by_sort"):
                raise
            print(f"# ONNX export failed ({str(first).splitlines()[0][:200]}); exporting with the median as a sort",
                  file=sys.stderr)
            self.exporter = "torch.onnx.export(dynamo=False), median as sort()[(T-1)//2]"
            model.median_by_sort = True
            try:
                torch.onnx.export(model, (x,), str(onnx_path), opset_version=17, input_names=["x"],
                                  output_names=["logits"], dynamic_axes={"x": {0: "batch"}}, dynamo=False)
            finally:
                model.median_by_sort = False
        self.export_s = time.perf_counter() - t0
        self.sessions = {}
        for n in threads_list:
            so = ort.SessionOptions()
            so.intra_op_num_threads = n
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self.sessions[n] = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])

    def runner(self, x, threads):
        sess = self.sessions[threads]
        feed = {"x": x.numpy()}

        def run():
            return sess.run(["logits"], feed)
        return run

    def check(self, x):
        return next(iter(self.sessions.values())).run(["logits"], {"x": x.numpy()})[0]


def run_compare(cmd_template, args):
    cmd = (cmd_template.replace("{batches}", ",".join(map(str, args.batches)))
           .replace("{threads}", ",".join(map(str, args.threads)))
           .replace("{seconds}", str(args.seconds)))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"--compare-cmd failed ({proc.returncode}): {cmd}\n{proc.stderr[-2000:]}")
    text = proc.stdout.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        start = text.find("{")  # tolerate log lines before the JSON object
        data = json.loads(text[start:]) if start >= 0 else None
        if data is None:
            raise SystemExit(f"--compare-cmd printed no JSON: {text[:500]}")
    engine = data.get("engine", "swift")
    out = {}
    for r in data["results"]:
        out[(int(r["threads"]), int(r["batch"]))] = (float(r["median_ms"]), float(r.get("clips_per_s", 0.0)))
    # `signbert bench --sgemm`: raw sgemm GFLOP/s at the model's Linear shapes per thread count (the ceiling)
    sgemm = {int(t): float(g) for t, g in (data.get("sgemm_gflops") or {}).items()}
    # `signbert bench --peak`: the multiply-add peak of its kernels per thread count (the machine's ceiling)
    peak = {int(t): float(g) for t, g in (data.get("peak_gflops") or {}).items()}
    return engine, out, wall, cmd, sgemm, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--engines", default="torch,ort", help="comma list of torch, ort (may be empty with --compare-cmd)")
    ap.add_argument("--seconds", type=float, default=2.5, help="target timed seconds per cell per round")
    ap.add_argument("--repeats", type=int, default=0, help="fixed timed calls per cell (overrides --seconds)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls per cell before timing")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", dest="json_out", default=None, help="write all results to this JSON file")
    ap.add_argument("--onnx", default=None, help="keep the exported ONNX model at this path (default: temp dir)")
    ap.add_argument("--compare-cmd", default=None)
    ap.add_argument("--variant", default="v1", choices=["v1", "v2"])
    ap.add_argument("--peak-rss-batch", type=int, default=0,
                    help="only run PyTorch eager twice on one batch of this size and print the process's peak RSS (VmHWM)")
    args = ap.parse_args()
    if args.variant == "v2":
        ARCH.update(V2_FLAGS)
    args.batches = [int(b) for b in args.batches.split(",") if b]
    args.threads = [int(t) for t in args.threads.split(",") if t]
    engines_wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines_wanted:
        if e not in ("torch", "ort"):
            ap.error(f"unknown engine {e!r}")

    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    model = SignBERTV2(**ARCH) if args.variant == "v2" else SignBERT(**ARCH)
    randomize_(model, torch.Generator().manual_seed(args.seed + 1))
    model.eval()
    gen = torch.Generator().manual_seed(args.seed + 2)
    if args.peak_rss_batch:
        torch.set_num_threads(max(args.threads))
        x = torch.randn(args.peak_rss_batch, ARCH["num_frames"], ARCH["num_joints"], ARCH["num_coords"], generator=gen)
        with torch.inference_mode():
            for _ in range(2):
                model(x)
        hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
        print(f"PyTorch eager {args.variant} batch {args.peak_rss_batch}, {max(args.threads)} threads: {hwm.split(':')[1].strip()}")
        return
    inputs = {b: torch.randn(b, ARCH["num_frames"], ARCH["num_joints"], ARCH["num_coords"], generator=gen)
              for b in args.batches}

    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_start = loadavg()
    engines = []
    ort_engine = None
    tmp = None
    parity = {}
    if "torch" in engines_wanted:
        engines.append(TorchEngine(model))
    if "ort" in engines_wanted:
        if args.onnx:
            onnx_path = Path(args.onnx)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="signbert-bench-")
            onnx_path = Path(tmp.name) / f"signbert_{args.variant}.onnx"
        torch.set_num_threads(max(args.threads))
        try:
            ort_engine = OrtEngine(model, onnx_path, args.threads)
        except Exception as e:  # noqa: BLE001  (report why the export failed and go on without ORT)
            print(f"# ONNX export/session failed, ONNX Runtime left out: {type(e).__name__}: "
                  f"{str(e).splitlines()[0][:300]}", file=sys.stderr)
            ort_engine = None
            parity["export_failed"] = f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
    if "ort" in engines_wanted and ort_engine is not None:
        engines.append(ort_engine)
        # sanity: ORT reproduces PyTorch on two batch sizes
        with torch.inference_mode():
            for b in sorted({1, max(args.batches)}):
                x = inputs.get(b, torch.randn(b, ARCH["num_frames"], ARCH["num_joints"], ARCH["num_coords"]))
                parity[b] = float(np.abs(ort_engine.check(x) - model(x).numpy()).max())
        print(f"# ONNX export {ort_engine.export_s:.1f} s, |ORT - PyTorch| max over logits: "
              + ", ".join(f"batch {b}: {d:.1e}" for b, d in parity.items()), file=sys.stderr)

    blocks = [e.key for e in engines] + (["compare"] if args.compare_cmd else [])
    if not blocks:
        ap.error("nothing to run: give --engines and/or --compare-cmd")
    by_key = {e.key: e for e in engines}
    rounds = {}      # (engine_label, threads, batch) -> [median ms per round]
    repeats = {}     # (engine_key, threads, batch) -> repeats
    compare_name, compare_cmd, compare_walls = None, None, []
    sgemm_best = {}  # threads -> best sgemm GFLOP/s over the rounds (from the compared command's --sgemm)
    peak_best = {}   # threads -> best multiply-add peak over the rounds (its --peak)
    round_loads = []  # 1-minute load average at the start of each round (the machine is shared)
    for r in range(args.rounds):
        round_loads.append(loadavg()[0] if loadavg() else None)
        order = blocks[r % len(blocks):] + blocks[:r % len(blocks)]
        for block in order:
            if block == "compare":
                name, res, wall, compare_cmd, sgemm, peak = run_compare(args.compare_cmd, args)
                for t, g in sgemm.items():
                    sgemm_best[t] = max(g, sgemm_best.get(t, 0.0))
                for t, g in peak.items():
                    peak_best[t] = max(g, peak_best.get(t, 0.0))
                compare_name = name
                compare_walls.append(wall)
                for (t, b), (ms, _) in res.items():
                    rounds.setdefault((name, t, b), []).append(ms)
                print(f"# round {r + 1}: {name} ({len(res)} cells, {wall:.1f} s)", file=sys.stderr)
                continue
            eng = by_key[block]
            for t in args.threads:
                for b in args.batches:
                    fn = eng.runner(inputs[b], t)
                    for _ in range(args.warmup):
                        fn()
                    key = (eng.key, t, b)
                    if key not in repeats:
                        if args.repeats > 0:
                            repeats[key] = args.repeats
                        else:
                            probe = statistics.median(time_calls(fn, 3))
                            repeats[key] = max(3, min(10000, int(round(args.seconds * 1000.0 / max(probe, 1e-3)))))
                    med = statistics.median(time_calls(fn, repeats[key]))
                    rounds.setdefault((eng.name, t, b), []).append(med)
                    print(f"# round {r + 1}: {eng.name} threads={t} batch={b}: {med:.2f} ms "
                          f"({repeats[key]} calls)", file=sys.stderr)
    load_end = loadavg()

    # results
    gflop = flops_per_clip(ARCH) / 1e9
    results = []
    for (name, t, b), meds in rounds.items():
        best = min(meds)
        results.append({"engine": name, "threads": t, "batch": b, "median_ms": best,
                        "clips_per_s": b * 1000.0 / best, "gflops": gflop * b * 1000.0 / best,
                        "round_medians_ms": meds,
                        "repeats": repeats.get(({"PyTorch eager": "torch", "ONNX Runtime": "ort"}.get(name), t, b))})
    engine_rank = {"PyTorch eager": 0, "ONNX Runtime": 1}
    results.sort(key=lambda r: (r["batch"], engine_rank.get(r["engine"], 2), r["threads"]))
    ref_t = 2 if 2 in args.threads else max(args.threads)
    ref = {(r["engine"], r["batch"]): r["clips_per_s"] for r in results if r["threads"] == ref_t}
    for r in results:
        for label, eng in (("vs_torch", "PyTorch eager"), ("vs_ort", "ONNX Runtime")):
            base = ref.get((eng, r["batch"]))
            r[f"{label}_{ref_t}t"] = r["clips_per_s"] / base if base else None

    mi, ver = machine_info(), versions()
    lines = []
    lines.append(f"SignBERT {args.variant}, default architecture (T={ARCH['num_frames']}, V={ARCH['num_joints']}, "
                 f"C={ARCH['num_coords']}, D={ARCH['embed_dim']}, depth {ARCH['depth']}, {ARCH['num_heads']} heads, "
                 f"mlp {ARCH['mlp_ratio']}, K={ARCH['num_classes']}; {gflop:.3f} GFLOP per clip), float32, "
                 f"random weights (seed {args.seed}).")
    lines.append("")
    lines.append(f"- Machine: {mi.get('model_name')}, {mi.get('cpus')} CPUs ({mi.get('sockets', 1)} socket x "
                 f"{mi.get('cores_per_socket')} cores x {mi.get('threads_per_core', 1)} threads), {mi.get('arch')}, "
                 f"SIMD {'/'.join(mi.get('simd', [])) or 'n/a'}; 1-min load average per round "
                 f"{', '.join(str(v) for v in round_loads)}, at the end {load_end[0] if load_end else '?'}")
    lines.append(f"- Python {ver['python']}, PyTorch {ver['torch']} (BLAS {ver['torch_blas']}, oneDNN "
                 f"{'on' if ver['torch_mkldnn'] else 'off'}), ONNX Runtime {ver.get('onnxruntime', '-')} "
                 f"(ONNX {ver.get('onnx', '-')}, opset 17), NumPy {ver['numpy']}"
                 + (f"; compared: `{compare_cmd}`" if compare_cmd else ""))
    lines.append(f"- {args.rounds} rounds, engines round-robin (order rotated each round), best per-round median; "
                 f"~{args.seconds} s timed per cell per round" + (f" ({args.repeats} calls)" if args.repeats else "")
                 + f", {args.warmup} warm-up calls; {started}")
    busy = [v for v in round_loads + [load_end[0] if load_end else None] if v is not None]
    if busy and max(busy) > 0.5 * (mi.get("cpus") or 1):
        lines.append(f"- WARNING: the machine was busy (1-min load average up to {max(busy)} on {mi.get('cpus')} CPUs): "
                     "other processes competed for the cores, multi-threaded cells suffer most; rerun on a quiet "
                     "machine before quoting these numbers")
    if "export_failed" in parity:
        lines.append(f"- ONNX Runtime left out: the export failed ({parity.pop('export_failed')})")
    if ort_engine is not None:
        lines.append(f"- ONNX export: {ort_engine.exporter}")
    if parity:
        lines.append("- ORT vs PyTorch max |logit diff|: " + ", ".join(f"batch {b}: {d:.1e}" for b, d in parity.items()))
    lines.append("")
    lines.append(f"| Batch | Engine | Threads | ms / batch (median) | clips/s | GFLOP/s | "
                 f"vs PyTorch {ref_t}t | vs ORT {ref_t}t |")
    lines.append("|---:|---|---:|---:|---:|---:|---:|---:|")

    def ratio(v):
        return f"{v:.2f}x" if v else "-"

    for r in results:
        lines.append(f"| {r['batch']} | {r['engine']} | {r['threads']} | {r['median_ms']:.2f} | "
                     f"{r['clips_per_s']:.1f} | {r['gflops']:.1f} | {ratio(r[f'vs_torch_{ref_t}t'])} | "
                     f"{ratio(r[f'vs_ort_{ref_t}t'])} |")
    lines.append("")
    lines.append(f"Ratios: clips/s of the row divided by clips/s of PyTorch eager (resp. ONNX Runtime) with "
                 f"{ref_t} threads at the same batch size; above 1 the row is faster.")
    ceiling = {}
    if sgemm_best and compare_name:
        lines.append("")
        for t, g in sorted(sgemm_best.items()):
            mine = [r for r in results if r["engine"] == compare_name and r["threads"] == t]
            if not mine:
                continue
            best = max(mine, key=lambda r: r["gflops"])
            ceiling[t] = {"sgemm_gflops": g, "ceiling_clips_per_s": g / gflop, "best_batch": best["batch"],
                          "best_share": best["gflops"] / g}
            lines.append(f"sgemm ceiling, {t} threads (the model's Linear shapes at a large batch, best round): "
                         f"{g:.1f} GFLOP/s = {g / gflop:.1f} clips/s; {compare_name}'s best batch ({best['batch']}) "
                         f"reaches {100 * best['gflops'] / g:.1f} % of it; per batch: "
                         + ", ".join(f"{r['batch']}: {100 * r['gflops'] / g:.1f} %" for r in mine))
    peaks = {}
    if peak_best:
        lines.append("")
        for t, g in sorted(peak_best.items()):
            mine = [r for r in results if r["threads"] == t]
            peaks[t] = {"peak_gflops": g, "sgemm_share": sgemm_best[t] / g if t in sgemm_best else None,
                        "shares": [{"engine": r["engine"], "batch": r["batch"], "share": r["gflops"] / g} for r in mine]}
            lines.append(f"multiply-add peak, {t} threads (vector multiply-adds in registers, best round): {g:.1f} GFLOP/s"
                         + (f"; sgemm ceiling {100 * sgemm_best[t] / g:.1f} % of it" if t in sgemm_best else "")
                         + "; per engine and batch: "
                         + ", ".join(f"{r['engine']} {r['batch']}: {100 * r['gflops'] / g:.1f} %" for r in mine))
    table = "\n".join(lines)
    print(table)

    if args.json_out:
        doc = {"generated_by": "tools/bench_reference.py", "started_utc": started,
               "architecture": ARCH, "gflop_per_clip": gflop, "machine": mi, "versions": ver,
               "load_average_start": load_start, "load_average_end": load_end,
               "load_average_1min_per_round": round_loads,
               "config": {"batches": args.batches, "threads": args.threads, "rounds": args.rounds,
                          "engines": engines_wanted, "seconds": args.seconds, "repeats": args.repeats,
                          "warmup": args.warmup, "seed": args.seed, "compare_cmd": compare_cmd,
                          "compare_engine": compare_name, "compare_wall_s": compare_walls},
               "ort_parity_max_abs": {str(k): v for k, v in parity.items()},
               "results": results, "sgemm_ceiling": {str(t): v for t, v in ceiling.items()},
               "multiply_add_peak": {str(t): v for t, v in peaks.items()}, "markdown": table}
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
