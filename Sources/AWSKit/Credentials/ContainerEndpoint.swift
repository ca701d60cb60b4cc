#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where the container credentials come from and how the request is authorized, read from the environment.
///
/// The rules are the AWS SDKs' (the "container credential provider" of the SDK reference guide):
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` wins and always means the ECS agent at 169.254.170.2;
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` may name any https URL, but plain http only to a loopback
/// address or the ECS / EKS Pod Identity agent addresses, so that the authorization token and the
/// credentials never cross a network in clear text.
struct ContainerEndpoint: Sendable, Equatable {
    static let relativeURIVariable = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
    static let fullURIVariable = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    static let tokenVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
    static let tokenFileVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
    /// The ECS agent's link-local address that relative URIs are resolved against.
    static let ecsAgentHost = "169.254.170.2"

    /// Where the `Authorization` header value comes from.
    enum Authorization: Sendable, Equatable {
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`, taken as is.
        case token(String)
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read before every request because EKS Pod Identity rotates it.
        case file(path: String)
    }

    /// The URL to call.
    let url: String
    /// `url` without user info or query, for messages.
    let shownAs: String
    /// The header source, if any; sent with either URI variable, as botocore does (the ECS agent ignores it).
    let authorization: Authorization?

    /// True when either URI variable is set, i.e. the container provider applies.
    static func isConfigured(environment: [String: String]) -> Bool {
        environment.nonEmpty(relativeURIVariable) != nil || environment.nonEmpty(fullURIVariable) != nil
    }

    /// The endpoint the environment selects; nil when neither variable is set, an error when the URI is not allowed.
    static func resolve(environment: [String: String]) throws(AWSCredentialError) -> ContainerEndpoint? {
        if let relative = environment.nonEmpty(relativeURIVariable) {
            let path = relative.hasPrefix("/") ? relative : "/" + relative
            let url = "http://\(ecsAgentHost)\(path)"
            guard let parsed = URL(string: url), parsed.host != nil else {
                throw .endpointNotAllowed(
                    variable: relativeURIVariable, endpoint: relative, reason: "it is not a URL path such as /v2/credentials/…"
                )
            }
            return ContainerEndpoint(url: url, shownAs: display(parsed), authorization: authorizationSource(in: environment))
        }
        guard let full = environment.nonEmpty(fullURIVariable) else { return nil }
        guard let parsed = URL(string: full), let scheme = parsed.scheme?.lowercased(), let host = parsed.host,
            !host.isEmpty
        else {
            throw .endpointNotAllowed(variable: fullURIVariable, endpoint: "<not a URL>", reason: "it is not an absolute URL")
        }
        let shownAs = display(parsed)
        switch scheme {
        case "https":
            break
        case "http":
            guard isAllowedPlainHTTPHost(host) else {
                throw .endpointNotAllowed(
                    variable: fullURIVariable, endpoint: shownAs,
                    reason: "plain http is only allowed to a loopback address, 169.254.170.2, 169.254.170.23 "
                        + "or fd00:ec2::23; use https for any other host"
                )
            }
        default:
            throw .endpointNotAllowed(
                variable: fullURIVariable, endpoint: shownAs, reason: "the scheme must be http or https"
            )
        }
        return ContainerEndpoint(url: full, shownAs: shownAs, authorization: authorizationSource(in: environment))
    }

    /// The token source, if any; the file wins over the variable as in the AWS SDKs (EKS Pod Identity sets the file).
    private static func authorizationSource(in environment: [String: String]) -> Authorization? {
        if let path = environment.nonEmpty(tokenFileVariable) {
            return .file(path: path)
        }
        return environment.nonEmpty(tokenVariable).map { .token($0) }
    }

    /// The `Authorization` header value to send now, if any.
    func authorizationHeader() throws(AWSCredentialError) -> String? {
        let value: String
        let source: String
        switch authorization {
        case nil:
            return nil
        case .token(let token):
            value = token
            source = Self.tokenVariable
        case .file(let path):
            source = path
            do {
                value = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw .unusableAuthorizationToken(
                    source: path, reason: "the file cannot be read as UTF-8 text (\(Self.tokenFileVariable))"
                )
            }
        }
        // Token files usually end with a newline; anything else that could split the header is refused.
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw .unusableAuthorizationToken(source: source, reason: "it is empty")
        }
        // Checked per scalar: Swift reads "\r\n" as one Character, which equals neither "\r" nor "\n".
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .unusableAuthorizationToken(source: source, reason: "it contains a line break or another control character")
        }
        return trimmed
    }

    /// Scheme, host, port and path only: user info and query can carry credentials.
    private static func display(_ url: URL) -> String {
        var host = url.host ?? "?"
        if host.contains(":"), !host.hasPrefix("[") {
            host = "[\(host)]"
        }
        let port = url.port.map { ":\($0)" } ?? ""
        return "\(url.scheme ?? "?")://\(host)\(port)\(url.path)"
    }

    /// Loopback (127.0.0.0/8, ::1, localhost), the ECS agent (169.254.170.2) and the EKS Pod Identity agent.
    static func isAllowedPlainHTTPHost(_ rawHost: String) -> Bool {
        var host = rawHost.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        if host == "localhost" {
            return true
        }
        if let v4 = ipv4Bytes(host) {
            return v4[0] == 127 || v4 == [169, 254, 170, 2] || v4 == [169, 254, 170, 23]
        }
        if let v6 = ipv6Bytes(host) {
            let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
            let podIdentityAgent: [UInt8] = [0xfd, 0x00, 0x0e, 0xc2] + Array(repeating: 0, count: 11) + [0x23]
            return v6 == loopback || v6 == podIdentityAgent
        }
        return false
    }

    private static func ipv4Bytes(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    private static func ipv6Bytes(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}
