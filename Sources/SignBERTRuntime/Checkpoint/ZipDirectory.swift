import Foundation
import ZIPFoundation

/// The members of a zip file, from its central directory, with every offset and size checked
/// against the file before use.
///
/// Why not ZIPFoundation's `Archive`: it converts offsets read from the file to `off_t` without
/// checking them, so a crafted central directory traps the process (seen while fuzzing). Here
/// the container is parsed in Swift over the memory-mapped file; ZIPFoundation still provides
/// CRC32 and inflate, fed only with ranges this type has validated.
struct ZipDirectory {
    struct Member {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        /// Offset of the member's bytes in the file, past its local header.
        var dataOffset: Int
    }

    /// The whole file (memory-mapped).
    let file: Data
    /// Members by name; the first of duplicate names wins.
    private(set) var members: [String: Member] = [:]

    init(file: Data) throws(CheckpointError.Kind) {
        self.file = file
        let parsed: Result<[Member], CheckpointError.Kind> = file.withUnsafeBytes { raw in
            Result { () throws(CheckpointError.Kind) in try Self.parse(ZipBytes(raw: raw)) }
        }
        for member in try parsed.get() where members[member.name] == nil {
            members[member.name] = member
        }
    }

    // MARK: - Reading members

    /// A member's bytes: a slice of the mapped file when stored, inflated when deflated. Checked
    /// against the CRC32 the directory records.
    func contents(of member: Member) throws(CheckpointError.Kind) -> Data {
        guard member.flags & 1 == 0 else { throw .damagedArchive("member \(member.name) is encrypted") }
        let start = file.startIndex + member.dataOffset
        let stored = file[start..<start + member.compressedSize]
        let data: Data
        switch member.method {
        case 0:
            guard member.compressedSize == member.uncompressedSize else {
                throw .damagedArchive("stored member \(member.name) has two different sizes")
            }
            data = stored
        case 8:
            data = try inflate(stored, member: member)
        default:
            throw .damagedArchive("member \(member.name) uses compression method \(member.method)")
        }
        guard data.crc32(checksum: 0) == member.crc32 else {
            throw .damagedArchive("member \(member.name) fails its CRC check")
        }
        return data
    }

    private func inflate(_ compressed: Data, member: Member) throws(CheckpointError.Kind) -> Data {
        // Deflate expands at most about 1032:1; a larger claim is a lie or a bomb.
        let (ceiling, overflow) = member.compressedSize.multipliedReportingOverflow(by: 1032)
        guard !overflow, member.uncompressedSize <= ceiling else {
            throw .damagedArchive("member \(member.name) claims \(member.uncompressedSize) bytes inflated")
        }
        let chunkSize = 1 << 16
        var output = Data(capacity: member.uncompressedSize)
        do {
            _ = try Data.decompress(size: Int64(member.compressedSize), bufferSize: chunkSize, skipCRC32: true,
                                    provider: { position, size in
                // ZIPFoundation's inflate loop reads `size` bytes whatever the chunk holds and
                // never stops on its own when the stream is cut: pad the last chunk, and throw
                // once asked past the end.
                let begin = Int(position)
                guard begin < compressed.count else { throw CheckpointError.Kind.damagedArchive("") }
                var chunk = Data(compressed[(compressed.startIndex + begin)..<(compressed.startIndex
                                                                                + min(compressed.count, begin + size))])
                if chunk.count < size { chunk.append(Data(count: size - chunk.count)) }
                return chunk
            }, consumer: { piece in
                guard output.count + piece.count <= member.uncompressedSize else {
                    throw CheckpointError.Kind.damagedArchive("")
                }
                output.append(piece)
            })
        } catch {
            throw .damagedArchive("member \(member.name) does not inflate to its \(member.uncompressedSize) bytes")
        }
        guard output.count == member.uncompressedSize else {
            throw .damagedArchive("member \(member.name) inflates to \(output.count) of its \(member.uncompressedSize) bytes")
        }
        return output
    }

    // MARK: - Parsing the directory

    private static let endSignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50

