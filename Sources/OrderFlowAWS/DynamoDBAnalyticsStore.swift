import AWSKit
import OrderFlowCore

/// The `AnalyticsStore` on a DynamoDB table (`OrdersAnalytics`, key `Key`). Exactly-once counting comes from a marker
/// item per order (`order#<id>`), written in the same transaction as the `ADD`s to the totals and the minute bucket
/// under the condition that it is new: a record the relay delivered twice, or a batch read again after a crash before
/// the checkpoint moved, changes nothing. The checkpoint is then only where reading resumes, not what guarantees
/// exactly-once; it goes into the transaction of the batch's last facts (never ahead of them, and no request of its
/// own), so a batch of up to ~95 orders costs one `TransactWriteItems`.
public struct DynamoDBAnalyticsStore: AnalyticsStore {
    private let dynamoDB: DynamoDB
    private let table: String

    /// Orders per transaction: their markers, the totals, the minute buckets and the checkpoint must stay within
    /// DynamoDB's 100 items per transaction; a chunk that would not (orders spread over many minutes) is split.
    static let factsPerTransaction = 96
    static let itemsPerTransaction = 100
    /// Markers outlive the stream's retention (Kinesis keeps 24 hours by default, 7 days at most), after which no
    /// duplicate can arrive; the table's TTL on `ExpiresAt` removes them.
    static let markerLifetimeSeconds: Int64 = 8 * 86_400
    /// Minute buckets are read for an hour; they are removed a day later.
    static let minuteLifetimeSeconds: Int64 = 86_400 + 3_600

    enum Key {
        static let attribute = "Key"
        static let totals = "totals"
        static func order(_ id: OrderID) -> String { "order#\(id.rawValue)" }
        static func minute(_ minute: Int64) -> String { "minute#\(minute)" }
        static func checkpoints(_ consumer: String) -> String { "checkpoints#\(consumer)" }
    }

    public init(dynamoDB: DynamoDB, table: String = "OrdersAnalytics") {
        self.dynamoDB = dynamoDB
        self.table = table
    }

    static func key(_ value: String) -> DynamoDBItem { [Key.attribute: .string(value)] }

    // MARK: Checkpoints

    public func checkpoints(consumer: String) async throws -> [String: String] {
        guard let item = try await dynamoDB.getItem(table: table, key: Self.key(Key.checkpoints(consumer))) else { return [:] }
        var result: [String: String] = [:]
        for (name, value) in item where name.hasPrefix("shard#") {
            if let sequence = value.stringValue { result[String(name.dropFirst(6))] = sequence }
        }
        return result
    }

    // MARK: Counting

    public func apply(_ facts: [OrderFact], consumer: String, shardId: String, checkpoint: String) async throws {
        // The same order twice in one batch would cancel its own transaction: count the first.
        var seen: Set<OrderID> = []
        let unique = facts.filter { seen.insert($0.orderId).inserted }
        let update = DynamoDB.Expression("SET #shard = :sequence", names: ["#shard": "shard#\(shardId)"], values: [":sequence": .string(checkpoint)])
        let checkpointWrite = DynamoDB.TransactWrite.update(table: table, key: Self.key(Key.checkpoints(consumer)), update: update, condition: nil)
        let chunks = Self.transactionChunks(unique)
        var checkpointWritten = false
        for (index, chunk) in chunks.enumerated() {
            checkpointWritten = try await count(chunk, checkpoint: index == chunks.count - 1 ? checkpointWrite : nil)
        }
        if !checkpointWritten {
            _ = try await dynamoDB.updateItem(table: table, key: Self.key(Key.checkpoints(consumer)), update: update)
        }
    }

    /// `facts` in chunks whose transaction (one marker per fact, the totals, one bucket per distinct minute, the
    /// checkpoint) fits.
    static func transactionChunks(_ facts: [OrderFact]) -> [[OrderFact]] {
        var chunks: [[OrderFact]] = []
        var pending = facts.chunks(of: factsPerTransaction)
        while let chunk = pending.first {
            pending.removeFirst()
            let minutes = Set(chunk.map(\.time.epochMinute)).count
            if chunk.count + 2 + minutes <= itemsPerTransaction || chunk.count == 1 {
                chunks.append(chunk)
            } else {
                let half = chunk.count / 2
                pending.insert(contentsOf: [Array(chunk[..<half]), Array(chunk[half...])], at: 0)
            }
        }
        return chunks
    }

