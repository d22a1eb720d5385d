#!/usr/bin/env python3
"""Writes the fixtures of the Swift preprocessing tests under Tests/SignBERTRuntimeTests/Fixtures/preprocess/:
the model input (T x 27 x 3, float32) that the spec's steps 1-4 (tools/signbert_preprocess.py, numpy) give, with
the neck centre (commit 99e759a, "expected") and with the mid-hip centre (cf4dfbb, "expected_mid_hip"), for

- holistic-clips.json: synthetic raw MediaPipe Holistic clips written in the request's landmark JSON form
  (normalised x, y, z, visibility as MediaPipe gives them; missing hands, frames with nothing detected, pose
  missing, a hand detected in one frame only, n < 64, n = 64, n > 64, array and object landmarks);
- pose-files.json: the recordings in the repository, read by the reference reader (the PyPI package pose-format):
  synthetic-v02.pose, a small file of our own synthetic landmarks written by pose-format itself (version 0.2, two
  people, points listed in shuffled order, placeholder coordinates under confidence 0 as MediaPipe recordings
  have), and examples/wave.pose (version 0.1, tools/make_pose_recordings.py);
- shared-pose-files.json: the two real recordings ../shared/data/pose/mediapipe.pose and mediapipe_long.pose (not
  copied here; rewritten only when they are beside the repository). The tests that read them are the
  `SharedRecordings` classes, which tools/test.sh leaves out and .ci/run runs as their own step
  (tools/test_shared_recordings.sh).

The spec's array form is built here from the JSON / the pose-format arrays, independently of the Swift code:
pixels = normalised * image size (float64, then float32); third channel = pose visibility, 1.0 for a detected
hand landmark; an undetected part (or a .pose point with confidence 0, which pose-format masks) all zeros.

    /work/venv/bin/pip install pose-format     # once
    /work/venv/bin/python tools/make_preprocess_fixtures.py

Deterministic (fixed seeds); running it twice gives identical files.
"""
import io
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
from signbert_preprocess import NUM_FRAMES, preprocess_holistic  # noqa: E402


def both_centres(p, l, r):
    """Steps 1-4 with each commit's centre: neck (99e759a) and mid-hip (cf4dfbb)."""
    return {"expected": floats(preprocess_holistic(p, l, r, NUM_FRAMES, "neck")),
            "expected_mid_hip": floats(preprocess_holistic(p, l, r, NUM_FRAMES, "mid-hip"))}

OUT = REPO / "Tests/SignBERTRuntimeTests/Fixtures/preprocess"
SHARED_POSE = REPO.parent / "shared/data/pose"
EXAMPLE_POSE = "examples/wave.pose"  # written by tools/make_pose_recordings.py


def floats(array):
    """float32 values as the shortest decimal that reads back to the same float32."""
    return [float(repr_f32) for repr_f32 in (np.format_float_positional(v, unique=True) for v in
                                              np.asarray(array, dtype=np.float32).ravel())]


# ---------------------------------------------------------------- synthetic landmark clips (request JSON form)

def smooth_track(rng, n, count, lo, hi):
    """n frames of `count` landmarks moving smoothly in [lo, hi] (normalised coordinates)."""
    start = rng.uniform(lo, hi, size=(count, 2))
    phase = rng.uniform(0, 2 * np.pi, size=(count, 2))
    t = np.arange(n)[:, None, None]
    return np.clip(start[None] + 0.05 * np.sin(t / 7.0 + phase[None]), lo - 0.1, hi + 0.1)


