/// n frames of MediaPipe Holistic landmarks in the array form the training pipeline started from (spec, "The
/// inputs the model was trained on"): per frame the pose (33 landmarks), the left hand (21) and the right hand
/// (21), each landmark `[x · image_width, y · image_height, c]` in pixels, where `c` is the pose landmark's
/// visibility and 1.0 for a detected hand landmark. A part that was not detected in a frame is all zeros.
/// Storage is flat and row-major: `pose[(frame · 33 + landmark) · 3 + channel]`.
public struct HolisticClip: Sendable, Equatable {
    public static let poseLandmarks = 33
    public static let handLandmarks = 21
    /// x, y and the visibility / detection channel.
    public static let channels = 3

    public let frameCount: Int
    public private(set) var pose: [Float]
    public private(set) var leftHand: [Float]
    public private(set) var rightHand: [Float]

    /// The arrays must hold `frameCount` frames of their part (a programming error otherwise: the decoders
    /// that build clips from client input size them before filling them).
    public init(frameCount: Int, pose: [Float], leftHand: [Float], rightHand: [Float]) {
        precondition(frameCount >= 0 && pose.count == frameCount * Self.poseLandmarks * Self.channels
                     && leftHand.count == frameCount * Self.handLandmarks * Self.channels
                     && rightHand.count == frameCount * Self.handLandmarks * Self.channels,
                     "HolisticClip arrays do not hold \(frameCount) frames")
        self.frameCount = frameCount
        self.pose = pose
        self.leftHand = leftHand
        self.rightHand = rightHand
    }

    /// A clip of `frameCount` frames in which nothing was detected, to be filled in.
    public init(undetectedFrames frameCount: Int) {
        self.init(frameCount: frameCount,
                  pose: [Float](repeating: 0, count: frameCount * Self.poseLandmarks * Self.channels),
                  leftHand: [Float](repeating: 0, count: frameCount * Self.handLandmarks * Self.channels),
                  rightHand: [Float](repeating: 0, count: frameCount * Self.handLandmarks * Self.channels))
    }

    /// The parts of a Holistic frame.
    public enum Part: Sendable, CaseIterable {
        case pose, leftHand, rightHand

        public var landmarkCount: Int { self == .pose ? HolisticClip.poseLandmarks : HolisticClip.handLandmarks }
    }

    /// Sets one landmark of one frame: `x`, `y` in pixels, `c` the third channel.
    public mutating func set(_ part: Part, frame: Int, landmark: Int, x: Float, y: Float, c: Float) {
        let base = (frame * part.landmarkCount + landmark) * Self.channels
        switch part {
        case .pose: pose[base] = x; pose[base + 1] = y; pose[base + 2] = c
        case .leftHand: leftHand[base] = x; leftHand[base + 1] = y; leftHand[base + 2] = c
        case .rightHand: rightHand[base] = x; rightHand[base + 1] = y; rightHand[base + 2] = c
        }
    }

    /// The flat array of one part.
    public func values(of part: Part) -> [Float] {
        switch part {
        case .pose: return pose
        case .leftHand: return leftHand
        case .rightHand: return rightHand
        }
    }
}
