import Crypto
import CryptoExtras
import Foundation
import Hummingbird
import HummingbirdTesting
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowHTTP
import OrderFlowServer
import Testing

/// Signing keys and tokens made independently of the server's JWT library (raw JWS over swift-crypto), and the JWKS
/// the server is given.
struct TokenFactory {
    let rsa: _RSA.Signing.PrivateKey
    let ec = P256.Signing.PrivateKey()
    let issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
    let clientId = "orderflow-client"

    init() throws {
        rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    func jwks() throws -> String {
        let primitives = try rsa.publicKey.getKeyPrimitives()
        let point = ec.publicKey.x963Representation.dropFirst()
        return """
        {"keys":[{"kty":"RSA","kid":"rsa-1","use":"sig","alg":"RS256","n":"\(Self.b64(primitives.modulus))","e":"\(Self.b64(primitives.publicExponent))"},
                 {"kty":"EC","kid":"ec-1","use":"sig","crv":"P-256","x":"\(Self.b64(point.prefix(32)))","y":"\(Self.b64(point.suffix(32)))"}]}
        """
    }

    /// Claims of a valid Cognito access token, changed by `change`.
    func claims(scopes: String = "orderflow/orders:read orderflow/orders:write", _ change: (inout [String: Any]) -> Void = { _ in }) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = ["iss": issuer, "sub": "user-1", "token_use": "access", "client_id": clientId, "scope": scopes,
                                     "exp": now + 600, "iat": now, "nbf": now - 5]
        change(&claims)
        return claims
    }

    func token(alg: String = "ES256", kid: String? = "ec-1", claims: [String: Any]) throws -> String {
        var header: [String: Any] = ["alg": alg, "typ": "JWT"]
        if let kid { header["kid"] = kid }
        let input = Self.b64(try JSONSerialization.data(withJSONObject: header)) + "." + Self.b64(try JSONSerialization.data(withJSONObject: claims))
        let signature: Data
        switch alg {
        case "ES256": signature = try ec.signature(for: Data(input.utf8)).rawRepresentation
        case "RS256": signature = try rsa.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5).rawRepresentation
        case "none": return input + "."
        default: throw TokenError()
        }
        return input + "." + Self.b64(signature)
    }

    /// HS256 with the RSA public key's PEM as the HMAC secret: the algorithm-confusion attack.
    func confusedToken(claims: [String: Any]) throws -> String {
        let header: [String: Any] = ["alg": "HS256", "typ": "JWT", "kid": "rsa-1"]
        let input = Self.b64(try JSONSerialization.data(withJSONObject: header)) + "." + Self.b64(try JSONSerialization.data(withJSONObject: claims))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(rsa.publicKey.pemRepresentation.utf8)))
        return input + "." + Self.b64(Data(mac))
    }

    static func b64(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    struct TokenError: Error {}
}

@Suite("Authentication and scopes")
struct AuthAPITests {
    func system(_ factory: TokenFactory) async throws -> TestSystem {
        let jwks = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try factory.jwks().write(to: jwks, atomically: true, encoding: .utf8)
        return try await TestSystem.make { configuration in
            configuration.apiKeysEnabled = true
            configuration.jwt = JWTSettings(keys: .file(jwks.path), issuer: factory.issuer, audiences: [factory.clientId])
        }
    }

