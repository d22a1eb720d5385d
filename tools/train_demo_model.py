"""Train the bundled demo model (models/demo-gestures): SignBERT v1 at the default architecture on the
synthetic gestures of tools/gesture_data.py, and write everything that depends on it:

- <out>/model.safetensors (F16, keys = the state_dict keys), config.json, labels.txt, README.md (the model
  card, with this run's numbers);
- the Swift test's held-out fixture (Tests/SignBERTRuntimeTests/Fixtures/demo-heldout/): clips.safetensors
  (F32 `clips` [N,64,27,3], F32 `labels` [N]) and expected.json (PyTorch's predictions and logits with the
  F16-rounded weights, float32 compute, eval mode);
- the request bodies of examples/ (one per class in examples/gestures/, plus wave/circle/push at the top).

Regenerate (from the repository root; about 5 minutes on 2 CPU threads):
    python3 tools/train_demo_model.py --out models/demo-gestures
(with the project's PyTorch environment, e.g. /work/venv/bin/python). Fully seeded: --seed picks the data of
every split and the initialisation; the same seed, thread count and torch build give the same files.
"""
import argparse
import json
import os
import platform
import time

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS)
import gesture_data  # noqa: E402
from signbert_reference import SignBERT  # noqa: E402

CLASSES = gesture_data.CLASSES
ARCH = dict(num_joints=27, num_coords=3, num_frames=64, embed_dim=256, depth=6, num_heads=8, mlp_ratio=4.0)
EXAMPLE_NAMES_TOP = ["wave", "circle", "push"]


def split_seed(seed, split):
    return {"train": 1, "val": 2, "test": 3, "heldout": 4, "examples": 5}[split] + 1000 * seed


def log(msg):
    print(msg, flush=True)


@torch.no_grad()
def predict(model, xs, batch=100):
    model.eval()
    out = [model(torch.from_numpy(xs[i:i + batch])) for i in range(0, len(xs), batch)]
    return torch.cat(out).numpy()


def accuracy(logits, ys):
    return float((logits.argmax(1) == ys).mean())


def f16_rounded(model):
    """A copy of the model whose parameters are the F16-rounded values (what ships), in float32."""
    m = SignBERT(num_classes=len(CLASSES), **ARCH)
    m.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    return m.eval()


def train(args, data):
    xtr, ytr = data["train"]
    torch.manual_seed(args.seed)
    model = SignBERT(num_classes=len(CLASSES), dropout=0.1, **ARCH)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps_per_epoch = (len(xtr) + args.batch - 1) // args.batch
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / args.warmup) * (0.1 + 0.45 * (1 + np.cos(np.pi * min(s, total) / total))))
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    gen = torch.Generator().manual_seed(args.seed + 7)
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    history = []
    t_start = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        loss_sum, correct = 0.0, 0
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            logits = model(xt[idx])
            loss = crit(logits, yt[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yt[idx]).sum())
        val_acc = accuracy(predict(model, data["val"][0]), data["val"][1])
        rec = {"epoch": epoch + 1, "train_loss": loss_sum / len(xt), "train_acc_running": correct / len(xt),
               "val_acc": val_acc, "elapsed_s": time.time() - t_start}
        history.append(rec)
        log(f"epoch {epoch + 1}/{args.epochs}: loss {rec['train_loss']:.4f}, running train acc "
            f"{rec['train_acc_running']:.4f}, val acc {val_acc:.4f}, {rec['elapsed_s']:.0f} s")
    args.load_average = os.getloadavg()[1]  # 5-minute load average at the end of training
    return model, history, time.time() - t_start


def clip_json(clip):
    """A [64][27][3] nested list rounded to 4 decimals (no negative zeros)."""
    r = np.round(clip.astype(np.float64), 4) + 0.0
    return [[[float(v) for v in joint] for joint in frame] for frame in r]


def request_text(clip, top_k=3):
    """The server's request body {"inputs": [clip], "top_k": 3}, one frame per line."""
    frames = clip_json(clip)
    lines = [json.dumps(f, separators=(",", ":")) for f in frames]
    return '{"inputs": [[\n' + ",\n".join(lines) + '\n]], "top_k": %d}\n' % top_k


def softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def write_examples(model16, args):
    """One example per class: among 16 generated candidates per class (seeded), the one the F16 model
    gives the highest probability for its class, after rounding to 4 decimals; it must be the top class
    with probability >= 0.6 and a margin >= 0.3 over the second."""
    out_dir = os.path.join(REPO, args.examples)
    os.makedirs(os.path.join(out_dir, "gestures"), exist_ok=True)
    per_class = 16
    xs, ys, params = gesture_data.make_dataset(per_class * len(CLASSES), split_seed(args.seed, "examples"))
    rounded = np.stack([np.array(clip_json(x), dtype=np.float32) for x in xs])
    probs = softmax(predict(model16, rounded).astype(np.float64))
    chosen = {}
    for i in range(len(xs)):
        c = int(ys[i])
        order = np.argsort(-probs[i])
        ok = order[0] == c and probs[i, order[0]] >= 0.6 and probs[i, order[0]] - probs[i, order[1]] >= 0.3
        if ok and (c not in chosen or probs[i, c] > probs[chosen[c], c]):
            chosen[c] = i
    missing = [CLASSES[c] for c in range(len(CLASSES)) if c not in chosen]
    if missing:
        raise SystemExit(f"no confident example for {missing}: train longer")
    rows = []
    for c, name in enumerate(CLASSES):
        i = chosen[c]
        text = request_text(xs[i])
        with open(os.path.join(out_dir, "gestures", f"{name}.json"), "w") as f:
            f.write(text)
        if name in EXAMPLE_NAMES_TOP:
            with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
                f.write(text)
        order = np.argsort(-probs[i])
        rows.append((name, params[i], [(CLASSES[k], float(probs[i, k])) for k in order[:3]]))
    write_examples_readme(out_dir, rows, args)
    return rows


def write_examples_readme(out_dir, rows, args):
    lines = [
        "# Example requests for the bundled demo model",
        "",
        "Request bodies for `models/demo-gestures` (the synthetic gesture demo, see its README): each is one",
        "preprocessed clip, `{\"inputs\": [clip], \"top_k\": 3}` with `clip` a [64][27][3] nested list (64 frames,",
        "the 27 joints of the `mediapipe_27` layout, x / y normalised and the confidence channel), rounded to",
        "4 decimals. They are generated by `tools/gesture_data.py` and preprocessed by",
        "`tools/signbert_preprocess.py` exactly as the model's training data.",
        "",
        "- `wave.json`, `circle.json`, `push.json`: three of them, for the top-level README's commands;",
        "- `gestures/<class>.json`: one per class (the three above are copies of their `gestures/` files).",
        "",
        "The expected answer, from PyTorch with the shipped F16 weights (float32 compute); a runtime that",
        "matches PyTorch gives the same top class and scores within rounding:",
        "",
        "| file | the clip | expected top class | top-3 scores (softmax) |",
        "| --- | --- | --- | --- |",
    ]
    for name, p, top in rows:
        desc = (f"{p['class']}, {p['dominant']} hand, other hand {p['other_hand']}, "
                f"{p['frames']} raw frames")
        scores = ", ".join(f"{k} {v:.3f}" for k, v in top)
        lines.append(f"| `gestures/{name}.json` | {desc} | **{top[0][0]}** | {scores} |")
    lines += [
        "",
        "Send one as the body of a prediction request, e.g. (with the server's address and prediction route",
        "from the top-level README in place of `$URL`):",
        "",
        "```",
        "curl -s -X POST \"$URL\" -H 'Content-Type: application/json' --data-binary @examples/wave.json",
        "```",
        "",
        f"Regenerated with the model by `python3 tools/train_demo_model.py --out {args.out}`.",
        "",
    ]
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("\n".join(lines))


def confusion_table(logits, ys):
    """The confusion matrix as a markdown table (rows: true class, columns: predicted)."""
    cm = np.zeros((len(CLASSES), len(CLASSES)), dtype=np.int64)
    for t, p in zip(ys, logits.argmax(1)):
        cm[t, p] += 1
    head = "| true \\ predicted | " + " | ".join(CLASSES) + " |\n| --- |" + " --- |" * len(CLASSES)
    rows = ["| " + CLASSES[i] + " | " + " | ".join(str(v) for v in cm[i]) + " |" for i in range(len(CLASSES))]
    return head + "\n" + "\n".join(rows)


