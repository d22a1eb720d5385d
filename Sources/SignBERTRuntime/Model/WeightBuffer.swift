import CKernels

/// A weight tensor's floats in memory owned by the model, immutable after load, so kernels take its
/// pointer directly. `@unchecked Sendable`: nothing writes to it after `init`.
final class WeightBuffer: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        let storage = WeightBuffer.allocate(values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.update(from: base, count: values.count) }
        }
        pointer = UnsafePointer(storage)
        count = values.count
    }

    /// A Linear weight given in PyTorch's layout [outer, inner], kept in the packed form `sb_gemm_packed` reads
    /// (panels of 16 output columns, see CKernels.h).
    init(packingLinear weight: [Float], inner: Int, outer: Int) {
        precondition(weight.count == inner * outer, "weight has \(weight.count) floats, not \(outer)x\(inner)")
        count = sb_gemm_packed_floats(inner, outer)
        let storage = WeightBuffer.allocate(count)
        weight.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { sb_gemm_pack(storage, base, inner, outer) }
        }
        pointer = UnsafePointer(storage)
    }

    /// Zeroed floats on a 64-byte boundary (a cache line, and an AVX-512 register's width).
    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(mutating: pointer).deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
