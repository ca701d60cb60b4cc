import AWSKit
import Foundation
import OrderFlowCore

/// The `MessageQueue` port on SQS (JSON protocol): batch send and delete, long polling, visibility, and the queue's
/// own redrive policy for dead letters. A message that can never succeed is copied to the dead-letter queue with the
/// reason as the `orderflow.lastError` attribute, then deleted here.
public struct SQSQueue: MessageQueue {
    public let name: String
    public let queueURL: String
    /// Where `moveToDeadLetterQueue` sends; nil when the queue has none.
    public let deadLetterQueueURL: String?
    private let client: AWSClient

    /// The attribute a dead-lettered message carries its reason in.
    public static let lastErrorAttribute = "orderflow.lastError"

    public init(client: AWSClient, queueURL: String, deadLetterQueueURL: String? = nil) {
        self.client = client
        self.queueURL = queueURL
        self.deadLetterQueueURL = deadLetterQueueURL
        self.name = queueURL.split(separator: "/").last.map(String.init) ?? queueURL
    }

    // MARK: Wire shapes

    struct MessageAttributeValue: Codable {
        let DataType: String
        let StringValue: String?
    }

    private struct SendEntry: Encodable {
        let Id: String
        let MessageBody: String
        let MessageAttributes: [String: MessageAttributeValue]?
    }

    private struct SendBatchInput: Encodable {
        let QueueUrl: String
        let Entries: [SendEntry]
    }

    struct BatchFailure: Decodable {
        let Id: String
        let Code: String?
        let Message: String?
        let SenderFault: Bool?
    }

    private struct BatchOutput: Decodable {
        let Failed: [BatchFailure]?
    }

    private struct ReceiveInput: Encodable {
        let QueueUrl: String
        let MaxNumberOfMessages: Int
        let WaitTimeSeconds: Int
        let VisibilityTimeout: Int?
        let MessageAttributeNames: [String]
        let MessageSystemAttributeNames: [String]
        let AttributeNames: [String]
    }

    private struct ReceivedMessage: Decodable {
        let MessageId: String
        let ReceiptHandle: String
        let Body: String
        let Attributes: [String: String]?
        let MessageAttributes: [String: MessageAttributeValue]?
    }

    private struct ReceiveOutput: Decodable {
        let Messages: [ReceivedMessage]?
    }

    private struct DeleteEntry: Encodable {
        let Id: String
        let ReceiptHandle: String
    }

    private struct DeleteBatchInput: Encodable {
        let QueueUrl: String
        let Entries: [DeleteEntry]
    }

    private struct ChangeVisibilityInput: Encodable {
        let QueueUrl: String
        let ReceiptHandle: String
        let VisibilityTimeout: Int
    }

    private struct DeleteInput: Encodable {
        let QueueUrl: String
        let ReceiptHandle: String
    }

    private struct AttributesInput: Encodable {
        let QueueUrl: String
        let AttributeNames: [String]
    }

    private struct AttributesOutput: Decodable {
        let Attributes: [String: String]?
    }

    private struct Empty: Decodable {}

    // MARK: Port

    public func send(_ messages: [OutgoingMessage]) async throws {
        guard !messages.isEmpty else { return }
        guard messages.count <= MessagingBatchLimit.queueSend else { throw MessagingError.batchTooLarge(limit: MessagingBatchLimit.queueSend) }
        try await send(messages, to: queueURL)
    }

    private func send(_ messages: [OutgoingMessage], to url: String) async throws {
        let entries = messages.enumerated().map { index, message in
            SendEntry(Id: "m\(index)", MessageBody: String(decoding: message.body, as: UTF8.self),
                      MessageAttributes: Self.wireAttributes(message.attributes))
        }
        let output = try await client.json(.sqs, operation: "SendMessageBatch", input: SendBatchInput(QueueUrl: url, Entries: entries),
                                           as: BatchOutput.self)
        if let failure = output.Failed?.first {
            throw SQSBatchError(queue: name, operation: "SendMessageBatch", failedCount: output.Failed?.count ?? 1,
                                code: failure.Code ?? "?", message: failure.Message)
        }
    }

    static func wireAttributes(_ attributes: [String: String]) -> [String: MessageAttributeValue]? {
        guard !attributes.isEmpty else { return nil }
        return attributes.mapValues { MessageAttributeValue(DataType: "String", StringValue: $0) }
    }

