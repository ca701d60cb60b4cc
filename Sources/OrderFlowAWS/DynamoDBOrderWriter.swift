import AWSKit
import Foundation
import OrderFlowCore

/// Writes orders to DynamoDB in as few requests as the guarantees allow: up to `ordersPerTransaction` new orders and
/// one outbox item holding all their events go into one `TransactWriteItems` (all or nothing, so an acknowledged order
/// always has its events). Each order is put under `attribute_not_exists(OrderID)`; when a transaction is cancelled,
/// one consistent `BatchGetItem` finds the orders that exist (each a replay or a conflict, told apart by the payload
/// hash) and the rest are written again.
struct DynamoDBOrderWriter: Sendable {
    let dynamoDB: DynamoDB
    let tables: DynamoDBOrderStore.Tables
    let maximumConcurrency: Int

    /// 99 orders + 1 outbox item per transaction: DynamoDB's 100 items per transaction (fewer requests per order on
    /// both paths), while `outboxItemBudget` keeps the outbox item (two events of about 1 KB per high-value order)
    /// below the 400 KB item limit by closing a chunk early.
    static let ordersPerTransaction = 99
    /// Attempts of a transaction cancelled by concurrent writers rather than by existing orders.
    static let transactionAttempts = 6

    /// One outcome per submission, in order. Several submissions of one id in the same call are written once; the
    /// later ones are replays or conflicts of the first.
    /// Transactions in flight at once for bulk work (an upload batch: a thousand orders in one call). One: it is
    /// throughput work (one 99-order transaction at a time is still thousands of orders a second on DynamoDB), and eleven
    /// at once would take a burst of the table's write capacity from the API's requests. moto fails concurrent
    /// transactions on one table with HTTP 500 (it deep-copies a table another thread changes): with two at a time, a
    /// batch of ten files failed there again and again.
    static let bulkConcurrency = 1

    /// `hold`, when given, marks the submissions as bulk work: it goes on the outbox items written (see
    /// `OutboxItemMapping.Hold`), and at most `bulkConcurrency` transactions run at once.
    func write(_ submissions: [OrderSubmission], hold: OutboxItemMapping.Hold? = nil) async throws -> [AcceptOutcome] {
        var firstIndex: [OrderID: Int] = [:]
        var unique: [OrderSubmission] = []
        for submission in submissions where firstIndex[submission.order.id] == nil {
            firstIndex[submission.order.id] = unique.count
            unique.append(submission)
        }
        let chunks = Self.transactionChunks(unique)
        let chunkOutcomes: [[AcceptOutcome]] = try await concurrentMap(chunks, limit: hold == nil ? maximumConcurrency : min(maximumConcurrency, Self.bulkConcurrency)) { chunk in
            try await self.writeChunk(chunk, hold: hold)
        }
        let uniqueOutcomes = chunkOutcomes.flatMap { $0 }
        var outcomes: [AcceptOutcome] = []
        outcomes.reserveCapacity(submissions.count)
        var answered: Set<OrderID> = []
        for submission in submissions {
            let id = submission.order.id
            guard let index = firstIndex[id] else { preconditionFailure("every id was indexed") }
            let first = uniqueOutcomes[index]
            if answered.insert(id).inserted {
                outcomes.append(first)
                continue
            }
            let stored: Order
            switch first {
            case .created(let order), .replayed(let order): stored = order
            case .conflict(let existing): stored = existing
            }
            outcomes.append(stored.payloadHash == submission.order.payloadHash ? .replayed(stored) : .conflict(existing: stored))
        }
        return outcomes
    }

    /// The outbox item of a transaction holds the events of all its orders; this keeps it below 400 KB with room to spare.
    static let outboxItemBudget = 300 * 1024

    /// Consecutive chunks of at most `ordersPerTransaction` orders whose events fit the outbox item budget (an order
    /// over the budget on its own goes alone).
    static func transactionChunks(_ submissions: [OrderSubmission]) -> [[OrderSubmission]] {
        // An event is the order's JSON plus a small envelope: estimate by the order's encoded size.
        submissions.chunks(ofAtMost: ordersPerTransaction, bytes: outboxItemBudget) { $0.events.count * ($0.order.encodedJSON().count + 256) }
    }