def make_clip(rng, n, width, height, detect_pose, detect_left, detect_right, style):
    """A clip in the landmark JSON form plus its spec array form (pose, left, right in pixels)."""
    pose_xy = smooth_track(rng, n, 33, 0.3, 0.7)
    left_xy = smooth_track(rng, n, 21, 0.55, 0.8)
    right_xy = smooth_track(rng, n, 21, 0.2, 0.45)
    z = rng.uniform(-0.5, 0.5, size=(n, 75))
    visibility = rng.uniform(0.2, 1.0, size=(n, 33))
    hand_visibility = rng.uniform(0.0, 1.0, size=(n, 42))  # sent sometimes; must be ignored
    # Rounded as a client might send them; the reference uses exactly these values.
    pose_xy, left_xy, right_xy = (np.round(a, 5) for a in (pose_xy, left_xy, right_xy))
    z = np.round(z, 2)
    visibility, hand_visibility = (np.round(a, 3) for a in (visibility, hand_visibility))

    pose = np.zeros((n, 33, 3), np.float32)
    left = np.zeros((n, 21, 3), np.float32)
    right = np.zeros((n, 21, 3), np.float32)
    scale = np.array([width, height], np.float64)
    frames = []
    for f in range(n):
        frame = {}
        if detect_pose[f]:
            pose[f, :, :2] = (pose_xy[f] * scale).astype(np.float32)
            pose[f, :, 2] = visibility[f].astype(np.float32)
            frame["pose"] = [landmark(style, f, i, pose_xy[f, i], z[f, i], visibility[f, i], True)
                             for i in range(33)]
        for key, xy, detect, out, off in (("left_hand", left_xy, detect_left, left, 33),
                                          ("right_hand", right_xy, detect_right, right, 54)):
            if detect[f]:
                out[f, :, :2] = (xy[f] * scale).astype(np.float32)
                out[f, :, 2] = 1.0
                frame[key] = [landmark(style, f, i, xy[f, i], z[f, off + i], hand_visibility[f, off - 33 + i], False)
                              for i in range(21)]
            elif (f + off) % 2 == 0:
                frame[key] = None  # missing hands are sent both as null and as absent
        frames.append(frame)
    request = {"image_width": width, "image_height": height, "frames": frames}
    return request, pose, left, right


def landmark(style, f, i, xy, z, vis, is_pose):
    x, y = float(xy[0]), float(xy[1])
    if style == "objects" or (style == "mixed" and (f + i) % 3 == 0):
        point = {"x": x, "y": y, "z": float(z)}
        if is_pose or i % 2 == 0:
            point["visibility"] = float(vis)
        return point
    if is_pose or i % 2 == 0:
        return [x, y, float(z), float(vis)]
    return [x, y, float(z)]


def runs(n, *spans):
    """A detection mask of n frames, True inside the half-open spans."""
    mask = np.zeros(n, bool)
    for a, b in spans:
        mask[a:b] = True
    return mask


def holistic_cases():
    rng = np.random.default_rng(20261125)
    cases = []

    def add(name, n, width, height, pose, left, right, style="arrays", missing_hips=()):
        request, p, l, r = make_clip(rng, n, width, height, pose, left, right, style)
        # Hips never detected (x = y = 0): the mid-hip is the other hip, or (0, 0) without either.
        for f, frame in enumerate(request["frames"]):
            for landmark in missing_hips:
                if frame.get("pose"):
                    frame["pose"][landmark][0] = 0.0
                    frame["pose"][landmark][1] = 0.0
                p[f, landmark, :2] = 0.0
        cases.append({"name": name, "frames": n, "request": request, **both_centres(p, l, r)})

    n = 64
    add("n64_all_detected", n, 1280, 720, runs(n, (0, n)), runs(n, (0, n)), runs(n, (0, n)))
    n = 20
    add("short_left_hand_never_detected", n, 640, 480, runs(n, (0, n)), runs(n), runs(n, (3, 9), (12, 17)))
    n = 90
    # Frames 0-4 and 40-45 and 85-89 with nothing detected; hands in runs (interpolated and extrapolated).
    pose = runs(n, (5, 40), (46, 85))
    add("long_missing_frames", n, 1920, 1080, pose, runs(n, (10, 30), (50, 60)) & pose,
        runs(n, (5, 20), (70, 80)) & pose, style="mixed")
    n = 40
    add("hand_in_one_frame", n, 1000, 1000, runs(n, (0, n)), runs(n, (17, 18)), runs(n, (5, 6), (30, 31)),
        style="objects")
    n = 1
    add("single_frame", n, 720, 1280, runs(n, (0, 1)), runs(n, (0, 1)), runs(n))
    n = 70
    add("n70_pose_in_two_frames", n, 1280, 720, runs(n, (20, 21), (50, 51)), runs(n, (0, n)), runs(n, (0, 35)))
    n = 30
    add("n30_right_hip_missing", n, 1280, 720, runs(n, (0, n)), runs(n, (0, n)), runs(n, (0, n)), missing_hips=(24,))
    n = 80
    add("n80_both_hips_missing", n, 1280, 720, runs(n, (2, 78)), runs(n, (0, 40)), runs(n, (0, n)), missing_hips=(23, 24))
    return cases


