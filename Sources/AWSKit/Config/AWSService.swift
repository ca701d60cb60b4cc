import Foundation

/// The identifiers of an AWS service that configuration and signing need.
public struct AWSService: Sendable, Hashable {
    /// The SDK service ID, e.g. `DynamoDB`; it names the `AWS_ENDPOINT_URL_<ID>` variable.
    public let id: String
    /// The first label of the default endpoint host, e.g. `monitoring` for CloudWatch.
    public let endpointPrefix: String
    /// The service name in the SigV4 credential scope.
    public let signingName: String

    /// Describes a service not predefined here.
    public init(id: String, endpointPrefix: String, signingName: String) {
        self.id = id
        self.endpointPrefix = endpointPrefix
        self.signingName = signingName
    }

    /// The suffix of the service's endpoint variable: the ID upper-cased with spaces as underscores.
    public var environmentSuffix: String {
        id.uppercased().replacingOccurrences(of: " ", with: "_")
    }

    /// Amazon DynamoDB.
    public static let dynamoDB = AWSService(id: "DynamoDB", endpointPrefix: "dynamodb", signingName: "dynamodb")
    /// Amazon S3.
    public static let s3 = AWSService(id: "S3", endpointPrefix: "s3", signingName: "s3")
    /// Amazon SQS.
    public static let sqs = AWSService(id: "SQS", endpointPrefix: "sqs", signingName: "sqs")
    /// Amazon SNS.
    public static let sns = AWSService(id: "SNS", endpointPrefix: "sns", signingName: "sns")
    /// Amazon Kinesis Data Streams.
    public static let kinesis = AWSService(id: "Kinesis", endpointPrefix: "kinesis", signingName: "kinesis")
    /// Amazon CloudWatch (metrics and alarms), whose endpoint and signing name are `monitoring`.
    public static let cloudWatch = AWSService(id: "CloudWatch", endpointPrefix: "monitoring", signingName: "monitoring")
}
