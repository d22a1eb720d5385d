#!/usr/bin/env python3
"""Make the small checkpoint files the checkpoint-reader tests read (Python is needed only to regenerate them).

    /path/to/venv/bin/python tools/make_reader_fixtures.py [OUT_DIR]

OUT_DIR defaults to Tests/SignBERTRuntimeTests/Fixtures/checkpoint-readers. Needs torch (2.x, CPU), numpy and
safetensors. Every file is well under 100 KB. torch.save's random `.data/serialization_id` member is replaced by
a fixed value (CRCs fixed), so two runs give identical files, but for legacy.pth (its storage keys are
Python object ids).

Files (expected.json records, per file, the keys in order, shapes, stored dtypes, the first values, metadata):
  training-run.pth        training-run dict of a tiny SignBERT v1: model_state_dict, AdamW state after one step,
                          CosineAnnealingLR state, numpy float64/float32/int64 scalars, lists of floats
  bare-module-prefix.pth  bare state_dict, every key prefixed "module." (nn.DataParallel)
  compiled-protocol5.pth  {"state_dict": ...} with "_orig_mod." prefixes, saved with pickle_protocol=5
                          (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE)
  dtypes.pth              float16, bfloat16, float64, int64, bool tensors, a view with a storage offset,
                          two keys sharing one storage, a 0-d tensor
  legacy.pth              torch.save(..., _use_new_zipfile_serialization=False): must be refused
  big-endian.pth          dtypes.pth's layout with byteorder "big": must be refused
  non-contiguous.pth      a transposed tensor saved as is (strides (1, 3)): must be refused
  missing-storage.pth     a state dict whose archive lacks data/0: must be refused
  short-storage.pth       a state dict whose data/0 holds fewer bytes than the tensor needs: must be refused
  evil-reduce.pth         torch.save layout whose data.pkl is GLOBAL 'os system' + REDUCE: must be refused
                          (hand-written bytes; never unpickle it in Python)
  reference-{f32,f16,bf16}.safetensors  written by the safetensors library, with __metadata__
"""
import io
import json
import os
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import torch

from signbert_reference import SignBERT, randomize_  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SignBERTRuntimeTests", "Fixtures",
    "checkpoint-readers")
os.makedirs(OUT, exist_ok=True)
expected = {}


def fix_serialization_id(path):
    """Overwrite the random serialization id in place and patch both CRCs."""
    data = bytearray(open(path, "rb").read())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        infos = [i for i in zf.infolist() if i.filename.endswith(".data/serialization_id")]
        start_dir = zf.start_dir
    for info in infos:
        name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
        begin = info.header_offset + 30 + name_len + extra_len
        value = b"0" * info.file_size
        data[begin:begin + info.file_size] = value
        crc = zlib.crc32(value)
        struct.pack_into("<I", data, info.header_offset + 14, crc)
        pos = start_dir
        while data[pos:pos + 4] == b"PK\x01\x02":
            n, m, k = struct.unpack_from("<HHH", data, pos + 28)
            if data[pos + 46:pos + 46 + n].decode() == info.filename:
                struct.pack_into("<I", data, pos + 16, crc)
            pos += 46 + n + m + k
    open(path, "wb").write(bytes(data))


def save(obj, name, **kw):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kw)
    if kw.get("_use_new_zipfile_serialization", True):
        fix_serialization_id(path)
    return path


def describe(tensors, strip=""):
    """What the Swift reader must produce: keys in order, shapes, dtype, first values as float32."""
    out = []
    for key, t in tensors.items():
        flat = t.detach().reshape(-1).to(torch.float64 if t.dtype == torch.float64 else torch.float32)
        values = [float(np.float32(v)) for v in flat[:4].tolist()]
        dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
                 torch.int64: "I64", torch.bool: "BOOL"}[t.dtype]
        out.append({"key": key[len(strip):] if key.startswith(strip) else key, "shape": list(t.shape),
                    "dtype": dtype, "first": values, "count": t.numel()})
    return out


FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # zipfile would stamp the current time


