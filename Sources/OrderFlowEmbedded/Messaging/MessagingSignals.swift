import Synchronization
import OrderFlowCore

/// The in-process wake-up signals of the embedded messaging: one per queue, one per stream, one for webhook deliveries.
/// Every queue, topic and stream value built by one `SQLiteMessaging` shares these, so a send through one value wakes a
/// receiver blocked in another.
final class MessagingSignals: Sendable {
    /// What a signal announces.
    enum Subject: Hashable, Sendable {
        /// A commit made messages of the queue visible.
        case queue(String)
        /// A commit appended records to the stream.
        case stream(String)
        /// A commit added webhook deliveries.
        case webhooks
    }

    private struct State {
        var signals: [Subject: ChangeSignal] = [:]
        var waiters: [Subject: Int] = [:]
    }

    private let state = Mutex(State())

    /// The signal of `subject`, created on first use.
    func signal(_ subject: Subject) -> ChangeSignal {
        state.withLock { Self.signal(subject, in: &$0) }
    }

    /// Waits on the signal of `subject` like `ChangeSignal.wait`, counted so tests can tell a waiter is really blocked.
    func wait(on subject: Subject, since seen: UInt64, timeout: Duration) async {
        let signal = state.withLock { state in
            state.waiters[subject, default: 0] += 1
            return Self.signal(subject, in: &state)
        }
        await signal.wait(since: seen, timeout: timeout)
        state.withLock { $0.waiters[subject, default: 1] -= 1 }
    }

    /// How many tasks are blocked waiting on `subject` right now.
    func waiting(on subject: Subject) -> Int {
        state.withLock { $0.waiters[subject] ?? 0 }
    }

    private static func signal(_ subject: Subject, in state: inout State) -> ChangeSignal {
        if let existing = state.signals[subject] { return existing }
        let created = ChangeSignal()
        state.signals[subject] = created
        return created
    }
}

