import AWSKit
import Foundation
import OrderFlowCore

/// The AWS `OrderStore` and `Outbox`: each order and its events go into DynamoDB in one `TransactWriteItems` (the order
/// in `Orders` under the condition that its id is new, each event as an item of `OrdersOutbox`), so an acknowledged
/// order always has its events, whatever happens to the process afterwards. The relay deletes an outbox item only
/// after it was published.
public final class DynamoDBOrderStore: OrderStore, Outbox, Sendable {
    /// Table names (the seeds' defaults).
    public struct Tables: Sendable, Hashable {
        public var orders: String
        public var outbox: String

        public init(orders: String = "Orders", outbox: String = "OrdersOutbox") {
            self.orders = orders
            self.outbox = outbox
        }
    }

    private let dynamoDB: DynamoDB
    private let tables: Tables
    private let maximumConcurrency: Int
    private let localCommits = ChangeSignal()
    /// Concurrent callers (API requests) share transactions: while one flush is in flight, the next one collects.
    private let groupCommit: GroupCommit<[OrderSubmission], [AcceptOutcome]>
    private let writer: DynamoDBOrderWriter
    /// How often `waitForEntries` looks again for events written by other processes.
    private let pollInterval: Duration

    /// How long the relay lets commits gather after a local one before it scans: one relay round (Scan, PutRecords,
    /// PublishBatch, BatchWriteItem) then carries many orders' events instead of a few. It delays publishing, never the
    /// order's acknowledgement.
    private let batchWindow: Duration
    /// Bulk work (an upload batch being ingested) the relay lets finish before it scans, at most `maximumHold`.
    private let bulkWork: WorkInProgress?
    private let maximumHold: Duration
    /// This process, as the holder of the outbox items it writes during bulk work.
    private let instanceID = UUID().uuidString
    private let clock: any WallClock

    /// How long after its relay's longest hold an outbox item written during bulk work stays reserved for its writer:
    /// the time that relay may need to scan and publish. Past it, the writer is taken for dead and any relay takes
    /// the item.
    public static let bulkHoldMargin = Duration.seconds(60)

    /// `pollInterval`: how often the relay looks for events other processes left behind (an instance that died after
    /// committing); this process's own commits wake it at once, after `batchWindow` and after `bulkWork` in progress has
    /// ended (waiting at most `maximumHold` for it). Outbox items written while `bulkWork` is in progress are held for
    /// this process's relay: other processes' relays take them only after `maximumHold` + `bulkHoldMargin` by `clock`,
    /// so a batch is not relayed piecemeal by an API instance that happens to scan while it is being written.
    public init(dynamoDB: DynamoDB, tables: Tables = Tables(), maximumConcurrency: Int = 16, pollInterval: Duration = .seconds(5),
                batchWindow: Duration = .milliseconds(100), bulkWork: WorkInProgress? = nil, maximumHold: Duration = .seconds(30),
                clock: any WallClock = SystemClock()) {
        self.clock = clock
        self.batchWindow = batchWindow
        self.bulkWork = bulkWork
        self.maximumHold = maximumHold
        self.dynamoDB = dynamoDB
        self.tables = tables
        self.maximumConcurrency = maximumConcurrency
        self.pollInterval = pollInterval
        let writer = DynamoDBOrderWriter(dynamoDB: dynamoDB, tables: tables, maximumConcurrency: maximumConcurrency)
        self.writer = writer
        let instanceID = instanceID
        let holdMilliseconds = (maximumHold + Self.bulkHoldMargin).components.seconds * 1000
        groupCommit = GroupCommit(maximumBatch: 500) { calls in
            let hold = (bulkWork?.count ?? 0) > 0
                ? OutboxItemMapping.Hold(holder: instanceID, until: clock.now().adding(milliseconds: holdMilliseconds)) : nil
            let outcomes = try await writer.write(calls.flatMap { $0 }, hold: hold)
            var split: [[AcceptOutcome]] = []
            split.reserveCapacity(calls.count)
            var start = 0
            for call in calls {
                split.append(Array(outcomes[start..<(start + call.count)]))
                start += call.count
            }
            return split
        }
    }

    // MARK: Accepting orders

