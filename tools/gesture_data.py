"""Synthetic gesture clips in the `mediapipe_27` skeleton layout, for the bundled demo model.

NOT sign language: eight simple hand motions performed by a kinematic stick figure, so that a small
SignBERT v1 can be trained in minutes and give meaningful answers out of the box.

The signer (all lengths in units of the shoulder width s, body coordinates: origin at the neck, x to the
image's right, y down, z toward the camera):
- shoulders at (+-0.5, 0, 0), a small body roll, slow sway and per-frame jitter; the person faces the
  camera (not mirrored), so the person's LEFT shoulder / elbow / hand (joints 1, 3, 5-15) are on the
  image's right (x > 0) and the RIGHT ones (2, 4, 16-26) on the image's left;
- arms are two-link chains (upper arm 0.62, forearm 0.55) solved by 3-D inverse kinematics from a
  wrist trajectory, with the elbow pointing down and out;
- a hand is 11 points (wrist, thumb_mcp, thumb_tip, index/middle/ring/pinky mcp and tip) placed from a
  wrist position, an in-plane rotation, a palm-width and a finger-length foreshortening factor, and a
  curl per finger (0 = extended, 1 = folded);
- a weak-perspective camera: points at depth z are scaled by D / (D - z) about the camera axis, so a
  hand moving toward the camera grows (the depth cue of push / pull).

The classes (dominant hand = the signer's right or left; "left"/"right" of the swipes are IMAGE
directions, i.e. decreasing / increasing x in the skeleton):
 0 wave         open hand raised beside the head, rocking side to side (2-4 cycles)
 1 circle       index finger pointing, the hand draws 1-2 circles in front of the chest (either way)
 2 swipe_left   flat hand (palm sideways) sweeps once toward the image's left (x decreasing)
 3 swipe_right  the same toward the image's right (x increasing)
 4 push         open palm pushed from the chest toward the camera (hand grows, arm extends)
 5 pull         open hand reaching out closes into a fist and is pulled back to the chest (hand shrinks)
 6 tap          index finger pointing down, 3-5 quick taps downward at belly height
 7 fist_open    hand held up in front of the chest, repeatedly closing into a fist and opening (2-3x)

Variation: clip length (30-120 raw frames), speed and repetitions, amplitude, position, body size and
image size, handedness (the other hand resting low or missing), camera noise, pose visibility, dropped
hand detections (runs of a few frames at zero), occasional dropped pose frames, optional lead-in from
and lead-out to the rest position.

Raw clips are (n, 27, 3) in pixels: x, y, and visibility (0.9-1.0 for body points, 1.0 for hand points,
all zeros when a part is undetected). `make_dataset` then applies the training pipeline's preprocessing
(tools/signbert_preprocess.py: interpolation, sampling to 64 frames, normalisation, in the spec's order).

Everything is seeded: clip i of a dataset depends only on (seed, i), through numpy Generators.

Continuous recordings (the live stream's test data): `generate_recording` has one signer perform 5-10 gestures
in a row with rest pauses and transitions and returns the raw frames and the true segments (label, start_frame,
end_frame); `recording_to_holistic` maps them to MediaPipe Holistic landmarks (the inverse of the spec's step 3),
`landmark_frames` / `recording_document` write the stream's landmark frames and a JSON recording with its truth
(`--recording I --seed S --out FILE.json`). `make_recordings(count, seed)`: recording i depends only on (seed, i).
"""
import argparse

import numpy as np

import signbert_preprocess  # noqa: E402

CLASSES = ["wave", "circle", "swipe_left", "swipe_right", "push", "pull", "tap", "fist_open"]

# Hand points in the order of the mediapipe_27 hand slots: wrist, thumb_mcp, thumb_tip, index_mcp,
# index_tip, middle_mcp, middle_tip, ring_mcp, ring_tip, pinky_mcp, pinky_tip.
# Local hand coordinates, units of the hand length (wrist to middle tip): a = across the palm (positive
# toward the thumb), b = along the fingers.
_MCP = np.array([[0.22, 0.25], [0.12, 0.52], [0.00, 0.55], [-0.10, 0.52], [-0.19, 0.46]])
_TIP_EXTENDED = np.array([[0.48, 0.52], [0.16, 0.95], [0.00, 1.00], [-0.13, 0.93], [-0.26, 0.80]])
_TIP_CURLED = np.array([[0.06, 0.46], [0.10, 0.38], [0.00, 0.40], [-0.09, 0.38], [-0.16, 0.34]])

SHAPE_OPEN = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
SHAPE_FIST = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
SHAPE_POINT = np.array([0.85, 0.0, 1.0, 1.0, 1.0])
SHAPE_RELAXED = np.array([0.3, 0.35, 0.45, 0.5, 0.55])

UPPER_ARM = 0.62
FOREARM = 0.55


