import FuzzSupport
import HTTPServer

/// Chunked request bodies: the payload follows a fixed `Transfer-Encoding: chunked` head, so every mutation
/// lands in chunk sizes, extensions, data, CRLFs and trailers (and any request pipelined after). Split plan
/// and whole-versus-split comparison as in FuzzHTTPRequest; a body the decoder accepts must equal what a
/// plain reading of RFC 9112 §7.1 gives for the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPChunked(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let limits: HTTPRequestDecoder.Limits = input.byte() & 1 == 0 ? .small : HTTPRequestDecoder.Limits()
    let plan = input.splitPlan()
    let head = Array("POST /chunked HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    let stream = ArraySlice(head + input.rest)
    let whole = HTTPTranscript.decode([stream], limits: limits)
    let split = HTTPTranscript.decode(pieces(of: stream, plan: plan), limits: limits)
    fuzzCheck(whole == split, "split at \(plan) decodes differently:\n\(whole)\n\(split)")
    if let body = whole.bodies.first {
        let expected = referenceDechunk(input.rest)
        fuzzCheck(expected == body, "decoded body (\(body.count) bytes) differs from the reference (\(expected.map { "\($0.count)" } ?? "rejected"))")
    }
    return 0
}

/// chunk = chunk-size [ws] [";" ext] EOL chunk-data EOL, until size 0, then trailer lines to an empty one;
/// EOL is CRLF or a bare LF. Nil when the bytes are not a complete chunked body. More lenient than the decoder
/// (which wants CRLF in the framing and checks extensions against their grammar): whatever the decoder
/// accepts, this reads the same way.
func referenceDechunk(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
    var index = bytes.startIndex
    func line() -> ArraySlice<UInt8>? {
        guard let lf = bytes[index...].firstIndex(of: 0x0A) else { return nil }
        var end = lf
        if end > index, bytes[end - 1] == 0x0D { end -= 1 }
        defer { index = lf + 1 }
        return bytes[index..<end]
    }
    var body: [UInt8] = []
    while true {
        guard let sizeLine = line() else { return nil }
        let digits = sizeLine.prefix { $0.isHexDigit }
        // Leading zeros are allowed in any number; a size this large never fits a body anyway.
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        guard !digits.isEmpty, significant.count <= 12,
              let size = significant.isEmpty ? 0 : Int(String(decoding: significant, as: UTF8.self), radix: 16)
        else { return nil }
        let after = sizeLine.dropFirst(digits.count).drop { $0 == 0x20 || $0 == 0x09 }
        guard after.isEmpty || after.first == UInt8(ascii: ";") else { return nil }
        if size == 0 { break }
        guard bytes.endIndex - index >= size else { return nil }
        body += bytes[index..<index + size]
        index += size
        if index < bytes.endIndex, bytes[index] == 0x0D { index += 1 }
        guard index < bytes.endIndex, bytes[index] == 0x0A else { return nil }
        index += 1
    }
    while let trailer = line() {
        if trailer.isEmpty { return body }
    }
    return nil
}

extension UInt8 {
    var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
