/// The training pipeline's preprocessing of a raw Holistic clip (spec, "The inputs the model was trained on",
/// steps 1-4; tools/signbert_preprocess.py is the numpy reference whose arithmetic this follows, in float64):
/// 1. per landmark, missing points (x = y = 0) filled by linear interpolation over time, extrapolated at the
///    ends, where the landmark is detected in at least 2 frames and not in all;
/// 2. to T frames: floor(linspace(0, n-1, T)) (`FrameSampler`) or zero frames appended;
/// 3. the 27 joints: neck (mean of pose 11, 12), pose 11-14, 11 points of each hand;
/// 4. x, y minus the frame's neck, divided by 1.2 · the median of the positive shoulder distances.
/// Only the 26 landmarks the 27 joints use are interpolated, and only at the frames kept: interpolation is
/// per landmark, so the others cannot change the result.
public enum HolisticPreprocessor {
    public static let numJoints = 27
    public static let numCoords = 3
    /// The hand landmarks of joints 5-15 (left) and 16-26 (right).
    public static let handIndices = [0, 2, 4, 5, 8, 9, 12, 13, 16, 17, 20]
    /// The pose landmarks of joints 1-4: shoulders, elbows.
    public static let poseIndices = [11, 12, 13, 14]

    /// The model input for `clip`: `frames` x 27 x 3 float32, row-major. Throws when the result is not finite
    /// (coordinates so large, or shoulders so close, that float32 overflows).
    public static func modelInput(for clip: HolisticClip, frames t: Int) throws(RequestError) -> [Float] {
        precondition(t > 0, "frames must be positive")
        let n = clip.frameCount
        // The source frame of each output frame; frames past `kept` are zero padding.
        let sources = n > t ? FrameSampler.indices(from: n, to: t) : Array(0..<n)
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
        normalize(&joints, frames: t)

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

    /// Step 4 in place on [frames][27][3]: x, y minus the neck, over 1.2 · median positive shoulder distance.
    static func normalize(_ joints: inout [Double], frames t: Int) {
        let c = numCoords, stride = numJoints * c
        var distances: [Double] = []
        distances.reserveCapacity(t)
        for frame in 0..<t {
            let base = frame * stride
            let neckX = joints[base], neckY = joints[base + 1]
            // As numpy: both shoulders neck-centred first, then their difference.
            let dx = (joints[base + c] - neckX) - (joints[base + 2 * c] - neckX)
            let dy = (joints[base + c + 1] - neckY) - (joints[base + 2 * c + 1] - neckY)
            let distance = (dx * dx + dy * dy).squareRoot()
            if distance > 0 { distances.append(distance) }
        }
        let scale = median(&distances) ?? 1.0
        let divisor = scale * 1.2
        for frame in 0..<t {
            let base = frame * stride
            let neckX = joints[base], neckY = joints[base + 1]
            for joint in 0..<numJoints {
                joints[base + joint * c] = (joints[base + joint * c] - neckX) / divisor
                joints[base + joint * c + 1] = (joints[base + joint * c + 1] - neckY) / divisor
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
