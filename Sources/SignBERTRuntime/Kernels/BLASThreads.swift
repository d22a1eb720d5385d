import COpenBLAS
import Foundation

/// OpenBLAS's thread count, set explicitly: left alone it uses every core it sees, ignoring a
/// container's CPU quota, and oversubscribed BLAS threads serialise (perf-notes).
public enum BLASThreads {
    /// Sets the count when it differs (the engine calls this before every batch).
    public static func set(_ count: Int) {
        let count = Int32(max(1, count))
        if openblas_get_num_threads() != count { openblas_set_num_threads(count) }
    }
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The cores this process may use: the CPUs it may run on, capped by a cgroup CPU quota (v2 `cpu.max`,
    /// or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded up.
    public static func availableCores() -> Int {
        // Foundation counts the CPUs in this process's affinity mask.
        var cores = ProcessInfo.processInfo.activeProcessorCount
        if let quota = cgroupQuota() { cores = min(cores, quota) }
        return max(1, cores)
    }

    static func cgroupQuota() -> Int? {
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) {
            return parseCPUMax(text)
        }
        if let quota = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", encoding: .utf8),
           let period = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding: .utf8),
           let q = Int(quota.trimmingCharacters(in: .whitespacesAndNewlines)),
           let p = Int(period.trimmingCharacters(in: .whitespacesAndNewlines)), q > 0, p > 0 {
            return (q + p - 1) / p
        }
        return nil
    }

    /// cgroup v2 `cpu.max`: "max 100000" (no limit) or "150000 100000" (1.5 CPUs → 2).
    static func parseCPUMax(_ text: String) -> Int? {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else {
            return nil
        }
        return (quota + period - 1) / period
    }
}
