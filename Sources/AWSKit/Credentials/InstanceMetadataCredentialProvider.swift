import AsyncHTTPClient
import Foundation

/// Credentials of the EC2 instance profile's role, from the instance metadata service (IMDSv2 only).
///
/// Endpoint `http://169.254.169.254`, or `http://[fd00:ec2::254]` with
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`, or `AWS_EC2_METADATA_SERVICE_ENDPOINT`;
/// `AWS_EC2_METADATA_DISABLED=true` turns the provider off. The session token is kept across calls
/// (copies of a provider share it); credentials are fetched on every call, so wrap the provider in
/// `RefreshingCredentialProvider` (as `AWSCredentialChain.standard` does) to cache them.
public struct InstanceMetadataCredentialProvider: AWSCredentialProvider {
    static let disabledVariable = "AWS_EC2_METADATA_DISABLED"
    static let endpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
    static let endpointModeVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
    static let rolesPath = "/latest/meta-data/iam/security-credentials/"

    private let isDisabled: Bool
    /// Whether the endpoint came from `AWS_EC2_METADATA_SERVICE_ENDPOINT`, which makes an unreachable one an error.
    private let endpointIsExplicit: Bool
    private let session: Result<InstanceMetadataSession, AWSCredentialError>

    /// Reads the endpoint settings from `environment`; `timeout` bounds each request, connecting included.
    ///
    /// Without `httpClient`, a process-wide client with a 1 s connect timeout and no redirects is
    /// used; `now` is the clock that ages the session token (tests pass a fake one).
    public init(
        environment: [String: String],
        httpClient: HTTPClient? = nil,
        timeout: Duration = .seconds(1),
        tokenTTLSeconds: Int = 21_600,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(
            environment: environment, httpClient: httpClient, timeout: timeout, tokenTTLSeconds: tokenTTLSeconds, now: now,
            defaultEndpoint: nil
        )
    }

    /// `defaultEndpoint` replaces the link-local address used when no endpoint variable is set, so tests
    /// can exercise the off-EC2 behaviour without sending anything to 169.254.169.254.
    init(
        environment: [String: String],
        httpClient: HTTPClient?,
        timeout: Duration,
        tokenTTLSeconds: Int,
        now: @escaping @Sendable () -> Date,
        defaultEndpoint: String?
    ) {
        isDisabled = Self.isDisabled(environment: environment)
        endpointIsExplicit = environment.nonEmpty(Self.endpointVariable) != nil
        let client = CredentialEndpointClient(
            httpClient: httpClient ?? CredentialEndpointClient.defaultHTTPClient, timeout: timeout, source: "instance metadata"
        )
        session = Result { () throws(AWSCredentialError) in
            InstanceMetadataSession(
                client: client, endpoint: try Self.endpoint(environment: environment, default: defaultEndpoint),
                tokenTTLSeconds: tokenTTLSeconds, now: now
            )
        }
    }

    /// True when `AWS_EC2_METADATA_DISABLED` is `true` (any case), as in the AWS SDKs.
    public static func isDisabled(environment: [String: String]) -> Bool {
        environment[disabledVariable]?.lowercased() == "true"
    }

    /// Always `instance metadata`.
    public var name: String { "instance metadata" }

    /// The instance role's credentials; `.notFound` when disabled, when the instance has no role, or when
    /// the default endpoint does not answer (not on EC2). An explicitly set endpoint that does not answer is an error.
    public func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        if isDisabled {
            return .notFound(reason: "\(Self.disabledVariable) is true")
        }
        let session = try session.get()
        do {
            return try await fetch(session)
        } catch {
            if case .endpointUnreachable(_, let endpoint, let reason) = error, !endpointIsExplicit {
                return .notFound(reason: "no instance metadata service at \(endpoint) (\(reason)); not on EC2?")
            }
            throw error
        }
    }

    private func fetch(_ session: InstanceMetadataSession) async throws(AWSCredentialError) -> AWSCredentialResolution {
        let listing = try await session.get(Self.rolesPath)
        switch listing.status {
        case 200:
            break
        case 404:
            return .notFound(reason: "this instance has no IAM role (instance profile) attached")
        default:
            throw .endpointStatus(source: name, endpoint: await session.url(Self.rolesPath), status: listing.status)
        }
        // The listing names one role per line; an instance profile holds exactly one role.
        let role = listing.body.split(whereSeparator: \.isNewline).first.map {
            $0.trimmingCharacters(in: .whitespaces)
        } ?? ""
        guard Self.isRoleName(role) else {
            throw .invalidResponse(
                source: name, endpoint: await session.url(Self.rolesPath), reason: "the role listing names no valid IAM role"
            )
        }
        let path = Self.rolesPath + role
        let document = try await session.get(path)
        guard document.status == 200 else {
            throw .endpointStatus(source: name, endpoint: await session.url(path), status: document.status)
        }
        return .found(try CredentialDocument.credentials(from: document.body, source: name, endpoint: await session.url(path)))
    }

    /// IAM role names are 1–64 characters of letters, digits and `+=,.@_-`, so one is safe in a URL path.
    private static func isRoleName(_ text: String) -> Bool {
        let allowed = Set("+=,.@_-")
        return (1...64).contains(text.count) && text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || allowed.contains($0) }
    }

    /// The base URL without a trailing slash.
    private static func endpoint(
        environment: [String: String], default defaultEndpoint: String?
    ) throws(AWSCredentialError) -> String {
        if let explicit = environment.nonEmpty(endpointVariable) {
            guard let url = URL(string: explicit), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                url.host != nil
            else {
                throw .endpointNotAllowed(
                    variable: endpointVariable, endpoint: "<not a URL>",
                    reason: "it must be an absolute http(s) URL such as http://169.254.169.254"
                )
            }
            return explicit.hasSuffix("/") ? String(explicit.dropLast()) : explicit
        }
        switch environment.nonEmpty(endpointModeVariable)?.lowercased() {
        case nil, "ipv4":
            return defaultEndpoint ?? "http://169.254.169.254"
        case "ipv6":
            return defaultEndpoint ?? "http://[fd00:ec2::254]"
        case let other?:
            throw .endpointNotAllowed(variable: endpointModeVariable, endpoint: other, reason: "it must be IPv4 or IPv6")
        }
    }
}