def smoothstep(u):
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


# ---------------------------------------------------------------------------------------------------
# Per-class motion: given the gesture phase u in [0, 1] (n,) and the dominant side sd (-1 = signer's
# right hand, on the image's left; +1 = left hand), return a dict of per-frame arrays:
#   wrist (n, 3) body coords; theta (n,) in-plane rotation of the fingers' direction from "up"
#   (positive turns the fingers toward +x); curl (n, 5); width (n,) palm-width factor; length (n,)
#   finger foreshortening factor.
# ---------------------------------------------------------------------------------------------------

def _base(n, shape, theta=0.0, width=1.0, length=1.0):
    return {
        "theta": np.full(n, float(theta)),
        "curl": np.tile(shape, (n, 1)).astype(np.float64),
        "width": np.full(n, float(width)),
        "length": np.full(n, float(length)),
    }


def _stroke_window(rng):
    """Start and end phase of a single stroke: a short hold before it, a longer one after it (the hand
    stays where the stroke ends)."""
    t0 = rng.uniform(0.05, 0.25)
    t1 = t0 + rng.uniform(0.3, 0.5)
    return t0, t1


def motion_wave(u, sd, amp, rng):
    n = len(u)
    cycles = rng.uniform(2.0, 4.0)
    ph = 2 * np.pi * cycles * u + rng.uniform(0, 2 * np.pi)
    center = np.array([sd * rng.uniform(0.55, 0.75), rng.uniform(-0.45, -0.25), rng.uniform(0.15, 0.35)])
    m = _base(n, SHAPE_OPEN + rng.uniform(0, 0.1, 5))
    m["wrist"] = center + np.stack([0.14 * amp * np.sin(ph), 0.03 * amp * np.cos(2 * ph), np.zeros(n)], 1)
    m["theta"] = 0.45 * amp * np.sin(ph + rng.uniform(-0.3, 0.3)) + sd * rng.uniform(0.0, 0.2)
    return m


def motion_circle(u, sd, amp, rng):
    n = len(u)
    turns = rng.uniform(1.0, 2.0)
    direction = rng.choice([-1.0, 1.0])
    phi = rng.uniform(0, 2 * np.pi) + direction * 2 * np.pi * turns * u
    r = 0.24 * amp
    center = np.array([sd * rng.uniform(0.1, 0.35), rng.uniform(0.3, 0.5), rng.uniform(0.4, 0.55)])
    m = _base(n, SHAPE_POINT + rng.uniform(-0.05, 0.0, 5), theta=-sd * rng.uniform(0.1, 0.4))
    m["curl"] = np.clip(m["curl"], 0, 1)
    m["wrist"] = center + np.stack([r * np.cos(phi), r * np.sin(phi), 0.05 * np.sin(phi)], 1)
    return m


def _swipe(u, sd, amp, rng, direction):
    n = len(u)
    t0, t1 = _stroke_window(rng)
    s = smoothstep((u - t0) / (t1 - t0))
    half = 0.45 * amp
    x0 = sd * rng.uniform(-0.05, 0.25)
    x = x0 - direction * half + direction * 2 * half * s
    y = rng.uniform(0.25, 0.45) + 0.08 * amp * np.sin(np.pi * s)
    z = np.full(n, rng.uniform(0.45, 0.6))
    m = _base(n, SHAPE_OPEN + rng.uniform(0, 0.15, 5), width=rng.uniform(0.35, 0.55))
    m["theta"] = direction * (0.3 + 0.3 * np.sin(np.pi * s)) + rng.uniform(-0.1, 0.1)
    m["wrist"] = np.stack([x, y, z], 1)
    return m


def motion_swipe_left(u, sd, amp, rng):
    return _swipe(u, sd, amp, rng, direction=-1.0)


def motion_swipe_right(u, sd, amp, rng):
    return _swipe(u, sd, amp, rng, direction=+1.0)


def _push_path(rng, amp):
    near = np.array([rng.uniform(0.3, 0.4), rng.uniform(0.3, 0.45), rng.uniform(0.0, 0.1)])
    far = np.array([rng.uniform(0.15, 0.3), rng.uniform(0.15, 0.3), rng.uniform(0.75, 0.95) * min(amp, 1.1)])
    return near, far


def motion_push(u, sd, amp, rng):
    n = len(u)
    t0, t1 = _stroke_window(rng)
    s = smoothstep((u - t0) / (t1 - t0))[:, None]
    near, far = _push_path(rng, amp)
    near[0] *= sd
    far[0] *= sd
    m = _base(n, SHAPE_OPEN + rng.uniform(0, 0.1, 5), theta=-sd * rng.uniform(0.0, 0.15))
    m["wrist"] = near + (far - near) * s
    # the fingers tilt back as the palm turns to face the camera: slight foreshortening at the start
    m["length"] = 0.75 + 0.25 * s[:, 0]
    return m


