/// What a checkpoint file's first bytes say it is.
enum CheckpointFormat: Equatable {
    case torchZip
    case safetensors
    /// torch.save before 1.6: a pickled magic number, then more pickles.
    case legacyTorch
    /// Some other pickle (protocol 2 or later).
    case plainPickle
    case unknown

    /// Bytes `detect` wants to see.
    static let headLength = 32

    static func detect(head: [UInt8], pathExtension: String) -> CheckpointFormat {
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return .torchZip
        }
        if isPickle(head) {
            return isLegacyTorch(head) ? .legacyTorch : .plainPickle
        }
        // safetensors: an 8-byte length, then a JSON object. The length itself is checked by
        // the reader, so a file whose header runs past its end still gets a precise error.
        if head.count >= 9, head[8] == UInt8(ascii: "{") {
            return .safetensors
        }
        if pathExtension.lowercased() == "safetensors" {
            return .safetensors
        }
        return .unknown
    }

    private static func isPickle(_ head: [UInt8]) -> Bool {
        head.count >= 2 && head[0] == 0x80 && (2...5).contains(head[1])
    }

    /// torch's legacy files open with `pickle.dump(0x1950a86a20f9469cfc6c)`: LONG1 of 10 bytes,
    /// possibly after a FRAME opcode at protocol 4 and later.
    private static func isLegacyTorch(_ head: [UInt8]) -> Bool {
        let magic: [UInt8] = [0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
        let afterProto = Array(head.dropFirst(2))
        if afterProto.starts(with: magic) { return true }
        return afterProto.first == 0x95 && afterProto.dropFirst(9).starts(with: magic)
    }
}