    /// Counts `facts` not counted before, in one transaction with `checkpoint` when given; a cancelled transaction
    /// (some were counted already, or a concurrent writer) is retried with the facts whose markers are still missing,
    /// and none may be. Returns whether the checkpoint was written.
    private func count(_ facts: [OrderFact], checkpoint: DynamoDB.TransactWrite?) async throws -> Bool {
        var remaining = facts
        for attempt in 1...5 {
            if remaining.isEmpty { return false }
            do {
                try await dynamoDB.transactWriteItems(writes(for: remaining) + (checkpoint.map { [$0] } ?? []))
                return checkpoint != nil
            } catch {
                guard error.serviceError?.hasCode("TransactionCanceledException") == true else { throw error }
            }
            let counted = try await existingMarkers(for: remaining)
            remaining = remaining.filter { !counted.contains($0.orderId) }
            if attempt > 1 { try await Task.sleep(for: .milliseconds(20 * attempt)) }
        }
        if !remaining.isEmpty { throw DynamoDBAnalyticsError.transactionKeptCancelling(remaining.count) }
        return false
    }

    func writes(for facts: [OrderFact]) -> [DynamoDB.TransactWrite] {
        var writes: [DynamoDB.TransactWrite] = []
        let isNew = DynamoDB.Expression("attribute_not_exists(#key)", names: ["#key": Key.attribute])
        var orders: Int64 = 0
        var highValue: Int64 = 0
        var revenue: [String: Int64] = [:]
        var perMinute: [Int64: Int64] = [:]
        for fact in facts {
            var marker: DynamoDBItem = Self.key(Key.order(fact.orderId))
            marker["ExpiresAt"] = .int(fact.time.millisecondsSinceEpoch / 1000 + Self.markerLifetimeSeconds)
            writes.append(.put(table: table, item: marker, condition: isNew))
            orders += 1
            if fact.highValue { highValue += 1 }
            revenue[fact.currency, default: 0] += fact.amountMinor
            perMinute[fact.time.epochMinute, default: 0] += 1
        }
        var names: [String: String] = ["#orders": "Orders", "#highValue": "HighValueOrders"]
        var values: DynamoDBItem = [":orders": .int(orders), ":highValue": .int(highValue)]
        var clauses = ["#orders :orders", "#highValue :highValue"]
        for (index, entry) in revenue.sorted(by: { $0.key < $1.key }).enumerated() {
            names["#rev\(index)"] = "Revenue#\(entry.key)"
            values[":rev\(index)"] = .int(entry.value)
            clauses.append("#rev\(index) :rev\(index)")
        }
        writes.append(.update(table: table, key: Self.key(Key.totals),
                              update: DynamoDB.Expression("ADD " + clauses.joined(separator: ", "), names: names, values: values),
                              condition: nil))
        for (minute, count) in perMinute.sorted(by: { $0.key < $1.key }) {
            let update = DynamoDB.Expression(
                "ADD #orders :count SET #expires = :expires", names: ["#orders": "Orders", "#expires": "ExpiresAt"],
                values: [":count": .int(count), ":expires": .int(minute * 60 + Self.minuteLifetimeSeconds)]
            )
            writes.append(.update(table: table, key: Self.key(Key.minute(minute)), update: update, condition: nil))
        }
        return writes
    }

    private func existingMarkers(for facts: [OrderFact]) async throws -> Set<OrderID> {
        var found: Set<OrderID> = []
        var keys = facts.map { Self.key(Key.order($0.orderId)) }
        for _ in 1...5 where !keys.isEmpty {
            let page = try await dynamoDB.batchGetItem(table: table, keys: keys)
            for item in page.items {
                if let key = item[Key.attribute]?.stringValue, key.hasPrefix("order#"), let id = OrderID(String(key.dropFirst(6))) {
                    found.insert(id)
                }
            }
            keys = page.unprocessed
        }
        return found
    }

    // MARK: Reading

    public func snapshot(now: Timestamp) async throws -> AnalyticsSnapshot {
        let totals = try await dynamoDB.getItem(table: table, key: Self.key(Key.totals)) ?? [:]
        var revenue: [String: Int64] = [:]
        for (name, value) in totals where name.hasPrefix("Revenue#") {
            revenue[String(name.dropFirst(8))] = value.int64Value ?? 0
        }
        let current = now.epochMinute
        var keys = ((current - 59)...current).map { Self.key(Key.minute($0)) }
        var perMinute: [Int64: Int64] = [:]
        for _ in 1...5 where !keys.isEmpty {
            let page = try await dynamoDB.batchGetItem(table: table, keys: keys)
            for item in page.items {
                guard let key = item[Key.attribute]?.stringValue, let minute = Int64(key.dropFirst(7)),
                      let count = item["Orders"]?.int64Value, count > 0 else { continue }
                perMinute[minute] = count
            }
            keys = page.unprocessed
        }
        return AnalyticsSnapshot(
            orders: totals["Orders"]?.int64Value ?? 0, highValueOrders: totals["HighValueOrders"]?.int64Value ?? 0,
            revenueMinor: revenue, ordersPerMinute: perMinute
        )
    }
}

public enum DynamoDBAnalyticsError: Error, Sendable, Equatable, CustomStringConvertible {
    case transactionKeptCancelling(Int)

    public var description: String {
        switch self {
        case .transactionKeptCancelling(let count): "DynamoDB kept cancelling the transaction counting \(count) orders; they will be read again"
        }
    }
}
