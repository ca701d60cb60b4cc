import Foundation
import GRDB
import OrderFlowCore

/// Owns the one SQLite database of the embedded backend: its connection pool, settings and migrations.
/// Every embedded adapter (orders, outbox, queues, topics, streams, analytics) writes through it, so one transaction can
/// keep an invariant that spans them.
public final class AppDatabase: Sendable {
    /// The GRDB pool (WAL mode: readers never block the writer).
    public let pool: DatabasePool
    /// The database file.
    public let path: String

    /// WAL pages after which a commit checkpoints by itself. `WALCheckpointer` copies pages back long before that, so
    /// this is only the bound on the WAL's size when readers or a stalled checkpointer keep it from restarting.
    public static let defaultWALAutocheckpointPages = 10_000

    /// Opens (creating when needed) the database at `path` and applies pending migrations.
    public init(path: String, walAutocheckpointPages: Int = defaultWALAutocheckpointPages) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Acknowledged means durable: every commit reaches the disk before it returns (DESIGN.md guarantee 1).
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // SQLite's default (1000 pages) makes a commit copy the WAL back every 4 MB, inside the single writer.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(walAutocheckpointPages)")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB switches the pool's writer to `synchronous = NORMAL` when it turns on WAL mode, after
        // `prepareDatabase` ran: without this, commits returned before reaching the disk (only checkpoints flushed).
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        self.path = path
        try Self.migrator.migrate(pool)
    }

    /// A new database in a fresh temporary directory, for tests and benchmarks.
    public static func temporary(walAutocheckpointPages: Int = defaultWALAutocheckpointPages) throws -> AppDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-\(UUID().uuidString)")
        return try AppDatabase(path: directory.appendingPathComponent("orderflow.sqlite").path, walAutocheckpointPages: walAutocheckpointPages)
    }

    /// True when a trivial query succeeds.
    public func isHealthy() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Migrations of every embedded adapter, append-only and named.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        OrderSchema.register(in: &migrator)
        MessagingSchema.register(in: &migrator)
        AnalyticsSchema.register(in: &migrator)
        return migrator
    }
}
