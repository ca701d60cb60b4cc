import Hummingbird
import HummingbirdTesting
import OrderFlowCore
import Testing

@Suite("Pipeline through the API")
struct PipelineAPITests {
    @Test func highValueOrderGetsExactlyOneReviewAndStatsCountOnce() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderId":"1001","Amount":450}"#)) { #expect($0.status == .created) }
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderId":"1002","Amount":"300.00"}"#)) { #expect($0.status == .created) }
            try await t.drain()
            // The same high-value event arriving again (at-least-once delivery) must not open a second case.
            let event = OrderEvent.events(for: try #require(try await t.system.services.orders.order(OrderID("1001")!)))[1]
            try await t.system.messaging.topic(named: "HighValueOrderTopic").publish([TopicMessage(body: event.encoded())])
            try await t.system.messaging.topic(named: "HighValueOrderTopic").publish([TopicMessage(body: event.encoded())])
            // So must the same accepted record appearing twice on the stream.
            let accepted = OrderEvent.events(for: try #require(try await t.system.services.orders.order(OrderID("1002")!)))[0]
            try await t.system.ordersStream.put([StreamEntry(partitionKey: "1002", data: accepted.encoded())])
            try await t.drain()
            let reviews = try await client.execute(uri: "/reviews?status=open", method: .get) { $0.json }
            #expect(reviews?["reviews"]?.arrayValue?.compactMap { $0["orderId"]?.stringValue } == ["1001"])
            let stats = try await client.execute(uri: "/stats", method: .get) { $0.json }
            #expect(stats?["orders"] == .number("2"))
            #expect(stats?["highValueOrders"] == .number("1"))
            #expect(stats?["revenue"]?["USD"] == .string("750.00"))
            #expect(stats?["ordersPerMinute"]?.arrayValue?.count == 60)
            // Both orders are in the last 60 minutes' buckets; not necessarily in the last one, as the minute may turn
            // between counting and reading.
            let perMinute = stats?["ordersPerMinute"]?.arrayValue ?? []
            #expect(perMinute.reduce(0) { $0 + ($1["orders"]?.int64Value ?? 0) } == 2)
            #expect(perMinute.suffix(2).reduce(0) { $0 + ($1["orders"]?.int64Value ?? 0) } == 2)
            let status = try await client.execute(uri: "/status", method: .get) { $0.json }
            #expect(status?["outboxBacklog"] == .number("0"))
            #expect(status?["streamConsumerLag"]?["total"] == .number("0"))
            #expect(status?["database"]?["ok"] == .bool(true))
            #expect(status?["backend"] == .string("embedded"))
            let queue = try #require(try await t.system.highValueQueue.depth())
            #expect(queue.visible == 0 && queue.inFlight == 0 && queue.deadLetters == 0)
        }
    }

    @Test func analyticsResumesFromCheckpointAfterRestart() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            for i in 0..<5 {
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderId":"r\#(i)","Amount":10}"#)) { #expect($0.status == .created) }
            }
            try await t.drain()
        }
        // Reopen the same data directory: a new process would start from the stored checkpoint, not from the start.
        var configuration = t.system.configuration
        configuration.dataDirectory = t.directory
        let reopened = try await TestSystem(system: .open(configuration, logger: .init(label: "test")), directory: t.directory)
        try await reopened.application().test(.router) { client in
            try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderId":"r5","Amount":10}"#)) { #expect($0.status == .created) }
            try await reopened.drain()
            let stats = try await client.execute(uri: "/stats", method: .get) { $0.json }
            #expect(stats?["orders"] == .number("6"))
            #expect(stats?["revenue"]?["USD"] == .string("60.00"))
        }
    }

    @Test func uploadsAreIngestedAndBadObjectsDeadLettered() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            try await client.execute(uri: "/uploads/orders/1001.json", method: .put, body: ByteBuffer(string: #"{"OrderID":"1001","Amount":450}"#)) { response in
                #expect(response.status == .ok)
                #expect(response.json?["key"] == .string("orders/1001.json"))
            }
            let mixed = "{\"OrderID\":\"2001\",\"Amount\":50}\n{\"OrderID\":\"2002\",\"Amount\":\"lots\"}\n{\"OrderID\":\"2003\",\"Amount\":999}\n"
            try await client.execute(uri: "/uploads/orders/my%20batch.jsonl", method: .put, body: ByteBuffer(string: mixed)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/uploads/orders/broken.json", method: .put, body: ByteBuffer(string: "not json at all")) { #expect($0.status == .ok) }
            try await client.execute(uri: "/uploads/elsewhere/3001.json", method: .put, body: ByteBuffer(string: #"{"OrderID":"3001","Amount":5}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/uploads/orders/../x.json", method: .put, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:invalid-object-key"))
            }
            // The message S3 sends when a bucket notification is configured is ignored, not dead-lettered.
            let testEvent = #"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T07:00:00.000Z","Bucket":"myapp-uploads","RequestId":"R","HostId":"H"}"#
            try await t.system.uploadsQueue.send([OutgoingMessage(body: Array(testEvent.utf8))])
            try await t.drain()
            let seed = try await client.execute(uri: "/orders/1001", method: .get) { $0.json }
            #expect(seed?["source"] == .string("upload:orders/1001.json"))
            #expect(seed?["review"] == .string("open"))
            try await client.execute(uri: "/orders/2001", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json?["source"] == .string("upload:orders/my batch.jsonl"))
            }
            try await client.execute(uri: "/orders/2003", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/orders/2002", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/orders/3001", method: .get) { #expect($0.status == .notFound) }
            let dlq = try await client.execute(uri: "/queues/order-uploads/dlq", method: .get) { $0.json }
            let errors = dlq?["messages"]?.arrayValue?.compactMap { $0["lastError"]?.stringValue } ?? []
            #expect(errors.count == 2)
            #expect(errors.contains { $0.contains("orders/my batch.jsonl") && $0.contains("#2") })
            #expect(errors.contains { $0.contains("orders/broken.json") })
            // A redrive re-runs both: the valid orders replay idempotently, the bad lines land in the DLQ again.
            try await client.execute(uri: "/queues/order-uploads/dlq/redrive", method: .post) { response in
                #expect(response.json?["redriven"] == .number("2"))
            }
            try await t.drain()
            let again = try await client.execute(uri: "/queues/order-uploads/dlq", method: .get) { $0.json }
            #expect(again?["messages"]?.arrayValue?.count == 2)
            let stats = try await client.execute(uri: "/stats", method: .get) { $0.json }
            #expect(stats?["orders"] == .number("3"))
        }
    }

    @Test func operationsEndpoints() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == "OK")
            }
            let queues = try await client.execute(uri: "/queues", method: .get) { $0.json }
            #expect(queues?["queues"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted() == ["HighValueQueue", "order-uploads"])
            try await client.execute(uri: "/queues/nope/dlq", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/queues/HighValueQueue/dlq", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json?["messages"]?.arrayValue?.isEmpty == true)
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("<title>OrderFlow</title>"))
            }
        }
    }

    @Test func poisonReviewMessageGoesToTheDeadLetterQueue() async throws {
        let t = try await TestSystem.make()
        try await t.system.highValueQueue.send([OutgoingMessage(body: Array("not an event".utf8))])
        try await t.drain()
        let letters = try await t.system.messaging.deadLetters(of: "HighValueQueue", limit: 10)
        #expect(letters.count == 1)
        #expect(letters.first?.lastError?.contains("not an order.high_value event") == true)
    }
}
