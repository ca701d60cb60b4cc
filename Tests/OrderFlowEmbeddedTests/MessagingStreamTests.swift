import Foundation
import GRDB
import OrderFlowCore
@testable import OrderFlowEmbedded
import Testing

@Suite("SQLiteStream")
struct MessagingStreamTests {
    private struct Rollback: Error {}

    /// The shard rule restated independently: first 8 bytes of SHA-256 as a big-endian integer, modulo the shard count.
    private func expectedShard(_ key: String, shardCount: Int) throws -> String {
        let hex = SHA256Hex.digest(key)
        let prefix = try #require(UInt64(hex.prefix(16), radix: 16))
        return SQLiteStream.shardId(index: Int(prefix % UInt64(shardCount)))
    }

    private func entry(_ key: String, _ text: String) -> StreamEntry {
        StreamEntry(partitionKey: key, data: Array(text.utf8))
    }

    @Test func shardingIsStableForAKey() async throws {
        let fixture = try MessagingFixture()
        let stream = fixture.messaging.stream(named: "orders", shardCount: 4)
        #expect(try await stream.shardIds() == ["shard-0000", "shard-0001", "shard-0002", "shard-0003"])
        let keys = (1000..<1040).map(String.init)
        for key in keys {
            #expect(stream.shardId(forPartitionKey: key) == (try expectedShard(key, shardCount: 4)))
        }
        // Another messaging value maps keys the same way (the rule has no per-process seed, unlike Hasher).
        let other = SQLiteMessaging(database: fixture.database, logger: fixture.logs.logger)
        #expect(keys.map { other.stream(named: "orders", shardCount: 4).shardId(forPartitionKey: $0) } == keys.map(stream.shardId(forPartitionKey:)))
        // 40 keys over 4 shards: a hash that ignored the key would put them all in one.
        #expect(Set(keys.map(stream.shardId(forPartitionKey:))).count == 4)

        for round in 0..<3 {
            try await stream.put(keys.map { entry($0, "\($0)#\(round)") })
        }
        for shardId in try await stream.shardIds() {
            let records = try await stream.read(shardId: shardId, after: nil, limit: 1000)
            #expect(records.allSatisfy { $0.shardId == shardId && stream.shardId(forPartitionKey: $0.partitionKey) == shardId })
            for key in Set(records.map(\.partitionKey)) {
                let texts = records.filter { $0.partitionKey == key }.map { String(decoding: $0.data, as: UTF8.self) }
                #expect(texts == ["\(key)#0", "\(key)#1", "\(key)#2"], "records of \(key) in put order")
            }
        }
    }

    @Test func sequenceNumbersIncreaseAndCompareAsStrings() async throws {
        let fixture = try MessagingFixture()
        let stream = fixture.messaging.stream(named: "orders", shardCount: 1)
        for batch in 0..<12 {
            try await stream.put([entry("k", "\(batch)")])
        }
        let records = try await stream.read(shardId: "shard-0000", after: nil, limit: 100)
        #expect(records.count == 12)
        #expect(records.first?.sequenceNumber == "00000000000000000001")
        #expect(records.allSatisfy { $0.sequenceNumber.count == 20 })
        let numbers = records.compactMap { Int($0.sequenceNumber) }
        #expect(numbers == Array(1...12))
        #expect(records.map(\.sequenceNumber) == records.map(\.sequenceNumber).sorted())
        #expect(records.map { String(decoding: $0.data, as: UTF8.self) } == (0..<12).map(String.init))
    }

    @Test func readAfterCheckpointAndCountRecords() async throws {
        let fixture = try MessagingFixture()
        let stream = fixture.messaging.stream(named: "orders", shardCount: 1)
        try await stream.put((1...5).map { entry("order-\($0)", "r\($0)") })

        let firstPage = try await stream.read(shardId: "shard-0000", after: nil, limit: 2)
        #expect(firstPage.map { String(decoding: $0.data, as: UTF8.self) } == ["r1", "r2"])
        let checkpoint = try #require(firstPage.last?.sequenceNumber)
        let rest = try await stream.read(shardId: "shard-0000", after: checkpoint, limit: 10)
        #expect(rest.map { String(decoding: $0.data, as: UTF8.self) } == ["r3", "r4", "r5"])
        #expect(try await stream.read(shardId: "shard-0000", after: rest.last?.sequenceNumber, limit: 10).isEmpty)

        #expect(try await stream.countRecords(shardId: "shard-0000", after: nil) == 5)
        #expect(try await stream.countRecords(shardId: "shard-0000", after: checkpoint) == 3)
        #expect(try await stream.countRecords(shardId: "shard-0000", after: rest.last?.sequenceNumber) == 0)

        await #expect(throws: MessagingError.self) { try await stream.read(shardId: "shard-0001", after: nil, limit: 10) }
        await #expect(throws: MessagingError.self) { try await stream.read(shardId: "shard-0000", after: "12x", limit: 10) }
        await #expect(throws: MessagingError.self) { try await stream.read(shardId: "shard-0000", after: nil, limit: 0) }
        await #expect(throws: MessagingError.self) { try await stream.put([entry("", "no key")]) }
    }

