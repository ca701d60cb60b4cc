import AWSKit
import Foundation

/// Creates the messaging resources the adapter tests need in moto, with unique names, the way the data stack in
/// deploy/cloudformation defines them (queue + DLQ with a redrive policy, topic → queue with raw delivery, stream).
public struct MotoResources: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    private struct CreateQueueInput: Encodable {
        let QueueName: String
        let Attributes: [String: String]?
    }

    private struct QueueURLOutput: Decodable {
        let QueueUrl: String
    }

    private struct AttributesInput: Encodable {
        let QueueUrl: String
        let AttributeNames: [String]
    }

    private struct AttributesOutput: Decodable {
        let Attributes: [String: String]
    }

    private struct CreateStreamInput: Encodable {
        let StreamName: String
        let ShardCount: Int
    }

    private struct Nothing: Decodable {}

    /// A queue (and its DLQ when `maxReceiveCount` is given); URLs moved onto moto's endpoint.
    public func queue(_ name: String, maxReceiveCount: Int? = nil) async throws -> (url: String, arn: String, deadLetterURL: String?) {
        var deadLetterURL: String? = nil
        var attributes: [String: String]? = nil
        if let maxReceiveCount {
            let dead = try await createQueue(name + "-dlq", attributes: nil)
            deadLetterURL = dead.url
            attributes = ["RedrivePolicy": #"{"deadLetterTargetArn":"\#(dead.arn)","maxReceiveCount":"\#(maxReceiveCount)"}"#]
        }
        let queue = try await createQueue(name, attributes: attributes)
        return (queue.url, queue.arn, deadLetterURL)
    }

    private func createQueue(_ name: String, attributes: [String: String]?) async throws -> (url: String, arn: String) {
        let created = try await client.json(.sqs, operation: "CreateQueue", input: CreateQueueInput(QueueName: name, Attributes: attributes),
                                            as: QueueURLOutput.self)
        let url = client.configuration.resourceURL(URL(string: created.QueueUrl)!, for: .sqs).absoluteString
        let arn = try await client.json(.sqs, operation: "GetQueueAttributes", input: AttributesInput(QueueUrl: url, AttributeNames: ["QueueArn"]),
                                        as: AttributesOutput.self).Attributes["QueueArn"] ?? ""
        return (url, arn)
    }

    /// A topic delivering raw messages (body and attributes as published) to the queue `queueARN`.
    public func topic(_ name: String, deliveringTo queueARN: String) async throws -> String {
        let created = try await client.query(.sns, action: "CreateTopic", parameters: ["Name": name])
        guard let topicARN = created.value(at: "CreateTopicResult", "TopicArn") else { throw Missing(what: "TopicArn") }
        _ = try await client.query(.sns, action: "Subscribe", parameters: [
            "TopicArn": topicARN, "Protocol": "sqs", "Endpoint": queueARN,
            "Attributes.entry.1.key": "RawMessageDelivery", "Attributes.entry.1.value": "true",
        ])
        return topicARN
    }

    public func stream(_ name: String, shards: Int) async throws {
        _ = try await client.json(.kinesis, operation: "CreateStream", input: CreateStreamInput(StreamName: name, ShardCount: shards), as: Nothing.self)
    }

    public struct Missing: Error {
        let what: String
    }

    private struct AttributeDefinition: Encodable {
        let AttributeName: String
        let AttributeType: String
    }

    private struct KeySchemaElement: Encodable {
        let AttributeName: String
        let KeyType: String
    }

    private struct CreateTableInput: Encodable {
        let TableName: String
        let AttributeDefinitions: [AttributeDefinition]
        let KeySchema: [KeySchemaElement]
        let BillingMode: String
    }

    /// An on-demand table keyed by the string attribute `hashKey`.
    public func table(_ name: String, hashKey: String) async throws {
        _ = try await client.json(.dynamoDB, operation: "CreateTable", input: CreateTableInput(
            TableName: name, AttributeDefinitions: [AttributeDefinition(AttributeName: hashKey, AttributeType: "S")],
            KeySchema: [KeySchemaElement(AttributeName: hashKey, KeyType: "HASH")], BillingMode: "PAY_PER_REQUEST"
        ), as: Nothing.self)
    }

    public func bucket(_ name: String) async throws {
        _ = try await client.s3("PUT", operation: "CreateBucket", bucket: name)
    }
}
