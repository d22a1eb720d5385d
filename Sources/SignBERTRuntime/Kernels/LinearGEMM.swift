import Foundation

/// Which GEMM computes a model's Linear layers, decided when the model is loaded, since each GEMM reads its
/// own layout of the weights and a model keeps only one. OpenBLAS packs the weight it is given on every call
/// (its `itcopy`): a quarter of a one-clip forward pass went to copying the weights. `packed` runs CKernels'
/// own GEMM over weights packed once at load: faster or level at every v1 batch and at v2's 1,729-token clips
/// (docs/PERFORMANCE.md), so `automatic` is `packed`; `openblas` stays for comparison. Chosen by
/// SIGNBERT_GEMM=automatic|packed|openblas or `use` (benchmarks, tests); process-wide, read by each load.
public enum LinearGEMM: String, CaseIterable, Sendable {
    case automatic, packed, openBLAS = "openblas"

    nonisolated(unsafe) private static var chosen: LinearGEMM =
        ProcessInfo.processInfo.environment["SIGNBERT_GEMM"].flatMap(LinearGEMM.init(rawValue:)) ?? .automatic

    /// The choice in use.
    public static var current: LinearGEMM { chosen }

    /// Models loaded from now on use `choice`; models already loaded keep theirs.
    public static func use(_ choice: LinearGEMM) { chosen = choice }

    /// Whether a model loaded now gets packed weights.
    static var packs: Bool { chosen != .openBLAS }
}
