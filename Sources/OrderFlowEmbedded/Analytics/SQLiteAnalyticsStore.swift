import GRDB
import OrderFlowCore

/// The embedded `AnalyticsStore`: aggregates, the set of counted orders and the checkpoints in one transaction.
public final class SQLiteAnalyticsStore: AnalyticsStore, Sendable {
    private let database: AppDatabase
    /// Per-minute counts older than this are deleted: the window shown is 60 minutes.
    static let minuteRetention: Int64 = 24 * 60

    public init(database: AppDatabase) {
        self.database = database
    }

    public func checkpoints(consumer: String) async throws -> [String: String] {
        try await database.pool.read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT shard_id, sequence_number FROM stream_checkpoints WHERE consumer = ?"), arguments: [consumer]) {
                result[row["shard_id"]] = row["sequence_number"]
            }
            return result
        }
    }

    public func apply(_ facts: [OrderFact], consumer: String, shardId: String, checkpoint: String) async throws {
        try await database.write { db in
            // One insert per order on the single writer: bound through SQLite's C API (see DirectStatement).
            var markCounted = try DirectStatement(db.cachedStatement(sql: "INSERT OR IGNORE INTO analytics_counted (order_id) VALUES (?)"))
            var orders: Int64 = 0
            var highValue: Int64 = 0
            var revenue: [String: Int64] = [:]
            var minutes: [Int64: Int64] = [:]
            for fact in facts {
                markCounted.bind(fact.orderId.rawValue)
                try markCounted.run(in: db)
                // A re-delivered event (relay retry, stream replay) was counted the first time: skip it.
                guard db.changesCount == 1 else { continue }
                orders += 1
                if fact.highValue { highValue += 1 }
                revenue[fact.currency, default: 0] += fact.amountMinor
                minutes[fact.time.epochMinute, default: 0] += 1
            }
            let addTotal = try db.cachedStatement(sql: """
                INSERT INTO analytics_totals (name, value) VALUES (?, ?)
                ON CONFLICT(name) DO UPDATE SET value = value + excluded.value
                """)
            if orders > 0 { try addTotal.execute(arguments: ["orders", orders]) }
            if highValue > 0 { try addTotal.execute(arguments: ["high_value", highValue]) }
            // Every statement here runs once per batch on the single writer: cached, so it is parsed once per connection.
            if !revenue.isEmpty {
                let addRevenue = try db.cachedStatement(sql: """
                    INSERT INTO analytics_revenue (currency, amount_minor) VALUES (?, ?)
                    ON CONFLICT(currency) DO UPDATE SET amount_minor = amount_minor + excluded.amount_minor
                    """)
                for (currency, amount) in revenue { try addRevenue.execute(arguments: [currency, amount]) }
            }
            if let newest = minutes.keys.max() {
                let addMinute = try db.cachedStatement(sql: """
                    INSERT INTO analytics_minutes (minute, orders) VALUES (?, ?)
                    ON CONFLICT(minute) DO UPDATE SET orders = orders + excluded.orders
                    """)
                for (minute, count) in minutes { try addMinute.execute(arguments: [minute, count]) }
                try db.cachedStatement(sql: "DELETE FROM analytics_minutes WHERE minute < ?")
                    .execute(arguments: [newest - Self.minuteRetention])
            }
            try db.cachedStatement(sql: """
                INSERT INTO stream_checkpoints (consumer, shard_id, sequence_number) VALUES (?, ?, ?)
                ON CONFLICT(consumer, shard_id) DO UPDATE SET sequence_number = excluded.sequence_number
                """).execute(arguments: [consumer, shardId, checkpoint])
        }
    }

    public func snapshot(now: Timestamp) async throws -> AnalyticsSnapshot {
        try await database.pool.read { db in
            let orders = try Int64.fetchOne(db, sql: "SELECT value FROM analytics_totals WHERE name = 'orders'") ?? 0
            let highValue = try Int64.fetchOne(db, sql: "SELECT value FROM analytics_totals WHERE name = 'high_value'") ?? 0
            var revenue: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT currency, amount_minor FROM analytics_revenue") {
                revenue[row["currency"]] = row["amount_minor"]
            }
            var perMinute: [Int64: Int64] = [:]
            let current = now.epochMinute
            for row in try Row.fetchAll(db, sql: "SELECT minute, orders FROM analytics_minutes WHERE minute > ? AND minute <= ?",
                                         arguments: [current - 60, current]) {
                perMinute[row["minute"]] = row["orders"]
            }
            return AnalyticsSnapshot(orders: orders, highValueOrders: highValue, revenueMinor: revenue, ordersPerMinute: perMinute)
        }
    }
}
