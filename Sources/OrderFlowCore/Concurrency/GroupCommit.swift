import Synchronization

/// Turns many concurrent single requests into few transactions: while one batch commits, new requests queue up and
/// go together in the next. With `synchronous=FULL` the disk flush per commit is the cost, so sharing it is the
/// difference between hundreds and tens of thousands of durable writes per second.
public final class GroupCommit<Request: Sendable, Response: Sendable>: Sendable {
    public typealias Waiter = (request: Request, continuation: CheckedContinuation<Response, any Error>)

    private struct State {
        var pending: [Waiter] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let commit: @Sendable ([Request]) async throws -> [Response]

    /// `commit` must return one response per request, in order.
    public init(maximumBatch: Int = 2000, commit: @escaping @Sendable ([Request]) async throws -> [Response]) {
        self.maximumBatch = maximumBatch
        self.commit = commit
    }

    /// Queues `request` into the next batch and returns its response once that batch has committed.
    public func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let startDrain = state.withLock { state -> Bool in
                state.pending.append((request, continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain {
                Task { await self.drain() }
            }
        }
    }

    /// Requests waiting for the next batch (not counting the batch being committed).
    var queuedCount: Int { state.withLock { $0.pending.count } }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Waiter] in
                if state.pending.isEmpty {
                    state.draining = false
                    return []
                }
                let count = min(state.pending.count, maximumBatch)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            do {
                let responses = try await commit(batch.map(\.request))
                for (waiter, response) in zip(batch, responses) {
                    waiter.continuation.resume(returning: response)
                }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
