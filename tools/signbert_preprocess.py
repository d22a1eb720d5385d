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
4. `normalize_joints27`: x, y only (the third channel is kept): subtract the frame's centre from every
   joint; divide by 1.2 * numpy median (mean of the two middle values for an even count) of the per-frame
   shoulder distances |j1 - j2| (after centring) that are > 0 (1.0 if none). The centre depends on the
   commit the model was trained with:
   - "neck" (99e759a, SignBERT v2 era): joint 0 of the same frame;
   - "mid-hip" (cf4dfbb, SignBERT v1 era, `mid_hip_centres`): from the pose landmarks 23 and 24 (x, y) of the
     same frame (after steps 1-2): a hip counts when its x != 0; the mean of those that count, (0, 0) when
     neither does.
5. `loader_frames`: the training/evaluation loader, on a stored clip (what steps 1-4 wrote) of n frames, to
   D = the run's data.num_frames: n > D keeps the centre frames [(n-D)//2, (n-D)//2 + D); n < D repeats the
   last frame until there are D; n == D is unchanged.

Raw landmarks go through steps 1-5 (steps 1-4 always to 64 frames, the preprocessing script's own
--num_frames); a clip that is already a feature array goes through step 5 only.

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


def normalize_joints27(joints, centres=None):
    """Step 4. Normalise a (T, 27, C) clip: x, y of every joint minus the frame's centre, divided by 1.2 *
    the numpy median of the positive per-frame shoulder distances measured after centring (1.0 if none); the
    other channels are kept. `centres` (T, 2) is the centre per frame; None means joint 0, the neck
    (99e759a). Returns float64."""
    joints = np.array(joints, dtype=np.float64, copy=True)
    if centres is None:
        centres = joints[:, 0, :2]
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 1, 2)
    coords = joints[..., :2] - centres
    dist = np.linalg.norm(coords[:, 1] - coords[:, 2], axis=-1)
    positive = dist[dist > 0]
    scale = float(np.median(positive)) if positive.size else 1.0
    joints[..., :2] = coords / (scale * 1.2)
    return joints


def mid_hip_centres(pose):
    """cf4dfbb's centre per frame from pose (T, 33, C) after steps 1-2: pose landmarks 23 and 24 (x, y); a
    hip counts when its x != 0; the mean of those that count, (0, 0) when neither does. Returns (T, 2)."""
    pose = np.asarray(pose, dtype=np.float64)
    left, right = pose[:, 23, :2], pose[:, 24, :2]
    valid_l = (left[:, 0] != 0).astype(np.float64)[:, None]
    valid_r = (right[:, 0] != 0).astype(np.float64)[:, None]
    denom = valid_l + valid_r
    denom[denom == 0] = 1
    return (left * valid_l + right * valid_r) / denom


def loader_indices(n, d):
    """Step 5's source frame for each of the D output frames of a stored clip of n frames."""
    if n >= d:
        start = (n - d) // 2
        return np.arange(start, start + d)
    return np.concatenate([np.arange(n), np.full(d - n, n - 1)])


def loader_frames(clip, d):
    """Step 5, evaluation mode: a stored clip (n, ...) to D frames: the centre D frames when n > D, the last
    frame repeated when n < D, unchanged when n == D. Keeps the dtype."""
    clip = np.asarray(clip)
    return clip[loader_indices(clip.shape[0], d)]


CENTRES = ("neck", "mid-hip")


def preprocess_holistic(pose, left_hand, right_hand, num_frames=NUM_FRAMES, centre="neck"):
    """Steps 1-4 on raw Holistic tracks of one clip (n frames): pose (n, 33, 3), left_hand (n, 21, 3),
    right_hand (n, 21, 3), in pixels, zeros where undetected; `centre` "neck" (99e759a) or "mid-hip"
    (cf4dfbb). Returns float32 (num_frames, 27, 3): what the preprocessing script stores."""
    assert centre in CENTRES, centre
    parts = [sample_frames(interpolate_missing(p), num_frames) for p in (pose, left_hand, right_hand)]
    centres = mid_hip_centres(parts[0]) if centre == "mid-hip" else None
    return normalize_joints27(holistic_to_joints27(*parts), centres).astype(np.float32)


def model_input_holistic(pose, left_hand, right_hand, clip_frames, centre):
    """Steps 1-5: the model's input (D, 27, 3) float32 for raw landmarks, D = the run's data.num_frames."""
    return loader_frames(preprocess_holistic(pose, left_hand, right_hand, NUM_FRAMES, centre), clip_frames)


def preprocess_joints27(joints, num_frames=NUM_FRAMES):
    """The pipeline on a raw clip already in the mediapipe_27 layout, (n, 27, 3) in pixels with zeros
    where undetected: interpolation (step 1) per joint, sampling (step 2), normalisation (step 4).
    Returns float32 (num_frames, 27, 3)."""
    joints = sample_frames(interpolate_missing(joints), num_frames)
    return normalize_joints27(joints).astype(np.float32)
