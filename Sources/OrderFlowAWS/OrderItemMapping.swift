import AWSKit
import OrderFlowCore

/// How an order is laid out as a DynamoDB item in the `Orders` table (key `OrderID`, as in the seeds). `Amount` is the
/// exact decimal (`450.00`), next to `AmountMinor`, so the seeds' console queries keep working; items are a list of maps.
enum OrderItemMapping {
    enum Attribute {
        static let orderID = "OrderID"
        static let customerID = "CustomerId"
        static let currency = "Currency"
        static let amount = "Amount"
        static let amountMinor = "AmountMinor"
        static let items = "Items"
        static let highValue = "HighValue"
        static let status = "Status"
        static let review = "Review"
        static let source = "Source"
        static let payloadHash = "PayloadHash"
        static let createdAt = "CreatedAt"
        static let updatedAt = "UpdatedAt"
    }

    /// Why an item could not be read back as an order.
    struct UnreadableItem: Error, CustomStringConvertible {
        let orderID: String
        let attribute: String

        var description: String { "Orders item \(orderID) has an unreadable \(attribute) attribute" }
    }

    static func key(_ id: OrderID) -> DynamoDBItem {
        [Attribute.orderID: .string(id.rawValue)]
    }

    static func item(for order: Order) -> DynamoDBItem {
        var item: DynamoDBItem = [:]
        item[Attribute.orderID] = .string(order.id.rawValue)
        if let customer = order.customerId {
            item[Attribute.customerID] = .string(customer)
        }
        item[Attribute.currency] = .string(order.currency.code)
        item[Attribute.amount] = .number(order.amount.decimalString)
        item[Attribute.amountMinor] = .int(order.amountMinor)
        item[Attribute.items] = .list(order.items.map(itemValue))
        item[Attribute.highValue] = .bool(order.highValue)
        item[Attribute.status] = .string(order.status.rawValue)
        if let review = order.review {
            item[Attribute.review] = .string(review.rawValue)
        }
        item[Attribute.source] = .string(order.source)
        item[Attribute.payloadHash] = .string(order.payloadHash)
        item[Attribute.createdAt] = .int(order.createdAt.millisecondsSinceEpoch)
        item[Attribute.updatedAt] = .int(order.updatedAt.millisecondsSinceEpoch)
        return item
    }

    private static func itemValue(_ line: OrderItem) -> DynamoDBValue {
        var map: [String: DynamoDBValue] = [:]
        map["sku"] = .string(line.sku)
        map["quantity"] = .int(line.quantity)
        map["unitPriceMinor"] = .int(line.unitPriceMinor)
        return .map(map)
    }

    static func order(from item: DynamoDBItem) throws -> Order {
        let rawID = item[Attribute.orderID]?.stringValue ?? "?"
        func fail(_ attribute: String) -> UnreadableItem { UnreadableItem(orderID: rawID, attribute: attribute) }
        guard let id = OrderID(rawID) else { throw fail(Attribute.orderID) }
        guard let code = item[Attribute.currency]?.stringValue, let currency = Currency.named(code) else { throw fail(Attribute.currency) }
        guard let amountMinor = item[Attribute.amountMinor]?.int64Value else { throw fail(Attribute.amountMinor) }
        guard let statusText = item[Attribute.status]?.stringValue, let status = OrderStatus(rawValue: statusText) else {
            throw fail(Attribute.status)
        }
        var review: ReviewStatus? = nil
        if let reviewText = item[Attribute.review]?.stringValue {
            guard let parsed = ReviewStatus(rawValue: reviewText) else { throw fail(Attribute.review) }
            review = parsed
        }
        guard let lines = item[Attribute.items]?.listValue else { throw fail(Attribute.items) }
        var items: [OrderItem] = []
        items.reserveCapacity(lines.count)
        for line in lines {
            guard let map = line.mapValue, let sku = map["sku"]?.stringValue, let quantity = map["quantity"]?.int64Value,
                  let price = map["unitPriceMinor"]?.int64Value else { throw fail(Attribute.items) }
            items.append(OrderItem(sku: sku, quantity: quantity, unitPriceMinor: price))
        }
        guard let highValue = item[Attribute.highValue]?.boolValue else { throw fail(Attribute.highValue) }
        guard let source = item[Attribute.source]?.stringValue else { throw fail(Attribute.source) }
        guard let hash = item[Attribute.payloadHash]?.stringValue else { throw fail(Attribute.payloadHash) }
        guard let created = item[Attribute.createdAt]?.int64Value else { throw fail(Attribute.createdAt) }
        guard let updated = item[Attribute.updatedAt]?.int64Value else { throw fail(Attribute.updatedAt) }
        return Order(
            id: id, customerId: item[Attribute.customerID]?.stringValue, currency: currency, items: items,
            amountMinor: amountMinor, highValue: highValue, status: status, review: review, source: source,
            payloadHash: hash, createdAt: Timestamp(millisecondsSinceEpoch: created),
            updatedAt: Timestamp(millisecondsSinceEpoch: updated)
        )
    }
}