    public func receive(maxMessages: Int, waitTime: Duration, visibilityTimeout: Duration?) async throws -> [QueueMessage] {
        guard (1...10).contains(maxMessages) else { throw MessagingError.invalidArgument("maxMessages must be 1…10, not \(maxMessages)") }
        let waitSeconds = Int(min(20, max(0, waitTime.components.seconds)))
        let input = ReceiveInput(
            QueueUrl: queueURL, MaxNumberOfMessages: maxMessages, WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: visibilityTimeout.map { Int($0.components.seconds) },
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
            AttributeNames: ["ApproximateReceiveCount", "SentTimestamp"]
        )
        // The long poll may take the whole wait time: the request timeout must outlast it.
        let output = try await client.json(.sqs, operation: "ReceiveMessage", input: input, as: ReceiveOutput.self,
                                           timeout: .seconds(Int64(waitSeconds) + 20))
        return (output.Messages ?? []).map { message in
            QueueMessage(
                messageId: message.MessageId, body: Array(message.Body.utf8),
                attributes: (message.MessageAttributes ?? [:]).compactMapValues(\.StringValue),
                receiptHandle: message.ReceiptHandle,
                receiveCount: message.Attributes?["ApproximateReceiveCount"].flatMap { Int($0) } ?? 1,
                sentAt: Timestamp(millisecondsSinceEpoch: message.Attributes?["SentTimestamp"].flatMap { Int64($0) } ?? 0)
            )
        }
    }

    public func delete(receiptHandles: [String]) async throws {
        for chunk in receiptHandles.chunks(of: 10) {
            let entries = chunk.enumerated().map { DeleteEntry(Id: "d\($0.offset)", ReceiptHandle: $0.element) }
            let output = try await client.json(.sqs, operation: "DeleteMessageBatch",
                                               input: DeleteBatchInput(QueueUrl: queueURL, Entries: entries), as: BatchOutput.self)
            // A stale handle (ReceiptHandleIsInvalid) is ignored, as the port promises; anything else is reported.
            let real = (output.Failed ?? []).filter { $0.Code != "ReceiptHandleIsInvalid" && $0.Code != "InvalidParameterValue" }
            if let failure = real.first {
                throw SQSBatchError(queue: name, operation: "DeleteMessageBatch", failedCount: real.count,
                                    code: failure.Code ?? "?", message: failure.Message)
            }
        }
    }

    /// SQS keeps no per-message error text; `lastError` is for the embedded queue and the logs.
    public func changeVisibility(receiptHandle: String, timeout: Duration, lastError: String?) async throws {
        let input = ChangeVisibilityInput(QueueUrl: queueURL, ReceiptHandle: receiptHandle,
                                          VisibilityTimeout: Int(max(0, min(43_200, timeout.components.seconds))))
        _ = try await client.json(.sqs, operation: "ChangeMessageVisibility", input: input, as: Empty.self)
    }

    /// Copies `message` to the dead-letter queue with `reason`, then deletes it here (copy first: a crash in between
    /// leaves a duplicate dead letter, never a lost one).
    public func moveToDeadLetterQueue(_ message: QueueMessage, reason: String) async throws {
        guard let deadLetterQueueURL else { throw MessagingError.invalidArgument("queue \(name) has no dead-letter queue") }
        var attributes = message.attributes
        attributes[Self.lastErrorAttribute] = String(reason.prefix(1024))
        attributes["orderflow.sourceQueue"] = name
        try await send([OutgoingMessage(body: message.body, attributes: attributes)], to: deadLetterQueueURL)
        _ = try await client.json(.sqs, operation: "DeleteMessage", input: DeleteInput(QueueUrl: queueURL, ReceiptHandle: message.receiptHandle),
                                  as: Empty.self)
    }

    public func depth() async throws -> QueueDepth {
        let own = try await counts(of: queueURL)
        var deadLetters = 0
        if let deadLetterQueueURL {
            let dead = try await counts(of: deadLetterQueueURL)
            deadLetters = dead.visible + dead.inFlight
        }
        return QueueDepth(visible: own.visible, inFlight: own.inFlight, deadLetters: deadLetters,
                          oldestAgeMilliseconds: nil)
    }

    private func counts(of url: String) async throws -> (visible: Int, inFlight: Int) {
        let output = try await client.json(.sqs, operation: "GetQueueAttributes", input: AttributesInput(
            QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        ), as: AttributesOutput.self)
        let attributes = output.Attributes ?? [:]
        return (Int(attributes["ApproximateNumberOfMessages"] ?? "") ?? 0, Int(attributes["ApproximateNumberOfMessagesNotVisible"] ?? "") ?? 0)
    }
}

/// SQS refused entries of a batch.
public struct SQSBatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public let queue: String
    public let operation: String
    public let failedCount: Int
    public let code: String
    public let message: String?

    public var description: String {
        "SQS \(operation) on \(queue): \(failedCount) entr\(failedCount == 1 ? "y" : "ies") failed: \(code)\(message.map { ": \($0)" } ?? "")"
    }
}
