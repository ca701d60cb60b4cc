import Foundation
import GRDB
import Logging
import OrderFlowCore

/// An embedded queue with SQS standard-queue semantics, stored in the app database.
/// Obtain one from `SQLiteMessaging.queue(named:)` after `ensureQueue`; operations on a queue that was never ensured
/// throw `MessagingError.unknownQueue`.
public struct SQLiteQueue: MessageQueue {
    /// The queue's name.
    public let name: String
    let context: MessagingContext

    init(name: String, context: MessagingContext) {
        self.name = name
        self.context = context
    }

    /// Sends up to 10 messages in one transaction and wakes receivers blocked in a long poll.
    public func send(_ messages: [OutgoingMessage]) async throws {
        guard messages.count <= MessagingLimits.sendBatch else {
            throw MessagingError.batchTooLarge(limit: MessagingLimits.sendBatch)
        }
        guard !messages.isEmpty else { return }
        try await context.database.write { [name, context] db in
            try Self.send(messages, to: name, in: db, context: context)
        }
    }

    /// Receives up to `maxMessages` (1…10), long-polling up to `waitTime` (at most 20 s). Returns an empty array when
    /// the wait ends, or early when the task is cancelled, so a worker loop can check for shutdown.
    public func receive(maxMessages: Int, waitTime: Duration, visibilityTimeout: Duration?) async throws -> [QueueMessage] {
        guard (1...MessagingLimits.receiveBatch).contains(maxMessages) else {
            throw MessagingError.invalidArgument("maxMessages must be between 1 and \(MessagingLimits.receiveBatch), got \(maxMessages)")
        }
        try MessagingLimits.validateTimeout(waitTime, name: "waitTime", max: MessagingLimits.maxWait)
        if let visibilityTimeout {
            try MessagingLimits.validateTimeout(visibilityTimeout, name: "visibilityTimeout", max: MessagingLimits.maxVisibility)
        }
        let signal = context.signals.signal(.queue(name))
        let deadline = ContinuousClock.now + waitTime
        while true {
            // Read before looking: a send that commits after this read bumps the generation, so the wait below
            // returns at once instead of missing it.
            let seen = signal.generation
            let outcome = try await context.database.write { [name, context] db in
                try Self.receiveNow(from: name, maxMessages: maxMessages, visibilityTimeout: visibilityTimeout, in: db, context: context)
            }
            if !outcome.messages.isEmpty { return outcome.messages }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero || Task.isCancelled { return [] }
            var pause = remaining
            if let nextVisibleAt = outcome.nextVisibleAt {
                // An in-flight message whose visibility timeout ends sends no signal: wake for it ourselves.
                let untilVisible = max(nextVisibleAt - context.clock.now().millisecondsSinceEpoch, 1)
                pause = min(pause, .milliseconds(untilVisible))
            }
            await context.signals.wait(on: .queue(name), since: seen, timeout: pause)
        }
    }

    /// Deletes up to 10 received messages by their latest receipt handles; stale or unknown handles are ignored.
    public func delete(receiptHandles: [String]) async throws {
        guard receiptHandles.count <= MessagingLimits.deleteBatch else {
            throw MessagingError.batchTooLarge(limit: MessagingLimits.deleteBatch)
        }
        guard !receiptHandles.isEmpty else { return }
        try await context.database.write { [name] db in
            _ = try QueueDefinition.find(db, named: name)
            // One prepared statement, one probe of the receipt-handle index per handle: the query-interface form built
            // and compiled a new `IN (…)` statement on every call.
            var delete = try DirectStatement(db.cachedStatement(sql: "DELETE FROM queue_message WHERE receipt_handle = ? AND queue = ?"))
            for handle in receiptHandles {
                delete.bind(handle)
                delete.bind(name)
                try delete.run(in: db)
            }
        }
    }

    /// Makes a received message visible again after `timeout` (zero: now, at most 12 h), recording `lastError` when
    /// given. A stale handle is ignored.
    public func changeVisibility(receiptHandle: String, timeout: Duration, lastError: String?) async throws {
        try MessagingLimits.validateTimeout(timeout, name: "timeout", max: MessagingLimits.maxVisibility)
        try await context.database.write { [name, context] db in
            _ = try QueueDefinition.find(db, named: name)
            let now = context.clock.now().millisecondsSinceEpoch
            var assignments = [StoredQueueMessage.Columns.visibleAt.set(to: now + timeout.wholeMilliseconds)]
            if let lastError {
                assignments.append(StoredQueueMessage.Columns.lastError.set(to: lastError))
            }
            let changed = try StoredQueueMessage
                .filter(StoredQueueMessage.Columns.queue == name && StoredQueueMessage.Columns.receiptHandle == receiptHandle)
                .updateAll(db, assignments)
            if changed > 0 {
                // Waiting receivers planned their sleep around the old visibility time.
                let signal = context.signals.signal(.queue(name))
                db.afterNextTransaction { _ in signal.notify() }
            }
        }
    }

