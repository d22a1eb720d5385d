import Foundation
import SignBERTRuntime
import WireFormats

/// A stream's incoming frames (a `frames` text message or a binary float32 block) as the values a window is built
/// from: for `landmarks`, one frame object of `/predict`'s landmark form each (the client's own object for a text
/// frame); for `features`, one flat row of V·C numbers. Each frame is checked on arrival with `/predict`'s own
/// decoder, so a bad frame is refused at once (1007) rather than when a window holding it runs.
struct StreamFrameDecoder: Sendable {
    let settings: StreamSettings
    let config: SignBERTConfig

    /// Floats per frame of a binary block: 75 landmarks x 4 (pose, left hand, right hand) or V·C features.
    var binaryFloatsPerFrame: Int { settings.input == .landmarks ? Self.landmarkPoints * 4 : config.inputFeatures }

    static let parts: [(key: String, count: Int)] = [("pose", 33), ("left_hand", 21), ("right_hand", 21)]
    static let landmarkPoints = 75

    /// `first` numbers the frames in messages (the stream's count so far).
    func frames(fromText value: JSONValue?, first: Int) throws(RequestError) -> [JSONValue] {
        guard let value else { throw RequestError("frames: missing; expected an array of frames") }
        switch (settings.input, value) {
        case (.landmarks, .array(let frames)):
            return try frames.enumerated().map { (i, frame) throws(RequestError) in try checkedLandmarks(frame, number: first + i) }
        case (.features, .tensor(let shape, let values)) where shape.count >= 2:
            // A rectangular block of rows: [n][V][C] or [n][F].
            let perFrame = values.count / max(1, shape[0])
            return try (0..<shape[0]).map { (i) throws(RequestError) in
                try checkedFeatures(.tensor(shape: Array(shape.dropFirst()), values: Array(values[i * perFrame..<(i + 1) * perFrame])),
                                    number: first + i)
            }
        case (.features, .array(let frames)):
            return try frames.enumerated().map { (i, frame) throws(RequestError) in try checkedFeatures(frame, number: first + i) }
        default:
            throw RequestError("frames must be an array of frames, got \(value.kindName == "an array" ? "an array of numbers" : value.kindName)")
        }
    }

    /// A binary block: little-endian float32, a whole number of frames.
    func frames(fromBinary bytes: [UInt8], first: Int) throws(RequestError) -> [JSONValue] {
        let perFrame = binaryFloatsPerFrame
        guard !bytes.isEmpty, bytes.count % (perFrame * 4) == 0 else {
            throw RequestError("a binary message must hold a whole number of frames of \(perFrame) float32 values "
                               + "(\(perFrame * 4) bytes each); got \(bytes.count) bytes")
        }
        let floats: [Float] = bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        var frames: [JSONValue] = []
        for t in 0..<floats.count / perFrame {
            let row = floats[t * perFrame..<(t + 1) * perFrame]
            let number = first + t
            if settings.input == .features {
                frames.append(try checkedFeatures(.tensor(shape: [perFrame], values: row.map(Double.init)), number: number))
                continue
            }
            var members: [(key: String, value: JSONValue)] = []
            var offset = row.startIndex
            for (key, count) in Self.parts {
                let values = row[offset..<offset + count * 4]
                offset += count * 4
                let missing = values.filter(\.isNaN).count
                if missing == values.count {
                    members.append((key: key, value: .null))  // not detected in this frame
                } else if missing > 0 {
                    throw RequestError("frame \(number): \(key) is partly NaN; a part that was not detected has all its values NaN")
                } else {
                    members.append((key: key, value: .tensor(shape: [count, 4], values: values.map(Double.init))))
                }
            }
            frames.append(try checkedLandmarks(.object(members), number: number))
        }
        return frames
    }

    /// A landmark frame, checked as `/predict` checks a frame of a landmark clip.
    private func checkedLandmarks(_ frame: JSONValue, number: Int) throws(RequestError) -> JSONValue {
        let clip = JSONValue.object([(key: "image_width", value: .number(Double(settings.imageWidth))),
                                     (key: "image_height", value: .number(Double(settings.imageHeight))),
                                     (key: "frames", value: .array([frame]))])
        do { _ = try HolisticRequestDecoder.decodeClip(clip, path: "frame", maxFrames: 1) } catch {
            throw RequestError(error.message.replacingFirst("frame.frames[0]", with: "frame \(number)"))
        }
        return Self.compacted(frame)
    }

    /// A checked landmark frame as the buffer keeps it: its three parts only, and a landmark object with only the
    /// keys the decoder reads. What the decoder ignores (`face`, MediaPipe's `presence`, anything else a client puts
    /// in a landmark object) would otherwise stay in the buffer for a whole window, so a frame's memory is bounded by
    /// its 75 landmarks whatever the client sent. The numbers themselves are kept as sent, so a window still equals
    /// `/predict` on the client's own frames.
    static func compacted(_ frame: JSONValue) -> JSONValue {
        .object(parts.compactMap { part -> (key: String, value: JSONValue)? in
            guard let value = frame[part.key] else { return nil }
            // null, or landmarks as a numeric block (its size is already checked): as they are.
            guard case .array(let landmarks) = value else { return (part.key, value) }
            return (part.key, .array(landmarks.map { landmark in
                guard case .object = landmark else { return landmark }
                return .object(["x", "y", "z", "visibility"].compactMap { key in landmark[key].map { (key: key, value: $0) } })
            }))
        })
    }

    /// A feature frame, `[V][C]` or `[V·C]` numbers of float32 range, kept as one flat row.
    private func checkedFeatures(_ frame: JSONValue, number: Int) throws(RequestError) -> JSONValue {
        let features = config.inputFeatures
        guard case .tensor(let shape, let values) = frame,
              shape == [config.numJoints, config.numCoords] || shape == [features] else {
            throw RequestError("frame \(number): expected [\(config.numJoints)][\(config.numCoords)] or [\(features)] numbers")
        }
        let limit = Double(Float.greatestFiniteMagnitude)
        if let bad = values.firstIndex(where: { !(abs($0) <= limit) }) {
            throw RequestError("frame \(number): value \(bad) is not a finite float32 number")
        }
        return .tensor(shape: [features], values: values)
    }

    /// The window's clip in `/predict`'s form, decoded by `/predict`'s decoder: the same preprocessing and
    /// clip-length handling by construction.
    func decodeWindow(_ frames: [JSONValue], topK: Int, loaded: LoadedModel, maxFrames: Int) throws(RequestError) -> PredictionRequest {
        let clip: JSONValue
        switch settings.input {
        case .landmarks:
            clip = .object([(key: "image_width", value: .number(Double(settings.imageWidth))),
                            (key: "image_height", value: .number(Double(settings.imageHeight))),
                            (key: "frames", value: .array(frames))])
        case .features:
            var values: [Double] = []
            values.reserveCapacity(frames.count * config.inputFeatures)
            for case .tensor(_, let row) in frames { values += row }
            clip = .tensor(shape: [frames.count, config.inputFeatures], values: values)
        }
        // top_k was checked (1 to K) with the start message.
        let options = PredictionOptions(topK: topK, returnLogits: false, exactFrames: false)
        return try PredictionRequestDecoder.decode(inputs: .array([clip]), options: options, config: loaded.config,
                                                   preparation: loaded.preparation, maxClips: 1, maxFrames: maxFrames)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
