import SignBERTRuntime

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
        func newline(_ level: Int) { writer.raw("\n" + String(repeating: "  ", count: level)) }
        switch self {
        case .null: writer.raw("null")
        case .bool(let value): writer.raw(value ? "true" : "false")
        case .number(let value):
            // Whole numbers as integers (a schema's 27, not 27.0); others as Swift prints a Double (-3.4e+38).
            if value == value.rounded(), abs(value) < 1e15 { writer.raw(String(Int(value))) } else { writer.number(value) }
        case .string(let text): writer.string(text)
        case .array(let elements):
            guard !elements.isEmpty else { writer.raw("[]"); return }
            writer.raw("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { writer.raw(",") }
                newline(indent + 1)
                element.write(to: &writer, indent: indent + 1)
            }
            newline(indent)
            writer.raw("]")
        case .object(let members):
            guard !members.isEmpty else { writer.raw("{}"); return }
            writer.raw("{")
            for (index, member) in members.enumerated() {
                if index > 0 { writer.raw(",") }
                newline(indent + 1)
                writer.string(member.key)
                writer.raw(": ")
                member.value.write(to: &writer, indent: indent + 1)
            }
            newline(indent)
            writer.raw("}")
        case .tensor(let shape, let values):
            Self.nested(shape: shape[...], values: values[...]).write(to: &writer, indent: indent)
        }
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
