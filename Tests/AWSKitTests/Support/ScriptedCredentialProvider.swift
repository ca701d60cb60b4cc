import AWSKit
import Synchronization

/// A provider that answers from a script and counts how often it was asked.
///
/// Each call takes the next outcome (the last one repeats). A call whose number is in `heldCalls`
/// waits until `release()`, so a test can keep a fetch in flight while other callers arrive.
final class ScriptedCredentialProvider: AWSCredentialProvider {
    private struct State {
        var outcomes: [Result<AWSCredentialResolution, AWSCredentialError>]
        var calls = 0
        var released = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>
    private let heldCalls: Set<Int>

    init(_ outcomes: [Result<AWSCredentialResolution, AWSCredentialError>], heldCalls: Set<Int> = []) {
        state = Mutex(State(outcomes: outcomes))
        self.heldCalls = heldCalls
    }

    var name: String { "scripted" }

    /// How many times `resolve` was called.
    var calls: Int { state.withLock { $0.calls } }

    func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        let (call, outcome) = state.withLock { state in
            state.calls += 1
            let outcome = state.outcomes.count > 1 ? state.outcomes.removeFirst() : state.outcomes[0]
            return (state.calls, outcome)
        }
        if heldCalls.contains(call) {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.released { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        return try outcome.get()
    }

    /// Lets every held call (and any later one) continue.
    func release() {
        let waiting = state.withLock { state in
            state.released = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting {
            continuation.resume()
        }
    }
}
