import AWSKit
import Crypto
import Foundation
import OrderFlowCore
import Synchronization

/// The `AuditTrail` on a DynamoDB table (`OrderFlowAudit`, key `Key`), shared by any number of stateless API instances.
/// The end of the chain is one item, `head` (sequence and hash of the last entry). An append reads it (or takes the head
/// this process last wrote, see `HeadCache`) and writes, in one
/// transaction, the new entries (`entry#<sequence>`, each only if new) and the moved head, on the condition that the
/// head still holds what was read (the head is put whole, conditionally); another instance that appended in between cancels the transaction, and the append
/// is chained again after the new head. So the chain has one order however many instances write. Concurrent appends
/// in one process share a transaction. Signed digests are items `digest#<sequence>`.
public final class DynamoDBAuditTrail: AuditTrail {
    private let dynamoDB: DynamoDB
    private let table: String
    private let groupCommit: GroupCommit<[AuditRecord], [AuditEntry]>

    /// Entries per transaction: DynamoDB takes 100 items in one, the head is one of them.
    static let entriesPerTransaction = 99
    /// Attempts of one transaction before giving up (each after a jittered, growing pause).
    static let maximumAttempts = 30

    enum Attribute {
        static let key = "Key"
        static let sequence = "Sequence"
        static let hash = "Hash"
        static let previousHash = "PreviousHash"
        static let time = "Time"
        static let principal = "Principal"
        static let method = "Method"
        static let route = "Route"
        static let resource = "Resource"
        static let status = "Status"
        static let source = "Source"
        static let requestId = "RequestId"
        static let signature = "Signature"
    }

    enum Key {
        static let head = "head"
        static let entryPrefix = "entry#"
        static let digestPrefix = "digest#"
        /// Zero-padded, so keys sort like their sequences wherever they are listed.
        static func entry(_ sequence: Int64) -> String { entryPrefix + padded(sequence) }
        static func digest(_ sequence: Int64) -> String { digestPrefix + padded(sequence) }
        static func padded(_ sequence: Int64) -> String {
            let digits = String(sequence)
            return String(repeating: "0", count: max(0, 19 - digits.count)) + digits
        }
    }

    /// The trail over `table` (the data stack's default name unless configured).
    public init(dynamoDB: DynamoDB, table: String = "OrderFlowAudit") {
        self.dynamoDB = dynamoDB
        self.table = table
        let chain = Chain(dynamoDB: dynamoDB, table: table)
        groupCommit = GroupCommit(maximumBatch: 500) { calls in
            let entries = try await chain.append(calls.flatMap { $0 })
            var split: [[AuditEntry]] = []
            var start = 0
            for call in calls {
                split.append(Array(entries[start..<(start + call.count)]))
                start += call.count
            }
            return split
        }
    }

    static func key(_ value: String) -> DynamoDBItem { [Attribute.key: .string(value)] }

    public func append(_ records: [AuditRecord]) async throws -> [AuditEntry] {
        guard !records.isEmpty else { return [] }
        return try await groupCommit.submit(records)
    }

    /// The chain's end as stored: (0, genesis) while the trail is empty.
    static func head(_ dynamoDB: DynamoDB, _ table: String) async throws -> (sequence: Int64, hash: String) {
        guard let item = try await dynamoDB.getItem(table: table, key: key(Key.head)) else { return (0, AuditEntry.genesis) }
        guard let sequence = item[Attribute.sequence]?.int64Value, let hash = item[Attribute.hash]?.stringValue else {
            throw DynamoDBAuditTrailError.malformedItem(Key.head)
        }
        return (sequence, hash)
    }

    /// The head this process last wrote, used for the next append instead of reading it (one `GetItem` less per append
    /// while this instance is the only writer). When another instance's append made it stale, the transaction is
    /// cancelled, the head read, and the cache left unused for `distrustPeriod`: with several busy writers it would only
    /// add a cancelled transaction per append.
    final class HeadCache: Sendable {
        private struct State {
            var head: (sequence: Int64, hash: String)?
            var distrustedUntil: ContinuousClock.Instant?
        }

        static let distrustPeriod = Duration.seconds(10)
        private let state = Mutex(State())

        /// The cached head, unless there is none or it is distrusted now.
        func usable() -> (sequence: Int64, hash: String)? {
            state.withLock { state in
                if let until = state.distrustedUntil, ContinuousClock.now < until { return nil }
                return state.head
            }
        }

        func store(_ head: (sequence: Int64, hash: String)) {
            state.withLock { $0.head = head }
        }

        /// Forgets the head (an append's outcome is unknown).
        func clear() {
            state.withLock { $0.head = nil }
        }

        /// Another writer moved the head: forget it and read it for a while.
        func distrust() {
            state.withLock { $0 = State(head: nil, distrustedUntil: ContinuousClock.now.advanced(by: Self.distrustPeriod)) }
        }
    }

