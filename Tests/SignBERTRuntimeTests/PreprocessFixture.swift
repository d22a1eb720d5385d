import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// Fixtures/preprocess/, written by tools/make_preprocess_fixtures.py (numpy + pose-format).
enum PreprocessFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/preprocess")
    /// The repository's root (fixtures name files by paths relative to it).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    static func json(_ name: String) throws -> JSONValue {
        try JSONParser.parse(Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// A file the fixture names by a path relative to the repository's root; a clear failure when it is absent.
    static func bytes(repositoryPath path: String, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        let url = repositoryRoot.appendingPathComponent(path).standardized
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("\(url.path) is missing from the repository", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }

    /// A real recording of the shared data (`SIGNBERT_SHARED_DATA`/pose, else `../shared/data/pose` beside the
    /// repository): a failure that says where it looked when it is absent, never a skip.
    static func sharedRecording(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        let url = sharedDataDirectory.appendingPathComponent("pose").appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("\(url.path) is missing: the SharedRecordings tests need the real MediaPipe recordings "
                    + "(../shared/data/pose beside the repository, or SIGNBERT_SHARED_DATA); tools/test.sh leaves "
                    + "them out, .ci/run runs them", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }

    static var sharedDataDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["SIGNBERT_SHARED_DATA"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return repositoryRoot.appendingPathComponent("../shared/data").standardized
    }

    static func numbers(_ value: JSONValue?) -> [Float] {
        switch value {
        case .tensor(_, let values)?: return values.map { Float($0) }
        case .array(let items)?: return items.flatMap { numbers($0) }
        case .number(let number)?: return [Float(number)]
        default: return []
        }
    }

    static func int(_ value: JSONValue?) -> Int {
        if case .number(let number)? = value { return Int(number) }
        return -1
    }

    static func string(_ value: JSONValue?) -> String {
        if case .string(let text)? = value { return text }
        return ""
    }

    static func items(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    static func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): size", file: file, line: line)
        guard actual.count == expected.count, !expected.isEmpty else { return }
        var worst = 0, worstError: Float = 0
        for i in actual.indices {
            let error = abs(actual[i] - expected[i])
            if !(error <= worstError) { worst = i; worstError = error }  // NaN counts as worst
        }
        XCTAssertLessThanOrEqual(worstError, tolerance,
                                 "\(what): element \(worst) is \(actual[worst]), numpy has \(expected[worst])",
                                 file: file, line: line)
    }
}
