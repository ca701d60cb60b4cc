import Synchronization
import Testing
@testable import OrderFlowCore

/// The count of jobs in progress the AWS outbox relay waits on, so an upload batch's files share one relay round.
@Suite("Work in progress")
struct WorkInProgressTests {
    /// A job that runs until `finish()`; `started` returns once it runs.
    final class HeldJob: Sendable {
        let gate = AsyncStream<Void>.makeStream()
        let begun = AsyncStream<Void>.makeStream()

        func run(in work: WorkInProgress) async {
            await work.during {
                begun.continuation.yield()
                for await _ in gate.stream { break }
            }
        }
        func started() async { for await _ in begun.stream { break } }
        func finish() { gate.continuation.yield() }
    }

    @Test("nothing running: waitUntilIdle returns at once", .timeLimit(.minutes(1)))
    func idleReturnsAtOnce() async {
        let work = WorkInProgress()
        await work.waitUntilIdle(timeout: .seconds(3600))
        #expect(work.count == 0)
        #expect(await work.during { 7 } == 7)
        #expect(work.count == 0)
    }

    @Test("a waiter returns only after every running job ended", .timeLimit(.minutes(1)))
    func waiterReturnsAfterTheLastJob() async {
        let work = WorkInProgress()
        let first = HeldJob(), second = HeldJob()
        let jobs = Task { await first.run(in: work) }
        let jobs2 = Task { await second.run(in: work) }
        await first.started()
        await second.started()
        #expect(work.count == 2)

        let finished = Mutex(0)
        let waiting = AsyncStream<Void>.makeStream()
        let waiter = Task {
            waiting.continuation.yield()
            await work.waitUntilIdle(timeout: .seconds(3600))
            return finished.withLock { $0 }
        }
        for await _ in waiting.stream { break }
        finished.withLock { $0 = 1 }
        first.finish()
        await jobs.value
        #expect(work.count == 1)
        finished.withLock { $0 = 2 }
        second.finish()
        await jobs2.value
        // The waiter saw both jobs end: it cannot have returned while the second one ran.
        #expect(await waiter.value == 2)
        #expect(work.count == 0)
    }

    @Test("a job that does not end holds a waiter only until its timeout", .timeLimit(.minutes(1)))
    func timeoutBoundsTheWait() async {
        let work = WorkInProgress()
        let job = HeldJob()
        let running = Task { await job.run(in: work) }
        await job.started()
        let start = ContinuousClock.now
        await work.waitUntilIdle(timeout: .milliseconds(100))
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        #expect(work.count == 1)
        job.finish()
        await running.value
    }

    @Test("a job that throws is no longer counted", .timeLimit(.minutes(1)))
    func throwingJobEnds() async {
        struct Failure: Error {}
        let work = WorkInProgress()
        await #expect(throws: Failure.self) { try await work.during { throw Failure() } }
        #expect(work.count == 0)
        await work.waitUntilIdle(timeout: .seconds(3600))
    }
}
