/// HTTP header fields in the order they were received or added. Names compare
/// case-insensitively (RFC 9110 §5.1); the spelling given is kept for output.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public typealias Element = (name: String, value: String)

    private var fields: [Element] = []

    public init() {}

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }

    /// The first value of `name`; setting replaces every field of that name (nil removes them).
    public subscript(name: String) -> String? {
        get { fields.first { Self.equal($0.name, name) }?.value }
        set {
            if let newValue { replace(name: name, value: newValue) } else { remove(name: name) }
        }
    }

    /// Every value of `name`, one per field line, in order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { Self.equal($0.name, name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { Self.equal($0.name, name) }
    }

    /// Appends a field, keeping any others of the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces the first field of that name in place and drops the rest; appends if absent.
    public mutating func replace(name: String, value: String) {
        guard let first = fields.firstIndex(where: { Self.equal($0.name, name) }) else {
            fields.append((name: name, value: value))
            return
        }
        fields[first].value = value
        var index = fields.index(after: first)
        while index < fields.endIndex {
            if Self.equal(fields[index].name, name) { fields.remove(at: index) } else { index += 1 }
        }
    }

    public mutating func remove(name: String) {
        fields.removeAll { Self.equal($0.name, name) }
    }

    /// The comma-separated list elements of every `name` field, trimmed and lowercased
    /// (RFC 9110 §5.6.1), e.g. the tokens of `Connection` or `Transfer-Encoding`.
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { value in
            value.split(separator: ",").map { $0.trimmingOWS().lowercasedASCII() }.filter { !$0.isEmpty }
        }
    }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    /// ASCII case-insensitive comparison: field names are tokens, so this is exact.
    static func equal(_ a: String, _ b: String) -> Bool {
        let a = a.utf8, b = b.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lower($0) == lower($1) }
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
    }
}

extension StringProtocol {
    /// Drops leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
    func trimmingOWS() -> String {
        let utf8 = Array(self.utf8)
        var start = 0, end = utf8.count
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start += 1 }
        while end > start, utf8[end - 1] == 0x20 || utf8[end - 1] == 0x09 { end -= 1 }
        return String(decoding: utf8[start..<end], as: UTF8.self)
    }

    func lowercasedASCII() -> String {
        String(decoding: utf8.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
