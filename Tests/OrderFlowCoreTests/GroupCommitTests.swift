import Synchronization
import Testing
@testable import OrderFlowCore

@Suite("Group commit")
struct GroupCommitTests {
    /// Records every batch and answers each request; a batch holding a `failing` request fails as a whole.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let failing: Set<Int>

        init(failing: Set<Int> = []) { self.failing = failing }

        func commit(_ requests: [Int]) throws -> [String] {
            batches.withLock { $0.append(requests) }
            if requests.contains(where: failing.contains) { throw TestFailure(requests: requests) }
            return requests.map { "done-\($0)" }
        }
    }

    struct TestFailure: Error, Equatable { let requests: [Int] }

    @Test("every request gets its own response; requests that arrive while a batch commits go together in the next")
    func responsesAndBatching() async throws {
        let recorder = Recorder()
        let firstCommitEntered = AsyncStream<Void>.makeStream()
        let releaseFirst = AsyncStream<Void>.makeStream()
        let commits = Atomic<Int>(0)
        let group = GroupCommit<Int, String>(maximumBatch: 1000) { requests in
            if commits.add(1, ordering: .relaxed).newValue == 1 {
                firstCommitEntered.continuation.yield()
                for await _ in releaseFirst.stream { break }
            }
            return try recorder.commit(requests)
        }
        let first = Task { try await group.submit(0) }
        for await _ in firstCommitEntered.stream { break }
        // The first batch is committing: 1...200 queue up behind it.
        let rest = (1...200).map { index in Task { try await group.submit(index) } }
        await Self.waitUntilQueued(group, count: 200)
        releaseFirst.continuation.yield()
        #expect(try await first.value == "done-0")
        for (offset, task) in rest.enumerated() { #expect(try await task.value == "done-\(offset + 1)") }
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.first == [0])
        #expect(batches.count == 2, "the 200 queued requests share one commit: \(batches.map(\.count))")
        #expect(Set(batches.dropFirst().flatMap { $0 }) == Set(1...200))
    }

    @Test("a failing commit fails exactly its own batch's requests; the next batch still commits")
    func failureStaysInItsBatch() async throws {
        let recorder = Recorder(failing: [7])
        let group = GroupCommit<Int, String>(maximumBatch: 1) { try recorder.commit($0) }
        await #expect(throws: TestFailure(requests: [7])) { try await group.submit(7) }
        #expect(try await group.submit(8) == "done-8")
    }

    @Test("a batch never exceeds maximumBatch, and nothing is lost or answered twice under concurrent load")
    func boundedBatchesUnderLoad() async throws {
        let recorder = Recorder()
        let group = GroupCommit<Int, String>(maximumBatch: 16) { try recorder.commit($0) }
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { tasks in
            for index in 0..<2000 { tasks.addTask { (index, try await group.submit(index)) } }
            return try await tasks.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 2000 && answers.allSatisfy { $0.value == "done-\($0.key)" })
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.allSatisfy { (1...16).contains($0.count) })
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<2000))
    }

    /// Waits (yielding, not sleeping) until `count` requests are queued behind the batch in progress.
    static func waitUntilQueued(_ group: GroupCommit<Int, String>, count: Int) async {
        while group.queuedCount < count { await Task.yield() }
    }
}
