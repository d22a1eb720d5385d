/// The fuzzer's bytes, read from the front: a few control bytes choose how the target runs (split points,
/// limits, a header value), the rest is the payload. Reads past the end yield zeros, so every input is usable.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ start: UnsafePointer<UInt8>, _ count: Int) {
        bytes = Array(UnsafeBufferPointer(start: start, count: count))
    }

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func uint16() -> Int {
        Int(byte()) | Int(byte()) << 8
    }

    /// The piece sizes a stream is fed in: a count byte (n = byte % 8), then n sizes of 1...256 bytes, used
    /// in turn until the stream is fed. n = 0 feeds one byte at a time.
    public mutating func splitPlan() -> [Int] {
        let count = Int(byte() % 8)
        guard count > 0 else { return [1] }
        return (0..<count).map { _ in Int(byte()) + 1 }
    }

    /// Whatever is left after the control bytes.
    public var rest: ArraySlice<UInt8> { bytes[min(position, bytes.count)...] }
}

/// The stream cut into pieces of the plan's sizes, in turn.
public func pieces(of stream: ArraySlice<UInt8>, plan: [Int]) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var start = stream.startIndex, turn = 0
    while start < stream.endIndex {
        let end = min(stream.endIndex, start + plan[turn % plan.count])
        result.append(stream[start..<end])
        start = end
        turn += 1
    }
    return result
}
