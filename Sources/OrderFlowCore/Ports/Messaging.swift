/// A message to put on a queue.
public struct OutgoingMessage: Sendable, Hashable {
    public var body: [UInt8]
    public var attributes: [String: String]

    public init(body: [UInt8], attributes: [String: String] = [:]) {
        self.body = body
        self.attributes = attributes
    }
}

/// A message handed out by `receive`; invisible to others until its visibility timeout ends or it is deleted.
public struct QueueMessage: Sendable, Hashable {
    public var messageId: String
    public var body: [UInt8]
    public var attributes: [String: String]
    /// Changes on every receive; only the latest handle deletes or changes visibility.
    public var receiptHandle: String
    /// How many times the message has been received, this time included.
    public var receiveCount: Int
    public var sentAt: Timestamp

    public init(messageId: String, body: [UInt8], attributes: [String: String], receiptHandle: String, receiveCount: Int, sentAt: Timestamp) {
        self.messageId = messageId
        self.body = body
        self.attributes = attributes
        self.receiptHandle = receiptHandle
        self.receiveCount = receiveCount
        self.sentAt = sentAt
    }
}

/// How full a queue is.
public struct QueueDepth: Sendable, Hashable {
    public var visible: Int
    public var inFlight: Int
    /// Messages in this queue's dead-letter queue (0 when it has none).
    public var deadLetters: Int
    /// Age of the oldest message, visible or in flight, in milliseconds; nil when empty.
    public var oldestAgeMilliseconds: Int64?

    public init(visible: Int, inFlight: Int, deadLetters: Int, oldestAgeMilliseconds: Int64?) {
        self.visible = visible
        self.inFlight = inFlight
        self.deadLetters = deadLetters
        self.oldestAgeMilliseconds = oldestAgeMilliseconds
    }
}

/// Errors every queue, topic and stream reports the same way.
public enum MessagingError: Error, Sendable, Equatable, CustomStringConvertible {
    case batchTooLarge(limit: Int)
    case unknownQueue(String)
    case unknownStream(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .batchTooLarge(let limit): "a batch holds at most \(limit) messages"
        case .unknownQueue(let name): "queue \(name) does not exist"
        case .unknownStream(let name): "stream \(name) does not exist"
        case .invalidArgument(let text): text
        }
    }
}

/// The batch sizes the messaging ports accept: those of SQS, SNS and Kinesis, kept by the embedded adapters too, so
/// code that works embedded also works on AWS. Callers with more split their work into chunks of these sizes.
public enum MessagingBatchLimit {
    /// Messages in one `MessageQueue.send` (SQS SendMessageBatch).
    public static let queueSend = 10
    /// Messages in one `Topic.publish` (SNS PublishBatch).
    public static let topicPublish = 10
    /// Bytes of message bodies and attributes in one `Topic.publish` (SNS PublishBatch allows 256 KiB; a margin is kept
    /// for what the count here leaves out).
    public static let topicPublishBytes = 240 * 1024
    /// Records in one `EventStream.put` (Kinesis PutRecords).
    public static let streamPut = 500
}

/// A queue with SQS standard-queue semantics (port; embedded: SQLite, AWS: SQS).
public protocol MessageQueue: Sendable {
    var name: String { get }

    /// Sends up to 10 messages.
    func send(_ messages: [OutgoingMessage]) async throws

    /// Receives up to `maxMessages` (1…10). Waits up to `waitTime` for one to become visible, waking as soon as one is
    /// sent. A message received more than the queue's maximum receive count moves to its dead-letter queue instead.
    func receive(maxMessages: Int, waitTime: Duration, visibilityTimeout: Duration?) async throws -> [QueueMessage]

    /// Deletes received messages; stale handles are ignored.
    func delete(receiptHandles: [String]) async throws

    /// Makes a received message visible again after `timeout` (zero: now), recording why processing failed.
    func changeVisibility(receiptHandle: String, timeout: Duration, lastError: String?) async throws

    /// Moves a received message to the dead-letter queue at once with `reason` as its last error: for a message
    /// that can never succeed (an invalid upload), where retrying would only delay the report. Takes the whole
    /// message because a queue service without a "move" (SQS) copies it to the dead-letter queue, then deletes it.
    func moveToDeadLetterQueue(_ message: QueueMessage, reason: String) async throws

    /// Current depth.
    func depth() async throws -> QueueDepth
}

/// A message that ended up in a dead-letter queue.
public struct DeadLetter: Sendable, Hashable {
    public var messageId: String
    public var sourceQueue: String
    public var body: [UInt8]
    public var receiveCount: Int
    public var lastError: String?
    public var sentAt: Timestamp
    public var deadLetteredAt: Timestamp

    public init(messageId: String, sourceQueue: String, body: [UInt8], receiveCount: Int, lastError: String?, sentAt: Timestamp, deadLetteredAt: Timestamp) {
        self.messageId = messageId
        self.sourceQueue = sourceQueue
        self.body = body
        self.receiveCount = receiveCount
        self.lastError = lastError
        self.sentAt = sentAt
        self.deadLetteredAt = deadLetteredAt
    }
}

