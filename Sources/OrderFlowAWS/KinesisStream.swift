import AWSKit
import Foundation
import OrderFlowCore
import Synchronization

/// The `EventStream` port on Kinesis Data Streams. `PutRecords` reports failures per record (throttling on a hot
/// shard); only the failed records are sent again, with backoff, so a batch is never half-delivered silently.
public struct KinesisStream: EventStream {
    public let name: String
    private let client: AWSClient
    /// Shard iterators to continue from, by shard and position, and the shard list: a consumer that polls an idle
    /// stream then costs one GetRecords per shard and poll, instead of ListShards + GetShardIterator + GetRecords.
    private let cache = Cache()

    final class Cache: Sendable {
        struct State {
            var iterators: [String: (iterator: String, obtained: ContinuousClock.Instant)] = [:]
            var shards: (ids: [String], obtained: ContinuousClock.Instant)?
        }

        let state = Mutex(State())
        /// Kinesis iterators expire after 5 minutes; reuse them for 4.
        static let iteratorLifetime = Duration.seconds(240)
        static let shardListLifetime = Duration.seconds(60)

        static func key(_ shardId: String, _ after: String?) -> String { "\(shardId)|\(after ?? "")" }

        func takeIterator(shardId: String, after: String?) -> String? {
            state.withLock { state in
                guard let entry = state.iterators.removeValue(forKey: Self.key(shardId, after)),
                      ContinuousClock.now - entry.obtained < Self.iteratorLifetime else { return nil }
                return entry.iterator
            }
        }

        func keep(_ iterator: String?, shardId: String, after: String?) {
            guard let iterator else { return }
            state.withLock { state in
                if state.iterators.count > 256 { state.iterators.removeAll() }
                state.iterators[Self.key(shardId, after)] = (iterator, ContinuousClock.now)
            }
        }
    }
    private let attempts: Int
    /// How long `waitForRecords` waits before the consumer looks again (Kinesis has no push to a poller).
    private let pollInterval: Duration

    public init(client: AWSClient, streamName: String, attempts: Int = 5, pollInterval: Duration = .seconds(1)) {
        self.client = client
        self.name = streamName
        self.attempts = attempts
        self.pollInterval = pollInterval
    }

    // MARK: PutRecords

    private struct PutRecordsEntry: Encodable {
        let Data: Data
        let PartitionKey: String
    }

    private struct PutRecordsInput: Encodable {
        let StreamName: String
        let Records: [PutRecordsEntry]
    }

    private struct PutRecordsResult: Decodable {
        let SequenceNumber: String?
        let ShardId: String?
        let ErrorCode: String?
        let ErrorMessage: String?
    }

    private struct PutRecordsOutput: Decodable {
        let FailedRecordCount: Int?
        let Records: [PutRecordsResult]
    }

    public func put(_ entries: [StreamEntry]) async throws {
        guard !entries.isEmpty else { return }
        guard entries.count <= MessagingBatchLimit.streamPut else {
            throw MessagingError.batchTooLarge(limit: MessagingBatchLimit.streamPut)
        }
        var waiting = entries
        for attempt in 1...attempts {
            let input = PutRecordsInput(
                StreamName: name,
                Records: waiting.map { PutRecordsEntry(Data: Foundation.Data($0.data), PartitionKey: $0.partitionKey) }
            )
            let output = try await client.json(.kinesis, operation: "PutRecords", input: input, as: PutRecordsOutput.self)
            guard output.Records.count == waiting.count else {
                throw KinesisStreamError.unexpectedResultCount(sent: waiting.count, results: output.Records.count)
            }
            let failed = zip(waiting, output.Records).filter { $0.1.ErrorCode != nil }
            if failed.isEmpty { return }
            if attempt == attempts {
                let first = failed[0].1
                throw KinesisStreamError.recordsFailed(count: failed.count, code: first.ErrorCode ?? "?", message: first.ErrorMessage)
            }
            waiting = failed.map(\.0)
            try await Task.sleep(for: .milliseconds(50 << attempt))
        }
    }

    // MARK: Shards

    private struct ListShardsInput: Encodable {
        let StreamName: String?
        let NextToken: String?
    }

    private struct ListShardsOutput: Decodable {
        struct Shard: Decodable {
            let ShardId: String
        }

        let Shards: [Shard]
        let NextToken: String?
    }

    public func shardIds() async throws -> [String] {
        if let cached = cache.state.withLock({ $0.shards }), ContinuousClock.now - cached.obtained < Cache.shardListLifetime {
            return cached.ids
        }
        var ids: [String] = []
        var token: String? = nil
        repeat {
            // With a NextToken the stream name must be left out.
            let input = ListShardsInput(StreamName: token == nil ? name : nil, NextToken: token)
            let output = try await client.json(.kinesis, operation: "ListShards", input: input, as: ListShardsOutput.self)
            ids += output.Shards.map(\.ShardId)
            token = output.NextToken
        } while token != nil
        let listed = ids
        cache.state.withLock { $0.shards = (listed, ContinuousClock.now) }
        return ids
    }

