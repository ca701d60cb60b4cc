/// A source of AWS credentials, one link of an `AWSCredentialChain`.
///
/// Every provider prints as its type and name only (see the extension below), because what a
/// provider stores (a captured environment, parsed profile files, an authorization token, a
/// cached token or credentials) can hold secrets that must never reach a log line.
public protocol AWSCredentialProvider: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A short name for messages, e.g. `environment` or `profile "default"`; it must never contain a secret.
    var name: String { get }

    /// Looks for credentials: `.notFound` when this source is simply not set up (the chain moves on),
    /// a thrown `AWSCredentialError` when it is set up but unusable (the chain stops, rather than
    /// silently falling through to a different identity).
    func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution
}

extension AWSCredentialProvider {
    /// The type and name, e.g. `EnvironmentCredentialProvider(environment)`; never any stored value.
    public var description: String { "\(Self.self)(\(name))" }

    /// The same as `description`, so `debugPrint` and string interpolation of containers stay safe.
    public var debugDescription: String { description }

    /// A mirror showing only the name, because `dump` and debuggers walk mirrors, not descriptions.
    public var customMirror: Mirror { Mirror(self, children: ["name": name], displayStyle: .struct) }
}

/// What one provider found.
public enum AWSCredentialResolution: Sendable, Equatable {
    /// Usable credentials.
    case found(AWSCredentials)
    /// Nothing configured here, with the reason shown if no provider finds any.
    case notFound(reason: String)
}