    public func accept(_ submissions: [OrderSubmission]) async throws -> [AcceptOutcome] {
        guard !submissions.isEmpty else { return [] }
        let outcomes = try await groupCommit.submit(submissions)
        if outcomes.contains(where: { if case .created = $0 { true } else { false } }) {
            localCommits.notify()
        }
        return outcomes
    }

    // MARK: Reading orders

    public func order(_ id: OrderID) async throws -> Order? {
        guard let item = try await dynamoDB.getItem(table: tables.orders, key: OrderItemMapping.key(id)) else { return nil }
        return try OrderItemMapping.order(from: item)
    }

    /// Lists in the table's own stable order (DynamoDB's key order), not by creation time: a scan has no other order.
    /// The cursor is the last returned id; the next page's scan starts right after it.
    public func orders(matching query: OrderQuery) async throws -> OrderPage {
        let limit = max(1, min(query.limit, OrderQuery.maximumLimit))
        var startKey: DynamoDBItem? = nil
        if let cursor = query.cursor {
            guard let id = Self.decodeCursor(cursor) else { throw OrderStoreError.invalidCursor }
            startKey = OrderItemMapping.key(id)
        }
        let filter = Self.filter(for: query)
        var orders: [Order] = []
        while true {
            let page = try await dynamoDB.scan(table: tables.orders, limit: max(limit - orders.count + 1, 100), startKey: startKey, filter: filter)
            for item in page.items {
                if orders.count == limit {
                    // One more match exists: there is a next page, starting after the last one returned.
                    return OrderPage(orders: orders, nextCursor: orders.last.map { Self.encodeCursor($0.id) })
                }
                orders.append(try OrderItemMapping.order(from: item))
            }
            guard let next = page.lastEvaluatedKey else {
                return OrderPage(orders: orders, nextCursor: nil)
            }
            startKey = next
        }
    }

    static func filter(for query: OrderQuery) -> DynamoDB.Expression? {
        var clauses: [String] = []
        var names: [String: String] = [:]
        var values: DynamoDBItem = [:]
        if let status = query.status {
            clauses.append("#status = :status")
            names["#status"] = OrderItemMapping.Attribute.status
            values[":status"] = .string(status.rawValue)
        }
        if let customer = query.customerId {
            clauses.append("#customer = :customer")
            names["#customer"] = OrderItemMapping.Attribute.customerID
            values[":customer"] = .string(customer)
        }
        if let highValue = query.highValue {
            clauses.append("#highValue = :highValue")
            names["#highValue"] = OrderItemMapping.Attribute.highValue
            values[":highValue"] = .bool(highValue)
        }
        if let review = query.review {
            clauses.append("#review = :review")
            names["#review"] = OrderItemMapping.Attribute.review
            values[":review"] = .string(review.rawValue)
        }
        guard !clauses.isEmpty else { return nil }
        return DynamoDB.Expression(clauses.joined(separator: " AND "), names: names, values: values)
    }

    static func encodeCursor(_ id: OrderID) -> String {
        Data("d:\(id.rawValue)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String) -> OrderID? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8), text.hasPrefix("d:") else {
            return nil
        }
        return OrderID(String(text.dropFirst(2)))
    }

    // MARK: Lifecycle

    /// How many times a lifecycle update that lost a race with another writer is tried again on the fresh order.
    static let updateAttempts = 5

    /// Reads the order, decides with `OrderLifecycle`, and writes the change only if the order still has the status and
    /// review it was decided on (optimistic concurrency; a lost race is decided again on the fresh order).
    public func apply(_ action: OrderAction, to id: OrderID, at time: Timestamp) async throws -> Order {
        for _ in 1...Self.updateAttempts {
            guard let current = try await order(id) else { throw OrderStoreError.notFound(id) }
            let next: Order
            switch OrderLifecycle.apply(action, to: current, at: time) {
            case .failure(let illegal): throw OrderStoreError.illegalTransition(illegal)
            case .success(nil): return current
            case .success(let changed?): next = changed
            }
            let item: DynamoDBItem
            do {
                item = try await dynamoDB.updateItem(
                    table: tables.orders, key: OrderItemMapping.key(id),
                    update: Self.update(to: next), condition: Self.unchanged(since: current)
                )
            } catch {
                guard error.serviceError?.hasCode("ConditionalCheckFailedException") == true else { throw error }
                continue
            }
            return try OrderItemMapping.order(from: item)
        }
        throw DynamoDBStoreError.updateKeptConflicting(id)
    }

