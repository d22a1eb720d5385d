import CKernels

/// Which build of the element-wise kernels runs: chosen once at start-up from the CPU's features (the best
/// the CPU supports), or by SIGNBERT_KERNELS=baseline|avx2|avx512, or by `use` (tests, benchmarks).
public enum KernelPath: Int, CaseIterable, Sendable, CustomStringConvertible {
    case baseline = 0   // SB_PATH_BASELINE: any x86-64 (SSE2), or the build's architecture elsewhere
    case avx2 = 1       // AVX2 + FMA
    case avx512 = 2     // AVX-512 F/VL/DQ/BW + FMA

    /// The path in use.
    public static var current: KernelPath { KernelPath(rawValue: Int(sb_kernels_path())) ?? .baseline }

    /// The paths this CPU can run, baseline first.
    public static var supported: [KernelPath] { allCases.filter(\.isSupported) }

    public var isSupported: Bool { sb_kernels_supported(Int32(rawValue)) != 0 }

    /// Switches every kernel to `path`; false (and nothing changes) when the CPU lacks it. Not while a
    /// forward pass runs.
    @discardableResult
    public static func use(_ path: KernelPath) -> Bool { sb_kernels_use(Int32(path.rawValue)) != 0 }

    /// Set when start-up fell back: no AVX2 on an x86-64 CPU, or SIGNBERT_KERNELS named a path this CPU
    /// lacks or no path at all. The server logs it.
    public static var fellBack: Bool { sb_kernels_fell_back() != 0 }

    public var description: String { String(cString: sb_kernels_name(Int32(rawValue))) }

    public init?(name: String) {
        guard let path = KernelPath.allCases.first(where: { $0.description == name }) else { return nil }
        self = path
    }
}
