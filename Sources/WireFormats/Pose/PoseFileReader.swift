public import Foundation
public import SignBERTRuntime

/// Reads `.pose` files, the binary format of the sign-language-processing `pose-format` library: spec v0.1
/// (`docs/specs/v0.1.md`; fps and frame count as uint16, the frame count inferred from the body's size as the
/// reference reader does) and v0.2, which the current Python library writes (fps float32, frames uint32).
///
/// The file must hold MediaPipe Holistic components named POSE_LANDMARKS, LEFT_HAND_LANDMARKS and
/// RIGHT_HAND_LANDMARKS (others, e.g. FACE_LANDMARKS, are skipped). Points are found by their MediaPipe names
/// (NOSE ... RIGHT_FOOT_INDEX, WRIST ... PINKY_TIP) in whatever order the header lists them; files often keep
/// only some pose points (pose-format's reduced holistic keeps 8), so only the points the 27-joint mapping
/// uses are required; pose points the file lacks are left undetected (zeros), which cannot change the input.
///
/// The mapping to `HolisticClip` (the spec's array form), as pose-format's MediaPipe writer stores values:
/// - x, y are read as stored: the writer already multiplied MediaPipe's normalised x, y by the image size;
/// - the third channel is the point's confidence for the pose (the writer stores MediaPipe's visibility
///   there) and 1.0 for a hand point with confidence > 0 (the writer stores 1 for a detected hand);
/// - a point with confidence 0 is undetected: all zeros. pose-format masks such points, and real files store
///   placeholder coordinates for them (the shared MediaPipe recordings hold 625, 625 for every missing hand),
///   which the training pipeline would otherwise take for detections.
/// Only the first person is read. The z coordinate is not used (the model's third channel is visibility).
public enum PoseFileReader {
    /// MediaPipe's pose landmark names, in landmark-index order.
    public static let poseLandmarkNames = [
        "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE", "RIGHT_EYE_OUTER",
        "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW",
        "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX",
        "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE",
        "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"]
    /// MediaPipe's hand landmark names, in landmark-index order.
    public static let handLandmarkNames = [
        "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
        "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
        "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
        "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"]

