public import SignBERTRuntime

/// The landmark form of a clip in a request's "inputs": an object of raw MediaPipe Holistic landmarks, which
/// the server preprocesses as the training pipeline did (`HolisticPreprocessor`).
///
///     {"image_width": 1280, "image_height": 720,
///      "frames": [{"pose": [33 landmarks], "left_hand": [21] | null, "right_hand": [21] | null}, ...]}
///
/// A landmark is `[x, y, z, visibility]` or `{"x":, "y":, "z":, "visibility":}` in MediaPipe's normalised
/// coordinates; pose landmarks need the visibility, hand landmarks take 3 or 4 values (a hand's visibility is
/// not used: the spec's array form holds 1.0 for a detected hand). A part that is null or absent was not
/// detected in that frame. Every mistake is a `RequestError` whose message starts with the JSON path.
public enum HolisticRequestDecoder {
    /// The largest image side accepted, in pixels (`.pose` files store sizes as uint16 too).
    public static let maxImageSide = 65_535

    /// Decodes one landmark-form clip to a `HolisticClip`; `path` names it in messages (e.g. "inputs[0]").
    public static func decodeClip(_ value: JSONValue, path: String,
                                  maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(RequestError) -> HolisticClip {
        guard case .object(let members) = value else {
            throw RequestError("\(path): expected an object with image_width, image_height and frames, got \(value.kindName)")
        }
        for member in members where !["image_width", "image_height", "frames"].contains(member.key) {
            throw RequestError("\(path): unknown field \"\(member.key)\"; a landmark clip has image_width, "
                               + "image_height and frames")
        }
        let width = try imageSide(value["image_width"], path: "\(path).image_width")
        let height = try imageSide(value["image_height"], path: "\(path).image_height")
        guard let framesValue = value["frames"] else {
            throw RequestError("\(path).frames: missing; expected an array of frames, each {\"pose\": [...], "
                               + "\"left_hand\": [...], \"right_hand\": [...]}")
        }
        guard case .array(let frames) = framesValue else {
            // A rectangular array of numbers parses as a tensor: not frame objects either.
            let got = framesValue.kindName == "an array" ? "an array of numbers" : framesValue.kindName
            throw RequestError("\(path).frames: expected an array of frame objects, got \(got)")
        }
        guard !frames.isEmpty else { throw RequestError("\(path).frames is empty: send at least one frame") }
        guard frames.count <= maxFrames else {
            throw RequestError("\(path).frames has \(frames.count) frames; at most \(maxFrames) are accepted")
        }
        var clip = HolisticClip(undetectedFrames: frames.count)
        let scale = (x: Double(width), y: Double(height))
        for (t, frame) in frames.enumerated() {
            let framePath = "\(path).frames[\(t)]"
            guard case .object(let parts) = frame else {
                throw RequestError("\(framePath): expected an object with pose, left_hand, right_hand, got \(frame.kindName)")
            }
            for part in parts where !["pose", "left_hand", "right_hand", "face"].contains(part.key) {
                throw RequestError("\(framePath): unknown field \"\(part.key)\"; a frame has pose, left_hand and "
                                   + "right_hand (face is accepted and ignored)")
            }
            for (key, part) in [("pose", HolisticClip.Part.pose), ("left_hand", .leftHand), ("right_hand", .rightHand)] {
                try decodePart(frame[key], part: part, path: "\(framePath).\(key)", frame: t, scale: scale, into: &clip)
            }
        }
        return clip
    }

    /// The model input of a landmark clip (D x 27 x 3), checked against the model as the array form is.
    static func modelInput(_ value: JSONValue, path: String, config: SignBERTConfig,
                           limits: PredictionRequestDecoder.FrameLimits) throws(RequestError) -> [Float] {
        try checkLayout(config, what: "\(path) is a landmark clip")
        let clip = try decodeClip(value, path: path, maxFrames: limits.maxFrames)
        let d = limits.preparation.frames
        if limits.exact && clip.frameCount != d {
            throw RequestError("\(path).frames has \(clip.frameCount) frames; with \"frames\": \"exact\" it must have "
                               + "exactly \(d) (the clip length the model was trained on, data.num_frames)")
        }
        do { return try HolisticPreprocessor.modelInput(for: clip, preparation: limits.preparation) } catch {
            throw RequestError("\(path): \(error.message)")
        }
    }

    /// Raw landmarks become the mediapipe_27 layout; another model cannot take them.
    static func checkLayout(_ config: SignBERTConfig, what: String) throws(RequestError) {
        guard config.numJoints == HolisticPreprocessor.numJoints, config.numCoords == HolisticPreprocessor.numCoords else {
            throw RequestError("\(what), which needs a model of the mediapipe_27 layout (27 joints x 3 coords); "
                               + "this model takes \(config.numJoints) joints x \(config.numCoords) coords")
        }
    }

    static func imageSide(_ value: JSONValue?, path: String) throws(RequestError) -> Int {
        guard let value else { throw RequestError("\(path): missing; the image size in pixels is needed") }
        guard case .number(let number) = value else {
            throw RequestError("\(path): expected a number of pixels, got \(value.kindName)")
        }
        guard number == number.rounded(), number >= 1, number <= Double(maxImageSide) else {
            let shown = number == number.rounded() && abs(number) < 1e15 ? "\(Int(number))" : "\(number)"
            throw RequestError("\(path): expected a whole number of pixels from 1 to \(maxImageSide), got \(shown)")
        }
        return Int(number)
    }

    /// One part of one frame into `clip`: null or absent leaves it undetected.
    static func decodePart(_ value: JSONValue?, part: HolisticClip.Part, path: String, frame: Int,
                           scale: (x: Double, y: Double), into clip: inout HolisticClip) throws(RequestError) {
        let count = part.landmarkCount
        let isPose = part == .pose
        let expected = isPose ? "4 numbers [x, y, z, visibility]" : "3 or 4 numbers"
        func store(_ landmark: Int, _ x: Double, _ y: Double, _ visibility: Double?) throws(RequestError) {
            let pixelX = x * scale.x, pixelY = y * scale.y
            let limit = Double(Float.greatestFiniteMagnitude)
            guard abs(pixelX) <= limit, abs(pixelY) <= limit, abs(visibility ?? 0) <= limit else {
                throw RequestError("\(path)[\(landmark)]: a value is beyond float32 once in pixels")
            }
            clip.set(part, frame: frame, landmark: landmark, x: Float(pixelX), y: Float(pixelY),
                     c: isPose ? Float(visibility ?? 0) : 1)
        }
        func numbers(_ values: ArraySlice<Double>, _ landmark: Int) throws(RequestError) {
            guard values.count == 4 || (!isPose && values.count == 3) else {
                throw RequestError("\(path)[\(landmark)]: expected \(expected), got \(values.count)")
            }
            let start = values.startIndex
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw RequestError("\(path)[\(landmark)][\(bad - start)]: not a finite number")
            }
            try store(landmark, values[start], values[start + 1], isPose ? values[start + 3] : nil)
        }

        switch value {
        case nil, .null?:
            return
        case .tensor(let shape, let values)?:
            guard shape[0] == count else {
                throw RequestError("\(path): expected \(count) landmarks, got \(shape[0])")
            }
            guard shape.count == 2 else {
                let got = shape.count == 1 ? "a number" : "an array of arrays"
                throw RequestError("\(path)[0]: expected \(expected) or an object, got \(got)")
            }
            let width = shape[1]
            for landmark in 0..<count { try numbers(values[landmark * width..<(landmark + 1) * width], landmark) }
        case .array(let landmarks)?:
            guard landmarks.count == count else {
                throw RequestError("\(path): expected \(count) landmarks, got \(landmarks.count)")
            }
            for (landmark, item) in landmarks.enumerated() {
                switch item {
                case .tensor(let shape, let values) where shape.count == 1:
                    try numbers(values[...], landmark)
                case .object:
                    func field(_ key: String) throws(RequestError) -> Double {
                        guard let member = item[key] else {
                            let needed = isPose ? "x, y, z and visibility" : "x, y and z"
                            throw RequestError("\(path)[\(landmark)].\(key): missing; a \(isPose ? "pose" : "hand") "
                                               + "landmark needs \(needed)")
                        }
                        guard case .number(let number) = member else {
                            throw RequestError("\(path)[\(landmark)].\(key): expected a number, got \(member.kindName)")
                        }
                        guard number.isFinite else { throw RequestError("\(path)[\(landmark)].\(key): not a finite number") }
                        return number
                    }
                    let x = try field("x"), y = try field("y")
                    _ = try field("z")
                    try store(landmark, x, y, isPose ? try field("visibility") : nil)
                case .array(let inner) where inner.isEmpty:
                    throw RequestError("\(path)[\(landmark)]: expected \(expected), got 0")
                case .array(let inner):
                    let bad = inner.first(where: { if case .number = $0 { return false } else { return true } })
                    throw RequestError("\(path)[\(landmark)]: expected \(expected), got an array holding "
                                       + (bad?.kindName ?? "something else"))
                default:
                    throw RequestError("\(path)[\(landmark)]: expected \(expected) or an object, got \(item.kindName)")
                }
            }
        case let other?:
            throw RequestError("\(path): expected an array of \(count) landmarks or null, got \(other.kindName)")
        }
    }
}
