import Foundation
import HTTPServer

/// The browser demo page (`GET /demo`, issue 22): static files read once at start-up from the package's
/// resources (`Resources/demo`), served with their content type, an ETag for revalidation and a strict
/// Content-Security-Policy (scripts, styles and connections from this server only; no inline script).
struct DemoPage: Sendable {
    struct Asset: Sendable {
        var body: [UInt8]
        var contentType: String
        var etag: String
    }

    /// The files, by their URL path (`/demo` is the page itself).
    let assets: [String: Asset]

    /// The files the page consists of and their content types; anything else in the folder is not served.
    static let files: [(name: String, path: String, contentType: String)] = [
        ("index.html", "/demo", "text/html; charset=utf-8"),
        ("demo.js", "/demo/demo.js", "text/javascript; charset=utf-8"),
        ("demo.css", "/demo/demo.css", "text/css; charset=utf-8"),
        ("recording.pose", "/demo/recording.pose", "application/x-pose"),
        ("recording.json", "/demo/recording.json", "application/json"),
    ]

    /// `'self'` in connect-src covers ws:// and wss:// to the page's own host (CSP Level 3), which the stream
    /// needs; nothing may come from another host, and no inline script or style runs.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Reads the files from `directory`; nil (with the reason) when one is missing.
    static func load(from directory: URL) -> Result<DemoPage, DemoPageMissing> {
        var assets: [String: Asset] = [:]
        for file in files {
            let url = directory.appendingPathComponent(file.name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                return .failure(DemoPageMissing(message: "the demo page's file \(url.path) is missing"))
            }
            let body = Array(data)
            assets[file.path] = Asset(body: body, contentType: file.contentType, etag: "\"\(fnv1a(body))\"")
        }
        return .success(DemoPage(assets: assets))
    }

    /// The page's folder: the resource bundle beside the executable (`swift build`'s output, or the image's
    /// bin/), else the source tree this file was compiled from (a build whose bundle was not copied along).
    static func locate() -> Result<DemoPage, DemoPageMissing> {
        let bundle = "signbert-server_InferenceService.resources/demo"
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent(bundle),
            executable.deletingLastPathComponent().appendingPathComponent(bundle),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/demo"),
        ]
        var tried: [String] = []
        for directory in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return load(from: directory)
            }
            tried.append(directory.path)
        }
        return .failure(DemoPageMissing(message: "the demo page's files are not installed (looked in \(tried.joined(separator: ", ")))"))
    }

    /// The asset at `path`, or 304 when the client's `If-None-Match` names its ETag.
    func response(path: String, ifNoneMatch: String?) -> HTTPResponse? {
        guard let asset = assets[path] else { return nil }
        var headers: HTTPHeaders = [
            "Content-Type": asset.contentType,
            // Revalidate every time (the files are small and not fingerprinted); a 304 costs a round trip only.
            "Cache-Control": "no-cache",
            "ETag": asset.etag,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        ]
        if asset.contentType.hasPrefix("text/html") {
            headers.replace(name: "Content-Security-Policy", value: Self.contentSecurityPolicy)
            headers.replace(name: "X-Frame-Options", value: "DENY")
        }
        if let tags = ifNoneMatch, tags.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) {
            return HTTPResponse(status: 304, headers: headers)
        }
        return HTTPResponse(status: 200, headers: headers, body: asset.body)
    }

    /// 64-bit FNV-1a, hex: an ETag that changes when the bytes do.
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }
}

struct DemoPageMissing: Error {
    var message: String
}
