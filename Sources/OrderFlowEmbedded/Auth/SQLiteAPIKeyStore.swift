import GRDB
import OrderFlowCore

enum AuthSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1-api-keys") { db in
            try db.execute(sql: """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                ) WITHOUT ROWID;
                """)
        }
    }
}

/// API keys in the data directory's database.
public struct SQLiteAPIKeyStore: APIKeyStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func insert(_ key: APIKey) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "INSERT INTO api_keys (id, name, scopes, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)", arguments: [
                key.id, key.name, key.scopes.sorted().map(\.rawValue).joined(separator: " "), key.secretHash,
                key.createdAt.millisecondsSinceEpoch, key.revokedAt?.millisecondsSinceEpoch,
            ])
        }
    }

    public func key(id: String) async throws -> APIKey? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.key(from:))
        }
    }

    public func keys() async throws -> [APIKey] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, id").map(Self.key(from:))
        }
    }

    public func revoke(id: String, at time: Timestamp) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", arguments: [time.millisecondsSinceEpoch, id])
            return db.changesCount > 0
        }
    }

    static func key(from row: Row) -> APIKey {
        let scopes = (row["scopes"] as String).split(separator: " ").compactMap { Scope(rawValue: String($0)) }
        return APIKey(id: row["id"], name: row["name"], scopes: Set(scopes), secretHash: row["secret_hash"],
                      createdAt: Timestamp(millisecondsSinceEpoch: row["created_at"]),
                      revokedAt: (row["revoked_at"] as Int64?).map { Timestamp(millisecondsSinceEpoch: $0) })
    }
}
