public import Foundation

public struct JSONParseError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public let offset: Int
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

/// A strict RFC 8259 parser over bytes: no NaN/Infinity literals, no trailing commas, nesting depth bounded
/// (a hostile body cannot exhaust the stack), duplicate keys kept (the last wins on look-up).
///
/// Memory is bounded by the input: the parser charges every array buffer and long string it builds
/// (`JSONMemoryMeter`) and refuses a document whose parsed form would take more than
/// `memoryBytesPerInputByte` times its size plus `memoryAllowance`. A hostile body such as
/// `[[0],[0],...,"x"]` (two small arrays per four bytes) is refused early instead of taking ~1,000 times its
/// size. A rectangular array of numbers takes at most 4 bytes per byte (8 per number of at least 2 bytes of
/// text); the landmark form in objects, about 5 to 7 (a 4-member object's buffer is 192 bytes).
public struct JSONParser {
    public static let maxDepth = 64
    /// The bound: parsed structure <= memoryBytesPerInputByte x input bytes + memoryAllowance.
    public static let memoryBytesPerInputByte = 8
    public static let memoryAllowance = 64 * 1024

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var meter: JSONMemoryMeter

    public static func parse(_ data: some ContiguousBytes) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            do throws(JSONParseError) {
                parser.skipWhitespace()
                let value = try parser.parseValue(depth: 0)
                parser.skipWhitespace()
                guard parser.index == parser.bytes.count else { throw parser.error("unexpected data after the JSON value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.meter = JSONMemoryMeter(limit: Self.memoryBytesPerInputByte * bytes.count + Self.memoryAllowance)
    }

    /// Charges `count` bytes of parsed structure; throws once the document's bound is passed.
    private mutating func charge(_ count: Int) throws(JSONParseError) {
        guard meter.charge(count) else {
            throw error("the parsed document would need more than \(Self.memoryBytesPerInputByte) bytes of memory per byte "
                        + "of JSON; send numbers as rectangular arrays")
        }
    }

    /// Appends to a buffer the parser builds, charging its growth: when the buffer is full, the new one (about
    /// twice as large) is charged before it is allocated, together with the old one it is copied from, so
    /// that the bound holds at the peak of the copy too; afterwards only the new one stays charged.
    private mutating func append<Element>(_ element: Element, to array: inout [Element]) throws(JSONParseError) {
        let stride = MemoryLayout<Element>.stride, header = JSONMemoryMeter.arrayHeader
        let oldCapacity = array.capacity
        guard array.count == oldCapacity else { return array.append(element) }
        let expected = header + max(2 * oldCapacity, 1) * stride
        try charge(expected)
        array.append(element)
        meter.refund(expected + (oldCapacity == 0 ? 0 : header + oldCapacity * stride))
        try charge(header + array.capacity * stride)
    }

    private func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: index) }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        guard let byte = current else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["):
            let start = index
            if let tensor = try parseTensor() { return tensor }
            index = start
            return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for i in 0..<count where bytes[index + i] != expected[i] { throw error("invalid literal") }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            try append((key: key, value: value), to: &members)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw error("expected ',' or '}' in object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            let element = try parseValue(depth: depth + 1)
            try append(element, to: &elements)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw error("expected ',' or ']' in array")
            }
        }
    }

    /// Fast path: a non-empty rectangular nest of numbers, at most 8 levels. Returns nil (and the caller
    /// rewinds) for anything else, which then goes through the general parser and its error messages.
    private mutating func parseTensor() throws(JSONParseError) -> JSONValue? {
        guard let capacity = tensorCapacity() else { return nil }
        var shape: [Int] = []
        var values: [Double] = []
        // Discover the nesting depth from the leading brackets.
        var probe = index
        while probe < bytes.count, shape.count <= 8 {
            let byte = bytes[probe]
            if byte == UInt8(ascii: "[") { shape.append(0); probe += 1 }
            else if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { probe += 1 }
            else { break }
        }
        guard !shape.isEmpty, shape.count <= 8 else { return nil }
        // Exactly as much room as the text can hold numbers (no room reserved ahead: a small array costs
        // a small buffer), so the values never reallocate and take at most 4 bytes per byte of their text.
        let charged = 2 * JSONMemoryMeter.arrayHeader + 8 * (shape.count + capacity)
        try charge(charged)
        values.reserveCapacity(capacity)
        guard parseTensorLevel(0, &shape, &values) else {
            meter.refund(charged)
            return nil
        }
        return .tensor(shape: shape, values: values)
    }

    /// An upper bound on the numbers in the bracketed nest at `index` (one more than its commas), found by
    /// a scan that stops at its closing bracket; nil as soon as a byte shows it cannot be a nest of numbers.
    private func tensorCapacity() -> Int? {
        var probe = index, depth = 0, commas = 0
        while probe < bytes.count {
            switch bytes[probe] {
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return commas + 1 }
            case UInt8(ascii: ","): commas += 1
            case 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
                 0x20, 0x0A, 0x0D, 0x09:
                break
            default: return nil
            }
            probe += 1
        }
        return nil
    }

    private mutating func parseTensorLevel(_ level: Int, _ shape: inout [Int], _ values: inout [Double]) -> Bool {
        skipWhitespace()
        guard current == UInt8(ascii: "[") else { return false }
        index += 1
        var count = 0
        while true {
            skipWhitespace()
            if level == shape.count - 1 {
                guard let byte = current, byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39),
                      let number = try? parseNumber() else { return false }
                values.append(number)
            } else if !parseTensorLevel(level + 1, &shape, &values) {
                return false
            }
            count += 1
            skipWhitespace()
            guard let byte = current else { return false }
            index += 1
            if byte == UInt8(ascii: "]") { break }
            guard byte == UInt8(ascii: ",") else { return false }
        }
        // The first sub-array fixes each dimension; the rest must match (rectangular).
        if shape[level] == 0 { shape[level] = count } else if shape[level] != count { return false }
        return true
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flush(_ parser: JSONParser, _ scalars: inout String.UnicodeScalarView, upTo end: Int) {
            if end > runStart {
                let run = UnsafeBufferPointer(rebasing: parser.bytes[runStart..<end])
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flush(self, &scalars, upTo: index)
                index += 1
                let string = String(scalars)
                // Up to 15 UTF-8 bytes live inside the String itself; longer ones have a buffer.
                if string.utf8.count > 15 { try charge(JSONMemoryMeter.arrayHeader + string.utf8.count) }
                return string
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte == UInt8(ascii: "\\") {
                flush(self, &scalars, upTo: index)
                index += 1
                guard let escape = current else { break }
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"): scalars.append(try parseUnicodeEscape())
                default: throw error("invalid escape in string")
                }
                runStart = index
                continue
            }
            index += 1
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func parseUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xD800..<0xDC00).contains(first) {
            // A high surrogate must be followed by \u and a low surrogate.
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("unpaired surrogate in \\u escape")
            }
            index += 2
            let second = try parseHex4()
            guard (0xDC00..<0xE000).contains(second),
                  let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)) else {
                throw error("unpaired surrogate in \\u escape")
            }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("unpaired surrogate in \\u escape") }
        return scalar
    }

    /// RFC 8259 number grammar. Exact when the digits fit in 2^53 and the power of ten is at most 22
    /// (both exactly representable, one correctly rounded operation); otherwise strtod, which glibc rounds
    /// correctly.
    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; index += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        guard let first = current, first >= 0x30, first <= 0x39 else { throw error("invalid number") }
        if first == 0x30 {
            index += 1
            if let next = current, next >= 0x30, next <= 0x39 { throw error("leading zero in number") }
        } else {
            while let byte = current, byte >= 0x30, byte <= 0x39 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(byte - 0x30) } else { exponent += 1 }
                if mantissa != 0 { digits += 1 }
                index += 1
            }
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard let byte = current, byte >= 0x30, byte <= 0x39 else { throw error("digit expected after '.'") }
            while let byte = current, byte >= 0x30, byte <= 0x39 {
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(byte - 0x30)
                    exponent -= 1
                    if mantissa != 0 { digits += 1 }
                }
                index += 1
            }
        }
        if let byte = current, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if let sign = current, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponentNegative = sign == UInt8(ascii: "-")
                index += 1
            }
            guard let byte = current, byte >= 0x30, byte <= 0x39 else { throw error("digit expected in exponent") }
            var value = 0
            while let byte = current, byte >= 0x30, byte <= 0x39 {
                if value < 100_000 { value = value * 10 + Int(byte - 0x30) }
                index += 1
            }
            exponent += exponentNegative ? -value : value
        }
        if digits < 16, mantissa < (1 << 53), abs(exponent) <= 22 {
            let magnitude = exponent < 0 ? Double(mantissa) / Self.powersOfTen[-exponent]
                                         : Double(mantissa) * Self.powersOfTen[exponent]
            return negative ? -magnitude : magnitude
        }
        return slowParse(start..<index)
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    private func slowParse(_ range: Range<Int>) -> Double {
        var text = [CChar](repeating: 0, count: range.count + 1)
        for (i, position) in range.enumerated() { text[i] = CChar(bitPattern: bytes[position]) }
        return strtod(text, nil)
    }
}

