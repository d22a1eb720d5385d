#!/usr/bin/env python3
"""Writes Tests/SignBERTRuntimeTests/Fixtures/fidelity/: two small training runs as the training repo's main.py
leaves them, and what PyTorch answers for clips of every form and length sent to them (spec, "The files a
training run leaves" and "The inputs the model was trained on", steps 1-5):

- v1-run/: a SignBERT v1 model (commit cf4dfbb: mid-hip preprocessing), num_frames 64, data.num_frames 64;
- v2-run-d16/: a SignBERT v2 model (commit 99e759a: neck preprocessing), built by the factory with num_frames
  64 and all four flags on, trained on data.num_frames 16.

Each holds training_run/{checkpoint_best.pth, config.yaml, label_mapping.json}; config.yaml has what real runs'
have (no model.num_frames, no v2 flags; the v1 run's num_class is null as in configs/signbert.yaml, and the v2
run's yaml says normalize_skeleton: false, which the training code ignored). case.json holds

- requests: a /predict body of raw landmark clips (landmarks-request.json, shared by both runs) (MediaPipe JSON form: lengths 12, 64 and 71; hips missing in
  one clip (one hip) and in another (both), hands missing) and one of feature arrays (n < D, n = D, n > D with
  odd and even differences);
- the model input numpy builds for each clip (tools/signbert_preprocess.py: steps 1-4 with the run's centre,
  then the loader's step 5 to D; arrays: step 5 only), and PyTorch's float32 eval logits on it;
- the same for Tests/SignBERTRuntimeTests/Fixtures/preprocess/synthetic-v02.pose.

    /work/venv/bin/python tools/make_fidelity_fixtures.py
"""
import json
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
from make_fixtures import (LABELS_9, arch_dict, build_model, reference_logits, torch_save,  # noqa: E402
                           training_config, v2_arch, v2_model, write_yaml)
from make_preprocess_fixtures import floats, make_clip, pose_to_arrays, runs  # noqa: E402
from signbert_preprocess import loader_frames, model_input_holistic  # noqa: E402

OUT = REPO / "Tests/SignBERTRuntimeTests/Fixtures/fidelity"
POSE_FILE = REPO / "Tests/SignBERTRuntimeTests/Fixtures/preprocess/synthetic-v02.pose"


def f32(values):
    return floats(values)


def landmark_clips():
    """Raw landmark clips in the request's JSON form and in the spec's array form."""
    rng = np.random.default_rng(20261201)
    clips = []
    for name, n, hips, left, right in (
            ("n12_left_hand_missing", 12, "both", runs(12), runs(12, (0, 12))),
            ("n64_one_hip_missing", 64, "left", runs(64, (0, 64)), runs(64, (10, 50))),
            ("n71_no_hips", 71, "none", runs(71, (0, 30), (50, 71)), runs(71, (0, 71)))):
        request, pose, lh, rh = make_clip(rng, n, 1280, 720, runs(n, (0, n)), left, right, "arrays")
        # Hips as a recording may have them: the right one (and the left) never detected (x = y = 0).
        gone = {"both": [], "left": [24], "none": [23, 24]}[hips]
        for f, frame in enumerate(request["frames"]):
            for landmark in gone:
                frame["pose"][landmark][0] = 0.0
                frame["pose"][landmark][1] = 0.0
                pose[f, landmark, :2] = 0.0
        clips.append((name, request, pose, lh, rh))
    return clips


