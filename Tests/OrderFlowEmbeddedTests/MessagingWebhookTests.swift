import Foundation
import Logging
import NIOHTTP1
import OrderFlowCore
@testable import OrderFlowEmbedded
import ServiceLifecycle
import Testing

@Suite("Webhooks")
struct MessagingWebhookTests {
    @Test func signatureMatchesRFC4231Vector() {
        // RFC 4231 test case 2.
        let header = WebhookSignature.headerValue(for: Array("what do ya want for nothing?".utf8), secret: "Jefe")
        #expect(header == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(WebhookSignature.isValid(header, body: Array("what do ya want for nothing?".utf8), secret: "Jefe"))
        #expect(!WebhookSignature.isValid(header, body: Array("what do ya want for nothing!".utf8), secret: "Jefe"))
        #expect(!WebhookSignature.isValid(header, body: Array("what do ya want for nothing?".utf8), secret: "jefe"))
        #expect(!WebhookSignature.isValid("sha256=zz", body: [], secret: "Jefe"))
    }

    @Test func backoffGrowsWithJitterUpToCap() {
        let backoff = RetryBackoff(base: .seconds(1), cap: .seconds(300))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let first = backoff.delay(afterAttempt: 1, using: &generator)
            #expect(first >= .milliseconds(500) && first <= .seconds(1))
            let fourth = backoff.delay(afterAttempt: 4, using: &generator)
            #expect(fourth >= .seconds(4) && fourth <= .seconds(8))
            let late = backoff.delay(afterAttempt: 60, using: &generator)
            #expect(late >= .seconds(150) && late <= .seconds(300))
        }
    }

    @Test func dispatcherRetriesUntilSuccessAndSignsEveryAttempt() async throws {
        let fixture = try MessagingFixture(clock: SystemClock())
        let server = try await WebhookTestServer.start { number in number <= 2 ? .serviceUnavailable : .noContent }
        let secret = "whsec-test"
        try await fixture.messaging.subscribe(topic: "order-events", to: .webhook(url: server.url, secret: secret))
        let dispatcher = WebhookDispatcher(
            messaging: fixture.messaging,
            configuration: .init(maxAttempts: 5, backoff: RetryBackoff(base: .milliseconds(20), cap: .milliseconds(100))))
        let group = ServiceGroup(services: [dispatcher], logger: fixture.logs.logger)

        let body = Array(#"{"eventId":"e-42","type":"order.accepted"}"#.utf8)
        let requests = try await withThrowingTaskGroup(of: [WebhookTestServer.Request]?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            // Published once the dispatcher is idle: it must wake for the new delivery, not sleep out its idle pause.
            try await eventually { fixture.messaging.context.signals.waiting(on: .webhooks) == 1 }
            try await fixture.messaging.topic(named: "order-events").publish([
                TopicMessage(body: body, attributes: ["eventId": "e-42"]),
            ])
            let requests = try await withTimeout(.seconds(10)) {
                var seen: [WebhookTestServer.Request] = []
                for await request in server.requests {
                    seen.append(request)
                    if seen.count == 3 { break }
                }
                return seen
            }
            // Graceful shutdown lets the in-flight third attempt record its success before the dispatcher returns.
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return requests
        }
        try await server.close()

        #expect(requests.count == 3)
        #expect(requests.map { $0.headers["x-orderflow-delivery-attempt"] } == ["1", "2", "3"])
        for request in requests {
            #expect(request.body == body)
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["x-orderflow-event-id"] == "e-42")
            let signature = try #require(request.headers["x-orderflow-signature"])
            #expect(WebhookSignature.isValid(signature, body: request.body, secret: secret))
        }
        #expect(try await fixture.messaging.pendingWebhookDeliveryCount() == 0)
        #expect(try await fixture.messaging.failedWebhookDeliveries(limit: 10).isEmpty)
    }

    @Test func deliveryFailsAfterMaxAttemptsWithLastError() async throws {
        let fixture = try MessagingFixture()
        let clock = try fixture.manualClock
        let server = try await WebhookTestServer.start { _ in .internalServerError }
        try await fixture.messaging.subscribe(topic: "order-events", to: .webhook(url: server.url, secret: "k"))
        try await fixture.messaging.topic(named: "order-events").publish([
            TopicMessage(body: Array("{}".utf8), attributes: ["eventId": "e-7"]),
        ])
        let dispatcher = WebhookDispatcher(
            messaging: fixture.messaging,
            configuration: .init(maxAttempts: 3, backoff: RetryBackoff(base: .seconds(2), cap: .seconds(2))))

        var round = try await dispatcher.deliverDue()
        #expect(round.attempted == 1)
        #expect(round.delivered == 0)
        let retryAt = try #require(round.nextDueAt)
        let delay = retryAt.millisecondsSinceEpoch - clock.now().millisecondsSinceEpoch
        #expect(delay >= 1_000 && delay <= 2_000)

        // Not due yet: backoff is respected.
        round = try await dispatcher.deliverDue()
        #expect(round.attempted == 0)

        clock.advance(milliseconds: 2_000)
        round = try await dispatcher.deliverDue()
        #expect(round.attempted == 1)
        #expect(round.gaveUp == 0)

        clock.advance(milliseconds: 2_000)
        round = try await dispatcher.deliverDue()
        #expect(round.attempted == 1)
        #expect(round.gaveUp == 1)
        #expect(round.nextDueAt == nil)

        clock.advance(milliseconds: 60_000)
        #expect(try await dispatcher.deliverDue().attempted == 0)

        let failed = try await fixture.messaging.failedWebhookDeliveries(limit: 10)
        #expect(failed.count == 1)
        #expect(failed.first?.attempts == 3)
        #expect(failed.first?.eventId == "e-7")
        #expect(failed.first?.url == server.url)
        #expect(failed.first?.lastError?.hasPrefix("HTTP 500") == true)
        #expect(try await fixture.messaging.pendingWebhookDeliveryCount() == 0)

        try await server.close()
        var attempts: [String?] = []
        for await request in server.requests { attempts.append(request.headers["x-orderflow-delivery-attempt"]) }
        #expect(attempts == ["1", "2", "3"])
    }

    @Test func dispatcherStopsOnGracefulShutdownWhenIdle() async throws {
        let fixture = try MessagingFixture(clock: SystemClock())
        let dispatcher = WebhookDispatcher(messaging: fixture.messaging)
        let group = ServiceGroup(services: [dispatcher], logger: fixture.logs.logger)
        try await withTimeout(.seconds(10)) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
