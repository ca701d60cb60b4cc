/// Jittered exponential backoff ("full jitter"): spreads retries of many workers instead of synchronising them.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .milliseconds(200), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The delay before retry number `attempt` (1-based): random in [0, min(cap, base·2^(attempt-1))].
    public func delay(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        let ceiling = min(cap, base * (1 << exponent))
        let ceilingMs = max(1, Int64(ceiling.components.seconds * 1000) + ceiling.components.attoseconds / 1_000_000_000_000_000)
        return .milliseconds(Int64.random(in: 0...ceilingMs))
    }
}
