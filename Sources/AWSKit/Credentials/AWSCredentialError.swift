/// Why credentials could not be obtained; each description is one line saying what to fix.
///
/// No case carries a secret: endpoints are shown without user info or query, and response bodies
/// and authorization tokens are never included.
public enum AWSCredentialError: Error, Equatable, CustomStringConvertible {
    /// One provider in the chain and why it had nothing.
    public struct Attempt: Sendable, Equatable {
        /// The provider's name.
        public let provider: String
        /// Why it found nothing.
        public let reason: String

        /// Records an attempt.
        public init(provider: String, reason: String) {
            self.provider = provider
            self.reason = reason
        }
    }

    /// A source is half set up, e.g. an access key ID without its secret.
    case incomplete(source: String, missing: String)
    /// `AWS_PROFILE` names a profile that neither shared file defines.
    case profileNotFound(profile: String, searched: [String])
    /// Every provider in the chain came up empty.
    case noCredentials(attempts: [Attempt])
    /// A configured credentials endpoint that AWSKit refuses to call (malformed, wrong scheme or host); nothing was sent.
    case endpointNotAllowed(variable: String, endpoint: String, reason: String)
    /// No HTTP answer from a credentials endpoint: connection refused, host unreachable or timed out.
    case endpointUnreachable(source: String, endpoint: String, reason: String)
    /// A credentials endpoint answered with an HTTP status other than 200.
    case endpointStatus(source: String, endpoint: String, status: Int)
    /// A credentials endpoint answered 200 with something that is not a usable credentials document.
    case invalidResponse(source: String, endpoint: String, reason: String)
    /// The container authorization token (from a variable or a file) cannot be read or sent.
    case unusableAuthorizationToken(source: String, reason: String)

    /// One readable line naming what to set.
    public var description: String {
        switch self {
        case .incomplete(let source, let missing):
            return "AWS credentials from \(source) are incomplete: \(missing) is missing"
        case .profileNotFound(let profile, let searched):
            let files = searched.isEmpty ? "no shared files (HOME is not set)" : searched.joined(separator: " or ")
            return "AWS profile \"\(profile)\" (from AWS_PROFILE) is not defined in \(files)"
        case .noCredentials(let attempts):
            let tried = attempts.map { "\($0.provider): \($0.reason)" }.joined(separator: "; ")
            return "No AWS credentials found (\(tried)); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                + "or add aws_access_key_id and aws_secret_access_key to the profile in ~/.aws/credentials"
        case .endpointNotAllowed(let variable, let endpoint, let reason):
            return "\(variable)=\(endpoint) is not used: \(reason)"
        case .endpointUnreachable(let source, let endpoint, let reason):
            return "\(source) credentials endpoint \(endpoint) did not answer: \(reason)"
        case .endpointStatus(let source, let endpoint, let status):
            let hint = status == 401 || status == 403 ? " (the request's token was refused)" : ""
            return "\(source) credentials endpoint \(endpoint) answered HTTP \(status)\(hint)"
        case .invalidResponse(let source, let endpoint, let reason):
            return "\(source) credentials endpoint \(endpoint) sent an unusable credentials document: \(reason)"
        case .unusableAuthorizationToken(let source, let reason):
            return "container authorization token from \(source) cannot be used: \(reason)"
        }
    }
}