/// How outbox events are laid out in the `OrdersOutbox` table (key `EventId`): one item per order transaction, holding
/// the events of all its orders (`Events`, a list of maps), so a transaction of up to 99 orders writes one outbox item and the
/// relay deletes one.
enum OutboxItemMapping {
    enum Attribute {
        static let eventID = "EventId"
        static let events = "Events"
        static let createdAt = "CreatedAt"
        static let heldBy = "HeldBy"
        static let heldUntil = "HeldUntil"
    }

    /// An item written during bulk work: the writing process (`holder`) relays it in one round with the rest of that
    /// work; other processes' relays leave it alone until `until` (its writer died if it is still there by then).
    struct Hold: Sendable, Equatable {
        let holder: String
        let until: Timestamp
    }

    /// An outbox item as read: its events, and the hold it was written with, if any.
    struct Read {
        let createdAt: Int64
        let key: String
        let entries: [OutboxEntry]
        let hold: Hold?

        /// Whether the relay of process `instance` may take the item at `now`.
        func isAvailable(to instance: String, at now: Timestamp) -> Bool {
            guard let hold else { return true }
            return hold.holder == instance || hold.until.millisecondsSinceEpoch < now.millisecondsSinceEpoch
        }
    }

    struct Event {
        let eventID: String
        let type: OrderEventType
        let partitionKey: String
        let payload: [UInt8]
    }

    static func item(batchID: String, events: [Event], createdAt: Timestamp, hold: Hold? = nil) -> DynamoDBItem {
        var item: DynamoDBItem = [:]
        item[Attribute.eventID] = .string(batchID)
        item[Attribute.createdAt] = .int(createdAt.millisecondsSinceEpoch)
        if let hold {
            item[Attribute.heldBy] = .string(hold.holder)
            item[Attribute.heldUntil] = .int(hold.until.millisecondsSinceEpoch)
        }
        item[Attribute.events] = .list(events.map { event in
            var map: [String: DynamoDBValue] = [:]
            map["EventId"] = .string(event.eventID)
            map["Type"] = .string(event.type.rawValue)
            map["PartitionKey"] = .string(event.partitionKey)
            map["Payload"] = .string(String(decoding: event.payload, as: UTF8.self))
            return .map(map)
        })
        return item
    }

    static func key(eventID: String) -> DynamoDBItem {
        [Attribute.eventID: .string(eventID)]
    }

    /// The item's events as entries (`receipt` = the item's key, `id` = its creation time), or nil when it is unreadable.
    static func entries(from item: DynamoDBItem) -> Read? {
        guard let key = item[Attribute.eventID]?.stringValue, let created = item[Attribute.createdAt]?.int64Value,
              let events = item[Attribute.events]?.listValue else { return nil }
        var entries: [OutboxEntry] = []
        entries.reserveCapacity(events.count)
        for value in events {
            guard let map = value.mapValue, let eventID = map["EventId"]?.stringValue,
                  let typeText = map["Type"]?.stringValue, let type = OrderEventType(rawValue: typeText),
                  let partitionKey = map["PartitionKey"]?.stringValue, let payload = map["Payload"]?.stringValue else { return nil }
            entries.append(OutboxEntry(id: created, eventId: eventID, type: type, partitionKey: partitionKey,
                                       payload: Array(payload.utf8), receipt: key))
        }
        var hold: Hold? = nil
        if let holder = item[Attribute.heldBy]?.stringValue, let until = item[Attribute.heldUntil]?.int64Value {
            hold = Hold(holder: holder, until: Timestamp(millisecondsSinceEpoch: until))
        }
        return Read(createdAt: created, key: key, entries: entries, hold: hold)
    }
}
