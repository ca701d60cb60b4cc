import GRDB
import OrderFlowCore

enum DocumentSchema {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1-documents") { db in
            try db.execute(sql: """
                CREATE TABLE documents (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    filename TEXT NOT NULL,
                    size_bytes INTEGER NOT NULL,
                    content_type TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    uploaded_at INTEGER NOT NULL,
                    uploader TEXT NOT NULL,
                    object_key TEXT
                );
                """)
        }
    }
}

/// Document metadata in the data directory's database; listed in upload order with an opaque cursor.
public struct SQLiteDocumentStore: DocumentStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func insert(_ document: Document) async throws {
        try await database.pool.write { db in
            try db.execute(sql: """
                INSERT INTO documents (id, filename, size_bytes, content_type, sha256, uploaded_at, uploader, object_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [document.id, document.filename, document.sizeBytes, document.contentType, document.sha256,
                                 document.uploadedAt.millisecondsSinceEpoch, document.uploader, document.objectKey])
        }
    }

    public func document(id: String) async throws -> Document? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM documents WHERE id = ?", arguments: [id]).map(Self.document(from:))
        }
    }

    public func documents(limit: Int, cursor: String?) async throws -> DocumentPage {
        var after: Int64 = 0
        if let cursor {
            guard cursor.hasPrefix("d"), let value = Int64(cursor.dropFirst()), value >= 0 else { throw OrderStoreError.invalidCursor }
            after = value
        }
        let count = max(1, min(limit, 1000))
        let start = after
        return try await database.pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM documents WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [start, count + 1])
            let page = rows.prefix(count)
            let next: String? = rows.count > count ? page.last.map { "d\($0["seq"] as Int64)" } : nil
            return DocumentPage(documents: page.map(Self.document(from:)), nextCursor: next)
        }
    }

    static func document(from row: Row) -> Document {
        Document(id: row["id"], filename: row["filename"], sizeBytes: row["size_bytes"], contentType: row["content_type"], sha256: row["sha256"],
                 uploadedAt: Timestamp(millisecondsSinceEpoch: row["uploaded_at"]), uploader: row["uploader"], objectKey: row["object_key"])
    }
}
