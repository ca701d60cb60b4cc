import OrderFlowCore

/// How callers prove who they are. Both may be on; with neither, every caller is anonymous with every scope (allowed
/// only on a loopback address, which the CLI enforces).
public struct AuthConfiguration: Sendable {
    public var apiKeys: APIKeys?
    public var jwt: JWTVerifier?

    public init(apiKeys: APIKeys? = nil, jwt: JWTVerifier? = nil) {
        self.apiKeys = apiKeys
        self.jwt = jwt
    }

    public var isEnabled: Bool { apiKeys != nil || jwt != nil }
    public static let none = AuthConfiguration()
}
