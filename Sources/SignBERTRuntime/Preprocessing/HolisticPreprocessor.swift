/// The training pipeline's preprocessing of a raw Holistic clip (spec, "The inputs the model was trained on",
/// steps 1-4; tools/signbert_preprocess.py is the numpy reference whose arithmetic this follows, in float64):
/// 1. per landmark, missing points (x = y = 0) filled by linear interpolation over time, extrapolated at the
///    ends, where the landmark is detected in at least 2 frames and not in all;
/// 2. to P = 64 frames: floor(linspace(0, n-1, P)) (`ClipFrames.sampledIndices`) or zero frames appended;
/// 3. the 27 joints: neck (mean of pose 11, 12), pose 11-14, 11 points of each hand;
/// 4. x, y minus the frame's centre (the neck for commit 99e759a, the mid-hip of pose 23, 24 for cf4dfbb),
///    divided by 1.2 · the median of the positive shoulder distances.
/// `modelInput` then applies the loader's step 5 (`ClipFrames.loaded`) to the run's D frames.
/// Only the landmarks the result uses (26 for the joints, the 2 hips for the mid-hip) are interpolated, and
/// only at the frames kept: interpolation is per landmark, so the others cannot change the result.
public enum HolisticPreprocessor {
    public static let numJoints = 27
    public static let numCoords = 3
    /// The hand landmarks of joints 5-15 (left) and 16-26 (right).
    public static let handIndices = [0, 2, 4, 5, 8, 9, 12, 13, 16, 17, 20]
    /// The pose landmarks of joints 1-4: shoulders, elbows.
    public static let poseIndices = [11, 12, 13, 14]
    /// The pose landmarks of the mid-hip centre (cf4dfbb): left and right hip.
    public static let hipIndices = [23, 24]

    /// The model input for `clip`: steps 1-4 to 64 frames, then step 5 to `preparation.frames`; D x 27 x 3
    /// float32, row-major. Throws when the result is not finite (coordinates so large, or shoulders so
    /// close, that float32 overflows).
    public static func modelInput(for clip: HolisticClip, preparation: ClipPreparation) throws(RequestError) -> [Float] {
        let p = ClipPreparation.preprocessedFrames
        let stored = try preprocessed(clip, frames: p, centre: preparation.centre)
        return ClipFrames.loaded(stored[...], frames: p, features: numJoints * numCoords, to: preparation.frames)
    }

    /// Steps 1-4: what the preprocessing script stores for `clip` (`frames` x 27 x 3 float32, row-major).
    public static func preprocessed(_ clip: HolisticClip, frames t: Int = ClipPreparation.preprocessedFrames,
                                    centre: SkeletonCentre) throws(RequestError) -> [Float] {
        precondition(t > 0, "frames must be positive")
        let n = clip.frameCount
        // The source frame of each output frame; frames past `kept` are zero padding.
        let sources = n > t ? ClipFrames.sampledIndices(from: n, to: t) : Array(0..<n)
        let kept = sources.count
        let c = numCoords
        var joints = [Double](repeating: 0, count: t * numJoints * c)

        // Joints 1-4 and 5-26: the interpolated tracks at the kept frames.
        let tracks: [(part: HolisticClip.Part, landmarks: [Int], firstJoint: Int)] = [
            (.pose, poseIndices, 1), (.leftHand, handIndices, 5), (.rightHand, handIndices, 16)]
        for (part, landmarks, firstJoint) in tracks {
            let values = clip.values(of: part)
            values.withUnsafeBufferPointer { data in
                for (offset, landmark) in landmarks.enumerated() {
                    let joint = firstJoint + offset
                    fillTrack(data, landmark: landmark, landmarkCount: part.landmarkCount, frames: n,
                              sources: sources) { frame, channel, value in
                        joints[(frame * numJoints + joint) * c + channel] = value
                    }
                }
            }
        }
        // Joint 0, the neck: the mean of the shoulders (all channels).
        for frame in 0..<kept {
            let base = frame * numJoints * c
            for channel in 0..<c {
                joints[base + channel] = (joints[base + c + channel] + joints[base + 2 * c + channel]) / 2.0
            }
        }
        let centres: [(x: Double, y: Double)]
        switch centre {
        case .neck:
            centres = (0..<t).map { (joints[$0 * numJoints * c], joints[$0 * numJoints * c + 1]) }
        case .midHip:
            centres = midHips(clip, sources: sources, frames: t)
        }
        normalize(&joints, frames: t, centres: centres)

        var out = [Float](repeating: 0, count: joints.count)
        for i in joints.indices {
            let value = Float(joints[i])
            guard value.isFinite else {
                throw RequestError("the preprocessed clip is not finite (frame \(i / (numJoints * c))): "
                                   + "coordinates too large or shoulders too close together")
            }
            out[i] = value
        }
        return out
    }

