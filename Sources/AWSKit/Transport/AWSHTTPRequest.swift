/// One AWS API call as it goes on the wire, before signing: what a protocol encoder produces.
public struct AWSHTTPRequest: Sendable, Equatable {
    /// The HTTP method, upper case, e.g. `POST`.
    public var method: String
    /// The path below the service endpoint, already percent-encoded once (`/bucket/my%20key`).
    public var path: String
    /// The query parameters, decoded; the client encodes them exactly as they are signed.
    public var query: [SigV4Request.QueryParameter]
    /// Protocol headers such as `Content-Type` or `X-Amz-Target`; `Host` and the signature headers are added per attempt.
    public var headers: [SigV4Request.Header]
    /// The body bytes (empty for none).
    public var body: [UInt8]

    /// Creates a request from its parts.
    public init(
        method: String,
        path: String = "/",
        query: [SigV4Request.QueryParameter] = [],
        headers: [SigV4Request.Header] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}