def write_heldout(model16, args):
    out_dir = os.path.join(REPO, args.heldout)
    os.makedirs(out_dir, exist_ok=True)
    xs, ys, _ = gesture_data.make_dataset(args.heldout_size, split_seed(args.seed, "heldout"))
    logits = predict(model16, xs)
    pred = logits.argmax(1)
    save_file({"clips": torch.from_numpy(xs).contiguous(), "labels": torch.from_numpy(ys.astype(np.float32))},
              os.path.join(out_dir, "clips.safetensors"))
    os.chmod(os.path.join(out_dir, "clips.safetensors"), 0o644)
    expected = {
        "description": "PyTorch (tools/signbert_reference.py) on clips.safetensors with the F16 weights of "
                       "models/demo-gestures/model.safetensors converted to float32, float32 compute, eval mode",
        "model": args.out,
        "labels": CLASSES,
        "num_clips": int(len(xs)),
        "accuracy": accuracy(logits, ys),
        "num_correct": int((pred == ys).sum()),
        "predicted": [int(p) for p in pred],
        "true": [int(y) for y in ys],
        "logits": [[float(v) for v in row] for row in logits],
        "note": "top2_margin = top logit - second logit per clip; a runtime whose logits differ from "
                "PyTorch's by less than half of it predicts the same class",
        "top2_margin": [float(r[-1] - r[-2]) for r in np.sort(logits, axis=1)],
        "min_top2_margin": float((np.sort(logits, axis=1)[:, -1] - np.sort(logits, axis=1)[:, -2]).min()),
    }
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        f.write(json.dumps(expected, indent=1) + "\n")
    return expected


def write_model(model, args, metrics, history, train_time, sizes, heldout):
    out = os.path.join(REPO, args.out)
    os.makedirs(out, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(out, "model.safetensors"), 0o644)
    config = {"format": "signbert-model", "format_version": 1, "architecture": "signbert-v1",
              **ARCH, "num_classes": len(CLASSES), "skeleton_layout": "mediapipe_27",
              "source": "tools/train_demo_model.py (synthetic demo)",
              # Trained on 64-frame clips normalised by tools/signbert_preprocess.py's neck centre (99e759a's),
              # though it is a v1 model (whose default would be cf4dfbb's mid-hip): say so.
              "data_num_frames": 64, "preprocessing": "neck"}
    config = {k: config[k] for k in ["format", "format_version", "architecture", "num_joints", "num_coords",
                                     "num_frames", "embed_dim", "depth", "num_heads", "mlp_ratio",
                                     "num_classes", "skeleton_layout", "source", "data_num_frames",
                                     "preprocessing"]}
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    write_card(out, args, metrics, history, train_time, sizes, heldout)


