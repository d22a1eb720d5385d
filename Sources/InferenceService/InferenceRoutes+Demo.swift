import HTTPServer

/// `GET /demo` and its files, when the configuration turns the page on (`serve --demo`, or by default with the
/// bundled demo model). Without its files the routes answer 404 with the reason, rather than the server
/// refusing to start for a page.
extension InferenceRoutes {
    /// One of the page's files (`DemoPage.files`), 304 when the client's ETag still matches.
    func demoFile(_ path: String, _ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        switch demoPage {
        case .success(let page)?:
            respond(page.response(path: path, ifNoneMatch: request.headers["If-None-Match"])
                ?? .error(status: 404, message: "no demo file \(path)"))
        case .failure(let missing)?:
            respond(.error(status: 404, message: missing.message))
        case nil:
            respond(.error(status: 404, message: "the demo page is off (serve --demo turns it on)"))
        }
    }
}
