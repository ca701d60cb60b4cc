import Synchronization

/// Counts jobs in progress whose output a later step would rather take in one round than piecemeal: the AWS upload
/// worker marks the ingestion of a batch of upload notifications, and the outbox relay waits for it to end before it
/// relays, so the batch's files share one relay round (and, downstream, one review round and one analytics
/// transaction) instead of one round per file.
public final class WorkInProgress: Sendable {
    private let running = Mutex(0)
    private let changes = ChangeSignal()

    public init() {}

    /// Jobs running now.
    public var count: Int { running.withLock { $0 } }

    /// Runs `body` as one job.
    public func during<Result: Sendable>(_ body: () async throws -> Result) async rethrows -> Result {
        running.withLock { $0 += 1 }
        defer {
            running.withLock { $0 -= 1 }
            changes.notify()
        }
        return try await body()
    }

    /// Returns once no job is running, after `timeout`, or when the task is cancelled, whichever is first.
    public func waitUntilIdle(timeout: Duration) async {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !Task.isCancelled {
            let seen = changes.generation
            if count == 0 { return }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return }
            await changes.wait(since: seen, timeout: remaining)
        }
    }
}
