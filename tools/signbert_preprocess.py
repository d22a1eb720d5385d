"""The input preprocessing of SignBERT's training pipeline, in numpy, written from
../shared/spec/signbert-model.md, section "The inputs the model was trained on" (skeleton layout
`mediapipe_27`).

This module is the Python reference for the runtime's own preprocessing: a model answers
meaningfully only on clips prepared exactly this way. The steps, in the spec's order:

1. `interpolate_missing`: per landmark, the frames where it is missing (x == 0 and y == 0) are filled by
   linear interpolation over time of all its channels, extrapolated linearly at the ends, where that
   landmark has at least 2 detected frames and is not detected in every frame. Applied to the raw
   per-landmark tracks (MediaPipe Holistic: pose 33, left hand 21, right hand 21 landmarks).
2. `sample_frames`: to T frames: a clip of n > T frames takes frames floor(linspace(0, n-1, T)); a clip of
   n < T frames is zero-padded at the end; n == T is kept.
3. `holistic_to_joints27`: the 27 joints: 0 neck = mean of pose 11 and 12 (all three channels);
   1, 2 = pose 11, 12 (shoulders); 3, 4 = pose 13, 14 (elbows); 5-15 = left hand landmarks
   [0, 2, 4, 5, 8, 9, 12, 13, 16, 17, 20]; 16-26 = right hand, the same indices.
4. `normalize_joints27`: x, y only (the third channel is kept): subtract joint 0 of the same frame from
   every joint; divide by 1.2 * numpy median (mean of the two middle values for an even count) of the
   per-frame shoulder distances |j1 - j2| that are > 0 (1.0 if none).

Coordinates are pixels (x * image_width, y * image_height); the third channel is the pose landmark's
visibility, 1.0 for hand landmarks; an undetected part is all zeros.

Notes that follow from the spec (and from the training code it describes):
- Interpolation covers all three channels (the visibility too), and a point counts as missing only when
  both x and y are exactly 0.
- Normalisation subtracts the neck from every joint, including joints that are still zero (a hand never
  detected in the clip): such a joint becomes (-neck_x / s, -neck_y / s, 0), not (0, 0, 0). Zero-padded
  frames stay all zero (their neck is zero too) and their shoulder distance 0 is left out of the median.
- The training code computes in float64 and hands the model float32; `preprocess_*` do the same.

`preprocess_holistic` runs the whole pipeline on raw Holistic arrays. `preprocess_joints27` runs it on
clips already in the 27-joint layout (what tools/gesture_data.py generates): steps 1, 2 and 4 on the 27
joint tracks. That equals the full pipeline whenever the neck's two shoulders are detected in the same
frames (Holistic detects the pose as a whole), because linear interpolation commutes with the mean
and with the selection of landmarks.
"""
import numpy as np

NUM_FRAMES = 64
NUM_JOINTS = 27
HAND_INDICES = [0, 2, 4, 5, 8, 9, 12, 13, 16, 17, 20]


def interpolate_missing(track):
    """Step 1. Fill missing points of each landmark by linear interpolation over time.

    track: array (n, L, C) (C >= 2) of one part's landmarks over n frames. A point is missing when its
    x == 0 and y == 0. For each landmark with at least 2 detected frames and fewer than n, every channel
    of its missing frames is set by linear interpolation between the nearest detected frames, and by
    linear extrapolation of the first (last) two detected frames before the first (after the last)
    detection (as scipy's interp1d(kind='linear', fill_value='extrapolate')). Other landmarks are kept
    as they are. Returns a new float64 array; the input is not modified.
    """
    data = np.array(track, dtype=np.float64, copy=True)
    n, num_landmarks, num_channels = data.shape
    detected = (data[..., 0] != 0) | (data[..., 1] != 0)
    for v in range(num_landmarks):
        valid = np.nonzero(detected[:, v])[0]
        if len(valid) < 2 or len(valid) == n:
            continue
        missing = np.nonzero(~detected[:, v])[0]
        for c in range(num_channels):
            data[missing, v, c] = _interp_extrapolate(missing.astype(np.float64),
                                                      valid.astype(np.float64), data[valid, v, c])
    return data