def motion_pull(u, sd, amp, rng):
    n = len(u)
    t0, t1 = _stroke_window(rng)
    grab_end = t0 + 0.3 * (t1 - t0)
    grab = smoothstep((u - t0 + 0.1 * (t1 - t0)) / (grab_end - t0 + 0.1 * (t1 - t0)))
    s = smoothstep((u - grab_end) / (t1 - grab_end))[:, None]
    near, far = _push_path(rng, amp)
    near[0] *= sd
    far[0] *= sd
    m = _base(n, SHAPE_OPEN, theta=-sd * rng.uniform(0.0, 0.15))
    m["curl"] = SHAPE_OPEN + (SHAPE_FIST - SHAPE_OPEN) * grab[:, None] * rng.uniform(0.85, 1.0)
    m["wrist"] = far + (near - far) * s
    m["length"] = 1.0 - 0.2 * s[:, 0]
    return m


def motion_tap(u, sd, amp, rng):
    n = len(u)
    taps = rng.integers(3, 6)
    ph = np.clip(u, 0, 1) * taps
    bump = np.sin(np.pi * (ph % 1.0)) ** 2
    center = np.array([sd * rng.uniform(0.05, 0.3), rng.uniform(0.5, 0.7), rng.uniform(0.45, 0.6)])
    m = _base(n, SHAPE_POINT, theta=np.pi + sd * rng.uniform(0.2, 0.6), length=rng.uniform(0.6, 0.8))
    m["wrist"] = center + np.stack([np.zeros(n), 0.11 * amp * bump, -0.05 * bump], 1)
    m["theta"] = m["theta"] - sd * 0.25 * bump * rng.uniform(0.5, 1.0)
    return m


def motion_fist_open(u, sd, amp, rng):
    n = len(u)
    cycles = rng.uniform(2.0, 3.0)
    phase0 = rng.choice([0.0, np.pi])
    c = 0.5 - 0.5 * np.cos(2 * np.pi * cycles * u + phase0)
    center = np.array([sd * rng.uniform(0.2, 0.45), rng.uniform(-0.1, 0.15), rng.uniform(0.35, 0.5)])
    m = _base(n, SHAPE_OPEN, theta=-sd * rng.uniform(0.0, 0.25))
    m["curl"] = c[:, None] * rng.uniform(0.8, 1.0, 5)[None, :]
    m["wrist"] = center + np.stack([0.01 * np.sin(5 * u), 0.015 * c, np.zeros(n)], 1)
    return m


MOTIONS = [motion_wave, motion_circle, motion_swipe_left, motion_swipe_right, motion_push, motion_pull,
           motion_tap, motion_fist_open]


# ---------------------------------------------------------------------------------------------------
# Kinematics
# ---------------------------------------------------------------------------------------------------

def solve_elbow(shoulder, wrist, side):
    """3-D two-link IK: elbow positions (n, 3) for wrist targets (n, 3) (pulled in when out of reach);
    returns (elbow, wrist_reachable)."""
    d_vec = wrist - shoulder
    d = np.linalg.norm(d_vec, axis=1, keepdims=True)
    dmax = UPPER_ARM + FOREARM - 1e-3
    dmin = abs(UPPER_ARM - FOREARM) + 1e-3
    dc = np.clip(d, dmin, dmax)
    u = d_vec / np.maximum(d, 1e-9)
    wrist = shoulder + u * dc
    cos_a = (UPPER_ARM ** 2 + dc ** 2 - FOREARM ** 2) / (2 * UPPER_ARM * dc)
    sin_a = np.sqrt(np.clip(1 - cos_a ** 2, 0, 1))
    pole = np.array([side * 0.45, 1.0, -0.35])
    nvec = pole - np.sum(pole * u, axis=1, keepdims=True) * u
    nvec /= np.maximum(np.linalg.norm(nvec, axis=1, keepdims=True), 1e-9)
    elbow = shoulder + UPPER_ARM * (cos_a * u + sin_a * nvec)
    return elbow, wrist


def hand_points(wrist2d, theta, curl, width, length, size, thumb_sign):
    """11 hand points (n, 11, 2) in body units from the projected wrist and the hand's parameters.
    thumb_sign = +1 puts the thumb toward +x when the fingers point up."""
    n = len(theta)
    tips = _TIP_EXTENDED[None] + (_TIP_CURLED - _TIP_EXTENDED)[None] * curl[:, :, None]  # (n, 5, 2)
    local = np.zeros((n, 11, 2))
    local[:, 1::2] = np.broadcast_to(_MCP, (n, 5, 2))
    local[:, 2::2] = tips
    a = local[..., 0] * width[:, None] * thumb_sign
    b = local[..., 1] * length[:, None]
    up = np.stack([np.sin(theta), -np.cos(theta)], 1)      # fingers direction
    right = np.stack([np.cos(theta), np.sin(theta)], 1)    # +a direction before thumb_sign
    pts = a[..., None] * right[:, None, :] + b[..., None] * up[:, None, :]
    return wrist2d[:, None, :] + size[:, None, None] * pts


