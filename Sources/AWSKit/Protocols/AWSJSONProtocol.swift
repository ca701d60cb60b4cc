import Foundation

/// The AWS JSON protocol (versions 1.0 and 1.1) as one service speaks it: `POST /` with the operation in
/// `X-Amz-Target` and the input as a JSON object; errors named by `__type`.
public struct AWSJSONProtocol: AWSWireProtocol {
    /// The protocol version, which only changes the content type.
    public enum Version: String, Sendable, Hashable {
        /// `application/x-amz-json-1.0` (DynamoDB, SQS).
        case v1_0 = "1.0"
        /// `application/x-amz-json-1.1` (Kinesis).
        case v1_1 = "1.1"
    }

    /// The service the requests go to.
    public let service: AWSService
    /// The protocol version.
    public let version: Version
    /// The service's target prefix, e.g. `DynamoDB_20120810`; the target is `<prefix>.<Operation>`.
    public let targetPrefix: String

    /// Describes a service's use of the JSON protocol.
    public init(service: AWSService, version: Version, targetPrefix: String) {
        self.service = service
        self.version = version
        self.targetPrefix = targetPrefix
    }

    /// DynamoDB: JSON 1.0, `DynamoDB_20120810`.
    public static let dynamoDB = AWSJSONProtocol(service: .dynamoDB, version: .v1_0, targetPrefix: "DynamoDB_20120810")
    /// SQS: JSON 1.0, `AmazonSQS` (SQS moved from the query protocol in 2023 and still reports query-era codes).
    public static let sqs = AWSJSONProtocol(service: .sqs, version: .v1_0, targetPrefix: "AmazonSQS")
    /// Kinesis: JSON 1.1, `Kinesis_20131202`.
    public static let kinesis = AWSJSONProtocol(service: .kinesis, version: .v1_1, targetPrefix: "Kinesis_20131202")

    /// Default SigV4 rules.
    public var signingOptions: SigV4Options { SigV4Options() }

    /// `application/x-amz-json-<version>`.
    public var contentType: String { "application/x-amz-json-\(version.rawValue)" }

    /// The request for `operation` with an already encoded JSON body.
    public func request(operation: String, body: [UInt8]) -> AWSHTTPRequest {
        AWSHTTPRequest(
            method: "POST",
            path: "/",
            headers: [
                SigV4Request.Header("Content-Type", contentType),
                SigV4Request.Header("X-Amz-Target", "\(targetPrefix).\(operation)"),
            ],
            body: body
        )
    }

    /// `input` as a JSON body: timestamps as epoch seconds and blobs as base64, as the protocol defines them.
    public static func encode(_ input: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(input))
    }

    /// Decodes a response body; an empty body reads as `{}`, which some operations return as nothing at all.
    public static func decode<Output: Decodable>(_ type: Output.Type, from body: [UInt8]) throws -> Output {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: body.isEmpty ? Data("{}".utf8) : Data(body))
    }

    /// The code from `__type` (or `code`, or the `X-Amzn-ErrorType` header), overridden by the `x-amzn-query-error`
    /// header (`Code;Sender`) that query-compatible services such as SQS add, as the AWS SDKs do.
    public func decodeError(_ response: AWSHTTPResponse, operation: String) -> AWSServiceError {
        let body = ErrorBody.read(response.body)
        let errorType = body?.code ?? response.header("X-Amzn-ErrorType").map(ErrorBody.sanitizedCode)
        let queryCode = response.header("x-amzn-query-error")
            .flatMap { $0.split(separator: ";", maxSplits: 1).first }
            .map { String($0).trimmingCharacters(in: .whitespaces) }
            .flatMap { $0.isEmpty ? nil : $0 }
        return AWSServiceError(
            service: service,
            operation: operation,
            status: response.status,
            code: queryCode ?? errorType ?? AWSServiceError.code(forStatus: response.status),
            errorType: queryCode == nil ? nil : errorType,
            message: body?.message,
            requestID: response.requestID ?? body?.requestID
        )
    }
}

extension AWSClient {
    /// Calls a JSON-protocol `operation` with `input` encoded as its body and decodes the response as `Output`.
    public func json<Output: Decodable>(
        _ api: AWSJSONProtocol,
        operation: String,
        input: some Encodable,
        as output: Output.Type = Output.self,
        timeout: Duration? = nil
    ) async throws(AWSClientError) -> Output {
        let body: [UInt8]
        do {
            body = try AWSJSONProtocol.encode(input)
        } catch {
            throw .invalidRequest(service: api.service, operation: operation, reason: "cannot encode the input as JSON: \(error)")
        }
        let response = try await send(api.request(operation: operation, body: body), operation: operation, using: api, timeout: timeout)
        do {
            return try AWSJSONProtocol.decode(output, from: response.body)
        } catch {
            throw .malformedResponse(service: api.service, operation: operation, reason: "\(error)")
        }
    }
}
