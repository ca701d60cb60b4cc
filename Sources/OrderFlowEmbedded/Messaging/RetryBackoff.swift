/// Jittered exponential backoff: the delay after attempt n is drawn between half and all of `min(cap, base·2ⁿ⁻¹)`, so
/// retries of many failed deliveries spread out instead of arriving together.
public struct RetryBackoff: Sendable, Hashable {
    /// The delay bound after the first attempt.
    public var base: Duration
    /// The largest delay.
    public var cap: Duration

    /// A backoff from `base`, doubling up to `cap`.
    public init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The delay before the attempt after attempt number `attempt` (1-based), with jitter from `generator`.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let capMs = max(cap.wholeMilliseconds, 0)
        let baseMs = max(base.wholeMilliseconds, 0)
        let doublings = min(max(attempt - 1, 0), 40)
        let (grown, overflow) = baseMs.multipliedReportingOverflow(by: Int64(1) << doublings)
        let bound = overflow ? capMs : min(grown, capMs)
        let half = bound / 2
        return .milliseconds(half + Int64.random(in: 0...(bound - half), using: &generator))
    }

    /// The delay before the attempt after attempt number `attempt` (1-based), with system randomness.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }
}
