/// Operand decoding for the unpickler: integers in their binary and text forms, and the quoted
/// or escaped strings of protocols 0 and 1.
extension Unpickler {
    /// Text operands may carry spaces around the number, as Python's int() and float() allow.
    static func trimmingSpaces(_ text: String) -> String {
        var trimmed = Substring(text)
        while trimmed.first == " " { trimmed.removeFirst() }
        while trimmed.last == " " { trimmed.removeLast() }
        return String(trimmed)
    }

    static func latin1(_ bytes: [UInt8]) -> String {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return String(text)
    }

    /// Little-endian two's complement, as LONG1/LONG4 store it.
    static func integer(littleEndian bytes: [UInt8]) -> PickleValue {
        guard let last = bytes.last else { return .int(0) }
        let negative = last & 0x80 != 0
        let fill: UInt8 = negative ? 0xFF : 0x00
        // Bytes past the eighth that only repeat the sign still fit Int64.
        if bytes.count > 8 {
            let high = bytes[8...]
            guard high.allSatisfy({ $0 == fill }), (bytes[7] & 0x80 != 0) == negative else {
                return .bigInt(PickleBigInt(littleEndianBytes: bytes, decimal: nil))
            }
        }
        var raw: UInt64 = negative ? .max : 0
        for (index, byte) in bytes.prefix(8).enumerated() {
            raw &= ~(UInt64(0xFF) << (8 * UInt64(index)))
            raw |= UInt64(byte) << (8 * UInt64(index))
        }
        return .int(Int64(bitPattern: raw))
    }

    func parseDecimal(_ text: String) throws(UnpicklingError) -> PickleValue {
        let trimmed = Self.trimmingSpaces(text)
        if let number = Int64(trimmed) { return .int(number) }
        let digits = trimmed.hasPrefix("-") || trimmed.hasPrefix("+") ? trimmed.dropFirst() : Substring(trimmed)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .malformed("integer operand '\(text.prefix(40))' is not a number", offset: opcodeStart)
        }
        return .bigInt(PickleBigInt(littleEndianBytes: [], decimal: trimmed))
    }

    func parseIndex(_ text: String) throws(UnpicklingError) -> Int {
        guard let index = Int(Self.trimmingSpaces(text)), index >= 0 else {
            throw .malformed("memo index '\(text.prefix(40))' is not a number", offset: opcodeStart)
        }
        return index
    }

    /// Python's repr of a str or bytes: quotes around it, backslash escapes inside.
    func quotedString(_ line: [UInt8]) throws(UnpicklingError) -> [UInt8] {
        guard line.count >= 2, let quote = line.first, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\""),
              line.last == quote
        else { throw .malformed("STRING operand is not quoted", offset: opcodeStart) }
        return try unescape(Array(line[1..<line.count - 1]), unicode: false).bytes
    }

    func rawUnicodeEscape(_ line: [UInt8]) throws(UnpicklingError) -> String {
        let decoded = try unescape(line, unicode: true)
        return decoded.text
    }

    /// Decodes `\n`, `\xNN`, `\\` ... (STRING) or only `\uXXXX`/`\UXXXXXXXX` (raw-unicode-escape).
    func unescape(_ input: [UInt8], unicode: Bool) throws(UnpicklingError) -> (bytes: [UInt8], text: String) {
        var bytes: [UInt8] = []
        var scalars = String.UnicodeScalarView()
        var index = 0
        func hexValue(_ start: Int, _ count: Int) -> UInt32? {
            guard start + count <= input.count else { return nil }
            var value: UInt32 = 0
            for byte in input[start..<start + count] {
                guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while index < input.count {
            let byte = input[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < input.count else {
                bytes.append(byte)
                scalars.append(Unicode.Scalar(byte))
                index += 1
                continue
            }
            let next = input[index + 1]
            if unicode {
                let width = next == UInt8(ascii: "u") ? 4 : next == UInt8(ascii: "U") ? 8 : 0
                if width > 0, let value = hexValue(index + 2, width), let scalar = Unicode.Scalar(value) {
                    scalars.append(scalar)
                    index += 2 + width
                } else {
                    scalars.append(Unicode.Scalar(byte))
                    index += 1
                }
                continue
            }
            let simple: [UInt8: UInt8] = [
                UInt8(ascii: "n"): 10, UInt8(ascii: "t"): 9, UInt8(ascii: "r"): 13, UInt8(ascii: "0"): 0,
                UInt8(ascii: "\\"): 92, UInt8(ascii: "'"): 39, UInt8(ascii: "\""): 34,
                UInt8(ascii: "a"): 7, UInt8(ascii: "b"): 8, UInt8(ascii: "f"): 12, UInt8(ascii: "v"): 11,
            ]
            if next == UInt8(ascii: "x") {
                guard let value = hexValue(index + 2, 2) else {
                    throw .malformed("bad \\x escape in STRING", offset: opcodeStart)
                }
                bytes.append(UInt8(value))
                index += 4
            } else if let replacement = simple[next] {
                bytes.append(replacement)
                index += 2
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return (bytes, String(scalars))
    }
}
