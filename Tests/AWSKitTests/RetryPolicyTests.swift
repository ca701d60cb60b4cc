import AWSKit
import Testing

/// A seeded generator (SplitMix64) so that jitter draws are reproducible.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy()

    @Test func defaultsAreThreeAttemptsFromOneHundredMillisecondsCappedAtTwentySeconds() {
        #expect(policy.maximumAttempts == 3)
        #expect(policy.baseDelay == .milliseconds(100))
        #expect(policy.maximumDelay == .seconds(20))
        #expect(RetryPolicy(maximumAttempts: 0).maximumAttempts == 1)
        #expect(RetryPolicy.none.maximumAttempts == 1)
    }

    @Test func theBoundDoublesUpToTheCap() {
        #expect((1...4).map(policy.delayBound(beforeRetry:)) == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
        ])
        #expect(policy.delayBound(beforeRetry: 8) == .milliseconds(12_800))
        #expect(policy.delayBound(beforeRetry: 9) == .seconds(20))
        // Far past the point where base·2ⁿ overflows, the cap still holds.
        #expect(policy.delayBound(beforeRetry: 500) == .seconds(20))
        #expect(policy.delayBound(beforeRetry: 0) == .milliseconds(100))
    }

    @Test func delaysAreFullJitterWithinTheBound() {
        var generator = SeededGenerator(state: 42)
        for retry in 1...10 {
            let bound = policy.delayBound(beforeRetry: retry)
            let delays = (0..<500).map { _ in policy.delay(beforeRetry: retry, using: &generator) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= bound })
            // Full jitter spreads over the whole range, not just its upper half.
            #expect(delays.contains { $0 < bound / 4 })
            #expect(delays.contains { $0 > bound * 3 / 4 })
        }
    }

    @Test(arguments: RetryPolicy.standardRetryableErrorCodes.sorted())
    func listedCodesAreRetryableAtAnyStatus(code: String) {
        #expect(policy.isRetryable(AWSServiceError(service: .dynamoDB, operation: "PutItem", status: 400, code: code)))
    }

    @Test func theListIsTheAgreedOne() {
        #expect(RetryPolicy.standardRetryableErrorCodes == [
            "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "ThrottledException",
            "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled", "SlowDown", "RequestTimeout",
            "RequestTimeoutException", "PriorRequestNotComplete", "TransactionInProgressException",
            "LimitExceededException", "InternalError", "InternalFailure", "ServiceUnavailable",
        ])
    }

    @Test func anyServerErrorIsRetryableAndOtherClientErrorsAreNot() {
        func error(_ status: Int, _ code: String, type: String? = nil) -> AWSServiceError {
            AWSServiceError(service: .sqs, operation: "SendMessage", status: status, code: code, errorType: type)
        }
        #expect(policy.isRetryable(error(500, "SomethingNew")))
        #expect(policy.isRetryable(error(503, "ServiceUnavailable")))
        #expect(policy.isRetryable(error(504, "GatewayTimeout")))
        #expect(!policy.isRetryable(error(400, "ValidationException")))
        #expect(!policy.isRetryable(error(400, "ConditionalCheckFailedException")))
        #expect(!policy.isRetryable(error(403, "AccessDenied")))
        #expect(!policy.isRetryable(error(404, "NoSuchKey")))
        #expect(!policy.isRetryable(error(400, "AWS.SimpleQueueService.NonExistentQueue", type: "QueueDoesNotExist")))
        // A query-compatible service may name throttling only in its JSON type.
        #expect(policy.isRetryable(error(400, "AWS.SimpleQueueService.Legacy", type: "ThrottlingException")))
    }

    @Test func transportFailuresAreRetryableOnlyWhenTransient() {
        #expect(policy.isRetryable(.timeout))
        #expect(policy.isRetryable(.connection))
        #expect(!policy.isRetryable(.responseTooLarge))
        #expect(!policy.isRetryable(.other))
    }

    @Test func aCustomCodeListReplacesTheStandardOne() {
        let custom = RetryPolicy(retryableErrorCodes: ["OrderBusy"])
        #expect(custom.isRetryable(AWSServiceError(service: .dynamoDB, operation: "PutItem", status: 409, code: "OrderBusy")))
        #expect(!custom.isRetryable(AWSServiceError(service: .dynamoDB, operation: "PutItem", status: 400, code: "ThrottlingException")))
    }
}

@Suite("Request counter")
struct RequestCounterTests {
    @Test func countsAttemptsAndRetriesPerServiceAndOperation() {
        let counter = AWSRequestCounter()
        counter.recordAttempt(service: .dynamoDB, operation: "PutItem", isRetry: false)
        counter.recordAttempt(service: .dynamoDB, operation: "PutItem", isRetry: true)
        counter.recordAttempt(service: .sqs, operation: "SendMessage", isRetry: false)
        #expect(counter.snapshot() == [
            .init(service: "DynamoDB", operation: "PutItem"): .init(attempts: 2, retries: 1),
            .init(service: "SQS", operation: "SendMessage"): .init(attempts: 1, retries: 0),
        ])
        #expect(counter.counts(service: .s3, operation: "GetObject") == .init())
        #expect(counter.total() == .init(attempts: 3, retries: 1))
        #expect(counter.snapshot().keys.sorted().map(\.description) == ["DynamoDB.PutItem", "SQS.SendMessage"])
    }

    @Test func concurrentRecordingLosesNothing() async {
        let counter = AWSRequestCounter()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<1000 {
                        counter.recordAttempt(service: task.isMultiple(of: 2) ? .sns : .kinesis, operation: "Op", isRetry: index % 4 == 0)
                    }
                }
            }
        }
        #expect(counter.counts(service: .sns, operation: "Op") == .init(attempts: 4000, retries: 1000))
        #expect(counter.counts(service: .kinesis, operation: "Op") == .init(attempts: 4000, retries: 1000))
    }
}
