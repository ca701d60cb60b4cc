import AWSKit
import Foundation

/// Creates OrderFlow's AWS resources the way the data stack in deploy/cloudformation defines them (tables, queue + DLQ
/// with a redrive policy, topic → queue with raw delivery, stream, bucket → queue notification), idempotently: a
/// resource that exists is left as it is. For development against an emulator (`orderflow aws setup`) and for tests;
/// production resources come from the CloudFormation stacks.
public struct AWSResourceSetup: Sendable {
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

    /// A topic delivering raw messages (body and attributes as published) to the queue `queueARN`; with `queueURL`, the
    /// queue's policy is set to let this topic send to it.
    public func topic(_ name: String, deliveringTo queueARN: String, queueURL: String? = nil) async throws -> String {
        let created = try await client.query(.sns, action: "CreateTopic", parameters: ["Name": name])
        guard let topicARN = created.value(at: "CreateTopicResult", "TopicArn") else { throw Missing(what: "TopicArn") }
        if let queueURL {
            try await allowSending(to: queueURL, queueARN: queueARN, service: "sns.amazonaws.com", sourceARN: topicARN)
        }
        _ = try await client.query(.sns, action: "Subscribe", parameters: [
            "TopicArn": topicARN, "Protocol": "sqs", "Endpoint": queueARN,
            "Attributes.entry.1.key": "RawMessageDelivery", "Attributes.entry.1.value": "true",
        ])
        return topicARN
    }

    /// A stream with `shards` shards (an existing one is kept); waits until it is active.
    public func stream(_ name: String, shards: Int) async throws {
        do {
            _ = try await client.json(.kinesis, operation: "CreateStream", input: CreateStreamInput(StreamName: name, ShardCount: shards), as: Nothing.self)
        } catch {
            guard error.serviceError?.hasCode("ResourceInUseException") == true else { throw error }
        }
        for attempt in 1...60 {
            let summary = try await client.json(.kinesis, operation: "DescribeStreamSummary", input: StreamNameInput(StreamName: name),
                                                as: StreamSummaryOutput.self)
            if summary.StreamDescriptionSummary.StreamStatus == "ACTIVE" { return }
            try await Task.sleep(for: .seconds(min(attempt, 5)))
        }
        throw Missing(what: "stream \(name) did not become ACTIVE")
    }

    private struct StreamNameInput: Encodable {
        let StreamName: String
    }

    private struct StreamSummaryOutput: Decodable {
        struct Summary: Decodable {
            let StreamStatus: String
        }

        let StreamDescriptionSummary: Summary
    }

    public struct Missing: Error, CustomStringConvertible {
        let what: String
        public var description: String { what }
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

    /// An on-demand table keyed by the string attribute `hashKey` (an existing one is kept), with point-in-time
    /// recovery on, as in the data stack (`orderflow export --backend aws` needs it).
    public func table(_ name: String, hashKey: String) async throws {
        do {
            _ = try await client.json(.dynamoDB, operation: "CreateTable", input: CreateTableInput(
                TableName: name, AttributeDefinitions: [AttributeDefinition(AttributeName: hashKey, AttributeType: "S")],
                KeySchema: [KeySchemaElement(AttributeName: hashKey, KeyType: "HASH")], BillingMode: "PAY_PER_REQUEST"
            ), as: Nothing.self)
        } catch {
            guard error.serviceError?.hasCode("ResourceInUseException") == true else { throw error }
        }
        try await pointInTimeRecovery(name)
    }

    private struct ContinuousBackupsInput: Encodable {
        struct Specification: Encodable {
            let PointInTimeRecoveryEnabled: Bool
        }

        let TableName: String
        let PointInTimeRecoverySpecification: Specification
    }

    /// Turns point-in-time recovery on once the table is active (AWS refuses it while the table is being created).
    private func pointInTimeRecovery(_ name: String) async throws {
        for attempt in 1...60 {
            let status = try await client.json(.dynamoDB, operation: "DescribeTable", input: DynamoDBTableName(TableName: name), as: DescribeTableOutput.self)
            if status.Table.TableStatus == "ACTIVE" { break }
            guard attempt < 60 else { throw Missing(what: "table \(name) did not become ACTIVE") }
            try await Task.sleep(for: .seconds(min(attempt, 5)))
        }
        _ = try await client.json(.dynamoDB, operation: "UpdateContinuousBackups", input: ContinuousBackupsInput(
            TableName: name, PointInTimeRecoverySpecification: .init(PointInTimeRecoveryEnabled: true)), as: Nothing.self)
    }

    /// A bucket in the client's region (an existing one of this account is kept).
    public func bucket(_ name: String) async throws {
        let region = client.configuration.region
        let body = region == "us-east-1" ? [] : Array("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
        do {
            _ = try await client.s3("PUT", operation: "CreateBucket", bucket: name, body: body)
        } catch {
            guard error.serviceError?.hasCode("BucketAlreadyOwnedByYou") == true else { throw error }
        }
    }

    /// Sends an object-created notification to `queueARN` for every key under `prefix` (replacing the bucket's
    /// notification configuration), after allowing S3 to send to that queue for this bucket.
    public func notify(bucket: String, prefix: String, queueURL: String, queueARN: String) async throws {
        try await allowSending(to: queueURL, queueARN: queueARN, service: "s3.amazonaws.com", sourceARN: "arn:aws:s3:::\(bucket)")
        let configuration = """
            <NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><QueueConfiguration>\
            <Id>orderflow-uploads</Id><Queue>\(queueARN)</Queue><Event>s3:ObjectCreated:*</Event>\
            <Filter><S3Key><FilterRule><Name>prefix</Name><Value>\(prefix)</Value></FilterRule></S3Key></Filter>\
            </QueueConfiguration></NotificationConfiguration>
            """
        _ = try await client.s3("PUT", operation: "PutBucketNotificationConfiguration", bucket: bucket,
                                query: [SigV4Request.QueryParameter("notification")], body: Array(configuration.utf8))
    }

    private struct SetAttributesInput: Encodable {
        let QueueUrl: String
        let Attributes: [String: String]
    }

    /// Lets `service` (SNS, S3) send to the queue on behalf of `sourceARN` only: the queue policy real AWS needs.
    func allowSending(to queueURL: String, queueARN: String, service: String, sourceARN: String) async throws {
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"\#(service)"},"Action":"sqs:SendMessage","Resource":"\#(queueARN)","Condition":{"ArnEquals":{"aws:SourceArn":"\#(sourceARN)"}}}]}"#
        _ = try await client.json(.sqs, operation: "SetQueueAttributes", input: SetAttributesInput(QueueUrl: queueURL, Attributes: ["Policy": policy]),
                                  as: Nothing.self)
    }
}
