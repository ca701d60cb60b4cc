import Foundation

/// Requests to the EC2 instance metadata service under an IMDSv2 session token.
///
/// IMDSv2 is the only protocol spoken: every metadata GET carries `X-aws-ec2-metadata-token`,
/// obtained by `PUT /latest/api/token`. There is deliberately no IMDSv1 fallback (a GET without a
/// token), since our launch template requires IMDSv2 and the fallback is what SSRF attacks use.
actor InstanceMetadataSession {
    static let tokenPath = "/latest/api/token"
    static let tokenHeader = "X-aws-ec2-metadata-token"
    static let tokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
    /// The largest TTL IMDS grants (6 hours).
    static let maximumTokenTTLSeconds = 21_600

    private let client: CredentialEndpointClient
    private let endpoint: String
    private let tokenTTLSeconds: Int
    private let now: @Sendable () -> Date
    /// The token and when to stop using it; never printed (the actor has no description of its own).
    private var token: (value: String, renewAt: Date)?

    init(client: CredentialEndpointClient, endpoint: String, tokenTTLSeconds: Int, now: @escaping @Sendable () -> Date) {
        self.client = client
        self.endpoint = endpoint
        self.tokenTTLSeconds = min(max(tokenTTLSeconds, 1), Self.maximumTokenTTLSeconds)
        self.now = now
    }

    /// GETs `path` (starting with `/latest/`) under a session token.
    ///
    /// A 401 means the token expired or was revoked early (IMDS restarts, instance stop/start),
    /// so the token is replaced once and the request repeated; a second 401 is returned as is.
    func get(_ path: String) async throws(AWSCredentialError) -> CredentialEndpointClient.Response {
        let firstToken = try await currentToken()
        let response = try await send(path, token: firstToken)
        guard response.status == 401 else { return response }
        if token?.value == firstToken {
            token = nil
        }
        return try await send(path, token: try await currentToken())
    }

    /// The endpoint plus `path`, as requests are sent and errors show it.
    func url(_ path: String) -> String {
        endpoint + path
    }

    private func send(_ path: String, token: String) async throws(AWSCredentialError) -> CredentialEndpointClient.Response {
        try await client.send(.get, url(path), headers: [(Self.tokenHeader, token)], shownAs: url(path))
    }

    private func currentToken() async throws(AWSCredentialError) -> String {
        if let token, now() < token.renewAt {
            return token.value
        }
        let response = try await client.send(
            .put, url(Self.tokenPath), headers: [(Self.tokenTTLHeader, String(tokenTTLSeconds))], shownAs: url(Self.tokenPath)
        )
        guard response.status == 200 else {
            throw .endpointStatus(source: client.source, endpoint: url(Self.tokenPath), status: response.status)
        }
        let value = response.body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty, !value.contains(where: \.isNewline) else {
            throw .invalidResponse(
                source: client.source, endpoint: url(Self.tokenPath), reason: "the session token is empty or spans lines"
            )
        }
        // Renew a little before IMDS would reject the token: a minute early, or a tenth of a short TTL.
        let margin = min(60, Double(tokenTTLSeconds) / 10)
        token = (value, now().addingTimeInterval(Double(tokenTTLSeconds) - margin))
        return value
    }
}