/// What `JSONParser` has built so far, in bytes: array buffers (by capacity, values inline) and string
/// buffers, each with its header; malloc's own rounding is not counted (the stated bound has room for it).
struct JSONMemoryMeter {
    /// The header of an array or string buffer.
    static let arrayHeader = 32

    let limit: Int
    private(set) var used = 0

    init(limit: Int) { self.limit = limit }

    mutating func charge(_ count: Int) -> Bool {
        used += count
        return used <= limit
    }

    mutating func refund(_ count: Int) { used -= count }
}

extension JSONValue {
    /// The heap bytes this value's structure holds, counted as `JSONParser` charges them (buffer capacities,
    /// long strings; the value itself is inline in its container): how tests and the fuzz target check the
    /// parser's memory bound from the outside.
    public var structureBytes: Int {
        let header = JSONMemoryMeter.arrayHeader
        func string(_ text: String) -> Int { text.utf8.count > 15 ? header + text.utf8.count : 0 }
        switch self {
        case .null, .bool, .number: return 0
        case .string(let text): return string(text)
        case .array(let elements):
            let buffer = elements.capacity == 0 ? 0 : header + elements.capacity * MemoryLayout<JSONValue>.stride
            return buffer + elements.reduce(0) { $0 + $1.structureBytes }
        case .object(let members):
            let stride = MemoryLayout<(key: String, value: JSONValue)>.stride
            let buffer = members.capacity == 0 ? 0 : header + members.capacity * stride
            return buffer + members.reduce(0) { $0 + string($1.key) + $1.value.structureBytes }
        case .tensor(let shape, let values):
            return 2 * header + 8 * (shape.count + values.capacity)
        }
    }
}
