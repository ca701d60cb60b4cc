import Foundation
import GRDB
import Logging
import OrderFlowCore

/// The embedded messaging backend: configures queues and topic subscriptions in the app database, hands out the
/// queue, topic and stream adapters, and administers dead letters.
/// Build one per process and share it: long-poll wake-ups only reach receivers of the same instance.
public final class SQLiteMessaging: QueueAdministration {
    let context: MessagingContext

    /// Messaging over `database`, timing every visibility timeout and retention window with `clock`.
    public init(database: AppDatabase, clock: any WallClock = SystemClock(), logger: Logger) {
        context = MessagingContext(database: database, clock: clock, logger: logger, signals: MessagingSignals())
    }

    // MARK: Configuration

    /// Creates the queue and its dead-letter queue (`<name>-dlq` unless named), or updates the queue's settings.
    public func ensureQueue(
        name: String, visibilityTimeout: Duration = .seconds(30), maxReceiveCount: Int = 5, deadLetterQueue: String? = nil
    ) async throws {
        let deadLetterQueue = deadLetterQueue ?? name + "-dlq"
        try MessagingLimits.validateQueueName(name)
        try MessagingLimits.validateQueueName(deadLetterQueue)
        try MessagingLimits.validateTimeout(visibilityTimeout, name: "visibilityTimeout", max: MessagingLimits.maxVisibility)
        guard (1...MessagingLimits.maxReceiveCount).contains(maxReceiveCount) else {
            throw MessagingError.invalidArgument("maxReceiveCount must be between 1 and \(MessagingLimits.maxReceiveCount), got \(maxReceiveCount)")
        }
        guard deadLetterQueue != name else {
            throw MessagingError.invalidArgument("queue \(name) cannot be its own dead-letter queue")
        }
        let visibilityMs = visibilityTimeout.wholeMilliseconds
        try await context.database.write { db in
            if try !QueueDefinition.exists(db, key: deadLetterQueue) {
                try QueueDefinition(
                    name: deadLetterQueue, visibilityTimeoutMs: visibilityMs, maxReceiveCount: maxReceiveCount, deadLetterQueue: nil
                ).insert(db)
            }
            try QueueDefinition(
                name: name, visibilityTimeoutMs: visibilityMs, maxReceiveCount: maxReceiveCount, deadLetterQueue: deadLetterQueue
            ).save(db)
        }
    }

