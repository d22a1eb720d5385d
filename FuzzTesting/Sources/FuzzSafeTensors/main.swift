import Foundation
import FuzzSupport
import SignBERTRuntime

/// A `.safetensors` file from bytes: header length, JSON header, dtypes, shapes and data offsets checked
/// against the file. A state dict it returns is consistent (`FuzzConfig.checkStateDict`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let stateDict = try? SafeTensorsReader.read(data: data) {
        FuzzConfig.checkStateDict(stateDict, what: "safetensors")
    }
    return 0
}
