import Logging
import OrderFlowCore
import ServiceLifecycle

/// The S3 path of the seeds: consumes object-created notifications, reads each object and accepts every valid order in
/// it with `source = upload:<key>`. An object with problems goes to the dead-letter queue with the reason (after its
/// valid orders are stored, so nothing valid is lost and a redrive re-runs it idempotently).
public struct UploadIngestWorker: Service {
    let queue: any MessageQueue
    let objectIngest: UploadIngest
    let logger: Logger
    let bulkWork: WorkInProgress?
    let gatherWindow: Duration?

    /// `bulkWork`, when given, counts each received batch of notifications as one job while its objects are ingested,
    /// so a relay that waits for it (the AWS one) relays the whole batch's events in one round. `gatherWindow`, when
    /// given, lets notifications gather that long after a receive that was not full, then takes them in one more
    /// receive: files dropped in a burst then share one batch (one more request per batch, not per file).
    public init(queue: any MessageQueue, objects: any ObjectStore, orders: OrderService, logger: Logger,
                maximumObjectSize: Int = UploadIngest.defaultMaximumObjectSize, bulkWork: WorkInProgress? = nil,
                gatherWindow: Duration? = nil) {
        self.queue = queue
        self.bulkWork = bulkWork
        self.gatherWindow = gatherWindow
        self.objectIngest = UploadIngest(objects: objects, orders: orders, maximumObjectSize: maximumObjectSize)
        self.logger = logger
    }

    /// Reads and ingests one object (see `UploadIngest`).
    public func ingest(key: String) async throws -> UploadIngest.Report {
        try await objectIngest.ingest(key: key)
    }

    public func run() async throws {
        await WorkerLoop.run(name: "upload ingest", logger: logger) {
            try await processOnce(wait: .seconds(10)) > 0 ? .progressed : .idle
        } waitForWork: {}
    }

    /// Notifications per batch: a queue's receive limit.
    static let batchLimit = 10

    /// Receives one batch of notifications and ingests their objects; returns how many messages it received.
    @discardableResult
    public func processOnce(wait: Duration) async throws -> Int {
        var messages = try await cancelWhenGracefulShutdown {
            try await queue.receive(maxMessages: Self.batchLimit, waitTime: wait, visibilityTimeout: nil)
        }
        guard !messages.isEmpty else { return 0 }
        if let gatherWindow, messages.count < Self.batchLimit, !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: gatherWindow) }
            if !Task.isShuttingDownGracefully {
                messages += try await queue.receive(maxMessages: Self.batchLimit - messages.count, waitTime: .zero, visibilityTimeout: nil)
            }
        }
        let received = messages
        let handleAll = { @Sendable () async throws -> [String] in
            var done: [String] = []
            for message in received {
                if try await handle(message) { done.append(message.receiptHandle) }
            }
            return done
        }
        let done = if let bulkWork { try await bulkWork.during(handleAll) } else { try await handleAll() }
        try await queue.delete(receiptHandles: done)
        return messages.count
    }

    func handle(_ message: QueueMessage) async throws -> Bool {
        if ObjectCreatedNotification.isTestEvent(message.body) {
            logger.info("ignored the s3:TestEvent of a new bucket notification", metadata: ["messageId": "\(message.messageId)"])
            return true
        }
        let notifications: [ObjectCreatedNotification]
        do {
            notifications = try ObjectCreatedNotification.decode(message.body)
        } catch {
            try await deadLetter(message, reason: "\(error)")
            return false
        }
        var problems: [String] = []
        for notification in notifications {
            do {
                let report = try await objectIngest.ingest(key: notification.key)
                logger.info("upload ingested", metadata: [
                    "key": "\(report.key)", "accepted": "\(report.accepted)", "replayed": "\(report.replayed)", "problems": "\(report.problems.count)",
                ])
                if !report.problems.isEmpty {
                    problems.append("\(notification.key): \(report.problemSummary)")
                }
            } catch let error as UploadError {
                problems.append("\(notification.key): \(error)")
            } catch {
                // The object store or order store failed: retry later; the redrive policy bounds the attempts.
                try await queue.changeVisibility(
                    receiptHandle: message.receiptHandle,
                    timeout: RetryBackoff.message.delay(afterAttempt: message.receiveCount),
                    lastError: "\(notification.key): \(error)"
                )
                logger.warning("upload ingest failed; will retry", metadata: ["key": "\(notification.key)", "error": "\(error)"])
                return false
            }
        }
        if !problems.isEmpty {
            try await deadLetter(message, reason: problems.joined(separator: " | "))
            return false
        }
        return true
    }

    private func deadLetter(_ message: QueueMessage, reason: String) async throws {
        try await queue.moveToDeadLetterQueue(message, reason: reason)
        logger.error("upload dead-lettered", metadata: ["messageId": "\(message.messageId)", "reason": "\(reason)"])
    }
}
