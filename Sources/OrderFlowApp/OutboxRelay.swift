import Logging
import OrderFlowCore
import ServiceLifecycle

/// Moves committed outbox events to where they go: `order.accepted` to the orders stream, `order.high_value` to the
/// high-value topic. Marks them delivered only after both accepted the batch, so a crash at any point re-delivers
/// (consumers de-duplicate on the event id) and never drops.
public struct OutboxRelay: Service {
    let outbox: any Outbox
    let topic: any Topic
    let stream: any EventStream
    let logger: Logger
    let batchSize: Int
    let transactional: (any TransactionalOutboxDelivery)?
    let highValueEventsPerMessage: Int
    let beforePublish: @Sendable ([OutboxEntry]) async -> Void

    /// `transactional`, when the backend has it, delivers each batch in one transaction instead of put, publish and
    /// mark as separate steps. `beforePublish` runs with each batch read from the outbox before any of it is published:
    /// the fault-injection point of the crash tests (`ORDERFLOW_FAULT_INJECTION=kill-before-publish`).
    /// `highValueEventsPerMessage` above 1 lets one topic message carry that many high-value events (see
    /// `OutboxEntry.destinations`); only for topics whose every subscriber reads that form (the review queue on AWS).
    public init(
        outbox: any Outbox, highValueTopic: any Topic, ordersStream: any EventStream, logger: Logger, batchSize: Int = 500,
        transactional: (any TransactionalOutboxDelivery)? = nil, highValueEventsPerMessage: Int = 1,
        beforePublish: @escaping @Sendable ([OutboxEntry]) async -> Void = { _ in }
    ) {
        self.outbox = outbox
        self.topic = highValueTopic
        self.stream = ordersStream
        self.logger = logger
        self.batchSize = batchSize
        self.transactional = transactional
        self.highValueEventsPerMessage = max(highValueEventsPerMessage, 1)
        self.beforePublish = beforePublish
    }

    public func run() async throws {
        await WorkerLoop.run(name: "outbox relay", logger: logger) {
            try await relayOnce() > 0 ? .progressed : .idle
        } waitForWork: {
            await outbox.waitForEntries(timeout: .seconds(5))
        }
    }

    /// Relays one batch; returns how many events it delivered.
    public func relayOnce() async throws -> Int {
        if let transactional { return try await transactional.deliverPending(limit: batchSize) }
        let entries = try await outbox.pending(limit: batchSize)
        guard !entries.isEmpty else { return 0 }
        await beforePublish(entries)
        let (toStream, toTopic) = OutboxEntry.destinations(of: entries, highValueEventsPerMessage: highValueEventsPerMessage)
        // Each port takes batches of its own limit (as Kinesis PutRecords and SNS PublishBatch do).
        for chunk in toStream.chunks(of: MessagingBatchLimit.streamPut) { try await stream.put(chunk) }
        for chunk in TopicMessage.publishChunks(toTopic) { try await topic.publish(chunk) }
        try await outbox.markDelivered(entries)
        logger.trace("relayed events", metadata: ["count": "\(entries.count)"])
        return entries.count
    }
}

