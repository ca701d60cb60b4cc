import Crypto
import Foundation
import GRDB
import OrderFlowCore
import Synchronization

/// An embedded stream with Kinesis semantics: records go to the shard their partition key hashes to and get increasing
/// per-shard sequence numbers; `trim` drops what is older than the retention window.
public final class SQLiteStream: EventStream {
    /// The stream's name.
    public let name: String
    /// How many shards the stream has; changing it re-maps partition keys, so keep it fixed for a stream's lifetime.
    public let shardCount: Int
    /// How long `trim` keeps records.
    public let retention: Duration
    private let context: MessagingContext
    /// The signal generation seen before this value's latest read, so `waitForRecords` cannot miss a put that
    /// committed between that read and the wait.
    private let lastSeenGeneration = Mutex<UInt64?>(nil)

    init(name: String, shardCount: Int, retention: Duration, context: MessagingContext) {
        precondition(shardCount >= 1, "a stream has at least one shard")
        self.name = name
        self.shardCount = shardCount
        self.retention = retention
        self.context = context
    }

    // MARK: Shards and sequence numbers

    /// The shard id of shard `index`: `shard-0000`, `shard-0001`, …
    public static func shardId(index: Int) -> String {
        let digits = String(index)
        return "shard-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The shard `partitionKey` goes to: the first 8 bytes of its SHA-256 (big-endian) modulo the shard count, so the
    /// mapping is the same in every process and release (Swift's `Hasher` is seeded per process).
    public static func shardIndex(forPartitionKey partitionKey: String, shardCount: Int) -> Int {
        let digest = SHA256.hash(data: Array(partitionKey.utf8))
        let prefix = digest.prefix(8).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        return Int(prefix % UInt64(max(shardCount, 1)))
    }

    /// The id of the shard `partitionKey` goes to in this stream.
    public func shardId(forPartitionKey partitionKey: String) -> String {
        Self.shardId(index: Self.shardIndex(forPartitionKey: partitionKey, shardCount: shardCount))
    }

    /// A sequence number as a zero-padded 20-digit decimal, so comparing strings compares numbers.
    static func sequenceNumber(_ seq: Int64) -> String {
        let digits = String(seq)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    // MARK: EventStream

    /// Appends up to 500 records in one transaction and wakes waiting consumers.
    public func put(_ entries: [StreamEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await context.database.write { db in
            try self.append(entries, in: db)
        }
    }

    /// Appends records inside the caller's transaction (for example the outbox relay's); consumers wake once it
    /// commits. Returns the records as stored, with their shards and sequence numbers.
    @discardableResult
    public func put(_ entries: [StreamEntry], in db: Database) throws -> [StreamRecord] {
        var stored: [StreamRecord] = []
        stored.reserveCapacity(entries.count)
        try append(entries, in: db) { entry, shard, seq, arrivedAt in
            stored.append(StreamRecord(
                shardId: Self.shardId(index: shard), sequenceNumber: Self.sequenceNumber(seq), partitionKey: entry.partitionKey,
                data: entry.data, arrivedAt: arrivedAt))
        }
        return stored
    }

    /// `put(_:in:)` for writers that do not need the stored records back (the order store, the relay): it skips
    /// formatting a shard id and sequence number per record.
    func append(_ entries: [StreamEntry], in db: Database) throws {
        try append(entries, in: db) { _, _, _, _ in }
    }

    private func append(
        _ entries: [StreamEntry], in db: Database, stored: (StreamEntry, Int, Int64, Timestamp) -> Void
    ) throws {
        guard entries.count <= MessagingLimits.streamPutBatch else {
            throw MessagingError.batchTooLarge(limit: MessagingLimits.streamPutBatch)
        }
        guard !entries.isEmpty else { return }
        for entry in entries {
            guard !entry.partitionKey.isEmpty, entry.partitionKey.utf8.count <= MessagingLimits.partitionKeyLength else {
                throw MessagingError.invalidArgument(
                    "partition key must be 1 to \(MessagingLimits.partitionKeyLength) bytes, got \(entry.partitionKey.utf8.count)")
            }
            guard entry.data.count <= MessagingLimits.streamRecordBytes else {
                throw MessagingError.invalidArgument(
                    "record of \(entry.data.count) bytes exceeds the \(MessagingLimits.streamRecordBytes)-byte limit")
            }
        }
        let now = context.clock.now()
        var insert = try DirectStatement(db.cachedStatement(sql: """
            INSERT INTO stream_record (stream, shard, seq, partition_key, data, arrived_at) VALUES (?, ?, ?, ?, ?, ?)
            """))
        let lastSeqOfShard = try db.cachedStatement(sql: "SELECT last_seq FROM stream_shard WHERE stream = ? AND shard = ?")
        var lastSeq: [Int: Int64] = [:]
        for entry in entries {
            let shard = Self.shardIndex(forPartitionKey: entry.partitionKey, shardCount: shardCount)
            let previous: Int64
            if let known = lastSeq[shard] {
                previous = known
            } else {
                previous = try Int64.fetchOne(lastSeqOfShard, arguments: [name, shard]) ?? 0
            }
            let seq = previous + 1
            lastSeq[shard] = seq
            insert.bind(name)
            insert.bind(shard)
            insert.bind(seq)
            insert.bind(entry.partitionKey)
            insert.bind(bytes: entry.data)
            insert.bind(now.millisecondsSinceEpoch)
            try insert.run(in: db)
            stored(entry, shard, seq, now)
        }
        let saveLastSeq = try db.cachedStatement(sql: """
            INSERT INTO stream_shard (stream, shard, last_seq) VALUES (?, ?, ?)
            ON CONFLICT(stream, shard) DO UPDATE SET last_seq = excluded.last_seq
            """)
        for (shard, seq) in lastSeq {
            try saveLastSeq.execute(arguments: [name, shard, seq])
        }
        let signal = context.signals.signal(.stream(name))
        db.afterNextTransaction { _ in signal.notify() }
    }

    /// `shard-0000` … up to the shard count.
    public func shardIds() async throws -> [String] {
        (0..<shardCount).map(Self.shardId(index:))
    }

    /// Up to `limit` (1…10,000) records of `shardId` after `sequenceNumber` in sequence order (nil: from the oldest
    /// retained record).
    public func read(shardId: String, after sequenceNumber: String?, limit: Int) async throws -> [StreamRecord] {
        guard (1...MessagingLimits.streamReadBatch).contains(limit) else {
            throw MessagingError.invalidArgument("limit must be between 1 and \(MessagingLimits.streamReadBatch), got \(limit)")
        }
        let shard = try shardIndex(of: shardId)
        let after = try Self.parseSequenceNumber(sequenceNumber)
        rememberGeneration()
        // The analytics consumer reads up to 1,000 records a round: a cached statement and plain column reads, not a
        // query built and compiled per call and a Codable decoder per row.
        return try await context.database.pool.read { [name] db in
            let statement = try db.cachedStatement(sql: """
                SELECT seq, partition_key, data, arrived_at FROM stream_record
                WHERE stream = ? AND shard = ? AND seq > ? ORDER BY seq LIMIT ?
                """)
            var records: [StreamRecord] = []
            let rows = try Row.fetchCursor(statement, arguments: [name, shard, after, limit])
            while let row = try rows.next() {
                let data: Data = row[2]
                records.append(StreamRecord(
                    shardId: shardId, sequenceNumber: Self.sequenceNumber(row[0]), partitionKey: row[1],
                    data: [UInt8](data), arrivedAt: Timestamp(millisecondsSinceEpoch: row[3])))
            }
            return records
        }
    }

    /// How many retained records of `shardId` come after `sequenceNumber` (nil: all of them).
    public func countRecords(shardId: String, after sequenceNumber: String?) async throws -> Int {
        let shard = try shardIndex(of: shardId)
        let after = try Self.parseSequenceNumber(sequenceNumber)
        rememberGeneration()
        return try await context.database.pool.read { [name] db in
            try StoredStreamRecord
                .filter(StoredStreamRecord.Columns.stream == name && StoredStreamRecord.Columns.shard == shard
                    && StoredStreamRecord.Columns.seq > after)
                .fetchCount(db)
        }
    }

    /// Returns when a put committed since this value's latest `read` or `countRecords`, or after `timeout`.
    public func waitForRecords(timeout: Duration) async {
        let signal = context.signals.signal(.stream(name))
        let seen = lastSeenGeneration.withLock { $0 } ?? signal.generation
        await signal.wait(since: seen, timeout: timeout)
        // A second wait without a read in between must block again rather than spin.
        lastSeenGeneration.withLock { $0 = signal.generation }
    }

    // MARK: Retention

    /// Deletes the records that arrived more than the retention window before the clock's now; returns how many.
    /// Sequence numbers are never reused afterwards. Call it periodically (for example once a minute).
    @discardableResult
    public func trim() async throws -> Int {
        let cutoff = context.clock.now().millisecondsSinceEpoch - retention.wholeMilliseconds
        return try await context.database.write { [name] db in
            try StoredStreamRecord
                .filter(StoredStreamRecord.Columns.stream == name && StoredStreamRecord.Columns.arrivedAt < cutoff)
                .deleteAll(db)
        }
    }

    // MARK: Helpers

    private func rememberGeneration() {
        let generation = context.signals.signal(.stream(name)).generation
        lastSeenGeneration.withLock { $0 = generation }
    }

    private func shardIndex(of shardId: String) throws -> Int {
        guard shardId.hasPrefix("shard-"), let index = Int(shardId.dropFirst(6)), (0..<shardCount).contains(index),
              Self.shardId(index: index) == shardId
        else {
            throw MessagingError.invalidArgument("stream \(name) has no shard \(shardId)")
        }
        return index
    }

    private static func parseSequenceNumber(_ text: String?) throws -> Int64 {
        guard let text else { return 0 }
        guard !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int64(text) else {
            throw MessagingError.invalidArgument("sequence number \(text) is not a decimal number")
        }
        return value
    }
}
