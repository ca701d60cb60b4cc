import Logging
import OrderFlowCore
import ServiceLifecycle

/// Reads `OrdersStream` from its checkpoints and keeps the live aggregates. Aggregates and checkpoint move together
/// and each order is counted at most once, so a restart neither loses nor double-counts.
public struct AnalyticsConsumer: Service {
    public static let consumerName = "analytics"

    let stream: any EventStream
    let store: any AnalyticsStore
    let logger: Logger
    let batchSize: Int

    public init(stream: any EventStream, store: any AnalyticsStore, logger: Logger, batchSize: Int = 1000) {
        self.stream = stream
        self.store = store
        self.logger = logger
        self.batchSize = batchSize
    }

    public func run() async throws {
        await WorkerLoop.run(name: "analytics consumer", logger: logger) {
            try await consumeOnce() > 0 ? .progressed : .idle
        } waitForWork: {
            await stream.waitForRecords(timeout: .seconds(5))
        }
    }

    /// Applies one batch per shard; returns how many records it read.
    @discardableResult
    public func consumeOnce() async throws -> Int {
        let checkpoints = try await store.checkpoints(consumer: Self.consumerName)
        var read = 0
        for shard in try await stream.shardIds() {
            let records = try await stream.read(shardId: shard, after: checkpoints[shard], limit: batchSize)
            guard let last = records.last else { continue }
            read += records.count
            var facts: [OrderFact] = []
            facts.reserveCapacity(records.count)
            for record in records {
                guard let fact = OrderFact(acceptedEvent: record.data) else {
                    // A stream has no dead-letter queue: an unreadable record is logged and passed, not allowed to stall the shard.
                    logger.error("skipped an unreadable stream record", metadata: ["shard": "\(shard)", "sequence": "\(record.sequenceNumber)"])
                    continue
                }
                facts.append(fact)
            }
            try await store.apply(facts, consumer: Self.consumerName, shardId: shard, checkpoint: last.sequenceNumber)
        }
        return read
    }

    /// Records not yet consumed, per shard.
    public func lag() async throws -> [String: Int] {
        let checkpoints = try await store.checkpoints(consumer: Self.consumerName)
        var lag: [String: Int] = [:]
        for shard in try await stream.shardIds() {
            lag[shard] = try await stream.countRecords(shardId: shard, after: checkpoints[shard])
        }
        return lag
    }
}