def write_card(out, args, m, history, train_time, sizes, heldout):
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    epochs_table = "\n".join(
        f"| {h['epoch']} | {h['train_loss']:.4f} | {pct(h['train_acc_running'])} | {pct(h['val_acc'])} |"
        for h in history)
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = f"""# demo-gestures: a synthetic gesture demo for SignBERT v1

**What it is.** A small SignBERT v1 (the default architecture: 27 joints x 3 channels, 64 frames, D=256,
depth 6, 8 heads, MLP ratio 4; 4.8 M parameters) trained for a few minutes on synthetic clips, so that the
server has a model that gives meaningful answers out of the box, and the runtime has an end-to-end test.

**What it is not.** Not a sign-language model and not trained on people: the "signer" is a kinematic stick
figure (tools/gesture_data.py) and the eight classes are simple hand motions, not signs. It knows nothing
outside these eight motions: on real MediaPipe recordings its answers mean little, and as any classifier it
answers one of its classes for any input.

## Classes (labels.txt, in class-id order)

| id | label | the motion (dominant hand; the image's left/right) |
| --- | --- | --- |
| 0 | wave | open hand raised beside the head, rocking side to side (2-4 cycles) |
| 1 | circle | index finger pointing; the hand draws 1-2 circles in front of the chest, either way round |
| 2 | swipe_left | flat hand, palm sideways, sweeps once toward the image's left (x decreasing) |
| 3 | swipe_right | the same toward the image's right (x increasing) |
| 4 | push | open palm pushed from the chest toward the camera: the hand grows, the arm extends |
| 5 | pull | an open hand reaching out closes into a fist and is pulled back to the chest: the hand shrinks |
| 6 | tap | index finger pointing down, 3-5 quick taps downward at belly height |
| 7 | fist_open | hand held up in front of the chest, closing into a fist and opening again, 2-3 times |

"Left" and "right" of the swipes are directions in the image (x of the skeleton), not the signer's; the
person faces a camera that does not mirror, so the signer's left hand (joints 5-15) is on the image's right.

## The data

Generated by `tools/gesture_data.py` (numpy), seeded (clip i of a split depends only on the split's seed
and i). A stick figure in body units (shoulder width s): shoulders with body roll, slow sway and jitter;
each arm a two-link chain (upper arm 0.62 s, forearm 0.55 s) solved by 3-D inverse kinematics from a wrist
trajectory per class; each hand 11 points (wrist, thumb MCP and tip, and MCP and tip of the four fingers)
from the wrist, an in-plane rotation, palm width and finger foreshortening factors and a curl per finger; a
weak-perspective camera (a hand moving toward the camera grows: the depth cue of push and pull).
Variation per clip: 30-120 raw frames, speed and number of repetitions, amplitude, position, body size
(shoulders 0.17-0.32 of the image width) and image size (640x480, 960x540, 1280x720, 720x1280), dominant
hand (right or left, 50% each) with the other hand resting low (65%) or undetected (35%), pixel noise
(0.3-2.5 px), pose visibilities 0.85-1.0, dropped hand detections (runs of 1-9 frames at zero), dropped
pose frames (15% of clips), lead-in from and lead-out to the rest position.
Raw clips are (n, 27, 3) in pixels, in the `mediapipe_27` layout (0 neck, 1-2 shoulders, 3-4 elbows, 5-15
left hand, 16-26 right hand; third channel = visibility, 1.0 for hand points, zeros when undetected).

They are then preprocessed exactly as the spec's "The inputs the model was trained on" says, by
`tools/signbert_preprocess.py`: (1) per joint, linear interpolation over time of missing points, extrapolated
at the ends, where the joint has at least 2 detected frames and not all; (2) to 64 frames
(`floor(linspace(0, n-1, 64))` for longer clips, zero padding at the end of shorter ones); (4) x, y minus the
neck of the same frame, divided by 1.2 x the median shoulder distance. The generator produces the 27 joints
directly (the neck is the mean of the two shoulders), which skips step (3) and gives the same result.
A runtime must feed the model clips prepared this way (a raw Holistic clip through the same pipeline).
The neck centring is commit 99e759a's, though this is a v1 model (a v1 checkpoint of the training repo has
cf4dfbb's mid-hip centring): `config.json` says so (`"preprocessing": "neck"`, `"data_num_frames": 64`).

Splits: {sizes['train']} training, {sizes['val']} validation, {sizes['test']} test clips (balanced, seeds
{split_seed(args.seed, 'train')}, {split_seed(args.seed, 'val')}, {split_seed(args.seed, 'test')}); the
held-out fixture of the Swift test (`Tests/SignBERTRuntimeTests/Fixtures/demo-heldout/`) is another
{heldout['num_clips']} clips (seed {split_seed(args.seed, 'heldout')}), the examples (`examples/`) come from seed
{split_seed(args.seed, 'examples')}.

## Training

`tools/signbert_reference.py`'s `SignBERT` (dropout 0.1), the training repository's recipe: AdamW,
lr {args.lr:g}, weight decay 0.01, cross-entropy with label smoothing 0.1, gradient clipping at norm 5,
a linear warm-up over {args.warmup} steps then a cosine decay to 0.1 x lr (per step), batch {args.batch},
{args.epochs} epochs; seed {args.seed}, `torch.use_deterministic_algorithms(True)`, 2 threads.
Training took {train_time:.0f} s ({train_time / 60:.1f} min) on {cpu} ({os.cpu_count()} vCPU), PyTorch
{torch.__version__}; the machine was shared (5-minute load average {args.load_average:.1f} at the end of
training): on 2 idle cores an epoch takes about 60 s, the whole run about 7 minutes.

| epoch | train loss | running train acc (dropout on) | validation acc |
| --- | --- | --- | --- |
{epochs_table}

## Accuracy

Eval mode. F32 = the trained weights; F16 = the weights rounded to F16 as shipped (`model.safetensors`),
computed in float32.

| split | clips | F32 | F16 (shipped) |
| --- | --- | --- | --- |
| train | {sizes['train']} | {pct(m['train_f32'])} | {pct(m['train_f16'])} |
| validation | {sizes['val']} | {pct(m['val_f32'])} | {pct(m['val_f16'])} |
| test | {sizes['test']} | {pct(m['test_f32'])} | {pct(m['test_f16'])} |
| held-out fixture | {heldout['num_clips']} | | {pct(heldout['accuracy'])} |

Largest difference between the F32 and the F16 model's test logits: {m['f16_max_logit_diff']:.2e}
(predictions that differ: {m['f16_pred_changes']} of {sizes['test']}).

The test set's confusion matrix (F16):

{m['test_confusion_f16']}

## Files

- `model.safetensors`: F16, keys exactly the state_dict keys of SignBERT v1 (no prefix);
- `config.json`: the architecture (num_heads cannot be read from the weights), `skeleton_layout`;
- `labels.txt`: one label per line, in class-id order.

## Regenerating

```
python3 tools/train_demo_model.py --out {args.out}
```
(with PyTorch, numpy and safetensors installed; about 7 minutes on 2 idle threads). It rewrites this
directory, the held-out fixture and `examples/` (`--outputs-only` rewrites just the fixture and `examples/` from
the model in this directory). With the same seed, thread count, PyTorch build and CPU the files come out
byte-identical (this card differs only in the time and load it reports); another PyTorch version or CPU
(other kernels, other rounding) may change the last bits of the weights and so the logits.
"""
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description="Train the bundled demo model (synthetic gestures).")
    ap.add_argument("--out", default="models/demo-gestures")
    ap.add_argument("--heldout", default="Tests/SignBERTRuntimeTests/Fixtures/demo-heldout")
    ap.add_argument("--examples", default="examples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--train-size", type=int, default=2400)
    ap.add_argument("--val-size", type=int, default=304)
    ap.add_argument("--test-size", type=int, default=304)
    ap.add_argument("--heldout-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--outputs-only", action="store_true",
                    help="only rewrite the held-out fixture and examples/ from the model already in --out "
                         "(no training)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    if args.outputs_only:
        # Rewrite the held-out fixture and examples/ from the shipped F16 model: what a full run writes
        # (it computes them with the same F16-rounded weights), without training again.
        model16 = SignBERT(num_classes=len(CLASSES), **ARCH)
        state = load_file(os.path.join(REPO, args.out, "model.safetensors"))
        model16.load_state_dict({k: v.float() for k, v in state.items()})
        model16.eval()
        heldout = write_heldout(model16, args)
        log(f"held-out fixture: {heldout['num_correct']}/{heldout['num_clips']} correct")
        for name, _, top in write_examples(model16, args):
            log(f"example {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in top))
        return
    data = {}
    sizes = {"train": args.train_size, "val": args.val_size, "test": args.test_size}
    for split, n in sizes.items():
        xs, ys, _ = gesture_data.make_dataset(n, split_seed(args.seed, split))
        data[split] = (xs, ys)
    log(f"data: {sizes} clips in {time.time() - t0:.1f} s")

    model, history, train_time = train(args, data)
    model.eval()
    model16 = f16_rounded(model)
    metrics = {}
    for split in ("train", "val", "test"):
        xs, ys = data[split]
        l32 = predict(model, xs)
        l16 = predict(model16, xs)
        metrics[f"{split}_f32"] = accuracy(l32, ys)
        metrics[f"{split}_f16"] = accuracy(l16, ys)
        if split == "test":
            metrics["test_confusion_f16"] = confusion_table(l16, ys)
            metrics["f16_max_logit_diff"] = float(np.abs(l32 - l16).max())
            metrics["f16_pred_changes"] = int((l32.argmax(1) != l16.argmax(1)).sum())
    log("accuracy: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                 for k, v in metrics.items() if k != "test_confusion_f16"))
    heldout = write_heldout(model16, args)
    log(f"held-out fixture: {heldout['num_correct']}/{heldout['num_clips']} correct")
    write_model(model, args, metrics, history, train_time, sizes, heldout)
    for name, _, top in write_examples(model16, args):
        log(f"example {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in top))
    log(f"done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
