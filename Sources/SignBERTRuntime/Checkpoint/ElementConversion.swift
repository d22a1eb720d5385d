/// Bulk conversion of little-endian element bytes to Float, done once at load.
enum ElementConversion {
    /// Converts `count` elements of `dtype` starting at `byteOffset` of `raw`. The caller has
    /// checked that `byteOffset + count * dtype.itemSize <= raw.count` and that the dtype converts.
    static func floats(from raw: UnsafeRawBufferPointer, byteOffset: Int, count: Int, dtype: TorchDType) -> [Float] {
        guard count > 0, let base = raw.baseAddress else { return [] }
        let start = base + byteOffset
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let out = buffer.baseAddress else { return }
            switch dtype {
            case .float32:
                #if _endian(little)
                // Same bytes as the host's Float: one copy, alignment-free.
                UnsafeMutableRawPointer(out).copyMemory(from: start, byteCount: count * 4)
                #else
                for index in 0..<count {
                    out[index] = Float(bitPattern: UInt32(littleEndian: load(start, index, UInt32.self)))
                }
                #endif
            case .float16:
                for index in 0..<count {
                    out[index] = Float(Float16(bitPattern: UInt16(littleEndian: load(start, index, UInt16.self))))
                }
            case .bfloat16:
                // bfloat16 is the top half of a float32.
                for index in 0..<count {
                    out[index] = Float(bitPattern: UInt32(UInt16(littleEndian: load(start, index, UInt16.self))) << 16)
                }
            case .float64:
                for index in 0..<count {
                    out[index] = Float(Double(bitPattern: UInt64(littleEndian: load(start, index, UInt64.self))))
                }
            case .int64:
                for index in 0..<count { out[index] = Float(Int64(littleEndian: load(start, index, Int64.self))) }
            case .int32:
                for index in 0..<count { out[index] = Float(Int32(littleEndian: load(start, index, Int32.self))) }
            case .int16:
                for index in 0..<count { out[index] = Float(Int16(littleEndian: load(start, index, Int16.self))) }
            case .int8:
                for index in 0..<count { out[index] = Float(load(start, index, Int8.self)) }
            case .uint8:
                for index in 0..<count { out[index] = Float(load(start, index, UInt8.self)) }
            case .bool:
                for index in 0..<count { out[index] = load(start, index, UInt8.self) != 0 ? 1 : 0 }
            case .complex64, .complex128:
                // Refused before this point; zeros rather than a trap if a caller forgets.
                out.initialize(repeating: 0, count: count)
            }
            initialized = count
        }
    }

    @inline(__always)
    private static func load<T: FixedWidthInteger>(_ start: UnsafeRawPointer, _ index: Int, _ type: T.Type) -> T {
        start.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)
    }
}
