import Crypto
import Foundation
import GRDB
import OrderFlowCore

enum AuditSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1-audit") { db in
            try db.execute(sql: """
                CREATE TABLE audit_log (
                    seq INTEGER PRIMARY KEY,
                    time INTEGER NOT NULL,
                    principal TEXT NOT NULL,
                    method TEXT NOT NULL,
                    route TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    status INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE TABLE audit_digests (
                    seq INTEGER PRIMARY KEY,
                    hash TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    signature TEXT NOT NULL
                );
                """)
        }
    }
}

/// The audit trail in the data directory's database. Appends are shared writes (`AppDatabase.write`): concurrent ones
/// share a transaction and its disk flush with the other background writes, and each chains its entries after the
/// last stored one inside its savepoint, so the chain has one order however many writers there are.
public final class SQLiteAuditTrail: AuditTrail {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func append(_ records: [AuditRecord]) async throws -> [AuditEntry] {
        try await database.write { db in try Self.append(records, in: db) }
    }

    static func append(_ records: [AuditRecord], in db: Database) throws -> [AuditEntry] {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
        var sequence: Int64 = last?["seq"] ?? 0
        var previous: String = last?["hash"] ?? AuditEntry.genesis
        var insert = try DirectStatement(db.cachedStatement(sql: """
            INSERT INTO audit_log (seq, time, principal, method, route, resource, status, source, request_id, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """))
        var entries: [AuditEntry] = []
        for record in records {
            sequence += 1
            let hash = AuditEntry.hash(sequence: sequence, record: record, previousHash: previous)
            insert.bind(sequence)
            insert.bind(record.time.millisecondsSinceEpoch)
            insert.bind(record.principal)
            insert.bind(record.method)
            insert.bind(record.route)
            insert.bind(record.resource)
            insert.bind(record.status)
            insert.bind(record.sourceAddress)
            insert.bind(record.requestId)
            insert.bind(previous)
            insert.bind(hash)
            try insert.run(in: db)
            entries.append(AuditEntry(sequence: sequence, record: record, previousHash: previous, hash: hash))
            previous = hash
        }
        return entries
    }

    public func entries(after: Int64, limit: Int, principal: String?, route: String?) async throws -> [AuditEntry] {
        var sql = "SELECT * FROM audit_log WHERE seq > ?"
        var arguments: [any DatabaseValueConvertible] = [after]
        if let principal {
            sql += " AND principal = ?"
            arguments.append(principal)
        }
        if let route {
            sql += " AND route = ?"
            arguments.append(route)
        }
        sql += " ORDER BY seq LIMIT \(max(1, min(limit, 10_000)))"
        let query = sql
        let values = StatementArguments(arguments) ?? StatementArguments()
        return try await database.pool.read { db in
            try Row.fetchAll(db, sql: query, arguments: values).map(Self.entry(from:))
        }
    }

    public func writeDigest(signingKey: Curve25519.Signing.PrivateKey, at time: Timestamp) async throws -> AuditDigest? {
        try await database.pool.write { db in
            guard let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") else { return nil }
            let sequence: Int64 = last["seq"]
            if try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_digests WHERE seq = ?", arguments: [sequence]) ?? 0 > 0 { return nil }
            var digest = AuditDigest(sequence: sequence, hash: last["hash"], time: time, signature: "")
            let signature = try signingKey.signature(for: Array(digest.signedText.utf8))
            digest.signature = SHA256Hex.hex([UInt8](signature))
            try db.execute(sql: "INSERT INTO audit_digests (seq, hash, time, signature) VALUES (?, ?, ?, ?)",
                           arguments: [digest.sequence, digest.hash, time.millisecondsSinceEpoch, digest.signature])
            return digest
        }
    }

    public func digests() async throws -> [AuditDigest] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_digests ORDER BY seq").map { row in
                AuditDigest(sequence: row["seq"], hash: row["hash"], time: Timestamp(millisecondsSinceEpoch: row["time"]), signature: row["signature"])
            }
        }
    }

    /// Every entry in order (for verification), read in one transaction.
    public func allEntries() async throws -> [AuditEntry] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq").map(Self.entry(from:))
        }
    }

    static func entry(from row: Row) -> AuditEntry {
        AuditEntry(
            sequence: row["seq"],
            record: AuditRecord(time: Timestamp(millisecondsSinceEpoch: row["time"]), principal: row["principal"], method: row["method"],
                                route: row["route"], resource: row["resource"], status: row["status"], sourceAddress: row["source"],
                                requestId: row["request_id"]),
            previousHash: row["prev_hash"], hash: row["hash"]
        )
    }
}

/// The Ed25519 key that signs audit digests: `<data dir>/audit-signing.key` (32 raw bytes, mode 0600), made on first use.
/// Keep a copy of its public key elsewhere if the database host itself is not trusted.
public enum AuditSigningKey {
    public static func load(directory: URL) throws -> Curve25519.Signing.PrivateKey {
        let url = directory.appendingPathComponent("audit-signing.key")
        if let data = FileManager.default.contents(atPath: url.path) {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: data)
        }
        let key = Curve25519.Signing.PrivateKey()
        guard FileManager.default.createFile(atPath: url.path, contents: key.rawRepresentation, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create \(url.path)"])
        }
        return key
    }
}
