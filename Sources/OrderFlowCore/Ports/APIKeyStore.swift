/// An API key for a machine client. Only a hash of its secret is stored; the key itself is shown once, at creation.
public struct APIKey: Sendable, Hashable {
    /// Public id (16 hex digits); part of the key, used to find it.
    public var id: String
    public var name: String
    public var scopes: Set<Scope>
    /// SHA-256 of the secret part (hex). The secret has 256 random bits, so a plain hash is enough (no stretching).
    public var secretHash: String
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?

    public init(id: String, name: String, scopes: Set<Scope>, secretHash: String, createdAt: Timestamp, revokedAt: Timestamp? = nil) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Where API keys are kept (port; embedded: SQLite).
public protocol APIKeyStore: Sendable {
    func insert(_ key: APIKey) async throws
    func key(id: String) async throws -> APIKey?
    func keys() async throws -> [APIKey]
    /// Marks the key revoked; false when there is no such key.
    func revoke(id: String, at time: Timestamp) async throws -> Bool
}
