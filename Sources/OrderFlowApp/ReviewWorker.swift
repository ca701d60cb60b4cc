import Logging
import OrderFlowCore
import ServiceLifecycle

/// Consumes `HighValueQueue` and opens exactly one review case per high-value order, however often a message
/// arrives: opening is an idempotent state change on the order itself.
public struct ReviewWorker: Service {
    let queue: any MessageQueue
    let orders: OrderService
    let logger: Logger
    let concurrency: Int

    /// `concurrency` loops receive and handle batches side by side. A batch is at most 10 messages and takes three
    /// writes (receive, open, delete); embedded, concurrent loops' writes share transactions, so more loops mean more
    /// reviews per disk flush. The queue never hands one message to two loops.
    public init(queue: any MessageQueue, orders: OrderService, logger: Logger, concurrency: Int = 1) {
        self.queue = queue
        self.orders = orders
        self.logger = logger
        self.concurrency = max(concurrency, 1)
    }

    public func run() async throws {
        await withDiscardingTaskGroup { loops in
            for _ in 0..<concurrency {
                loops.addTask {
                    await WorkerLoop.run(name: "review worker", logger: logger) {
                        try await processOnce(wait: .seconds(10)) > 0 ? .progressed : .idle
                    } waitForWork: {}
                }
            }
        }
    }

    /// Receives one batch (waiting up to `wait`) and handles it: every review of the batch opens in one store call and
    /// the finished messages go in one delete. Returns how many messages it received.
    @discardableResult
    public func processOnce(wait: Duration) async throws -> Int {
        let messages = try await cancelWhenGracefulShutdown {
            try await queue.receive(maxMessages: 10, waitTime: wait, visibilityTimeout: nil)
        }
        guard !messages.isEmpty else { return 0 }
        var work: [(message: QueueMessage, event: OrderEvent)] = []
        for message in messages {
            guard let event = OrderEvent.decode(message.body), event.type == .highValue else {
                try await queue.moveToDeadLetterQueue(message, reason: "not an order.high_value event")
                logger.error("dead-lettered a message that is not a high-value event", metadata: ["messageId": "\(message.messageId)"])
                continue
            }
            work.append((message, event))
        }
        let results: [Result<Order, OrderStoreError>]
        do {
            results = try await orders.perform(.openReview, on: work.map(\.event.orderId))
        } catch {
            // The store failed as a whole (busy, I/O): every message retries after its backoff.
            for item in work { try await retryLater(item.message, item.event, error: error) }
            return messages.count
        }
        var done: [String] = []
        for (item, result) in zip(work, results) {
            let metadata = Self.metadata(item.message, item.event)
            switch result {
            case .success(let order):
                logger.info("review case open", metadata: metadata.merging(["review": "\(order.review?.rawValue ?? "none")"]) { $1 })
                done.append(item.message.receiptHandle)
            case .failure(.illegalTransition(let illegal)):
                try await queue.moveToDeadLetterQueue(item.message, reason: illegal.reason)
                logger.error("dead-lettered a review message", metadata: metadata.merging(["reason": "\(illegal.reason)"]) { $1 })
            case .failure(let refusal):
                // Possibly transient (the order's row not visible yet): retry; the redrive policy ends it after maxReceiveCount.
                try await retryLater(item.message, item.event, error: refusal)
            }
        }
        try await queue.delete(receiptHandles: done)
        return messages.count
    }

    private func retryLater(_ message: QueueMessage, _ event: OrderEvent, error: any Error) async throws {
        let delay = RetryBackoff.message.delay(afterAttempt: message.receiveCount)
        try await queue.changeVisibility(receiptHandle: message.receiptHandle, timeout: delay, lastError: "\(error)")
        logger.warning("review message failed; will retry", metadata: Self.metadata(message, event).merging(["error": "\(error)"]) { $1 })
    }

    private static func metadata(_ message: QueueMessage, _ event: OrderEvent) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["orderId": "\(event.orderId)", "eventId": "\(event.eventId)", "receiveCount": "\(message.receiveCount)"]
        if let trace = event.traceparent { metadata["traceparent"] = "\(trace)" }
        return metadata
    }
}
