#!/usr/bin/env python3
"""Generate the PyTorch parity fixtures the Swift tests check the runtime against.

How to run (Python is only needed to REGENERATE the fixtures; the Swift tests read the committed files):

    python3 -m venv /tmp/signbert-venv
    /tmp/signbert-venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0+cpu"
    /tmp/signbert-venv/bin/pip install numpy safetensors pyyaml onnx onnxruntime
    /tmp/signbert-venv/bin/python tools/make_fixtures.py [OUT_DIR]

OUT_DIR defaults to Tests/SignBERTRuntimeTests/Fixtures/parity (relative to the repository root).
The script is deterministic: fixed seeds, one thread, and the random `.data/serialization_id` record that
torch.save writes into every .pth archive is replaced by a value derived from the archive's content
(same length, CRCs fixed), so running it twice gives byte-identical files. At the end it reloads every
saved form from disk (except broken/evil_os_system.pth, which is never loaded) and checks the logits.

Models come from tools/signbert_reference.py (SignBERT v1, see shared spec "signbert-model.md").

Cases (one folder each, each with a case.json manifest):
  v1-small/               27 joints x 3 coords, 16 frames, D=32, depth 2, 4 heads, mlp 4.0, 9 classes.
      training_run/checkpoint_best.pth   torch.save of the training-run dict (AdamW state after 2 real steps,
                                         CosineAnnealingLR state, numpy scalars pickled as
                                         numpy._core.multiarray.scalar, i.e. as numpy >= 2 writes them)
      training_run/config.yaml           training config with a model: section
      training_run/label_mapping.json    {"label_to_folder": ..., "folder_to_label": ..., "num_classes": 9}
      bare_module.pth                    bare state_dict with "module." prefixes (nn.DataParallel)
      model_f32.safetensors / model_f16.safetensors / model_bf16.safetensors   keys without prefix
  v1-heads-from-config/   27x3, 12 frames, D=24, depth 3, 6 heads (NOT the default 8: only config.yaml says
                          so; with 8 heads the logits differ by far more than the tolerance), mlp 2.0, 5 classes.
      training_run/checkpoint_best.pth   SGD-momentum optimizer state; numpy scalars pickled with the
                                         numpy 1.x name numpy.core.multiarray.scalar
      training_run/config.yaml, training_run/labels.txt (one label per line)
  v1-features/            2 coords (F = 54), fed (B,T,F) only: 8 frames, D=16, depth 1, 2 heads, 4 classes.
      model_f32.safetensors, config.yaml (num_heads 2 is not derivable from the tensors)
  broken/                 deliberately broken files for the loader's error tests, see broken/README.md.
  v2-flags-XXXX/          SignBERT v2 (tools/signbert_reference.py SignBERTV2), one folder per flag combination
                          (digits: use_cls_token, normalize_skeleton, use_velocity, use_bone; all 16): 27x3,
                          6 frames (even: the lower median), D=16, depth 1, 2 heads, 5 classes; model_f32.safetensors,
                          config.yaml with the flags; clips offset from the origin, the last one ending in 2 zero frames.
  v2-training-run/        v2, all flags on, 8 frames, D=32, depth 2, 4 heads (config only), 9 classes: training-run
                          dict with AdamW state and numpy scalars, config.yaml, label_mapping.json, bare_module.pth
                          (module. prefixes), model_f32.safetensors.
  v2-joints-10/           v2 with V=10, C=2, 7 frames (odd): no bone parents (all -1), hand type 0 everywhere.
  v2-long/                v2 at the default token count 1 + 64 x 27 = 1,729 (D=16, depth 1): several attention tiles.
  v2 case.json files add "variant": "v2" and the four flags to "architecture", and "short_inputs" {shape, values,
  expected}: one clip shorter than num_frames (v2 accepts T <= num_frames), with its PyTorch logits.

case.json schema (all keys always present; values are JSON numbers/strings/lists):
  {
    "schema_version": 1,
    "name": "v1-small",
    "architecture": {"num_joints": 27, "num_coords": 3, "num_frames": 16, "embed_dim": 32, "depth": 2,
                     "num_heads": 4, "mlp_ratio": 4.0, "num_classes": 9},
    "files": {<role>: <path relative to the case folder>, ...}
        roles used: "training_run", "config_yaml", "label_mapping", "labels_txt", "bare_module",
                    "safetensors_f32", "safetensors_f16", "safetensors_bf16"
    "expected_key_by_file": {<role of a model file>: "f32" | "f16" | "bf16"}
        which row set of "expected" a model file must reproduce (f32 for every .pth and model_f32.safetensors;
        the F16/BF16 rows were computed in float32 by the model whose weights were rounded to F16/BF16 and
        cast back to float32, which is what the runtime does when it converts to F32 once at load).
    "inputs": {
        "shape": [B, T, V, C]          the clips as (B,T,V,C), or [B, T, F] when "layout" is "BTF"
        "layout": "BTVC" | "BTF",
        "features_shape": [B, T, V*C]  the same flat values read as (B,T,F) (feature index v*C + c);
                                       the expected logits are the same for both shapes (checked bitwise)
        "values": [flat float32 values, row-major]   (multiples of 1/256, so the decimal text is exact)
    },
    "expected": {"f32": [[K logits] x B], "f16": ..., "bf16": ...}   float32 values, written as the
        repr of the exact double (17 significant digits): parse as Double or Float, both are exact.
    "tolerance": {"max_abs": 1e-4, "applies_to": "..."}
    "labels": ["ban", ...] or null,
    "torch_version": "2.13.0+cpu", "numpy_version": ..., "generated_by": "tools/make_fixtures.py",
    "notes": "..."
  }
"""
import copy
import hashlib
import io
import json
import math
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils._python_dispatch  # noqa: F401  (TorchDispatchMode)
import yaml
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
from signbert_reference import SignBERT, SignBERTV2, randomize_  # noqa: E402

