import Foundation
import FuzzSupport
import SignBERTRuntime

/// The restricted unpickler on any bytes; then the same bytes as the `data.pkl` of an in-memory torch
/// archive (with four small storages, `data/0` to `data/3`), so what the unpickler accepts also goes through
/// the state-dict selection and tensor checks of the checkpoint reader.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnpickler(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let document: PickleDocument
    do {
        document = try Unpickler.unpickle(bytes)
    } catch {
        return 0
    }
    _ = document.kindName(document.root)
    let storage = (0..<64).map { UInt8($0) }
    let archive = StoredZip.archive([("archive/data.pkl", bytes)] + (0..<4).map { ("archive/data/\($0)", storage) })
    if let stateDict = try? TorchCheckpointReader.read(archive: archive) {
        FuzzConfig.checkStateDict(stateDict, what: "pickle in an archive")
    }
    return 0
}
