import Foundation
import Synchronization

/// The real wall clock.
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// A clock that only moves when told to, for tests of time-dependent rules (visibility timeouts, retention).
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_795_000_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Timestamp {
        current.withLock { $0 }
    }

    /// Moves the clock forward.
    public func advance(milliseconds: Int64) {
        current.withLock { $0 = $0.adding(milliseconds: milliseconds) }
    }
}
