import Logging
import OrderFlowCore
import ServiceLifecycle

/// The loop every background worker runs: do a round of work, wait for more when idle, back off on errors, and on
/// graceful shutdown finish the round in hand before returning (no message is abandoned half-processed).
enum WorkerLoop {
    /// What one round did.
    enum Round {
        /// Did work; go again at once.
        case progressed
        /// Nothing to do; wait for a signal.
        case idle
    }

    /// Runs `round` until graceful shutdown or cancellation. `waitForWork` is cancelled on shutdown; `round` is not.
    static func run(
        name: String,
        logger: Logger,
        backoff: RetryBackoff = RetryBackoff(base: .milliseconds(200), cap: .seconds(30), jitter: .full),
        round: @escaping @Sendable () async throws -> Round,
        waitForWork: @escaping @Sendable () async -> Void
    ) async {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let result = try await round()
                failures = 0
                if result == .idle {
                    try? await cancelWhenGracefulShutdown { await waitForWork() }
                }
            } catch is CancellationError where Task.isShuttingDownGracefully || Task.isCancelled {
                // The long-poll wait was cancelled by the shutdown: nothing was in hand.
                break
            } catch {
                failures += 1
                let delay = backoff.delay(afterAttempt: failures)
                logger.error("\(name) round failed; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)", "retryInMs": "\(delay.wholeMilliseconds)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        }
        logger.debug("\(name) stopped")
    }
}

extension RetryBackoff {
    /// A queue message whose handling failed in a way that may pass: visible again after 1 s, doubling up to 60 s.
    static let message = RetryBackoff(base: .seconds(1), cap: .seconds(60), jitter: .full)
}
