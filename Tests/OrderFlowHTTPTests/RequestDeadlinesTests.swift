import Synchronization
import Testing
@testable import OrderFlowHTTP

/// The one watcher that expires every request past its deadline (instead of a timer per request).
@Suite("Request deadlines")
struct RequestDeadlinesTests {
    @Test("an entry past its deadline is expired once; one removed in time never is", .timeLimit(.minutes(1)))
    func expiresOnlyWhatIsLate() async throws {
        let deadlines = RequestDeadlines(tick: .milliseconds(10))
        let expired = AsyncStream<String>.makeStream()
        let late = deadlines.register(deadline: .now + .milliseconds(30)) { expired.continuation.yield("late") }
        let inTime = deadlines.register(deadline: .now + .milliseconds(30)) { expired.continuation.yield("in time") }
        deadlines.remove(inTime)
        var iterator = expired.stream.makeAsyncIterator()
        #expect(await iterator.next() == "late")
        // The watcher stopped with nothing left to watch; a later registration starts it again.
        _ = deadlines.register(deadline: .now) { expired.continuation.yield("again") }
        #expect(await iterator.next() == "again")
        deadlines.remove(late)   // removing an expired entry is harmless
        #expect(deadlines.pending == 0)
    }
}
