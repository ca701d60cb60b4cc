import Foundation
import GRDB
import OrderFlowCore

/// The embedded `OrderStore` and `Outbox`: orders and their events in one SQLite transaction, group-committed.
public final class SQLiteOrderStore: OrderStore, Outbox, Sendable {
    let database: AppDatabase
    private let outboxSignal = ChangeSignal()
    private let submissions: BatchedWrite<PreparedSubmission, AcceptOutcome>
    /// Whether `order.accepted` events go straight to the orders stream instead of the outbox.
    private let streamsAcceptedEvents: Bool

    /// With `ordersStream` (which must live in `database`), `order.accepted` events are appended to the stream in the
    /// transaction that stores their orders instead of going through the outbox and the relay: the same all-or-nothing
    /// guarantee with one write instead of three (outbox insert, stream insert, outbox delete). Events for the topic
    /// still go through the outbox, so a failing subscriber never fails an order.
    public init(database: AppDatabase, ordersStream: SQLiteStream? = nil) {
        self.database = database
        streamsAcceptedEvents = ordersStream != nil
        // Every submission queued for a shared transaction is accepted in one call, with one stream append and one
        // audit append for all of them; the background writes that are ready (relay, queues, reviews, analytics) share
        // the transaction and its disk flush instead of paying for their own.
        submissions = BatchedWrite { submissions, db in
            var streamEntries: [StreamEntry] = []
            var audit: [AuditRecord] = []
            let outcomes = try submissions.map { submission in
                let (outcome, toStream) = try Self.accept(submission, in: db, eventsToStream: ordersStream != nil)
                streamEntries.append(contentsOf: toStream)
                if let record = submission.audit { audit.append(record.completed(by: outcome)) }
                return outcome
            }
            if let ordersStream {
                for chunk in streamEntries.chunks(of: MessagingBatchLimit.streamPut) { try ordersStream.append(chunk, in: db) }
            }
            if !audit.isEmpty { _ = try SQLiteAuditTrail.append(audit, in: db) }
            return outcomes
        }
    }

    /// The audit trail lives in the same database: a submission's audit entry commits with its order.
    public var recordsAuditWithOrders: Bool { true }

    public func accept(_ submissions: [OrderSubmission]) async throws -> [AcceptOutcome] {
        guard !submissions.isEmpty else { return [] }
        // Encoding happens here, on the caller's task and in parallel; the single writer only runs SQL.
        let outcomes = try await database.write(submissions.map(PreparedSubmission.init), with: self.submissions)
        // The relay is woken only when there is something for it: with the stream in the orders' transaction, most
        // orders (all but the high-value ones) leave nothing in the outbox.
        let wroteOutbox = zip(submissions, outcomes).contains { submission, outcome in
            guard case .created = outcome else { return false }
            return submission.events.contains { !Self.goesToStream($0, eventsToStream: streamsAcceptedEvents) }
        }
        if wroteOutbox { outboxSignal.notify() }
        return outcomes
    }