    @Test func streamsAreSeparate() async throws {
        let fixture = try MessagingFixture()
        let orders = fixture.messaging.stream(named: "orders", shardCount: 1)
        let audit = fixture.messaging.stream(named: "audit", shardCount: 1)
        try await orders.put([entry("k", "order")])
        try await audit.put([entry("k", "audit"), entry("k", "audit")])
        #expect(try await orders.countRecords(shardId: "shard-0000", after: nil) == 1)
        #expect(try await audit.read(shardId: "shard-0000", after: nil, limit: 10).map(\.sequenceNumber).last == "00000000000000000002")
    }

    @Test func trimDropsRecordsOlderThanRetentionWithoutReusingSequenceNumbers() async throws {
        let fixture = try MessagingFixture()
        let clock = try fixture.manualClock
        let stream = fixture.messaging.stream(named: "orders", shardCount: 1, retention: .seconds(3600))
        try await stream.put((1...3).map { entry("k", "old\($0)") })
        clock.advance(milliseconds: 30 * 60_000)
        try await stream.put([entry("k", "new1"), entry("k", "new2")])

        #expect(try await stream.trim() == 0)
        clock.advance(milliseconds: 31 * 60_000)
        #expect(try await stream.trim() == 3)
        let retained = try await stream.read(shardId: "shard-0000", after: nil, limit: 10)
        #expect(retained.map { String(decoding: $0.data, as: UTF8.self) } == ["new1", "new2"])
        #expect(retained.first?.sequenceNumber == "00000000000000000004")

        clock.advance(milliseconds: 2 * 3_600_000)
        #expect(try await stream.trim() == 2)
        #expect(try await stream.countRecords(shardId: "shard-0000", after: nil) == 0)
        try await stream.put([entry("k", "after-trim")])
        #expect(try await stream.read(shardId: "shard-0000", after: nil, limit: 10).map(\.sequenceNumber) == ["00000000000000000006"])
    }

    @Test func putInCallersTransactionFollowsItsOutcome() async throws {
        let fixture = try MessagingFixture()
        let stream = fixture.messaging.stream(named: "orders", shardCount: 2)
        await #expect(throws: Rollback.self) {
            try await fixture.database.pool.write { db in
                try stream.put([StreamEntry(partitionKey: "1001", data: [1])], in: db)
                throw Rollback()
            }
        }
        let shard = stream.shardId(forPartitionKey: "1001")
        #expect(try await stream.countRecords(shardId: shard, after: nil) == 0)

        let stored = try await fixture.database.pool.write { db in
            try stream.put([StreamEntry(partitionKey: "1001", data: [2])], in: db)
        }
        #expect(stored.map(\.shardId) == [shard])
        #expect(stored.map(\.sequenceNumber) == ["00000000000000000001"])
        #expect(try await stream.read(shardId: shard, after: nil, limit: 10).map(\.data) == [[2]])
    }

    @Test func waitForRecordsWakesOnPut() async throws {
        let fixture = try MessagingFixture(clock: SystemClock())
        let consumer = fixture.messaging.stream(named: "orders", shardCount: 1)
        let producer = fixture.messaging.stream(named: "orders", shardCount: 1)
        #expect(try await consumer.read(shardId: "shard-0000", after: nil, limit: 10).isEmpty)
        let waiter = Task {
            let started = ContinuousClock.now
            await consumer.waitForRecords(timeout: .seconds(20))
            return ContinuousClock.now - started
        }
        try await producer.put([entry("k", "hello")])
        let waited = await waiter.value
        #expect(waited < .seconds(5))
        #expect(try await consumer.read(shardId: "shard-0000", after: nil, limit: 10).count == 1)

        // Nothing new since that read: the wait runs to its timeout.
        let started = ContinuousClock.now
        await consumer.waitForRecords(timeout: .milliseconds(100))
        #expect(ContinuousClock.now - started >= .milliseconds(100))
    }
}
