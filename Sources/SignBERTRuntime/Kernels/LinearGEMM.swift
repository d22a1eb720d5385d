import Foundation

/// Which GEMM computes the Linear layers. OpenBLAS packs the weight it is given on every call (its
/// `itcopy`): a quarter of a one-clip forward pass went to copying the weights. `packed` runs CKernels' own
/// GEMM over weights packed once at load; it wins at a clip's few rows, and OpenBLAS's larger, tuned
/// kernels win from a few clips' rows up (docs/PERFORMANCE.md), so `automatic` takes each product to the
/// faster one by its row count. Chosen by SIGNBERT_GEMM=automatic|packed|openblas or `use` (benchmarks,
/// tests); process-wide, and like `KernelPath.use` not to be changed while a forward pass runs. Models
/// whose one clip has more rows than `packedRowLimit` (v2) keep no packed weights and always use OpenBLAS.
public enum LinearGEMM: String, CaseIterable, Sendable {
    case automatic, packed, openBLAS = "openblas"

    /// Products of at most this many rows go to the packed GEMM under `automatic`: one clip of v1's 64 tokens
    /// (a lane of a split or sharded batch computes its own rows). Measured one thread, interleaved: 7 % faster
    /// than OpenBLAS at 64 rows, 5 % slower at 128, 18 % slower at 192.
    public static let packedRowLimit = 64

    nonisolated(unsafe) private static var chosen: LinearGEMM =
        ProcessInfo.processInfo.environment["SIGNBERT_GEMM"].flatMap(LinearGEMM.init(rawValue:)) ?? .automatic

    /// The choice in use.
    public static var current: LinearGEMM { chosen }

    /// Uses `choice` from now on. Not while a forward pass runs.
    public static func use(_ choice: LinearGEMM) { chosen = choice }

    /// Whether a product of `rows` rows runs on the packed GEMM.
    static func packs(rows: Int) -> Bool {
        switch chosen {
        case .packed: return true
        case .openBLAS: return false
        case .automatic: return rows <= packedRowLimit
        }
    }
}
