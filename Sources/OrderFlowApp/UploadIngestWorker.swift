import Logging
import OrderFlowCore
import ServiceLifecycle

/// The S3 path of the seeds: consumes object-created notifications, reads each object and accepts every valid order in
/// it with `source = upload:<key>`. An object with problems goes to the dead-letter queue with the reason (after its
/// valid orders are stored, so nothing valid is lost and a redrive re-runs it idempotently).
public struct UploadIngestWorker: Service {
    let queue: any MessageQueue
    let objects: any ObjectStore
    let orders: OrderService
    let logger: Logger
    /// Objects larger than this are refused whole (bounded memory).
    let maximumObjectSize: Int

    public init(queue: any MessageQueue, objects: any ObjectStore, orders: OrderService, logger: Logger, maximumObjectSize: Int = 16 << 20) {
        self.queue = queue
        self.objects = objects
        self.orders = orders
        self.logger = logger
        self.maximumObjectSize = maximumObjectSize
    }

    public func run() async throws {
        await WorkerLoop.run(name: "upload ingest", logger: logger) {
            try await processOnce(wait: .seconds(10)) > 0 ? .progressed : .idle
        } waitForWork: {}
    }

    /// What ingesting one object did.
    public struct Report: Sendable, Hashable {
        public var key: String
        public var accepted = 0
        public var replayed = 0
        public var problems: [UploadProblem] = []
    }

    /// Receives one batch of notifications and ingests their objects; returns how many messages it received.
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

    func handle(_ message: QueueMessage) async throws -> Bool {
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
                let report = try await ingest(key: notification.key)
                logger.info("upload ingested", metadata: [
                    "key": "\(report.key)", "accepted": "\(report.accepted)", "replayed": "\(report.replayed)", "problems": "\(report.problems.count)",
                ])
                if !report.problems.isEmpty {
                    problems.append("\(notification.key): " + report.problems.prefix(20).map(\.description).joined(separator: "; ")
                                    + (report.problems.count > 20 ? "; … \(report.problems.count - 20) more" : ""))
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

    /// Reads and ingests one object.
    public func ingest(key: String) async throws -> Report {
        guard let bytes = try await objects.get(key: key) else { throw UploadError.missing }
        guard bytes.count <= maximumObjectSize else { throw UploadError.tooLarge(limit: maximumObjectSize) }
        let document = UploadDocument.parse(bytes)
        var report = Report(key: key, problems: document.problems)
        let source = "upload:\(key)"
        var start = 0
        while start < document.orders.count {
            let chunk = Array(document.orders[start..<min(start + 1000, document.orders.count)])
            let outcomes = try await orders.submit(chunk.map(\.draft), source: source)
            for (uploaded, outcome) in zip(chunk, outcomes) {
                switch outcome {
                case .created: report.accepted += 1
                case .replayed: report.replayed += 1
                case .conflict(let existing):
                    report.problems.append(UploadProblem(position: uploaded.position, reason: "order \(existing.id) already exists with different content"))
                }
            }
            start += 1000
        }
        report.problems.sort { $0.position < $1.position }
        return report
    }

    private func deadLetter(_ message: QueueMessage, reason: String) async throws {
        try await queue.moveToDeadLetterQueue(receiptHandle: message.receiptHandle, reason: reason)
        logger.error("upload dead-lettered", metadata: ["messageId": "\(message.messageId)", "reason": "\(reason)"])
    }
}

/// Why an uploaded object cannot be ingested at all.
public enum UploadError: Error, Sendable, CustomStringConvertible {
    case missing
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .missing: "the object does not exist"
        case .tooLarge(let limit): "the object is larger than \(limit) bytes"
        }
    }
}