    /// A worker's batch (the review worker opens up to 10 reviews at once): one `BatchGetItem`, then every change in one
    /// `TransactWriteItems` of conditional updates. If that is cancelled (an order changed meanwhile), each order is
    /// decided again on its own with `apply(_:to:at:)`.
    public func apply(_ action: OrderAction, to ids: [OrderID], at time: Timestamp) async throws -> [Result<Order, OrderStoreError>] {
        guard ids.count > 1, Set(ids).count == ids.count, ids.count <= 100 else {
            return try await applyOneByOne(action, to: ids, at: time)
        }
        let current = try await writer.existingOrders(ids)
        var results: [Result<Order, OrderStoreError>] = []
        var writes: [DynamoDB.TransactWrite] = []
        for id in ids {
            guard let order = current[id] else {
                results.append(.failure(.notFound(id)))
                continue
            }
            switch OrderLifecycle.apply(action, to: order, at: time) {
            case .failure(let illegal): results.append(.failure(.illegalTransition(illegal)))
            case .success(nil): results.append(.success(order))
            case .success(let next?):
                results.append(.success(next))
                writes.append(.update(table: tables.orders, key: OrderItemMapping.key(id), update: Self.update(to: next),
                                      condition: Self.unchanged(since: order)))
            }
        }
        guard !writes.isEmpty else { return results }
        do {
            try await dynamoDB.transactWriteItems(writes, clientRequestToken: UUID().uuidString)
            return results
        } catch {
            guard error.serviceError?.hasCode("TransactionCanceledException") == true else { throw error }
        }
        return try await applyOneByOne(action, to: ids, at: time)
    }

    private func applyOneByOne(_ action: OrderAction, to ids: [OrderID], at time: Timestamp) async throws -> [Result<Order, OrderStoreError>] {
        var results: [Result<Order, OrderStoreError>] = []
        for id in ids {
            do {
                results.append(.success(try await apply(action, to: id, at: time)))
            } catch let refusal as OrderStoreError {
                results.append(.failure(refusal))
            }
        }
        return results
    }

    static func update(to next: Order) -> DynamoDB.Expression {
        var names: [String: String] = ["#status": OrderItemMapping.Attribute.status, "#updatedAt": OrderItemMapping.Attribute.updatedAt]
        var values: DynamoDBItem = [":newStatus": .string(next.status.rawValue), ":updatedAt": .int(next.updatedAt.millisecondsSinceEpoch)]
        var text = "SET #status = :newStatus, #updatedAt = :updatedAt"
        names["#review"] = OrderItemMapping.Attribute.review
        if let review = next.review {
            values[":newReview"] = .string(review.rawValue)
            text += ", #review = :newReview"
        } else {
            text += " REMOVE #review"
        }
        return DynamoDB.Expression(text, names: names, values: values)
    }

    static func unchanged(since current: Order) -> DynamoDB.Expression {
        var names: [String: String] = ["#status": OrderItemMapping.Attribute.status, "#review": OrderItemMapping.Attribute.review]
        names["#id"] = OrderItemMapping.Attribute.orderID
        var values: DynamoDBItem = [":oldStatus": .string(current.status.rawValue)]
        var text = "attribute_exists(#id) AND #status = :oldStatus"
        if let review = current.review {
            values[":oldReview"] = .string(review.rawValue)
            text += " AND #review = :oldReview"
        } else {
            text += " AND attribute_not_exists(#review)"
        }
        return DynamoDB.Expression(text, names: names, values: values)
    }

    // MARK: Outbox

