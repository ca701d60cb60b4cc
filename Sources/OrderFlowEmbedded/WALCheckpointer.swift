import GRDB
import Logging
import ServiceLifecycle

/// Copies committed WAL pages back into the database file from a connection of its own, every `interval` (PASSIVE:
/// it never waits for or blocks the writer or readers). Without it the single writer runs each checkpoint inside a
/// commit, and every order waiting on that group commit waits for the copy too.
///
/// A passive checkpoint alone cannot bound the WAL under sustained load: SQLite only restarts the WAL when a write
/// transaction begins with every page copied, which a writer that never pauses rarely allows. The writer's own
/// automatic checkpoint (`AppDatabase.defaultWALAutocheckpointPages`) stays on for that; by the time it triggers, this
/// checkpointer has already copied nearly everything, so it costs the writer little.
public final class WALCheckpointer: Service, Sendable {
    /// What one checkpoint saw and did.
    public struct Progress: Sendable, Hashable {
        /// Pages (frames) in the WAL.
        public var walFrames: Int
        /// Of those, pages already copied into the database file.
        public var checkpointedFrames: Int
    }

    /// Time between checkpoints.
    public let interval: Duration
    private let connection: DatabaseQueue
    private let logger: Logger

    /// Opens the checkpointer's connection to `database`'s file. This is the one second connection to the file outside
    /// the pool: the pool's writer must not be the one that checkpoints, and its readers are read-only.
    public init(database: AppDatabase, interval: Duration = .milliseconds(50), logger: Logger) throws {
        var configuration = Configuration()
        configuration.label = "orderflow.wal-checkpointer"
        configuration.prepareDatabase { db in
            // Copied pages must be on disk before SQLite lets the writer restart the WAL over them.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        connection = try DatabaseQueue(path: database.path, configuration: configuration)
        self.interval = interval
        self.logger = logger
    }

    /// Checkpoints every `interval` until cancelled or gracefully shut down.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await checkpoint()
            } catch {
                // Cancellation interrupts a checkpoint in progress (SQLITE_INTERRUPT): that is stopping, not failing.
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// One PASSIVE checkpoint: copies every page no reader still needs. Another checkpoint running at the same moment
    /// (the writer's automatic one) is not an error: this one is skipped and reports nothing copied.
    @discardableResult
    public func checkpoint() async throws -> Progress {
        try await connection.writeWithoutTransaction { db in
            do {
                let result = try db.checkpoint(.passive)
                return Progress(walFrames: result.walFrameCount, checkpointedFrames: result.checkpointedFrameCount)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                return Progress(walFrames: 0, checkpointedFrames: 0)
            }
        }
    }
}
