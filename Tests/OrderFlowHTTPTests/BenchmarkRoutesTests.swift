import Hummingbird
import HummingbirdTesting
import Logging
import OrderFlowCore
import OrderFlowHTTP
import Testing

@Suite("Benchmark routes")
struct BenchmarkRoutesTests {
    static let order = #"{"orderId":"echo-1","customerId":"c-1","currency":"USD","items":[{"sku":"A","quantity":1,"unitPrice":"2.00"}]}"#

    @Test func theEchoRouteAnswersWithTheBodyAndWritesNothing() async throws {
        let t = try await TestSystem.make()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = buildApplication(t.system.services, configuration: t.system.configuration.http, workers: [], logger: logger,
                                   extraRoutes: BenchmarkRoutes.addEcho)
        try await app.test(.router) { client in
            try await client.execute(uri: BenchmarkRoutes.echoPath, method: .post, headers: jsonHeaders, body: ByteBuffer(json: Self.order)) { response in
                #expect(response.status == .created)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.text == Self.order)
            }
            // The same edge rules as POST /orders: a non-JSON body is refused, an oversized one too.
            try await client.execute(uri: BenchmarkRoutes.echoPath, method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x")) { response in
                #expect(response.status == .unsupportedMediaType)
            }
            let oversized = ByteBuffer(repeating: UInt8(ascii: " "), count: t.system.configuration.http.orderBodyLimit + 1)
            try await client.execute(uri: BenchmarkRoutes.echoPath, method: .post, headers: jsonHeaders, body: oversized) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
        // Nothing stored: no order, and no audit entry for the echo (POST /orders writes its entry with the order; the
        // echo has none). The refused requests are audited as every refusal is.
        #expect(try await t.system.services.orders.order(OrderID("echo-1")!) == nil)
        let audited = try await t.system.services.audit?.entries(after: 0, limit: 10, principal: nil, route: nil) ?? []
        #expect(audited.map(\.record.status).sorted() == [413, 415])
    }

    @Test func theAPIHasNoEchoRoute() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            try await client.execute(uri: BenchmarkRoutes.echoPath, method: .post, headers: jsonHeaders, body: ByteBuffer(json: Self.order)) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
