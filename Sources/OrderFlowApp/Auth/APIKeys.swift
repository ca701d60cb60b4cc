import OrderFlowCore

/// Creates keys and checks presented ones. A key reads `ofk_<id>_<secret>`: the id finds the stored hash, the secret
/// is compared by hash in constant time.
public struct APIKeys: Sendable {
    public static let prefix = "ofk_"
    public let store: any APIKeyStore
    let clock: any WallClock

    public init(store: any APIKeyStore, clock: any WallClock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    /// A new key: stored (hash only) and returned with the full key text, which is not kept anywhere.
    public func create(name: String, scopes: Set<Scope>) async throws -> (key: APIKey, text: String) {
        var generator = SystemRandomNumberGenerator()
        let id = SHA256Hex.hex((0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let secret = SHA256Hex.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let key = APIKey(id: id, name: name, scopes: scopes, secretHash: Self.hash(secret), createdAt: clock.now())
        try await store.insert(key)
        return (key, "\(Self.prefix)\(id)_\(secret)")
    }

    /// The principal of a presented key, or nil when it is malformed, unknown, revoked or wrong.
    public func authenticate(_ text: String) async throws -> Principal? {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let parts = text.dropFirst(Self.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 64 else { return nil }
        guard let key = try await store.key(id: String(parts[0])), key.revokedAt == nil else { return nil }
        guard Self.constantTimeEqual(Array(Self.hash(String(parts[1])).utf8), Array(key.secretHash.utf8)) else { return nil }
        return Principal(kind: .apiKey, id: "apikey:\(key.id)", scopes: key.scopes)
    }

    static func hash(_ secret: String) -> String {
        SHA256Hex.digest(secret)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