def array_clips(d):
    """Feature arrays (stored, normalised clips) of n < D, n = D, n > D by an odd and by an even difference."""
    rng = np.random.default_rng(d)
    out = []
    for n in (d // 2 + 1, d, d + 5, d + 8):
        x = rng.normal(0.0, 0.5, size=(n, 27, 3))
        x[..., 2] = rng.uniform(0.2, 1.0, size=(n, 27))
        out.append(np.round(x * 256.0) / 256.0)
    return out


def label_mapping(path):
    mapping = {"label_to_folder": {str(i): n for i, n in enumerate(LABELS_9)},
               "folder_to_label": {n: i for i, n in enumerate(LABELS_9)}, "num_classes": len(LABELS_9)}
    path.write_text(json.dumps(mapping, indent=2) + "\n", encoding="utf-8")


def run_config(arch, clip_frames, experiment, v2):
    """config.yaml as a real run writes it: no model.num_frames, no v2 flags (the config class drops them)."""
    cfg = training_config(arch, optimizer="adamw", lr=0.0001, output_dir=f"./logs/{experiment}", experiment=experiment)
    del cfg["model"]["num_frames"]
    cfg["data"]["num_frames"] = clip_frames
    if v2:
        cfg["model"]["type"] = "signbert_v2"
        cfg["model"]["normalize_skeleton"] = False  # a hand-written line the training code ignored
    else:
        cfg["model"]["num_class"] = None  # configs/signbert.yaml's, filled in from the data at training time
    return cfg


def write_case(name, model, arch, clip_frames, centre, v2, notes):
    d = OUT / name
    run = d / "training_run"
    run.mkdir(parents=True, exist_ok=True)
    sd = model.state_dict()
    torch_save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {}, "scheduler_state_dict": {},
                "best_val_loss": 1.5, "best_val_f1": np.float32(0.8), "best_val_acc": np.float64(0.85),
                "train_losses": [2.0], "val_losses": [1.5], "train_accs": [50.0], "val_accs": [85.0],
                "val_f1s": [np.float64(0.8)]}, run / "checkpoint_best.pth")
    write_yaml(run_config(arch, clip_frames, name, v2), run / "config.yaml")
    label_mapping(run / "label_mapping.json")

    def logits(model_inputs):
        x = torch.from_numpy(np.stack(model_inputs).astype(np.float32))
        return reference_logits(model, x).numpy()

    landmarks = landmark_clips()
    landmark_inputs = [model_input_holistic(p, l, r, clip_frames, centre) for _, _, p, l, r in landmarks]
    arrays = array_clips(clip_frames)
    array_inputs = [loader_frames(a.astype(np.float32), clip_frames) for a in arrays]
    from pose_format import Pose
    p, l, r = pose_to_arrays(Pose.read(POSE_FILE.read_bytes()))
    pose_input = model_input_holistic(p, l, r, clip_frames, centre)
    case = {
        "name": name, "clip_frames": clip_frames, "preprocessing": centre, "variant": "v2" if v2 else "v1",
        "num_frames": arch["num_frames"], "labels": LABELS_9, "tolerance": 1e-4, "feature_tolerance": 1e-5,
        "landmarks": {
            "names": [c[0] for c in landmarks],
            "request": "landmarks-request.json",
            "model_input": f32(np.stack(landmark_inputs)),
            "logits": f32(logits(landmark_inputs)),
        },
        "arrays": {
            "frames": [a.shape[0] for a in arrays],
            "request": {"inputs": [a.tolist() for a in arrays], "return_logits": True},
            "logits": f32(logits(array_inputs)),
        },
        "pose": {
            "path": "Tests/SignBERTRuntimeTests/Fixtures/preprocess/synthetic-v02.pose",
            "model_input": f32(pose_input),
            "logits": f32(logits([pose_input])),
        },
        "generated_by": "tools/make_fidelity_fixtures.py (numpy preprocessing, PyTorch " + torch.__version__ + ")",
        "notes": notes,
    }
    (d / "case.json").write_text(json.dumps(case, separators=(",", ":")) + "\n")
    (OUT / "landmarks-request.json").write_text(json.dumps(
        {"inputs": [c[1] for c in landmarks], "return_logits": True}, separators=(",", ":")) + "\n")
    # What the other centre would give, to show the choice matters on these clips.
    other = "neck" if centre == "mid-hip" else "mid-hip"
    wrong = logits([model_input_holistic(p_, l_, r_, clip_frames, other) for _, _, p_, l_, r_ in landmarks])
    return float(np.abs(wrong - np.asarray(case["landmarks"]["logits"]).reshape(wrong.shape)).max())


def main():
    torch.set_num_threads(1)
    arch1 = arch_dict(27, 3, 64, 32, 2, 4, 2.0, 9)
    v1 = build_model(arch1, seed=1201).eval()
    diff1 = write_case("v1-run", v1, arch1, 64, "mid-hip", False,
                       "SignBERT v1 of commit cf4dfbb: mid-hip centred landmarks; D = 64 = num_frames")
    arch2 = v2_arch(27, 3, 64, 32, 1, 4, 2.0, 9, (1, 1, 1, 1))
    v2 = v2_model(arch2, seed=1202)
    diff2 = write_case("v2-run-d16", v2, arch2, 16, "neck", True,
                       "SignBERT v2 of commit 99e759a: neck centred landmarks; trained on data.num_frames 16")
    print(f"v1-run: the neck centre instead of the mid-hip moves the logits by up to {diff1:.3g}")
    print(f"v2-run-d16: the mid-hip centre instead of the neck moves the logits by up to {diff2:.3g}")
    for f in sorted(OUT.rglob("*")):
        if f.is_file():
            print(f"  {f.stat().st_size:>9,d}  {f.relative_to(REPO)}")


if __name__ == "__main__":
    main()
