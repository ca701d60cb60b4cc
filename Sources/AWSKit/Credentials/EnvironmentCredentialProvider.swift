/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: AWSCredentialProvider {
    private let environment: [String: String]

    /// Reads from the given variables (the process environment, captured once by the caller).
    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// Always `environment`.
    public var name: String { "environment" }

    /// Both key variables set gives credentials; neither is `.notFound`; only one is an error.
    public func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        let accessKeyID = environment.nonEmpty("AWS_ACCESS_KEY_ID")
        let secret = environment.nonEmpty("AWS_SECRET_ACCESS_KEY")
        switch (accessKeyID, secret) {
        case let (accessKeyID?, secret?):
            return .found(AWSCredentials(
                accessKeyID: accessKeyID,
                secretAccessKey: secret,
                sessionToken: environment.nonEmpty("AWS_SESSION_TOKEN")
            ))
        case (nil, nil):
            return .notFound(reason: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        case (nil, _?):
            throw .incomplete(source: "the environment", missing: "AWS_ACCESS_KEY_ID")
        case (_?, nil):
            throw .incomplete(source: "the environment", missing: "AWS_SECRET_ACCESS_KEY")
        }
    }
}
