/// A complete HTTP response from an AWS endpoint: status, headers and the collected body.
public struct AWSHTTPResponse: Sendable, Equatable {
    /// The HTTP status code.
    public let status: Int
    /// The response headers in the order received.
    public let headers: [SigV4Request.Header]
    /// The body bytes (empty for none, e.g. for `HEAD`).
    public let body: [UInt8]

    /// Creates a response from its parts.
    public init(status: Int, headers: [SigV4Request.Header], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared case-insensitively as HTTP requires.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The request ID from the headers: `x-amzn-RequestId` (JSON and query services) or `x-amz-request-id` (S3).
    public var requestID: String? {
        header("x-amzn-RequestId") ?? header("x-amz-request-id")
    }

    /// Whether the status is 2xx; anything else is decoded as a service error.
    public var isSuccess: Bool {
        (200..<300).contains(status)
    }
}
