/// One value of an unpickled document. It never nests: containers live in the document's heap
/// and are referred to by `.object(id)`. So a hostile pickle that nests a million tuples builds a
/// flat array, and dropping it cannot recurse (a deeply nested indirect enum would overflow the
/// stack in its deinit).
public enum PickleValue: Hashable, Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer that does not fit Int64.
    case bigInt(PickleBigInt)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// An allow-listed global used as a value (a dtype, a class not yet called).
    case global(PickleGlobal)
    case object(PickleObjectID)
}

/// Index of a container in `PickleDocument.objects`.
public struct PickleObjectID: Hashable, Sendable {
    public let index: Int
}

/// An integer beyond Int64, kept as written rather than converted (conversion of a huge
/// decimal is quadratic work that a checkpoint never needs).
public struct PickleBigInt: Hashable, Sendable {
    /// Little-endian two's complement bytes (LONG1/LONG4), or empty when `decimal` is set.
    public var littleEndianBytes: [UInt8]
    /// Decimal digits with an optional sign (text LONG opcode), or nil.
    public var decimal: String?
}

/// A container or reconstructed object in the heap.
public enum PickleObject: Sendable {
    case tuple([PickleValue])
    case list([PickleValue])
    case dict(PickleDict)
    case set([PickleValue], frozen: Bool)
    /// A storage named by a persistent id: `('storage', FloatStorage, '0', 'cpu', 12)`.
    case storage(TorchStorageReference)
    /// A tensor as `_rebuild_tensor_v2` describes it; its bytes are read only if it is used.
    case tensor(TorchTensorReference)
    case numpyDType(NumpyDType)
    case numpyScalar(NumpyScalar)
    /// Plain data with no use here (`torch.device`, `slice`, `complex`), kept as a short text.
    case opaque(String)
}

/// A dict in insertion order, as Python keeps it. Keys are compared as values (objects by
/// identity), which is all a checkpoint needs.
public struct PickleDict: Sendable {
    public private(set) var keys: [PickleValue] = []
    public private(set) var values: [PickleValue] = []
    private var index: [PickleValue: Int] = [:]

    public init() {}

    public var count: Int { keys.count }

    public subscript(key: PickleValue) -> PickleValue? {
        index[key].map { values[$0] }
    }

    public subscript(string key: String) -> PickleValue? {
        self[.string(key)]
    }

    public mutating func set(_ value: PickleValue, for key: PickleValue) {
        if let position = index[key] {
            values[position] = value
        } else {
            index[key] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    public var entries: Zip2Sequence<[PickleValue], [PickleValue]> { zip(keys, values) }
}

/// `numpy.dtype('f8')` after its BUILD state: enough to decode a scalar's bytes.
public struct NumpyDType: Hashable, Sendable {
    /// The type code as pickled: "f8", "i4", "b1", "u1", ...
    public var code: String
    /// "<", ">", "|" or "=" (native, which numpy pickles only before BUILD sets the real one).
    public var byteOrder: String
}

/// A numpy scalar (`numpy.float64(0.8)`) as its dtype and raw bytes.
public struct NumpyScalar: Hashable, Sendable {
    public var dtype: NumpyDType
    public var bytes: [UInt8]

    /// The value as Python would print it, or nil for a dtype this reader does not decode.
    public var text: String? {
        let code = dtype.code
        guard let kind = code.first, let size = Int(code.dropFirst()), size == bytes.count else { return nil }
        // Network order only when the dtype says so; "<", "|" and "=" are little-endian here.
        let ordered = dtype.byteOrder == ">" ? Array(bytes.reversed()) : bytes
        var raw: UInt64 = 0
        for (shift, byte) in ordered.enumerated() { raw |= UInt64(byte) << (8 * UInt64(shift)) }
        switch (kind, size) {
        case ("f", 8): return PickleValue.pythonText(Double(bitPattern: raw))
        case ("f", 4): return Float(bitPattern: UInt32(truncatingIfNeeded: raw)).description
        case ("f", 2): return Float(Float16(bitPattern: UInt16(truncatingIfNeeded: raw))).description
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8):
            let shift = UInt64(64 - 8 * size)
            return String(Int64(bitPattern: raw << shift) >> Int64(shift))
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): return String(raw)
        case ("b", 1): return raw != 0 ? "True" : "False"
        default: return nil
        }
    }
}

extension PickleValue {
    /// Python's spelling of a float (`0.8`, `inf`, `nan`), which Swift's shortest repr matches
    /// but for the special values.
    static func pythonText(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return value.description
    }

    /// The value as text if it is a plain scalar (what `StateDict.metadata` records), else nil.
    public func scalarText(in document: PickleDocument) -> String? {
        switch self {
        case .none: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .int(let number): return String(number)
        case .bigInt(let big): return big.decimal ?? "<integer of \(big.littleEndianBytes.count) bytes>"
        case .float(let number): return PickleValue.pythonText(number)
        case .string(let text): return text
        case .bytes, .global: return nil
        case .object(let id):
            if case .numpyScalar(let scalar) = document.objects[id.index] { return scalar.text }
            return nil
        }
    }
}
