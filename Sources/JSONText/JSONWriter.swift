/// A minimal JSON byte writer.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(512) }

    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Non-finite numbers have no JSON form; they are written as null.
    public mutating func number(_ value: Double, asFloat: Bool = false) {
        guard value.isFinite else { raw("null"); return }
        raw(asFloat ? Float(value).description : value.description)
    }

    public mutating func string(_ text: String) {
        bytes.append(contentsOf: Self.quoted(text).utf8)
    }

    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    public static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}
