/// What the analytics consumer counts of one accepted order.
public struct OrderFact: Sendable, Hashable {
    public var orderId: OrderID
    public var currency: String
    public var amountMinor: Int64
    public var highValue: Bool
    public var time: Timestamp

    public init(orderId: OrderID, currency: String, amountMinor: Int64, highValue: Bool, time: Timestamp) {
        self.orderId = orderId
        self.currency = currency
        self.amountMinor = amountMinor
        self.highValue = highValue
        self.time = time
    }

    /// The fact an `order.accepted` envelope carries, read without rebuilding the whole order (its items are not
    /// needed to count it). Nil for another event type or an unreadable envelope.
    public init?<Bytes: Collection<UInt8>>(acceptedEvent bytes: Bytes) {
        guard let json = try? JSONParser.parse(bytes, skippingMembers: ["items"]), json["type"]?.stringValue == OrderEventType.accepted.rawValue,
              let data = json["data"],
              let idText = data["orderId"]?.stringValue, let id = OrderID(idText),
              let currency = data["currency"]?.stringValue, Currency.named(currency) != nil,
              let amountMinor = data["amountMinor"]?.int64Value,
              let highValue = data["highValue"]?.boolValue,
              let created = data["createdAtMs"]?.int64Value
        else { return nil }
        self.init(orderId: id, currency: currency, amountMinor: amountMinor, highValue: highValue,
                  time: Timestamp(millisecondsSinceEpoch: created))
    }
}

/// Live aggregates over every order counted so far.
public struct AnalyticsSnapshot: Sendable, Hashable {
    public var orders: Int64
    public var highValueOrders: Int64
    /// Revenue in minor units per currency code.
    public var revenueMinor: [String: Int64]
    /// Orders per minute (epoch minute → count) for the last 60 minutes; minutes without orders are absent.
    public var ordersPerMinute: [Int64: Int64]

    public init(orders: Int64, highValueOrders: Int64, revenueMinor: [String: Int64], ordersPerMinute: [Int64: Int64]) {
        self.orders = orders
        self.highValueOrders = highValueOrders
        self.revenueMinor = revenueMinor
        self.ordersPerMinute = ordersPerMinute
    }
}

/// Aggregates and the stream checkpoints they were computed up to, kept together so a restart neither loses nor
/// double-counts (port; embedded: SQLite).
public protocol AnalyticsStore: Sendable {
    /// The last sequence number applied per shard for `consumer`.
    func checkpoints(consumer: String) async throws -> [String: String]
    /// Counts `facts` (each order at most once, ever) and moves the checkpoint, atomically.
    func apply(_ facts: [OrderFact], consumer: String, shardId: String, checkpoint: String) async throws
    /// Aggregates as of `now` (the per-minute window ends at `now`).
    func snapshot(now: Timestamp) async throws -> AnalyticsSnapshot
}
