/// The tensor element types the infer route takes (Open Inference Protocol names) and how their
/// little-endian bytes become float32.
enum OpenInferenceDataType: String, Sendable, CaseIterable {
    case fp32 = "FP32"
    case fp16 = "FP16"
    case fp64 = "FP64"

    var byteSize: Int {
        switch self {
        case .fp16: 2
        case .fp32: 4
        case .fp64: 8
        }
    }

    /// The largest finite magnitude of the type: a JSON number past it would not fit the declared type.
    var greatestFinite: Double {
        switch self {
        case .fp16: 65504
        case .fp32: Double(Float.greatestFiniteMagnitude)
        case .fp64: Double.greatestFiniteMagnitude
        }
    }

    /// `count` elements from `bytes[offset...]` (the caller checked the length) as float32, or the index of the
    /// first one that is not finite in float32 (NaN, infinity, or an FP64 beyond float32's range).
    func floats(_ bytes: [UInt8], offset: Int, count: Int) -> Result<[Float], NonFiniteElement> {
        var out = [Float](repeating: 0, count: count)
        var bad: Int?
        bytes.withUnsafeBytes { raw in
            let start = offset
            switch self {
            case .fp32:
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                }
            case .fp16:
                for i in 0..<count {
                    out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))))
                }
            case .fp64:
                for i in 0..<count {
                    out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))))
                }
            }
            bad = out.firstIndex { !$0.isFinite }
        }
        if let bad { return .failure(NonFiniteElement(index: bad)) }
        return .success(out)
    }
}

struct NonFiniteElement: Error {
    let index: Int
}
