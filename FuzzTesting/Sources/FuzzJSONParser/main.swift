import FuzzSupport
import SignBERTRuntime
import WireFormats

/// The strict JSON parser on any bytes. Whatever it accepts must survive a round trip: written back as JSON
/// (`JSONValue.jsonText`) and parsed again, it is the same value, tensors (rectangular number nests) included.
/// And its parsed structure stays within the parser's memory bound for the input's size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: start, count: count)
    guard let value = try? JSONParser.parse(UnsafeRawBufferPointer(bytes)) else { return 0 }
    let bound = JSONParser.memoryBytesPerInputByte * count + JSONParser.memoryAllowance
    fuzzCheck(value.structureBytes <= bound, "\(count) bytes parsed to \(value.structureBytes) bytes of structure (bound \(bound))")
    guard let text = value.jsonText else { return 0 }
    do {
        let again = try JSONParser.parse(Array(text.utf8))
        fuzzCheck(again == value, "round trip changed the value: \(text.prefix(200))")
    } catch {
        fuzzCheck(false, "the parser refuses its own value written back: \(error) in \(text.prefix(200))")
    }
    return 0
}
