import GRDB
import OrderFlowCore

/// The `orders` table row.
struct OrderRecord {
    enum Columns {
        static let all = "seq, order_id, customer_id, currency, amount_minor, items, high_value, status, review, source, payload_hash, created_at, updated_at"
    }

    /// Reads an order from a row selected with `Columns.all`.
    static func order(from row: Row) throws -> Order {
        let idText: String = row["order_id"]
        let code: String = row["currency"]
        let statusText: String = row["status"]
        guard let id = OrderID(idText), let currency = Currency.named(code), let status = OrderStatus(rawValue: statusText) else {
            throw DatabaseError(message: "orders row \(idText) holds an unreadable id, currency or status")
        }
        let itemsText: String = row["items"]
        let reviewText: String? = row["review"]
        return Order(
            id: id,
            customerId: row["customer_id"],
            currency: currency,
            items: try decodeItems(itemsText),
            amountMinor: row["amount_minor"],
            highValue: row["high_value"],
            status: status,
            review: reviewText.flatMap(ReviewStatus.init(rawValue:)),
            source: row["source"],
            payloadHash: row["payload_hash"],
            createdAt: Timestamp(millisecondsSinceEpoch: row["created_at"]),
            updatedAt: Timestamp(millisecondsSinceEpoch: row["updated_at"])
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