DEFAULT_OUT = HERE.parent / "Tests" / "SignBERTRuntimeTests" / "Fixtures" / "parity"
TOLERANCE = 1e-4
PWNED_MARKER = "/tmp/signbert-pwned"
LABELS_9 = ["ban", "camon", "dong", "mo", "ten", "toi", "tuoi", "vuive", "xinchao"]
LABELS_5 = ["xinchao", "camon", "toi", "ten", "tuoi"]

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------

def arch_dict(num_joints, num_coords, num_frames, embed_dim, depth, num_heads, mlp_ratio, num_classes):
    return dict(num_joints=num_joints, num_coords=num_coords, num_frames=num_frames, embed_dim=embed_dim,
                depth=depth, num_heads=num_heads, mlp_ratio=float(mlp_ratio), num_classes=num_classes)


def build_model(arch, seed):
    torch.manual_seed(seed)
    model = SignBERT(**arch)
    randomize_(model, torch.Generator().manual_seed(seed + 1))
    return model


def make_clips(seed, batch, frames, joints, coords, pad_tail=0):
    """Skeleton-like clips after the training pipeline's normalisation: x, y of each joint relative to the
    neck (joint 0, so its x, y are 0), slowly moving over time; third channel (if any) a visibility in
    [0, 1] for the 5 pose joints and 1.0 for hand joints. The last clip is zero-padded at the end by
    `pad_tail` frames (short clips are padded like that). Values are multiples of 1/256 (exact in decimal)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 0.6, size=(batch, 1, joints, 2))
    walk = np.cumsum(rng.normal(0.0, 0.08, size=(batch, frames, joints, 2)), axis=1)
    xy = np.clip(base + walk, -3.0, 3.0)
    xy[:, :, 0, :] = 0.0
    chans = [xy]
    if coords == 3:
        vis = np.ones((batch, frames, joints, 1))
        vis[:, :, :5, 0] = rng.uniform(0.5, 1.0, size=(batch, frames, 5))
        chans.append(vis)
    x = np.concatenate(chans, axis=-1)[..., :coords]
    if pad_tail:
        x[-1, frames - pad_tail:] = 0.0
    x = np.round(x * 256.0) / 256.0
    return torch.from_numpy(x.astype(np.float32))


class _NoFusedAttention(torch.utils._python_dispatch.TorchDispatchMode):
    """Records every aten op run under it, to prove the reference never takes a fused/SDPA attention path."""

    def __init__(self):
        super().__init__()
        self.ops = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


def reference_logits(model, x):
    """PyTorch eval-mode float32 logits, with no_grad, and with checks that no fused attention is used."""
    model.eval()
    assert not model.training and all(not m.training for m in model.modules())
    assert not any(isinstance(m, nn.MultiheadAttention) for m in model.modules())
    assert x.dtype == torch.float32 and all(p.dtype == torch.float32 for p in model.parameters())
    real_sdpa = F.scaled_dot_product_attention

    def _forbidden(*a, **k):
        raise AssertionError("reference must not use F.scaled_dot_product_attention")

    F.scaled_dot_product_attention = _forbidden
    try:
        with torch.no_grad():
            assert not torch.is_grad_enabled()
            mode = _NoFusedAttention()
            with mode:
                out = model(x)
    finally:
        F.scaled_dot_product_attention = real_sdpa
    bad = [op for op in mode.ops if "scaled_dot_product" in op or "multi_head_attention" in op
           or "_transformer" in op]
    assert not bad, f"fused attention ops used: {bad}"
    assert "aten.softmax" in mode.ops or "aten._softmax" in mode.ops, sorted(mode.ops)
    assert out.dtype == torch.float32
    return out.detach().clone()


def numpy_float64_forward(sd, x, arch):
    """Independent float64 implementation written from the spec (v1 section), used to cross-check
    tools/signbert_reference.py. sd: name -> tensor; x: (B,T,V,C) or (B,T,F)."""
    p = {k: v.detach().double().numpy() for k, v in sd.items()}
    x = x.double().numpy()
    if x.ndim == 4:
        x = x.reshape(x.shape[0], x.shape[1], -1)
    erf = np.vectorize(math.erf)

    def ln(h, w, b):
        mu = h.mean(-1, keepdims=True)
        var = ((h - mu) ** 2).mean(-1, keepdims=True)
        return (h - mu) / np.sqrt(var + 1e-5) * w + b

    def lin(h, name):
        return h @ p[name + ".weight"].T + p[name + ".bias"]

    def gelu(h):
        return 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))

    D, H = arch["embed_dim"], arch["num_heads"]
    hd = D // H
    h = lin(x, "input_proj") + p["pos_embed"]
    for i in range(arch["depth"]):
        pre = f"blocks.{i}."
        y = ln(h, p[pre + "norm1.weight"], p[pre + "norm1.bias"])
        qkv = lin(y, pre + "attn.qkv")
        q, k, v = qkv[..., :D], qkv[..., D:2 * D], qkv[..., 2 * D:]
        heads = []
        for j in range(H):
            s = slice(j * hd, (j + 1) * hd)
            sc = q[..., s] @ np.swapaxes(k[..., s], -1, -2) * hd ** -0.5
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            heads.append(sc @ v[..., s])
        h = h + lin(np.concatenate(heads, -1), pre + "attn.proj")
        y = ln(h, p[pre + "norm2.weight"], p[pre + "norm2.bias"])
        h = h + lin(gelu(lin(y, pre + "mlp.fc1")), pre + "mlp.fc2")
    h = ln(h, p["norm.weight"], p["norm.bias"]).mean(1)
    h = ln(h, p["head.0.weight"], p["head.0.bias"])
    h = gelu(lin(h, "head.2"))
    return lin(h, "head.5")


def round_state(sd, dtype):
    """Weights rounded to dtype and cast back to float32 (what the runtime does at load)."""
    return OrderedDict((k, v.to(dtype).to(torch.float32)) for k, v in sd.items())


def model_with_state(arch, sd):
    m = SignBERT(**arch)
    m.load_state_dict(sd, strict=True)
    return m.eval()


def f32_list(t):
    """Float32 tensor -> nested Python floats (exact doubles of the float32 values)."""
    return [float(np.float32(v)) for v in t.reshape(-1).tolist()] if t.dim() <= 1 else [f32_list(r) for r in t]


def dump_json(obj, path):
    """json with 2-space indentation, except that lists of numbers stay on one line."""
    placeholders = {}

    def compact(o):
        if isinstance(o, dict):
            return {k: compact(v) for k, v in o.items()}
        if isinstance(o, list) and o and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in o):
            key = f"@@{len(placeholders)}@@"
            placeholders[key] = json.dumps(o, separators=(", ", ": ") if len(o) <= 16 else (",", ":"))
            return key
        if isinstance(o, list):
            return [compact(v) for v in o]
        return o

    text = json.dumps(compact(obj), indent=2, ensure_ascii=False)
    for key, val in placeholders.items():
        text = text.replace(json.dumps(key), val)
    Path(path).write_text(text + "\n", encoding="utf-8")


def fix_serialization_id(path):
    """torch.save writes a random `<prefix>/.data/serialization_id` record (40 ASCII digits). Replace it
    with digits derived from the rest of the archive (same length, so no offset moves) and fix its CRC-32
    in the data descriptor and the central directory, so the archive is byte-identical across runs."""
    data = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        infos = z.infolist()
        start_dir = z.start_dir
    target = [zi for zi in infos if zi.filename.endswith("/.data/serialization_id")]
    if not target:
        return
    zi = target[0]
    off = zi.header_offset
    nlen, xlen = struct.unpack_from("<HH", data, off + 26)
    start = off + 30 + nlen + xlen
    size = zi.file_size
    old_crc = zi.CRC
    blanked = bytes(data[:start]) + b"0" * size + bytes(data[start + size:])
    digest = hashlib.sha256(blanked).hexdigest()
    digits = "".join(str(int(c, 16) % 10) for c in digest * 2)
    new = ("1" + digits)[:size].encode("ascii")
    data[start:start + size] = new
    crc = zlib.crc32(new)
    local_crc = struct.unpack_from("<I", data, off + 14)[0]
    if local_crc == old_crc:
        struct.pack_into("<I", data, off + 14, crc)
    if zi.flag_bits & 0x08:  # data descriptor after the data, optional signature
        d = start + size
        if data[d:d + 4] == b"PK\x07\x08":
            d += 4
        assert struct.unpack_from("<I", data, d)[0] == old_crc
        struct.pack_into("<I", data, d, crc)
    # central directory
    pos = start_dir
    patched = False
    while data[pos:pos + 4] == b"PK\x01\x02":
        cn, cx, cc = struct.unpack_from("<HHH", data, pos + 28)
        name = bytes(data[pos + 46:pos + 46 + cn]).decode("utf-8")
        if name == zi.filename:
            assert struct.unpack_from("<I", data, pos + 16)[0] == old_crc
            struct.pack_into("<I", data, pos + 16, crc)
            patched = True
        pos += 46 + cn + cx + cc
    assert patched
    Path(path).write_bytes(bytes(data))
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None


def _legacy_numpy_pickle_module():
    """A pickle module for torch.save(pickle_module=...) whose output names numpy scalars the way numpy 1.x
    does (`numpy.core.multiarray.scalar`) instead of numpy 2.x (`numpy._core.multiarray.scalar`).
    Protocol 2 GLOBAL opcodes are newline-terminated text, so the rename needs no other change."""
    new_name, old_name = b"cnumpy._core.multiarray\nscalar\n", b"cnumpy.core.multiarray\nscalar\n"

    class Pickler(pickle.Pickler):
        def __init__(self, file, protocol=None, **kw):
            self._real_file = file
            self._buf = io.BytesIO()
            super().__init__(self._buf, protocol, **kw)

        def dump(self, obj):
            super().dump(obj)
            payload = self._buf.getvalue()
            assert new_name in payload, "expected numpy scalars in the pickle"
            self._real_file.write(payload.replace(new_name, old_name))

    mod = types.ModuleType("legacy_numpy_pickle")
    mod.Pickler = Pickler
    mod.Unpickler = pickle.Unpickler
    mod.load = pickle.load
    mod.__version__ = getattr(pickle, "__version__", "")
    return mod


def torch_save(obj, path, legacy_numpy=False):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if legacy_numpy:
        torch.save(obj, path, pickle_module=_legacy_numpy_pickle_module())
    else:
        torch.save(obj, path)
    fix_serialization_id(path)


def save_st(tensors, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"format": "pt"})


def train_a_little(model, arch, optimizer, scheduler, seed, steps=2, batch=4, label_smoothing=0.1):
    """Real optimisation steps on random data so the optimizer state (exp_avg, momentum, ...) exists."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    crit = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    losses, accs = [], []
    model.train()
    for _ in range(steps):
        x = torch.randn(batch, arch["num_frames"], arch["num_joints"], arch["num_coords"], generator=g)
        y = torch.randint(0, arch["num_classes"], (batch,), generator=g)
        optimizer.zero_grad()
        out = model(x)
        loss = crit(out, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.item()))
        accs.append(100.0 * float((out.argmax(1) == y).float().mean().item()))
    model.eval()
    return losses, accs


