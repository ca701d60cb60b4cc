import Synchronization

/// Counts the HTTP requests sent to AWS by service and operation: every attempt, and separately the retries.
///
/// AWS bills per request, retries included, so attempts are the cost metric; retries show throttling.
/// One counter may be shared by several clients.
public final class AWSRequestCounter: Sendable {
    /// A service and one of its operations.
    public struct Key: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The service ID, e.g. `DynamoDB`.
        public let service: String
        /// The operation, e.g. `PutItem`.
        public let operation: String

        /// Creates a key.
        public init(service: String, operation: String) {
            self.service = service
            self.operation = operation
        }

        /// Orders by service, then operation, for stable reports.
        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.service, lhs.operation) < (rhs.service, rhs.operation)
        }

        /// `Service.Operation`.
        public var description: String { "\(service).\(operation)" }
    }

    /// The counts for one key.
    public struct Counts: Sendable, Hashable {
        /// HTTP requests sent, first attempts and retries alike.
        public var attempts: Int
        /// Of those, the ones that repeated an earlier failed attempt.
        public var retries: Int

        /// Creates counts.
        public init(attempts: Int = 0, retries: Int = 0) {
            self.attempts = attempts
            self.retries = retries
        }
    }

    private let counts = Mutex<[Key: Counts]>([:])
    private let errorCounts = Mutex<[Key: [String: Int]]>([:])

    /// Creates a counter at zero.
    public init() {}

    /// Records one request sent; `isRetry` when it repeats an earlier attempt of the same call.
    public func recordAttempt(service: AWSService, operation: String, isRetry: Bool) {
        let key = Key(service: service.id, operation: operation)
        counts.withLock { counts in
            counts[key, default: Counts()].attempts += 1
            if isRetry {
                counts[key, default: Counts()].retries += 1
            }
        }
    }

    /// Records an error response (retried or final) by its code, e.g. `TransactionCanceledException`.
    public func recordError(service: AWSService, operation: String, code: String) {
        let key = Key(service: service.id, operation: operation)
        errorCounts.withLock { $0[key, default: [:]][code, default: 0] += 1 }
    }

    /// The error responses so far by operation and code (operations without one are left out).
    public func errorSnapshot() -> [Key: [String: Int]] {
        errorCounts.withLock { $0 }
    }

    /// The error responses of one operation by code.
    public func errors(service: AWSService, operation: String) -> [String: Int] {
        let key = Key(service: service.id, operation: operation)
        return errorCounts.withLock { $0[key] ?? [:] }
    }

    /// A copy of every count so far.
    public func snapshot() -> [Key: Counts] {
        counts.withLock { $0 }
    }

    /// The counts of one operation (zero if never called).
    public func counts(service: AWSService, operation: String) -> Counts {
        let key = Key(service: service.id, operation: operation)
        return counts.withLock { $0[key] ?? Counts() }
    }

    /// The sums over every service and operation.
    public func total() -> Counts {
        counts.withLock { counts in
            counts.values.reduce(into: Counts()) { sum, counts in
                sum.attempts += counts.attempts
                sum.retries += counts.retries
            }
        }
    }
}
