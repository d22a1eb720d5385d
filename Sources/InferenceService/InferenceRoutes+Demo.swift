import HTTPServer

/// `GET /demo` and its files, when the configuration turns the page on (`serve --demo`, or by default with the
/// bundled demo model). Without its files the routes answer 404 with the reason, rather than the server
/// refusing to start for a page.
extension InferenceRoutes {
    func installDemo(on router: HTTPRouter) {
        guard configuration.demoPage else { return }
        let page = DemoPage.locate()
        for file in DemoPage.files {
            router.add("GET", file.path) { request, _, respond in
                switch page {
                case .success(let page):
                    respond(page.response(path: file.path, ifNoneMatch: request.headers["If-None-Match"])
                        ?? .error(status: 404, message: "no demo file \(file.path)"))
                case .failure(let missing):
                    respond(.error(status: 404, message: missing.message))
                }
            }
        }
    }
}
