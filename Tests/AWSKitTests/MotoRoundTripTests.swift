import AWSKit
import MotoTestSupport
import Foundation
import Testing

/// One real round trip per wire protocol against moto server with authentication on (see scripts/moto-up).
@Suite("Round trips against moto")
struct MotoRoundTripTests {
    // MARK: JSON 1.0 — DynamoDB

    struct AttributeDefinition: Encodable {
        let AttributeName: String
        let AttributeType: String
    }

    struct KeySchemaElement: Encodable {
        let AttributeName: String
        let KeyType: String
    }

    struct CreateTableInput: Encodable {
        let TableName: String
        let AttributeDefinitions: [AttributeDefinition]
        let KeySchema: [KeySchemaElement]
        let BillingMode: String
    }

    struct CreateTableOutput: Decodable {
        struct Description: Decodable {
            let TableName: String
            let TableStatus: String
        }

        let TableDescription: Description
    }

    /// DynamoDB's attribute values as they travel: `{"S": "…"}`, `{"N": "…"}` (numbers as strings).
    typealias Item = [String: [String: String]]

    struct PutItemInput: Encodable {
        let TableName: String
        let Item: Item
    }

    struct GetItemInput: Encodable {
        let TableName: String
        let Key: Item
        let ConsistentRead: Bool
    }

    struct GetItemOutput: Decodable {
        let Item: Item?
    }

    struct Nothing: Codable {}

    @Test func dynamoDBCreateTablePutItemGetItem() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            let table = uniqueName("orders")
            let created = try await client.json(.dynamoDB, operation: "CreateTable", input: CreateTableInput(
                TableName: table,
                AttributeDefinitions: [AttributeDefinition(AttributeName: "orderId", AttributeType: "S")],
                KeySchema: [KeySchemaElement(AttributeName: "orderId", KeyType: "HASH")],
                BillingMode: "PAY_PER_REQUEST"
            ), as: CreateTableOutput.self)
            #expect(created.TableDescription.TableName == table)
            #expect(created.TableDescription.TableStatus == "ACTIVE")

