import Foundation
import Synchronization

/// A wall clock that moves only when a test says so.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        current = Mutex(start)
    }

    /// The current fake time.
    var now: Date { current.withLock { $0 } }

    /// The closure providers take as their clock.
    var source: @Sendable () -> Date { { self.now } }

    /// Moves the clock forward.
    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
