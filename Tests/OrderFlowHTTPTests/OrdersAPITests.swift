import Hummingbird
import HummingbirdTesting
import OrderFlowCore
import Testing

@Suite("Orders API")
struct OrdersAPITests {
    @Test func seedEventCreatesReplaysAndConflicts() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            let body = ByteBuffer(json: #"{"OrderId":"1001","Amount":450}"#)
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: body) { response in
                #expect(response.status == .created)
                #expect(response.headers[.location] == "/orders/1001")
                #expect(response.json?["amount"] == .string("450.00"))
                #expect(response.json?["highValue"] == .bool(true))
            }
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{ "Amount": 450.00, "OrderId": "1001" }"#)) { response in
                #expect(response.status == .ok)
                #expect(response.json?["orderId"] == .string("1001"))
            }
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderID":"1001","Amount":451}"#)) { response in
                #expect(response.status == .conflict)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?["type"] == .string("urn:orderflow:problem:order-conflict"))
            }
            try await client.execute(uri: "/orders/1001", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json?["amount"] == .string("450.00"))
            }
        }
    }

    @Test("recent orders: the last 20 this process stored, newest first, however many came before")
    func recentOrdersAreTheNewestTwenty() async throws {
        let t = try await TestSystem.make()
        let orders = t.system.services.orders
        for n in 1...130 {
            _ = try await orders.submit(OrderDraft(id: OrderID("r-\(n)"), customerId: "c", currency: .seedDefault,
                                                  items: [OrderItem(sku: "x", quantity: 1, unitPriceMinor: 100)], amountMinor: 100), source: "api")
        }
        // A replay is not a new order.
        _ = try await orders.submit(OrderDraft(id: OrderID("r-5"), customerId: "c", currency: .seedDefault,
                                              items: [OrderItem(sku: "x", quantity: 1, unitPriceMinor: 100)], amountMinor: 100), source: "api")
        try await t.application().test(.router) { client in
            try await client.execute(uri: "/status/recent-orders", method: .get) { response in
                #expect(response.status == .ok)
                let ids = response.json?["orders"]?.arrayValue?.compactMap { $0["orderId"]?.stringValue } ?? []
                #expect(ids == (111...130).reversed().map { "r-\($0)" })
            }
        }
        #expect(orders.recentlyAccepted(limit: 500).count == 50)
    }

    @Test("each POST /orders has one audit entry with the status it got: new, replay and conflict with the order, refusals after")
    func submissionsAreAuditedOnceEach() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            for (body, status) in [(#"{"OrderId":"au-1","Amount":450}"#, HTTPResponse.Status.created), (#"{"OrderId":"au-1","Amount":450}"#, .ok),
                                   (#"{"OrderId":"au-1","Amount":451}"#, .conflict), (#"{"OrderId":"au-2","Amount":-1}"#, .unprocessableContent)] {
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: body)) { response in
                    #expect(response.status == status, "\(body)")
                }
            }
            try await client.execute(uri: "/audit?limit=100", method: .get) { response in
                let entries = response.json?["entries"]?.arrayValue ?? []
                #expect(entries.map { $0["status"]?.int64Value ?? 0 } == [201, 200, 409, 422])
                #expect(entries.map { $0["resource"]?.stringValue ?? "?" } == ["id=au-1", "id=au-1", "", ""])
                #expect(entries.map { $0["sequence"]?.int64Value ?? 0 } == [1, 2, 3, 4])
                #expect(entries.allSatisfy { $0["route"]?.stringValue == "/orders" && $0["method"]?.stringValue == "POST" })
            }
        }
        // The embedded store recorded the entries of new, replayed and conflicting orders itself, in the orders'
        // transactions; the chain it extended there verifies.
        #expect(t.system.services.orders.recordsAuditWithOrders)
        let trail = try #require(t.system.services.audit)
        let chain = try await trail.entries(after: 0, limit: 100, principal: nil, route: nil)
        #expect(chain.count == 4)
        #expect(chain.allSatisfy { $0.isIntact })
        #expect(chain.map(\.previousHash) == [AuditEntry.genesis] + chain.dropLast().map(\.hash))
    }

    @Test func thresholdIsStrict() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            for (id, amount, expected) in [("at", "300", false), ("above", "300.01", true), ("below", "299.99", false)] {
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderId":"\#(id)","Amount":"\#(amount)"}"#)) { response in
                    #expect(response.status == .created)
                    #expect(response.json?["highValue"] == .bool(expected), "\(amount)")
                }
            }
        }
    }

    @Test func apiFormAndValidationErrors() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            let good = #"{"orderId":"A-1","customerId":"c1","currency":"EUR","amount":"31.50","items":[{"sku":"X","quantity":3,"unitPrice":"10.50"}]}"#
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: good)) { response in
                #expect(response.status == .created)
                #expect(response.json?["currency"] == .string("EUR"))
                #expect(response.json?["amountMinor"] == .number("3150"))
            }
            let mismatch = #"{"customerId":"c1","currency":"USD","amount":"1.00","items":[{"sku":"X","quantity":1,"unitPrice":"2"}]}"#
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: mismatch)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?["type"] == .string("urn:orderflow:problem:validation-failed"))
                #expect(response.json?["errors"]?.arrayValue?.first?["field"] == .string("amount"))
            }
            let tooPrecise = #"{"customerId":"c1","currency":"JPY","items":[{"sku":"X","quantity":1,"unitPrice":"1.5"}]}"#
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: tooPrecise)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["errors"]?.arrayValue?.first?["field"] == .string("items[0].unitPrice"))
            }
            for malformed in ["{", "[]", "\"text\"", ""] {
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: malformed)) { response in
                    #expect(response.status == .badRequest, "\(malformed)")
                    #expect(response.json?["type"] == .string("urn:orderflow:problem:malformed-request"))
                }
            }
            try await client.execute(uri: "/orders", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(json: good)) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:unsupported-media-type"))
            }
            let huge = ByteBuffer(string: #"{"OrderId":"big","Amount":1,"pad":""# + String(repeating: "x", count: 1 << 20) + "\"}")
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: huge) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:payload-too-large"))
            }
            try await client.execute(uri: "/orders/big", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:not-found"))
            }
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test func listingPagesWithStableCursorsAndFilters() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            for i in 0..<25 {
                let amount = i % 5 == 0 ? 500 : 10
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders,
                                         body: ByteBuffer(json: #"{"orderId":"o-\#(i)","customerId":"c-\#(i % 2)","currency":"USD","items":[{"sku":"S","quantity":1,"unitPrice":"\#(amount)"}]}"#)) { response in
                    #expect(response.status == .created)
                }
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/orders?limit=10" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.execute(uri: uri, method: .get) { $0.json }
                seen += page?["orders"]?.arrayValue?.compactMap { $0["orderId"]?.stringValue } ?? []
                cursor = page?["nextCursor"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == (0..<25).map { "o-\($0)" })
            let highValue = try await client.execute(uri: "/orders?highValue=true&limit=1000", method: .get) { $0.json }
            #expect(highValue?["orders"]?.arrayValue?.count == 5)
            let customer = try await client.execute(uri: "/orders?customerId=c-1", method: .get) { $0.json }
            #expect(customer?["orders"]?.arrayValue?.count == 12)
            for bad in ["/orders?limit=1001", "/orders?limit=0", "/orders?status=shipped", "/orders?highValue=maybe", "/orders?cursor=zzz"] {
                try await client.execute(uri: bad, method: .get) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
        }
    }

    @Test func lifecycleTransitions() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            for (id, amount) in [("small", 20), ("big", 900), ("big2", 901)] {
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderID":"\#(id)","Amount":\#(amount)}"#)) { #expect($0.status == .created) }
            }
            try await client.execute(uri: "/orders/small/fulfil", method: .post) { response in
                #expect(response.status == .ok)
                #expect(response.json?["status"] == .string("fulfilled"))
            }
            try await client.execute(uri: "/orders/small/cancel", method: .post) { response in
                #expect(response.status == .conflict)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:illegal-transition"))
            }
            // A high-value order ships only once its review is approved.
            try await client.execute(uri: "/orders/big/fulfil", method: .post) { #expect($0.status == .conflict) }
            try await t.drain()
            let open = try await client.execute(uri: "/reviews?status=open", method: .get) { $0.json }
            #expect(open?["reviews"]?.arrayValue?.compactMap { $0["orderId"]?.stringValue }.sorted() == ["big", "big2"])
            try await client.execute(uri: "/reviews/big/approve", method: .post) { response in
                #expect(response.status == .ok)
                #expect(response.json?["status"] == .string("approved"))
            }
            try await client.execute(uri: "/orders/big/fulfil", method: .post) { #expect($0.status == .ok) }
            try await client.execute(uri: "/reviews/big2/reject", method: .post) { response in
                #expect(response.status == .ok)
                #expect(response.json?["orderStatus"] == .string("cancelled"))
            }
            try await client.execute(uri: "/reviews/big2/approve", method: .post) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/reviews/small/approve", method: .post) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/reviews/ghost/approve", method: .post) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/orders/ghost/cancel", method: .post) { #expect($0.status == .notFound) }
        }
    }
}