    /// Moves a received message to the dead-letter queue now, with `reason` as its last error. A stale handle is ignored;
    /// a queue without a dead-letter queue refuses, because dropping the message would lose it.
    public func moveToDeadLetterQueue(_ message: QueueMessage, reason: String) async throws {
        let receiptHandle = message.receiptHandle
        try await context.database.write { [name, context] db in
            let definition = try QueueDefinition.find(db, named: name)
            guard let deadLetterQueue = definition.deadLetterQueue else {
                throw MessagingError.invalidArgument("queue \(name) has no dead-letter queue")
            }
            let now = context.clock.now().millisecondsSinceEpoch
            let moved = try StoredQueueMessage
                .filter(StoredQueueMessage.Columns.queue == name && StoredQueueMessage.Columns.receiptHandle == receiptHandle)
                .updateAll(db, [
                    StoredQueueMessage.Columns.queue.set(to: deadLetterQueue),
                    StoredQueueMessage.Columns.sourceQueue.set(to: name),
                    StoredQueueMessage.Columns.deadLetteredAt.set(to: now),
                    StoredQueueMessage.Columns.visibleAt.set(to: now),
                    StoredQueueMessage.Columns.receiptHandle.set(to: nil),
                    StoredQueueMessage.Columns.lastError.set(to: reason),
                ])
            if moved > 0 {
                let signal = context.signals.signal(.queue(deadLetterQueue))
                db.afterNextTransaction { _ in signal.notify() }
            }
        }
    }

    /// Visible and in-flight messages, this queue's dead letters, and the age of the oldest message.
    public func depth() async throws -> QueueDepth {
        try await context.database.pool.read { [name, context] db in
            let definition = try QueueDefinition.find(db, named: name)
            return try Self.depth(of: definition, now: context.clock.now(), in: db)
        }
    }

    // MARK: Shared with topics and administration

    /// Inserts `messages` into `queue` inside the caller's transaction; receivers wake once it commits.
    static func send(_ messages: [OutgoingMessage], to queue: String, in db: Database, context: MessagingContext) throws {
        _ = try QueueDefinition.find(db, named: queue)
        let now = context.clock.now().millisecondsSinceEpoch
        var insert = try DirectStatement(db.cachedStatement(sql: """
            INSERT INTO queue_message (queue, message_id, body, attributes, sent_at, visible_at, receive_count)
            VALUES (?, ?, ?, ?, ?, ?, 0)
            """))
        for message in messages {
            guard message.body.count <= MessagingLimits.messageBytes else {
                throw MessagingError.invalidArgument(
                    "message body of \(message.body.count) bytes exceeds the \(MessagingLimits.messageBytes)-byte limit")
            }
            insert.bind(queue)
            insert.bind(UUID().uuidString.lowercased())
            insert.bind(bytes: message.body)
            insert.bind(StoredAttributes.encode(message.attributes))
            insert.bind(now)
            insert.bind(now)
            try insert.run(in: db)
        }
        let signal = context.signals.signal(.queue(queue))
        db.afterNextTransaction { _ in signal.notify() }
    }

