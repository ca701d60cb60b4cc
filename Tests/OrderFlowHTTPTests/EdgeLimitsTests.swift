import Hummingbird
import HummingbirdTesting
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowHTTP
import Testing

@Suite("Edge limits")
struct EdgeLimitsTests {
    @Test func eachPrincipalHasItsOwnTokenBucket() async throws {
        let t = try await TestSystem.make { configuration in
            configuration.apiKeysEnabled = true
            configuration.http.limits.rateLimit = 0.001  // practically no refill during the test
            configuration.http.limits.rateBurst = 3
        }
        let keys = APIKeys(store: SQLiteAPIKeyStore(database: t.system.database))
        let (_, first) = try await keys.create(name: "a", scopes: [.ordersRead])
        let (_, second) = try await keys.create(name: "b", scopes: [.ordersRead])
        try await t.application().test(.router) { client in
            for _ in 0..<3 {
                try await client.execute(uri: "/stats", method: .get, headers: [.xAPIKey: first]) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/stats", method: .get, headers: [.xAPIKey: first]) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:too-many-requests"))
                #expect((response.headers[.retryAfter].flatMap(Int.init) ?? 0) >= 1)
            }
            // Another principal is not slowed by the first; open routes are never limited.
            try await client.execute(uri: "/stats", method: .get, headers: [.xAPIKey: second]) { #expect($0.status == .ok) }
            for _ in 0..<10 { try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) } }
        }
    }

    @Test func anOverlongRequestTargetIs414() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            try await client.execute(uri: "/orders?customerId=" + String(repeating: "x", count: 9000), method: .get) { response in
                #expect(response.status == .uriTooLong)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:uri-too-long"))
            }
            try await client.execute(uri: "/orders?customerId=" + String(repeating: "x", count: 100), method: .get) { #expect($0.status == .ok) }
        }
    }
}