def generate_clip(label, rng):
    """One raw clip of class `label`: (n, 27, 3) float64 in pixels (x, y, visibility), zeros where a
    part is undetected. Also returns a dict of the clip's parameters."""
    n = int(rng.integers(30, 121))
    width_px, height_px = [(640, 480), (1280, 720), (960, 540), (720, 1280)][rng.integers(0, 4)]
    s_px = width_px * rng.uniform(0.17, 0.30) if width_px < height_px * 1.2 else \
        min(width_px, height_px * 1.4) * rng.uniform(0.2, 0.32)
    neck_px = np.array([width_px * rng.uniform(0.4, 0.6), height_px * rng.uniform(0.28, 0.42)])
    dominant = "right" if rng.random() < 0.5 else "left"
    sd = -1.0 if dominant == "right" else 1.0  # image side of the dominant hand
    amp = rng.uniform(0.7, 1.3)
    other_mode = "rest" if rng.random() < 0.65 else "missing"

    # time: optional lead-in from / lead-out to rest, a mild non-uniform speed
    tau = np.linspace(0.0, 1.0, n)
    lead_in = rng.uniform(0.08, 0.2) if rng.random() < 0.4 else 0.0
    lead_out = rng.uniform(0.08, 0.2) if rng.random() < 0.3 else 0.0
    u = np.clip((tau - lead_in) / (1.0 - lead_in - lead_out), 0.0, 1.0)
    u = np.clip(u + rng.uniform(-0.04, 0.04) * np.sin(2 * np.pi * u), 0.0, 1.0)

    m = MOTIONS[label](u, sd, amp, rng)
    wrist = m["wrist"] + rng.normal(0, 0.04, 3)  # per-clip position offset
    rest_wrist = np.array([sd * 0.55, 1.35, 0.1])
    if lead_in > 0:
        w = smoothstep(tau / lead_in)[:, None]
        wrist = rest_wrist + (wrist - rest_wrist) * w
        m["curl"] = SHAPE_RELAXED + (m["curl"] - SHAPE_RELAXED) * w
        m["theta"] = np.pi * (1 - w[:, 0]) + m["theta"] * w[:, 0]
    if lead_out > 0:
        w = smoothstep((1.0 - tau) / lead_out)[:, None]
        wrist = rest_wrist + (wrist - rest_wrist) * w
        m["curl"] = SHAPE_RELAXED + (m["curl"] - SHAPE_RELAXED) * w
        m["theta"] = np.pi * (1 - w[:, 0]) + m["theta"] * w[:, 0]

    # body: shoulders with a slow sway, the other hand resting low
    sway = np.stack([0.03 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * tau + rng.uniform(0, 6.3)),
                     0.02 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * tau + rng.uniform(0, 6.3)),
                     np.zeros(n)], 1)
    half = rng.uniform(0.48, 0.52)
    sh_dom = np.array([sd * half, 0.0, 0.0]) + sway
    sh_oth = np.array([-sd * half, 0.0, 0.0]) + sway
    elbow_dom, wrist = solve_elbow(sh_dom, wrist + sway, sd)
    other_wrist = np.array([-sd * rng.uniform(0.5, 0.62), rng.uniform(1.25, 1.4), rng.uniform(0.0, 0.2)]) \
        + sway + np.stack([0.01 * np.sin(3 * tau), 0.01 * np.cos(2 * tau), np.zeros(n)], 1)
    elbow_oth, other_wrist = solve_elbow(sh_oth, other_wrist, -sd)

    # weak-perspective camera about an axis near the chest
    cam_d = rng.uniform(3.5, 5.0)
    axis = np.array([rng.uniform(-0.2, 0.2), rng.uniform(0.2, 0.6)])

    def project(p3):
        k = cam_d / (cam_d - p3[..., 2:3])
        return axis + (p3[..., :2] - axis) * k, k[..., 0]

    neck3 = sway.copy()
    pts = np.zeros((n, 27, 2))
    pts[:, 0], _ = project(neck3)
    left_is_dom = sd > 0
    sh_l, sh_r = (sh_dom, sh_oth) if left_is_dom else (sh_oth, sh_dom)
    el_l, el_r = (elbow_dom, elbow_oth) if left_is_dom else (elbow_oth, elbow_dom)
    pts[:, 1], _ = project(sh_l)
    pts[:, 2], _ = project(sh_r)
    pts[:, 3], _ = project(el_l)
    pts[:, 4], _ = project(el_r)
    hand_size = rng.uniform(0.38, 0.48)
    w2d, k = project(wrist)
    dom_pts = hand_points(w2d, m["theta"], np.clip(m["curl"], 0, 1), m["width"], m["length"],
                          hand_size * k, thumb_sign=-sd)
    ow2d, ok = project(other_wrist)
    oth_pts = hand_points(ow2d, np.full(n, np.pi + rng.uniform(-0.3, 0.3)),
                          np.tile(SHAPE_RELAXED, (n, 1)), np.full(n, 0.9), np.full(n, 0.9),
                          hand_size * ok, thumb_sign=sd)
    dom_slot = slice(5, 16) if left_is_dom else slice(16, 27)
    oth_slot = slice(16, 27) if left_is_dom else slice(5, 16)
    pts[:, dom_slot] = dom_pts
    pts[:, oth_slot] = oth_pts

    # body roll, to pixels, noise
    roll = rng.uniform(-0.08, 0.08)
    rot = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    px = neck_px + s_px * (pts @ rot.T)
    body_sigma = rng.uniform(0.5, 2.5)
    hand_sigma = rng.uniform(0.3, 1.5)
    px[:, 1:5] += rng.normal(0, body_sigma, (n, 4, 2))
    px[:, 5:27] += rng.normal(0, hand_sigma, (n, 22, 2))
    px[:, 0] = (px[:, 1] + px[:, 2]) / 2.0  # the neck is the mean of the two shoulders (spec, step 3)

    clip = np.zeros((n, 27, 3))
    clip[..., :2] = px
    vis = np.clip(rng.uniform(0.93, 1.0, 4)[None, :] + rng.normal(0, 0.015, (n, 4)), 0.85, 1.0)
    clip[:, 1:5, 2] = vis
    clip[:, 0, 2] = (vis[:, 0] + vis[:, 1]) / 2.0
    clip[:, 5:27, 2] = 1.0

    # detections: the other hand missing, dropped runs of the dominant hand, rare dropped pose frames
    if other_mode == "missing":
        clip[:, oth_slot] = 0.0
    else:
        for _ in range(rng.poisson(0.7)):
            start, length = rng.integers(0, n), rng.integers(2, 10)
            clip[start:start + length, oth_slot] = 0.0
    for _ in range(rng.poisson(1.2)):
        start, length = rng.integers(0, n), rng.integers(1, 7)
        clip[start:start + length, dom_slot] = 0.0
    if rng.random() < 0.15:
        start, length = rng.integers(0, n), rng.integers(1, 4)
        clip[start:start + length, 0:5] = 0.0

    params = {"label": int(label), "class": CLASSES[label], "frames": n, "dominant": dominant,
              "other_hand": other_mode, "image": [width_px, height_px], "shoulder_px": float(s_px),
              "amplitude": float(amp)}
    return clip, params


