/// Why credentials could not be obtained; each description is one line saying what to fix.
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
        }
    }
}