            // More significant digits than a Double holds: the number must travel as the exact string.
            let item: Item = [
                "orderId": ["S": "1001"],
                "total": ["N": "12345678901234567890.123"],
                "note": ["S": "2 + 2 = 4 & ü/€"],
            ]
            _ = try await client.json(.dynamoDB, operation: "PutItem", input: PutItemInput(TableName: table, Item: item), as: Nothing.self)
            let fetched = try await client.json(.dynamoDB, operation: "GetItem", input: GetItemInput(
                TableName: table, Key: ["orderId": ["S": "1001"]], ConsistentRead: true
            ), as: GetItemOutput.self)
            #expect(fetched.Item == item)
        }
        #expect(counter.counts(service: .dynamoDB, operation: "PutItem") == .init(attempts: 1, retries: 0))
        #expect(counter.total() == .init(attempts: 3, retries: 0))
    }

    // MARK: JSON 1.0 — SQS

    struct CreateQueueInput: Encodable {
        let QueueName: String
    }

    struct QueueURLOutput: Decodable {
        let QueueUrl: String
    }

    struct SendMessageInput: Encodable {
        let QueueUrl: String
        let MessageBody: String
    }

    struct SendMessageOutput: Decodable {
        let MessageId: String
    }

    struct ReceiveMessageInput: Encodable {
        let QueueUrl: String
        let MaxNumberOfMessages: Int
        let WaitTimeSeconds: Int
    }

    struct ReceiveMessageOutput: Decodable {
        struct Message: Decodable {
            let MessageId: String
            let Body: String
            let ReceiptHandle: String
        }

        let Messages: [Message]?
    }

    @Test func sqsCreateQueueSendMessageReceiveMessage() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let queueURL = try await createQueue(client, name: uniqueName("orders"))
            let body = #"{"orderId":"1001","note":"2 + 2 = 4 & ü"}"#
            let sent = try await client.json(
                .sqs, operation: "SendMessage", input: SendMessageInput(QueueUrl: queueURL, MessageBody: body), as: SendMessageOutput.self
            )
            let received = try await client.json(.sqs, operation: "ReceiveMessage", input: ReceiveMessageInput(
                QueueUrl: queueURL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1
            ), as: ReceiveMessageOutput.self)
            let message = try #require(received.Messages?.first)
            #expect(message.MessageId == sent.MessageId)
            #expect(message.Body == body)
            #expect(!message.ReceiptHandle.isEmpty)
        }
    }

    /// Creates a queue and returns its URL moved onto the configured endpoint, as production code must.
    private func createQueue(_ client: AWSClient, name: String) async throws -> String {
        let created = try await client.json(.sqs, operation: "CreateQueue", input: CreateQueueInput(QueueName: name), as: QueueURLOutput.self)
        let url = try #require(URL(string: created.QueueUrl))
        let moved = client.configuration.resourceURL(url, for: .sqs)
        let endpoint = client.configuration.endpoint(for: .sqs)
        #expect(moved.host == endpoint.host && moved.port == endpoint.port)
        #expect(moved.path.hasSuffix("/" + name))
        return moved.absoluteString
    }

    // MARK: JSON 1.1 — Kinesis

    struct CreateStreamInput: Encodable {
        let StreamName: String
        let ShardCount: Int
    }

    struct StreamNameInput: Encodable {
        let StreamName: String
    }

    struct DescribeStreamSummaryOutput: Decodable {
        struct Summary: Decodable {
            let StreamName: String
            let StreamARN: String
            let StreamStatus: String
            let OpenShardCount: Int
        }

        let StreamDescriptionSummary: Summary
    }

    @Test func kinesisCreateStreamDescribeStreamSummary() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let stream = uniqueName("order-events")
            _ = try await client.json(.kinesis, operation: "CreateStream", input: CreateStreamInput(StreamName: stream, ShardCount: 2), as: Nothing.self)
            let summary = try await client.json(
                .kinesis, operation: "DescribeStreamSummary", input: StreamNameInput(StreamName: stream), as: DescribeStreamSummaryOutput.self
            ).StreamDescriptionSummary
            #expect(summary.StreamName == stream)
            #expect(summary.StreamARN.hasSuffix(":stream/\(stream)"))
            #expect(summary.OpenShardCount == 2)
            #expect(["CREATING", "ACTIVE"].contains(summary.StreamStatus))
        }
    }

    // MARK: Query — SNS (with delivery into SQS, which proves the form encoding end to end)

    struct QueueAttributesInput: Encodable {
        let QueueUrl: String
        let AttributeNames: [String]
    }

    struct QueueAttributesOutput: Decodable {
        let Attributes: [String: String]
    }

    @Test func snsCreateTopicPublishIntoASubscribedQueue() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let displayName = "Orders + Returns & more"
            let created = try await client.query(.sns, action: "CreateTopic", parameters: [
                "Name": uniqueName("order-events"),
                "Attributes.entry.1.key": "DisplayName",
                "Attributes.entry.1.value": displayName,
            ])
            #expect(created.name == "CreateTopicResponse")
            let topicARN = try #require(created.value(at: "CreateTopicResult", "TopicArn"))
            #expect(topicARN.hasPrefix("arn:aws:sns:\(moto.region):"))

            let attributes = try await client.query(.sns, action: "GetTopicAttributes", parameters: ["TopicArn": topicARN])
            let entries = attributes.element(at: "GetTopicAttributesResult", "Attributes")?.children(named: "entry") ?? []
            #expect(entries.first { $0.value(at: "key") == "DisplayName" }?.value(at: "value") == displayName)

            let queueURL = try await createQueue(client, name: uniqueName("order-review"))
            let queueARN = try await client.json(.sqs, operation: "GetQueueAttributes", input: QueueAttributesInput(
                QueueUrl: queueURL, AttributeNames: ["QueueArn"]
            ), as: QueueAttributesOutput.self).Attributes["QueueArn"]
            _ = try await client.query(.sns, action: "Subscribe", parameters: [
                "TopicArn": topicARN, "Protocol": "sqs", "Endpoint": try #require(queueARN),
                "Attributes.entry.1.key": "RawMessageDelivery", "Attributes.entry.1.value": "true",
            ])

            let message = #"{"orderId":"1001","total":"2 + 2 = 4","note":"a&b=c ü"}"#
            let published = try await client.query(.sns, action: "Publish", parameters: ["TopicArn": topicARN, "Message": message])
            let messageID = try #require(published.value(at: "PublishResult", "MessageId"))
            #expect(!messageID.isEmpty)
            #expect(published.value(at: "ResponseMetadata", "RequestId")?.isEmpty == false)

            let received = try await client.json(.sqs, operation: "ReceiveMessage", input: ReceiveMessageInput(
                QueueUrl: queueURL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1
            ), as: ReceiveMessageOutput.self)
            #expect(received.Messages?.first?.Body == message)
        }
    }

    // MARK: REST-XML — S3

    @Test func s3CreateBucketPutGetListHeadObject() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            let bucket = uniqueName("orderflow-uploads")
            let createdBucket = try await client.s3("PUT", operation: "CreateBucket", bucket: bucket)
            #expect(createdBucket.status == 200)
            // A space, and `#` and `?`, which would end the path if they were not encoded.
            try await s3RoundTrip(client, bucket: bucket, key: "orders/2026 11/order #1001?.json")

            let missingHead = await #expect(throws: AWSClientError.self) {
                try await client.s3("HEAD", operation: "HeadObject", bucket: bucket, key: "orders/missing.json")
            }
            let headError = try #require(missingHead?.serviceError)
            #expect(headError.status == 404)
            #expect(headError.code == "NotFound")
            #expect(headError.requestID?.isEmpty == false)

            let missingGet = await #expect(throws: AWSClientError.self) {
                try await client.s3("GET", operation: "GetObject", bucket: bucket, key: "orders/missing one.json")
            }
            let getError = try #require(missingGet?.serviceError)
            #expect(getError.status == 404)
            #expect(getError.code == "NoSuchKey")
            #expect(getError.message?.isEmpty == false)
            #expect(getError.requestID?.isEmpty == false)
        }
        #expect(counter.counts(service: .s3, operation: "HeadObject") == .init(attempts: 2, retries: 0))
        #expect(counter.counts(service: .s3, operation: "GetObject") == .init(attempts: 2, retries: 0))
    }

    /// Keys with `+` and non-ASCII letters are signed as AWS specifies (`%2B`, UTF-8 percent-encoded; see
    /// `S3SigningTests` and `WireProtocolTests`), but moto 5.2.1 recomputes S3 signatures from Werkzeug's
    /// re-quoted URL, which leaves `+`, most other sub-delimiters and non-ASCII unescaped, so it rejects them; boto3's
    /// requests for such keys fail against it in the same way. When moto is fixed the known issue stops
    /// occurring and this test fails, asking for the wrapper to be removed.
    @Test func s3KeysWithPlusAndNonASCIILetters() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let bucket = uniqueName("orderflow-uploads")
            _ = try await client.s3("PUT", operation: "CreateBucket", bucket: bucket)
            try await withKnownIssue("moto 5.2.1 verifies S3 signatures against an unescaped `+`/non-ASCII path") {
                try await s3RoundTrip(client, bucket: bucket, key: "orders/2026 11/a+b ü.json")
            } matching: { issue in
                (issue.error as? AWSClientError)?.serviceError?.code == "SignatureDoesNotMatch"
            }
        }
    }

    /// Puts an object under `key`, reads it back, finds it listed under exactly that key and heads it.
    private func s3RoundTrip(_ client: AWSClient, bucket: String, key: String) async throws {
        let body = Array(#"{"orderId":"1001"}"#.utf8)
        let put = try await client.s3(
            "PUT", operation: "PutObject", bucket: bucket, key: key,
            headers: [SigV4Request.Header("Content-Type", "application/json")], body: body
        )
        #expect(put.header("ETag")?.isEmpty == false)

        let get = try await client.s3("GET", operation: "GetObject", bucket: bucket, key: key)
        #expect(get.body == body)
        #expect(get.header("Content-Type") == "application/json")

        // The listing shows the key exactly as written: encoded once on the way in, decoded once by S3.
        // (The prefix stops before the first `/`: moto 5.2.1 also mis-verifies query values containing `/`.)
        let prefix = String(key.prefix { $0 != "/" })
        let listing = try await client.s3(
            "GET", operation: "ListObjectsV2", bucket: bucket, query: [.init("list-type", "2"), .init("prefix", prefix)]
        )
        let document = try AWSXMLElement.parse(listing.body)
        #expect(document.children(named: "Contents").map { $0.value(at: "Key") } == [key])

        let head = try await client.s3("HEAD", operation: "HeadObject", bucket: bucket, key: key)
        #expect(head.header("Content-Length") == String(body.count))
    }
}