def make_dataset(num_clips, seed, num_frames=64, labels=None):
    """`num_clips` preprocessed clips (num_clips, num_frames, 27, 3) float32 with labels (num_clips,)
    int64, balanced over the classes (label of clip i = i mod 8, unless `labels` is given) and
    reproducible: clip i uses its own Generator from SeedSequence(seed).spawn."""
    if labels is None:
        labels = np.arange(num_clips) % len(CLASSES)
    labels = np.asarray(labels, dtype=np.int64)
    children = np.random.SeedSequence(seed).spawn(num_clips)
    xs = np.zeros((num_clips, num_frames, 27, 3), dtype=np.float32)
    params = []
    for i in range(num_clips):
        rng = np.random.default_rng(children[i])
        raw, p = generate_clip(int(labels[i]), rng)
        xs[i] = signbert_preprocess.preprocess_joints27(raw, num_frames)
        params.append(p)
    return xs, labels, params


# ---------------------------------------------------------------------------------------------------
# Continuous recordings: one signer performs several gestures in a row (the live stream's test data)
# ---------------------------------------------------------------------------------------------------

REST_WRIST_Y = 1.35  # the resting hand hangs low beside the body (body units), as in generate_clip's lead-in


def _rest_state(sd, n):
    """The dominant hand at rest for n frames: low beside the body, fingers down and relaxed."""
    return {"wrist": np.tile([sd * 0.55, REST_WRIST_Y, 0.1], (n, 1)), "theta": np.full(n, np.pi),
            "curl": np.tile(SHAPE_RELAXED, (n, 1)), "width": np.ones(n), "length": np.ones(n)}


def _blend(a, b, n):
    """n frames moving smoothly from the last frame of state a to the first frame of state b."""
    w = smoothstep(np.linspace(0.0, 1.0, n + 2)[1:-1])
    out = {}
    for key in ("wrist", "theta", "curl", "width", "length"):
        start, end = np.asarray(a[key][-1], dtype=np.float64), np.asarray(b[key][0], dtype=np.float64)
        shape = (n,) + (1,) * start.ndim
        out[key] = start + (end - start) * w.reshape(shape)
    return out


