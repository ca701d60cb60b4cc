import AWSKit
import OrderFlowCore

/// The `APIKeyStore` on a DynamoDB table (`OrderFlowApiKeys`, key `KeyId`): one item per key with its name, scopes,
/// the SHA-256 of its secret (never the secret) and its creation and revocation times. API instances only read it
/// (`GetItem` per presented key); `orderflow apikey … --backend aws` writes it.
public struct DynamoDBAPIKeyStore: APIKeyStore {
    private let dynamoDB: DynamoDB
    private let table: String

    enum Attribute {
        static let id = "KeyId"
        static let name = "Name"
        static let scopes = "Scopes"
        static let secretHash = "SecretHash"
        static let createdAt = "CreatedAt"
        static let revokedAt = "RevokedAt"
    }

    /// The store over `table` (the data stack's default name unless configured).
    public init(dynamoDB: DynamoDB, table: String = "OrderFlowApiKeys") {
        self.dynamoDB = dynamoDB
        self.table = table
    }

    static func key(_ id: String) -> DynamoDBItem { [Attribute.id: .string(id)] }

    /// Stores a new key; an id that exists already is refused (`DynamoDBAPIKeyStoreError.duplicateId`) rather than
    /// overwritten, as the embedded store's primary key refuses it.
    public func insert(_ key: APIKey) async throws {
        var item = Self.key(key.id)
        item[Attribute.name] = .string(key.name)
        item[Attribute.scopes] = .list(key.scopes.sorted().map { .string($0.rawValue) })
        item[Attribute.secretHash] = .string(key.secretHash)
        item[Attribute.createdAt] = .int(key.createdAt.millisecondsSinceEpoch)
        if let revokedAt = key.revokedAt { item[Attribute.revokedAt] = .int(revokedAt.millisecondsSinceEpoch) }
        do {
            try await dynamoDB.putItem(table: table, item: item,
                                       condition: DynamoDB.Expression("attribute_not_exists(#id)", names: ["#id": Attribute.id]))
        } catch {
            guard error.serviceError?.hasCode("ConditionalCheckFailedException") == true else { throw error }
            throw DynamoDBAPIKeyStoreError.duplicateId(key.id)
        }
    }

    public func key(id: String) async throws -> APIKey? {
        guard let item = try await dynamoDB.getItem(table: table, key: Self.key(id)) else { return nil }
        return try Self.apiKey(from: item)
    }

    /// Every key, oldest first (a scan of the whole table: keys are few and listing them is an operator's command).
    public func keys() async throws -> [APIKey] {
        var keys: [APIKey] = []
        var start: DynamoDBItem? = nil
        repeat {
            let page = try await dynamoDB.scan(table: table, startKey: start)
            keys += try page.items.map(Self.apiKey(from:))
            start = page.lastEvaluatedKey
        } while start != nil
        return keys.sorted { ($0.createdAt.millisecondsSinceEpoch, $0.id) < ($1.createdAt.millisecondsSinceEpoch, $1.id) }
    }

    /// Sets the revocation time once (a second revocation keeps the first time); false when there is no such key.
    public func revoke(id: String, at time: Timestamp) async throws -> Bool {
        let update = DynamoDB.Expression("SET #revoked = if_not_exists(#revoked, :time)", names: ["#revoked": Attribute.revokedAt],
                                         values: [":time": .int(time.millisecondsSinceEpoch)])
        do {
            _ = try await dynamoDB.updateItem(table: table, key: Self.key(id), update: update,
                                              condition: DynamoDB.Expression("attribute_exists(#id)", names: ["#id": Attribute.id]))
            return true
        } catch {
            guard error.serviceError?.hasCode("ConditionalCheckFailedException") == true else { throw error }
            return false
        }
    }

    static func apiKey(from item: DynamoDBItem) throws -> APIKey {
        guard let id = item[Attribute.id]?.stringValue, let name = item[Attribute.name]?.stringValue,
              let secretHash = item[Attribute.secretHash]?.stringValue, let created = item[Attribute.createdAt]?.int64Value else {
            throw DynamoDBAPIKeyStoreError.malformedItem(item[Attribute.id]?.stringValue ?? "?")
        }
        let scopes = (item[Attribute.scopes]?.listValue ?? []).compactMap { $0.stringValue.flatMap(Scope.init(rawValue:)) }
        return APIKey(id: id, name: name, scopes: Set(scopes), secretHash: secretHash,
                      createdAt: Timestamp(millisecondsSinceEpoch: created),
                      revokedAt: item[Attribute.revokedAt]?.int64Value.map { Timestamp(millisecondsSinceEpoch: $0) })
    }
}

/// Why the DynamoDB API-key store refused or could not read a key.
public enum DynamoDBAPIKeyStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A key with this id exists already.
    case duplicateId(String)
    /// The item lacks an attribute every key has (written by something else than this store).
    case malformedItem(String)

    public var description: String {
        switch self {
        case .duplicateId(let id): "an API key with id \(id) exists already"
        case .malformedItem(let id): "the API-key item \(id) lacks KeyId, Name, SecretHash or CreatedAt"
        }
    }
}
