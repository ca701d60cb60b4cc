import AWSKit
import Foundation
import Testing

@Suite("AWSClient per-request timeout (against a scripted local server)")
struct AWSClientTimeoutTests {
    static let timeout = Duration.milliseconds(200)

    @Test func aServerThatNeverAnswersTimesOutWithinTheBoundOnEveryAttempt() async throws {
        try await ScriptedClientFixture.run(
            retryPolicy: RetryPolicy(maximumAttempts: 2), requestTimeout: Self.timeout, script: { _ in .hang }
        ) { fixture in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: AWSClientError.self) {
                try await fixture.client.json(.dynamoDB, operation: "Query", input: NoInput(), as: TableNames.self)
            }
            let elapsed = clock.now - start
            guard case .transport(let transport) = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(transport.kind == .timeout)
            #expect(transport.attempts == 2)
            #expect(fixture.server.requests.count == 2)
            // Each attempt waits its full timeout (backoff sleeps are recorded, not slept) and not much longer: far below
            // the client's default 30 s, with slack for a loaded machine (the whole suite runs in parallel).
            #expect(elapsed >= Self.timeout * 2)
            #expect(elapsed < Self.timeout * 2 + .seconds(5))
            #expect(fixture.counter.counts(service: .dynamoDB, operation: "Query") == .init(attempts: 2, retries: 1))
        }
    }

    @Test func aBodyThatStallsAfterTheHeadersTimesOutToo() async throws {
        try await ScriptedClientFixture.run(
            retryPolicy: .none, requestTimeout: Self.timeout, script: { _ in .stallBody(contentLength: 100) }
        ) { fixture in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: AWSClientError.self) {
                try await fixture.client.s3("GET", operation: "GetObject", bucket: "orders", key: "slow.json")
            }
            let elapsed = clock.now - start
            guard case .transport(let transport) = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(transport.kind == .timeout)
            #expect(transport.attempts == 1)
            #expect(elapsed >= Self.timeout)
            #expect(elapsed < Self.timeout + .seconds(5))
        }
    }

    @Test func aPerCallTimeoutOverridesTheClientDefault() async throws {
        try await ScriptedClientFixture.run(retryPolicy: .none, requestTimeout: .seconds(60), script: { _ in .hang }) { fixture in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: AWSClientError.self) {
                try await fixture.client.query(.sns, action: "ListTopics", timeout: Self.timeout)
            }
            #expect(clock.now - start < .seconds(5))
            guard case .transport(let transport) = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(transport.kind == .timeout)
        }
    }
}
