import Crypto

/// How a request body takes part in a signature.
public enum SigV4Payload: Sendable, Equatable {
    /// No body; hashed as the empty string.
    case empty
    /// The body bytes, hashed when signing.
    case bytes([UInt8])
    /// A lower-case SHA-256 hex digest computed elsewhere, e.g. while streaming a large upload; used verbatim.
    case precomputedSHA256(String)
    /// `UNSIGNED-PAYLOAD`: accepted by S3 (and required for presigned URLs) so bodies need not be hashed.
    case unsigned

    /// The value placed on the last line of the canonical request and in `x-amz-content-sha256`.
    public var payloadHash: String {
        switch self {
        case .empty:
            return Self.emptySHA256
        case .bytes(let bytes):
            return SHA256.hash(data: bytes).hexString
        case .precomputedSHA256(let digest):
            return digest
        case .unsigned:
            return "UNSIGNED-PAYLOAD"
        }
    }

    /// SHA-256 of zero bytes, precomputed because most signed requests have no body.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
