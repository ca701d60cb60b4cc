import AWSKit
import MotoTestSupport
import Foundation
import Testing

@Suite("AWSClient retries, re-signing and counting (against a scripted local server)")
struct AWSClientRetryTests {
    static let policy = RetryPolicy(maximumAttempts: 4, baseDelay: .milliseconds(100), maximumDelay: .seconds(20))

    @Test func serviceUnavailableIsRetriedWithAFreshSignatureEachAttempt() async throws {
        try await ScriptedClientFixture.run(retryPolicy: Self.policy, script: { $0 <= 2 ? .respond(status: 503) : okJSON }) { fixture in
            let output = try await fixture.client.json(.dynamoDB, operation: "ListTables", input: NoInput(), as: TableNames.self)
            #expect(output == TableNames(TableNames: ["orders"]))

            let requests = fixture.server.requests
            #expect(requests.count == 3)
            // The stepping clock is read once per attempt, so each attempt is dated one second later…
            #expect(requests.map { $0.headers["x-amz-date"] } == ["20270115T080000Z", "20270115T080001Z", "20270115T080002Z"])
            // …and signed with the credentials current at that attempt.
            for (index, request) in requests.enumerated() {
                let authorization = request.headers["authorization"] ?? ""
                #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDTEST\(index + 1)/20270115/us-east-1/dynamodb/aws4_request"))
                #expect(request.headers["x-amz-target"] == "DynamoDB_20120810.ListTables")
            }
            #expect(Set(requests.compactMap { $0.headers["authorization"] }).count == 3)

            let delays = fixture.sleeper.delays
            #expect(delays.count == 2)
            for (index, delay) in delays.enumerated() {
                #expect(delay >= .zero && delay <= Self.policy.delayBound(beforeRetry: index + 1))
            }
            #expect(fixture.counter.counts(service: .dynamoDB, operation: "ListTables") == .init(attempts: 3, retries: 2))
        }
    }

    @Test func withUnchangedCredentialsTheAdvancedClockAloneChangesTheSignature() async throws {
        let credentials = staticCredentials(accessKeyID: "AKIDSTATIC", secret: "static-secret")
        try await ScriptedClientFixture.run(
            retryPolicy: Self.policy, credentials: credentials, script: { $0 == 1 ? .respond(status: 500) : okJSON }
        ) { fixture in
            _ = try await fixture.client.json(.dynamoDB, operation: "ListTables", input: NoInput(), as: TableNames.self)
            let requests = fixture.server.requests
            #expect(requests.count == 2)
            #expect(requests.map { $0.headers["x-amz-date"] } == ["20270115T080000Z", "20270115T080001Z"])
            let authorizations = requests.compactMap { $0.headers["authorization"] }
            #expect(authorizations.count == 2)
            #expect(authorizations.allSatisfy { $0.contains("Credential=AKIDSTATIC/20270115/") && $0.contains("x-amz-date") })
            #expect(authorizations[0] != authorizations[1])
            // The body and every other signed header are the same, so only the date can account for the difference.
            #expect(requests[0].body == requests[1].body)
            #expect(requests[0].headers["x-amz-target"] == requests[1].headers["x-amz-target"])
        }
    }

    @Test(arguments: RetryPolicy.standardRetryableErrorCodes.sorted())
    func throttlingAndTransientCodesAreRetried(code: String) async throws {
        let error = ScriptedHTTPServer.Action.respond(
            status: 400, headers: ["content-type": "application/x-amz-json-1.0"],
            body: #"{"__type":"com.amazonaws.dynamodb.v20120810#\#(code)","message":"slow down"}"#
        )
        try await ScriptedClientFixture.run(retryPolicy: Self.policy, script: { $0 == 1 ? error : okJSON }) { fixture in
            _ = try await fixture.client.json(.dynamoDB, operation: "PutItem", input: NoInput(), as: TableNames.self)
            #expect(fixture.server.requests.count == 2)
            #expect(fixture.counter.counts(service: .dynamoDB, operation: "PutItem") == .init(attempts: 2, retries: 1))
        }
    }

    @Test func sqsThrottlingNamedOnlyInTheQueryErrorHeaderIsRetried() async throws {
        let throttled = ScriptedHTTPServer.Action.respond(
            status: 400, headers: ["x-amzn-query-error": "RequestThrottled;Sender"],
            body: #"{"__type":"com.amazonaws.sqs#OverLimit","message":"throttled"}"#
        )
        try await ScriptedClientFixture.run(retryPolicy: Self.policy, script: { $0 == 1 ? throttled : okJSON }) { fixture in
            _ = try await fixture.client.json(.sqs, operation: "SendMessage", input: NoInput(), as: TableNames.self)
            #expect(fixture.server.requests.count == 2)
            #expect(fixture.server.requests.first?.headers["x-amz-target"] == "AmazonSQS.SendMessage")
        }
    }

