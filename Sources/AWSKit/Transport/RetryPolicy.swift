/// When and how long to wait before an AWS call is tried again.
///
/// Retried: any 5xx, the throttling and transient codes in `retryableErrorCodes`, timeouts and broken
/// connections. Never retried: every other 4xx (validation, `ConditionalCheckFailedException`,
/// `AccessDenied`…), because sending the same request again cannot change the answer.
/// Waits use "full jitter" (a uniform draw between zero and the exponential bound) so that many
/// clients throttled at the same moment spread their retries out instead of colliding again.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included; 1 disables retries.
    public var maximumAttempts: Int
    /// The delay bound before the first retry; it doubles for each further retry.
    public var baseDelay: Duration
    /// The largest delay bound.
    public var maximumDelay: Duration
    /// Error codes that mean "try again later" whatever their HTTP status.
    public var retryableErrorCodes: Set<String>

    /// Throttling and transient-failure codes of the services AWSKit talks to.
    public static let standardRetryableErrorCodes: Set<String> = [
        // Throttling, under the names the different services use.
        "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "ThrottledException",
        "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled", "SlowDown",
        // Kinesis reports per-shard and control-plane rate limits as this.
        "LimitExceededException",
        // Transient conditions that clear by themselves.
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "TransactionInProgressException",
        "InternalError", "InternalFailure", "ServiceUnavailable",
    ]

    /// The default: 3 attempts, 100 ms base, 20 s cap, the standard codes.
    public static let standard = RetryPolicy()

    /// A policy that never retries.
    public static let none = RetryPolicy(maximumAttempts: 1)

    /// Creates a policy; `maximumAttempts` below 1 is treated as 1.
    public init(
        maximumAttempts: Int = 3,
        baseDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(20),
        retryableErrorCodes: Set<String> = RetryPolicy.standardRetryableErrorCodes
    ) {
        self.maximumAttempts = max(maximumAttempts, 1)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.retryableErrorCodes = retryableErrorCodes
    }

    /// Whether a service error is worth retrying: any 5xx, or a retryable code under either of its names.
    public func isRetryable(_ error: AWSServiceError) -> Bool {
        if error.status >= 500 {
            return true
        }
        return retryableErrorCodes.contains(error.code) || error.errorType.map(retryableErrorCodes.contains) == true
    }

    /// Whether a transport failure is worth retrying: timeouts and connection failures are, others are not.
    public func isRetryable(_ kind: AWSTransportError.Kind) -> Bool {
        switch kind {
        case .timeout, .connection:
            true
        case .responseTooLarge, .other:
            false
        }
    }

    /// The upper bound of the delay before retry number `retry` (1-based): `min(maximumDelay, baseDelay·2^(retry-1))`.
    public func delayBound(beforeRetry retry: Int) -> Duration {
        let capNanoseconds = max(maximumDelay.saturatingNanoseconds, 0)
        let baseNanoseconds = max(baseDelay.saturatingNanoseconds, 0)
        let doublings = min(max(retry - 1, 0), 62)
        let (grown, overflow) = baseNanoseconds.multipliedReportingOverflow(by: Int64(1) << doublings)
        return .nanoseconds(overflow ? capNanoseconds : min(grown, capNanoseconds))
    }

    /// The delay before retry number `retry` (1-based), drawn uniformly from zero to `delayBound(beforeRetry:)`.
    public func delay(beforeRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let bound = delayBound(beforeRetry: retry).saturatingNanoseconds
        return .nanoseconds(Int64.random(in: 0...bound, using: &generator))
    }

    /// The delay before retry number `retry` (1-based), with system randomness.
    public func delay(beforeRetry retry: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, using: &generator)
    }
}
