import SignBERTRuntime
import WireFormats

/// A live stream's settings, from its `start` message (docs/STREAMING.md), checked against the model and the
/// server's limits. Every refusal names the field.
struct StreamSettings: Sendable, Equatable {
    enum Input: String, Sendable { case landmarks, features }

    var input: Input
    var imageWidth = 0
    var imageHeight = 0
    var window: Int
    var stride: Int
    var topK: Int
    var events: SignEventSettings

    /// The longest window, in frames: the per-stream buffer holds one window.
    static let maxWindow = 1024

    static func parse(_ message: JSONValue, config: SignBERTConfig, clipFrames: Int, labels: [String],
                      maxFrames: Int, defaults: SignEventSettings) throws(RequestError) -> StreamSettings {
        guard case .object(let members) = message else { throw RequestError("the start message must be a JSON object") }
        let known = ["type", "input", "image_width", "image_height", "window", "stride", "top_k", "events"]
        for member in members where !known.contains(member.key) {
            throw RequestError("start: unknown field \"\(member.key)\"; the fields are \(known.dropFirst().joined(separator: ", "))")
        }
        let input: Input
        switch message["input"] {
        case nil, .null?: input = .landmarks
        case .string(let name)? where Input(rawValue: name) != nil: input = Input(rawValue: name) ?? .landmarks
        case let other?: throw RequestError("start.input must be \"landmarks\" or \"features\", got \(Self.shown(other))")
        }
        let largest = min(maxFrames, maxWindow)
        let window = try whole(message["window"], "start.window", default: min(clipFrames, largest), range: 1...largest)
        let stride = try whole(message["stride"], "start.stride", default: max(1, window / 4), range: 1...largest)
        let topK = try whole(message["top_k"], "start.top_k", default: PredictionRequest.defaultTopK, range: 1...1_000_000)
        var settings = StreamSettings(input: input, window: window, stride: stride, topK: min(topK, config.numClasses),
                                      events: try Self.events(message["events"], labels: labels, defaults: defaults))
        if input == .landmarks {
            guard config.numJoints == HolisticPreprocessor.numJoints, config.numCoords == HolisticPreprocessor.numCoords else {
                throw RequestError("start.input \"landmarks\" needs a model of the mediapipe_27 layout (27 joints x 3 coords); "
                                   + "this model takes \(config.numJoints) joints x \(config.numCoords) coords: send \"features\"")
            }
            settings.imageWidth = try whole(message["image_width"], "start.image_width", default: nil,
                                            range: 1...HolisticRequestDecoder.maxImageSide)
            settings.imageHeight = try whole(message["image_height"], "start.image_height", default: nil,
                                             range: 1...HolisticRequestDecoder.maxImageSide)
        } else {
            for field in ["image_width", "image_height"] where message[field] != nil {
                throw RequestError("start.\(field) is for \"landmarks\" input only")
            }
        }
        return settings
    }

    static func events(_ value: JSONValue?, labels: [String], defaults: SignEventSettings) throws(RequestError) -> SignEventSettings {
        var settings = defaults
        guard let value, value != .null else { return settings }
        guard case .object(let members) = value else { throw RequestError("start.events must be an object, got \(value.kindName)") }
        for member in members where !["threshold", "min_windows", "no_sign"].contains(member.key) {
            throw RequestError("start.events: unknown field \"\(member.key)\"; the fields are threshold, min_windows, no_sign")
        }
        switch value["threshold"] {
        case nil, .null?: break
        case .number(let threshold)? where threshold >= 0 && threshold <= 1: settings.threshold = threshold
        case let other?: throw RequestError("start.events.threshold must be a probability from 0 to 1, got \(shown(other))")
        }
        settings.minWindows = try whole(value["min_windows"], "start.events.min_windows", default: defaults.minWindows,
                                        range: 1...10_000)
        switch value["no_sign"] {
        case nil: break
        case .null?: settings.noSign = nil
        case .string(let label)?:
            guard let index = labels.firstIndex(of: label) else {
                throw RequestError("start.events.no_sign: the model has no label \"\(label)\"")
            }
            settings.noSign = index
        case let other?: throw RequestError("start.events.no_sign must be a label or null, got \(shown(other))")
        }
        return settings
    }

    static func whole(_ value: JSONValue?, _ field: String, default fallback: Int?, range: ClosedRange<Int>) throws(RequestError) -> Int {
        switch value {
        case nil, .null?:
            guard let fallback else { throw RequestError("\(field): missing") }
            return fallback
        case .number(let number)? where number == number.rounded() && number >= Double(range.lowerBound)
            && number <= Double(range.upperBound):
            return Int(number)
        case let other?:
            throw RequestError("\(field) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(shown(other))")
        }
    }

    static func shown(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? "\(Int(number))" : "\(number)"
        case .string(let text): "\"\(text.prefix(40))\""
        default: value.kindName
        }
    }
}
