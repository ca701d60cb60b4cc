import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A local stand-in (127.0.0.1, port 0) for the two AWS credential endpoints, speaking their real protocols.
///
/// IMDSv2 as on an instance whose metadata options require tokens: `PUT /latest/api/token` with
/// `X-aws-ec2-metadata-token-ttl-seconds` issues a token; every `/latest/meta-data/` GET without a
/// currently valid `X-aws-ec2-metadata-token` gets 401; the role listing and the role's credentials
/// document follow. The container endpoint serves its document at one path and, when an
/// authorization value is configured, answers 401 to any other `Authorization` header.
/// Every request is recorded so tests can assert what a provider sent.
final class CredentialEndpointServer: Sendable {
    /// One credentials document as the endpoints serve it.
    struct Document: Sendable {
        var accessKeyID: String
        var secretAccessKey: String
        var token: String
        var expiration: Date

        func json(includingIMDSFields: Bool) -> String {
            let expires = Date.ISO8601FormatStyle().format(expiration)
            let imds = includingIMDSFields
                ? #""Code": "Success", "LastUpdated": "2024-05-01T06:00:00Z", "Type": "AWS-HMAC", "#
                : ""
            return #"{\#(imds)"AccessKeyId": "\#(accessKeyID)", "SecretAccessKey": "\#(secretAccessKey)", "#
                + #""Token": "\#(token)", "Expiration": "\#(expires)"}"#
        }
    }

    /// What the endpoints serve; tests change it between calls with `update`.
    struct Settings: Sendable {
        /// The instance profile's role; nil for an instance without one (the listing answers 404).
        var roleName: String? = "orderflow-instance-role"
        var instanceCredentials = Document(
            accessKeyID: "ASIAIMDSEXAMPLE", secretAccessKey: "imds-secret-value", token: "imds-session-token-value",
            expiration: Date(timeIntervalSince1970: 1_700_021_600)
        )
        /// A raw body served instead of `instanceCredentials`, for failed-document tests.
        var instanceBody: String?
        /// When set, every metadata GET is refused with 401 whatever the token (tokens "never" work).
        var refuseAllTokens = false

        var containerPath = "/v2/credentials/6a1b7f0e-task-role"
        /// The `Authorization` value the container endpoint requires; nil to require none.
        var containerAuthorization: String?
        var containerCredentials = Document(
            accessKeyID: "ASIACONTAINEREXAMPLE", secretAccessKey: "container-secret-value",
            token: "container-session-token-value", expiration: Date(timeIntervalSince1970: 1_700_021_600)
        )
        /// A raw body served instead of `containerCredentials`, for malformed-document tests.
        var containerBody: String?
    }

    /// One request as it arrived; header names are lowercased.
    struct Request: Sendable, Equatable {
        let method: String
        let path: String
        let headers: [String: String]
    }

    /// The reply the endpoint logic chose.
    struct Reply: Sendable, Equatable {
        let status: Int
        let body: String
    }

    private struct State {
        var settings: Settings
        var validTokens: Set<String> = []
        var tokensIssued = 0
        var requests: [Request] = []
        var connections: [any Channel] = []
    }

    private let state: Mutex<State>
    private let listener = Mutex<(any Channel)?>(nil)

    private init(settings: Settings) {
        state = Mutex(State(settings: settings))
    }

