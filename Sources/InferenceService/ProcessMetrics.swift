import Foundation

/// The standard process metrics of Prometheus client libraries (CPU seconds, resident and virtual memory, open and
/// maximum file descriptors, start time), read from /proc at each scrape. Empty where there is no /proc.
enum ProcessMetrics {
    static func exposition() -> [UInt8] {
        guard let stat = read("/proc/self/stat"), let fields = statFields(stat) else { return [] }
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: Double) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        // /proc/self/stat fields (proc(5)), numbered from 1: utime 14, stime 15, starttime 22, vsize 23, rss 24.
        if ticks > 0, let user = fields.number(14), let system = fields.number(15) {
            family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
                   (user + system) / ticks)
        }
        if let vsize = fields.number(23) {
            family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize)
        }
        if let rss = fields.number(24) {
            family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss * pageSize)
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            family("process_open_fds", "gauge", "Number of open file descriptors.", Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            family("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
        if ticks > 0, let start = fields.number(22), let boot = bootTime() {
            family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
                   boot + start / ticks)
        }
        return Array(text.utf8)
    }

    /// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses).
    struct StatFields {
        let rest: [Substring]
        /// Field `n` as proc(5) numbers them (the first field after the name is field 3).
        func number(_ n: Int) -> Double? {
            rest.indices.contains(n - 3) ? Double(rest[n - 3]) : nil
        }
    }

    static func statFields(_ text: String) -> StatFields? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        return StatFields(rest: text[text.index(after: close)...].split(separator: " "))
    }

    /// The boot time, seconds since the epoch (`btime` of /proc/stat).
    static func bootTime() -> Double? {
        guard let stat = read("/proc/stat") else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// A whole /proc file (their size reads as 0, so it is read until the end).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Integers without a decimal point, other values with enough digits to read back.
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