def generate_recording(rng, num_gestures=None, labels=None):
    """A continuous recording: one signer (fixed body, camera and image size) performs 5-10 gestures in a row
    (`num_gestures` or `labels` to choose), no class twice in a row (without a rest class a stream cannot tell
    two identical neighbours apart). Before the first and after the last gesture the hand rests; between two
    gestures it either goes back to rest for a pause (half the time) or moves straight on (a transition of
    8-18 frames). A gesture lasts 45-90 frames (a 64-frame window holds most of one at 30 frames/s).

    Returns (clip, segments, params): clip (n, 27, 3) float64 in pixels like generate_clip's (x, y,
    visibility; zeros where a part is undetected), segments a list of (label, start_frame, end_frame) with
    end_frame inclusive, covering only the gesture itself (not the transitions or rests), and params (the
    image size, fps 30, the dominant hand...)."""
    if labels is None:
        count = int(num_gestures) if num_gestures is not None else int(rng.integers(5, 11))
        labels = []
        for _ in range(count):
            choices = [c for c in range(len(CLASSES)) if not labels or c != labels[-1]]
            labels.append(int(rng.choice(choices)))
    width_px, height_px = [(640, 480), (1280, 720), (960, 540)][rng.integers(0, 3)]
    s_px = min(width_px, height_px * 1.4) * rng.uniform(0.2, 0.3)
    neck_px = np.array([width_px * rng.uniform(0.42, 0.58), height_px * rng.uniform(0.3, 0.4)])
    dominant = "right" if rng.random() < 0.5 else "left"
    sd = -1.0 if dominant == "right" else 1.0
    other_mode = "rest" if rng.random() < 0.65 else "missing"

    # The dominant hand's track, piece by piece: rest, (transition, gesture, [transition, rest]) ..., rest.
    pieces, segments, frame = [], [], 0

    def add(state):
        nonlocal frame
        pieces.append(state)
        frame += len(state["theta"])

    add(_rest_state(sd, int(rng.integers(12, 30))))
    for i, label in enumerate(labels):
        n = int(rng.integers(45, 91))
        tau = np.linspace(0.0, 1.0, n)
        u = np.clip(tau + rng.uniform(-0.04, 0.04) * np.sin(2 * np.pi * tau), 0.0, 1.0)
        m = MOTIONS[label](u, sd, rng.uniform(0.75, 1.25), rng)
        m["wrist"] = m["wrist"] + rng.normal(0, 0.04, 3)
        m["curl"] = np.clip(m["curl"], 0, 1)
        add(_blend(pieces[-1], m, int(rng.integers(8, 19))))
        segments.append((int(label), frame, frame + n - 1))
        add(m)
        last = i == len(labels) - 1
        if last or rng.random() < 0.5:
            rest = _rest_state(sd, int(rng.integers(20, 40) if last else rng.integers(10, 30)))
            add(_blend(m, rest, int(rng.integers(8, 16))))
            add(rest)
    track = {key: np.concatenate([p[key] for p in pieces]) for key in pieces[0]}
    n = frame

    # The body, camera and rendering, as generate_clip does for one clip.
    tau = np.arange(n) / 30.0
    sway = np.stack([0.03 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * tau + rng.uniform(0, 6.3)),
                     0.02 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * tau + rng.uniform(0, 6.3)),
                     np.zeros(n)], 1)
    half = rng.uniform(0.48, 0.52)
    sh_dom = np.array([sd * half, 0.0, 0.0]) + sway
    sh_oth = np.array([-sd * half, 0.0, 0.0]) + sway
    elbow_dom, wrist = solve_elbow(sh_dom, track["wrist"] + sway, sd)
    other_wrist = np.array([-sd * rng.uniform(0.5, 0.62), rng.uniform(1.25, 1.4), rng.uniform(0.0, 0.2)]) \
        + sway + np.stack([0.01 * np.sin(0.3 * tau), 0.01 * np.cos(0.2 * tau), np.zeros(n)], 1)
    elbow_oth, other_wrist = solve_elbow(sh_oth, other_wrist, -sd)
    cam_d = rng.uniform(3.5, 5.0)
    axis = np.array([rng.uniform(-0.2, 0.2), rng.uniform(0.2, 0.6)])

    def project(p3):
        k = cam_d / (cam_d - p3[..., 2:3])
        return axis + (p3[..., :2] - axis) * k, k[..., 0]

    left_is_dom = sd > 0
    pts = np.zeros((n, 27, 2))
    pts[:, 1], _ = project(sh_dom if left_is_dom else sh_oth)
    pts[:, 2], _ = project(sh_oth if left_is_dom else sh_dom)
    pts[:, 3], _ = project(elbow_dom if left_is_dom else elbow_oth)
    pts[:, 4], _ = project(elbow_oth if left_is_dom else elbow_dom)
    hand_size = rng.uniform(0.38, 0.48)
    w2d, k = project(wrist)
    dom_pts = hand_points(w2d, track["theta"], np.clip(track["curl"], 0, 1), track["width"], track["length"],
                          hand_size * k, thumb_sign=-sd)
    ow2d, ok = project(other_wrist)
    oth_pts = hand_points(ow2d, np.full(n, np.pi + rng.uniform(-0.3, 0.3)), np.tile(SHAPE_RELAXED, (n, 1)),
                          np.full(n, 0.9), np.full(n, 0.9), hand_size * ok, thumb_sign=sd)
    dom_slot = slice(5, 16) if left_is_dom else slice(16, 27)
    oth_slot = slice(16, 27) if left_is_dom else slice(5, 16)
    pts[:, dom_slot] = dom_pts
    pts[:, oth_slot] = oth_pts
    roll = rng.uniform(-0.06, 0.06)
    rot = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    px = neck_px + s_px * (pts @ rot.T)
    px[:, 1:5] += rng.normal(0, rng.uniform(0.5, 2.0), (n, 4, 2))
    px[:, 5:27] += rng.normal(0, rng.uniform(0.3, 1.2), (n, 22, 2))
    px[:, 0] = (px[:, 1] + px[:, 2]) / 2.0

    clip = np.zeros((n, 27, 3))
    clip[..., :2] = px
    vis = np.clip(rng.uniform(0.93, 1.0, 4)[None, :] + rng.normal(0, 0.015, (n, 4)), 0.85, 1.0)
    clip[:, 1:5, 2] = vis
    clip[:, 0, 2] = (vis[:, 0] + vis[:, 1]) / 2.0
    clip[:, 5:27, 2] = 1.0
    # Detection drop-outs at the rate generate_clip has per ~75-frame clip.
    if other_mode == "missing":
        clip[:, oth_slot] = 0.0
    else:
        for _ in range(rng.poisson(0.7 * n / 75)):
            start, length = rng.integers(0, n), rng.integers(2, 10)
            clip[start:start + length, oth_slot] = 0.0
    for _ in range(rng.poisson(1.0 * n / 75)):
        start, length = rng.integers(0, n), rng.integers(1, 5)
        clip[start:start + length, dom_slot] = 0.0
    params = {"frames": n, "fps": 30, "image": [width_px, height_px], "dominant": dominant,
              "other_hand": other_mode, "labels": [CLASSES[c] for c in labels]}
    return clip, segments, params


