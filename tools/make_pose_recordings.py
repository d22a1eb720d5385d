#!/usr/bin/env python3
"""Writes examples/wave.pose: a small MediaPipe Holistic recording in the `.pose` format (version 0.1, the version
of the real recordings in ../shared/data/pose), made from a synthetic gesture of tools/gesture_data.py, so that the
README's `.pose` example and the tests that read a v0.1 recording work on a fresh clone with nothing beside it.

The layout copies the real recordings': components POSE_LANDMARKS (the 8 points pose-format's reduced files keep),
FACE_LANDMARKS (a few points), LEFT_HAND_LANDMARKS and RIGHT_HAND_LANDMARKS (21 each), XYZC, one person; x, y in
pixels, the pose's confidence its visibility, 1.0 for a detected hand point, and an undetected point stored with
confidence 0 over placeholder coordinates (the previous frame's), as MediaPipe recordings have them.

The 27-joint clip of gesture_data.generate_clip becomes Holistic landmarks by the inverse of the spec's step 3:
shoulders and elbows are pose points, the 11 hand points per hand are the hand landmarks of HAND_INDICES, the other
10 hand landmarks lie on the segments between them; the neck (the shoulders' mean) is not stored.

Header and point names are written by pose-format's own header writer; the v0.1 body (pose-format writes only
v0.2) is written here from the spec (docs/specs/v0.1.md of sign-language-processing/pose: fps and frame count as
uint16, people uint16, then float32 data [frames][people][points][3] and confidence [frames][people][points]), and
the file is read back with pose-format before it is kept.

    /work/venv/bin/python tools/make_pose_recordings.py   # deterministic: byte-identical output

Then run tools/make_preprocess_fixtures.py, whose pose-files.json holds the numpy expectation for this file.
"""
import io
import struct
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
import gesture_data  # noqa: E402
from signbert_preprocess import HAND_INDICES  # noqa: E402

OUT = REPO / "examples/wave.pose"
POSE_POINTS = ["LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST",
               "LEFT_HIP", "RIGHT_HIP"]
HAND_NAMES = ["WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
              "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
              "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
              "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"]
FACE_POINTS = 12


def hand21(joints11):
    """(n, 11, 2) mediapipe_27 hand slots -> (n, 21, 2) MediaPipe hand landmarks: the 11 at HAND_INDICES, the
    other 10 a third and two thirds of the way along the bone they sit on."""
    n = joints11.shape[0]
    out = np.zeros((n, 21, 2))
    out[:, HAND_INDICES] = joints11
    out[:, 1] = (out[:, 0] + out[:, 2]) / 2                        # thumb CMC between wrist and thumb MCP
    out[:, 3] = (out[:, 2] + out[:, 4]) / 2                        # thumb IP
    for mcp, tip in ((5, 8), (9, 12), (13, 16), (17, 20)):         # PIP and DIP of each finger
        out[:, mcp + 1] = out[:, mcp] + (out[:, tip] - out[:, mcp]) / 3
        out[:, mcp + 2] = out[:, mcp] + (out[:, tip] - out[:, mcp]) * 2 / 3
    return out