    /// Depth of the queue `definition` describes at `now`.
    static func depth(of definition: QueueDefinition, now: Timestamp, in db: Database) throws -> QueueDepth {
        let nowMs = now.millisecondsSinceEpoch
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(visible_at <= ?), 0) AS visible, COALESCE(SUM(visible_at > ?), 0) AS in_flight,
                       MIN(sent_at) AS oldest
                FROM queue_message WHERE queue = ?
                """,
            arguments: [nowMs, nowMs, definition.name])
        var deadLetters = 0
        if let deadLetterQueue = definition.deadLetterQueue {
            deadLetters = try StoredQueueMessage
                .filter(StoredQueueMessage.Columns.queue == deadLetterQueue && StoredQueueMessage.Columns.sourceQueue == definition.name)
                .fetchCount(db)
        }
        let oldest: Int64? = row?["oldest"]
        return QueueDepth(
            visible: row?["visible"] ?? 0,
            inFlight: row?["in_flight"] ?? 0,
            deadLetters: deadLetters,
            oldestAgeMilliseconds: oldest.map { max(nowMs - $0, 0) })
    }

    // MARK: Receive

    private struct ReceiveOutcome: Sendable {
        var messages: [QueueMessage]
        /// When the earliest in-flight message becomes visible again, if nothing was received.
        var nextVisibleAt: Int64?
    }

    /// One receive attempt in one write transaction, so concurrent receivers never get the same message.
    private static func receiveNow(
        from queue: String, maxMessages: Int, visibilityTimeout: Duration?, in db: Database, context: MessagingContext
    ) throws -> ReceiveOutcome {
        let definition = try QueueDefinition.find(db, named: queue)
        let now = context.clock.now().millisecondsSinceEpoch
        let visibleAt = now + (visibilityTimeout?.wholeMilliseconds ?? definition.visibilityTimeoutMs)
        let candidates = try db.cachedStatement(sql: """
            SELECT id, message_id, body, attributes, sent_at, receive_count, last_error FROM queue_message
            WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?
            """)
        var markReceived = try DirectStatement(db.cachedStatement(sql: """
            UPDATE queue_message SET receive_count = receive_count + 1, receipt_handle = ?, visible_at = ? WHERE id = ?
            """))
        let moveToDeadLetters = try db.cachedStatement(sql: """
            UPDATE queue_message SET queue = ?, source_queue = ?, dead_lettered_at = ?, visible_at = ?, receipt_handle = NULL
            WHERE id = ?
            """)
        var received: [QueueMessage] = []
        var handled = Set<Int64>()
        var deadLettered: [(messageId: String, receiveCount: Int, lastError: String?)] = []
        while received.count < maxMessages {
            let wanted = maxMessages - received.count
            // Messages handled in an earlier round may still match (a zero visibility timeout): fetch enough to skip them.
            let rows = try Row.fetchAll(candidates, arguments: [queue, now, wanted + handled.count])
            var progressed = false
            // Columns by position, in the SELECT's order: reading by name compares column names on every read.
            for row in rows where received.count < maxMessages {
                let id: Int64 = row[0]
                guard handled.insert(id).inserted else { continue }
                progressed = true
                let receiveCount: Int = row[5]
                let messageId: String = row[1]
                if let deadLetterQueue = definition.deadLetterQueue, receiveCount >= definition.maxReceiveCount {
                    // Poison never blocks: after maxReceiveCount failed receives the message leaves the queue.
                    try moveToDeadLetters.execute(arguments: [deadLetterQueue, queue, now, now, id])
                    deadLettered.append((messageId, receiveCount, row[6]))
                    continue
                }
                let receiptHandle = UUID().uuidString.lowercased()
                markReceived.bind(receiptHandle)
                markReceived.bind(visibleAt)
                markReceived.bind(id)
                try markReceived.run(in: db)
                let body: Data = row[2]
                received.append(QueueMessage(
                    messageId: messageId, body: [UInt8](body), attributes: try StoredAttributes.decode(row[3]),
                    receiptHandle: receiptHandle, receiveCount: receiveCount + 1,
                    sentAt: Timestamp(millisecondsSinceEpoch: row[4])))
            }
            if !progressed { break }
        }
        if let deadLetterQueue = definition.deadLetterQueue, !deadLettered.isEmpty {
            let signal = context.signals.signal(.queue(deadLetterQueue))
            let logger = context.logger
            let moved = deadLettered
            db.afterNextTransaction { _ in
                for message in moved {
                    logger.warning("message moved to dead-letter queue", metadata: [
                        "queue": "\(queue)", "deadLetterQueue": "\(deadLetterQueue)", "messageId": "\(message.messageId)",
                        "receiveCount": "\(message.receiveCount)", "lastError": "\(message.lastError ?? "")",
                    ])
                }
                signal.notify()
            }
        }
        var nextVisibleAt: Int64?
        if received.isEmpty {
            nextVisibleAt = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(visible_at) FROM queue_message WHERE queue = ? AND visible_at > ?"),
                arguments: [queue, now])
        }
        return ReceiveOutcome(messages: received, nextVisibleAt: nextVisibleAt)
    }
}
