import Foundation
import GRDB
import OrderFlowCore
@testable import OrderFlowEmbedded
import Testing

@Suite("SQLiteTopic")
struct MessagingTopicTests {
    private struct Rollback: Error {}

    private func published(_ text: String, eventId: String) -> TopicMessage {
        TopicMessage(body: Array(text.utf8), attributes: ["eventId": eventId, "type": "order.accepted"])
    }

    @Test func publishFansOutToQueuesAndLog() async throws {
        let fixture = try MessagingFixture()
        let messaging = fixture.messaging
        try await messaging.ensureQueue(name: "review")
        try await messaging.ensureQueue(name: "analytics")
        try await messaging.subscribe(topic: "order-events", to: .queue("review"))
        try await messaging.subscribe(topic: "order-events", to: .queue("analytics"))
        try await messaging.subscribe(topic: "order-events", to: .log)
        // Subscribing again changes nothing: still one copy per queue.
        try await messaging.subscribe(topic: "order-events", to: .queue("review"))
        try await messaging.subscribe(topic: "other-events", to: .queue("analytics"))

        let messages = [published(#"{"orderId":"1001"}"#, eventId: "e-1"), published(#"{"orderId":"1002"}"#, eventId: "e-2")]
        try await messaging.topic(named: "order-events").publish(messages)

        for name in ["review", "analytics"] {
            let received = try await messaging.queue(named: name).receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil)
            #expect(received.count == 2, "queue \(name)")
            let delivered = Set(received.map { TopicMessage(body: $0.body, attributes: $0.attributes) })
            #expect(delivered == Set(messages), "raw delivery into \(name)")
        }

        let lines = fixture.logs.all.filter { $0.message == "topic message" }
        #expect(lines.count == 2)
        #expect(Set(lines.compactMap { $0.metadata["attribute.eventId"] }) == ["e-1", "e-2"])
        #expect(lines.allSatisfy { $0.metadata["topic"] == "order-events" })
        #expect(lines.contains { $0.metadata["body"] == #"{"orderId":"1001"}"# })
    }

    @Test func publishWithoutSubscriptionsDropsMessages() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "review")
        try await fixture.messaging.topic(named: "nobody-listens").publish([published("{}", eventId: "e-1")])
        #expect(try await fixture.messaging.queue(named: "review").depth().visible == 0)
    }

    @Test func publishInCallersTransactionFollowsItsOutcome() async throws {
        let fixture = try MessagingFixture()
        let messaging = fixture.messaging
        try await messaging.ensureQueue(name: "review")
        try await messaging.subscribe(topic: "order-events", to: .queue("review"))
        try await messaging.subscribe(topic: "order-events", to: .log)
        try await messaging.subscribe(topic: "order-events", to: .webhook(url: "http://127.0.0.1:9/hook", secret: "s3cret"))
        let topic = messaging.topic(named: "order-events")

        await #expect(throws: Rollback.self) {
            try await fixture.database.pool.write { db in
                try topic.publish([published("{}", eventId: "rolled-back")], in: db)
                throw Rollback()
            }
        }
        #expect(try await messaging.queue(named: "review").depth().visible == 0)
        #expect(try await messaging.pendingWebhookDeliveryCount() == 0)
        #expect(fixture.logs.all.filter { $0.message == "topic message" }.isEmpty)

        try await fixture.database.pool.write { db in
            try topic.publish([published("{}", eventId: "committed")], in: db)
        }
        #expect(try await messaging.queue(named: "review").depth().visible == 1)
        #expect(try await messaging.pendingWebhookDeliveryCount() == 1)
        #expect(fixture.logs.all.filter { $0.message == "topic message" }.map { $0.metadata["attribute.eventId"] } == ["committed"])
    }

    @Test func subscriptionsAreValidated() async throws {
        let fixture = try MessagingFixture()
        await #expect(throws: MessagingError.unknownQueue("missing")) {
            try await fixture.messaging.subscribe(topic: "order-events", to: .queue("missing"))
        }
        await #expect(throws: MessagingError.self) {
            try await fixture.messaging.subscribe(topic: "order-events", to: .webhook(url: "not a url", secret: "s"))
        }
        await #expect(throws: MessagingError.self) {
            try await fixture.messaging.subscribe(topic: "order-events", to: .webhook(url: "https://example.test/hook", secret: ""))
        }
        await #expect(throws: MessagingError.batchTooLarge(limit: 10)) {
            try await fixture.messaging.topic(named: "order-events").publish((0..<11).map { published("{}", eventId: "e\($0)") })
        }
    }
}