def make_recordings(count, seed):
    """`count` continuous recordings; recording i depends only on (seed, i)."""
    children = np.random.SeedSequence(seed).spawn(count)
    return [generate_recording(np.random.default_rng(child)) for child in children]


# Holistic form: the inverse of the spec's step 3 (as tools/make_pose_recordings.py writes a .pose), with the
# 33 pose points MediaPipe gives (the ones step 3 does not read placed plausibly, so that a drawing looks right).

def hand21(joints11):
    """(n, 11, 2) mediapipe_27 hand slots -> (n, 21, 2) MediaPipe hand landmarks: the 11 at HAND_INDICES, the
    other 10 on the bones between them (thumb CMC and IP halfway, each finger's PIP and DIP at thirds)."""
    out = np.zeros((joints11.shape[0], 21, 2))
    out[:, signbert_preprocess.HAND_INDICES] = joints11
    out[:, 1] = (out[:, 0] + out[:, 2]) / 2
    out[:, 3] = (out[:, 2] + out[:, 4]) / 2
    for mcp, tip in ((5, 8), (9, 12), (13, 16), (17, 20)):
        out[:, mcp + 1] = out[:, mcp] + (out[:, tip] - out[:, mcp]) / 3
        out[:, mcp + 2] = out[:, mcp] + (out[:, tip] - out[:, mcp]) * 2 / 3
    return out


