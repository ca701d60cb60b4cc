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
    /// Writes waiting for the next shared transaction (see `write(_:)`).
    private let sharedWrites: GroupCommit<SharedWrite, Result<any Sendable, any Error>>

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
        let pool = try DatabasePool(path: path, configuration: configuration)
        self.pool = pool
        // GRDB switches the pool's writer to `synchronous = NORMAL` when it turns on WAL mode, after
        // `prepareDatabase` ran: without this, commits returned before reaching the disk (only checkpoints flushed).
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        self.path = path
        sharedWrites = GroupCommit { writes in
            try await pool.write { db in
                writes.map { write in
                    var outcome: Result<any Sendable, any Error> = .failure(CancellationError())
                    do {
                        try db.inSavepoint {
                            outcome = .success(try write.body(db))
                            return .commit
                        }
                    } catch {
                        outcome = .failure(error)
                    }
                    return outcome
                }
            }
        }
        try Self.migrator.migrate(pool)
    }

    /// A new database in a fresh temporary directory, for tests and benchmarks.
    public static func temporary(walAutocheckpointPages: Int = defaultWALAutocheckpointPages) throws -> AppDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-\(UUID().uuidString)")
        return try AppDatabase(path: directory.appendingPathComponent("orderflow.sqlite").path, walAutocheckpointPages: walAutocheckpointPages)
    }

    /// Runs `body` in a write transaction shared with every other write that arrives while the previous transaction
    /// commits, so they share one disk flush (with `synchronous = FULL` the flush, not the SQL, is what a small write
    /// costs). `body` runs in a savepoint of its own: when it throws, only its changes are undone and only its caller
    /// gets the error. It returns once the shared transaction has committed. Background writes (relay, queues, review
    /// updates, analytics, webhooks) go through here; the order store's batches do not (see `SQLiteOrderStore`). Like
    /// `pool.write`, it must not be called from inside another write.
    ///
    /// Post-commit hooks (`db.afterNextTransaction`) registered by a body that then throws still run when the shared
    /// transaction commits: waiters woken for nothing look again and wait on, and a receive that fails after moving a
    /// message to the dead-letter queue logs a move that was undone.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        switch try await sharedWrites.submit(SharedWrite(body: { db in try body(db) })) {
        case .success(let value):
            guard let typed = value as? T else {
                throw DatabaseError(message: "a shared write returned \(type(of: value)) where \(T.self) was expected")
            }
            return typed
        case .failure(let error):
            throw error
        }
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
        AuthSchema.register(in: &migrator)
        AuditSchema.register(in: &migrator)
        DocumentSchema.register(in: &migrator)
        return migrator
    }
}

/// One caller's part of a shared write transaction.
private struct SharedWrite: Sendable {
    let body: @Sendable (Database) throws -> any Sendable
}
