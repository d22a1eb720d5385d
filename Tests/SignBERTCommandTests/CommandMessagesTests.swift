import Foundation
import XCTest

/// The command line's messages when a newcomer mixes things up: each says what to do instead, and a bad flag
/// value is a usage error (exit 64, `Error:`) like every other.
final class CommandMessagesTests: XCTestCase {
    static let root = PredictPoseCommandTests.repositoryRoot

    private func run(_ arguments: [String]) throws -> SignBERTProcess.Result {
        try SignBERTProcess.run(arguments, currentDirectory: Self.root)
    }

    private func assertUsageError(_ result: SignBERTProcess.Result, mentioning words: [String],
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 64, result.summary, file: file, line: line)
        XCTAssertTrue(result.stderrText.hasPrefix("Error: "), result.summary, file: file, line: line)
        for word in words { XCTAssertTrue(result.stderrText.contains(word), "\(word): \(result.summary)", file: file, line: line) }
    }

    func testModelAndCheckpointMixedUpSayWhichFlagToUse() throws {
        assertUsageError(try run(["serve", "--model", "models/demo-gestures/model.safetensors"]),
                         mentioning: ["is a file", "--checkpoint models/demo-gestures/model.safetensors",
                                      "--model models/demo-gestures"])
        assertUsageError(try run(["predict", "--checkpoint", "models/demo-gestures", "--input", "examples/wave.json"]),
                         mentioning: ["is a directory", "--model models/demo-gestures"])
    }

    func testAJSONFileGivenToPoseSaysToUseInput() throws {
        assertOneErrorLine(try run(["predict", "--pose", "examples/wave.json"]),
                           mentioning: ["examples/wave.json is JSON, not a .pose file", "--input examples/wave.json"])
    }

    func testAnUnknownGEMMIsRefusedByBench() throws {
        assertOneErrorLine(try run(["bench", "--gemm", "packed,bogus", "--batches", "1", "--seconds", "0"]),
                           mentioning: ["--gemm takes automatic, packed or openblas"])
    }

    func testBadLogLevelIsAUsageError() throws {
        assertUsageError(try run(["serve", "--log-level", "foo", "--port", "0"]), mentioning: ["--log-level foo", "warning"])
    }

    func testHealthcheckHelpStatesEachDefaultOnce() throws {
        let help = try run(["healthcheck", "--help"]).stdoutText
        XCTAssertEqual(help.components(separatedBy: "127.0.0.1").count - 1, 1, help)
        XCTAssertEqual(help.components(separatedBy: "/ready").count - 1, 2, "the abstract and the default: \(help)")
    }
}

/// `serve --model-repository`'s refusals at start: one line and a non-zero exit.
final class RepositoryCommandTests: XCTestCase {
    func testARepositoryWithNothingToServeIsRefusedAtStart() throws {
        let fm = FileManager.default
        let directory = fm.temporaryDirectory.appendingPathComponent("signbert-empty-repository-\(UUID().uuidString)")
        try fm.createDirectory(at: directory.appendingPathComponent("broken"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: directory.appendingPathComponent("broken/config.json"))
        defer { try? fm.removeItem(at: directory) }
        let result = try SignBERTProcess.run(["serve", "--model-repository", directory.path, "--port", "0"], environment: [:])
        let stderr = String(decoding: result.stderr, as: UTF8.self)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(stderr.contains("has no model that loads") && stderr.contains("broken"), stderr)
    }

    func testSingleModelFlagsDoNotGoWithARepository() throws {
        let result = try SignBERTProcess.run(["serve", "--model-repository", "/tmp", "--model", "models/demo-gestures"], environment: [:])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(String(decoding: result.stderr, as: UTF8.self).contains("--model names a single model"))
        let poll = try SignBERTProcess.run(["serve", "--repository-poll", "5"], environment: [:])
        XCTAssertNotEqual(poll.status, 0)
        XCTAssertTrue(String(decoding: poll.stderr, as: UTF8.self).contains("go with --model-repository"))
    }
}
