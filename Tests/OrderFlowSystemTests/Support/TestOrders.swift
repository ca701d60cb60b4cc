import OrderFlowCore

/// One order a test submits, with what the server must make of it.
struct TestOrder: Sendable {
    let id: String
    let body: [UInt8]
    let amountMinor: Int64
    /// Strictly above the default threshold of 300.
    let highValue: Bool
}

enum TestOrders {
    /// `count` orders with ids `<prefix>-<n>`: one in ten high-value (300.01 and up), one in ten exactly 300.00 (the
    /// boundary, not high-value), the rest below; a third in the seeds' form `{"OrderID","Amount"}`, the rest in the API form.
    static func make(prefix: String, count: Int) -> [TestOrder] {
        (0..<count).map { index in
            let amountMinor: Int64
            if index % 10 == 0 {
                amountMinor = 30_001 + Int64(index * 37 % 90_000)
            } else if index % 10 == 5 {
                amountMinor = 30_000
            } else {
                amountMinor = 100 + Int64(index * 53 % 29_000)
            }
            let id = "\(prefix)-\(index)"
            let body: JSONValue
            if index % 3 == 0 {
                body = .object(["OrderID": .string(id), "Amount": .number(decimal(amountMinor))])
            } else {
                // Two equal lines when the amount splits evenly, else one: the items always total the amount exactly.
                let quantity: Int64 = amountMinor % 2 == 0 ? 2 : 1
                body = .object([
                    "orderId": .string(id),
                    "customerId": .string("customer-\(index % 50)"),
                    "currency": .string("USD"),
                    "items": .array([.object([
                        "sku": .string("SKU-\(index % 97)"),
                        "quantity": .int(quantity),
                        "unitPrice": .string(decimal(amountMinor / quantity)),
                    ])]),
                ])
            }
            return TestOrder(id: id, body: body.serializedBytes(), amountMinor: amountMinor, highValue: amountMinor > 30_000)
        }
    }

    /// Minor units of USD as the API writes them: `450.25`, `3.00`.
    static func decimal(_ minor: Int64) -> String {
        let cents = minor % 100
        return "\(minor / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}
