public import Foundation
import JSONText

/// Writes `model.safetensors` for `signbert convert`: header JSON with the tensors in the given
/// order, padded with spaces to a multiple of 8 as the reference implementation does, then the
/// tensors back to back.
public enum SafeTensorsWriter {
    public enum DType: String, Sendable {
        case f32 = "F32"
        case f16 = "F16"
    }

    public static func write(_ tensors: [(name: String, tensor: Tensor)], dtype: DType,
                             metadata: [String: String] = [:], to url: URL) throws
    {
        do {
            let bytes = try encode(tensors, dtype: dtype, metadata: metadata)
            do {
                try bytes.write(to: url, options: .atomic)
            } catch {
                throw CheckpointError.Kind.writeFailed(error.fileErrorDescription)
            }
        } catch let kind as CheckpointError.Kind {
            throw CheckpointError(path: url.path, kind: kind)
        }
    }

    /// The whole file in memory (models here are megabytes).
    static func encode(_ tensors: [(name: String, tensor: Tensor)], dtype: DType, metadata: [String: String])
        throws(CheckpointError.Kind) -> Data
    {
        let itemSize = dtype == .f32 ? 4 : 2
        var seen: Set<String> = []
        var header = "{"
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(JSONWriter.quoted($0)):\(JSONWriter.quoted(metadata[$0] ?? ""))" }
            header += "\"__metadata__\":{\(fields.joined(separator: ","))}"
        }
        var offset = 0
        for (index, (name, tensor)) in tensors.enumerated() {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw .writeFailed("tensor name '\(name)' is reserved or repeated")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.count == tensor.values.count else {
                throw .writeFailed("tensor '\(name)' has \(tensor.values.count) values for shape \(tensor.shape)")
            }
            let end = offset + tensor.values.count * itemSize
            let separator = index == 0 && metadata.isEmpty ? "" : ","
            header += "\(separator)\(JSONWriter.quoted(name)):{\"dtype\":\"\(dtype.rawValue)\","
                + "\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for (name, tensor) in tensors {
            switch dtype {
            case .f32:
                let bits = tensor.values.map { $0.bitPattern.littleEndian }
                bits.withUnsafeBytes { data.append(contentsOf: $0) }
            case .f16:
                var bits: [UInt16] = []
                bits.reserveCapacity(tensor.values.count)
                for value in tensor.values {
                    // Float16(_:) rounds to nearest even; overflowing to infinity would silently
                    // change the model, so refuse instead.
                    let half = Float16(value)
                    if half.isInfinite && value.isFinite {
                        throw .writeFailed("tensor '\(name)' holds \(value), beyond float16's range; write F32")
                    }
                    bits.append(half.bitPattern.littleEndian)
                }
                bits.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
        return data
    }
}