    /// Subscribes `endpoint` to `topic`; subscribing the same endpoint again only updates a webhook's secret.
    public func subscribe(topic: String, to endpoint: TopicEndpoint) async throws {
        guard !topic.isEmpty else { throw MessagingError.invalidArgument("topic name must not be empty") }
        let kind: TopicSubscription.Kind
        let target: String
        let secret: String?
        switch endpoint {
        case .queue(let queue):
            (kind, target, secret) = (.queue, queue, nil)
        case .webhook(let url, let webhookSecret):
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
                throw MessagingError.invalidArgument("webhook URL \(url) must be an absolute http or https URL")
            }
            guard !webhookSecret.isEmpty else {
                throw MessagingError.invalidArgument("webhook secret for \(url) must not be empty")
            }
            (kind, target, secret) = (.webhook, url, webhookSecret)
        case .email(let address):
            guard MailAddress.isValid(address) else {
                throw MessagingError.invalidArgument("e-mail subscription address \(address) is not a valid e-mail address")
            }
            (kind, target, secret) = (.webhook, WebhookDispatcher.mailtoPrefix + address, nil)
        case .log:
            (kind, target, secret) = (.log, "", nil)
        }
        try await context.database.write { db in
            if kind == .queue {
                _ = try QueueDefinition.find(db, named: target)
            }
            let existing = try TopicSubscription
                .filter(TopicSubscription.Columns.topic == topic && TopicSubscription.Columns.kind == kind.rawValue
                    && TopicSubscription.Columns.target == target)
                .fetchOne(db)
            if var existing {
                try existing.updateChanges(db) { $0.secret = secret }
            } else {
                var subscription = TopicSubscription(id: nil, topic: topic, kind: kind, target: target, secret: secret)
                try subscription.insert(db)
            }
        }
    }

    /// Makes `endpoints` the push (webhook and e-mail) subscriptions of `topic`: subscribes each and removes any other
    /// push subscription, with its pending deliveries, so the configuration a server starts with is the whole truth.
    /// Queue and log subscriptions are left alone. Returns the targets removed.
    @discardableResult
    public func setPushSubscriptions(topic: String, to endpoints: [TopicEndpoint]) async throws -> [String] {
        var keep = Set<String>()
        for endpoint in endpoints {
            switch endpoint {
            case .webhook(let url, _): keep.insert(url)
            case .email(let address): keep.insert(WebhookDispatcher.mailtoPrefix + address)
            case .queue, .log: throw MessagingError.invalidArgument("only webhook and e-mail endpoints are push subscriptions")
            }
            try await subscribe(topic: topic, to: endpoint)
        }
        let kept = keep
        return try await context.database.write { db in
            let stale = try TopicSubscription
                .filter(TopicSubscription.Columns.topic == topic && TopicSubscription.Columns.kind == TopicSubscription.Kind.webhook.rawValue)
                .fetchAll(db)
                .filter { !kept.contains($0.target) }
            for subscription in stale { _ = try subscription.delete(db) }
            return stale.map(\.target)
        }
    }

    // MARK: Adapters

    /// The queue `name` (create it first with `ensureQueue`).
    public func queue(named name: String) -> SQLiteQueue {
        SQLiteQueue(name: name, context: context)
    }

    /// The topic `name`; publishing reaches whatever is subscribed at that moment.
    public func topic(named name: String) -> SQLiteTopic {
        SQLiteTopic(name: name, context: context)
    }

    /// The stream `name` with `shardCount` shards, whose records `SQLiteStream.trim` drops after `retention`.
    /// Give each consumer its own value: `waitForRecords` remembers what that value last read.
    public func stream(named name: String, shardCount: Int = 2, retention: Duration = .seconds(86_400)) -> SQLiteStream {
        SQLiteStream(name: name, shardCount: shardCount, retention: retention, context: context)
    }

    // MARK: QueueAdministration

    /// Every queue that is not itself a dead-letter queue, by name, with its depth.
    public func queues() async throws -> [QueueInfo] {
        try await context.database.pool.read { [context] db in
            let definitions = try QueueDefinition.order(QueueDefinition.Columns.name).fetchAll(db)
            let deadLetterQueues = Set(definitions.compactMap(\.deadLetterQueue))
            let now = context.clock.now()
            return try definitions.filter { !deadLetterQueues.contains($0.name) }.map { definition in
                QueueInfo(
                    name: definition.name, deadLetterQueue: definition.deadLetterQueue,
                    maxReceiveCount: definition.maxReceiveCount,
                    visibilityTimeoutSeconds: Int(definition.visibilityTimeoutMs / 1000),
                    depth: try SQLiteQueue.depth(of: definition, now: now, in: db))
            }
        }
    }

    /// Up to `limit` (1…1000) messages that `queue` moved to its dead-letter queue, oldest first.
    public func deadLetters(of queue: String, limit: Int) async throws -> [DeadLetter] {
        guard (1...1000).contains(limit) else {
            throw MessagingError.invalidArgument("limit must be between 1 and 1000, got \(limit)")
        }
        return try await context.database.pool.read { db in
            typealias Columns = StoredQueueMessage.Columns
            let definition = try QueueDefinition.find(db, named: queue)
            guard let deadLetterQueue = definition.deadLetterQueue else { return [] }
            return try StoredQueueMessage
                .filter(Columns.queue == deadLetterQueue && Columns.sourceQueue == queue && Columns.deadLetteredAt != nil)
                .order(Columns.deadLetteredAt, Columns.id)
                .limit(limit)
                .fetchAll(db)
                .map { row in
                    DeadLetter(
                        messageId: row.messageId, sourceQueue: queue, body: [UInt8](row.body), receiveCount: row.receiveCount,
                        lastError: row.lastError, sentAt: Timestamp(millisecondsSinceEpoch: row.sentAt),
                        deadLetteredAt: Timestamp(millisecondsSinceEpoch: row.deadLetteredAt ?? row.sentAt))
                }
        }
    }

    /// Moves every message `queue` dead-lettered back to it, visible now with a receive count of 0 (the last error is
    /// kept for context), and wakes its receivers; returns how many moved.
    public func redrive(_ queue: String) async throws -> Int {
        try await context.database.write { [context] db in
            typealias Columns = StoredQueueMessage.Columns
            let definition = try QueueDefinition.find(db, named: queue)
            guard let deadLetterQueue = definition.deadLetterQueue else { return 0 }
            let moved = try StoredQueueMessage
                .filter(Columns.queue == deadLetterQueue && Columns.sourceQueue == queue)
                .updateAll(db, [
                    Columns.queue.set(to: queue),
                    Columns.receiveCount.set(to: 0),
                    Columns.visibleAt.set(to: context.clock.now().millisecondsSinceEpoch),
                    Columns.receiptHandle.set(to: nil),
                    Columns.deadLetteredAt.set(to: nil),
                    Columns.sourceQueue.set(to: nil),
                ])
            if moved > 0 {
                let signal = context.signals.signal(.queue(queue))
                db.afterNextTransaction { _ in signal.notify() }
            }
            return moved
        }
    }

    // MARK: Webhook deliveries

    /// Webhook deliveries that exhausted their attempts, oldest first, for operators to inspect.
    public func failedWebhookDeliveries(limit: Int) async throws -> [FailedWebhookDelivery] {
        guard (1...1000).contains(limit) else {
            throw MessagingError.invalidArgument("limit must be between 1 and 1000, got \(limit)")
        }
        return try await context.database.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, s.topic, s.target, d.event_id, d.attempts, d.last_error, d.created_at
                    FROM webhook_delivery d JOIN topic_subscription s ON s.id = d.subscription_id
                    WHERE d.state = 'failed' ORDER BY d.id LIMIT ?
                    """,
                arguments: [limit])
            return rows.map { row in
                FailedWebhookDelivery(
                    id: row["id"], topic: row["topic"], url: row["target"], eventId: row["event_id"], attempts: row["attempts"],
                    lastError: row["last_error"], createdAt: Timestamp(millisecondsSinceEpoch: row["created_at"]))
            }
        }
    }

    /// How many webhook deliveries are still waiting for a successful attempt.
    public func pendingWebhookDeliveryCount() async throws -> Int {
        try await context.database.pool.read { db in
            try WebhookDeliveryRow.filter(WebhookDeliveryRow.Columns.state == WebhookDeliveryRow.State.pending.rawValue).fetchCount(db)
        }
    }
}

/// A webhook delivery that was given up on after its last attempt.
public struct FailedWebhookDelivery: Sendable, Hashable {
    /// The delivery's row id.
    public var id: Int64
    /// The topic the message was published to.
    public var topic: String
    /// The webhook URL.
    public var url: String
    /// The `eventId` attribute of the published message, if any.
    public var eventId: String?
    /// How many POSTs were attempted.
    public var attempts: Int
    /// Why the last attempt failed.
    public var lastError: String?
    /// When the message was published.
    public var createdAt: Timestamp

    /// A failed delivery as stored.
    public init(id: Int64, topic: String, url: String, eventId: String?, attempts: Int, lastError: String?, createdAt: Timestamp) {
        self.id = id
        self.topic = topic
        self.url = url
        self.eventId = eventId
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
    }
}