    /// cf4dfbb's centre per output frame, from the (interpolated, sampled) pose landmarks 23 and 24: a hip
    /// counts when its x != 0; the mean of those that count, (0, 0) when neither does (padding frames too).
    static func midHips(_ clip: HolisticClip, sources: [Int], frames t: Int) -> [(x: Double, y: Double)] {
        var hips = [[Double]](repeating: [Double](repeating: 0, count: t * 2), count: hipIndices.count)
        clip.pose.withUnsafeBufferPointer { data in
            for (h, landmark) in hipIndices.enumerated() {
                fillTrack(data, landmark: landmark, landmarkCount: HolisticClip.poseLandmarks, frames: clip.frameCount,
                          sources: sources) { frame, channel, value in
                    if channel < 2 { hips[h][frame * 2 + channel] = value }
                }
            }
        }
        return (0..<t).map { frame in
            let left = (x: hips[0][frame * 2], y: hips[0][frame * 2 + 1])
            let right = (x: hips[1][frame * 2], y: hips[1][frame * 2 + 1])
            switch (left.x != 0, right.x != 0) {
            case (true, true): return ((left.x + right.x) / 2.0, (left.y + right.y) / 2.0)
            case (true, false): return left
            case (false, true): return right
            case (false, false): return (0, 0)
            }
        }
    }

    /// Step 1 for one landmark, evaluated at the frames `sources`: `emit(outputFrame, channel, value)`.
    static func fillTrack(_ data: UnsafeBufferPointer<Float>, landmark: Int, landmarkCount: Int, frames n: Int,
                          sources: [Int], emit: (Int, Int, Double) -> Void) {
        let c = HolisticClip.channels
        func value(_ frame: Int, _ channel: Int) -> Double {
            Double(data[(frame * landmarkCount + landmark) * c + channel])
        }
        func detected(_ frame: Int) -> Bool { value(frame, 0) != 0 || value(frame, 1) != 0 }
        var valid: [Int] = []
        for frame in 0..<n where detected(frame) { valid.append(frame) }

        let interpolates = valid.count >= 2 && valid.count < n
        var segment = 0  // valid[segment] <= frame < valid[segment + 1] for the current interior frame
        for (out, frame) in sources.enumerated() {
            guard interpolates, !detected(frame) else {
                for channel in 0..<c { emit(out, channel, value(frame, channel)) }
                continue
            }
            // The segment whose line gives this frame: the first or last two detections beyond the ends.
            let lo: Int
            if frame < valid[0] {
                lo = 0
            } else if frame > valid[valid.count - 1] {
                lo = valid.count - 2
            } else {
                while valid[segment + 1] < frame { segment += 1 }
                lo = segment
            }
            let x0 = Double(valid[lo]), x1 = Double(valid[lo + 1]), x = Double(frame)
            for channel in 0..<c {
                let y0 = value(valid[lo], channel), y1 = value(valid[lo + 1], channel)
                // numpy's form: slope · (x - xp[j]) + fp[j].
                let slope = (y1 - y0) / (x1 - x0)
                emit(out, channel, slope * (x - x0) + y0)
            }
        }
    }

    /// Step 4 in place on [frames][27][3]: x, y minus the frame's centre, over 1.2 · the median positive
    /// shoulder distance (measured after centring, as numpy does it).
    static func normalize(_ joints: inout [Double], frames t: Int, centres: [(x: Double, y: Double)]) {
        let c = numCoords, stride = numJoints * c
        var distances: [Double] = []
        distances.reserveCapacity(t)
        for frame in 0..<t {
            let base = frame * stride
            let (centreX, centreY) = centres[frame]
            // As numpy: both shoulders centred first, then their difference.
            let dx = (joints[base + c] - centreX) - (joints[base + 2 * c] - centreX)
            let dy = (joints[base + c + 1] - centreY) - (joints[base + 2 * c + 1] - centreY)
            let distance = (dx * dx + dy * dy).squareRoot()
            if distance > 0 { distances.append(distance) }
        }
        let scale = median(&distances) ?? 1.0
        let divisor = scale * 1.2
        for frame in 0..<t {
            let base = frame * stride
            let (centreX, centreY) = centres[frame]
            for joint in 0..<numJoints {
                joints[base + joint * c] = (joints[base + joint * c] - centreX) / divisor
                joints[base + joint * c + 1] = (joints[base + joint * c + 1] - centreY) / divisor
            }
        }
    }

    /// numpy's median: the middle value, or the mean of the two middle values of an even count.
    static func median(_ values: inout [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        values.sort()
        let mid = values.count / 2
        return values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0
    }
}
