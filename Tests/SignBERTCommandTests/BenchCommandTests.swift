import Foundation
import XCTest

/// `signbert bench` run to the end on the bundled model: every cell reports its median and its 99th percentile,
/// in JSON and in the table.
final class BenchCommandTests: XCTestCase {
    private func bench(threads: Int = 1, _ extra: [String]) throws -> SignBERTProcess.Result {
        try SignBERTProcess.run(["bench", "--model", "models/demo-gestures", "--batches", "1,2", "--threads", "\(threads)",
                                 "--seconds", "0.2"] + extra, currentDirectory: PredictPoseCommandTests.repositoryRoot)
    }

    /// The cells of a `bench --json` run that succeeded.
    private func cells(threads: Int = 1) throws -> [[String: Any]] {
        let result = try bench(threads: threads, ["--json"])
        XCTAssertEqual(result.status, 0, result.summary)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
        return try XCTUnwrap(document["results"] as? [[String: Any]], result.summary)
    }

    func testEachCellReportsItsMedianAndP99() throws {
        let cells = try cells()
        XCTAssertEqual(cells.compactMap { $0["batch"] as? Int }, [1, 2])
        for cell in cells {
            let median = try XCTUnwrap(cell["median_ms"] as? Double), p99 = try XCTUnwrap(cell["p99_ms"] as? Double)
            let runs = try XCTUnwrap(cell["runs"] as? Int)
            XCTAssertGreaterThanOrEqual(runs, 5, "\(cell)")
            XCTAssertGreaterThan(median, 0, "\(cell)")
            XCTAssertGreaterThanOrEqual(p99, median, "the 99th percentile is at least the median: \(cell)")
            XCTAssertEqual(cell["strategy"] as? String, "single", "one thread computes each batch alone: \(cell)")
        }
    }

    func testTwoThreadsNameHowTheyShareABatch() throws {
        let cells = try cells(threads: 2)
        XCTAssertEqual(cells.map { $0["strategy"] as? String }, ["split", "shard"], "\(cells)")
    }

    func testTheTableHasAP99Column() throws {
        let result = try bench([])
        XCTAssertEqual(result.status, 0, result.summary)
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        let header = try XCTUnwrap(lines.first { $0.hasPrefix("threads batch") }, result.summary)
        XCTAssertTrue(header.contains("median ms") && header.contains("p99 ms"), header)
        // Each row: threads, batch, median, p99, ...; the p99 is at least the median.
        let rows = lines.drop { !$0.hasPrefix("threads batch") }.dropFirst().map { $0.split(separator: " ") }
        XCTAssertEqual(rows.count, 2, result.stdoutText)
        for row in rows {
            let median = try XCTUnwrap(Double(row[2])), p99 = try XCTUnwrap(Double(row[3]))
            XCTAssertGreaterThanOrEqual(p99, median, row.joined(separator: " "))
        }
    }

    /// `--peak` measures the kernels' multiply-add ceiling per thread count and holds every cell against it: the
    /// share in JSON is the cell's GFLOP/s over that peak, and in the table a "% of peak" column and a peak line.
    func testPeakGivesTheCeilingAndEachCellsShare() throws {
        let result = try bench(threads: 2, ["--peak", "--json"])
        XCTAssertEqual(result.status, 0, result.summary)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
        let peaks = try XCTUnwrap(document["peak_gflops"] as? [String: Double], result.stdoutText)
        let peak = try XCTUnwrap(peaks["2"], "\(peaks)")
        XCTAssertTrue(peak.isFinite && peak > 0, "\(peaks)")
        let cells = try XCTUnwrap(document["results"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 2)
        for cell in cells {
            let gflops = try XCTUnwrap(cell["gflops"] as? Double), share = try XCTUnwrap(cell["peak_share"] as? Double)
            XCTAssertEqual(share, gflops / peak, accuracy: 1e-9 * max(1, share), "\(cell)")
        }
        let table = try bench(["--peak"])
        XCTAssertEqual(table.status, 0, table.summary)
        XCTAssertTrue(table.stdoutText.contains("multiply-add peak of the "), table.stdoutText)
        let header = try XCTUnwrap(table.stdoutText.split(separator: "\n").first { $0.hasPrefix("threads batch") })
        XCTAssertTrue(header.hasSuffix("% of peak"), String(header))
        // Without --peak, neither the line nor the column.
        let plain = try bench([])
        XCTAssertFalse(plain.stdoutText.contains("peak"), plain.stdoutText)
    }
}
