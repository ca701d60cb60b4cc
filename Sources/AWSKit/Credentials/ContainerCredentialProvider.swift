import AsyncHTTPClient

/// Credentials of an ECS task role or EKS Pod Identity association, from the container credentials endpoint.
///
/// Applies when `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS: `http://169.254.170.2<uri>`) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set; with a full URI, `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
/// or `AWS_CONTAINER_AUTHORIZATION_TOKEN` is sent as the `Authorization` header. Every call fetches;
/// wrap it in `RefreshingCredentialProvider` (as `AWSCredentialChain.standard` does) to cache.
public struct ContainerCredentialProvider: AWSCredentialProvider {
    private let environment: [String: String]
    private let client: CredentialEndpointClient

    /// Reads the endpoint from `environment`; `timeout` bounds each request, connecting included.
    ///
    /// Without `httpClient`, a process-wide client with a 1 s connect timeout and no redirects is used.
    public init(environment: [String: String], httpClient: HTTPClient? = nil, timeout: Duration = .seconds(2)) {
        self.environment = environment
        client = CredentialEndpointClient(
            httpClient: httpClient ?? CredentialEndpointClient.defaultHTTPClient, timeout: timeout, source: "container"
        )
    }

    /// True when `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set.
    public static func isConfigured(environment: [String: String]) -> Bool {
        ContainerEndpoint.isConfigured(environment: environment)
    }

    /// Always `container`.
    public var name: String { "container" }

    /// `.notFound` when neither URI variable is set; otherwise the endpoint's credentials or the reason they are unusable.
    ///
    /// A URI that is not allowed is an error raised before any request is made.
    public func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        guard let endpoint = try ContainerEndpoint.resolve(environment: environment) else {
            return .notFound(
                reason: "\(ContainerEndpoint.relativeURIVariable) and \(ContainerEndpoint.fullURIVariable) are not set"
            )
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let authorization = try endpoint.authorizationHeader() {
            headers.append(("Authorization", authorization))
        }
        let response = try await client.send(.get, endpoint.url, headers: headers, shownAs: endpoint.shownAs)
        guard response.status == 200 else {
            throw .endpointStatus(source: name, endpoint: endpoint.shownAs, status: response.status)
        }
        return .found(try CredentialDocument.credentials(from: response.body, source: name, endpoint: endpoint.shownAs))
    }
}