def training_config(arch, *, optimizer, lr, output_dir, experiment):
    return {
        "model": {
            "type": "signbert",
            "num_class": arch["num_classes"],
            "num_joints": arch["num_joints"],
            "num_coords": arch["num_coords"],
            "num_frames": arch["num_frames"],
            "embed_dim": arch["embed_dim"],
            "depth": arch["depth"],
            "num_heads": arch["num_heads"],
            "mlp_ratio": arch["mlp_ratio"],
            "drop_rate": 0.1,
            "use_pretrained": False,
            "pretrained_path": None,
        },
        "training": {
            "batch_size": 16,
            "num_epochs": 50,
            "learning_rate": lr,
            "optimizer": optimizer,
            "weight_decay": 0.01,
            "scheduler": "cosine",
            "scheduler_params": {},
            "clip_grad_norm": 5.0,
            "warmup_steps": None,
            "warmup_epochs": 0,
            "label_smoothing": 0.1,
            "dropout": None,
            "eval_every": 1,
            "save_every": 5,
            "save_best": True,
            "early_stopping_patience": 10,
            "use_amp": True,
        },
        "data": {
            "raw_path": "DATA/Segmented",
            "metadata": "DATA/Segmented",
            "metadata_val": None,
            "skeleton_path": "DATA/Processed_Pose",
            "dataset_type": "skeleton_keypoint",
            "train_val_split": 0.8,
            "random_split": True,
            "num_frames": arch["num_frames"],
            "target_size": None,
            "use_imagenet_norm": False,
            "normalize": True,
            "skeleton_layout": "mediapipe_27",
            "graph_strategy": None,
            "augmentations": None,
            "processor_name": None,
            "fps": 30.0,
        },
        "device": "cuda",
        "seed": 42,
        "output_dir": output_dir,
        "experiment_name": experiment,
    }


