import Foundation
import XCTest

/// `signbert predict` as a process: a request file in, the /predict JSON on stdout.
final class PredictCommandTests: XCTestCase {
    func testPredictOnTheTrainingRunPrintsThePyTorchLogits() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let scratch = try TemporaryDirectory()
        let request = try scratch.write("request.json", fixture.requestBody(topK: 3))
        let result = try SignBERTProcess.run(["predict", "--checkpoint", CommandFixtures.trainingRun.path, "--input", request.path])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertFalse(result.signaled, result.summary)
        XCTAssertEqual(result.stderrText, "", "predict writes nothing on stderr when it succeeds")

        let logits = try CommandFixtures.logits(fromPredictionJSON: result.stdout)
        let expected = try XCTUnwrap(fixture.expected["f32"])
        XCTAssertEqual(logits.count, fixture.batch * fixture.numClasses)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, expected), fixture.tolerance)

        // The rest of each prediction: argmax, its label, a softmax score, top_k best first.
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let predictions = try XCTUnwrap(object["predictions"] as? [[String: Any]])
        XCTAssertEqual(predictions.count, fixture.batch)
        for (row, prediction) in predictions.enumerated() {
            let rowLogits = Array(expected[row * fixture.numClasses..<(row + 1) * fixture.numClasses])
            let best = try XCTUnwrap(rowLogits.indices.max { rowLogits[$0] < rowLogits[$1] })
            XCTAssertEqual(prediction["class_id"] as? Int, best)
            XCTAssertEqual(prediction["label"] as? String, fixture.labels[best])
            let top = try XCTUnwrap(prediction["top_k"] as? [[String: Any]])
            XCTAssertEqual(top.count, 3)
            XCTAssertEqual(top.first?["class_id"] as? Int, best)
            let scores = top.compactMap { $0["score"] as? Double }
            XCTAssertEqual(scores, scores.sorted(by: >))
            let exps = rowLogits.map { exp(Double($0 - rowLogits[best])) }
            XCTAssertEqual(try XCTUnwrap(prediction["score"] as? Double), 1 / exps.reduce(0, +), accuracy: 1e-4)
        }
    }

    func testPredictWithoutLogitsLeavesThemOut() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let scratch = try TemporaryDirectory()
        var body = try XCTUnwrap(JSONSerialization.jsonObject(with: fixture.requestBody()) as? [String: Any])
        body["return_logits"] = nil
        body["top_k"] = nil
        let request = try scratch.write("request.json", JSONSerialization.data(withJSONObject: body))
        let result = try SignBERTProcess.run(["predict", "--checkpoint", CommandFixtures.trainingRun.path, "--input", request.path])
        XCTAssertEqual(result.status, 0, result.summary)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let predictions = try XCTUnwrap(object["predictions"] as? [[String: Any]])
        XCTAssertEqual(predictions.count, fixture.batch)
        for prediction in predictions {
            XCTAssertNil(prediction["logits"], "logits only when asked")
            XCTAssertEqual((prediction["top_k"] as? [Any])?.count, 5, "top_k defaults to 5")
        }
    }

    func testPredictOnSafetensorsNeedsTheHeadCountAndThenMatches() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let scratch = try TemporaryDirectory()
        let request = try scratch.write("request.json", fixture.requestBody())
        for heads in [["--num-heads", "4"], ["--config", CommandFixtures.trainingConfig.path]] {
            let result = try SignBERTProcess.run(["predict", "--checkpoint", CommandFixtures.safetensorsF32.path] + heads
                                                 + ["--input", request.path])
            XCTAssertEqual(result.status, 0, result.summary)
            let logits = try CommandFixtures.logits(fromPredictionJSON: result.stdout)
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance,
                                     "\(heads)")
        }
    }

    func testMalformedRequestFileIsOneErrorLine() throws {
        let scratch = try TemporaryDirectory()
        let cases: [(name: String, body: String, mentions: String)] = [
            ("truncated.json", "{\"inputs\": [[[0.5", "JSON"),
            ("no-inputs.json", "{\"top_k\": 3}", "inputs"),
            ("short-clip.json", "{\"inputs\": [[[0.5, 0.5, 0.5]]]}", "frames"),
        ]
        for item in cases {
            let request = try scratch.write(item.name, Data(item.body.utf8))
            let result = try SignBERTProcess.run(["predict", "--checkpoint", CommandFixtures.trainingRun.path,
                                                  "--input", request.path])
            assertOneErrorLine(result, mentioning: [item.mentions], "\(item.name)")
            XCTAssertEqual(result.stdoutText, "", item.name)
        }
        let missing = try SignBERTProcess.run(["predict", "--checkpoint", CommandFixtures.trainingRun.path,
                                               "--input", scratch.file("absent.json").path])
        assertOneErrorLine(missing, mentioning: ["absent.json"])
    }
}

/// Exit status 1 (not a signal), nothing on stdout, and exactly one stderr line `error: ...` naming the problem.
func assertOneErrorLine(_ result: SignBERTProcess.Result, mentioning words: [String], _ context: String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(result.signaled, "killed by signal \(result.status): \(context) \(result.summary)", file: file, line: line)
    XCTAssertEqual(result.status, 1, "\(context) \(result.summary)", file: file, line: line)
    XCTAssertEqual(result.stdoutText, "", "\(context): nothing on stdout", file: file, line: line)
    let lines = result.stderrLines
    XCTAssertEqual(lines.count, 1, "\(context): exactly one stderr line, got \(lines)", file: file, line: line)
    XCTAssertTrue(result.stderrText.hasSuffix("\n"), "\(context): the line ends with a newline", file: file, line: line)
    guard let first = lines.first else { return }
    XCTAssertTrue(first.hasPrefix("error: "), "\(context): \(first)", file: file, line: line)
    for word in words {
        XCTAssertTrue(first.contains(word), "\(context): \"\(first)\" should mention \"\(word)\"", file: file, line: line)
    }
}

/// The binary itself: found beside the test bundle, answers --version and --help.
final class SignBERTBinaryTests: XCTestCase {
    func testBinaryAnswersVersionAndHelp() throws {
        let binary = try SignBERTProcess.binaryURL()
        print("signbert binary: \(binary.path) (arguments[0]: \(CommandLine.arguments[0]), Bundle.main: \(Bundle.main.bundleURL.path))")
        let version = try SignBERTProcess.run(["--version"])
        XCTAssertEqual(version.status, 0, version.summary)
        XCTAssertEqual(version.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
        let help = try SignBERTProcess.run(["--help"])
        XCTAssertEqual(help.status, 0, help.summary)
        for subcommand in ["serve", "predict", "inspect", "convert", "bench", "healthcheck"] {
            XCTAssertTrue(help.stdoutText.contains(subcommand), "--help lists \(subcommand)")
        }
    }
}
