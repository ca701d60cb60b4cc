import AsyncHTTPClient
import Foundation
import Logging
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowLambda
import Testing

/// The processor's ports on the embedded adapters (a temporary SQLite file and object folder).
struct LambdaFixture {
    let orders: OrderService
    let objects: FileObjectStore
    let handler: OrderEventHandler

    init() throws {
        let database = try AppDatabase.temporary()
        let clock = SystemClock()
        orders = OrderService(store: SQLiteOrderStore(database: database), policy: .standard, clock: clock)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-lambda-\(UUID().uuidString)")
        objects = try FileObjectStore(root: root, bucket: "myapp-uploads", notifications: [], clock: clock)
        var logger = Logger(label: "lambda-test")
        logger.logLevel = .critical
        handler = OrderEventHandler(orders: orders, uploads: UploadIngest(objects: objects, orders: orders), logger: logger)
    }

    /// An S3 object-created event for `key`, encoded the way S3 encodes keys (`+` for a space).
    static func s3Event(key: String) -> String {
        String(decoding: ObjectCreatedNotification(bucket: "myapp-uploads", key: key).encoded(time: Timestamp(millisecondsSinceEpoch: 0)), as: UTF8.self)
    }
}

func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

@Suite("Lambda processor: run loop over the Runtime API, S3, SQS and direct events")
struct LambdaProcessorTests {
    var logger: Logger {
        var logger = Logger(label: "lambda-test")
        logger.logLevel = .critical
        return logger
    }

