import Logging
import OrderFlowApp
import OrderFlowCore

/// What the Lambda processor does with an event: an S3 object-created event ingests the objects, an SQS batch handles
/// each message (an S3 notification or an order document) and reports the failed ones for redelivery, and any other
/// document is one order (the seeds' own test events, `{"OrderId":"1001","Amount":450}`).
public struct OrderEventHandler: Sendable {
    let orders: OrderService
    let uploads: UploadIngest
    let logger: Logger

    public init(orders: OrderService, uploads: UploadIngest, logger: Logger) {
        self.orders = orders
        self.uploads = uploads
        self.logger = logger
    }

    /// Handles one event document and returns the response document; throws `LambdaFunctionError` for a failure the
    /// caller (or Lambda's retry and dead-letter handling of async invocations) should see.
    public func handle(_ event: [UInt8], traceparent: String? = nil) async throws -> [UInt8] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(event)
        } catch {
            throw LambdaFunctionError(type: "InvalidEvent", message: "the event is not JSON: \(error)")
        }
        switch LambdaEventKind(document) {
        case .s3:
            return try await handleObjectCreated(event)
        case .sqs(let records):
            return try await handleQueueBatch(records, traceparent: traceparent)
        case .s3TestEvent:
            return JSONValue.object(["ignored": .string("s3:TestEvent")]).serializedBytes()
        case .order:
            return try await handleOrder(document, traceparent: traceparent).serializedBytes()
        }
    }

    /// Ingests every object of an S3 event. Valid orders are kept even when others in the object are not; then the
    /// invocation fails with the problems so the event's retry and dead-letter handling record them.
    func handleObjectCreated(_ event: [UInt8]) async throws -> [UInt8] {
        let notifications: [ObjectCreatedNotification]
        do {
            notifications = try ObjectCreatedNotification.decode(event)
        } catch {
            throw LambdaFunctionError(type: "InvalidEvent", message: "\(error)")
        }
        var objects: [JSONValue] = []
        var problems: [String] = []
        for notification in notifications {
            do {
                let report = try await uploads.ingest(key: notification.key)
                logger.info("upload ingested", metadata: [
                    "key": "\(report.key)", "accepted": "\(report.accepted)", "replayed": "\(report.replayed)", "problems": "\(report.problems.count)",
                ])
                objects.append(.object([
                    "key": .string(report.key), "accepted": .int(report.accepted), "replayed": .int(report.replayed),
                    "problems": .int(report.problems.count),
                ]))
                if !report.problems.isEmpty { problems.append("\(notification.key): \(report.problemSummary)") }
            } catch let error as UploadError {
                problems.append("\(notification.key): \(error)")
            }
        }
        if !problems.isEmpty {
            throw LambdaFunctionError(type: "UploadRejected", message: problems.joined(separator: " | "))
        }
        return JSONValue.object(["objects": .array(objects)]).serializedBytes()
    }

    /// Handles each SQS message on its own; the response lists the failed ones (`ReportBatchItemFailures`), so only
    /// they are redelivered, and the queue's redrive policy moves a message that keeps failing to its dead-letter queue.
    func handleQueueBatch(_ records: [JSONValue], traceparent: String?) async throws -> [UInt8] {
        var failures: [JSONValue] = []
        for record in records {
            let messageId = record["messageId"]?.stringValue ?? ""
            do {
                guard let body = record["body"]?.stringValue else {
                    throw LambdaFunctionError(type: "InvalidEvent", message: "SQS record has no body")
                }
                let bytes = Array(body.utf8)
                let document: JSONValue
                do { document = try JSONParser.parse(bytes) } catch {
                    throw LambdaFunctionError(type: "InvalidEvent", message: "message body is not JSON: \(error)")
                }
                switch LambdaEventKind(document) {
                case .s3: _ = try await handleObjectCreated(bytes)
                case .s3TestEvent: break
                case .order: _ = try await handleOrder(document, traceparent: traceparent)
                case .sqs: throw LambdaFunctionError(type: "InvalidEvent", message: "an SQS event inside an SQS message")
                }
            } catch {
                logger.error("queue message failed; reported for redelivery", metadata: ["messageId": "\(messageId)", "error": "\(error)"])
                failures.append(.object(["itemIdentifier": .string(messageId)]))
            }
        }
        return JSONValue.object(["batchItemFailures": .array(failures)]).serializedBytes()
    }

    /// Accepts one order document (API form or the seeds' form), idempotently.
    func handleOrder(_ document: JSONValue, traceparent: String?) async throws -> JSONValue {
        let draft: OrderDraft
        do {
            draft = try OrderValidation.draft(from: document)
        } catch {
            switch error {
            case .malformed(let reason): throw LambdaFunctionError(type: "InvalidOrder", message: reason)
            case .invalid(let fields):
                throw LambdaFunctionError(type: "InvalidOrder", message: fields.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
            }
        }
        switch try await orders.submit(draft, source: "lambda", traceparent: traceparent) {
        case .created(let order):
            logger.info("order accepted", metadata: ["orderId": "\(order.id)", "highValue": "\(order.highValue)"])
            return .object(["outcome": .string("created"), "order": order.json])
        case .replayed(let order):
            return .object(["outcome": .string("replayed"), "order": order.json])
        case .conflict(let existing):
            throw LambdaFunctionError(type: "OrderConflict", message: "order \(existing.id) was stored earlier with different content")
        }
    }
}

/// The shapes of event the processor recognises.
enum LambdaEventKind {
    case s3
    case sqs([JSONValue])
    /// The test message S3 sends when a notification is configured; nothing to do.
    case s3TestEvent
    case order

    init(_ document: JSONValue) {
        if let records = document["Records"]?.arrayValue {
            if records.contains(where: { $0["eventSource"]?.stringValue == "aws:sqs" }) {
                self = .sqs(records)
            } else {
                self = .s3
            }
        } else if document["Event"]?.stringValue == "s3:TestEvent" {
            self = .s3TestEvent
        } else {
            self = .order
        }
    }
}
