import GRDB
import OrderFlowCore

/// The `orders` table row.
struct OrderRecord {
    enum Columns {
        /// The columns an order is read from, in the order `order(from:)` reads them by position.
        static let names = [
            "seq", "order_id", "customer_id", "currency", "amount_minor", "items", "high_value", "status", "review", "source",
            "payload_hash", "created_at", "updated_at",
        ]
        static let all = names.joined(separator: ", ")
        private static func position(_ name: String) -> Int { names.firstIndex(of: name)! }
        static let orderId = position("order_id")
        static let customerId = position("customer_id")
        static let currency = position("currency")
        static let amountMinor = position("amount_minor")
        static let items = position("items")
        static let highValue = position("high_value")
        static let status = position("status")
        static let review = position("review")
        static let source = position("source")
        static let payloadHash = position("payload_hash")
        static let createdAt = position("created_at")
        static let updatedAt = position("updated_at")
    }

    /// Reads an order from a row selected with `Columns.all`, by position: reading by name compares column names
    /// case-insensitively on every read, a cost the review worker and every order listing paid per column.
    static func order(from row: Row) throws -> Order {
        let idText: String = row[Columns.orderId]
        let code: String = row[Columns.currency]
        let statusText: String = row[Columns.status]
        guard let id = OrderID(idText), let currency = Currency.named(code), let status = OrderStatus(rawValue: statusText) else {
            throw DatabaseError(message: "orders row \(idText) holds an unreadable id, currency or status")
        }
        let itemsText: String = row[Columns.items]
        let reviewText: String? = row[Columns.review]
        return Order(
            id: id,
            customerId: row[Columns.customerId],
            currency: currency,
            items: try decodeItems(itemsText),
            amountMinor: row[Columns.amountMinor],
            highValue: row[Columns.highValue],
            status: status,
            review: reviewText.flatMap(ReviewStatus.init(rawValue:)),
            source: row[Columns.source],
            payloadHash: row[Columns.payloadHash],
            createdAt: Timestamp(millisecondsSinceEpoch: row[Columns.createdAt]),
            updatedAt: Timestamp(millisecondsSinceEpoch: row[Columns.updatedAt])
        )
    }

    /// Items as compact JSON: `[["sku",quantity,unitPriceMinor],…]`.
    static func encodeItems(_ items: [OrderItem]) -> String {
        var writer = JSONByteWriter(capacity: items.count * 40 + 2)
        writer.beginArray()
        for item in items {
            writer.beginArray()
            writer.string(item.sku)
            writer.int(item.quantity)
            writer.int(item.unitPriceMinor)
            writer.endArray()
        }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func decodeItems(_ text: String) throws -> [OrderItem] {
        guard let elements = (try? JSONParser.parse(text))?.arrayValue else {
            throw DatabaseError(message: "orders.items is not a JSON array")
        }
        return try elements.map { element in
            guard let parts = element.arrayValue, parts.count == 3, let sku = parts[0].stringValue,
                  let quantity = parts[1].int64Value, let price = parts[2].int64Value else {
                throw DatabaseError(message: "orders.items holds an unreadable item")
            }
            return OrderItem(sku: sku, quantity: quantity, unitPriceMinor: price)
        }
    }
}
