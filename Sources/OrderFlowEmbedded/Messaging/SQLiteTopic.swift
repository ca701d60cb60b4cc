import Foundation
import GRDB
import Logging
import OrderFlowCore

/// Where a topic subscription delivers.
public enum TopicEndpoint: Sendable, Hashable {
    /// Into a queue, raw: the body as published, attributes kept.
    case queue(String)
    /// As an HTTP POST signed with HMAC-SHA256 of the body under `secret` (see `WebhookSignature`).
    case webhook(url: String, secret: String)
    /// As an e-mail to `address` through the dispatcher's SMTP relay (see `SMTPMailer`), with the same durable
    /// retries as a webhook; stored as a push subscription whose target is `mailto:address`.
    case email(address: String)
    /// As one structured log line.
    case log
}

/// An embedded topic with SNS semantics: publishing fans out, in the publisher's transaction, into every subscription.
public struct SQLiteTopic: Topic {
    /// The topic's name.
    public let name: String
    let context: MessagingContext

    init(name: String, context: MessagingContext) {
        self.name = name
        self.context = context
    }

    /// Fans the messages out to every subscription in one transaction; a topic without subscriptions drops them.
    public func publish(_ messages: [TopicMessage]) async throws {
        guard messages.count <= MessagingBatchLimit.topicPublish else {
            throw MessagingError.batchTooLarge(limit: MessagingBatchLimit.topicPublish)
        }
        guard !messages.isEmpty else { return }
        try await context.database.write { db in
            try publish(messages, in: db)
        }
    }

    /// Fans the messages out inside the caller's transaction (for example the outbox relay's), so they are delivered
    /// if and only if that transaction commits; receivers, the webhook dispatcher and the log line follow the commit.
    public func publish(_ messages: [TopicMessage], in db: Database) throws {
        guard !messages.isEmpty else { return }
        for message in messages where message.body.count > MessagingLimits.messageBytes {
            throw MessagingError.invalidArgument(
                "message body of \(message.body.count) bytes exceeds the \(MessagingLimits.messageBytes)-byte limit")
        }
        let subscriptions = try TopicSubscription.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM topic_subscription WHERE topic = ? ORDER BY id"), arguments: [name])
        let now = context.clock.now().millisecondsSinceEpoch
        var addedWebhookDeliveries = false
        for subscription in subscriptions {
            switch subscription.kind {
            case .queue:
                let outgoing = messages.map { OutgoingMessage(body: $0.body, attributes: $0.attributes) }
                try SQLiteQueue.send(outgoing, to: subscription.target, in: db, context: context)
            case .webhook:
                for message in messages {
                    var delivery = WebhookDeliveryRow(
                        id: nil, subscriptionId: subscription.id ?? 0, body: Data(message.body),
                        eventId: message.attributes[WebhookDispatcher.eventIdAttribute], createdAt: now, attempts: 0,
                        nextAttemptAt: now, lastError: nil, state: .pending)
                    try delivery.insert(db)
                }
                addedWebhookDeliveries = true
            case .log:
                logAfterCommit(messages, in: db)
            }
        }
        if addedWebhookDeliveries {
            let signal = context.signals.signal(.webhooks)
            db.afterNextTransaction { _ in signal.notify() }
        }
    }

    /// Writes one log line per message once the transaction commits, so a rolled-back publish logs nothing.
    private func logAfterCommit(_ messages: [TopicMessage], in db: Database) {
        let logger = context.logger
        let topic = name
        db.afterNextTransaction { _ in
            for message in messages {
                var metadata: Logger.Metadata = [
                    "topic": "\(topic)",
                    "bytes": "\(message.body.count)",
                    "body": "\(Self.loggableBody(message.body))",
                ]
                for (key, value) in message.attributes {
                    metadata["attribute.\(key)"] = "\(value)"
                }
                logger.info("topic message", metadata: metadata)
            }
        }
    }

    /// The body as text, cut so one large message cannot flood the log.
    private static func loggableBody(_ body: [UInt8]) -> String {
        let limit = 4096
        if body.count <= limit { return String(decoding: body, as: UTF8.self) }
        return String(decoding: body.prefix(limit), as: UTF8.self) + "…"
    }
}
