import OrderFlowCore
import Testing

@Suite("Order documents")
struct OrderValidationTests {
    func draft(_ json: String) throws -> OrderDraft {
        try OrderValidation.draft(fromJSON: Array(json.utf8))
    }

    func fieldErrors(_ json: String) -> [String] {
        do throws(OrderValidationError) {
            _ = try OrderValidation.draft(fromJSON: Array(json.utf8))
            return []
        } catch {
            if case .invalid(let fields) = error { return fields.map(\.field) }
            return ["<malformed>"]
        }
    }

    @Test func seedTestEventsAsTheyAre() throws {
        let a = try draft(#"{"OrderId":"1001","Amount":450}"#)
        #expect(a.id?.rawValue == "1001")
        #expect(a.amountMinor == 45000)
        #expect(a.currency.code == "USD")
        #expect(a.items.isEmpty)
        let b = try draft(#"{"OrderID":"1002","Amount":"300.01"}"#)
        #expect(b.id?.rawValue == "1002")
        #expect(b.amountMinor == 30001)
        let numeric = try draft(#"{"OrderID":1003,"Amount":12.5}"#)
        #expect(numeric.id?.rawValue == "1003")
        #expect(numeric.amountMinor == 1250)
    }

    @Test func apiFormComputesTheTotal() throws {
        let d = try draft(#"{"orderId":"A-1","customerId":"c1","currency":"EUR","items":[{"sku":"X","quantity":3,"unitPrice":"19.99"},{"sku":"Y","quantity":1,"unitPrice":0.02}]}"#)
        #expect(d.amountMinor == 5999)
        #expect(d.currency.code == "EUR")
        #expect(d.items.count == 2)
        let withAmount = try draft(#"{"customerId":"c1","currency":"USD","amount":"59.99","items":[{"sku":"X","quantity":3,"unitPrice":"19.99"},{"sku":"Y","quantity":1,"unitPrice":"0.02"}]}"#)
        #expect(withAmount.id == nil)
        #expect(withAmount.amountMinor == 5999)
    }

    @Test func amountMustEqualItemsTotal() {
        #expect(fieldErrors(#"{"customerId":"c","currency":"USD","amount":"10.00","items":[{"sku":"X","quantity":1,"unitPrice":"9.99"}]}"#) == ["amount"])
    }

    @Test func fieldLevelErrors() {
        #expect(fieldErrors(#"{"currency":"USD","items":[]}"#) == ["customerId", "items"])
        #expect(fieldErrors(#"{"customerId":"c","currency":"usd","items":[{"sku":"X","quantity":1,"unitPrice":"1"}]}"#) == ["currency"])
        #expect(fieldErrors(#"{"customerId":"c","currency":"USD","items":[{"sku":"","quantity":0,"unitPrice":"-1"}]}"#)
            == ["items[0].sku", "items[0].quantity", "items[0].unitPrice"])
        #expect(fieldErrors(#"{"customerId":"c","currency":"USD","items":[{"sku":"X","quantity":1,"unitPrice":"1.001"}]}"#) == ["items[0].unitPrice"])
        #expect(fieldErrors(#"{"orderId":"has space","customerId":"c","currency":"USD","items":[{"sku":"X","quantity":1,"unitPrice":"1"}]}"#) == ["orderId"])
        #expect(fieldErrors(#"{"OrderId":"1","Amount":-5}"#) == ["Amount"])
        #expect(fieldErrors(#"{"OrderId":"1"}"#) == ["Amount"])
        #expect(fieldErrors(#"{"OrderId":"1","OrderID":"2","Amount":5}"#) == ["OrderID"])
    }

    @Test func malformedDocuments() {
        #expect(fieldErrors("[1,2]") == ["<malformed>"])
        #expect(fieldErrors("{") == ["<malformed>"])
        #expect(fieldErrors(#"{"a":1,"a":2}"#) == ["<malformed>"])
        #expect(fieldErrors("") == ["<malformed>"])
    }

    @Test func payloadHashIgnoresFormattingButNotContent() throws {
        let a = try draft(#"{"OrderId":"1","Amount":450}"#)
        let b = try draft(#"{ "Amount" : 450.00 , "OrderId" : "1" }"#)
        let c = try draft(#"{"OrderId":"1","Amount":451}"#)
        #expect(a.payloadHash == b.payloadHash)
        #expect(a.payloadHash != c.payloadHash)
    }

    @Test("payload hashes keep the text stored with every order so far (a replay of an old order stays a replay)")
    func payloadHashTextIsPinned() throws {
        #expect(try draft(#"{"OrderId":"1","Amount":450}"#).payloadHash
            == "93f796a7e6934db8fdb211efeb3690b7beecab4b3c4c80b5ffea31b6f727ee1d")
        // SHA-256 of "v1|customer-0042|USD|4500|7:SKU-é1:2:2250|1:B:1:0": the sku length counts UTF-8 bytes.
        let withItems = OrderDraft(
            id: nil, customerId: "customer-0042", currency: .seedDefault,
            items: [OrderItem(sku: "SKU-é1", quantity: 2, unitPriceMinor: 2250), OrderItem(sku: "B", quantity: 1, unitPriceMinor: 0)],
            amountMinor: 4500)
        #expect(withItems.payloadHash == "89eeb7f25ab1e4e8cee19d0b26de7d05eed2a2ce4d44e7752b3709b56a88e684")
    }
}

@Suite("Order lifecycle")
struct OrderLifecycleTests {
    func order(highValue: Bool, status: OrderStatus = .accepted, review: ReviewStatus? = nil) -> Order {
        Order(id: OrderID("o1")!, customerId: nil, currency: .seedDefault, items: [], amountMinor: highValue ? 45000 : 100,
              highValue: highValue, status: status, review: review, source: "api", payloadHash: "h",
              createdAt: Timestamp(millisecondsSinceEpoch: 0), updatedAt: Timestamp(millisecondsSinceEpoch: 0))
    }

    let now = Timestamp(millisecondsSinceEpoch: 1000)

    @Test func fulfilAndCancel() throws {
        let fulfilled = try #require(try OrderLifecycle.apply(.fulfil, to: order(highValue: false), at: now).get())
        #expect(fulfilled.status == .fulfilled)
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.apply(.cancel, to: fulfilled, at: now).get() }
        #expect(try OrderLifecycle.apply(.fulfil, to: fulfilled, at: now).get() == nil)
        let cancelled = try #require(try OrderLifecycle.apply(.cancel, to: order(highValue: false), at: now).get())
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.apply(.fulfil, to: cancelled, at: now).get() }
    }

    @Test func highValueOrdersShipOnlyOnceApproved() throws {
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.apply(.fulfil, to: order(highValue: true), at: now).get() }
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.apply(.fulfil, to: order(highValue: true, review: .open), at: now).get() }
        let approved = try #require(try OrderLifecycle.apply(.approveReview, to: order(highValue: true, review: .open), at: now).get())
        #expect(try OrderLifecycle.apply(.fulfil, to: approved, at: now).get()?.status == .fulfilled)
    }

    @Test func rejectingCancels() throws {
        let rejected = try #require(try OrderLifecycle.apply(.rejectReview, to: order(highValue: true, review: .open), at: now).get())
        #expect(rejected.review == .rejected)
        #expect(rejected.status == .cancelled)
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.apply(.approveReview, to: rejected, at: now).get() }
    }

    @Test func openingIsIdempotentAndOnlyForHighValue() throws {
        let opened = try #require(try OrderLifecycle.apply(.openReview, to: order(highValue: true), at: now).get())
        #expect(opened.review == .open)
        #expect(try OrderLifecycle.apply(.openReview, to: opened, at: now).get() == nil)
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.apply(.openReview, to: order(highValue: false), at: now).get() }
    }
}