def write_yaml(obj, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True), encoding="utf-8")


def check_reference(model, arch, sd, x, name):
    """Reference logits for x (and its (B,T,F) form, which must be bitwise equal) + float64 cross-check."""
    logits = reference_logits(model, x)
    if x.dim() == 4:
        flat = x.reshape(x.shape[0], x.shape[1], -1)
        logits_flat = reference_logits(model, flat)
        assert torch.equal(logits, logits_flat), f"{name}: (B,T,V,C) and (B,T,F) logits differ"
    ref64 = numpy_float64_forward(sd, x, arch)
    diff = float(np.abs(logits.double().numpy() - ref64).max())
    assert diff < TOLERANCE / 10, f"{name}: torch reference vs float64 spec implementation differ by {diff}"
    return logits, diff


def inputs_entry(x, arch):
    b, t = x.shape[0], x.shape[1]
    feat = arch["num_joints"] * arch["num_coords"]
    return {
        "layout": "BTVC" if x.dim() == 4 else "BTF",
        "shape": list(x.shape),
        "features_shape": [b, t, feat],
        "values": [float(v) for v in x.reshape(-1).tolist()],
    }


def manifest(name, arch, files, expected_key_by_file, x, expected, labels, notes):
    return {
        "schema_version": 1,
        "name": name,
        "architecture": arch,
        "files": files,
        "expected_key_by_file": expected_key_by_file,
        "inputs": inputs_entry(x, arch),
        "expected": {k: f32_list(v) for k, v in expected.items()},
        "tolerance": {
            "max_abs": TOLERANCE,
            "applies_to": "max over all rows and classes of |runtime logit - expected logit|, "
                          "float32 runtime vs float32 PyTorch (eval mode, no_grad, no fused attention)",
        },
        "labels": labels,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "generated_by": "tools/make_fixtures.py",
        "notes": notes,
    }


# ----------------------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------------------