    @Test("the run loop takes invocations, runs the handler and reports each response or error under its request id")
    func runLoopOverRuntimeAPI() async throws {
        let fixture = try LambdaFixture()
        let key = "orders/my order+1.json"
        _ = try await fixture.objects.put(key: key, bytes: Array("""
            {"orderId":"U-1","customerId":"c","currency":"USD","items":[{"sku":"A","quantity":1,"unitPrice":"10.00"}]}
            {"OrderId":"U-2","Amount":"301.00"}
            """.utf8), contentType: "application/x-ndjson")
        let server = try await RuntimeAPIServer.start()
        defer { server.stop() }
        server.enqueue(.init(requestId: "r1", body: #"{"OrderId":"1001","Amount":450}"#))
        server.enqueue(.init(requestId: "r2", body: LambdaFixture.s3Event(key: key)))
        server.enqueue(.init(requestId: "r3", body: #"{"OrderId":"1002"}"#))
        server.enqueue(.init(requestId: "r4", body: #"{"OrderId":"1001","Amount":"450.00"}"#))
        server.enqueue(.init(requestId: "r5", body: #"{"OrderId":"1001","Amount":451}"#))

        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let loop = LambdaRunLoop(client: HTTPLambdaRuntimeClient(runtimeAPI: server.address, http: http), logger: logger)
        try await loop.run(maximumInvocations: 5, initialize: { fixture.handler }) { handler, invocation in
            try await handler.handle(invocation.body)
        }
        try await http.shutdown()

        var reports: [RuntimeAPIServer.Report] = []
        for await report in server.reports {
            reports.append(report)
            if reports.count == 5 { break }
        }
        guard case .response("r1", let first) = reports[0] else { Issue.record("r1: \(reports[0])"); return }
        #expect(try json(first)["outcome"] == .string("created"))
        #expect(try json(first)["order"]?["highValue"] == .bool(true))
        guard case .response("r2", let second) = reports[1] else { Issue.record("r2: \(reports[1])"); return }
        #expect(try json(second)["objects"]?.arrayValue?.first?["key"] == .string(key))
        #expect(try json(second)["objects"]?.arrayValue?.first?["accepted"] == .number("2"))
        guard case .error("r3", "InvalidOrder", let third) = reports[2] else { Issue.record("r3: \(reports[2])"); return }
        #expect(try json(third)["errorMessage"]?.stringValue?.contains("Amount is required") == true)
        guard case .response("r4", let fourth) = reports[3] else { Issue.record("r4: \(reports[3])"); return }
        #expect(try json(fourth)["outcome"] == .string("replayed"))
        guard case .error("r5", "OrderConflict", _) = reports[4] else { Issue.record("r5: \(reports[4])"); return }

        let stored = try #require(try await fixture.orders.order(OrderID("1001")!))
        #expect(stored.source == "lambda")
        #expect(stored.amountMinor == 45_000)
        // The key arrived URL-encoded ("my+order%2B1.json") and was decoded exactly once.
        #expect(try await fixture.orders.order(OrderID("U-1")!)?.source == "upload:\(key)")
        #expect(try await fixture.orders.order(OrderID("U-2")!)?.highValue == true)
        #expect(try await fixture.orders.order(OrderID("1002")!) == nil)
    }

    @Test("a next invocation without a request id is a protocol error that stops the loop, not a crash")
    func missingRequestId() async throws {
        let fixture = try LambdaFixture()
        let server = try await RuntimeAPIServer.start()
        defer { server.stop() }
        server.enqueue(.init(requestId: "r1", body: #"{"OrderId":"1","Amount":1}"#, omitRequestId: true))
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let loop = LambdaRunLoop(client: HTTPLambdaRuntimeClient(runtimeAPI: server.address, http: http), logger: logger)
        await #expect(throws: LambdaRuntimeError.missingHeader("Lambda-Runtime-Aws-Request-Id")) {
            try await loop.run(maximumInvocations: 1, initialize: { fixture.handler }) { handler, invocation in
                try await handler.handle(invocation.body)
            }
        }
        try await http.shutdown()
        #expect(try await fixture.orders.order(OrderID("1")!) == nil)
    }

    @Test("a failing initialization is reported on init/error and ends the runtime")
    func initErrorReported() async throws {
        struct NoRegion: Error, CustomStringConvertible { var description: String { "AWS_REGION is not set" } }
        let server = try await RuntimeAPIServer.start()
        defer { server.stop() }
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let loop = LambdaRunLoop(client: HTTPLambdaRuntimeClient(runtimeAPI: server.address, http: http), logger: logger)
        await #expect(throws: NoRegion.self) {
            try await loop.run(maximumInvocations: 1, initialize: { () throws -> Int in throw NoRegion() }) { _, _ in [] }
        }
        try await http.shutdown()
        var iterator = server.reports.makeAsyncIterator()
        guard case .initError("NoRegion", let body) = await iterator.next() else { Issue.record("no init error reported"); return }
        #expect(try json(body)["errorMessage"] == .string("AWS_REGION is not set"))
    }

    @Test("an SQS batch reports exactly the failed messages, and handles S3 notifications and orders in it")
    func sqsBatchItemFailures() async throws {
        let fixture = try LambdaFixture()
        _ = try await fixture.objects.put(key: "orders/1001.json", bytes: Array(#"{"OrderId":"1001","Amount":450}"#.utf8), contentType: nil)
        func record(_ id: String, _ body: String) -> JSONValue {
            .object(["messageId": .string(id), "eventSource": .string("aws:sqs"), "body": .string(body)])
        }
        let event = JSONValue.object(["Records": .array([
            record("m1", #"{"OrderId":"2001","Amount":"12.50"}"#),
            record("m2", "not json"),
            record("m3", LambdaFixture.s3Event(key: "orders/1001.json")),
            record("m4", #"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"myapp-uploads"}"#),
            record("m5", LambdaFixture.s3Event(key: "orders/missing.json")),
        ])]).serializedBytes()
        let response = try JSONParser.parse(try await fixture.handler.handle(event))
        #expect(response == .object(["batchItemFailures": .array([
            .object(["itemIdentifier": .string("m2")]), .object(["itemIdentifier": .string("m5")]),
        ])]))
        #expect(try await fixture.orders.order(OrderID("2001")!)?.amountMinor == 1250)
        #expect(try await fixture.orders.order(OrderID("1001")!)?.source == "upload:orders/1001.json")
    }

    @Test("an S3 object with a bad line keeps its valid orders and fails the invocation with the reason")
    func partlyBadObject() async throws {
        let fixture = try LambdaFixture()
        _ = try await fixture.objects.put(key: "orders/mixed.jsonl", bytes: Array("""
            {"OrderId":"M-1","Amount":5}
            {"OrderId":"M-2","Amount":"abc"}
            """.utf8), contentType: nil)
        await #expect {
            try await fixture.handler.handle(Array(LambdaFixture.s3Event(key: "orders/mixed.jsonl").utf8))
        } throws: { error in
            guard let failure = error as? LambdaFunctionError else { return false }
            return failure.type == "UploadRejected" && failure.message.contains("orders/mixed.jsonl") && failure.message.contains("#2")
        }
        #expect(try await fixture.orders.order(OrderID("M-1")!)?.amountMinor == 500)
        #expect(try await fixture.orders.order(OrderID("M-2")!) == nil)
    }

    @Test("an event that is not JSON is an InvalidEvent error")
    func notJSON() async throws {
        let fixture = try LambdaFixture()
        await #expect(throws: LambdaFunctionError.self) { try await fixture.handler.handle(Array("{".utf8)) }
    }
}
