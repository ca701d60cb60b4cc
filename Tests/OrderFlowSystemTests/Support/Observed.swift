import Synchronization

/// A failure of the system under test's observable behaviour, with what the test saw.
struct SystemTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// State that changes while a child process or a load runs, and tasks waiting (each with a deadline) for it to satisfy
/// a condition. Waiting is woken by each change, never by sleeping and re-checking.
final class Observed<State: Sendable>: Sendable {
    private struct Waiter {
        let isSatisfied: @Sendable (State) -> Bool
        let continuation: CheckedContinuation<State, any Error>
        var deadline: Task<Void, Never>?
    }

    private enum Registration {
        case satisfied(State), cancelled, waiting
    }

    private struct Storage {
        var value: State
        var waiters: [Int: Waiter] = [:]
        /// Waits cancelled before their waiter was registered.
        var cancelled: Set<Int> = []
        var nextID = 0
    }

    private let storage: Mutex<Storage>

    init(_ initial: State) {
        storage = Mutex(Storage(value: initial))
    }

    /// The current state.
    var value: State { storage.withLock { $0.value } }

    /// Changes the state and wakes the waiters whose condition now holds; returns what `change` returns.
    @discardableResult
    func update<R>(_ change: (inout State) -> R) -> R {
        let (result, ready, snapshot) = storage.withLock { storage -> (R, [Waiter], State) in
            let result = change(&storage.value)
            var ready: [Waiter] = []
            for (id, waiter) in storage.waiters where waiter.isSatisfied(storage.value) {
                ready.append(waiter)
                storage.waiters[id] = nil
            }
            return (result, ready, storage.value)
        }
        for waiter in ready {
            waiter.deadline?.cancel()
            waiter.continuation.resume(returning: snapshot)
        }
        return result
    }

    /// The state once `condition` holds (at once when it already does); throws a failure naming `what` when it does not
    /// within `timeout`, and `CancellationError` when the waiting task is cancelled.
    func wait(for what: String, timeout: Duration, until condition: @escaping @Sendable (State) -> Bool) async throws -> State {
        let id = storage.withLock { storage in
            defer { storage.nextID += 1 }
            return storage.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let registration = storage.withLock { storage -> Registration in
                    if storage.cancelled.remove(id) != nil { return .cancelled }
                    if condition(storage.value) { return .satisfied(storage.value) }
                    storage.waiters[id] = Waiter(isSatisfied: condition, continuation: continuation)
                    return .waiting
                }
                switch registration {
                case .satisfied(let state):
                    continuation.resume(returning: state)
                    return
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                    return
                case .waiting:
                    break
                }
                let deadline = Task { [self] in
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { expire(id, SystemTestFailure("timed out after \(timeout) waiting for \(what)")) }
                }
                let stillWaiting = storage.withLock { storage in
                    storage.waiters[id]?.deadline = deadline
                    return storage.waiters[id] != nil
                }
                if !stillWaiting { deadline.cancel() }
            }
        } onCancel: {
            let registered = storage.withLock { storage in
                if storage.waiters[id] != nil { return true }
                storage.cancelled.insert(id)
                return false
            }
            if registered { expire(id, CancellationError()) }
        }
    }

    private func expire(_ id: Int, _ failure: any Error) {
        let waiter = storage.withLock { storage in
            storage.cancelled.remove(id)
            return storage.waiters.removeValue(forKey: id)
        }
        waiter?.deadline?.cancel()
        waiter?.continuation.resume(throwing: failure)
    }
}