    /// Writes one chunk (distinct ids); outcomes in chunk order.
    private func writeChunk(_ chunk: [OrderSubmission], hold: OutboxItemMapping.Hold?) async throws -> [AcceptOutcome] {
        var outcomes: [OrderID: AcceptOutcome] = [:]
        var remaining = chunk
        var attempt = 0
        while !remaining.isEmpty {
            attempt += 1
            do {
                // A new token per attempt (the writes differ); the client's own retries of one attempt reuse it.
                try await dynamoDB.transactWriteItems(writes(for: remaining, hold: hold), clientRequestToken: UUID().uuidString)
                for submission in remaining { outcomes[submission.order.id] = .created(submission.order) }
                remaining = []
                break
            } catch {
                guard error.serviceError?.hasCode("TransactionCanceledException") == true else { throw error }
            }
            let existing = try await existingOrders(remaining.map(\.order.id))
            if existing.isEmpty {
                // Nothing to tell replay from conflict with: another transaction held one of the items. Try again.
                guard attempt < Self.transactionAttempts else {
                    throw DynamoDBStoreError.transactionKeptCancelling(remaining[0].order.id)
                }
                try await Task.sleep(for: .milliseconds(Int64(15 << min(attempt, 5))))
                continue
            }
            for submission in remaining {
                guard let stored = existing[submission.order.id] else { continue }
                outcomes[submission.order.id] = stored.payloadHash == submission.order.payloadHash ? .replayed(stored) : .conflict(existing: stored)
            }
            remaining.removeAll { existing[$0.order.id] != nil }
        }
        return chunk.map { submission in
            guard let outcome = outcomes[submission.order.id] else { preconditionFailure("every submission was answered") }
            return outcome
        }
    }

    private func writes(for submissions: [OrderSubmission], hold: OutboxItemMapping.Hold?) -> [DynamoDB.TransactWrite] {
        let isNew = DynamoDB.Expression("attribute_not_exists(#id)", names: ["#id": OrderItemMapping.Attribute.orderID])
        var writes: [DynamoDB.TransactWrite] = []
        writes.reserveCapacity(submissions.count + 1)
        var events: [OutboxItemMapping.Event] = []
        for submission in submissions {
            let order = submission.order
            writes.append(.put(table: tables.orders, item: OrderItemMapping.item(for: order), condition: isNew))
            let orderJSON = order.encodedJSON()
            for event in submission.events {
                events.append(OutboxItemMapping.Event(
                    eventID: event.eventId, type: event.type, partitionKey: event.orderId.rawValue,
                    payload: event.encoded(orderJSON: orderJSON)
                ))
            }
        }
        if !events.isEmpty {
            let createdAt = submissions.map(\.order.createdAt).min() ?? Timestamp(millisecondsSinceEpoch: 0)
            let item = OutboxItemMapping.item(batchID: "b-" + UUID().uuidString, events: events, createdAt: createdAt, hold: hold)
            writes.append(.put(table: tables.outbox, item: item, condition: nil))
        }
        return writes
    }

    /// The stored orders among `ids` (consistent reads, 100 keys per call, unprocessed keys read again).
    func existingOrders(_ ids: [OrderID]) async throws -> [OrderID: Order] {
        var found: [OrderID: Order] = [:]
        for chunk in ids.chunks(of: DynamoDB.batchGetLimit) {
            var keys = chunk.map(OrderItemMapping.key)
            var rounds = 0
            while !keys.isEmpty {
                rounds += 1
                let page = try await dynamoDB.batchGetItem(table: tables.orders, keys: keys)
                for item in page.items {
                    let order = try OrderItemMapping.order(from: item)
                    found[order.id] = order
                }
                keys = page.unprocessed
                if !keys.isEmpty {
                    guard rounds < 8 else { throw DynamoDBStoreError.readsKeptUnprocessed(count: keys.count) }
                    try await Task.sleep(for: .milliseconds(Int64(25 << min(rounds, 5))))
                }
            }
        }
        return found
    }
}