    /// Appends chunk by chunk, each chained after the head it read and retried after a conflicting append.
    struct Chain: Sendable {
        let dynamoDB: DynamoDB
        let table: String
        let cache = HeadCache()

        func append(_ records: [AuditRecord]) async throws -> [AuditEntry] {
            var entries: [AuditEntry] = []
            for chunk in records.chunks(of: DynamoDBAuditTrail.entriesPerTransaction) {
                entries += try await appendChunk(chunk)
            }
            return entries
        }

        private func appendChunk(_ records: [AuditRecord]) async throws -> [AuditEntry] {
            for attempt in 1...DynamoDBAuditTrail.maximumAttempts {
                let cached = attempt == 1 ? cache.usable() : nil
                let head = if let cached { cached } else { try await DynamoDBAuditTrail.head(dynamoDB, table) }
                var entries: [AuditEntry] = []
                var previous = head.hash
                for (offset, record) in records.enumerated() {
                    let sequence = head.sequence + Int64(offset) + 1
                    let hash = AuditEntry.hash(sequence: sequence, record: record, previousHash: previous)
                    entries.append(AuditEntry(sequence: sequence, record: record, previousHash: previous, hash: hash))
                    previous = hash
                }
                do {
                    // One token per attempt: the client's own retry of this request (a timeout after DynamoDB committed
                    // it) is then the same transaction, not a second append of the same records.
                    try await dynamoDB.transactWriteItems(writes(for: entries, after: head), clientRequestToken: UUID().uuidString.lowercased())
                    if let last = entries.last { cache.store((last.sequence, last.hash)) }
                    return entries
                } catch {
                    guard error.serviceError?.hasCode("TransactionCanceledException") == true else {
                        cache.clear()
                        throw error
                    }
                    if cached != nil {
                        // Stale: another instance appended since this one did. Read the head at once, no pause.
                        cache.distrust()
                        continue
                    }
                }
                // Another writer moved the head: chain again after it, after a jittered pause that grows with the conflicts.
                let ceiling = min(5 * attempt * attempt, 500)
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
            }
            throw DynamoDBAuditTrailError.keptConflicting(records.count)
        }

        func writes(for entries: [AuditEntry], after head: (sequence: Int64, hash: String)) -> [DynamoDB.TransactWrite] {
            guard let last = entries.last else { return [] }
            let isNew = DynamoDB.Expression("attribute_not_exists(#key)", names: ["#key": Attribute.key])
            var writes = entries.map { DynamoDB.TransactWrite.put(table: table, item: DynamoDBAuditTrail.item(for: $0), condition: isNew) }
            // The head is replaced whole (a put, not an update of two attributes), so no reader can see a new sequence
            // with an old hash, on DynamoDB or on an emulator that applies an update's clauses one by one.
            let newHead: DynamoDBItem = [Attribute.key: .string(Key.head), Attribute.sequence: .int(last.sequence), Attribute.hash: .string(last.hash)]
            let unchanged = head.sequence == 0
                ? DynamoDB.Expression("attribute_not_exists(#key)", names: ["#key": Attribute.key])
                : DynamoDB.Expression("#sequence = :expected", names: ["#sequence": Attribute.sequence], values: [":expected": .int(head.sequence)])
            writes.append(.put(table: table, item: newHead, condition: unchanged))
            return writes
        }
    }

    static func item(for entry: AuditEntry) -> DynamoDBItem {
        let record = entry.record
        return [
            Attribute.key: .string(Key.entry(entry.sequence)), Attribute.sequence: .int(entry.sequence),
            Attribute.time: .int(record.time.millisecondsSinceEpoch), Attribute.principal: .string(record.principal),
            Attribute.method: .string(record.method), Attribute.route: .string(record.route), Attribute.resource: .string(record.resource),
            Attribute.status: .int(Int64(record.status)), Attribute.source: .string(record.sourceAddress),
            Attribute.requestId: .string(record.requestId), Attribute.previousHash: .string(entry.previousHash), Attribute.hash: .string(entry.hash),
        ]
    }

    static func entry(from item: DynamoDBItem) throws -> AuditEntry {
        // DynamoDB refuses empty strings in key attributes only; empty text fields are stored as they are.
        guard let sequence = item[Attribute.sequence]?.int64Value, let time = item[Attribute.time]?.int64Value,
              let principal = item[Attribute.principal]?.stringValue, let method = item[Attribute.method]?.stringValue,
              let route = item[Attribute.route]?.stringValue, let resource = item[Attribute.resource]?.stringValue,
              let status = item[Attribute.status]?.int64Value, let source = item[Attribute.source]?.stringValue,
              let requestId = item[Attribute.requestId]?.stringValue, let previous = item[Attribute.previousHash]?.stringValue,
              let hash = item[Attribute.hash]?.stringValue else {
            throw DynamoDBAuditTrailError.malformedItem(item[Attribute.key]?.stringValue ?? "?")
        }
        let record = AuditRecord(time: Timestamp(millisecondsSinceEpoch: time), principal: principal, method: method, route: route,
                                 resource: resource, status: Int(status), sourceAddress: source, requestId: requestId)
        return AuditEntry(sequence: sequence, record: record, previousHash: previous, hash: hash)
    }

