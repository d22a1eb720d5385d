// The shared test clients (TestClient, TestHTTPClient, RawHTTPClient) for every file of this target, without an
// import of their own in each.
@_exported public import TestSupport