def example_request():
    """examples/holistic-request.json: a short landmark-form request (6 frames; the left hand missing in two,
    one frame's landmarks as objects) and its expected model input, added to the fixture's cases."""
    rng = np.random.default_rng(2026)
    n = 6
    request, p, l, r = make_clip(rng, n, 1280, 720, runs(n, (0, n)), runs(n, (0, 2), (4, n)), runs(n, (0, n)),
                                 "arrays")
    # Frame 5 as MediaPipe's landmark objects.
    for key in ("pose", "left_hand", "right_hand"):
        points = request["frames"][5].get(key)
        if points:
            request["frames"][5][key] = [dict(zip(("x", "y", "z", "visibility"), point)) for point in points]
    frames = ",\n    ".join(json.dumps(f, separators=(",", ":")) for f in request["frames"])
    text = ('{"inputs": [{"image_width": 1280, "image_height": 720, "frames": [\n    ' + frames
            + '\n  ]}],\n "top_k": 3}\n')
    case = {"name": "examples/holistic-request.json", "frames": n, "request": request, **both_centres(p, l, r)}
    return text, case


# ---------------------------------------------------------------- .pose files (pose-format as the reader)

POSE_NAMES = ["NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
              "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER",
              "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY",
              "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX", "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP",
              "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL",
              "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"]
HAND_NAMES = ["WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
              "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP",
              "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP",
              "RING_FINGER_TIP", "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"]


def pose_to_arrays(pose):
    """The spec's array form of a pose-format Pose's first person (see the module docstring)."""
    data = np.asarray(pose.body.data.data, dtype=np.float32)[:, 0]  # raw values, not the mask-filled ones
    confidence = np.asarray(pose.body.confidence, dtype=np.float32)[:, 0]
    n = data.shape[0]
    out = {}
    start = 0
    offsets = {}
    for c in pose.header.components:
        offsets[c.name] = (start, c.points)
        start += len(c.points)
    for component, names, count, is_pose in (("POSE_LANDMARKS", POSE_NAMES, 33, True),
                                             ("LEFT_HAND_LANDMARKS", HAND_NAMES, 21, False),
                                             ("RIGHT_HAND_LANDMARKS", HAND_NAMES, 21, False)):
        array = np.zeros((n, count, 3), np.float32)
        first, points = offsets[component]
        for i, name in enumerate(names):
            if name not in points:
                continue
            k = first + points.index(name)
            conf = confidence[:, k]
            seen = conf > 0
            array[seen, i, 0] = data[seen, k, 0]
            array[seen, i, 1] = data[seen, k, 1]
            array[seen, i, 2] = conf[seen] if is_pose else 1.0
        out[component] = array
    return out["POSE_LANDMARKS"], out["LEFT_HAND_LANDMARKS"], out["RIGHT_HAND_LANDMARKS"]


