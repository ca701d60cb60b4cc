import AWSKit
import Foundation
import Synchronization

/// A signing clock that moves one second forward every time it is read, so consecutive attempts are dated apart.
final class SteppingClock: Sendable {
    private let current: Mutex<Date>

    init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    func now() -> Date {
        current.withLock { date in
            defer { date += 1 }
            return date
        }
    }
}

/// The `sleep` of a client under test: records each requested delay and returns at once.
final class SleepRecorder: Sendable {
    private let recorded = Mutex<[Duration]>([])

    var delays: [Duration] {
        recorded.withLock { $0 }
    }

    func sleep(_ delay: Duration) async throws {
        recorded.withLock { $0.append(delay) }
    }
}

/// Credentials that change on every request for them, as rotating temporary credentials would: `AKIDTEST1`, `AKIDTEST2`, …
final class RotatingCredentialProvider: AWSCredentialProvider {
    private let served = Mutex(0)

    var name: String { "rotating test credentials" }

    func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        let number = served.withLock { count in
            count += 1
            return count
        }
        return .found(AWSCredentials(accessKeyID: "AKIDTEST\(number)", secretAccessKey: "secret-\(number)"))
    }
}
