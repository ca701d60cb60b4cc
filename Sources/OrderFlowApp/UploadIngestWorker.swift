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
        let done = if let bulkWork { try await bulkWork.during { try await handle(received) } } else { try await handle(received) }
        try await queue.delete(receiptHandles: done)
        return messages.count
    }

    /// Ingests a batch of notifications; returns the receipt handles of the messages done (the others were dead-lettered
    /// or put back for a retry). The objects of all messages are read first and their orders submitted together, in
    /// groups of up to `maximumObjectSize` bytes of objects (bounded memory), so a batch of files shares the store's
    /// transactions. A message whose objects have problems goes to the dead-letter queue after its valid orders are
    /// stored; one whose object or orders could not be read or stored is retried later (the redrive policy bounds that).
    func handle(_ messages: [QueueMessage]) async throws -> [String] {
        var done: [String] = []
        var batch = IngestBatch()
        for message in messages {
            if ObjectCreatedNotification.isTestEvent(message.body) {
                logger.info("ignored the s3:TestEvent of a new bucket notification", metadata: ["messageId": "\(message.messageId)"])
                done.append(message.receiptHandle)
                continue
            }
            let keys: [String]
            do {
                keys = try ObjectCreatedNotification.decode(message.body).map(\.key)
            } catch {
                try await deadLetter(message, reason: "\(error)")
                continue
            }
            let index = batch.add(message)
            for key in keys {
                do {
                    let object = try await objectIngest.read(key: key)
                    if batch.readBytes + object.size > objectIngest.maximumObjectSize { await submit(&batch) }
                    batch.add(object, of: index)
                } catch let error as UploadError {
                    batch.messages[index].problems.append("\(key): \(error)")
                } catch {
                    batch.messages[index].failure = "\(key): \(error)"
                    break
                }
            }
        }
        await submit(&batch)
        for item in batch.messages {
            if let failure = item.failure {
                try await queue.changeVisibility(receiptHandle: item.message.receiptHandle,
                                                 timeout: RetryBackoff.message.delay(afterAttempt: item.message.receiveCount), lastError: failure)
                logger.warning("upload ingest failed; will retry", metadata: ["messageId": "\(item.message.messageId)", "error": "\(failure)"])
            } else if !item.problems.isEmpty {
                try await deadLetter(item.message, reason: item.problems.joined(separator: " | "))
            } else {
                done.append(item.message.receiptHandle)
            }
        }
        return done
    }

    /// The messages of a batch with what became of them, and the objects read but not yet submitted.
    struct IngestBatch {
        struct Item {
            let message: QueueMessage
            var problems: [String] = []
            /// Why the message is retried later, if it is.
            var failure: String?
        }

        var messages: [Item] = []
        var read: [(message: Int, object: UploadIngest.ReadObject)] = []
        var readBytes = 0

        mutating func add(_ message: QueueMessage) -> Int {
            messages.append(Item(message: message))
            return messages.count - 1
        }

        mutating func add(_ object: UploadIngest.ReadObject, of message: Int) {
            read.append((message, object))
            readBytes += object.size
        }
    }

    /// Submits the objects read so far (of the messages not failed) together and notes their reports.
    private func submit(_ batch: inout IngestBatch) async {
        let ready = batch.read.filter { batch.messages[$0.message].failure == nil }
        batch.read = []
        batch.readBytes = 0
        guard !ready.isEmpty else { return }
        let reports: [UploadIngest.Report?]
        do {
            reports = try await objectIngest.accept(ready.map(\.object))
        } catch {
            // One object's trouble (or a passing one of the store's) should not hold back the others: each alone.
            logger.warning("a batch of uploads failed together; ingesting them one by one", metadata: ["error": "\(error)"])
            var alone: [UploadIngest.Report?] = []
            for entry in ready {
                do {
                    alone += try await objectIngest.accept([entry.object])
                } catch {
                    batch.messages[entry.message].failure = batch.messages[entry.message].failure ?? "\(entry.object.key): \(error)"
                    alone.append(nil)
                }
            }
            reports = alone
        }
        for (entry, report) in zip(ready, reports) {
            guard let report else { continue }
            logger.info("upload ingested", metadata: [
                "key": "\(report.key)", "accepted": "\(report.accepted)", "replayed": "\(report.replayed)", "problems": "\(report.problems.count)",
            ])
            if !report.problems.isEmpty {
                batch.messages[entry.message].problems.append("\(report.key): \(report.problemSummary)")
            }
        }
    }

    private func deadLetter(_ message: QueueMessage, reason: String) async throws {
        try await queue.moveToDeadLetterQueue(message, reason: reason)
        logger.error("upload dead-lettered", metadata: ["messageId": "\(message.messageId)", "reason": "\(reason)"])
    }
}
