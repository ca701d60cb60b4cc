import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP server on port 0 that answers its n-th request (1-based) as `script(n)` says, and records
/// every request it receives. It stands in for an AWS endpoint in tests of the client's own retry and
/// timeout logic, not of AWS behaviour.
final class ScriptedHTTPServer: Sendable {
    /// What to do with one request.
    enum Action: Sendable {
        /// Answer with this status, extra headers and body.
        case respond(status: Int, headers: [String: String] = [:], body: String = "")
        /// Reset the connection (TCP RST) instead of answering.
        case reset
        /// Never answer.
        case hang
        /// Send the head announcing `contentLength` body bytes, then never send them.
        case stallBody(contentLength: Int)
    }

    /// A request as received.
    struct Request: Sendable {
        let method: String
        let uri: String
        /// Header values by lower-cased name.
        let headers: [String: String]
        let body: String
    }

    let port: Int
    private let channel: any Channel
    private let state: State

    private init(port: Int, channel: any Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Starts a server on 127.0.0.1 with an ephemeral port.
    static func start(script: @escaping @Sendable (Int) -> Action) async throws -> ScriptedHTTPServer {
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
    var endpoint: URL {
        URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
    }

    /// Every request received so far, in order.
    var requests: [Request] {
        state.requests()
    }

    /// Closes the listening socket and every open connection.
    func close() async throws {
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

        private let script: @Sendable (Int) -> Action
        private let inner = Mutex(Inner())

        init(script: @escaping @Sendable (Int) -> Action) {
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
            return script(number)
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
                respond(to: state.receive(request), version: head.version, context: context)
            }
        }

        private func respond(to action: Action, version: HTTPVersion, context: ChannelHandlerContext) {
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
                // SO_LINGER with a zero timeout makes close() send RST instead of FIN: a real connection reset.
                if let provider = context.channel as? any SocketOptionProvider {
                    let channel = context.channel
                    provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                        channel.close(promise: nil)
                    }
                } else {
                    context.close(promise: nil)
                }
            case .hang:
                break
            case .stallBody(let contentLength):
                let headers = HTTPHeaders([("content-length", String(contentLength))])
                let head = HTTPResponseHead(version: version, status: .ok, headers: headers)
                context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
            }
        }
    }
}
