import GRDB
import OrderFlowCore

/// Everything `orderflow export` writes, read in one transaction: a consistent snapshot (WAL isolation) of orders (with
/// their reviews), documents and the audit trail while writers go on.
public enum DataSnapshot {
    public enum Item: Sendable {
        case order(Order)
        case document(Document)
        case audit(AuditEntry)
    }

    public struct Counts: Sendable, Hashable {
        public var orders = 0
        public var documents = 0
        public var auditEntries = 0
    }

    public static func read(_ database: AppDatabase, _ body: @escaping @Sendable (Item) throws -> Void) async throws -> Counts {
        try await database.pool.read { db in
            var counts = Counts()
            let orders = try Row.fetchCursor(db, sql: "SELECT \(OrderRecord.Columns.all) FROM orders ORDER BY seq")
            while let row = try orders.next() {
                try body(.order(try OrderRecord.order(from: row)))
                counts.orders += 1
            }
            let documents = try Row.fetchCursor(db, sql: "SELECT * FROM documents ORDER BY seq")
            while let row = try documents.next() {
                try body(.document(SQLiteDocumentStore.document(from: row)))
                counts.documents += 1
            }
            let entries = try Row.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY seq")
            while let row = try entries.next() {
                try body(.audit(SQLiteAuditTrail.entry(from: row)))
                counts.auditEntries += 1
            }
            return counts
        }
    }
}

extension SQLiteDocumentStore {
    /// Inserts the document unless one with its id exists; true when inserted.
    public func insertIfAbsent(_ document: Document) async throws -> Bool {
        if try await self.document(id: document.id) != nil { return false }
        try await insert(document)
        return true
    }
}

extension SQLiteAuditTrail {
    /// Puts exported entries back as they were (sequence numbers and hashes kept, so the chain still verifies), but
    /// only into an empty trail: merging two chains would break both. False when the trail already has entries.
    public func restore(_ entries: [AuditEntry]) async throws -> Bool {
        try await database.pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log") == 0 else { return false }
            for entry in entries {
                try db.execute(sql: """
                    INSERT INTO audit_log (seq, time, principal, method, route, resource, status, source, request_id, prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [entry.sequence, entry.record.time.millisecondsSinceEpoch, entry.record.principal, entry.record.method,
                                     entry.record.route, entry.record.resource, entry.record.status, entry.record.sourceAddress,
                                     entry.record.requestId, entry.previousHash, entry.hash])
            }
            return true
        }
    }
}
