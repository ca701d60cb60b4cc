import AWSKit
import OrderFlowCore

/// The `Topic` port on SNS: `PublishBatch` (up to 10 messages a call), message attributes as SNS string attributes.
/// Entries SNS reports as failed on its side are published again; a failure of the sender's making is thrown at once.
public struct SNSTopic: Topic {
    public let name: String
    public let topicARN: String
    private let client: AWSClient
    /// Attempts for entries that failed on SNS's side (throttling, internal errors) before the batch is given up.
    private let attempts: Int

    public init(client: AWSClient, topicARN: String, attempts: Int = 4) {
        self.client = client
        self.topicARN = topicARN
        self.name = topicARN.split(separator: ":").last.map(String.init) ?? topicARN
        self.attempts = attempts
    }

    public func publish(_ messages: [TopicMessage]) async throws {
        guard !messages.isEmpty else { return }
        guard messages.count <= MessagingBatchLimit.topicPublish else {
            throw MessagingError.batchTooLarge(limit: MessagingBatchLimit.topicPublish)
        }
        var waiting = Array(messages.enumerated())
        for attempt in 1...attempts {
            let failed = try await publishBatch(waiting)
            if failed.isEmpty { return }
            if let permanent = failed.first(where: { $0.senderFault }) {
                throw SNSPublishError(topic: name, code: permanent.code, message: permanent.message)
            }
            waiting = waiting.filter { entry in failed.contains { $0.index == entry.offset } }
            if attempt < attempts {
                try await Task.sleep(for: .milliseconds(50 << attempt))
            } else if let last = failed.first {
                throw SNSPublishError(topic: name, code: last.code, message: last.message)
            }
        }
    }

    struct FailedEntry {
        let index: Int
        let code: String
        let message: String?
        let senderFault: Bool
    }

    /// Publishes `entries` (their ids are their positions in the caller's batch); returns the ones SNS failed.
    private func publishBatch(_ entries: [(offset: Int, element: TopicMessage)]) async throws -> [FailedEntry] {
        var parameters: [String: String] = ["TopicArn": topicARN]
        for (position, entry) in entries.enumerated() {
            let prefix = "PublishBatchRequestEntries.member.\(position + 1)"
            parameters["\(prefix).Id"] = "m\(entry.offset)"
            parameters["\(prefix).Message"] = String(decoding: entry.element.body, as: UTF8.self)
            for (number, attribute) in entry.element.attributes.sorted(by: { $0.key < $1.key }).enumerated() {
                let attributePrefix = "\(prefix).MessageAttributes.entry.\(number + 1)"
                parameters["\(attributePrefix).Name"] = attribute.key
                parameters["\(attributePrefix).Value.DataType"] = "String"
                parameters["\(attributePrefix).Value.StringValue"] = attribute.value
            }
        }
        let response = try await client.query(.sns, action: "PublishBatch", parameters: parameters)
        let failedMembers = response.element(at: "PublishBatchResult", "Failed")?.children(named: "member") ?? []
        return failedMembers.compactMap { member -> FailedEntry? in
            guard let id = member.value(at: "Id"), id.hasPrefix("m"), let index = Int(id.dropFirst()) else { return nil }
            return FailedEntry(
                index: index, code: member.value(at: "Code") ?? "Unknown", message: member.value(at: "Message"),
                senderFault: member.value(at: "SenderFault") == "true"
            )
        }
    }
}

/// SNS refused part of a batch.
public struct SNSPublishError: Error, Sendable, Equatable, CustomStringConvertible {
    public let topic: String
    public let code: String
    public let message: String?

    public var description: String { "SNS topic \(topic) refused a message: \(code)\(message.map { ": \($0)" } ?? "")" }
}