/// A queue's settings and depth, as operators see them.
public struct QueueInfo: Sendable, Hashable {
    public var name: String
    public var deadLetterQueue: String?
    public var maxReceiveCount: Int
    public var visibilityTimeoutSeconds: Int
    public var depth: QueueDepth

    public init(name: String, deadLetterQueue: String?, maxReceiveCount: Int, visibilityTimeoutSeconds: Int, depth: QueueDepth) {
        self.name = name
        self.deadLetterQueue = deadLetterQueue
        self.maxReceiveCount = maxReceiveCount
        self.visibilityTimeoutSeconds = visibilityTimeoutSeconds
        self.depth = depth
    }
}

/// Listing queues and handling their dead letters.
public protocol QueueAdministration: Sendable {
    /// Every queue that is not itself a dead-letter queue.
    func queues() async throws -> [QueueInfo]
    /// Messages in `queue`'s dead-letter queue, oldest first.
    func deadLetters(of queue: String, limit: Int) async throws -> [DeadLetter]
    /// Moves every message of `queue`'s dead-letter queue back to `queue` with a fresh receive count; returns how many.
    func redrive(_ queue: String) async throws -> Int
}

/// A message published to a topic.
public struct TopicMessage: Sendable, Hashable {
    public var body: [UInt8]
    public var attributes: [String: String]

    public init(body: [UInt8], attributes: [String: String] = [:]) {
        self.body = body
        self.attributes = attributes
    }
}

/// A publish/subscribe topic with SNS semantics (port; embedded: SQLite, AWS: SNS).
public protocol Topic: Sendable {
    var name: String { get }
    /// Fans the messages out to every subscription durably before returning.
    func publish(_ messages: [TopicMessage]) async throws
}

/// One record of a stream.
public struct StreamRecord: Sendable, Hashable {
    public var shardId: String
    /// Increases within a shard; compare with `StreamRecord.isSequence(_:after:)`.
    public var sequenceNumber: String
    public var partitionKey: String
    public var data: [UInt8]
    public var arrivedAt: Timestamp

    public init(shardId: String, sequenceNumber: String, partitionKey: String, data: [UInt8], arrivedAt: Timestamp) {
        self.shardId = shardId
        self.sequenceNumber = sequenceNumber
        self.partitionKey = partitionKey
        self.data = data
        self.arrivedAt = arrivedAt
    }
}

extension StreamRecord {
    /// Whether sequence number `later` comes after `earlier` in one shard. Both are unsigned decimal integers (Kinesis's
    /// run past 64 bits; the embedded ones are zero-padded), so a longer one without leading zeros is larger.
    public static func isSequence(_ later: String, after earlier: String) -> Bool {
        let a = later.drop { $0 == "0" }
        let b = earlier.drop { $0 == "0" }
        return a.count != b.count ? a.count > b.count : a > b
    }
}

/// A record to append to a stream.
public struct StreamEntry: Sendable, Hashable {
    public var partitionKey: String
    public var data: [UInt8]

    public init(partitionKey: String, data: [UInt8]) {
        self.partitionKey = partitionKey
        self.data = data
    }
}

/// A sharded, ordered, retained log with Kinesis semantics (port; embedded: SQLite, AWS: Kinesis).
public protocol EventStream: Sendable {
    var name: String { get }
    /// Appends records; each goes to the shard its partition key hashes to.
    func put(_ entries: [StreamEntry]) async throws
    /// The ids of the stream's shards.
    func shardIds() async throws -> [String]
    /// Up to `limit` records of `shardId` after `sequenceNumber` (nil: from the oldest retained record).
    func read(shardId: String, after sequenceNumber: String?, limit: Int) async throws -> [StreamRecord]
    /// How many records of `shardId` come after `sequenceNumber` (nil: all retained): a consumer's lag.
    func countRecords(shardId: String, after sequenceNumber: String?) async throws -> Int
    /// Returns when new records may have been appended, or after `timeout`.
    func waitForRecords(timeout: Duration) async
}

/// An object stored in the object store.
public struct ObjectInfo: Sendable, Hashable {
    public var key: String
    public var size: Int
    public var etag: String
    public var lastModified: Timestamp

    public init(key: String, size: Int, etag: String, lastModified: Timestamp) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// Errors every object store reports the same way.
public enum ObjectStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidKey(String)
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .invalidKey(let reason): "invalid object key: \(reason)"
        case .tooLarge(let limit): "objects are limited to \(limit) bytes"
        }
    }
}

/// A bucket of objects with S3 semantics (port; embedded: files, AWS: S3).
public protocol ObjectStore: Sendable {
    var bucket: String { get }
    /// Stores the object durably (and, where configured, sends the object-created notification) before returning.
    func put(key: String, bytes: [UInt8], contentType: String?) async throws -> ObjectInfo
    /// The object's bytes, or nil when there is none.
    func get(key: String) async throws -> [UInt8]?
    /// Objects whose key starts with `prefix`, in key order.
    func list(prefix: String, limit: Int) async throws -> [ObjectInfo]
}
