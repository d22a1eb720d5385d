import Foundation
import FuzzSupport
import SignBERTRuntime

/// A `torch.save` archive from bytes: zip directory, members (stored or deflated, CRC-checked), data.pkl,
/// state-dict selection and storages. A state dict it returns is consistent (`FuzzConfig.checkStateDict`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchZip(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let stateDict = try? TorchCheckpointReader.read(archive: data) {
        FuzzConfig.checkStateDict(stateDict, what: "torch archive")
    }
    return 0
}
