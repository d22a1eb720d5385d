/// Little-endian reads over a `.pose` file's bytes, each checked against what remains: a hostile length or
/// count is an error before anything is allocated for it.
struct PoseByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    /// Fails unless `count` more bytes are there; `what` names them in the message.
    func require(_ count: Int, for what: @autoclosure () -> String) throws(PoseFileError) {
        guard count >= 0, count <= remaining else {
            throw PoseFileError("truncated .pose file: \(what()) needs \(count) bytes at offset \(offset), "
                                + "\(remaining) remain")
        }
    }

    mutating func uint16(_ what: @autoclosure () -> String) throws(PoseFileError) -> Int {
        try require(2, for: what())
        let value = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        offset += 2
        return Int(value)
    }

    mutating func uint32(_ what: @autoclosure () -> String) throws(PoseFileError) -> Int {
        try require(4, for: what())
        let value = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset += 4
        return Int(value)
    }

    mutating func float32(_ what: @autoclosure () -> String) throws(PoseFileError) -> Float {
        try require(4, for: what())
        let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset += 4
        return Float(bitPattern: bits)
    }

    /// A string: its UTF-8 byte length as uint16, then the bytes.
    mutating func string(_ what: @autoclosure () -> String) throws(PoseFileError) -> String {
        let length = try uint16("the length of \(what())")
        try require(length, for: what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw PoseFileError("malformed .pose file: \(what()) at offset \(offset) is not UTF-8")
        }
        offset += length
        return text
    }

    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws(PoseFileError) {
        try require(count, for: what())
        offset += count
    }

    /// The float32 at `index` (in floats) from `base` (in bytes), already bounds-checked by the caller.
    func float(at base: Int, index: Int) -> Float {
        let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: base + index * 4, as: UInt32.self))
        return Float(bitPattern: bits)
    }
}
