import Foundation

/// Which GEMM computes a model's Linear layers, decided when the model is loaded, since each GEMM reads its
/// own layout of the weights and a model keeps only one. OpenBLAS packs the weight it is given on every call
/// (its `itcopy`): a quarter of a one-clip forward pass went to copying the weights. `packed` runs CKernels'
/// own GEMM over weights packed once at load. `automatic` packs models whose clips are short (v1's 64 tokens),
/// where it was faster or level at every batch measured (docs/PERFORMANCE.md), and leaves long clips (v2's
/// 1,729 tokens) to OpenBLAS, the system BLAS the design names: there the two measure level, OpenBLAS's copy of
/// the weights being a small part of a long clip's GEMM. Chosen by SIGNBERT_GEMM=automatic|packed|openblas or
/// `use` (benchmarks, tests); process-wide, read by each load.
public enum LinearGEMM: String, CaseIterable, Sendable {
    case automatic, packed, openBLAS = "openblas"

    /// Under `automatic`, models whose clip has at most this many tokens get the packed GEMM. Measured on two
    /// threads, interleaved run by run: level with OpenBLAS at 1,024 rows per thread (v1 batch 32), ahead
    /// below (9-12 % at one clip); level at v2's 1,729 (within 1-2 %; 5-7 % behind before the attention had its
    /// own kernel).
    public static let packedTokenLimit = 1024

    nonisolated(unsafe) private static var chosen: LinearGEMM =
        ProcessInfo.processInfo.environment["SIGNBERT_GEMM"].flatMap(LinearGEMM.init(rawValue:)) ?? .automatic

    /// The choice in use.
    public static var current: LinearGEMM { chosen }

    /// Models loaded from now on use `choice`; models already loaded keep theirs.
    public static func use(_ choice: LinearGEMM) { chosen = choice }

    /// Whether a model whose clips have `tokens` tokens gets packed weights, under the current choice.
    static func packs(tokens: Int) -> Bool {
        switch chosen {
        case .packed: return true
        case .openBLAS: return false
        case .automatic: return tokens <= packedTokenLimit
        }
    }
}