def rewrite_zip(src, dst, change):
    """Copy a zip member by member; change(name, bytes) returns new bytes or None to drop the member."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            content = change(info.filename, zin.read(info.filename))
            if content is not None:
                zout.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), content)


torch.manual_seed(0)
gen = torch.Generator().manual_seed(1)
model = randomize_(SignBERT(num_joints=2, num_coords=3, num_frames=4, embed_dim=8, depth=1, num_heads=2,
                            mlp_ratio=2.0, num_classes=3), gen)
sd = model.state_dict()

# 1. A training run's checkpoint_best.pth.
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
model.train()
loss = model(torch.randn(2, 4, 2, 3, generator=gen)).logsumexp(-1).mean()
loss.backward()
opt.step()
sched.step()
sd = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
training = {
    "epoch": 7,
    "model_state_dict": sd,
    "optimizer_state_dict": opt.state_dict(),
    "scheduler_state_dict": sched.state_dict(),
    "best_val_loss": 0.4375,
    "best_val_f1": np.float32(0.625),
    "best_val_acc": np.float64(0.8125),
    "train_losses": [1.5, 1.25],
    "val_losses": [1.375],
    "train_accs": [np.float64(0.5)],
    "val_accs": [0.75],
    "val_f1s": [np.int64(3)],
}
save(training, "training-run.pth")
expected["training-run.pth"] = {
    "tensors": describe(sd),
    "metadata": {"epoch": "7", "best_val_loss": "0.4375", "best_val_f1": "0.625", "best_val_acc": "0.8125"},
    "ignored": ["optimizer_state_dict", "scheduler_state_dict", "train_losses", "val_losses", "train_accs",
                "val_accs", "val_f1s"],
}

# 2. Bare state dict from nn.DataParallel.
save(OrderedDict(("module." + k, v) for k, v in sd.items()), "bare-module-prefix.pth")
expected["bare-module-prefix.pth"] = {"tensors": describe(sd), "metadata": {}, "ignored": []}

# 3. torch.compile prefixes under "state_dict", pickle protocol 5.
save({"state_dict": OrderedDict(("_orig_mod." + k, v) for k, v in sd.items()), "arch": "signbert-v1"},
     "compiled-protocol5.pth", pickle_protocol=5)
expected["compiled-protocol5.pth"] = {"tensors": describe(sd), "metadata": {"arch": "signbert-v1"}, "ignored": []}

# 4. Element types and storage sharing.
base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8
tied = torch.tensor([0.5, -1.5, 2.25])
dtypes = OrderedDict([
    ("half", torch.tensor([[1.0, -2.5, 65504.0], [0.000061035156, 3.140625, -0.0]], dtype=torch.float16)),
    ("bf16", torch.tensor([1.0, -3.0, 1.0e30], dtype=torch.bfloat16)),
    ("double", torch.tensor([0.1, -1e-3], dtype=torch.float64)),
    ("long", torch.tensor([3, -4, 1 << 20], dtype=torch.int64)),
    ("flags", torch.tensor([True, False, True])),
    ("row", base[1]),          # storage offset 4 into a 12-element storage
    ("tied_a", tied),
    ("tied_b", tied),          # same storage as tied_a
    ("scalar", torch.tensor(2.5)),
])
save(dtypes, "dtypes.pth")
expected["dtypes.pth"] = {"tensors": describe(dtypes), "metadata": {}, "ignored": []}

# 5-9. Files the reader must refuse.
small = OrderedDict([("w", torch.arange(6, dtype=torch.float32).reshape(2, 3)), ("b", torch.zeros(2))])
save(small, "legacy.pth", _use_new_zipfile_serialization=False)
rewrite_zip(os.path.join(OUT, "dtypes.pth"), os.path.join(OUT, "big-endian.pth"),
            lambda n, b: b"big" if n.endswith("/byteorder") else b)
save({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3).t()}, "non-contiguous.pth")
save(small, "small.tmp.pth")
rewrite_zip(os.path.join(OUT, "small.tmp.pth"), os.path.join(OUT, "missing-storage.pth"),
            lambda n, b: None if n.endswith("/data/0") else b)
rewrite_zip(os.path.join(OUT, "small.tmp.pth"), os.path.join(OUT, "short-storage.pth"),
            lambda n, b: b[:12] if n.endswith("/data/0") else b)
os.remove(os.path.join(OUT, "small.tmp.pth"))

# 10. A malicious data.pkl: {'model_state_dict': os.system('echo pwned')}, as bytes only.
evil_pickle = (b"\x80\x02}q\x00X\x10\x00\x00\x00model_state_dictq\x01cos\nsystem\nq\x02"
               b"X\n\x00\x00\x00echo pwnedq\x03\x85q\x04Rq\x05s.")
with zipfile.ZipFile(os.path.join(OUT, "evil-reduce.pth"), "w", zipfile.ZIP_STORED) as zf:
    for member, content in [("data.pkl", evil_pickle), ("byteorder", b"little"), ("version", b"3\n")]:
        zf.writestr(zipfile.ZipInfo("archive/" + member, FIXED_TIME), content)

# 11. safetensors written by the reference implementation.
for suffix, dtype in [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)]:
    converted = OrderedDict((k, v.to(dtype).contiguous()) for k, v in sd.items())
    name = f"reference-{suffix}.safetensors"
    # One metadata entry: the library writes several in random order.
    save_file(converted, os.path.join(OUT, name), metadata={"format": "pt"})
    # The library lays tensors out in its own order (by dtype, then name); the reader reports data order.
    with open(os.path.join(OUT, name), "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    in_file = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"])
    expected[name] = {"tensors": describe(OrderedDict((k, converted[k]) for k in in_file)),
                      "metadata": {"format": "pt"}, "ignored": []}

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
for name in sorted(os.listdir(OUT)):
    size = os.path.getsize(os.path.join(OUT, name))
    assert size < 100_000, name
    print(f"{size:7d}  {name}")