    /// Waiting events in whole outbox items, oldest item first, at most `limit` unless a single item holds more (a
    /// strongly consistent scan of the outbox table).
    /// Lets bulk work in progress finish first (see `waitForEntries`): a relay round that follows a productive one
    /// starts without waiting for a signal, and would otherwise take an upload batch's events piecemeal.
    public func pending(limit: Int) async throws -> [OutboxEntry] {
        if let bulkWork, bulkWork.count > 0 { await holdForBulkWork() }
        var items: [OutboxItemMapping.Read] = []
        var count = 0
        let now = clock.now()
        var startKey: DynamoDBItem? = nil
        repeat {
            let page = try await dynamoDB.scan(table: tables.outbox, limit: 100, startKey: startKey)
            for item in page.items {
                guard let read = OutboxItemMapping.entries(from: item) else {
                    throw DynamoDBStoreError.unreadableOutboxItem(item[OutboxItemMapping.Attribute.eventID]?.stringValue ?? "?")
                }
                guard read.isAvailable(to: instanceID, at: now) else { continue }
                items.append(read)
                count += read.entries.count
            }
            startKey = page.lastEvaluatedKey
        } while startKey != nil && count < limit
        items.sort { ($0.createdAt, $0.key) < ($1.createdAt, $1.key) }
        // Whole items up to the limit (at least one); the others stay for the next round.
        var entries: [OutboxEntry] = []
        for item in items {
            if !entries.isEmpty && entries.count + item.entries.count > limit { break }
            entries += item.entries
        }
        return entries
    }

    /// Deletes the outbox items the entries came from (25 per call); keys DynamoDB leaves unprocessed are sent again.
    /// The relay marks whole items, as `pending` handed them out.
    public func markDelivered(_ entries: [OutboxEntry]) async throws {
        var seen: Set<String> = []
        let keys = entries.map(\.receipt).filter { seen.insert($0).inserted }.map(OutboxItemMapping.key(eventID:))
        for chunk in keys.chunks(of: DynamoDB.batchWriteLimit) {
            var keys = chunk
            var attempt = 0
            while !keys.isEmpty {
                keys = try await dynamoDB.batchDelete(table: tables.outbox, keys: keys)
                attempt += 1
                if !keys.isEmpty {
                    guard attempt < 8 else { throw DynamoDBStoreError.deletesKeptUnprocessed(count: keys.count) }
                    try await Task.sleep(for: .milliseconds(25 << min(attempt, 5)))
                }
            }
        }
    }

    /// Events waiting (it reads every outbox item: a monitoring call, not a hot path).
    public func backlog() async throws -> Int {
        var total = 0
        var startKey: DynamoDBItem? = nil
        repeat {
            let page = try await dynamoDB.scan(table: tables.outbox, startKey: startKey)
            for item in page.items { total += OutboxItemMapping.entries(from: item)?.entries.count ?? 0 }
            startKey = page.lastEvaluatedKey
        } while startKey != nil
        return total
    }

    /// After this process committed new events: returns once its bulk work has been idle for `batchWindow` (bulk work
    /// that keeps coming holds it at most `maximumHold`). Otherwise after the poll interval (other processes' events have
    /// no signal here) or `timeout`, whichever is first.
    public func waitForEntries(timeout: Duration) async {
        let seen = localCommits.generation
        await localCommits.wait(since: seen, timeout: min(timeout, pollInterval))
        guard localCommits.generation != seen else { return }
        await holdForBulkWork()
    }

    /// Returns once the bulk work has been idle for `batchWindow`, or after `maximumHold`.
    private func holdForBulkWork() async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: maximumHold)
        repeat {
            await bulkWork?.waitUntilIdle(timeout: clock.now.duration(to: deadline))
            if batchWindow > .zero {
                try? await Task.sleep(for: batchWindow)
            }
        } while (bulkWork?.count ?? 0) > 0 && clock.now < deadline && !Task.isCancelled
    }
}

/// Failures of the DynamoDB store that are not the API's refusals.
public enum DynamoDBStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case transactionKeptCancelling(OrderID)
    case updateKeptConflicting(OrderID)
    case unreadableOutboxItem(String)
    case deletesKeptUnprocessed(count: Int)
    case readsKeptUnprocessed(count: Int)

    public var description: String {
        switch self {
        case .transactionKeptCancelling(let id):
            "DynamoDB kept cancelling the transaction for order \(id) although the order does not exist; try again"
        case .updateKeptConflicting(let id):
            "order \(id) kept changing under concurrent updates; try again"
        case .unreadableOutboxItem(let id):
            "outbox item \(id) is missing attributes"
        case .deletesKeptUnprocessed(let count):
            "DynamoDB left \(count) outbox deletes unprocessed after repeated attempts"
        case .readsKeptUnprocessed(let count):
            "DynamoDB left \(count) order reads unprocessed after repeated attempts"
        }
    }
}
