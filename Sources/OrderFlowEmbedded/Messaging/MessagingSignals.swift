import Synchronization

/// The in-process wake-up signals of the embedded messaging: one per queue, one per stream, one for webhook deliveries.
/// Every queue, topic and stream value built by one `SQLiteMessaging` shares these, so a send through one value wakes a
/// receiver blocked in another.
final class MessagingSignals: Sendable {
    private struct State {
        var signals: [String: ChangeSignal] = [:]
        var waiters: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// The signal notified after a commit that made messages of `queue` visible.
    func queue(_ queue: String) -> ChangeSignal { signal(for: "queue:" + queue) }

    /// The signal notified after a commit that appended records to `stream`.
    func stream(_ stream: String) -> ChangeSignal { signal(for: "stream:" + stream) }

    /// The signal notified after a commit that added webhook deliveries.
    var webhooks: ChangeSignal { signal(for: "webhooks") }

    /// Waits on the signal of `queue`, counted so tests can tell a receiver is really blocked.
    func waitOnQueue(_ queue: String, since seen: UInt64, timeout: Duration) async {
        let key = "queue:" + queue
        let signal = state.withLock { state in
            state.waiters[key, default: 0] += 1
            return Self.signal(for: key, in: &state)
        }
        await signal.wait(since: seen, timeout: timeout)
        state.withLock { $0.waiters[key, default: 1] -= 1 }
    }

    /// How many receivers are blocked in a long poll of `queue` right now.
    func waitingReceivers(of queue: String) -> Int {
        state.withLock { $0.waiters["queue:" + queue] ?? 0 }
    }

    private func signal(for key: String) -> ChangeSignal {
        state.withLock { Self.signal(for: key, in: &$0) }
    }

    private static func signal(for key: String, in state: inout State) -> ChangeSignal {
        if let existing = state.signals[key] { return existing }
        let created = ChangeSignal()
        state.signals[key] = created
        return created
    }
}

extension Duration {
    /// Whole milliseconds, rounded down (sub-millisecond precision is meaningless for the stored times).
    var wholeMilliseconds: Int64 {
        let parts = components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }
}