    /// Inserts one order and its outbox events unless the id exists; tells replay from conflict by content hash. With
    /// `eventsToStream`, `order.accepted` events are returned for the stream instead of written to the outbox.
    static func accept(_ submission: PreparedSubmission, in db: Database, eventsToStream: Bool = false) throws -> (AcceptOutcome, [StreamEntry]) {
        let order = submission.order
        // Insert first: a new id (the common case) costs one probe of the order_id index instead of a lookup and an
        // insert. Only when the id exists is the stored row read, to tell a replay from a conflict by content hash.
        // Bound through SQLite's C API: this insert runs on the single writer for every order (see DirectStatement).
        var insertOrder = try DirectStatement(db.cachedStatement(sql: """
            INSERT INTO orders (order_id, customer_id, currency, amount_minor, items, high_value, status, review, source,
                                payload_hash, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(order_id) DO NOTHING
            """))
        insertOrder.bind(order.id.rawValue)
        insertOrder.bind(order.customerId)
        insertOrder.bind(order.currency.code)
        insertOrder.bind(order.amountMinor)
        insertOrder.bind(submission.itemsText)
        insertOrder.bind(order.highValue)
        insertOrder.bind(order.status.rawValue)
        insertOrder.bind(order.review?.rawValue)
        insertOrder.bind(order.source)
        insertOrder.bind(order.payloadHash)
        insertOrder.bind(order.createdAt.millisecondsSinceEpoch)
        insertOrder.bind(order.updatedAt.millisecondsSinceEpoch)
        try insertOrder.run(in: db)
        if db.changesCount == 0 {
            let lookup = try db.cachedStatement(sql: "SELECT \(OrderRecord.Columns.all) FROM orders WHERE order_id = ?")
            guard let row = try Row.fetchOne(lookup, arguments: [order.id.rawValue]) else {
                throw DatabaseError(message: "order \(order.id) was neither inserted nor found")
            }
            let existing = try OrderRecord.order(from: row)
            return (existing.payloadHash == order.payloadHash ? .replayed(existing) : .conflict(existing: existing), [])
        }
        var insertEvent = try DirectStatement(db.cachedStatement(sql: """
            INSERT INTO outbox (event_id, type, partition_key, payload, created_at) VALUES (?, ?, ?, ?, ?)
            """))
        var toStream: [StreamEntry] = []
        for (event, payload) in zip(submission.events, submission.payloads) {
            if Self.goesToStream(event, eventsToStream: eventsToStream) {
                toStream.append(StreamEntry(partitionKey: event.orderId.rawValue, data: Array(payload)))
                continue
            }
            insertEvent.bind(event.eventId)
            insertEvent.bind(event.type.rawValue)
            insertEvent.bind(event.orderId.rawValue)
            insertEvent.bind(bytes: payload)
            insertEvent.bind(order.createdAt.millisecondsSinceEpoch)
            try insertEvent.run(in: db)
        }
        return (.created(order), toStream)
    }

    /// Whether `event` is appended to the orders stream in the order's transaction rather than written to the outbox.
    static func goesToStream(_ event: OrderEvent, eventsToStream: Bool) -> Bool {
        eventsToStream && event.type == .accepted
    }

    /// A submission with its column and event encodings done, ready for the writer.
    struct PreparedSubmission: Sendable {
        let order: Order
        let events: [OrderEvent]
        let audit: AuditRecord?
        let itemsText: String
        let payloads: [Data]

        init(_ submission: OrderSubmission) {
            order = submission.order
            events = submission.events
            audit = submission.audit
            itemsText = OrderRecord.encodeItems(order.items)
            let orderJSON = order.encodedJSON()
            payloads = submission.events.map { Data($0.encoded(orderJSON: orderJSON)) }
        }
    }