    /// The MediaPipe Holistic landmarks of the file's first person, in the spec's array form.
    public static func read(_ bytes: some ContiguousBytes,
                            maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(PoseFileError) -> HolisticClip {
        try readFile(bytes, maxFrames: maxFrames).clip
    }

    /// The header and the Holistic landmarks of the first person. More than `maxFrames` frames is an error.
    public static func readFile(_ bytes: some ContiguousBytes,
                                maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(PoseFileError) -> PoseFile {
        let result: Result<PoseFile, PoseFileError> = bytes.withUnsafeBytes { raw in
            do throws(PoseFileError) {
                var reader = PoseByteReader(raw)
                let header = try readHeader(&reader)
                return .success(try readBody(&reader, header: header, maxFrames: maxFrames))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The file's version: 0.1 or 0.2 (a float32, compared as the reference reader does, to 3 decimals).
    enum Version { case v01, v02 }

    static func readHeader(_ reader: inout PoseByteReader) throws(PoseFileError) -> PoseFile.Header {
        let version = try reader.float32("the version")
        _ = try version01or02(version)
        let width = try reader.uint16("the width"), height = try reader.uint16("the height")
        let depth = try reader.uint16("the depth")
        let count = try reader.uint16("the number of components")
        // A component takes at least 10 bytes (two empty strings, three counts).
        try reader.require(count * 10, for: "\(count) components")
        var components: [PoseFile.Component] = []
        for c in 0..<count {
            let name = try reader.string("the name of component \(c)")
            let format = try reader.string("the point format of \(name)")
            let points = try reader.uint16("the number of points of \(name)")
            let limbs = try reader.uint16("the number of limbs of \(name)")
            let colors = try reader.uint16("the number of colors of \(name)")
            try reader.require(points * 2, for: "the \(points) point names of \(name)")
            var names: [String] = []
            names.reserveCapacity(points)
            for p in 0..<points { names.append(try reader.string("point \(p) of \(name)")) }
            try reader.skip(limbs * 4, "the \(limbs) limbs of \(name)")
            try reader.skip(colors * 6, "the \(colors) colors of \(name)")
            components.append(PoseFile.Component(name: name, format: format, points: names))
        }
        return PoseFile.Header(version: version, width: width, height: height, depth: depth, components: components)
    }

    static func version01or02(_ version: Float) throws(PoseFileError) -> Version {
        let rounded = (Double(version) * 1000).rounded() / 1000
        if rounded == 0.1 { return .v01 }
        if rounded == 0.2 { return .v02 }
        throw PoseFileError("unsupported .pose version \(version): this reader knows versions 0.1 and 0.2")
    }

    static func readBody(_ reader: inout PoseByteReader, header: PoseFile.Header,
                         maxFrames: Int) throws(PoseFileError) -> PoseFile {
        let fps: Double
        let declaredFrames: Int
        switch try version01or02(header.version) {
        case .v01:
            fps = Double(try reader.uint16("the fps"))
            declaredFrames = try reader.uint16("the number of frames")
        case .v02:
            fps = Double(try reader.float32("the fps"))
            declaredFrames = try reader.uint32("the number of frames")
        }
        let people = try reader.uint16("the number of people")
        guard people > 0 else { throw PoseFileError("malformed .pose file: it records 0 people") }

        // Where the three Holistic components sit among all points of a person.
        let totalPoints = header.components.reduce(0) { $0 + $1.points.count }
        let dims = (header.components.map(\.format.count).max() ?? 0) - 1
        guard dims >= 2 else {
            throw PoseFileError("malformed .pose file: point formats have \(dims + 1) values; x, y and a confidence are needed")
        }
        let sources = try landmarkSources(header)

        // One frame: people x points x dims floats of data, then (after all frames) people x points confidences.
        let (dataFloats, o1) = people.multipliedReportingOverflow(by: totalPoints)
        let (frameFloats, o2) = dataFloats.multipliedReportingOverflow(by: dims + 1)
        guard !o1, !o2, frameFloats > 0 else { throw PoseFileError("malformed .pose file: no points to read") }
        let frameBytes = frameFloats * 4
        let frames: Int
        switch try version01or02(header.version) {
        case .v01:
            // The uint16 frame count overflows on long videos, so the size decides (as the reference reader).
            guard reader.remaining % frameBytes == 0 else {
                throw PoseFileError("truncated .pose file: its body of \(reader.remaining) bytes is not a whole "
                                    + "number of \(frameBytes)-byte frames")
            }
            frames = reader.remaining / frameBytes
            // The writer stores the count when it fits (0 otherwise): a mismatch means a cut or padded file,
            // whose confidences would otherwise be read from the coordinates.
            guard declaredFrames == frames || (frames >= 65_535 && declaredFrames == 0) else {
                throw PoseFileError("malformed .pose file: it declares \(declaredFrames) frames but its body holds "
                                    + "\(frames) frames of \(frameBytes) bytes")
            }
        case .v02:
            frames = declaredFrames
            let (needed, overflow) = frames.multipliedReportingOverflow(by: frameBytes)
            guard !overflow, needed <= reader.remaining else {
                throw PoseFileError("truncated .pose file: \(frames) frames need \(frames) x \(frameBytes) bytes, "
                                    + "\(reader.remaining) remain")
            }
            guard needed == reader.remaining else {
                throw PoseFileError("malformed .pose file: \(reader.remaining - needed) bytes follow its last frame")
            }
        }
        guard frames > 0 else { throw PoseFileError("the .pose file holds no frames") }
        guard frames <= maxFrames else {
            throw PoseFileError("the .pose file has \(frames) frames; at most \(maxFrames) are accepted")
        }

        let dataBase = reader.offset
        let confidenceBase = dataBase + frames * dataFloats * dims * 4
        var clip = HolisticClip(undetectedFrames: frames)
        for frame in 0..<frames {
            for source in sources {
                // Person 0 of this frame.
                let point = frame * dataFloats + source.point
                let confidence = reader.float(at: confidenceBase, index: point)
                guard confidence.isFinite, confidence >= 0 else {
                    throw PoseFileError("malformed .pose file: frame \(frame), \(source.component) point "
                                        + "\(source.name) has confidence \(confidence)")
                }
                guard confidence > 0 else { continue }  // undetected: stays zero
                let x = reader.float(at: dataBase, index: point * dims)
                let y = reader.float(at: dataBase, index: point * dims + 1)
                guard x.isFinite, y.isFinite else {
                    throw PoseFileError("malformed .pose file: frame \(frame), \(source.component) point "
                                        + "\(source.name) is not finite")
                }
                clip.set(source.part, frame: frame, landmark: source.landmark, x: x, y: y,
                         c: source.part == .pose ? confidence : 1)
            }
        }
        return PoseFile(header: header, fps: fps, people: people, clip: clip)
    }

    struct LandmarkSource {
        var part: HolisticClip.Part
        var landmark: Int
        /// The point's index among all points of a person.
        var point: Int
        var component: String
        var name: String
    }

    /// Every Holistic landmark the file holds, located by component and point name.
    static func landmarkSources(_ header: PoseFile.Header) throws(PoseFileError) -> [LandmarkSource] {
        let wanted: [(component: String, part: HolisticClip.Part, names: [String], required: [Int])] = [
            ("POSE_LANDMARKS", .pose, poseLandmarkNames, HolisticPreprocessor.poseIndices),
            ("LEFT_HAND_LANDMARKS", .leftHand, handLandmarkNames, HolisticPreprocessor.handIndices),
            ("RIGHT_HAND_LANDMARKS", .rightHand, handLandmarkNames, HolisticPreprocessor.handIndices)]
        var sources: [LandmarkSource] = []
        for (component, part, names, required) in wanted {
            var first = 0
            guard let found = header.components.first(where: { c in
                if c.name == component { return true }
                first += c.points.count
                return false
            }) else {
                let present = header.components.map(\.name).joined(separator: ", ")
                throw PoseFileError("the .pose file has no \(component) component (it has: \(present)); "
                                    + "MediaPipe Holistic landmarks are needed")
            }
            var position: [String: Int] = [:]
            for (index, name) in found.points.enumerated() where position[name] == nil { position[name] = index }
            for (landmark, name) in names.enumerated() {
                guard let index = position[name] else {
                    if required.contains(landmark) {
                        throw PoseFileError("the .pose file's \(component) has no point \(name), which the model uses")
                    }
                    continue
                }
                sources.append(LandmarkSource(part: part, landmark: landmark, point: first + index,
                                              component: component, name: name))
            }
        }
        return sources
    }
}
