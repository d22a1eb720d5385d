import InferenceService
import XCTest

/// The memory-holding defaults derived from a container's memory limit.
final class ResourceBudgetTests: XCTestCase {
    let clip = 64 * 81 * 4  // one queued clip of the default architecture, float32

    func testWithoutALimitTheDefaultsAreTheUnlimitedOnes() {
        let budget = ResourceBudget(memoryLimit: nil, bytesPerQueuedClip: clip, maxBatchSize: 32)
        XCTAssertEqual(budget.maxBodyBytes, 32 * 1024 * 1024)
        XCTAssertEqual(budget.bodyBudgetBytes, 1024 * 1024 * 1024)
        XCTAssertEqual(budget.maxQueuedClips, 256)
        XCTAssertEqual(budget.maxConnections, 1024)
    }

    func testA256MiBContainerKeepsEveryShareInsideItsLimit() {
        let limit = 256 * 1024 * 1024
        let budget = ResourceBudget(memoryLimit: limit, bytesPerQueuedClip: clip, maxBatchSize: 32)
        XCTAssertEqual(budget.maxBodyBytes, 16 * 1024 * 1024)
        XCTAssertEqual(budget.bodyBudgetBytes, 64 * 1024 * 1024)
        XCTAssertEqual(budget.maxQueuedClips, 256, "256 clips of 20 KiB fit easily in an eighth")
        XCTAssertEqual(budget.maxConnections, 1024)
        let held = budget.bodyBudgetBytes + budget.maxQueuedClips * clip + budget.maxConnections * 64 * 1024
        XCTAssertLessThanOrEqual(held, limit * 5 / 8, "bodies, queue and connections together stay within 5/8 of the limit")
    }

    func testASmallLimitAndBigClipsShrinkTheQueueAndConnectionsButKeepOneBatch() {
        let limit = 64 * 1024 * 1024
        let bigClip = 1024 * 1024  // e.g. a long-clip model
        let budget = ResourceBudget(memoryLimit: limit, bytesPerQueuedClip: bigClip, maxBatchSize: 4)
        XCTAssertEqual(budget.maxQueuedClips, 8)
        XCTAssertEqual(budget.maxConnections, 256)
        XCTAssertEqual(budget.maxBodyBytes, 4 * 1024 * 1024)
        let tiny = ResourceBudget(memoryLimit: 8 * 1024 * 1024, bytesPerQueuedClip: bigClip, maxBatchSize: 4)
        XCTAssertEqual(tiny.maxQueuedClips, 4, "never less than one batch")
        XCTAssertEqual(tiny.maxConnections, 64)
        XCTAssertEqual(tiny.maxBodyBytes, 1024 * 1024)
        XCTAssertGreaterThanOrEqual(tiny.bodyBudgetBytes, tiny.maxBodyBytes, "one largest body always fits")
    }

    func testCgroupFilesParse() {
        XCTAssertNil(ResourceBudget.parseMemoryLimit("max\n"))
        XCTAssertNil(ResourceBudget.parseMemoryLimit("9223372036854771712\n"), "v1's no-limit value")
        XCTAssertEqual(ResourceBudget.parseMemoryLimit("268435456\n"), 268_435_456)
    }
}
