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
    /// writes (receive, open, delete), plus an open per further 100 orders; embedded, concurrent loops' writes share
    /// transactions, so more loops mean more reviews per disk flush. The queue never hands one message to two loops.
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

    /// Orders whose reviews open in one store call: DynamoDB's 100 items per transaction.
    static let ordersPerStoreCall = 100

    /// Receives one batch (waiting up to `wait`) and handles it: the reviews of all its events (a message carries one
    /// high-value event, or many when the relay batches them) open in store calls of up to `ordersPerStoreCall`
    /// orders, each order once, and the finished messages go in one delete. A message is finished only when every one
    /// of its events is; otherwise it is retried or dead-lettered whole, and the reviews it already opened stay open
    /// (opening is idempotent). Returns how many messages it received.
    @discardableResult
    public func processOnce(wait: Duration) async throws -> Int {
        let messages = try await cancelWhenGracefulShutdown {
            try await queue.receive(maxMessages: 10, waitTime: wait, visibilityTimeout: nil)
        }
        guard !messages.isEmpty else { return 0 }
        var work: [(message: QueueMessage, events: [OrderEvent])] = []
        for message in messages {
            guard let events = OrderEvent.decodeAll(message.body), events.allSatisfy({ $0.type == .highValue }) else {
                try await queue.moveToDeadLetterQueue(message, reason: "not an order.high_value event")
                logger.error("dead-lettered a message that is not a high-value event", metadata: ["messageId": "\(message.messageId)"])
                continue
            }
            work.append((message, events))
        }
        // Each order once, however many messages or events name it (a relay's re-delivery, SQS's at-least-once).
        var ids: [OrderID] = []
        var seen: Set<OrderID> = []
        for item in work {
            for event in item.events where seen.insert(event.orderId).inserted { ids.append(event.orderId) }
        }
        var results: [OrderID: Result<Order, OrderStoreError>] = [:]
        do {
            for chunk in ids.chunks(of: Self.ordersPerStoreCall) {
                let decided = try await orders.perform(.openReview, on: chunk)
                for (id, result) in zip(chunk, decided) { results[id] = result }
            }
        } catch {
            // The store failed as a whole (busy, I/O): every message retries after its backoff.
            for item in work { try await retryLater(item.message, item.events, error: error) }
            return messages.count
        }
        var done: [String] = []
        for item in work {
            var retryable: OrderStoreError? = nil
            var illegal: [String] = []
            for event in item.events {
                guard let result = results[event.orderId] else { preconditionFailure("every order of the batch was decided") }
                switch result {
                case .success(let order):
                    logger.info("review case open", metadata: Self.metadata(item.message, event).merging(["review": "\(order.review?.rawValue ?? "none")"]) { $1 })
                case .failure(.illegalTransition(let transition)):
                    illegal.append(item.events.count == 1 ? transition.reason : "order \(event.orderId): \(transition.reason)")
                case .failure(let refusal):
                    retryable = retryable ?? refusal
                }
            }
            if let retryable {
                // Possibly transient (the order's row not visible yet): retry; the redrive policy ends it after maxReceiveCount.
                try await retryLater(item.message, item.events, error: retryable)
            } else if !illegal.isEmpty {
                let reason = illegal.joined(separator: "; ")
                try await queue.moveToDeadLetterQueue(item.message, reason: reason)
                logger.error("dead-lettered a review message", metadata: Self.metadata(item.message, item.events[0]).merging([
                    "reason": "\(reason)", "events": "\(item.events.count)",
                ]) { $1 })
            } else {
                done.append(item.message.receiptHandle)
            }
        }
        try await queue.delete(receiptHandles: done)
        return messages.count
    }

    private func retryLater(_ message: QueueMessage, _ events: [OrderEvent], error: any Error) async throws {
        let delay = RetryBackoff.message.delay(afterAttempt: message.receiveCount)
        try await queue.changeVisibility(receiptHandle: message.receiptHandle, timeout: delay, lastError: "\(error)")
        logger.warning("review message failed; will retry", metadata: Self.metadata(message, events[0]).merging([
            "error": "\(error)", "events": "\(events.count)",
        ]) { $1 })
    }

    private static func metadata(_ message: QueueMessage, _ event: OrderEvent) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["orderId": "\(event.orderId)", "eventId": "\(event.eventId)", "receiveCount": "\(message.receiveCount)"]
        if let trace = event.traceparent { metadata["traceparent"] = "\(trace)" }
        return metadata
    }
}
