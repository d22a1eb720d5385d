"""Where a stream's frames come from: a `.pose` file, a landmark JSON file, or a synthetic recording.

Every source gives a `Recording`: the landmark frames of the stream protocol (each a dict with "pose" (33 x
[x, y, z, visibility]), "left_hand" and "right_hand" (21 x [x, y, z]), a part `None` when undetected, x and y
normalised to the image), the image size, the frame rate, and the true segments when the source knows them.

Standard library only, except the synthetic recordings, which run tools/gesture_data.py of this repository
(numpy).
"""
import json
import math
import os
import struct
import sys
from dataclasses import dataclass, field

POSE_NAMES = [
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE", "RIGHT_EYE_OUTER",
    "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW",
    "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX",
    "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE",
    "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"]
HAND_NAMES = [
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
    "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
    "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
    "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"]


class SourceError(Exception):
    """A file that cannot be streamed; the message says why in one line."""


@dataclass
class Segment:
    label: str
    start_frame: int
    end_frame: int  # inclusive


@dataclass
class Recording:
    frames: list
    image_width: int
    image_height: int
    fps: float = 30.0
    segments: list = field(default_factory=list)

    @property
    def labels(self):
        return [s.label for s in self.segments]


# --- .pose files (pose-format's binary format, versions 0.1 and 0.2) --------------------------------------

class _Bytes:
    def __init__(self, data):
        self.data, self.offset = data, 0

    def take(self, fmt, what):
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.data):
            raise SourceError(f"truncated .pose file: it ends in {what}")
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += size
        return values if len(values) > 1 else values[0]

    def string(self, what):
        length = self.take("<H", what)
        if self.offset + length > len(self.data):
            raise SourceError(f"truncated .pose file: it ends in {what}")
        text = self.data[self.offset:self.offset + length].decode("utf-8", "replace")
        self.offset += length
        return text


def read_pose(data):
    """A `.pose` file's bytes -> Recording. Reads the first person's POSE_LANDMARKS, LEFT_HAND_LANDMARKS and
    RIGHT_HAND_LANDMARKS by point name (pose points the file lacks stay zero); x, y are stored in pixels and
    normalised here by the header's width and height; a point of confidence 0 is undetected, and a hand none of
    whose points is detected is `None`, as is a pose whose shoulders are both undetected."""
    r = _Bytes(bytes(data))
    version = round(r.take("<f", "the version"), 3)
    if version not in (0.1, 0.2):
        raise SourceError(f"unsupported .pose version {version}: versions 0.1 and 0.2 are read")
    width, height, _depth = r.take("<HHH", "the dimensions")
    components = []
    for c in range(r.take("<H", "the component count")):
        name = r.string(f"component {c}")
        fmt = r.string(f"the format of {name}")
        points, limbs, colors = r.take("<HHH", f"the counts of {name}")
        names = [r.string(f"a point name of {name}") for _ in range(points)]
        r.offset += limbs * 4 + colors * 6
        components.append((name, fmt, names))
    if version == 0.1:
        fps, declared = r.take("<HH", "the fps")
    else:
        fps, declared = r.take("<fI", "the fps")
    people = r.take("<H", "the people count")
    if people < 1:
        raise SourceError("the .pose file records no person")
    total = sum(len(names) for _, _, names in components)
    dims = max(len(fmt) for _, fmt, _ in components) - 1
    frame_bytes = people * total * (dims + 1) * 4
    remaining = len(r.data) - r.offset
    frames = remaining // frame_bytes if version == 0.1 else declared
    if frames < 1 or frames * frame_bytes > remaining:
        raise SourceError(f"truncated .pose file: {frames} frames of {frame_bytes} bytes do not fit in {remaining}")
    data_base = r.offset
    conf_base = data_base + frames * people * total * dims * 4

    where = {}  # (component, point name) -> index among a person's points
    first = 0
    for name, _, names in components:
        for i, point in enumerate(names):
            where.setdefault((name, point), first + i)
        first += len(names)
    for needed in ("POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"):
        if not any(name == needed for name, _, _ in components):
            raise SourceError(f"the .pose file has no {needed} component: MediaPipe Holistic landmarks are needed")

    def point(frame, index):
        """(x, y, z, confidence) of person 0's point `index` in `frame`."""
        p = frame * people * total + index
        xyz = struct.unpack_from(f"<{dims}f", r.data, data_base + p * dims * 4)
        conf = struct.unpack_from("<f", r.data, conf_base + p * 4)[0]
        z = xyz[2] if dims > 2 else 0.0
        return xyz[0] / width, xyz[1] / height, z, conf

    out = []
    for t in range(frames):
        frame = {}
        pose = []
        for name in POSE_NAMES:
            index = where.get(("POSE_LANDMARKS", name))
            x, y, z, c = point(t, index) if index is not None else (0, 0, 0, 0)
            pose.append([x, y, 0.0, c] if c > 0 else [0.0, 0.0, 0.0, 0.0])
        frame["pose"] = pose if pose[11][3] > 0 or pose[12][3] > 0 else None
        for part, component in (("left_hand", "LEFT_HAND_LANDMARKS"), ("right_hand", "RIGHT_HAND_LANDMARKS")):
            hand, seen = [], False
            for name in HAND_NAMES:
                index = where.get((component, name))
                x, y, z, c = point(t, index) if index is not None else (0, 0, 0, 0)
                seen = seen or c > 0
                hand.append([x, y, 0.0] if c > 0 else [0.0, 0.0, 0.0])
            frame[part] = hand if seen else None
        out.append(frame)
    return Recording(out, width, height, float(fps) or 30.0)


