#!/usr/bin/env python3
"""Times the landmark and .pose input paths on 10,000-frame clips: `signbert predict` (release build) on a
10,000-frame landmark request and a 10,000-frame .pose file, minus the same command on a 6-frame request (model
load + one forward pass), interleaved with the numpy reference (json / pose-format read, array form, the spec's
steps 1-4) in this process. Medians of ROUNDS runs each.

    /work/venv/bin/python tools/bench_preprocess.py "$(swift build -c release --show-bin-path)/signbert" [ROUNDS]
"""
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
from make_preprocess_fixtures import HAND_NAMES, POSE_NAMES, pose_to_arrays  # noqa: E402
from signbert_preprocess import preprocess_holistic  # noqa: E402

N = 10_000


def synthetic(rng):
    t = np.arange(N)[:, None]
    pose = 0.5 + 0.1 * np.sin(t / 30 + rng.uniform(0, 6, (1, 33)))[..., None] * np.array([1, 1])
    left = 0.6 + 0.05 * np.sin(t / 20 + rng.uniform(0, 6, (1, 21)))[..., None] * np.array([1, 1])
    right = 0.4 + 0.05 * np.cos(t / 25 + rng.uniform(0, 6, (1, 21)))[..., None] * np.array([1, 1])
    left_seen = (t[:, 0] // 300) % 3 != 0   # missing in runs of 300 frames
    right_seen = (t[:, 0] // 170) % 5 != 0
    return np.round(pose, 5), np.round(left, 5), np.round(right, 5), left_seen, right_seen


def write_inputs(directory):
    rng = np.random.default_rng(1)
    pose, left, right, left_seen, right_seen = synthetic(rng)
    frames = []
    for f in range(N):
        frame = {"pose": [[*pose[f, i], 0.0, 0.9] for i in range(33)]}
        if left_seen[f]:
            frame["left_hand"] = [[*left[f, i], 0.0] for i in range(21)]
        if right_seen[f]:
            frame["right_hand"] = [[*right[f, i], 0.0] for i in range(21)]
        frames.append(frame)
    request = directory / "big.json"
    request.write_text(json.dumps({"inputs": [{"image_width": 1280, "image_height": 720, "frames": frames}]},
                                  separators=(",", ":")))

    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions
    components = [PoseHeaderComponent("POSE_LANDMARKS", POSE_NAMES, [], [], "XYZC"),
                  PoseHeaderComponent("LEFT_HAND_LANDMARKS", HAND_NAMES, [], [], "XYZC"),
                  PoseHeaderComponent("RIGHT_HAND_LANDMARKS", HAND_NAMES, [], [], "XYZC")]
    data = np.zeros((N, 1, 75, 3), np.float32)
    data[:, 0, :33, :2] = pose * [1280, 720]
    data[:, 0, 33:54, :2] = left * [1280, 720]
    data[:, 0, 54:, :2] = right * [1280, 720]
    confidence = np.ones((N, 1, 75), np.float32) * 0.9
    confidence[~left_seen, 0, 33:54] = 0
    confidence[~right_seen, 0, 54:] = 0
    buffer = io.BytesIO()
    Pose(PoseHeader(0.2, PoseHeaderDimensions(1280, 720, 0), components),
         NumPyPoseBody(fps=30, data=data, confidence=confidence)).write(buffer)
    pose_file = directory / "big.pose"
    pose_file.write_bytes(buffer.getvalue())
    return request, pose_file


def numpy_json(path):
    document = json.loads(path.read_text())
    clip = document["inputs"][0]
    w, h = clip["image_width"], clip["image_height"]
    n = len(clip["frames"])
    arrays = {k: np.zeros((n, c, 3), np.float32) for k, c in (("pose", 33), ("left_hand", 21), ("right_hand", 21))}
    for f, frame in enumerate(clip["frames"]):
        for key, array in arrays.items():
            points = frame.get(key)
            if points:
                p = np.asarray(points, np.float64)
                array[f, :, 0] = p[:, 0] * w
                array[f, :, 1] = p[:, 1] * h
                array[f, :, 2] = p[:, 3] if key == "pose" else 1.0
    return preprocess_holistic(arrays["pose"], arrays["left_hand"], arrays["right_hand"])


def numpy_pose(path):
    from pose_format import Pose
    return preprocess_holistic(*pose_to_arrays(Pose.read(path.read_bytes())))


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    small = HERE.parent / "examples/holistic-request.json"
    with tempfile.TemporaryDirectory() as scratch:
        request, pose_file = write_inputs(Path(scratch))
        model = str(HERE.parent / "models/demo-gestures")
        def cli(*args):
            return lambda: subprocess.run([binary, "predict", "--model", model, "--threads", "1", *args],
                                          check=True, capture_output=True)
        runs = {"swift 6-frame request (baseline)": cli("--input", str(small)),
                "swift 10k-frame landmark JSON": cli("--input", str(request)),
                "swift 10k-frame .pose": cli("--pose", str(pose_file)),
                "numpy 10k-frame landmark JSON": lambda: numpy_json(request),
                "numpy 10k-frame .pose (pose-format)": lambda: numpy_pose(pose_file)}
        times = {name: [] for name in runs}
        for _ in range(rounds):
            for name, run in runs.items():  # interleaved
                times[name].append(timed(run))
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"sizes: {request.stat().st_size / 1e6:.1f} MB JSON, {pose_file.stat().st_size / 1e6:.1f} MB .pose; "
              f"{rounds} interleaved rounds, medians")
        for name, value in medians.items():
            print(f"  {name:40s} {value * 1000:8.1f} ms")
        base = medians["swift 6-frame request (baseline)"]
        swift_json = medians["swift 10k-frame landmark JSON"] - base
        swift_pose = medians["swift 10k-frame .pose"] - base
        print(f"  swift landmark JSON over the baseline: {swift_json * 1000:.1f} ms "
              f"(numpy / swift = {medians['numpy 10k-frame landmark JSON'] / swift_json:.1f}x)")
        print(f"  swift .pose over the baseline:         {swift_pose * 1000:.1f} ms "
              f"(numpy / swift = {medians['numpy 10k-frame .pose (pose-format)'] / swift_pose:.1f}x)")


if __name__ == "__main__":
    main()
