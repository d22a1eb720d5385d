/// A parsed JSON document. Rectangular arrays of numbers (a clip's `[T][V][C]`) arrive as `.tensor`,
/// already flat, so a request of thousands of numbers costs no per-array allocation.
/// Not `indirect`: the recursion goes through arrays, which are references already, and a value held inline
/// (24 bytes) costs no heap box per number or string (`JSONParser`'s memory bound counts on it).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])
    /// A rectangular nest of numbers: `shape` from the outside in, `values` row-major, as written.
    case tensor(shape: [Int], values: [Double])

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// The JSON kind, for error messages ("expected a number, got a string").
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array, .tensor: return "an array"
        case .object: return "an object"
        }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.tensor(s1, v1), .tensor(s2, v2)): return s1 == s2 && v1 == v2
        default: return false
        }
    }
}
