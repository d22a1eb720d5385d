import JSONText
public import WireFormats

extension JSONValue {
    /// The value written back as JSON (a tensor as nested arrays), for the parser's round-trip check.
    /// Nil when it holds a number JSON cannot spell (not finite).
    public var jsonText: String? {
        var out = ""
        return write(into: &out) ? out : nil
    }

    private func write(into out: inout String) -> Bool {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let value):
            guard value.isFinite else { return false }
            out += value.description
        case .string(let text): out += JSONWriter.quoted(text)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                guard item.write(into: &out) else { return false }
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                out += JSONWriter.quoted(member.key) + ":"
                guard member.value.write(into: &out) else { return false }
            }
            out += "}"
        case .tensor(let shape, let values):
            guard values.allSatisfy(\.isFinite) else { return false }
            var index = 0
            Self.writeNest(shape[...], values, &index, into: &out)
        }
        return true
    }

    private static func writeNest(_ shape: ArraySlice<Int>, _ values: [Double], _ index: inout Int, into out: inout String) {
        guard let count = shape.first else {
            out += values[index].description
            index += 1
            return
        }
        out += "["
        for i in 0..<count {
            if i > 0 { out += "," }
            writeNest(shape.dropFirst(), values, &index, into: &out)
        }
        out += "]"
    }
}