def synthetic_pose_file():
    """A small v0.2 file written by pose-format from our own synthetic data."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    rng = np.random.default_rng(7)
    pose_order = list(rng.permutation(POSE_NAMES))
    left_order = list(rng.permutation(HAND_NAMES))
    components = [
        PoseHeaderComponent("FACE_LANDMARKS", [str(i) for i in range(5)], [(0, 1)], [(128, 0, 0)], "XYZC"),
        PoseHeaderComponent("RIGHT_HAND_LANDMARKS", HAND_NAMES, [(0, 1)], [(0, 255, 0)], "XYZC"),
        PoseHeaderComponent("POSE_LANDMARKS", pose_order, [(0, 1), (1, 2)], [(255, 0, 0)], "XYZC"),
        PoseHeaderComponent("LEFT_HAND_LANDMARKS", left_order, [], [], "XYZC"),
    ]
    header = PoseHeader(0.2, PoseHeaderDimensions(640, 480, 0), components)
    frames, people, points = 12, 2, 5 + 21 + 33 + 21
    data = np.zeros((frames, people, points, 3), np.float32)
    data[..., 0] = rng.uniform(100, 540, size=(frames, people, points))
    data[..., 1] = rng.uniform(80, 400, size=(frames, people, points))
    data[..., 2] = rng.uniform(-1, 1, size=(frames, people, points))
    confidence = np.ones((frames, people, points), np.float32)
    confidence[:, :, 26:59] = rng.uniform(0.3, 1.0, size=(frames, people, 33))  # pose: visibility
    confidence[2:5, 0, 5:26] = 0          # right hand missing in frames 2-4
    confidence[:, 0, 59:80] = 0           # left hand never detected
    confidence[9, 0, 59:80] = 1           # ... except in frame 9
    confidence[7, 0, 26:59] = 0           # no pose in frame 7
    confidence[1, 0, 26 + pose_order.index("LEFT_SHOULDER")] = 0  # one shoulder missing in frame 1
    data[confidence == 0] = 320.0         # placeholder coordinates, as real recordings store
    body = NumPyPoseBody(fps=25, data=data, confidence=confidence)
    buffer = io.BytesIO()
    Pose(header, body).write(buffer)
    return buffer.getvalue()


def pose_case(name, raw, path):
    from pose_format import Pose
    pose = Pose.read(raw)
    p, l, r = pose_to_arrays(pose)
    n = p.shape[0]
    samples = []
    for f in sorted({0, 1, n // 2, n - 1}):
        samples.append({"frame": f, "pose": floats(p[f]), "left_hand": floats(l[f]), "right_hand": floats(r[f])})
    return {"name": name, "path": path, "version": round(float(pose.header.version), 3), "frames": n,
            "fps": float(pose.body.fps), "width": pose.header.dimensions.width,
            "height": pose.header.dimensions.height,
            "components": [c.name for c in pose.header.components], "clip_samples": samples,
            **both_centres(p, l, r)}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    generated = "tools/make_preprocess_fixtures.py (numpy, tools/signbert_preprocess.py; .pose read by pose-format)"
    clips = holistic_cases()
    example, example_case = example_request()
    (REPO / "examples/holistic-request.json").write_text(example)
    clips.append(example_case)
    (OUT / "holistic-clips.json").write_text(json.dumps(
        {"generated_by": generated, "num_frames": NUM_FRAMES, "cases": clips}, separators=(",", ":")) + "\n")

    synthetic = synthetic_pose_file()
    (OUT / "synthetic-v02.pose").write_bytes(synthetic)
    files = [pose_case("synthetic-v02.pose", synthetic, "Tests/SignBERTRuntimeTests/Fixtures/preprocess/synthetic-v02.pose"),
             pose_case("wave.pose", (REPO / EXAMPLE_POSE).read_bytes(), EXAMPLE_POSE)]
    (OUT / "pose-files.json").write_text(json.dumps(
        {"generated_by": generated, "num_frames": NUM_FRAMES, "files": files}, separators=(",", ":")) + "\n")
    # The real recordings are not in the repository: their expectations are rewritten only when they are beside it.
    if SHARED_POSE.is_dir():
        shared = [pose_case(name, (SHARED_POSE / name).read_bytes(), name)
                  for name in ("mediapipe.pose", "mediapipe_long.pose")]
        (OUT / "shared-pose-files.json").write_text(json.dumps(
            {"generated_by": generated, "num_frames": NUM_FRAMES, "directory": "../shared/data/pose",
             "files": shared}, separators=(",", ":")) + "\n")
    else:
        print(f"{SHARED_POSE} is absent: shared-pose-files.json left as it is", file=sys.stderr)
    for f in sorted(OUT.iterdir()):
        print(f"wrote {f.relative_to(REPO)} ({f.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
