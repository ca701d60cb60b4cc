/// Why an AWS call failed, after any retries.
public enum AWSClientError: Error, Sendable, CustomStringConvertible {
    /// The service answered with an error.
    case service(AWSServiceError)
    /// No usable response arrived: timeout, refused or reset connection, oversized body.
    case transport(AWSTransportError)
    /// No credentials could be obtained to sign the request.
    case credentials(AWSCredentialError)
    /// The request could not be built, e.g. the endpoint and path do not form a URL.
    case invalidRequest(service: AWSService, operation: String, reason: String)
    /// A successful response whose body did not decode as the protocol promised.
    case malformedResponse(service: AWSService, operation: String, reason: String)
    /// The calling task was cancelled.
    case cancelled

    /// The service error, if that is what this is.
    public var serviceError: AWSServiceError? {
        if case .service(let error) = self {
            return error
        }
        return nil
    }

    /// One line saying what failed and why.
    public var description: String {
        switch self {
        case .service(let error):
            return error.description
        case .transport(let error):
            return error.description
        case .credentials(let error):
            return error.description
        case .invalidRequest(let service, let operation, let reason):
            return "\(service.id) \(operation): cannot build the request: \(reason)"
        case .malformedResponse(let service, let operation, let reason):
            return "\(service.id) \(operation): unreadable response: \(reason)"
        case .cancelled:
            return "AWS call cancelled"
        }
    }
}

/// A call that got no usable HTTP response.
public struct AWSTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong on the wire.
    public enum Kind: Sendable, Equatable {
        /// No complete response within the per-request timeout.
        case timeout
        /// The connection could not be made, or broke (reset, closed early) before a response arrived.
        case connection
        /// The response body was larger than the client accepts.
        case responseTooLarge
        /// Anything else the HTTP client reported; not retried, because it is not known to be transient.
        case other
    }

    /// The service called.
    public let service: AWSService
    /// The operation called.
    public let operation: String
    /// The kind of failure, which decides whether it is retried.
    public let kind: Kind
    /// How many attempts were made in all.
    public let attempts: Int
    /// The underlying error, as text.
    public let detail: String

    /// Creates a transport error from its parts.
    public init(service: AWSService, operation: String, kind: Kind, attempts: Int, detail: String) {
        self.service = service
        self.operation = operation
        self.kind = kind
        self.attempts = attempts
        self.detail = detail
    }

    /// `<Service> <Operation>: <kind> after <n> attempt(s): <detail>`.
    public var description: String {
        let what = switch kind {
        case .timeout: "timed out"
        case .connection: "connection failed"
        case .responseTooLarge: "response too large"
        case .other: "HTTP client error"
        }
        return "\(service.id) \(operation): \(what) after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(detail)"
    }
}