# --- landmark JSON ----------------------------------------------------------------------------------------

def read_landmark_json(document):
    """A parsed JSON document -> Recording. Accepts a recording (tools/gesture_data.py's `recording_document`:
    frames, image size, fps and segments), a clip object of /predict's landmark form ({"image_width",
    "image_height", "frames"}), or a /predict request of that form (its first clip)."""
    if isinstance(document, dict) and isinstance(document.get("inputs"), list) and document["inputs"]:
        document = document["inputs"][0]
    if not isinstance(document, dict) or not isinstance(document.get("frames"), list):
        raise SourceError("a landmark JSON file must be an object with \"frames\" (a recording, a landmark clip "
                          "or a /predict request in the landmark form)")
    for key in ("image_width", "image_height"):
        if not isinstance(document.get(key), int):
            raise SourceError(f"the landmark JSON file needs \"{key}\", a whole number of pixels")
    segments = [Segment(s["label"], int(s["start_frame"]), int(s["end_frame"])) for s in document.get("segments", [])]
    return Recording(document["frames"], document["image_width"], document["image_height"],
                     float(document.get("fps", 30.0)), segments)


def read_file(path):
    """A `.pose` file or a landmark JSON file, told apart by content (a .pose file does not start with '{')."""
    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip()[:1] == b"{":
        try:
            return read_landmark_json(json.loads(data))
        except json.JSONDecodeError as error:
            raise SourceError(f"{path}: malformed JSON: {error}") from None
    return read_pose(data)


# --- synthetic recordings ---------------------------------------------------------------------------------

def synthetic(seed, index=0):
    """Continuous recording `index` of `seed` from tools/gesture_data.py (needs this repository and numpy)."""
    tools = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools")
    if tools not in sys.path:
        sys.path.insert(0, os.path.normpath(tools))
    try:
        import gesture_data
    except ImportError as error:
        raise SourceError(f"synthetic recordings need the repository's tools/gesture_data.py and numpy ({error})")
    clip, segments, params = gesture_data.make_recordings(index + 1, seed)[index]
    return read_landmark_json(gesture_data.recording_document(clip, segments, params))


# --- the binary frame form --------------------------------------------------------------------------------

NAN4 = [math.nan] * 4


def pack_binary(frames):
    """Landmark frames -> the protocol's binary message: per frame 75 points (33 pose, 21 left hand, 21 right
    hand) x (x, y, z, visibility) little-endian float32; every value of an undetected part is NaN, a hand's
    visibility is 1."""
    values = []
    for frame in frames:
        for part, count in (("pose", 33), ("left_hand", 21), ("right_hand", 21)):
            points = frame.get(part)
            if points is None:
                values.extend(NAN4 * count)
                continue
            for p in points:
                if isinstance(p, dict):
                    p = [p["x"], p["y"], p.get("z", 0.0), p.get("visibility", 1.0)]
                values.extend((p[0], p[1], p[2], p[3] if len(p) > 3 else 1.0))
    return struct.pack(f"<{len(values)}f", *values)
