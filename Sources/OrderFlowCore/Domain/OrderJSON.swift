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