    // MARK: Reading

    private struct GetShardIteratorInput: Encodable {
        let StreamName: String
        let ShardId: String
        let ShardIteratorType: String
        let StartingSequenceNumber: String?
    }

    private struct GetShardIteratorOutput: Decodable {
        let ShardIterator: String?
    }

    private struct GetRecordsInput: Encodable {
        let ShardIterator: String
        let Limit: Int
    }

    private struct GetRecordsOutput: Decodable {
        struct Record: Decodable {
            let SequenceNumber: String
            let Data: Data
            let PartitionKey: String
            let ApproximateArrivalTimestamp: Date?
        }

        let Records: [Record]
        let NextShardIterator: String?
        let MillisBehindLatest: Int64?
    }

    /// How many empty `GetRecords` pages a read follows while Kinesis says it is still behind the tip (a shard iterator
    /// can land on a gap of the shard and return nothing although later records exist).
    static let emptyPagesFollowed = 5

    public func read(shardId: String, after sequenceNumber: String?, limit: Int) async throws -> [StreamRecord] {
        let limit = max(1, min(limit, 10_000))
        let start = GetShardIteratorInput(
            StreamName: name, ShardId: shardId,
            ShardIteratorType: sequenceNumber == nil ? "TRIM_HORIZON" : "AFTER_SEQUENCE_NUMBER",
            StartingSequenceNumber: sequenceNumber
        )
        var iterator = cache.takeIterator(shardId: shardId, after: sequenceNumber)
        if iterator == nil {
            iterator = try await client.json(.kinesis, operation: "GetShardIterator", input: start, as: GetShardIteratorOutput.self).ShardIterator
        }
        var emptyPages = 0
        while let current = iterator {
            let page: GetRecordsOutput
            do {
                page = try await client.json(.kinesis, operation: "GetRecords", input: GetRecordsInput(ShardIterator: current, Limit: limit),
                                             as: GetRecordsOutput.self)
            } catch {
                // An expired or foreign iterator: start again from the position.
                guard error.serviceError?.hasCode("ExpiredIteratorException") == true else { throw error }
                iterator = try await client.json(.kinesis, operation: "GetShardIterator", input: start, as: GetShardIteratorOutput.self).ShardIterator
                continue
            }
            if let last = page.Records.last {
                cache.keep(page.NextShardIterator, shardId: shardId, after: last.SequenceNumber)
                return page.Records.map { record in
                    StreamRecord(
                        shardId: shardId, sequenceNumber: record.SequenceNumber, partitionKey: record.PartitionKey,
                        data: Array(record.Data),
                        arrivedAt: Timestamp(millisecondsSinceEpoch: Int64(((record.ApproximateArrivalTimestamp ?? Date()).timeIntervalSince1970 * 1000).rounded()))
                    )
                }
            }
            emptyPages += 1
            guard (page.MillisBehindLatest ?? 0) > 0, emptyPages < Self.emptyPagesFollowed else {
                cache.keep(page.NextShardIterator, shardId: shardId, after: sequenceNumber)
                return []
            }
            iterator = page.NextShardIterator
        }
        return []
    }

    /// Kinesis keeps no count: this reads the rest of the shard (up to `cap` records), which is what the lag costs.
    public func countRecords(shardId: String, after sequenceNumber: String?) async throws -> Int {
        try await countRecords(shardId: shardId, after: sequenceNumber, cap: 100_000)
    }

    func countRecords(shardId: String, after sequenceNumber: String?, cap: Int) async throws -> Int {
        var count = 0
        var position = sequenceNumber
        while count < cap {
            let records = try await read(shardId: shardId, after: position, limit: 10_000)
            guard let last = records.last else { break }
            count += records.count
            position = last.sequenceNumber
        }
        return min(count, cap)
    }

    public func waitForRecords(timeout: Duration) async {
        try? await Task.sleep(for: min(timeout, pollInterval))
    }
}

/// Kinesis did not take every record.
public enum KinesisStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    case recordsFailed(count: Int, code: String, message: String?)
    case unexpectedResultCount(sent: Int, results: Int)

    public var description: String {
        switch self {
        case .recordsFailed(let count, let code, let message):
            "Kinesis refused \(count) record(s) after retries: \(code)\(message.map { ": \($0)" } ?? "")"
        case .unexpectedResultCount(let sent, let results):
            "Kinesis PutRecords answered \(results) results for \(sent) records"
        }
    }
}
