/// The AWS REST-XML protocol as S3 speaks it: the resource in the path, parameters in the query and headers,
/// XML or raw bytes in the body; errors as `<Error><Code>`, or nothing at all for `HEAD`.
public struct AWSRESTXMLProtocol: AWSWireProtocol {
    /// The service the requests go to.
    public let service: AWSService
    /// The service's SigV4 rules.
    public let signingOptions: SigV4Options

    /// Describes a service's use of the REST-XML protocol.
    public init(service: AWSService, signingOptions: SigV4Options) {
        self.service = service
        self.signingOptions = signingOptions
    }

    /// S3, signed with its own rules (single-encoded, unnormalised path; `x-amz-content-sha256`).
    public static let s3 = AWSRESTXMLProtocol(service: .s3, signingOptions: .s3)

    /// The path-style path of a bucket or an object: `/<bucket>` or `/<bucket>/<key>`, the key percent-encoded
    /// once with its slashes kept (`a b+c/d` → `a%20b%2Bc/d`).
    ///
    /// Path style because endpoint overrides (moto, LocalStack) are a single host with no per-bucket names.
    public static func path(bucket: String, key: String? = nil) -> String {
        let bucketPath = "/" + AWSURIEncoding.encode(bucket)
        guard let key else { return bucketPath }
        return bucketPath + "/" + AWSURIEncoding.encodePath(key)
    }

    /// The code, message and request ID of the `<Error>` document; a bodiless error (`HEAD`) is named by its status,
    /// e.g. 404 → `NotFound`.
    public func decodeError(_ response: AWSHTTPResponse, operation: String) -> AWSServiceError {
        ErrorBody.serviceError(from: response, service: service, operation: operation)
    }
}

extension AWSClient {
    /// Sends an S3 request for a bucket or an object and returns the raw response.
    public func s3(
        _ method: String,
        operation: String,
        bucket: String,
        key: String? = nil,
        query: [SigV4Request.QueryParameter] = [],
        headers: [SigV4Request.Header] = [],
        body: [UInt8] = [],
        timeout: Duration? = nil
    ) async throws(AWSClientError) -> AWSHTTPResponse {
        let request = AWSHTTPRequest(
            method: method,
            path: AWSRESTXMLProtocol.path(bucket: bucket, key: key),
            query: query,
            headers: headers,
            body: body
        )
        return try await send(request, operation: operation, using: AWSRESTXMLProtocol.s3, timeout: timeout)
    }
}
