/// Jittered exponential backoff, the one every retry in OrderFlow uses: the delay after attempt n is drawn from the
/// bound `min(cap, base·2ⁿ⁻¹)`, so retries of many failed deliveries or workers spread out instead of arriving together.
public struct RetryBackoff: Sendable, Hashable {
    /// How much of the bound the random draw covers.
    public enum Jitter: Sendable, Hashable {
        /// Between half and all of the bound (webhook deliveries: a retry never comes much sooner than planned).
        case equal
        /// Between zero and the bound (workers and messages: the widest spread).
        case full
    }

    /// The delay bound after the first attempt.
    public var base: Duration
    /// The largest delay.
    public var cap: Duration
    public var jitter: Jitter

    /// A backoff from `base`, doubling up to `cap`.
    public init(base: Duration, cap: Duration, jitter: Jitter = .equal) {
        self.base = base
        self.cap = cap
        self.jitter = jitter
    }

    /// The delay before the attempt after attempt number `attempt` (1-based), with jitter from `generator`.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let capMs = max(cap.wholeMilliseconds, 0)
        let baseMs = max(base.wholeMilliseconds, 0)
        let doublings = min(max(attempt - 1, 0), 40)
        let (grown, overflow) = baseMs.multipliedReportingOverflow(by: Int64(1) << doublings)
        let bound = overflow ? capMs : min(grown, capMs)
        let lowest = jitter == .equal ? bound / 2 : 0
        return .milliseconds(lowest + Int64.random(in: 0...(bound - lowest), using: &generator))
    }

    /// The delay before the attempt after attempt number `attempt` (1-based), with system randomness.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down (sub-millisecond precision is meaningless for stored times and delays).
    public var wholeMilliseconds: Int64 {
        let parts = components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }
}
