import Foundation

/// A safetensors header, validated against the file before any tensor byte is touched:
/// `u64 little-endian N`, then N bytes of JSON `{name: {dtype, shape, data_offsets}, "__metadata__": {...}}`.
struct SafeTensorsHeader {
    struct Entry {
        var name: String
        var dtype: TorchDType
        var shape: [Int]
        var elementCount: Int
        /// Byte range inside the data area (which starts right after the header).
        var begin: Int
        var end: Int
    }

    /// Larger headers are refused: even a model with 100k tensors needs far less.
    static let maxHeaderLength = 100 << 20
    /// dtypes converted to Float; others are refused with the tensor's name.
    static let acceptedDTypes: Set<TorchDType> = [.float32, .float16, .bfloat16, .float64]

    /// Entries in data order (their order in the file).
    var entries: [Entry]
    var metadata: [String: String]
    /// Offset of the data area in the file.
    var dataStart: Int

    init(file bytes: UnsafeRawBufferPointer) throws(CheckpointError.Kind) {
        guard bytes.count >= 8 else {
            throw .badSafeTensorsHeader("file has \(bytes.count) bytes, fewer than the 8-byte header length")
        }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(Self.maxHeaderLength) else {
            throw .badSafeTensorsHeader("header length \(declared) exceeds the \(Self.maxHeaderLength >> 20) MB limit")
        }
        guard declared <= UInt64(bytes.count - 8) else {
            throw .badSafeTensorsHeader("header length \(declared) runs past the end of the file (\(bytes.count) bytes)")
        }
        let headerLength = Int(declared)
        dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        let raw: [String: RawValue]
        do {
            raw = try JSONDecoder().decode([String: RawValue].self,
                                           from: Data(bytes[8..<dataStart]))
        } catch {
            throw .badSafeTensorsHeader("header is not the expected JSON object (\(Self.summary(of: error)))")
        }

        metadata = [:]
        entries = []
        for (name, value) in raw {
            switch value {
            case .metadata(let map) where name == "__metadata__":
                metadata = map
            case .metadata:
                throw .badSafeTensorsHeader("entry '\(name.prefix(100))' has no dtype")
            case .tensor(let dtypeName, let shape, let offsets):
                if name == "__metadata__" { throw .badSafeTensorsHeader("__metadata__ must map strings to strings") }
                entries.append(try Self.validate(name: name, dtypeName: dtypeName, shape: shape, offsets: offsets,
                                                 dataLength: dataLength))
            }
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (previous, next) in zip(entries, entries.dropFirst()) where previous.end > next.begin {
            throw .badSafeTensorsHeader("tensors '\(previous.name)' and '\(next.name)' overlap in the data area")
        }
    }

    private static func validate(name: String, dtypeName: String, shape: [Int], offsets: [Int], dataLength: Int)
        throws(CheckpointError.Kind) -> Entry
    {
        guard let dtype = TorchDType(safetensorsName: dtypeName), acceptedDTypes.contains(dtype) else {
            throw .unsupportedDType(name: name, dtype: String(dtypeName.prefix(20)))
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .badTensor(name: name, problem: "negative dimension in \(shape)") }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .badTensor(name: name, problem: "shape \(shape) has too many elements") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow else { throw .badTensor(name: name, problem: "shape \(shape) has too many elements") }
        guard offsets.count == 2 else {
            throw .badTensor(name: name, problem: "data_offsets must be [begin, end], got \(offsets.prefix(4))")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else {
            throw .badTensor(name: name, problem: "data_offsets [\(begin), \(end)] are not an ascending range")
        }
        guard end <= dataLength else {
            throw .badTensor(name: name, problem: "data_offsets [\(begin), \(end)] run past the end of the data "
                + "(\(dataLength) bytes); the file may be truncated")
        }
        guard end - begin == byteCount else {
            throw .badTensor(name: name, problem: "holds \(end - begin) bytes but \(dtypeName) \(shape) needs \(byteCount)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, elementCount: count, begin: begin, end: end)
    }

    private static func summary(of error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
             DecodingError.valueNotFound(_, let context), DecodingError.keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            let text = path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
            return String(text.prefix(200))
        default:
            return String(String(describing: error).prefix(200))
        }
    }

    /// One top-level value of the header: a tensor entry or the `__metadata__` map.
    private enum RawValue: Decodable {
        case tensor(dtype: String, shape: [Int], offsets: [Int])
        case metadata([String: String])

        private enum Keys: String, CodingKey {
            case dtype, shape, dataOffsets = "data_offsets"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            if container.contains(.dtype) {
                self = .tensor(dtype: try container.decode(String.self, forKey: .dtype),
                               shape: try container.decode([Int].self, forKey: .shape),
                               offsets: try container.decode([Int].self, forKey: .dataOffsets))
            } else {
                self = .metadata(try decoder.singleValueContainer().decode([String: String].self))
            }
        }
    }
}
