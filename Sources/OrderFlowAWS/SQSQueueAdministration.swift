import AWSKit
import OrderFlowCore

/// `QueueAdministration` over the SQS queues OrderFlow knows (each with its dead-letter queue). Redrive copies each
/// dead letter back to its queue before deleting it, so a crash in between duplicates a message and never loses one.
public struct SQSQueueAdministration: QueueAdministration {
    private let client: AWSClient
    private let managed: [SQSQueue]

    public init(client: AWSClient, queues: [SQSQueue]) {
        self.client = client
        self.managed = queues
    }

    private struct AttributesInput: Encodable {
        let QueueUrl: String
        let AttributeNames: [String]
    }

    private struct AttributesOutput: Decodable {
        let Attributes: [String: String]?
    }

    public func queues() async throws -> [QueueInfo] {
        var infos: [QueueInfo] = []
        for queue in managed {
            let attributes = try await client.json(.sqs, operation: "GetQueueAttributes", input: AttributesInput(
                QueueUrl: queue.queueURL, AttributeNames: ["VisibilityTimeout", "RedrivePolicy"]
            ), as: AttributesOutput.self).Attributes ?? [:]
            let maxReceiveCount = Self.maxReceiveCount(inRedrivePolicy: attributes["RedrivePolicy"]) ?? 0
            infos.append(QueueInfo(
                name: queue.name,
                deadLetterQueue: queue.deadLetterQueueURL.flatMap { $0.split(separator: "/").last.map(String.init) },
                maxReceiveCount: maxReceiveCount,
                visibilityTimeoutSeconds: Int(attributes["VisibilityTimeout"] ?? "") ?? 30,
                depth: try await queue.depth()
            ))
        }
        return infos
    }

    /// `maxReceiveCount` from a redrive policy document (SQS writes it as a number or a string).
    static func maxReceiveCount(inRedrivePolicy text: String?) -> Int? {
        guard let text, let json = try? JSONParser.parse(text), let value = json["maxReceiveCount"] else { return nil }
        return value.int64Value.map(Int.init) ?? value.stringValue.flatMap { Int($0) }
    }

    private func queue(named name: String) throws -> (SQSQueue, SQSQueue) {
        guard let queue = managed.first(where: { $0.name == name }) else { throw MessagingError.unknownQueue(name) }
        guard let deadURL = queue.deadLetterQueueURL else { throw MessagingError.invalidArgument("queue \(name) has no dead-letter queue") }
        return (queue, SQSQueue(client: client, queueURL: deadURL))
    }

    /// Looks at up to `limit` dead letters without taking them: they are received with a zero visibility timeout.
    public func deadLetters(of name: String, limit: Int) async throws -> [DeadLetter] {
        let (_, dead) = try queue(named: name)
        var letters: [String: DeadLetter] = [:]
        for _ in 0..<max(1, (limit + 9) / 10) {
            let batch = try await dead.receive(maxMessages: min(10, max(1, limit - letters.count)), waitTime: .zero, visibilityTimeout: .zero)
            if batch.isEmpty { break }
            for message in batch where letters[message.messageId] == nil {
                letters[message.messageId] = DeadLetter(
                    messageId: message.messageId, sourceQueue: message.attributes["orderflow.sourceQueue"] ?? name,
                    body: message.body, receiveCount: message.receiveCount,
                    lastError: message.attributes[SQSQueue.lastErrorAttribute], sentAt: message.sentAt, deadLetteredAt: message.sentAt
                )
            }
            if letters.count >= limit { break }
        }
        return letters.values.sorted { ($0.sentAt, $0.messageId) < ($1.sentAt, $1.messageId) }
    }

    public func redrive(_ name: String) async throws -> Int {
        let (queue, dead) = try queue(named: name)
        var moved = 0
        while true {
            let batch = try await dead.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: .seconds(60))
            if batch.isEmpty { return moved }
            let outgoing = batch.map { message in
                var attributes = message.attributes
                attributes[SQSQueue.lastErrorAttribute] = nil
                attributes["orderflow.sourceQueue"] = nil
                return OutgoingMessage(body: message.body, attributes: attributes)
            }
            try await queue.send(outgoing)
            try await dead.delete(receiptHandles: batch.map(\.receiptHandle))
            moved += batch.count
        }
    }
}
