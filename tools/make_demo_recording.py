#!/usr/bin/env python3
"""Writes the demo page's bundled recording (Sources/InferenceService/Resources/demo/): `recording.pose`, a
continuous synthetic recording of tools/gesture_data.py's generate_recording as a `.pose` file (version 0.1,
x/y/confidence, the pose's 8 upper-body points and both hands: what the page and the server need, and small),
and `recording.json`, its truth (fps, image size, the gestures' segments).

    python3 tools/make_demo_recording.py [--seed 2026 --index 6]     # deterministic: byte-identical output

The page reads the .pose file as it reads one a user picks; the browser test (tools/demo_browser_test.py)
checks the page's transcript against recording.json. Needs numpy.

Which recording: index 6 of seed 2026 is the first recording of that seed with five different gestures that the
demo model's sign events recover exactly with the default event settings (`tools/stream_accuracy.py --seed 2026
--count 12 --verbose` against `signbert serve`: recordings 0, 2, 3, 6, 7 and 8 are recovered exactly; 0, 3, 7 and 8
have 7-8 gestures, 2 repeats one). It is chosen, not drawn at random: the model recovers about 86% of the gestures
of a random recording and about 3 recordings in 10 exactly (models/demo-gestures/README.md), and the browser test
asks for the exact sequence.
"""
import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gesture_data  # noqa: E402

OUT = HERE.parent / "Sources/InferenceService/Resources/demo"
POSE_POINTS = {"LEFT_SHOULDER": 11, "RIGHT_SHOULDER": 12, "LEFT_ELBOW": 13, "RIGHT_ELBOW": 14, "LEFT_WRIST": 15,
               "RIGHT_WRIST": 16, "LEFT_HIP": 23, "RIGHT_HIP": 24}
HAND_NAMES = ["WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
              "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
              "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
              "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"]


def pose_string(text):
    data = text.encode()
    return struct.pack("<H", len(data)) + data


def pose_file(clip, params):
    """The .pose v0.1 bytes of a recording (pose-format's docs/specs/v0.1.md): header, then fps and frame count
    (uint16), people (uint16), float32 data [frames][1][points][2] and confidence [frames][1][points]."""
    pose, left, right, detected = gesture_data.recording_to_holistic(clip)
    components = [("POSE_LANDMARKS", list(POSE_POINTS)), ("LEFT_HAND_LANDMARKS", HAND_NAMES),
                  ("RIGHT_HAND_LANDMARKS", HAND_NAMES)]
    width, height = params["image"]
    header = struct.pack("<fHHHH", 0.1, width, height, 0, len(components))
    for name, points in components:
        header += pose_string(name) + pose_string("XYC") + struct.pack("<HHH", len(points), 0, 0)
        header += b"".join(pose_string(p) for p in points)
    n = clip.shape[0]
    xy = np.concatenate([pose[:, list(POSE_POINTS.values()), :2], left[..., :2], right[..., :2]], axis=1)
    confidence = np.concatenate([pose[:, list(POSE_POINTS.values()), 3],
                                 np.where(detected[:, 1:2], 1.0, 0.0).repeat(21, 1),
                                 np.where(detected[:, 2:3], 1.0, 0.0).repeat(21, 1)], axis=1)
    xy[confidence == 0] = 0.0
    body = struct.pack("<HHH", params["fps"], n, 1)
    body += np.round(xy, 2).astype("<f4").tobytes() + confidence.astype("<f4").tobytes()
    return header + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--index", type=int, default=6)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    clip, segments, params = gesture_data.make_recordings(args.index + 1, args.seed)[args.index]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = pose_file(clip, params)
    (out / "recording.pose").write_bytes(raw)
    truth = {"source": f"tools/make_demo_recording.py --seed {args.seed} --index {args.index}",
             "fps": params["fps"], "frames": params["frames"], "image_width": params["image"][0],
             "image_height": params["image"][1],
             "segments": [{"label": gesture_data.CLASSES[c], "index": c, "start_frame": s, "end_frame": e}
                          for c, s, e in segments]}
    (out / "recording.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {out}/recording.pose ({len(raw)} bytes, {params['frames']} frames) and recording.json: "
          f"{' '.join(params['labels'])}")


if __name__ == "__main__":
    main()
