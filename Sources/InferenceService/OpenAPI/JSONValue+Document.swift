import JSONText
import SignBERTRuntime
import WireFormats

/// Editing and printing a JSON document held as a value: the OpenAPI document is assembled from its bundled
/// base, the route table and the model's values, then printed once.
extension JSONValue {
    /// Sets the member at `path` (object keys from the root), replacing it or appending it to the innermost
    /// object; the objects along the path must exist.
    mutating func set(_ path: [String], to value: JSONValue) {
        guard let key = path.first, case .object(var members) = self else { return }
        let rest = Array(path.dropFirst())
        if let index = members.lastIndex(where: { $0.key == key }) {
            if rest.isEmpty { members[index].value = value } else { members[index].value.set(rest, to: value) }
        } else if rest.isEmpty {
            members.append((key: key, value: value))
        }
        self = .object(members)
    }

    /// Indented JSON (two spaces a level, members in their order), as people read a published document.
    func pretty() -> [UInt8] {
        var writer = JSONWriter()
        write(to: &writer, indent: 0)
        writer.raw("\n")
        return writer.bytes
    }

    private func write(to writer: inout JSONWriter, indent: Int) {
        switch self {
        case .null: writer.raw("null")
        case .bool(let value): writer.raw(value ? "true" : "false")
        case .number(let value):
            // Whole numbers as integers (a schema's 27, not 27.0); others as Swift prints a Double (-3.4e+38).
            if value == value.rounded(), abs(value) < 1e15 { writer.raw(String(Int(value))) } else { writer.number(value) }
        case .string(let text): writer.string(text)
        case .array(let elements):
            Self.container("[", "]", elements.map { (key: nil, value: $0) }, to: &writer, indent: indent)
        case .object(let members):
            Self.container("{", "}", members.map { (key: Optional($0.key), value: $0.value) }, to: &writer, indent: indent)
        case .tensor(let shape, let values):
            Self.nested(shape: shape[...], values: values[...]).write(to: &writer, indent: indent)
        }
    }

    /// An array (no keys) or an object: one element a line, indented a level deeper; empty ones on one line.
    private static func container(_ open: String, _ close: String, _ elements: [(key: String?, value: JSONValue)],
                                  to writer: inout JSONWriter, indent: Int) {
        guard !elements.isEmpty else { writer.raw(open + close); return }
        writer.raw(open)
        for (index, element) in elements.enumerated() {
            writer.raw((index > 0 ? ",\n" : "\n") + String(repeating: "  ", count: indent + 1))
            if let key = element.key {
                writer.string(key)
                writer.raw(": ")
            }
            element.value.write(to: &writer, indent: indent + 1)
        }
        writer.raw("\n" + String(repeating: "  ", count: indent) + close)
    }

    /// A parsed rectangular number array back as nested arrays.
    private static func nested(shape: ArraySlice<Int>, values: ArraySlice<Double>) -> JSONValue {
        guard let count = shape.first else { return values.first.map(JSONValue.number) ?? .null }
        let inner = shape.dropFirst()
        let stride = inner.reduce(1, *)
        return .array((0..<count).map { index in
            let start = values.startIndex + index * stride
            return nested(shape: inner, values: values[start..<start + stride])
        })
    }
}
