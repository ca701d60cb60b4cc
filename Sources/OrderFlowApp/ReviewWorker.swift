import Logging
import OrderFlowCore
import ServiceLifecycle

/// Consumes `HighValueQueue` and opens exactly one review case per high-value order, however often a message
/// arrives: opening is an idempotent state change on the order itself.
public struct ReviewWorker: Service {
    let queue: any MessageQueue
    let orders: OrderService
    let logger: Logger

    public init(queue: any MessageQueue, orders: OrderService, logger: Logger) {
        self.queue = queue
        self.orders = orders
        self.logger = logger
    }

    public func run() async throws {
        await WorkerLoop.run(name: "review worker", logger: logger) {
            try await processOnce(wait: .seconds(10)) > 0 ? .progressed : .idle
        } waitForWork: {}
    }

    /// Receives one batch (waiting up to `wait`) and handles it; returns how many messages it received.
    @discardableResult
    public func processOnce(wait: Duration) async throws -> Int {
        let messages = try await cancelWhenGracefulShutdown {
            try await queue.receive(maxMessages: 10, waitTime: wait, visibilityTimeout: nil)
        }
        var done: [String] = []
        for message in messages {
            if try await handle(message) { done.append(message.receiptHandle) }
        }
        try await queue.delete(receiptHandles: done)
        return messages.count
    }

    /// True when the message is finished with and can be deleted.
    func handle(_ message: QueueMessage) async throws -> Bool {
        guard let event = OrderEvent.decode(message.body), event.type == .highValue else {
            try await queue.moveToDeadLetterQueue(receiptHandle: message.receiptHandle, reason: "not an order.high_value event")
            logger.error("dead-lettered a message that is not a high-value event", metadata: ["messageId": "\(message.messageId)"])
            return false
        }
        var metadata: Logger.Metadata = ["orderId": "\(event.orderId)", "eventId": "\(event.eventId)", "receiveCount": "\(message.receiveCount)"]
        if let trace = event.traceparent { metadata["traceparent"] = "\(trace)" }
        do {
            let order = try await orders.perform(.openReview, on: event.orderId)
            logger.info("review case open", metadata: metadata.merging(["review": "\(order.review?.rawValue ?? "none")"]) { $1 })
            return true
        } catch OrderStoreError.illegalTransition(let illegal) {
            try await queue.moveToDeadLetterQueue(receiptHandle: message.receiptHandle, reason: illegal.reason)
            logger.error("dead-lettered a review message", metadata: metadata.merging(["reason": "\(illegal.reason)"]) { $1 })
            return false
        } catch {
            // Possibly transient (the order's row not visible yet, the database busy): retry after the backoff; the queue's
            // redrive policy moves it to the dead-letter queue after maxReceiveCount attempts.
            let delay = Backoff(base: .seconds(1), cap: .seconds(60)).delay(attempt: message.receiveCount)
            try await queue.changeVisibility(receiptHandle: message.receiptHandle, timeout: delay, lastError: "\(error)")
            logger.warning("review message failed; will retry", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return false
        }
    }
}