def recording_to_holistic(clip):
    """(n, 27, 3) pixel clip -> (pose (n, 33, 4), left (n, 21, 3), right (n, 21, 3), detected (n, 3) bool) in
    pixels: pose 11-14 are the shoulders and elbows with their visibility, 15/16 the wrists, 0-10 a face above
    the neck, 23/24 the hips below the shoulders, 17-22 and 25-32 further points of low visibility. A part is
    undetected in a frame when its joints are all zero (pose: the shoulders; a hand: its wrist)."""
    n = clip.shape[0]
    xy = clip[..., :2]
    sh_l, sh_r = xy[:, 1], xy[:, 2]
    width = np.linalg.norm(sh_l - sh_r, axis=1, keepdims=True)
    neck = (sh_l + sh_r) / 2
    down = np.array([0.0, 1.0])
    pose = np.zeros((n, 33, 4))
    pose[:, :, 3] = 0.3
    face = {0: (0.0, -0.75), 1: (0.06, -0.8), 2: (0.09, -0.8), 3: (0.12, -0.8), 4: (-0.06, -0.8),
            5: (-0.09, -0.8), 6: (-0.12, -0.8), 7: (0.2, -0.76), 8: (-0.2, -0.76), 9: (0.05, -0.65),
            10: (-0.05, -0.65)}
    for i, (dx, dy) in face.items():  # the person's left (pose's odd points) is the image's right
        pose[:, i, :2] = neck + np.array([dx, dy]) * width
        pose[:, i, 3] = 0.99
    pose[:, 11:15, :2] = xy[:, 1:5]
    pose[:, 11:15, 3] = clip[:, 1:5, 2]
    for point, hand in ((15, 5), (16, 16)):
        pose[:, point, :2] = np.where(clip[:, hand, 2:3] > 0, xy[:, hand], xy[:, 3 + point - 15])
        pose[:, point, 3] = np.where(clip[:, hand, 2] > 0, 0.8, 0.2)
    for point, base in ((17, 15), (19, 15), (21, 15), (18, 16), (20, 16), (22, 16)):
        pose[:, point, :2] = pose[:, base, :2]
    pose[:, 23, :2] = sh_l + down * 1.6 * width
    pose[:, 24, :2] = sh_r + down * 1.6 * width
    pose[:, 23:25, 3] = 0.7
    for point, hip, depth in ((25, 23, 1.1), (26, 24, 1.1), (27, 23, 2.1), (28, 24, 2.1), (29, 23, 2.2),
                              (30, 24, 2.2), (31, 23, 2.3), (32, 24, 2.3)):
        pose[:, point, :2] = pose[:, hip, :2] + down * depth * width
        pose[:, point, 3] = 0.05
    detected = np.stack([clip[:, 1, 2] > 0, clip[:, 5, 2] > 0, clip[:, 16, 2] > 0], 1)
    pose[~detected[:, 0]] = 0.0
    hands = []
    for first, seen in ((5, detected[:, 1]), (16, detected[:, 2])):
        hand = np.zeros((n, 21, 3))
        hand[..., :2] = hand21(xy[:, first:first + 11])
        hand[..., 2] = 1.0  # a detected hand point's third channel, as in the 27-joint clip
        hand[~seen] = 0.0
        hands.append(hand)
    return pose, hands[0], hands[1], detected


def landmark_frames(clip, image_size, decimals=5):
    """The recording as the stream's (and /predict's) landmark frames: x, y normalised to the image, z 0,
    `null` for an undetected part. Returns a list of dicts, one per frame."""
    pose, left, right, detected = recording_to_holistic(clip)
    w, h = image_size
    scale = np.array([1.0 / w, 1.0 / h])
    frames = []
    for t in range(clip.shape[0]):
        frame = {}
        p = pose[t].copy()
        p[:, :2] *= scale
        frame["pose"] = np.round(p, decimals).tolist() if detected[t, 0] else None
        for name, hand, seen in (("left_hand", left, detected[t, 1]), ("right_hand", right, detected[t, 2])):
            q = hand[t].copy()
            q[:, :2] *= scale
            q[:, 2] = 0.0
            frame[name] = np.round(q, decimals).tolist() if seen else None
        frames.append(frame)
    return frames


def recording_document(clip, segments, params):
    """The JSON form of a recording (what `--write-recording` writes and the stream client reads): the stream's
    `start` fields (image size, fps), the landmark frames, and the truth."""
    return {"format": "signbert-recording", "version": 1, "fps": params["fps"],
            "image_width": params["image"][0], "image_height": params["image"][1],
            "labels": CLASSES,
            "segments": [{"label": CLASSES[c], "index": c, "start_frame": s, "end_frame": e}
                         for c, s, e in segments],
            "frames": landmark_frames(clip, params["image"])}



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--num", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write clips/labels to this .npz")
    ap.add_argument("--recording", type=int, metavar="I",
                    help="instead: continuous recording I of --seed (generate_recording), written as JSON to --out")
    args = ap.parse_args()
    if args.recording is not None:
        clip, segments, params = make_recordings(args.recording + 1, args.seed)[args.recording]
        document = recording_document(clip, segments, params)
        print(f"recording {args.recording} of seed {args.seed}: {params['frames']} frames, "
              f"{' '.join(params['labels'])}")
        if args.out:
            import json
            with open(args.out, "w") as f:
                json.dump(document, f, separators=(",", ":"))
        return
    xs, ys, _ = make_dataset(args.num, args.seed)
    print(f"{len(xs)} clips, shape {xs.shape}, labels {np.bincount(ys, minlength=len(CLASSES)).tolist()}")
    if args.out:
        np.savez(args.out, clips=xs, labels=ys)


if __name__ == "__main__":
    main()