    public func order(_ id: OrderID) async throws -> Order? {
        try await database.pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(OrderRecord.Columns.all) FROM orders WHERE order_id = ?"), arguments: [id.rawValue])
                .map(OrderRecord.order(from:))
        }
    }

    public func orders(matching query: OrderQuery) async throws -> OrderPage {
        var conditions: [String] = []
        var arguments: [DatabaseValue] = []
        if let cursor = query.cursor {
            guard let seq = Self.decodeCursor(cursor) else { throw OrderStoreError.invalidCursor }
            conditions.append("seq > ?")
            arguments.append(seq.databaseValue)
        }
        if let status = query.status {
            conditions.append("status = ?")
            arguments.append(status.rawValue.databaseValue)
        }
        if let customer = query.customerId {
            conditions.append("customer_id = ?")
            arguments.append(customer.databaseValue)
        }
        if let highValue = query.highValue {
            conditions.append("high_value = ?")
            arguments.append(highValue.databaseValue)
        }
        if let review = query.review {
            conditions.append("review = ?")
            arguments.append(review.rawValue.databaseValue)
        }
        let limit = max(1, min(query.limit, OrderQuery.maximumLimit))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(OrderRecord.Columns.all) FROM orders \(whereClause) ORDER BY seq LIMIT \(limit + 1)"
        let values = arguments
        return try await database.pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values))
            let pageRows = rows.prefix(limit)
            let orders = try pageRows.map(OrderRecord.order(from:))
            let next: String? = rows.count > limit ? pageRows.last.map { Self.encodeCursor($0["seq"]) } : nil
            return OrderPage(orders: orders, nextCursor: next)
        }
    }

    public func apply(_ action: OrderAction, to id: OrderID, at time: Timestamp) async throws -> Order {
        try await database.write { db in try Self.apply(action, to: id, at: time, in: db) }
    }

    public func apply(_ action: OrderAction, to ids: [OrderID], at time: Timestamp) async throws -> [Result<Order, OrderStoreError>] {
        guard !ids.isEmpty else { return [] }
        return try await database.write { db in
            try ids.map { id in
                do {
                    return .success(try Self.apply(action, to: id, at: time, in: db))
                } catch let refusal as OrderStoreError {
                    return .failure(refusal)
                }
            }
        }
    }

    static func apply(_ action: OrderAction, to id: OrderID, at time: Timestamp, in db: Database) throws -> Order {
        let lookup = try db.cachedStatement(sql: "SELECT \(OrderRecord.Columns.all) FROM orders WHERE order_id = ?")
        guard let row = try Row.fetchOne(lookup, arguments: [id.rawValue]) else {
            throw OrderStoreError.notFound(id)
        }
        let current = try OrderRecord.order(from: row)
        switch OrderLifecycle.apply(action, to: current, at: time) {
        case .failure(let illegal):
            throw OrderStoreError.illegalTransition(illegal)
        case .success(nil):
            return current
        case .success(let next?):
            var update = try DirectStatement(db.cachedStatement(sql: "UPDATE orders SET status = ?, review = ?, updated_at = ? WHERE order_id = ?"))
            update.bind(next.status.rawValue)
            update.bind(next.review?.rawValue)
            update.bind(next.updatedAt.millisecondsSinceEpoch)
            update.bind(id.rawValue)
            try update.run(in: db)
            return next
        }
    }

    // MARK: Outbox

    public func pending(limit: Int) async throws -> [OutboxEntry] {
        try await database.pool.read { db in try Self.pending(limit: limit, in: db) }
    }

    static func pending(limit: Int, in db: Database) throws -> [OutboxEntry] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT id, event_id, type, partition_key, payload FROM outbox ORDER BY id LIMIT ?"),
                         arguments: [limit])
            .compactMap { row in
                // By position, in the SELECT's order: reading by name compares column names on every read.
                let typeText: String = row[2]
                guard let type = OrderEventType(rawValue: typeText) else { return nil }
                let payload: Data = row[4]
                return OutboxEntry(id: row[0], eventId: row[1], type: type, partitionKey: row[3], payload: Array(payload))
            }
    }

    public func markDelivered(_ entries: [OutboxEntry]) async throws {
        guard !entries.isEmpty else { return }
        let ids = entries.map(\.id)
        try await database.write { db in try Self.markDelivered(ids, in: db) }
    }

    static func markDelivered(_ ids: [Int64], in db: Database) throws {
        var delete = try DirectStatement(db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?"))
        for id in ids {
            delete.bind(id)
            try delete.run(in: db)
        }
    }

    /// Delivery of this store's outbox to a stream and topic in the same database, one transaction per batch.
    public func transactionalDelivery(ordersStream: SQLiteStream, highValueTopic: SQLiteTopic) -> some TransactionalOutboxDelivery {
        SQLiteOutboxDelivery(database: database, stream: ordersStream, topic: highValueTopic)
    }

    public func backlog() async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    public func waitForEntries(timeout: Duration) async {
        let seen = outboxSignal.generation
        let pending = try? await database.pool.read { db in try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM outbox)")) }
        if pending == true { return }
        await outboxSignal.wait(since: seen, timeout: timeout)
    }

    // MARK: Cursors

    static func encodeCursor(_ seq: Int64) -> String {
        Data("o:\(seq)".utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "")
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    static func decodeCursor(_ cursor: String) -> Int64? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("o:"), let seq = Int64(text.dropFirst(2)), seq >= 0 else { return nil }
        return seq
    }
}

/// Moves outbox entries to the stream and topic and deletes them in one SQLite transaction: a crash leaves either all of
/// a batch delivered or none of it, so embedded consumers see each event once (they still de-duplicate regardless).
struct SQLiteOutboxDelivery: TransactionalOutboxDelivery {
    let database: AppDatabase
    let stream: SQLiteStream
    let topic: SQLiteTopic

    func deliverPending(limit: Int) async throws -> Int {
        try await database.write { db in
            let entries = try SQLiteOrderStore.pending(limit: limit, in: db)
            guard !entries.isEmpty else { return 0 }
            let (toStream, toTopic) = OutboxEntry.destinations(of: entries)
            for chunk in toStream.chunks(of: MessagingBatchLimit.streamPut) { try stream.append(chunk, in: db) }
            try topic.publish(toTopic, in: db)
            try SQLiteOrderStore.markDelivered(entries.map(\.id), in: db)
            return entries.count
        }
    }
}