    /// Reads entries after `after` by key (BatchGetItem, 100 at a time) up to the head, filtering as it goes.
    public func entries(after: Int64, limit: Int, principal: String?, route: String?) async throws -> [AuditEntry] {
        let count = max(1, min(limit, 10_000))
        let head = try await Self.head(dynamoDB, table)
        var found: [AuditEntry] = []
        var next = max(after, 0) + 1
        while next <= head.sequence, found.count < count {
            let last = min(head.sequence, next + Int64(DynamoDB.batchGetLimit) - 1)
            var keys = (next...last).map { Self.key(Key.entry($0)) }
            var batch: [AuditEntry] = []
            for _ in 1...10 where !keys.isEmpty {
                let page = try await dynamoDB.batchGetItem(table: table, keys: keys)
                batch += try page.items.map(Self.entry(from:))
                keys = page.unprocessed
            }
            for entry in batch.sorted(by: { $0.sequence < $1.sequence })
            where (principal == nil || entry.record.principal == principal) && (route == nil || entry.record.route == route) {
                found.append(entry)
            }
            next = last + 1
        }
        return Array(found.prefix(count))
    }

    /// Signs the head as it is now, once per sequence (another instance may have signed it already: then nil).
    public func writeDigest(signingKey: Curve25519.Signing.PrivateKey, at time: Timestamp) async throws -> AuditDigest? {
        let head = try await Self.head(dynamoDB, table)
        guard head.sequence > 0 else { return nil }
        var digest = AuditDigest(sequence: head.sequence, hash: head.hash, time: time, signature: "")
        digest.signature = SHA256Hex.hex([UInt8](try signingKey.signature(for: Array(digest.signedText.utf8))))
        let item: DynamoDBItem = [
            Attribute.key: .string(Key.digest(digest.sequence)), Attribute.sequence: .int(digest.sequence), Attribute.hash: .string(digest.hash),
            Attribute.time: .int(time.millisecondsSinceEpoch), Attribute.signature: .string(digest.signature),
        ]
        do {
            try await dynamoDB.putItem(table: table, item: item,
                                       condition: DynamoDB.Expression("attribute_not_exists(#key)", names: ["#key": Attribute.key]))
        } catch {
            guard error.serviceError?.hasCode("ConditionalCheckFailedException") == true else { throw error }
            return nil
        }
        return digest
    }

    public func digests() async throws -> [AuditDigest] {
        try await scan(prefix: Key.digestPrefix).map { item in
            guard let sequence = item[Attribute.sequence]?.int64Value, let hash = item[Attribute.hash]?.stringValue,
                  let time = item[Attribute.time]?.int64Value, let signature = item[Attribute.signature]?.stringValue else {
                throw DynamoDBAuditTrailError.malformedItem(item[Attribute.key]?.stringValue ?? "?")
            }
            return AuditDigest(sequence: sequence, hash: hash, time: Timestamp(millisecondsSinceEpoch: time), signature: signature)
        }.sorted { $0.sequence < $1.sequence }
    }

    /// Every entry item in the table, in sequence order (for verification): a scan, so entries put in beyond the head
    /// or between others are seen too, not only the keys the head implies.
    public func allEntries() async throws -> [AuditEntry] {
        try await scan(prefix: Key.entryPrefix).map(Self.entry(from:)).sorted { $0.sequence < $1.sequence }
    }

    private func scan(prefix: String) async throws -> [DynamoDBItem] {
        let filter = DynamoDB.Expression("begins_with(#key, :prefix)", names: ["#key": Attribute.key], values: [":prefix": .string(prefix)])
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem? = nil
        repeat {
            let page = try await dynamoDB.scan(table: table, startKey: start, filter: filter)
            items += page.items
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }
}

/// Why the DynamoDB audit trail could not append or read.
public enum DynamoDBAuditTrailError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Other writers kept moving the head for every attempt.
    case keptConflicting(Int)
    /// An item lacks an attribute every entry, digest or the head has.
    case malformedItem(String)

    public var description: String {
        switch self {
        case .keptConflicting(let count): "other instances kept appending first: \(count) audit records not appended after \(DynamoDBAuditTrail.maximumAttempts) attempts"
        case .malformedItem(let key): "the audit item \(key) lacks an attribute it must have"
        }
    }
}
