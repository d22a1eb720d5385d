import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small reads at known offsets of a checkpoint file, with errno turned into one-line errors.
/// Used to sniff the format and check the zip's tail before any library parses the file.
struct CheckpointFile {
    let url: URL
    let size: Int

    init(_ url: URL) throws(CheckpointError) {
        self.url = url
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw Self.failure(url, String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw Self.failure(url, "not a regular file") }
        size = Int(info.st_size)
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    func read(offset: Int, count: Int) throws(CheckpointError) -> [UInt8] {
        let wanted = max(0, min(count, size - offset))
        guard wanted > 0 else { return [] }
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw Self.failure(url, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return pread(descriptor, base + done, wanted - done, off_t(offset + done))
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw Self.failure(url, String(cString: strerror(errno))) }
            if got == 0 { break }  // the file shrank under us
            done += got
        }
        return Array(bytes.prefix(done))
    }

    private static func failure(_ url: URL, _ reason: String) -> CheckpointError {
        CheckpointError(path: url.path, kind: .unreadable(reason))
    }
}