def case_v1_small(out):
    name = "v1-small"
    d = out / name
    arch = arch_dict(27, 3, 16, 32, 2, 4, 4.0, 9)
    model = build_model(arch, seed=1001)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    train_losses, train_accs = train_a_little(model, arch, opt, sched, seed=1002)
    assert all(len(s) and "exp_avg" in s for s in opt.state_dict()["state"].values())
    model.eval()
    sd = model.state_dict()

    ckpt = {
        "epoch": 1,
        "model_state_dict": sd,
        "optimizer_state_dict": opt.state_dict(),
        "scheduler_state_dict": sched.state_dict(),
        "best_val_loss": 1.7342,
        "best_val_f1": np.float32(0.7937),
        "best_val_acc": np.float64(0.83),
        "train_losses": train_losses,
        "val_losses": [2.0311, 1.7342],
        "train_accs": train_accs,
        "val_accs": [61.11111111111111, 83.33333333333333],
        "val_f1s": [np.float64(0.5873015873015873), np.float64(0.7936507936507936)],
    }
    torch_save(ckpt, d / "training_run" / "checkpoint_best.pth")
    write_yaml(training_config(arch, optimizer="adamw", lr=0.0001, output_dir="./logs/signbert_small",
                               experiment="signbert_small_fixture"), d / "training_run" / "config.yaml")
    label_mapping = {"label_to_folder": {str(i): n for i, n in enumerate(LABELS_9)},
                     "folder_to_label": {n: i for i, n in enumerate(LABELS_9)},
                     "num_classes": 9}
    (d / "training_run" / "label_mapping.json").write_text(
        json.dumps(label_mapping, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    # bare state_dict as nn.DataParallel saves it (on CPU DataParallel just wraps the module)
    dp_sd = nn.DataParallel(model).state_dict()
    assert all(k.startswith("module.") for k in dp_sd)
    torch_save(dp_sd, d / "bare_module.pth")

    save_st(sd, d / "model_f32.safetensors")
    save_st({k: v.to(torch.float16) for k, v in sd.items()}, d / "model_f16.safetensors")
    save_st({k: v.to(torch.bfloat16) for k, v in sd.items()}, d / "model_bf16.safetensors")

    x = make_clips(seed=1003, batch=3, frames=16, joints=27, coords=3, pad_tail=4)
    expected = {}
    diffs = {}
    expected["f32"], diffs["f32"] = check_reference(model, arch, sd, x, name)
    for key, dt in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        rsd = round_state(sd, dt)
        expected[key], diffs[key] = check_reference(model_with_state(arch, rsd), arch, rsd, x, f"{name}/{key}")
    files = {
        "training_run": "training_run/checkpoint_best.pth",
        "config_yaml": "training_run/config.yaml",
        "label_mapping": "training_run/label_mapping.json",
        "bare_module": "bare_module.pth",
        "safetensors_f32": "model_f32.safetensors",
        "safetensors_f16": "model_f16.safetensors",
        "safetensors_bf16": "model_bf16.safetensors",
    }
    by_file = {"training_run": "f32", "bare_module": "f32", "safetensors_f32": "f32",
               "safetensors_f16": "f16", "safetensors_bf16": "bf16"}
    notes = ("num_heads 4 is not the default 8 and only config.yaml says so (the safetensors and bare_module "
             "files need it from the config or the manifest). The third clip's last 4 frames are zero "
             "padding. Numpy scalars in the checkpoint are pickled as numpy._core.multiarray.scalar(dtype, "
             "_codecs.encode(latin1 text, 'latin1')). Max |f16 - f32| logits: "
             f"{float((expected['f16'] - expected['f32']).abs().max()):.3g}, max |bf16 - f32|: "
             f"{float((expected['bf16'] - expected['f32']).abs().max()):.3g}.")
    dump_json(manifest(name, arch, files, by_file, x, expected, LABELS_9, notes), d / "case.json")
    return {"arch": arch, "dir": d, "sd": sd, "x": x, "expected": expected, "diffs": diffs, "ckpt": ckpt}


def case_v1_heads_from_config(out):
    name = "v1-heads-from-config"
    d = out / name
    arch = arch_dict(27, 3, 12, 24, 3, 6, 2.0, 5)
    model = build_model(arch, seed=2001)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
    train_losses, train_accs = train_a_little(model, arch, opt, sched, seed=2002)
    model.eval()
    sd = model.state_dict()
    ckpt = {
        "epoch": 1,
        "model_state_dict": sd,
        "optimizer_state_dict": opt.state_dict(),
        "scheduler_state_dict": sched.state_dict(),
        "best_val_loss": 1.2207,
        "best_val_f1": np.float64(0.6666666666666666),
        "best_val_acc": np.float64(0.7),
        "train_losses": train_losses,
        "val_losses": [1.4113, 1.2207],
        "train_accs": train_accs,
        "val_accs": [50.0, 70.0],
        "val_f1s": [np.float64(0.4), np.float64(0.6666666666666666)],
    }
    torch_save(ckpt, d / "training_run" / "checkpoint_best.pth", legacy_numpy=True)
    write_yaml(training_config(arch, optimizer="sgd", lr=0.001, output_dir="./logs/signbert_heads6",
                               experiment="signbert_heads6_fixture"), d / "training_run" / "config.yaml")
    (d / "training_run" / "labels.txt").write_text("\n".join(LABELS_5) + "\n", encoding="utf-8")

    x = make_clips(seed=2003, batch=3, frames=12, joints=27, coords=3, pad_tail=3)
    expected, diffs = {}, {}
    expected["f32"], diffs["f32"] = check_reference(model, arch, sd, x, name)
    # The point of this case: with the default 8 heads the logits must be clearly different.
    wrong = dict(arch, num_heads=8)
    wrong_logits = reference_logits(model_with_state(wrong, sd), x)
    wrong_diff = float((wrong_logits - expected["f32"]).abs().max())
    assert wrong_diff > 100 * TOLERANCE, f"8-head logits too close to 6-head logits: {wrong_diff}"
    files = {"training_run": "training_run/checkpoint_best.pth", "config_yaml": "training_run/config.yaml",
             "labels_txt": "training_run/labels.txt"}
    notes = ("num_heads 6 comes only from config.yaml; a loader that assumes the default 8 heads (head_dim 3, "
             f"also a valid split of D=24) gets logits off by up to {wrong_diff:.3g}. The optimizer state is "
             "SGD with momentum (momentum_buffer). Numpy scalars are pickled with the numpy 1.x global name "
             "numpy.core.multiarray.scalar. Labels come from labels.txt (one per line).")
    dump_json(manifest(name, arch, files, {"training_run": "f32"}, x, expected, LABELS_5, notes), d / "case.json")
    return {"arch": arch, "dir": d, "sd": sd, "x": x, "expected": expected, "diffs": diffs, "ckpt": ckpt,
            "wrong_heads_diff": wrong_diff}


def case_v1_features(out):
    name = "v1-features"
    d = out / name
    arch = arch_dict(27, 2, 8, 16, 1, 2, 4.0, 4)
    model = build_model(arch, seed=3001).eval()
    sd = model.state_dict()
    save_st(sd, d / "model_f32.safetensors")
    cfg = training_config(arch, optimizer="adamw", lr=0.0001, output_dir="./logs/signbert_xy",
                          experiment="signbert_xy_fixture")
    write_yaml(cfg, d / "config.yaml")
    x = make_clips(seed=3003, batch=3, frames=8, joints=27, coords=2).reshape(3, 8, 54)
    expected, diffs = {}, {}
    expected["f32"], diffs["f32"] = check_reference(model, arch, sd, x, name)
    files = {"safetensors_f32": "model_f32.safetensors", "config_yaml": "config.yaml"}
    notes = ("Two coordinates per joint (x, y): F = 54 features, fed as (B,T,F) only. num_heads 2 comes from "
             "config.yaml (or the manifest). No label file: labels is null.")
    dump_json(manifest(name, arch, files, {"safetensors_f32": "f32"}, x, expected, None, notes), d / "case.json")
    return {"arch": arch, "dir": d, "sd": sd, "x": x, "expected": expected, "diffs": diffs}


class _EvilReduce:
    """Pickles as GLOBAL posix.system + REDUCE. Only ever pickled (written), never unpickled here."""

    def __reduce__(self):
        return (os.system, ("touch " + PWNED_MARKER,))


BROKEN_README = """# Deliberately broken model files (loader error tests)

Generated by `tools/make_fixtures.py`; all are derived from `../v1-small/` (27 joints x 3 coords, 16 frames,
D=32, depth 2, 4 heads, mlp 4.0, 9 classes). Pair them with `../v1-small/training_run/config.yaml` (or the
`architecture` of `../v1-small/case.json`) unless said otherwise.

| File | What is wrong | Expected behaviour of the loader |
|---|---|---|
| `missing_key.safetensors` | v1-small F32 without the tensor `head.5.bias` | fail with a "missing tensor" error naming `head.5.bias` |
| `wrong_shape.safetensors` | v1-small F32, but `blocks.1.attn.proj.weight` is `[32, 31]` (last column dropped) instead of `[32, 32]` | fail with a shape error naming `blocks.1.attn.proj.weight`, expected `[32, 32]`, got `[32, 31]` |
| `extra_key.safetensors` | v1-small F32 plus an unexpected tensor `aux_head.weight` `[4, 32]` F32 | must NOT fail: load, list/warn about the unexpected key `aux_head.weight`, and reproduce the `f32` logits of `../v1-small/case.json` |
| `config_contradicts.yaml` | the v1-small training config with `model.embed_dim: 64`, while the checkpoint (`../v1-small/training_run/checkpoint_best.pth` or any v1-small model file) has D = 32 | fail with an error saying config embed_dim 64 contradicts the checkpoint's 32 (test: put it as `config.yaml` next to a copy of the checkpoint, or pass it explicitly) |
| `labels_wrong_count.txt` | 8 labels (one per line) for a 9-class model | fail with an error saying 8 labels were given for 9 classes |
| `evil_os_system.pth` | a zip archive laid out exactly like `torch.save` output (`archive/data.pkl`, `archive/data/0`, `archive/version`, `archive/byteorder`, ...) whose `archive/data.pkl` is a protocol-2 pickle of `{"epoch": 1, "model_state_dict": <object>}` where the object reduces to `posix.system("touch /tmp/signbert-pwned")` (GLOBAL `posix system` + REDUCE) | fail with an "unsupported/unsafe pickle global `posix.system`" error, WITHOUT executing anything: `/tmp/signbert-pwned` must not exist afterwards. Never open this file with `torch.load(weights_only=False)` or `pickle.load`. |
"""


def case_broken(out, small):
    d = out / "broken"
    d.mkdir(parents=True, exist_ok=True)
    sd = small["sd"]
    t = OrderedDict(sd)
    del t["head.5.bias"]
    save_st(t, d / "missing_key.safetensors")
    t = OrderedDict(sd)
    t["blocks.1.attn.proj.weight"] = sd["blocks.1.attn.proj.weight"][:, :31].contiguous()
    save_st(t, d / "wrong_shape.safetensors")
    t = OrderedDict(sd)
    t["aux_head.weight"] = torch.randn(4, 32, generator=torch.Generator().manual_seed(4001))
    save_st(t, d / "extra_key.safetensors")

    cfg = yaml.safe_load((small["dir"] / "training_run" / "config.yaml").read_text(encoding="utf-8"))
    cfg["model"]["embed_dim"] = 64
    write_yaml(cfg, d / "config_contradicts.yaml")
    (d / "labels_wrong_count.txt").write_text("\n".join(LABELS_9[:8]) + "\n", encoding="utf-8")

    # evil_os_system.pth: a real torch.save archive (prefix "archive/") with data.pkl replaced.
    buf = io.BytesIO()
    torch.save({"epoch": 1, "model_state_dict": OrderedDict(pos_embed=sd["pos_embed"])}, buf)
    evil_pickle = pickle.dumps({"epoch": 1, "model_state_dict": _EvilReduce()}, protocol=2)
    assert b"cposix\nsystem\n" in evil_pickle or b"cos\nsystem\n" in evil_pickle
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    names = src.namelist()
    assert "archive/data.pkl" in names, names
    evil_path = d / "evil_os_system.pth"
    with zipfile.ZipFile(evil_path, "w", compression=zipfile.ZIP_STORED) as dst:
        for zi in src.infolist():
            data = src.read(zi.filename)
            if zi.filename == "archive/data.pkl":
                data = evil_pickle
            elif zi.filename.endswith(".data/serialization_id"):
                data = b"0" * len(data)
            info = zipfile.ZipInfo(zi.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 0
            info.external_attr = 0
            dst.writestr(info, data)
    (d / "README.md").write_text(BROKEN_README, encoding="utf-8")


# ----------------------------------------------------------------------------------------------------------
# Verification: reload every saved form from disk and reproduce the expected logits
# ----------------------------------------------------------------------------------------------------------

def verify(out):
    """Reload each case from disk (only what the manifest says) and compare with the expected logits.
    Loaded results must match bitwise (same computation, same thread count); report the max |diff|."""
    report = []
    for case_dir in sorted(p for p in out.iterdir() if (p / "case.json").exists()):
        man = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
        arch = man["architecture"]
        if arch.get("variant") == "v2":
            continue  # verify_v2
        x = torch.tensor(man["inputs"]["values"], dtype=torch.float32).reshape(man["inputs"]["shape"])
        xf = x.reshape(man["inputs"]["features_shape"])
        cfg_path = man["files"].get("config_yaml")
        if cfg_path:
            mcfg = yaml.safe_load((case_dir / cfg_path).read_text(encoding="utf-8"))["model"]
            for k_cfg, k_arch in (("num_class", "num_classes"), ("num_joints", "num_joints"),
                                  ("num_coords", "num_coords"), ("num_frames", "num_frames"),
                                  ("embed_dim", "embed_dim"), ("depth", "depth"), ("num_heads", "num_heads"),
                                  ("mlp_ratio", "mlp_ratio")):
                assert mcfg[k_cfg] == arch[k_arch], (case_dir.name, k_cfg)
        for role, key in man["expected_key_by_file"].items():
            path = case_dir / man["files"][role]
            if path.suffix == ".pth":
                obj = torch.load(path, map_location="cpu", weights_only=False)
                if role == "training_run":
                    assert list(obj.keys()) == ["epoch", "model_state_dict", "optimizer_state_dict",
                                                "scheduler_state_dict", "best_val_loss", "best_val_f1",
                                                "best_val_acc", "train_losses", "val_losses", "train_accs",
                                                "val_accs", "val_f1s"], list(obj.keys())
                    assert any(isinstance(v, np.generic) for v in obj.values())
                    sd = obj["model_state_dict"]
                else:
                    sd = obj
                sd = OrderedDict((k[len("module."):] if k.startswith("module.") else k, v) for k, v in sd.items())
            else:
                sd = load_file(str(path))
                sd = OrderedDict((k, v.to(torch.float32)) for k, v in sd.items())
            model = model_with_state(arch, sd)
            want = torch.tensor(man["expected"][key], dtype=torch.float32)
            for inp in ((x, xf) if x.dim() == 4 else (xf,)):
                got = reference_logits(model, inp)
                diff = float((got - want).abs().max())
                assert diff <= TOLERANCE, (case_dir.name, role, diff)
                assert torch.equal(got, want), f"{case_dir.name}/{role}: not bitwise equal (max diff {diff})"
            report.append((case_dir.name, role, key, diff))
    # broken files (never the evil one)
    b = out / "broken"
    small = json.loads((out / "v1-small" / "case.json").read_text(encoding="utf-8"))
    n = len(load_file(str(out / "v1-small" / "model_f32.safetensors")))
    for fname, check in (("missing_key.safetensors", lambda s: "head.5.bias" not in s and len(s) == n - 1),
                         ("wrong_shape.safetensors", lambda s: list(s["blocks.1.attn.proj.weight"].shape) == [32, 31]),
                         ("extra_key.safetensors", lambda s: "aux_head.weight" in s and len(s) == n + 1)):
        s = load_file(str(b / fname))
        assert check(s), fname
    s = load_file(str(b / "extra_key.safetensors"))
    del s["aux_head.weight"]
    got = reference_logits(model_with_state(small["architecture"], s),
                           torch.tensor(small["inputs"]["values"]).reshape(small["inputs"]["shape"]))
    assert torch.equal(got, torch.tensor(small["expected"]["f32"], dtype=torch.float32))
    assert yaml.safe_load((b / "config_contradicts.yaml").read_text())["model"]["embed_dim"] == 64
    assert len((b / "labels_wrong_count.txt").read_text().split()) == 8
    with zipfile.ZipFile(b / "evil_os_system.pth") as z:  # inspect as bytes only; never unpickle
        pk = z.read("archive/data.pkl")
        assert b"posix\nsystem" in pk and z.testzip() is None
    return report


# ----------------------------------------------------------------------------------------------------------
# SignBERT v2 cases (spec, "v2"): every flag combination at a small size, a training run, V != 27, and one
# sequence of the default length 1 + 64 x 27 = 1,729 tokens (several attention tiles, ragged tails).
# ----------------------------------------------------------------------------------------------------------

V2_FLAGS = ("use_cls_token", "normalize_skeleton", "use_velocity", "use_bone")


def v2_arch(num_joints, num_coords, num_frames, embed_dim, depth, num_heads, mlp_ratio, num_classes, flags):
    arch = arch_dict(num_joints, num_coords, num_frames, embed_dim, depth, num_heads, mlp_ratio, num_classes)
    arch["variant"] = "v2"
    arch.update({k: bool(v) for k, v in zip(V2_FLAGS, flags)})
    return arch


def v2_model(arch, sd=None, seed=None):
    kwargs = {k: v for k, v in arch.items() if k != "variant"}
    if sd is None:
        torch.manual_seed(seed)
        m = SignBERTV2(**kwargs)
        randomize_(m, torch.Generator().manual_seed(seed + 1))
        with torch.no_grad():  # the embeddings at the scale of a trained model's, not 1/sqrt(D)-tiny
            for name, p in m.named_parameters():
                if "embed" in name or "cls_token" in name:
                    p.mul_(4.0)
    else:
        m = SignBERTV2(**kwargs)
        m.load_state_dict(sd, strict=True)
    return m.eval()


def make_v2_clips(seed, batch, frames, joints, coords, pad_tail=0):
    """Skeletons NOT centred on joint 0 (each clip offset somewhere in the frame), so normalize_skeleton's
    centring and shoulder scaling matter; values are multiples of 1/256. The last clip ends in `pad_tail`
    zero frames, as the request layer pads short clips (their shoulder distance clamps to 1e-6)."""
    rng = np.random.default_rng(seed)
    x = make_clips(seed, batch, frames, joints, coords).numpy().astype(np.float64)
    offset = rng.uniform(0.5, 2.5, size=(batch, 1, 1, min(coords, 2)))
    x[..., :min(coords, 2)] += offset
    if pad_tail:
        x[-1, frames - pad_tail:] = 0.0
    x = np.round(x * 256.0) / 256.0
    return torch.from_numpy(x.astype(np.float32))


def v2_config_yaml(arch, path, experiment):
    cfg = training_config(arch, optimizer="adamw", lr=0.0001, output_dir=f"./logs/{experiment}", experiment=experiment)
    cfg["model"]["type"] = "signbert_v2"
    cfg["model"].update({k: arch[k] for k in V2_FLAGS})
    write_yaml(cfg, path)


def v2_case(out, name, arch, seed, batch, pad_tail, short_frames, training_run=False, labels=None, notes=""):
    d = out / name
    model = v2_model(arch, seed=seed)
    sd = model.state_dict()
    files, by_file = {}, {}
    summary = ""
    if training_run:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)
        train_losses, train_accs = train_a_little(model, arch, opt, sched, seed=seed + 2)
        sd = model.state_dict()
        ckpt = {
            "epoch": 3, "model_state_dict": sd, "optimizer_state_dict": opt.state_dict(),
            "scheduler_state_dict": sched.state_dict(), "best_val_loss": 1.52, "best_val_f1": np.float32(0.81),
            "best_val_acc": np.float64(0.86), "train_losses": train_losses, "val_losses": [1.9, 1.52],
            "train_accs": train_accs, "val_accs": [70.0, 86.0], "val_f1s": [np.float64(0.66), np.float64(0.81)],
        }
        torch_save(ckpt, d / "training_run" / "checkpoint_best.pth")
        v2_config_yaml(arch, d / "training_run" / "config.yaml", name)
        files.update(training_run="training_run/checkpoint_best.pth", config_yaml="training_run/config.yaml")
        by_file["training_run"] = "f32"
        if labels:
            mapping = {"label_to_folder": {str(i): n for i, n in enumerate(labels)},
                       "folder_to_label": {n: i for i, n in enumerate(labels)}, "num_classes": len(labels)}
            (d / "training_run" / "label_mapping.json").write_text(json.dumps(mapping, indent=2) + "\n", encoding="utf-8")
            files["label_mapping"] = "training_run/label_mapping.json"
        dp_sd = nn.DataParallel(model).state_dict()
        torch_save(dp_sd, d / "bare_module.pth")
        files["bare_module"] = "bare_module.pth"
        by_file["bare_module"] = "f32"
    else:
        v2_config_yaml(arch, d / "config.yaml", name)
        files["config_yaml"] = "config.yaml"
    save_st(sd, d / "model_f32.safetensors")
    files["safetensors_f32"] = "model_f32.safetensors"
    by_file["safetensors_f32"] = "f32"

    x = make_v2_clips(seed + 3, batch, arch["num_frames"], arch["num_joints"], arch["num_coords"], pad_tail)
    logits = reference_logits(model, x)
    man = manifest(name, arch, files, by_file, x, {"f32": logits}, labels, notes)
    if short_frames:
        # A clip shorter than num_frames (v2 slices temporal_pos_embed[:, :T] and uses n mod T).
        xs = make_v2_clips(seed + 4, 1, short_frames, arch["num_joints"], arch["num_coords"])
        man["short_inputs"] = {"shape": list(xs.shape), "values": [float(v) for v in xs.reshape(-1).tolist()],
                               "expected": f32_list(reference_logits(model, xs))}
    dump_json(man, d / "case.json")
    flags = "".join(k.split("_")[1][0] + str(int(arch[k])) for k in V2_FLAGS)
    summary = (f"v2 {flags} V={arch['num_joints']} C={arch['num_coords']} T={arch['num_frames']} "
               f"D={arch['embed_dim']} tokens={int(arch['use_cls_token']) + arch['num_frames'] * arch['num_joints']}")
    return {"dir": d, "summary": summary}


def write_v2_cases(out):
    cases = []
    # All 16 flag combinations at a small size (T = 6 even: the lower median; short clip T = 5).
    for i in range(16):
        flags = tuple(bool(i >> (3 - j) & 1) for j in range(4))
        name = "v2-flags-" + "".join(str(int(f)) for f in flags)
        arch = v2_arch(27, 3, 6, 16, 1, 2, 2.0, 5, flags)
        cases.append(v2_case(out, name, arch, seed=3000 + 10 * i, batch=2, pad_tail=2, short_frames=5,
                             notes="flags in the folder name: use_cls_token, normalize_skeleton, use_velocity, use_bone"))
    # A training run (AdamW state, numpy scalars, labels), 4 heads only in config.yaml, all flags on.
    cases.append(v2_case(out, "v2-training-run", v2_arch(27, 3, 8, 32, 2, 4, 4.0, 9, (True,) * 4), seed=3200,
                         batch=3, pad_tail=3, short_frames=3, training_run=True, labels=LABELS_9,
                         notes="num_heads 4 only in config.yaml; the third clip's last 3 frames are zero padding"))
    # V != 27: no bones (parents all -1) and hand type 0 everywhere; 2 coordinates, odd T.
    cases.append(v2_case(out, "v2-joints-10", v2_arch(10, 2, 7, 24, 2, 3, 2.0, 4, (True,) * 4), seed=3300,
                         batch=2, pad_tail=0, short_frames=4,
                         notes="V = 10: parents all -1 (bone features all 0), hand type 0 for every joint"))
    # The default sequence length: 1 + 64 x 27 = 1,729 tokens (4 key tiles of 512, query tiles of 64 with a
    # tail of 1), at a small width so the file stays small.
    cases.append(v2_case(out, "v2-long", v2_arch(27, 3, 64, 16, 1, 2, 2.0, 3, (True,) * 4), seed=3400,
                         batch=1, pad_tail=0, short_frames=0,
                         notes="the default token count 1,729 at D=16, depth 1"))
    return cases


def verify_v2(out):
    """Reload every v2 model file from disk and check it reproduces the manifest's logits bitwise."""
    report = []
    for case_dir in sorted(p for p in out.iterdir() if (p / "case.json").exists()):
        man = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
        arch = man["architecture"]
        if arch.get("variant") != "v2":
            continue
        cfg_path = man["files"]["config_yaml"]
        mcfg = yaml.safe_load((case_dir / cfg_path).read_text(encoding="utf-8"))["model"]
        assert all(mcfg[k] == arch[k] for k in V2_FLAGS), case_dir.name
        x = torch.tensor(man["inputs"]["values"], dtype=torch.float32).reshape(man["inputs"]["shape"])
        for role in man["expected_key_by_file"]:
            path = case_dir / man["files"][role]
            if path.suffix == ".pth":
                obj = torch.load(path, map_location="cpu", weights_only=False)
                sd = obj["model_state_dict"] if role == "training_run" else obj
                sd = OrderedDict((k[len("module."):] if k.startswith("module.") else k, v) for k, v in sd.items())
            else:
                sd = load_file(str(path))
            assert ("cls_token" in sd) == arch["use_cls_token"], case_dir.name
            got = reference_logits(v2_model(arch, sd=sd), x)
            want = torch.tensor(man["expected"]["f32"], dtype=torch.float32)
            assert torch.equal(got, want), (case_dir.name, role)
            report.append((case_dir.name, role, "f32", 0.0))
    return report


def main():
    out = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    marker_before = os.path.exists(PWNED_MARKER)
    small = case_v1_small(out)
    heads = case_v1_heads_from_config(out)
    feats = case_v1_features(out)
    case_broken(out, small)
    v2_cases = write_v2_cases(out)
    report = verify(out) + verify_v2(out)
    assert os.path.exists(PWNED_MARKER) == marker_before, "something executed the evil pickle!"
    print(f"fixtures written to {out}")
    for c in (small, heads, feats):
        print(f"  {c['dir'].name}: torch f32 vs float64 spec forward, max |diff| = "
              + ", ".join(f"{k} {v:.2e}" for k, v in c["diffs"].items()))
    print(f"  v1-heads-from-config: with 8 heads instead of 6 the logits move by up to {heads['wrong_heads_diff']:.3g}")
    for c in v2_cases:
        print(f"  {c['dir'].name}: {c['summary']}")
    for name, role, key, diff in report:
        print(f"  reload {name}/{role} ({key}): max |diff| = {diff:.1e}")
    total = 0
    for p in sorted(out.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            print(f"  {p.stat().st_size:>9,d}  {p.relative_to(out)}")
    print(f"  {total:>9,d}  total")


if __name__ == "__main__":
    main()