    private static func parse(_ bytes: ZipBytes) throws(CheckpointError.Kind) -> [Member] {
        // The end record is the last 22 bytes plus a comment of at most 64 KiB.
        let size = bytes.count
        guard size >= 22 else { throw .damagedArchive("\(size) bytes is too short for a zip") }
        var endOffset: Int?
        for candidate in stride(from: size - 22, through: max(0, size - 22 - 0xFFFF), by: -1)
        where bytes.u32(candidate) == endSignature {
            endOffset = candidate
            break
        }
        guard let end = endOffset else {
            throw .damagedArchive("no end-of-central-directory record; the file was probably cut short")
        }
        var entryCount = Int(bytes.u16(end + 10) ?? 0)
        var directorySize = Int(bytes.u32(end + 12) ?? 0)
        var directoryOffset = Int(bytes.u32(end + 16) ?? 0)

        // ZIP64 (archives over 4 GiB or with many members): a locator right before the end record.
        if end >= 20, bytes.u32(end - 20) == zip64LocatorSignature {
            guard let recordOffset = bytes.offset(bytes.u64(end - 20 + 8), within: end - 20 - 56),
                  bytes.u32(recordOffset) == zip64EndSignature,
                  let count = bytes.offset(bytes.u64(recordOffset + 32), within: size),
                  let length = bytes.offset(bytes.u64(recordOffset + 40), within: size),
                  let start = bytes.offset(bytes.u64(recordOffset + 48), within: size)
            else { throw .damagedArchive("bad ZIP64 end record") }
            (entryCount, directorySize, directoryOffset) = (count, length, start)
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset,
              entryCount <= directorySize / 46
        else { throw .damagedArchive("central directory lies outside the file; the file was probably cut short") }

        var members: [Member] = []
        members.reserveCapacity(entryCount)
        var cursor = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for _ in 0..<entryCount {
            guard cursor <= directoryEnd - 46, bytes.u32(cursor) == centralSignature,
                  let flags = bytes.u16(cursor + 8), let method = bytes.u16(cursor + 10),
                  let crc = bytes.u32(cursor + 16),
                  let compressed32 = bytes.u32(cursor + 20), let uncompressed32 = bytes.u32(cursor + 24),
                  let nameLength = bytes.u16(cursor + 28), let extraLength = bytes.u16(cursor + 30),
                  let commentLength = bytes.u16(cursor + 32), let local32 = bytes.u32(cursor + 42)
            else { throw .damagedArchive("central directory entry \(members.count) is malformed") }
            let nameStart = cursor + 46
            let extraStart = nameStart + Int(nameLength)
            let next = extraStart + Int(extraLength) + Int(commentLength)
            guard next <= directoryEnd, let nameBytes = bytes.slice(nameStart, Int(nameLength)) else {
                throw .damagedArchive("central directory entry \(members.count) runs past the directory")
            }
            let name = String(decoding: nameBytes, as: UTF8.self)

            // 0xFFFFFFFF fields are in the ZIP64 extra field (id 1), in this order.
            var uncompressed = UInt64(uncompressed32)
            var compressed = UInt64(compressed32)
            var local = UInt64(local32)
            if uncompressed32 == .max || compressed32 == .max || local32 == .max {
                guard var field = zip64Field(bytes, from: extraStart, length: Int(extraLength)) else {
                    throw .damagedArchive("member \(name) lacks its ZIP64 sizes")
                }
                func take() -> UInt64? {
                    guard field.count >= 8 else { return nil }
                    defer { field = field.dropFirst(8) }
                    return (0..<8).reduce(UInt64(0)) { $0 | UInt64(field[field.startIndex + $1]) << (8 * UInt64($1)) }
                }
                if uncompressed32 == .max { uncompressed = take() ?? .max }
                if compressed32 == .max { compressed = take() ?? .max }
                if local32 == .max { local = take() ?? .max }
            }
            guard let localOffset = bytes.offset(local, within: size - 30),
                  let compressedSize = bytes.offset(compressed, within: size),
                  let uncompressedSize = bytes.offset(uncompressed, within: Int.max),
                  bytes.u32(localOffset) == localSignature,
                  let localName = bytes.u16(localOffset + 26), let localExtra = bytes.u16(localOffset + 28)
            else { throw .damagedArchive("member \(name) points outside the file") }
            let dataOffset = localOffset + 30 + Int(localName) + Int(localExtra)
            guard dataOffset <= size, compressedSize <= size - dataOffset else {
                throw .damagedArchive("member \(name) runs past the end of the file; it was probably cut short")
            }
            members.append(Member(name: name, method: method, flags: flags, crc32: crc,
                                  compressedSize: compressedSize, uncompressedSize: uncompressedSize,
                                  dataOffset: dataOffset))
            cursor = next
        }
        return members
    }

    /// The body of the ZIP64 extended-information field among a member's extra fields.
    private static func zip64Field(_ bytes: ZipBytes, from start: Int, length: Int) -> ArraySlice<UInt8>? {
        var cursor = start
        let end = start + length
        while cursor + 4 <= end, let id = bytes.u16(cursor), let size = bytes.u16(cursor + 2) {
            let body = cursor + 4
            guard body + Int(size) <= end, let field = bytes.slice(body, Int(size)) else { return nil }
            if id == 1 { return ArraySlice(field) }
            cursor = body + Int(size)
        }
        return nil
    }
}

/// Bounds-checked little-endian reads; nil instead of a trap when out of range.
private struct ZipBytes {
    let raw: UnsafeRawBufferPointer
    var count: Int { raw.count }

    func u16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= count - 2 else { return nil }
        return UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func u32(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count - 4 else { return nil }
        return UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func u64(_ offset: Int) -> UInt64? {
        guard offset >= 0, offset <= count - 8 else { return nil }
        return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    func slice(_ offset: Int, _ length: Int) -> [UInt8]? {
        guard offset >= 0, length >= 0, offset <= count - length else { return nil }
        return Array(raw[offset..<offset + length])
    }

    /// A 64-bit value from the file as an Int no larger than `limit`, or nil.
    func offset(_ value: UInt64?, within limit: Int) -> Int? {
        guard let value, limit >= 0, value <= UInt64(limit) else { return nil }
        return Int(value)
    }
}