def holistic(clip, rng):
    """(n, 27, 3) clip -> data (n, 1, points, 3) and confidence (n, 1, points), points in component order."""
    n = clip.shape[0]
    shoulders = clip[:, 1:3, :2]
    width = np.linalg.norm(shoulders[:, 0] - shoulders[:, 1], axis=1, keepdims=True)
    neck = shoulders.mean(axis=1)
    detected_pose = clip[:, 1, 2] > 0
    # Pose: shoulders, elbows (visibility as given), wrists from the hands' wrists, hips below the shoulders.
    pose_xy = np.zeros((n, 8, 2))
    pose_c = np.zeros((n, 8))
    pose_xy[:, 0:4] = clip[:, 1:5, :2]
    pose_c[:, 0:4] = clip[:, 1:5, 2]
    for slot, hand in ((4, 5), (5, 16)):
        seen = clip[:, hand, 2] > 0
        pose_xy[:, slot] = clip[:, hand, :2]
        pose_c[:, slot] = np.where(seen, rng.uniform(0.6, 0.9, n), 0.0)
    pose_xy[:, 6] = shoulders[:, 0] + np.array([0.0, 1.0]) * 1.6 * width
    pose_xy[:, 7] = shoulders[:, 1] + np.array([0.0, 1.0]) * 1.6 * width
    pose_c[:, 6:8] = np.where(detected_pose, 0.68, 0.0)[:, None]
    # Face: a ring above the neck, detected with the pose.
    angles = np.linspace(0, 2 * np.pi, FACE_POINTS, endpoint=False)
    ring = np.stack([np.cos(angles) * 0.18, np.sin(angles) * 0.24 - 0.55], 1)
    face_xy = neck[:, None, :] + ring[None] * width[:, :, None] + rng.normal(0, 0.5, (n, FACE_POINTS, 2))
    face_c = np.where(detected_pose, 1.0, 0.0)[:, None].repeat(FACE_POINTS, 1)
    parts = [(pose_xy, pose_c), (face_xy, face_c)]
    for first in (5, 16):  # the person's left hand, then the right (mediapipe_27 slots 5-15, 16-26)
        seen = clip[:, first, 2] > 0
        xy = hand21(clip[:, first:first + 11, :2])
        parts.append((xy, np.where(seen, 1.0, 0.0)[:, None].repeat(21, 1)))
    xy = np.concatenate([p for p, _ in parts], axis=1)
    confidence = np.concatenate([c for _, c in parts], axis=1)
    # Undetected points keep the last detected coordinates as placeholders (zeros before any detection).
    for t in range(1, n):
        missing = confidence[t] == 0
        xy[t, missing] = xy[t - 1, missing]
    z = rng.uniform(-60, 60, size=xy.shape[:2] + (1,))
    data = np.concatenate([xy, z], axis=2).astype(np.float32)
    return data[:, None], confidence.astype(np.float32)[:, None]


def header_bytes(width, height):
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions
    components = [
        PoseHeaderComponent("POSE_LANDMARKS", POSE_POINTS, [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (0, 6), (1, 7)],
                            [(255, 0, 0)], "XYZC"),
        PoseHeaderComponent("FACE_LANDMARKS", [str(i) for i in range(FACE_POINTS)],
                            [(i, (i + 1) % FACE_POINTS) for i in range(FACE_POINTS)], [(224, 224, 224)], "XYZC"),
        PoseHeaderComponent("LEFT_HAND_LANDMARKS", HAND_NAMES, [(0, 1), (1, 2), (2, 3), (3, 4)], [(0, 255, 0)], "XYZC"),
        PoseHeaderComponent("RIGHT_HAND_LANDMARKS", HAND_NAMES, [(0, 1), (1, 2), (2, 3), (3, 4)], [(0, 0, 255)], "XYZC"),
    ]
    buffer = io.BytesIO()
    PoseHeader(0.1, PoseHeaderDimensions(width, height, 0), components).write(buffer)
    raw = bytearray(buffer.getvalue())
    raw[0:4] = struct.pack("<f", 0.1)  # pose-format's writer always stamps its own version (0.2)
    return bytes(raw)


def main():
    # A wave of a right-handed signer, both hands seen most of the time; 40 frames keeps the file small.
    for seed in range(1000):
        rng = np.random.default_rng(seed)
        clip, params = gesture_data.generate_clip(0, rng)
        if params["frames"] <= 48 and params["other_hand"] == "rest" and params["dominant"] == "right":
            break
    width, height = params["image"]
    data, confidence = holistic(clip, np.random.default_rng(seed + 1))
    fps = 25
    body = struct.pack("<HHH", fps, data.shape[0], 1) + data.tobytes() + confidence.tobytes()
    raw = header_bytes(width, height) + body

    from pose_format import Pose
    pose = Pose.read(raw)
    assert round(float(pose.header.version), 3) == 0.1 and pose.body.data.shape == data.shape, pose.body.data.shape
    assert np.array_equal(np.asarray(pose.body.confidence), confidence)
    OUT.write_bytes(raw)
    print(f"wrote {OUT.relative_to(REPO)} ({len(raw)} bytes): {params['class']}, {data.shape[0]} frames, "
          f"{width}x{height}, seed {seed}")


if __name__ == "__main__":
    main()
