import Foundation
import GRDB
import OrderFlowCore

/// A row of `queue`: one queue's settings.
struct QueueDefinition: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "queue"

    var name: String
    var visibilityTimeoutMs: Int64
    var maxReceiveCount: Int
    var deadLetterQueue: String?

    enum CodingKeys: String, CodingKey {
        case name
        case visibilityTimeoutMs = "visibility_timeout_ms"
        case maxReceiveCount = "max_receive_count"
        case deadLetterQueue = "dead_letter_queue"
    }

    enum Columns {
        static let name = Column(CodingKeys.name)
        static let deadLetterQueue = Column(CodingKeys.deadLetterQueue)
    }

    /// The queue's settings, or `MessagingError.unknownQueue`.
    static func find(_ db: Database, named name: String) throws -> QueueDefinition {
        // Every send, receive and delete starts here: a cached statement and a plain row read keep it cheap.
        let statement = try db.cachedStatement(sql: """
            SELECT name, visibility_timeout_ms, max_receive_count, dead_letter_queue FROM queue WHERE name = ?
            """)
        guard let row = try Row.fetchOne(statement, arguments: [name]) else {
            throw MessagingError.unknownQueue(name)
        }
        return QueueDefinition(
            name: row["name"], visibilityTimeoutMs: row["visibility_timeout_ms"], maxReceiveCount: row["max_receive_count"],
            deadLetterQueue: row["dead_letter_queue"])
    }
}

/// A row of `queue_message`: one message in a queue or a dead-letter queue.
struct StoredQueueMessage: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "queue_message"

    var id: Int64?
    var queue: String
    var messageId: String
    var body: Data
    var attributes: String
    var sentAt: Int64
    var visibleAt: Int64
    var receiveCount: Int
    var receiptHandle: String?
    var lastError: String?
    var deadLetteredAt: Int64?
    var sourceQueue: String?

    enum CodingKeys: String, CodingKey {
        case id, queue, body, attributes
        case messageId = "message_id"
        case sentAt = "sent_at"
        case visibleAt = "visible_at"
        case receiveCount = "receive_count"
        case receiptHandle = "receipt_handle"
        case lastError = "last_error"
        case deadLetteredAt = "dead_lettered_at"
        case sourceQueue = "source_queue"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let queue = Column(CodingKeys.queue)
        static let sentAt = Column(CodingKeys.sentAt)
        static let visibleAt = Column(CodingKeys.visibleAt)
        static let receiveCount = Column(CodingKeys.receiveCount)
        static let receiptHandle = Column(CodingKeys.receiptHandle)
        static let lastError = Column(CodingKeys.lastError)
        static let deadLetteredAt = Column(CodingKeys.deadLetteredAt)
        static let sourceQueue = Column(CodingKeys.sourceQueue)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of `topic_subscription`: where a topic's messages go.
struct TopicSubscription: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "topic_subscription"

    enum Kind: String, Codable, Sendable {
        case queue, webhook, log
    }

    var id: Int64?
    var topic: String
    var kind: Kind
    var target: String
    var secret: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let topic = Column(CodingKeys.topic)
        static let kind = Column(CodingKeys.kind)
        static let target = Column(CodingKeys.target)
        static let secret = Column(CodingKeys.secret)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of `webhook_delivery`: one HTTP POST still to be made (or given up on) for a webhook subscription.
struct WebhookDeliveryRow: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "webhook_delivery"

    enum State: String, Codable, Sendable {
        case pending, failed
    }

    var id: Int64?
    var subscriptionId: Int64
    var body: Data
    var eventId: String?
    var createdAt: Int64
    var attempts: Int
    var nextAttemptAt: Int64
    var lastError: String?
    var state: State

    enum CodingKeys: String, CodingKey {
        case id, body, attempts, state
        case subscriptionId = "subscription_id"
        case eventId = "event_id"
        case createdAt = "created_at"
        case nextAttemptAt = "next_attempt_at"
        case lastError = "last_error"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let subscriptionId = Column(CodingKeys.subscriptionId)
        static let attempts = Column(CodingKeys.attempts)
        static let nextAttemptAt = Column(CodingKeys.nextAttemptAt)
        static let lastError = Column(CodingKeys.lastError)
        static let state = Column(CodingKeys.state)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of `stream_record`: one record of one shard of a stream.
struct StoredStreamRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "stream_record"

    var stream: String
    var shard: Int
    var seq: Int64
    var partitionKey: String
    var data: Data
    var arrivedAt: Int64

    enum CodingKeys: String, CodingKey {
        case stream, shard, seq, data
        case partitionKey = "partition_key"
        case arrivedAt = "arrived_at"
    }

    enum Columns {
        static let stream = Column(CodingKeys.stream)
        static let shard = Column(CodingKeys.shard)
        static let seq = Column(CodingKeys.seq)
        static let arrivedAt = Column(CodingKeys.arrivedAt)
    }
}

/// A row of `stream_shard`: the last sequence number handed out in one shard.
struct StreamShardCounter: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "stream_shard"

    var stream: String
    var shard: Int
    var lastSeq: Int64

    enum CodingKeys: String, CodingKey {
        case stream, shard
        case lastSeq = "last_seq"
    }
}

/// Message attributes as stored: a JSON object of strings with sorted keys.
enum StoredAttributes {
    static func encode(_ attributes: [String: String]) -> String {
        if attributes.isEmpty { return "{}" }
        var writer = JSONByteWriter(capacity: 64)
        writer.beginObject()
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            writer.key(key)
            writer.string(value)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func decode(_ text: String) throws -> [String: String] {
        if text == "{}" { return [:] }
        guard case .object(let members)? = try? JSONParser.parse(text) else {
            throw MessagingError.invalidArgument("stored message attributes are not a JSON object: \(text)")
        }
        var attributes: [String: String] = [:]
        for member in members {
            guard let value = member.value.stringValue else {
                throw MessagingError.invalidArgument("stored message attribute \(member.key) is not a string")
            }
            attributes[member.key] = value
        }
        return attributes
    }
}