def _interp_extrapolate(x, xp, fp):
    """Piecewise-linear interpolation through (xp, fp) (xp increasing, len >= 2) at x, extrapolated with
    the first and last segments beyond the ends."""
    y = np.interp(x, xp, fp)
    lo = x < xp[0]
    if np.any(lo):
        slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
        y[lo] = fp[0] + slope * (x[lo] - xp[0])
    hi = x > xp[-1]
    if np.any(hi):
        slope = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
        y[hi] = fp[-1] + slope * (x[hi] - xp[-1])
    return y


def sample_indices(n, num_frames=NUM_FRAMES):
    """The frame indices step 2 keeps from a clip of n > num_frames frames: floor(linspace(0, n-1, T))."""
    return np.linspace(0, n - 1, num_frames).astype(np.int64)


def sample_frames(track, num_frames=NUM_FRAMES):
    """Step 2. Bring a clip (n, ...) to num_frames frames.

    n > num_frames: take frames floor(linspace(0, n-1, num_frames)); n < num_frames: append zero frames
    at the end; n == num_frames: unchanged. Returns float64.
    """
    data = np.asarray(track, dtype=np.float64)
    n = data.shape[0]
    if n > num_frames:
        return data[sample_indices(n, num_frames)]
    if n < num_frames:
        pad = np.zeros((num_frames - n,) + data.shape[1:], dtype=np.float64)
        return np.concatenate([data, pad], axis=0)
    return data.copy()


def holistic_to_joints27(pose, left_hand, right_hand):
    """Step 3. Map MediaPipe Holistic arrays pose (T, 33, C), left_hand (T, 21, C), right_hand (T, 21, C)
    to the mediapipe_27 layout (T, 27, C)."""
    pose = np.asarray(pose, dtype=np.float64)
    left_hand = np.asarray(left_hand, dtype=np.float64)
    right_hand = np.asarray(right_hand, dtype=np.float64)
    t = pose.shape[0]
    out = np.zeros((t, NUM_JOINTS, pose.shape[2]), dtype=np.float64)
    out[:, 0] = (pose[:, 11] + pose[:, 12]) / 2.0
    out[:, 1] = pose[:, 11]
    out[:, 2] = pose[:, 12]
    out[:, 3] = pose[:, 13]
    out[:, 4] = pose[:, 14]
    out[:, 5:16] = left_hand[:, HAND_INDICES]
    out[:, 16:27] = right_hand[:, HAND_INDICES]
    return out


def shoulder_scale(joints):
    """The scale of step 4 before the factor 1.2: the numpy median of the per-frame shoulder distances
    |j1 - j2| (x, y) that are > 0, or 1.0 when there is none."""
    joints = np.asarray(joints, dtype=np.float64)
    coords = joints[..., :2] - joints[:, 0:1, :2]
    dist = np.linalg.norm(coords[:, 1] - coords[:, 2], axis=-1)
    positive = dist[dist > 0]
    return float(np.median(positive)) if positive.size else 1.0


def normalize_joints27(joints):
    """Step 4. Normalise a (T, 27, C) clip: x, y of every joint minus joint 0 (neck) of the same frame,
    divided by 1.2 * shoulder_scale(joints); the other channels are kept. Returns float64."""
    joints = np.array(joints, dtype=np.float64, copy=True)
    scale = shoulder_scale(joints)
    coords = joints[..., :2] - joints[:, 0:1, :2]
    joints[..., :2] = coords / (scale * 1.2)
    return joints


def preprocess_holistic(pose, left_hand, right_hand, num_frames=NUM_FRAMES):
    """The whole pipeline on raw Holistic tracks of one clip (n frames): pose (n, 33, 3), left_hand
    (n, 21, 3), right_hand (n, 21, 3), in pixels, zeros where undetected. Returns float32
    (num_frames, 27, 3), the model's input."""
    parts = [sample_frames(interpolate_missing(p), num_frames) for p in (pose, left_hand, right_hand)]
    return normalize_joints27(holistic_to_joints27(*parts)).astype(np.float32)


def preprocess_joints27(joints, num_frames=NUM_FRAMES):
    """The pipeline on a raw clip already in the mediapipe_27 layout, (n, 27, 3) in pixels with zeros
    where undetected: interpolation (step 1) per joint, sampling (step 2), normalisation (step 4).
    Returns float32 (num_frames, 27, 3)."""
    joints = sample_frames(interpolate_missing(joints), num_frames)
    return normalize_joints27(joints).astype(np.float32)
