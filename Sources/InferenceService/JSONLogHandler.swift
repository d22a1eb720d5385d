public import Foundation
import JSONText
public import Logging
import SignBERTRuntime

/// swift-log handler writing one JSON object per line (time, level, logger, message, metadata), the
/// form log collectors (Loki, CloudWatch, Stackdriver) parse without configuration.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: FileHandle

    public init(label: String, output: FileHandle = .standardError) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = JSONLine()
        line.field("time", Self.timestamp())
        line.field("level", event.level.rawValue)
        line.field("logger", label)
        line.field("message", "\(event.message)")
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line.field(key, value) }
        output.write(Data(line.finish().utf8))
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var time = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &time)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", time.tm_year + 1900, time.tm_mon + 1, time.tm_mday,
                      time.tm_hour, time.tm_min, time.tm_sec, now.tv_nsec / 1_000_000)
    }
}

/// Builds `{"k":v,...}\n`; numbers stay numbers, everything else becomes a JSON string.
struct JSONLine {
    private var text = "{"

    mutating func field(_ key: String, _ value: String) {
        separator()
        text += quoted(key) + ":" + quoted(value)
    }

    mutating func field(_ key: String, _ value: Logger.MetadataValue) {
        separator()
        text += quoted(key) + ":"
        switch value {
        case .stringConvertible(let number as Int): text += String(number)
        case .stringConvertible(let number as Double) where number.isFinite: text += String(number)
        case .stringConvertible(let flag as Bool): text += flag ? "true" : "false"
        default: text += quoted(value.description)
        }
    }

    mutating func finish() -> String { text + "}\n" }

    private mutating func separator() { if text.count > 1 { text += "," } }

    private func quoted(_ value: String) -> String { JSONWriter.quoted(value) }
}