    static let clientErrors: [(status: Int, body: String, code: String)] = [
        (400, #"{"__type":"com.amazon.coral.validate#ValidationException","message":"bad key"}"#, "ValidationException"),
        (400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"no"}"#,
         "ConditionalCheckFailedException"),
        (403, #"{"__type":"AccessDeniedException","message":"not allowed"}"#, "AccessDeniedException"),
        (400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"}"#, "ResourceNotFoundException"),
        (403, "<ErrorResponse><Error><Code>AccessDenied</Code></Error><RequestId>r</RequestId></ErrorResponse>", "AccessDenied"),
        (429, "", "TooManyRequests"),
    ]

    @Test(arguments: clientErrors)
    func otherClientErrorsAreNotRetried(status: Int, body: String, code: String) async throws {
        try await ScriptedClientFixture.run(retryPolicy: Self.policy, script: { _ in .respond(status: status, body: body) }) { fixture in
            let error = await #expect(throws: AWSClientError.self) {
                try await fixture.client.json(.dynamoDB, operation: "PutItem", input: NoInput(), as: TableNames.self)
            }
            #expect(error?.serviceError?.code == code)
            #expect(error?.serviceError?.status == status)
            #expect(fixture.server.requests.count == 1)
            #expect(fixture.sleeper.delays.isEmpty)
            #expect(fixture.counter.counts(service: .dynamoDB, operation: "PutItem") == .init(attempts: 1, retries: 0))
        }
    }

    @Test func retriesStopAtTheAttemptLimitWithTheLastError() async throws {
        let badGateway = ScriptedHTTPServer.Action.respond(status: 502, headers: ["content-type": "text/html"], body: "<html><body>Bad Gateway</body></html>")
        try await ScriptedClientFixture.run(retryPolicy: Self.policy, script: { _ in badGateway }) { fixture in
            let error = await #expect(throws: AWSClientError.self) {
                try await fixture.client.json(.kinesis, operation: "PutRecords", input: NoInput(), as: TableNames.self)
            }
            #expect(error?.serviceError?.code == "BadGateway")
            #expect(error?.serviceError?.status == 502)
            #expect(fixture.server.requests.count == 4)
            #expect(fixture.server.requests.first?.headers["content-type"] == "application/x-amz-json-1.1")
            let delays = fixture.sleeper.delays
            #expect(delays.count == 3)
            for (index, delay) in delays.enumerated() {
                #expect(delay >= .zero && delay <= Self.policy.delayBound(beforeRetry: index + 1))
            }
            #expect(fixture.counter.total() == .init(attempts: 4, retries: 3))
        }
    }

    @Test func aResetConnectionIsRetried() async throws {
        try await ScriptedClientFixture.run(retryPolicy: Self.policy, script: { $0 == 1 ? .reset : okJSON }) { fixture in
            let output = try await fixture.client.json(.dynamoDB, operation: "GetItem", input: NoInput(), as: TableNames.self)
            #expect(output.TableNames == ["orders"])
            #expect(fixture.server.requests.count == 2)
            #expect(fixture.sleeper.delays.count == 1)
            #expect(fixture.counter.counts(service: .dynamoDB, operation: "GetItem") == .init(attempts: 2, retries: 1))
        }
    }

    @Test func aResetOnEveryAttemptEndsAsAConnectionError() async throws {
        let policy = RetryPolicy(maximumAttempts: 2)
        try await ScriptedClientFixture.run(retryPolicy: policy, script: { _ in .reset }) { fixture in
            let error = await #expect(throws: AWSClientError.self) {
                try await fixture.client.json(.dynamoDB, operation: "GetItem", input: NoInput(), as: TableNames.self)
            }
            guard case .transport(let transport) = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(transport.kind == .connection)
            #expect(transport.attempts == 2)
            #expect(fixture.server.requests.count == 2)
        }
    }

    @Test func aRefusedConnectionIsRetriedThenReported() async throws {
        // A port that was just bound and released has nothing listening on it.
        let closed = try await ScriptedHTTPServer.start { _ in okJSON }
        try await closed.close()
        let fixture = try ScriptedClientFixture(server: closed, retryPolicy: RetryPolicy(maximumAttempts: 3))
        try await withClient(fixture.client) { client in
            let error = await #expect(throws: AWSClientError.self) {
                try await client.json(.sqs, operation: "ReceiveMessage", input: NoInput(), as: TableNames.self)
            }
            guard case .transport(let transport) = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(transport.kind == .connection)
            #expect(transport.attempts == 3)
            #expect(fixture.sleeper.delays.count == 2)
            #expect(fixture.counter.counts(service: .sqs, operation: "ReceiveMessage") == .init(attempts: 3, retries: 2))
        }
    }

    @Test func cancellationDuringBackoffStopsTheCall() async throws {
        let server = try await ScriptedHTTPServer.start { _ in .respond(status: 503) }
        let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        let client = AWSClient(
            configuration: try AWSConfiguration(region: "us-east-1", globalEndpoint: server.endpoint),
            credentialProvider: RotatingCredentialProvider(),
            retryPolicy: Self.policy,
            sleep: { _ in
                enteredContinuation.yield()
                // Stands for a long backoff; the test cancels the call while it waits here.
                try await Task.sleep(for: .seconds(3600))
            }
        )
        let call = Task {
            try await client.json(.dynamoDB, operation: "Scan", input: NoInput(), as: TableNames.self)
        }
        var iterator = entered.makeAsyncIterator()
        await iterator.next()
        call.cancel()
        let result = await call.result
        guard case .failure(let error) = result, case .cancelled? = error as? AWSClientError else {
            Issue.record("expected AWSClientError.cancelled, got \(result)")
            try await client.shutdown()
            try await server.close()
            return
        }
        #expect(server.requests.count == 1)
        try await client.shutdown()
        try await server.close()
    }
}
