import Crypto
import Foundation

/// Signs requests for one service in one region with AWS Signature Version 4.
///
/// Free of HTTP-client types and of I/O: credentials and time are passed in per call, so a
/// retried request is simply signed again with fresh credentials and a fresh date.
public struct SigV4Signer: Sendable {
    /// The region in the credential scope, e.g. `us-east-1`.
    public let region: String
    /// The signing name of the service in the credential scope, e.g. `dynamodb` or `s3`.
    public let service: String
    /// The per-service signing variations.
    public let options: SigV4Options
    private let keyCache = SigningKeyCache()

    static let algorithm = "AWS4-HMAC-SHA256"
    /// Presigned URLs may live at most seven days.
    static let maximumExpirySeconds: Int64 = 604_800

    /// Creates a signer for a region and service signing name.
    public init(region: String, service: String, options: SigV4Options = SigV4Options()) {
        self.region = region
        self.service = service
        self.options = options
    }

    /// Signs `request` for the `Authorization` header at `date`.
    public func signHeaders(_ request: SigV4Request, credentials: AWSCredentials, date: Date) -> SigV4HeaderSignature {
        let timestamp = AMZTimestamp(date)
        let payloadHash = request.payload.payloadHash
        var added = [SigV4Request.Header("X-Amz-Date", timestamp.dateTime)]
        if options.addContentSHA256Header {
            added.append(SigV4Request.Header("X-Amz-Content-Sha256", payloadHash))
        }
        let token = credentials.sessionToken.map { SigV4Request.Header("X-Amz-Security-Token", $0) }
        if let token, !options.omitSessionToken {
            added.append(token)
        }
        let canonical = CanonicalRequest(
            method: request.method,
            path: request.path,
            query: request.query,
            headers: Self.signableHeaders(request.headers) + added,
            payloadHash: payloadHash,
            options: options
        )
        let scope = credentialScope(timestamp)
        let stringToSign = Self.stringToSign(canonical.text, timestamp: timestamp, scope: scope)
        let signature = sign(stringToSign, secret: credentials.secretAccessKey, timestamp: timestamp)
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        if let token, options.omitSessionToken {
            added.append(token)
        }
        added.append(SigV4Request.Header("Authorization", authorization))
        return SigV4HeaderSignature(
            canonicalRequest: canonical.text,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: canonical.signedHeaders,
            authorization: authorization,
            headersToAdd: added
        )
    }

    /// Presigns `request` at `date` as query parameters valid for `expiresIn` (whole seconds, 1 s to 7 days).
    public func presign(
        _ request: SigV4Request,
        credentials: AWSCredentials,
        date: Date,
        expiresIn: Duration
    ) throws(SigV4Error) -> SigV4QuerySignature {
        let expirySeconds = expiresIn.components.seconds
        guard (1...Self.maximumExpirySeconds).contains(expirySeconds) else {
            throw .expiryOutOfRange(seconds: expirySeconds)
        }
        let timestamp = AMZTimestamp(date)
        let scope = credentialScope(timestamp)
        let headers = Self.signableHeaders(request.headers)
        let signedHeaders = CanonicalRequest.canonicalHeaders(headers).map(\.name).joined(separator: ";")
        var query = request.query.filter { !Self.presignParameterNames.contains($0.name) }
        query += [
            SigV4Request.QueryParameter("X-Amz-Algorithm", Self.algorithm),
            SigV4Request.QueryParameter("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            SigV4Request.QueryParameter("X-Amz-Date", timestamp.dateTime),
            SigV4Request.QueryParameter("X-Amz-Expires", String(expirySeconds)),
            SigV4Request.QueryParameter("X-Amz-SignedHeaders", signedHeaders),
        ]
        let token = credentials.sessionToken.map { SigV4Request.QueryParameter("X-Amz-Security-Token", $0) }
        if let token, !options.omitSessionToken {
            query.append(token)
        }
        let canonical = CanonicalRequest(
            method: request.method,
            path: request.path,
            query: query,
            headers: headers,
            payloadHash: request.payload.payloadHash,
            options: options
        )
        let stringToSign = Self.stringToSign(canonical.text, timestamp: timestamp, scope: scope)
        let signature = sign(stringToSign, secret: credentials.secretAccessKey, timestamp: timestamp)
        if let token, options.omitSessionToken {
            query.append(token)
        }
        query.append(SigV4Request.QueryParameter("X-Amz-Signature", signature))
        return SigV4QuerySignature(
            canonicalRequest: canonical.text,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: canonical.signedHeaders,
            query: query
        )
    }

    private func credentialScope(_ timestamp: AMZTimestamp) -> String {
        "\(timestamp.date)/\(region)/\(service)/aws4_request"
    }

    private func sign(_ stringToSign: String, secret: String, timestamp: AMZTimestamp) -> String {
        let key = keyCache.key(secret: secret, date: timestamp.date, region: region, service: service)
        return HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key).hexString
    }

    private static func stringToSign(_ canonicalRequest: String, timestamp: AMZTimestamp, scope: String) -> String {
        let hash = SHA256.hash(data: Array(canonicalRequest.utf8)).hexString
        return "\(algorithm)\n\(timestamp.dateTime)\n\(scope)\n\(hash)"
    }

    /// The caller's headers minus those the signer owns and those that must not be signed.
    private static func signableHeaders(_ headers: [SigV4Request.Header]) -> [SigV4Request.Header] {
        headers.filter { !unsignedHeaderNames.contains($0.name.lowercased()) }
    }

    /// Headers the signer sets itself (a stale copy from an earlier attempt must not be signed twice),
    /// plus hop-by-hop and agent headers that proxies and tracing may rewrite in transit.
    private static let unsignedHeaderNames: Set<String> = [
        "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
        "user-agent", "x-amzn-trace-id",
        "connection", "keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect",
    ]

    /// Query parameters the presigner sets itself; copies from an earlier presign are dropped.
    private static let presignParameterNames: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
    ]
}
