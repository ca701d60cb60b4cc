import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import OrderFlowCore

/// How bearer tokens are checked: a JWKS (URL or file), and the claims a token must carry. Cognito user pool access
/// tokens fit: issuer `https://cognito-idp.<region>.amazonaws.com/<pool id>`, `token_use` `access`, `client_id` one of the
/// app clients, scopes in `scope` (a resource server's `orderflow/orders:write` counts as `orders:write`).
public struct JWTSettings: Sendable {
    public enum KeySource: Sendable, Hashable {
        case url(String)
        case file(String)
    }

    public var keys: KeySource
    /// `iss` must equal this.
    public var issuer: String
    /// `client_id` (access tokens) or one of `aud` (ID tokens) must be one of these.
    public var audiences: Set<String>
    /// `token_use` must equal this when set (Cognito: `access`).
    public var tokenUse: String?
    /// Clock skew allowed on `exp` and `nbf`.
    public var leeway: Duration = .seconds(60)
    /// An unknown `kid` refreshes the keys at most this often.
    public var minimumRefreshInterval: Duration = .seconds(60)

    public init(keys: KeySource, issuer: String, audiences: Set<String>, tokenUse: String? = "access") {
        self.keys = keys
        self.issuer = issuer
        self.audiences = audiences
        self.tokenUse = tokenUse
    }
}

/// Verifies bearer tokens against the JWKS: only RS256 and ES256, only keys the JWKS names (by `kid`, with the
/// algorithm the key is for), then the claims. Any failure is just "not authenticated": the caller learns nothing about
/// which part was wrong.
public actor JWTVerifier {
    public static let algorithms: Set<String> = ["RS256", "ES256"]

    let settings: JWTSettings
    let clock: any WallClock
    private var collection = JWTKeyCollection()
    /// kid → the one algorithm its key verifies.
    private var known: [String: String] = [:]
    private var lastLoad: ContinuousClock.Instant?
    /// How often the keys were loaded (start-up included); for tests and /status.
    public private(set) var loads = 0

    public init(settings: JWTSettings, clock: any WallClock = SystemClock()) {
        self.settings = settings
        self.clock = clock
    }

    /// Loads the keys; at start-up a failure is a configuration error.
    public func load() async throws {
        let document: [UInt8]
        do {
            document = try await Self.fetch(settings.keys)
        } catch let error as JWTSetupError {
            throw error
        } catch {
            throw JWTSetupError("cannot fetch the JWKS at \(settings.keys): \(error)")
        }
        let json = try JSONParser.parse(document)
        var kids: [String: String] = [:]
        for key in json["keys"]?.arrayValue ?? [] {
            guard let kid = key["kid"]?.stringValue, let kty = key["kty"]?.stringValue else { continue }
            if let use = key["use"]?.stringValue, use != "sig" { continue }
            let alg = key["alg"]?.stringValue ?? (kty == "RSA" ? "RS256" : kty == "EC" && key["crv"]?.stringValue == "P-256" ? "ES256" : "")
            guard Self.algorithms.contains(alg), (alg == "RS256") == (kty == "RSA") else { continue }
            kids[kid] = alg
        }
        guard !kids.isEmpty else { throw JWTSetupError("the JWKS at \(settings.keys) has no RS256 or ES256 signing key with a kid") }
        let fresh = JWTKeyCollection()
        _ = try await fresh.add(jwksJSON: String(decoding: document, as: UTF8.self))
        collection = fresh
        known = kids
        lastLoad = .now
        loads += 1
    }

    /// The principal of a valid token, or nil.
    public func principal(for token: String) async -> Principal? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URL(parts[0]), let header = try? JSONParser.parse(headerBytes),
              let alg = header["alg"]?.stringValue, Self.algorithms.contains(alg),
              let kid = header["kid"]?.stringValue, !kid.isEmpty else { return nil }
        if known[kid] == nil, lastLoad.map({ ContinuousClock.now - $0 >= settings.minimumRefreshInterval }) ?? true {
            try? await load()
        }
        guard known[kid] == alg else { return nil }
        let claims: Claims
        do {
            claims = try await collection.verify(token, as: Claims.self)
        } catch {
            return nil
        }
        let now = Double(clock.now().millisecondsSinceEpoch) / 1000
        let leeway = Double(settings.leeway.components.seconds)
        guard let exp = claims.exp, now < exp + leeway else { return nil }
        if let nbf = claims.nbf, now + leeway < nbf { return nil }
        guard claims.iss == settings.issuer else { return nil }
        if let tokenUse = settings.tokenUse, claims.tokenUse != tokenUse { return nil }
        let presented = Set([claims.clientId].compactMap { $0 } + (claims.aud ?? []))
        guard !settings.audiences.isDisjoint(with: presented) else { return nil }
        let scopes = (claims.scope ?? "").split(separator: " ").compactMap { item -> Scope? in
            Scope(rawValue: String(item.split(separator: "/").last ?? item))
        }
        return Principal(kind: .jwt, id: "jwt:\(claims.sub ?? claims.clientId ?? "unknown")", scopes: Set(scopes))
    }

    struct Claims: JWTPayload {
        var iss: String?
        var sub: String?
        var aud: [String]?
        var exp: Double?
        var nbf: Double?
        var tokenUse: String?
        var clientId: String?
        var scope: String?

        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, exp, nbf, scope
            case tokenUse = "token_use"
            case clientId = "client_id"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            iss = try container.decodeIfPresent(String.self, forKey: .iss)
            sub = try container.decodeIfPresent(String.self, forKey: .sub)
            if let one = try? container.decodeIfPresent(String.self, forKey: .aud) {
                aud = [one]
            } else {
                aud = try container.decodeIfPresent([String].self, forKey: .aud)
            }
            exp = try container.decodeIfPresent(Double.self, forKey: .exp)
            nbf = try container.decodeIfPresent(Double.self, forKey: .nbf)
            tokenUse = try container.decodeIfPresent(String.self, forKey: .tokenUse)
            clientId = try container.decodeIfPresent(String.self, forKey: .clientId)
            scope = try container.decodeIfPresent(String.self, forKey: .scope)
        }

        /// The claims are checked by the verifier, which knows the settings.
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func fetch(_ source: JWTSettings.KeySource) async throws -> [UInt8] {
        switch source {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw JWTSetupError("cannot read the JWKS file \(path)") }
            return [UInt8](data)
        case .url(let url):
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            guard response.status == .ok else { throw JWTSetupError("GET \(url) answered \(response.status.code)") }
            return Array(buffer: try await response.body.collect(upTo: 1 << 20))
        }
    }

    static func base64URL(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }
}

/// A JWKS that cannot be loaded or holds no usable key.
public struct JWTSetupError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
