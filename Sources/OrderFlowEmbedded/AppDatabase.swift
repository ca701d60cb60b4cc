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
    /// The one loop every write of the embedded backend goes through (see `write(_:)`).
    private let sharedWrites: SharedWriteLoop

    /// WAL pages after which a commit checkpoints by itself. `WALCheckpointer` copies pages back long before that, so
    /// this is only the bound on the WAL's size when readers or a stalled checkpointer keep it from restarting.
    public static let defaultWALAutocheckpointPages = 10_000

    /// Opens (creating when needed) the database at `path` and applies pending migrations.
    public convenience init(path: String, walAutocheckpointPages: Int = defaultWALAutocheckpointPages) throws {
        try self.init(path: path, walAutocheckpointPages: walAutocheckpointPages, writeTurn: SharedWriteLoop.defaultTurn)
    }

    /// `writeTurn`: how long the shared write loop may keep GRDB's writer queue before other writes of the pool get it.
    init(path: String, walAutocheckpointPages: Int = defaultWALAutocheckpointPages, writeTurn: Duration) throws {
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
        sharedWrites = SharedWriteLoop(pool: pool, turn: writeTurn)
        try Self.migrator.migrate(pool)
    }

    /// A new database in a fresh temporary directory, for tests and benchmarks.
    public static func temporary(walAutocheckpointPages: Int = defaultWALAutocheckpointPages) throws -> AppDatabase {
        try temporary(walAutocheckpointPages: walAutocheckpointPages, writeTurn: SharedWriteLoop.defaultTurn)
    }

    static func temporary(walAutocheckpointPages: Int = defaultWALAutocheckpointPages, writeTurn: Duration) throws -> AppDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-\(UUID().uuidString)")
        return try AppDatabase(
            path: directory.appendingPathComponent("orderflow.sqlite").path, walAutocheckpointPages: walAutocheckpointPages,
            writeTurn: writeTurn)
    }

    /// Runs `body` in a write transaction shared with every other write that arrives while the previous transaction
    /// commits, so they share one disk flush (with `synchronous = FULL` the flush, not the SQL, is what a small write
    /// costs). `body` runs in a savepoint of its own: when it throws, only its changes are undone and only its caller
    /// gets the error. It returns once the shared transaction has committed. Every write of the embedded backend goes
    /// through here (the order store's through `write(_:with:)`), so each disk flush serves all the work that was ready
    /// for it. Like `pool.write`, it must not be called from inside another write. `body` may run more than once (when a
    /// batched write of its transaction throws, the transaction is undone and run again), so its effects belong in the
    /// database or in post-commit hooks, which run only for the transaction that commits.
    ///
    /// Post-commit hooks (`db.afterNextTransaction`) registered by a body that then throws still run when the shared
    /// transaction commits: waiters woken for nothing look again and wait on, and a receive that fails after moving a
    /// message to the dead-letter queue logs a move that was undone.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try Self.cast(try await sharedWrites.submit(.single { db in try body(db) }).get())
    }

    /// Queues `items` for the next shared transaction, where `batch` runs once for the items of every caller that
    /// queued some for it since the previous one; returns this caller's outcomes once committed. It runs without a
    /// savepoint (a savepoint makes SQLite copy every page the batch touches to a journal first): when `batch` throws,
    /// the whole transaction is undone, each of those callers gets the error, and the other writes run again without it.
    public func write<Item: Sendable, Outcome: Sendable>(
        _ items: [Item], with batch: BatchedWrite<Item, Outcome>
    ) async throws -> [Outcome] {
        guard !items.isEmpty else { return [] }
        return try Self.cast(try await sharedWrites.submit(.batched(batch, items: items)).get())
    }

    /// Writes waiting for the next shared transaction (not counting the one committing).
    var queuedWrites: Int { sharedWrites.queuedCount }

    private static func cast<T>(_ value: any Sendable) throws -> T {
        guard let typed = value as? T else {
            throw DatabaseError(message: "a shared write returned \(type(of: value)) where \(T.self) was expected")
        }
        return typed
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
