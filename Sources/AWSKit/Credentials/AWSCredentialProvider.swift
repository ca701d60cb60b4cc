/// A source of AWS credentials, one link of an `AWSCredentialChain`.
public protocol AWSCredentialProvider: Sendable {
    /// A short name for messages, e.g. `environment` or `profile "default"`.
    var name: String { get }

    /// Looks for credentials: `.notFound` when this source is simply not set up (the chain moves on),
    /// a thrown `AWSCredentialError` when it is set up but unusable (the chain stops, rather than
    /// silently falling through to a different identity).
    func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution
}

/// What one provider found.
public enum AWSCredentialResolution: Sendable, Equatable {
    /// Usable credentials.
    case found(AWSCredentials)
    /// Nothing configured here, with the reason shown if no provider finds any.
    case notFound(reason: String)
}