    /// Starts a server on 127.0.0.1 with a free port.
    static func start(_ settings: Settings = Settings()) async throws -> CredentialEndpointServer {
        let server = CredentialEndpointServer(settings: settings)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                server.state.withLock { $0.connections.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        server.listener.withLock { $0 = channel }
        return server
    }

    /// Runs `body` against a fresh server and always shuts it down.
    static func with<T>(
        _ settings: Settings = Settings(), _ body: (CredentialEndpointServer) async throws -> T
    ) async throws -> T {
        let server = try await start(settings)
        do {
            let result = try await body(server)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    /// A port on 127.0.0.1 that was just bound and closed again, so connecting to it is refused.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }

    /// The listening port.
    var port: Int {
        listener.withLock { $0?.localAddress?.port ?? 0 }
    }

    /// `http://127.0.0.1:<port>`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The container endpoint's full URL.
    var containerURL: String { baseURL + state.withLock { $0.settings.containerPath } }

    /// Every request received so far, in order.
    var requests: [Request] { state.withLock { $0.requests } }

    /// Changes what the endpoints serve from the next request on.
    func update(_ change: (inout Settings) -> Void) {
        state.withLock { change(&$0.settings) }
    }

    /// Invalidates every token issued so far, as an IMDS restart or instance stop/start does.
    func revokeTokens() {
        state.withLock { $0.validTokens.removeAll() }
    }

    /// Closes the listener and every connection clients kept alive.
    func shutdown() async throws {
        let (listening, connections) = (listener.withLock { $0 }, state.withLock { $0.connections })
        try await listening?.close()
        for connection in connections {
            try? await connection.close()
        }
    }

    /// The endpoint logic for one request; records it first.
    func reply(method: String, path: String, headers: [String: String]) -> Reply {
        state.withLock { state in
            state.requests.append(Request(method: method, path: path, headers: headers))
            return Self.reply(method: method, path: path, headers: headers, state: &state)
        }
    }

    private static func reply(method: String, path: String, headers: [String: String], state: inout State) -> Reply {
        let settings = state.settings
        let rolesPath = "/latest/meta-data/iam/security-credentials/"
        if path == "/latest/api/token" {
            guard method == "PUT" else { return Reply(status: 405, body: "") }
            guard let ttl = headers["x-aws-ec2-metadata-token-ttl-seconds"].flatMap(Int.init), (1...21_600).contains(ttl)
            else { return Reply(status: 400, body: "") }
            state.tokensIssued += 1
            let token = "imds-token-\(state.tokensIssued)-AQAEAExampleToken"
            state.validTokens.insert(token)
            return Reply(status: 200, body: token)
        }
        if path.hasPrefix("/latest/meta-data/") {
            guard method == "GET" else { return Reply(status: 405, body: "") }
            // IMDSv2 required: no token, or one that is not valid now, is 401 Unauthorized.
            guard !settings.refuseAllTokens, let token = headers["x-aws-ec2-metadata-token"],
                state.validTokens.contains(token)
            else { return Reply(status: 401, body: "") }
            guard let role = settings.roleName else { return Reply(status: 404, body: "") }
            switch path {
            case rolesPath:
                return Reply(status: 200, body: role)
            case rolesPath + role:
                return Reply(status: 200, body: settings.instanceBody ?? settings.instanceCredentials.json(includingIMDSFields: true))
            default:
                return Reply(status: 404, body: "")
            }
        }
        if path == settings.containerPath, method == "GET" {
            if let required = settings.containerAuthorization, headers["authorization"] != required {
                return Reply(status: 401, body: #"{"code":"AccessDeniedException","message":"invalid token"}"#)
            }
            return Reply(status: 200, body: settings.containerBody ?? settings.containerCredentials.json(includingIMDSFields: false))
        }
        return Reply(status: 404, body: "")
    }
}

/// Reads one HTTP/1.1 request at a time and answers it from the server's endpoint logic.
private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: CredentialEndpointServer
    private var head: HTTPRequestHead?

    init(server: CredentialEndpointServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            var headers: [String: String] = [:]
            for (name, value) in head.headers {
                headers[name.lowercased()] = value
            }
            let reply = server.reply(method: head.method.rawValue, path: head.uri, headers: headers)
            var responseHeaders = HTTPHeaders()
            responseHeaders.add(name: "Content-Length", value: String(reply.body.utf8.count))
            responseHeaders.add(name: "Content-Type", value: reply.body.hasPrefix("{") ? "application/json" : "text/plain")
            let responseHead = HTTPResponseHead(
                version: head.version, status: HTTPResponseStatus(statusCode: reply.status), headers: responseHeaders
            )
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
