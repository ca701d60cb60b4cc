extension Order {
    /// The order as the API and events show it; amounts as exact decimal strings.
    public var json: JSONValue {
        .object([
            "orderId": .string(id.rawValue),
            "customerId": .string(orNull: customerId),
            "currency": .string(currency.code),
            "amount": .string(amount.decimalString),
            "amountMinor": .int(amountMinor),
            "items": .array(items.map { item in
                .object([
                    "sku": .string(item.sku),
                    "quantity": .int(item.quantity),
                    "unitPrice": .string(Money(minorUnits: item.unitPriceMinor, currency: currency).decimalString),
                ])
            }),
            "highValue": .bool(highValue),
            "status": .string(status.rawValue),
            "review": .string(orNull: review?.rawValue),
            "source": .string(source),
            "createdAt": .string(createdAt.iso8601),
            "createdAtMs": .int(createdAt.millisecondsSinceEpoch),
            "updatedAt": .string(updatedAt.iso8601),
            "updatedAtMs": .int(updatedAt.millisecondsSinceEpoch),
        ])
    }

    /// `json` serialized, written directly as bytes (the hot path of responses and events); equal to
    /// `json.serializedBytes()`.
    public func encodedJSON() -> [UInt8] {
        var writer = JSONByteWriter(capacity: 256 + items.count * 64)
        write(to: &writer)
        return writer.bytes
    }

    /// Writes `json` into `writer`.
    public func write(to writer: inout JSONByteWriter) {
        writer.beginObject()
        writer.key("orderId"); writer.string(id.rawValue)
        writer.key("customerId"); writer.string(orNull: customerId)
        writer.key("currency"); writer.string(currency.code)
        writer.key("amount"); writer.decimal(amountMinor, scale: currency.minorDigits)
        writer.key("amountMinor"); writer.int(amountMinor)
        writer.key("items")
        writer.beginArray()
        for item in items {
            writer.beginObject()
            writer.key("sku"); writer.string(item.sku)
            writer.key("quantity"); writer.int(item.quantity)
            writer.key("unitPrice"); writer.decimal(item.unitPriceMinor, scale: currency.minorDigits)
            writer.endObject()
        }
        writer.endArray()
        writer.key("highValue"); writer.bool(highValue)
        writer.key("status"); writer.string(status.rawValue)
        writer.key("review"); writer.string(orNull: review?.rawValue)
        writer.key("source"); writer.string(source)
        writer.key("createdAt"); writer.timestamp(createdAt)
        writer.key("createdAtMs"); writer.int(createdAt.millisecondsSinceEpoch)
        writer.key("updatedAt"); writer.timestamp(updatedAt)
        writer.key("updatedAtMs"); writer.int(updatedAt.millisecondsSinceEpoch)
        writer.endObject()
    }

    /// Reads an order back from its `json` form (as carried in events). Nil when a field is missing or invalid.
    public init?(json: JSONValue) {
        guard let idText = json["orderId"]?.stringValue, let id = OrderID(idText),
              let code = json["currency"]?.stringValue, let currency = Currency.named(code),
              let amountMinor = json["amountMinor"]?.int64Value,
              let highValue = json["highValue"]?.boolValue,
              let statusText = json["status"]?.stringValue, let status = OrderStatus(rawValue: statusText),
              let source = json["source"]?.stringValue,
              let created = json["createdAtMs"]?.int64Value,
              let updated = json["updatedAtMs"]?.int64Value
        else { return nil }
        var items: [OrderItem] = []
        for element in json["items"]?.arrayValue ?? [] {
            guard let sku = element["sku"]?.stringValue, let quantity = element["quantity"]?.int64Value,
                  let priceText = element["unitPrice"]?.stringValue,
                  let price = try? Money.parse(priceText, currency: currency) else { return nil }
            items.append(OrderItem(sku: sku, quantity: quantity, unitPriceMinor: price.minorUnits))
        }
        let review = json["review"]?.stringValue.flatMap(ReviewStatus.init(rawValue:))
        self.init(
            id: id, customerId: json["customerId"]?.stringValue, currency: currency, items: items,
            amountMinor: amountMinor, highValue: highValue, status: status, review: review, source: source,
            payloadHash: "", createdAt: Timestamp(millisecondsSinceEpoch: created),
            updatedAt: Timestamp(millisecondsSinceEpoch: updated)
        )
    }
}
