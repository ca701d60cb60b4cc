/// The result of signing with the `Authorization` header, with the intermediate texts for inspection.
public struct SigV4HeaderSignature: Sendable, Equatable {
    /// The canonical request that was hashed.
    public let canonicalRequest: String
    /// The string to sign built from the canonical request's hash.
    public let stringToSign: String
    /// The hex-encoded signature.
    public let signature: String
    /// The `SignedHeaders` list, e.g. `host;x-amz-date`.
    public let signedHeaders: String
    /// The complete `Authorization` header value.
    public let authorization: String
    /// Headers to add to the request as sent: `X-Amz-Date`, optional content hash and token, then `Authorization`.
    public let headersToAdd: [SigV4Request.Header]
}

/// The result of presigning: query parameters that authorise the request without any header.
public struct SigV4QuerySignature: Sendable, Equatable {
    /// The canonical request that was hashed.
    public let canonicalRequest: String
    /// The string to sign built from the canonical request's hash.
    public let stringToSign: String
    /// The hex-encoded signature.
    public let signature: String
    /// The `X-Amz-SignedHeaders` list, e.g. `host`.
    public let signedHeaders: String
    /// Every query parameter to send, decoded: the request's own, the `X-Amz-*` ones and `X-Amz-Signature`.
    public let query: [SigV4Request.QueryParameter]

    /// The query string to put after `?`, encoded exactly as it was signed.
    public var encodedQuery: String {
        query.map { AWSURIEncoding.encode($0.name) + "=" + AWSURIEncoding.encode($0.value) }.joined(separator: "&")
    }
}

/// A request that cannot be signed as asked.
public enum SigV4Error: Error, Equatable, CustomStringConvertible {
    /// Presigned URLs must expire between one second and seven days after signing.
    case expiryOutOfRange(seconds: Int64)

    /// A one-line explanation naming the allowed range.
    public var description: String {
        switch self {
        case .expiryOutOfRange(let seconds):
            return "presigned URL expiry of \(seconds)s is outside the range SigV4 allows (1 to 604800 seconds)"
        }
    }
}
