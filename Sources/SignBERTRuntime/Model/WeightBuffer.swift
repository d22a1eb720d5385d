/// A weight tensor's floats in memory owned by the model, immutable after load, so kernels take its
/// pointer directly. `@unchecked Sendable`: nothing writes to it after `init`.
final class WeightBuffer: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        storage.initialize(repeating: 0, count: max(values.count, 1))
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.update(from: base, count: values.count) }
        }
        pointer = UnsafePointer(storage)
        count = values.count
    }

    deinit { UnsafeMutablePointer(mutating: pointer).deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
