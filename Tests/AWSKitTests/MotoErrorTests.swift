import AWSKit
import MotoTestSupport
import Foundation
import Testing

/// Error responses from moto server (authentication and IAM authorization on), decoded per protocol.
@Suite("Service errors from moto")
struct MotoErrorTests {
    struct TableNameInput: Encodable {
        let TableName: String
    }

    struct QueueNameInput: Encodable {
        let QueueName: String
    }

    struct NoInput: Encodable {}

    struct Nothing: Decodable {}

    static let iam = AWSQueryProtocol(service: AWSService(id: "IAM", endpointPrefix: "iam", signingName: "iam"), apiVersion: "2010-05-08")
    static let sts = AWSQueryProtocol(service: AWSService(id: "STS", endpointPrefix: "sts", signingName: "sts"), apiVersion: "2011-06-15")
    static let secretsManager = AWSJSONProtocol(
        service: AWSService(id: "Secrets Manager", endpointPrefix: "secretsmanager", signingName: "secretsmanager"),
        version: .v1_1, targetPrefix: "secretsmanager"
    )

    /// The service error `call` fails with, recording an issue if it fails any other way or succeeds.
    private func serviceError(_ call: () async throws -> some Any) async -> AWSServiceError? {
        let error = await #expect(throws: AWSClientError.self) {
            _ = try await call()
        }
        if let error, error.serviceError == nil {
            Issue.record("expected a service error, got \(error)")
        }
        return error?.serviceError
    }

    @Test func dynamoDBResourceNotFound() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            let error = await serviceError {
                try await client.json(.dynamoDB, operation: "DescribeTable", input: TableNameInput(TableName: uniqueName("absent")), as: Nothing.self)
            }
            #expect(error?.code == "ResourceNotFoundException")
            #expect(error?.status == 400)
            #expect(error?.operation == "DescribeTable")
            #expect(error?.message?.contains("not found") == true)
            #expect(error?.requestID?.isEmpty == false)
        }
        #expect(counter.counts(service: .dynamoDB, operation: "DescribeTable") == .init(attempts: 1, retries: 0))
        #expect(counter.errors(service: .dynamoDB, operation: "DescribeTable") == ["ResourceNotFoundException": 1])
        #expect(counter.errorSnapshot().count == 1)
    }

    @Test func sqsNonExistentQueue() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let error = await serviceError {
                try await client.json(.sqs, operation: "GetQueueUrl", input: QueueNameInput(QueueName: uniqueName("absent")), as: Nothing.self)
            }
            #expect(error?.code == "AWS.SimpleQueueService.NonExistentQueue")
            #expect(error?.errorType == "QueueDoesNotExist")
            #expect(error?.status == 400)
            #expect(error?.requestID?.isEmpty == false)
        }
    }

    @Test func snsTopicNotFound() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let error = await serviceError {
                try await client.query(.sns, action: "GetTopicAttributes", parameters: [
                    "TopicArn": "arn:aws:sns:\(moto.region):123456789012:\(uniqueName("absent"))",
                ])
            }
            #expect(error?.code == "NotFound")
            #expect(error?.status == 404)
            #expect(error?.message == "Topic does not exist")
            #expect(error?.requestID?.isEmpty == false)
        }
    }

    @Test func s3NoSuchBucket() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let error = await serviceError {
                try await client.s3("GET", operation: "GetObject", bucket: uniqueName("absent"), key: "a.json")
            }
            #expect(error?.code == "NoSuchBucket")
            #expect(error?.status == 404)
            #expect(error?.requestID?.isEmpty == false)
        }
    }

    /// A request signed with the wrong secret, per protocol: 403 `SignatureDoesNotMatch`, never retried.
    @Test(arguments: ["DynamoDB", "Kinesis", "SQS", "SNS", "S3"])
    func aWrongSecretIsRejectedAndNotRetried(service: String) async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(secret: "not-the-secret-access-key", counter: counter)) { client in
            let error = await serviceError { () async throws(AWSClientError) -> Int in
                switch service {
                case "DynamoDB":
                    _ = try await client.json(.dynamoDB, operation: "ListTables", input: NoInput(), as: Nothing.self)
                case "Kinesis":
                    _ = try await client.json(.kinesis, operation: "ListStreams", input: NoInput(), as: Nothing.self)
                case "SQS":
                    _ = try await client.json(.sqs, operation: "ListQueues", input: NoInput(), as: Nothing.self)
                case "SNS":
                    _ = try await client.query(.sns, action: "ListTopics")
                default:
                    _ = try await client.s3("GET", operation: "GetObject", bucket: uniqueName("any"), key: "a.json")
                }
                return 0
            }
            #expect(error?.code == "SignatureDoesNotMatch")
            #expect(error?.status == 403)
            #expect(error?.requestID?.isEmpty == false)
        }
        #expect(counter.total() == .init(attempts: 1, retries: 0))
    }

    @Test func theTestPrincipalIsWhoTheClientSignsAs() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let identity = try await client.query(Self.sts, action: "GetCallerIdentity")
            #expect(identity.value(at: "GetCallerIdentityResult", "Arn")?.hasSuffix(":user/orderflow-test") == true)
        }
    }

    /// The test principal may use OrderFlow's services only, so these prove moto evaluates IAM policies.
    @Test func actionsOutsideThePrincipalsPolicyAreAccessDenied() async throws {
        let moto = try MotoEnvironment.require()
        let counter = AWSRequestCounter()
        try await withClient(try moto.client(counter: counter)) { client in
            let iamError = await serviceError {
                try await client.query(Self.iam, action: "ListUsers")
            }
            #expect(iamError?.code == "AccessDenied")
            #expect(iamError?.status == 403)
            #expect(iamError?.message?.contains("iam:ListUsers") == true)

            let jsonError = await serviceError {
                try await client.json(Self.secretsManager, operation: "ListSecrets", input: NoInput(), as: Nothing.self)
            }
            #expect(jsonError?.code == "AccessDenied")
            #expect(jsonError?.status == 403)
            #expect(jsonError?.requestID?.isEmpty == false)
        }
        #expect(counter.total() == .init(attempts: 2, retries: 0))
    }
}
