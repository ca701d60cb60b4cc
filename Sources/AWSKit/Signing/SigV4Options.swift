/// Per-service variations of SigV4 signing.
public struct SigV4Options: Sendable, Hashable {
    /// Remove `.`/`..` segments and collapse `//` before signing; S3 must not, since keys may contain them.
    public var normalizePath: Bool
    /// Encode the (already encoded) wire path a second time; every service but S3 expects this.
    public var doubleEncodePath: Bool
    /// Sign without the session token and add `X-Amz-Security-Token` afterwards (some services, e.g. IoT, want this).
    public var omitSessionToken: Bool
    /// Send and sign `x-amz-content-sha256` with the payload hash (S3 requires it); header signing only,
    /// since a presigned URL carries no headers of the signer's choosing.
    public var addContentSHA256Header: Bool

    /// Creates options; the defaults are right for every service except S3.
    public init(
        normalizePath: Bool = true,
        doubleEncodePath: Bool = true,
        omitSessionToken: Bool = false,
        addContentSHA256Header: Bool = false
    ) {
        self.normalizePath = normalizePath
        self.doubleEncodePath = doubleEncodePath
        self.omitSessionToken = omitSessionToken
        self.addContentSHA256Header = addContentSHA256Header
    }

    /// The rules for S3: paths signed as sent (single-encoded, not normalised) and `x-amz-content-sha256` signed.
    public static let s3 = SigV4Options(normalizePath: false, doubleEncodePath: false, addContentSHA256Header: true)
}
