import Foundation

/// Defaults for the limits that hold memory, derived from the container's memory limit (cgroup v2 `memory.max`
/// or v1 `memory.limit_in_bytes`) when there is one, so that a full server stays inside it:
///
/// - request bodies being received or decoded, all connections together: a quarter of the limit;
/// - the largest body: a sixteenth of the limit, at most the 32 MiB of an unlimited machine;
/// - clips waiting in the queue: an eighth of the limit at `bytesPerQueuedClip` each (T·V·C float32), between
///   one batch and 256;
/// - open connections: a quarter of the limit at 64 KiB each (socket buffers, Dispatch sources, a small
///   request), between 64 and 1024.
///
/// The model's weights and the batch workspace are outside these shares; they are fixed at start-up.
public struct ResourceBudget: Sendable, Equatable {
    public var memoryLimit: Int?
    public var maxBodyBytes: Int
    public var bodyBudgetBytes: Int
    public var maxQueuedClips: Int
    public var maxConnections: Int

    public static let unlimitedMaxBodyBytes = 32 * 1024 * 1024
    public static let unlimitedBodyBudget = 1024 * 1024 * 1024
    public static let unlimitedMaxQueuedClips = 256
    public static let unlimitedMaxConnections = 1024
    static let bytesPerConnection = 64 * 1024

    public init(memoryLimit: Int?, bytesPerQueuedClip: Int, maxBatchSize: Int) {
        self.memoryLimit = memoryLimit
        guard let limit = memoryLimit else {
            maxBodyBytes = Self.unlimitedMaxBodyBytes
            bodyBudgetBytes = Self.unlimitedBodyBudget
            maxQueuedClips = max(maxBatchSize, Self.unlimitedMaxQueuedClips)
            maxConnections = Self.unlimitedMaxConnections
            return
        }
        maxBodyBytes = min(Self.unlimitedMaxBodyBytes, max(1024 * 1024, limit / 16))
        bodyBudgetBytes = max(maxBodyBytes, limit / 4)
        maxQueuedClips = min(Self.unlimitedMaxQueuedClips, max(maxBatchSize, limit / 8 / max(1, bytesPerQueuedClip)))
        maxConnections = min(Self.unlimitedMaxConnections, max(64, limit / 4 / Self.bytesPerConnection))
    }

    /// This process's cgroup memory limit in bytes, nil when there is none.
    public static func cgroupMemoryLimit() -> Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return parseMemoryLimit(text) }
        }
        return nil
    }

    /// "max" (v2) or a number; v1 reports "no limit" as a number near 2^63.
    public static func parseMemoryLimit(_ text: String) -> Int? {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Int(value), bytes > 0, bytes < 1 << 50 else { return nil }
        return bytes
    }
}