    @Test func hostileTokensAreRefusedAndValidOnesWork() async throws {
        let factory = try TokenFactory()
        let t = try await system(factory)
        let order = ByteBuffer(string: #"{"OrderId":"auth-1","Amount":5}"#)
        let now = Int(Date().timeIntervalSince1970)
        let hostile: [(String, String)] = [
            ("alg none", try factory.token(alg: "none", claims: factory.claims())),
            ("HS256 with the RSA public key", try factory.confusedToken(claims: factory.claims())),
            ("expired", try factory.token(claims: factory.claims { $0["exp"] = now - 120 })),
            ("not yet valid", try factory.token(claims: factory.claims { $0["nbf"] = now + 600 })),
            ("wrong issuer", try factory.token(claims: factory.claims { $0["iss"] = "https://evil.example" })),
            ("wrong client", try factory.token(claims: factory.claims { $0["client_id"] = "someone-else" })),
            ("id token", try factory.token(claims: factory.claims { $0["token_use"] = "id" })),
            ("unknown kid", try factory.token(kid: "ec-2", claims: factory.claims())),
            ("no kid", try factory.token(kid: nil, claims: factory.claims())),
            ("RS256 header on the EC key", try factory.token(alg: "RS256", kid: "ec-1", claims: factory.claims())),
            ("garbage", "not.a.token"),
        ]
        var parts = try factory.token(claims: factory.claims(scopes: "orderflow/orders:read")).split(separator: ".").map(String.init)
        parts[1] = TokenFactory.b64(try JSONSerialization.data(withJSONObject: factory.claims(scopes: "orderflow/orders:write orderflow/admin")))
        let tampered = parts
        try await t.application().test(.router) { client in
            for (name, token) in hostile + [("tampered payload", tampered.joined(separator: "."))] {
                try await client.execute(uri: "/orders", method: .post, headers: [.contentType: "application/json", .authorization: "Bearer \(token)"], body: order) { response in
                    #expect(response.status == .unauthorized, "\(name)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(name)")
                    #expect(response.headers[.wwwAuthenticate]?.contains("Bearer") == true, "\(name)")
                    #expect(response.json?["type"] == .string("urn:orderflow:problem:unauthorized"), "\(name)")
                    // The same detail whatever was wrong: nothing tells an attacker which check failed.
                    #expect(response.json?["detail"] == .string("send a valid bearer token (Authorization: Bearer …) or API key (X-API-Key: …)"), "\(name)")
                }
            }
            try await client.execute(uri: "/orders", method: .post, headers: [.contentType: "application/json"], body: order) { #expect($0.status == .unauthorized) }
            // Valid ES256 and RS256 tokens work; a missing scope is 403 and names the scope.
            let valid = try factory.token(claims: factory.claims())
            try await client.execute(uri: "/orders", method: .post, headers: [.contentType: "application/json", .authorization: "Bearer \(valid)"], body: order) {
                #expect($0.status == .created)
            }
            let rsaToken = try factory.token(alg: "RS256", kid: "rsa-1", claims: factory.claims())
            try await client.execute(uri: "/orders/auth-1", method: .get, headers: [.authorization: "Bearer \(rsaToken)"]) { #expect($0.status == .ok) }
            let readOnly = try factory.token(claims: factory.claims(scopes: "orderflow/orders:read"))
            try await client.execute(uri: "/orders/auth-1/cancel", method: .post, headers: [.authorization: "Bearer \(readOnly)"]) { response in
                #expect(response.status == .forbidden)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:forbidden"))
                #expect(response.json?["requiredScope"] == .string("orders:write"))
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(valid)"]) { #expect($0.status == .forbidden) }
            // Open routes stay open.
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func apiKeysCarryTheirScopesAndRevocationIsImmediate() async throws {
        let factory = try TokenFactory()
        let t = try await system(factory)
        let keys = APIKeys(store: SQLiteAPIKeyStore(database: t.system.database))
        let (writer, writerText) = try await keys.create(name: "shop backend", scopes: [.ordersWrite, .ordersRead])
        let (_, adminText) = try await keys.create(name: "ops", scopes: [.admin])
        #expect(writerText.hasPrefix("ofk_") && writerText.count == 4 + 16 + 1 + 64)
        // Only the hash is stored.
        #expect(try await keys.store.keys().allSatisfy { !writerText.contains($0.secretHash) && $0.secretHash.count == 64 })
        try await t.application().test(.router) { client in
            let order = ByteBuffer(string: #"{"OrderId":"k-1","Amount":5}"#)
            try await client.execute(uri: "/orders", method: .post, headers: [.contentType: "application/json", .xAPIKey: writerText], body: order) { #expect($0.status == .created) }
            try await client.execute(uri: "/metrics", method: .get, headers: [.xAPIKey: writerText]) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/metrics", method: .get, headers: [.xAPIKey: adminText]) { #expect($0.status == .ok) }
            var wrongSecret = writerText
            wrongSecret.removeLast()
            wrongSecret += writerText.last == "0" ? "1" : "0"
            for bad in [wrongSecret, "ofk_0000000000000000_" + String(repeating: "0", count: 64), "nonsense"] {
                try await client.execute(uri: "/orders/k-1", method: .get, headers: [.xAPIKey: bad]) { #expect($0.status == .unauthorized, "\(bad)") }
            }
            #expect(try await keys.store.revoke(id: writer.id, at: SystemClock().now()))
            try await client.execute(uri: "/orders/k-1", method: .get, headers: [.xAPIKey: writerText]) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func everyRouteHasAScopeEntry() async throws {
        let t = try await TestSystem.make()
        let router = buildRouter(t.system.services, configuration: t.system.configuration.http)
        let missing = router.routes.map { "\($0.method.rawValue) \(RouteScopes.normalized($0.path.description))" }.filter { RouteScopes.table[$0] == nil }
        #expect(missing.isEmpty, "routes without an entry in RouteScopes.table (they default to admin): \(missing)")
    }

    @Test func routesAreNormalizedToBraceParameters() {
        #expect(RouteScopes.normalized("/orders/:id/cancel") == "/orders/{id}/cancel")
        #expect(RouteScopes.normalized("/reviews/{orderId}/approve") == "/reviews/{orderId}/approve")
        #expect(RouteScopes.normalized("/orders") == "/orders")
        #expect(RouteScopes.normalized("/") == "/")
    }
}