@Suite("Events and encodings")
struct EventTests {
    @Test func eventRoundTripsAndHasStableId() throws {
        let order = Order(id: OrderID("1001")!, customerId: "c", currency: .seedDefault,
                          items: [OrderItem(sku: "A", quantity: 2, unitPriceMinor: 22500)], amountMinor: 45000,
                          highValue: true, status: .accepted, review: nil, source: "upload:orders/1001.json", payloadHash: "h",
                          createdAt: Timestamp(millisecondsSinceEpoch: 1_795_000_000_123), updatedAt: Timestamp(millisecondsSinceEpoch: 1_795_000_000_123))
        let events = OrderEvent.events(for: order, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(events.map(\.type) == [.accepted, .highValue])
        let decoded = try #require(OrderEvent.decode(events[1].encoded()))
        #expect(decoded.eventId == events[1].eventId)
        #expect(decoded.order.amountMinor == 45000)
        #expect(decoded.order.items == order.items)
        #expect(decoded.traceparent == events[1].traceparent)
        #expect(OrderEvent.eventId(type: .highValue, orderId: order.id) == events[1].eventId)
        #expect(events[0].eventId != events[1].eventId)
        // Consumers de-duplicate on event ids across releases: the derivation (UUID layout over SHA-256) never changes.
        #expect(events[0].eventId == "c7524032-de7a-f8c2-e2bc-8da045b8d304")
    }

    @Test func timestampsFormatAsRFC3339() {
        #expect(Timestamp(millisecondsSinceEpoch: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: 1_795_000_000_123).iso8601 == "2026-11-18T11:06:40.123Z")
        #expect(Timestamp(millisecondsSinceEpoch: 951_782_400_000).iso8601 == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).iso8601 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(millisecondsSinceEpoch: 253_402_300_800_000).iso8601 == "10000-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -62_135_596_800_001).iso8601 == "0000-12-31T23:59:59.999Z")
    }

    @Test func s3KeysDecodeExactlyOnce() throws {
        #expect(S3KeyEncoding.decode("orders/my+order%2B1.json") == "orders/my order+1.json")
        #expect(S3KeyEncoding.encode("orders/my order+1.json") == "orders/my+order%2B1.json")
        #expect(S3KeyEncoding.decode("orders/%E2%82%AC.json") == "orders/€.json")
        #expect(S3KeyEncoding.decode("bad%2") == nil)
        let note = ObjectCreatedNotification(bucket: "myapp-uploads", key: "orders/a b+c.json", size: 3)
        let decoded = try ObjectCreatedNotification.decode(note.encoded(time: Timestamp(millisecondsSinceEpoch: 0)))
        #expect(decoded.map(\.key) == ["orders/a b+c.json"])
    }

    @Test func uploadDocumentsInEveryFormat() {
        let single = UploadDocument.parse(Array(#"{"OrderID":"1001","Amount":450}"#.utf8))
        #expect(single.format == "single" && single.orders.count == 1 && single.problems.isEmpty)
        let array = UploadDocument.parse(Array(#"[{"OrderID":"1","Amount":1},{"OrderID":"2","Amount":-1}]"#.utf8))
        #expect(array.format == "array" && array.orders.count == 1 && array.problems.map(\.position) == [2])
        let lines = UploadDocument.parse(Array("{\"OrderID\":\"1\",\"Amount\":1}\nnot json\n\n{\"OrderID\":\"3\",\"Amount\":3}\n".utf8))
        #expect(lines.format == "lines" && lines.orders.map(\.position) == [1, 4] && lines.problems.map(\.position) == [2])
        let garbage = UploadDocument.parse(Array("garbage".utf8))
        #expect(garbage.format == nil && garbage.orders.isEmpty && garbage.problems.count == 1)
        #expect(UploadDocument.parse([]).problems.count == 1)
    }
}
