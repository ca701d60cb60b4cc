import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP server on port 0 that answers its n-th request (1-based) as `script(n, request)` says, and records
/// every request it receives. It stands in for an AWS endpoint in tests of the client's own retry and timeout logic,
/// and, forwarding to moto, is the fault-injecting proxy of the pipeline tests.
public final class ScriptedHTTPServer: Sendable {
    /// What to do with one request.
    public enum Action: Sendable {
        /// Answer with this status, extra headers and body.
        case respond(status: Int, headers: [String: String] = [:], body: String = "")
        /// Reset the connection (TCP RST) instead of answering.
        case reset
        /// Never answer.
        case hang
        /// Send the head announcing `contentLength` body bytes, then never send them.
        case stallBody(contentLength: Int)
        /// Pass the request on to `upstream` (headers, `Host` included, as received, so a signature stays valid) and
        /// answer with its response; with `dropResponse`, reset the connection instead: the request took effect, the
        /// caller never hears of it.
        case forward(upstream: URL, dropResponse: Bool)
    }

    /// A request as received.
    public struct Request: Sendable {
        public let method: String
        public let uri: String
        /// Header values by lower-cased name.
        public let headers: [String: String]
        public let body: String
    }

    public let port: Int
    private let channel: any Channel
    private let state: State

    private init(port: Int, channel: any Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Starts a server on 127.0.0.1 with an ephemeral port.
    public static func start(script: @escaping @Sendable (Int) -> Action) async throws -> ScriptedHTTPServer {
        try await start { number, _ in script(number) }
    }

    /// Starts a server whose script also sees the request.
    public static func start(script: @escaping @Sendable (Int, Request) -> Action) async throws -> ScriptedHTTPServer {
        let state = State(script: script)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                state.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return ScriptedHTTPServer(port: channel.localAddress?.port ?? 0, channel: channel, state: state)
    }

    /// `http://127.0.0.1:<port>`.
    public var endpoint: URL {
        URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
    }

    /// Every request received so far, in order.
    public var requests: [Request] {
        state.requests()
    }

    /// Closes the listening socket and every open connection.
    public func close() async throws {
        for child in state.openChannels() {
            try? await child.close()
        }
        try await channel.close()
    }

    private final class State: Sendable {
        private struct Inner {
            var requests: [Request] = []
            var channels: [any Channel] = []
        }

        private let script: @Sendable (Int, Request) -> Action
        private let inner = Mutex(Inner())

        init(script: @escaping @Sendable (Int, Request) -> Action) {
            self.script = script
        }

        func track(_ channel: any Channel) {
            inner.withLock { $0.channels.append(channel) }
        }

        func openChannels() -> [any Channel] {
            inner.withLock { $0.channels }
        }

        func requests() -> [Request] {
            inner.withLock { $0.requests }
        }

        /// Records the request before deciding, so a test that sees the client's outcome also sees the request.
        func receive(_ request: Request) -> Action {
            let number = inner.withLock { inner in
                inner.requests.append(request)
                return inner.requests.count
            }
            return script(number, request)
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let state: State
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(state: State) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                self.head = nil
                var headers: [String: String] = [:]
                for (name, value) in head.headers {
                    headers[name.lowercased()] = value
                }
                let request = Request(
                    method: head.method.rawValue, uri: head.uri, headers: headers, body: String(decoding: body, as: UTF8.self)
                )
                respond(to: state.receive(request), version: head.version, context: context, head: head, body: body)
            }
        }

        private func respond(to action: Action, version: HTTPVersion, context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
            switch action {
            case .respond(let status, let extraHeaders, let text):
                var headers = HTTPHeaders([("content-length", String(text.utf8.count))])
                for (name, value) in extraHeaders {
                    headers.add(name: name, value: value)
                }
                let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case .reset:
                Self.reset(context.channel)
            case .forward(let upstream, let dropResponse):
                Self.forward(head: head, body: body, to: upstream, dropResponse: dropResponse, channel: context.channel)
            case .hang:
                break
            case .stallBody(let contentLength):
                let headers = HTTPHeaders([("content-length", String(contentLength))])
                let head = HTTPResponseHead(version: version, status: .ok, headers: headers)
                context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
            }
        }

        /// SO_LINGER with a zero timeout makes close() send RST instead of FIN: a real connection reset.
        static func reset(_ channel: any Channel) {
            if let provider = channel as? any SocketOptionProvider {
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                    channel.close(promise: nil)
                }
            } else {
                channel.close(promise: nil)
            }
        }

        static func forward(head: HTTPRequestHead, body: [UInt8], to upstream: URL, dropResponse: Bool, channel: any Channel) {
            var request = HTTPClientRequest(url: upstream.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + head.uri)
            request.method = head.method
            for (name, value) in head.headers where !["content-length", "transfer-encoding", "connection"].contains(name.lowercased()) {
                request.headers.add(name: name, value: value)
            }
            if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
            let version = head.version
            Task {
                var status = HTTPResponseStatus.badGateway
                var headers = HTTPHeaders()
                var bytes = ByteBuffer()
                do {
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                    bytes = try await response.body.collect(upTo: 64 << 20)
                    status = response.status
                    for (name, value) in response.headers
                    where !["content-length", "transfer-encoding", "connection"].contains(name.lowercased()) {
                        headers.add(name: name, value: value)
                    }
                } catch {
                    bytes = ByteBuffer(string: "proxy: \(error)")
                }
                if dropResponse && status != .badGateway {
                    reset(channel)
                    return
                }
                headers.replaceOrAdd(name: "content-length", value: String(bytes.readableBytes))
                let responseHead = HTTPResponseHead(version: version, status: status, headers: headers)
                channel.write(HTTPServerResponsePart.head(responseHead), promise: nil)
                channel.write(HTTPServerResponsePart.body(.byteBuffer(bytes)), promise: nil)
                channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
            }
        }
    }
}
