import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import OrderFlowCore
@testable import OrderFlowEmbedded
import Synchronization

/// A temporary database with messaging on a manual clock and a logger whose lines the test can read.
struct MessagingFixture {
    let database: AppDatabase
    let clock: any WallClock
    let messaging: SQLiteMessaging
    let logs: LogCapture

    init(clock: any WallClock = ManualClock()) throws {
        database = try AppDatabase.temporary()
        self.clock = clock
        logs = LogCapture()
        messaging = SQLiteMessaging(database: database, clock: clock, logger: logs.logger)
    }

    /// The manual clock, for tests that move time.
    var manualClock: ManualClock {
        get throws {
            guard let manual = clock as? ManualClock else { throw FixtureError.notManualClock }
            return manual
        }
    }

    enum FixtureError: Error {
        case notManualClock
    }
}

/// Log lines written through `logger`, kept for assertions.
final class LogCapture: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in CapturingLogHandler(capture: self) }
    }

    func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append(LogCapture.Entry(
            level: event.level, message: event.message.description, metadata: merged.mapValues { $0.description }))
    }
}

struct TimedOut: Error {}

/// Runs `operation`, failing with `TimedOut` if it takes longer than `limit` (a bound on a hung test, not a way to
/// wait for something to happen).
func withTimeout<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut()
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimedOut() }
        return result
    }
}

/// Waits, yielding, until `condition` holds; throws `TimedOut` after `limit`.
func eventually(within limit: Duration = .seconds(5), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut() }
        await Task.yield()
    }
}

/// A local HTTP server on 127.0.0.1 that records every request and answers each with a scripted status.
final class WebhookTestServer: Sendable {
    struct Request: Sendable {
        /// Header values by lower-cased name.
        var headers: [String: String]
        var body: [UInt8]
    }

    /// Every request, in arrival order.
    let requests: AsyncStream<Request>
    let port: Int
    private let recorder: Recorder
    private let channel: any Channel

    /// Starts a server answering the n-th request (1-based) with `statusForRequest(n)`.
    static func start(statusForRequest: @escaping @Sendable (Int) -> HTTPResponseStatus) async throws -> WebhookTestServer {
        let (stream, continuation) = AsyncStream<Request>.makeStream()
        let recorder = Recorder(continuation: continuation, statusForRequest: statusForRequest)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return WebhookTestServer(requests: stream, port: channel.localAddress?.port ?? 0, recorder: recorder, channel: channel)
    }

    private init(requests: AsyncStream<Request>, port: Int, recorder: Recorder, channel: any Channel) {
        self.requests = requests
        self.port = port
        self.recorder = recorder
        self.channel = channel
    }

    var url: String { "http://127.0.0.1:\(port)/hooks/orders" }

    func close() async throws {
        recorder.finish()
        try await channel.close()
    }

    private final class Recorder: Sendable {
        private let continuation: AsyncStream<Request>.Continuation
        private let count = Mutex(0)
        private let statusForRequest: @Sendable (Int) -> HTTPResponseStatus

        init(continuation: AsyncStream<Request>.Continuation, statusForRequest: @escaping @Sendable (Int) -> HTTPResponseStatus) {
            self.continuation = continuation
            self.statusForRequest = statusForRequest
        }

        func handle(head: HTTPRequestHead, body: [UInt8]) -> HTTPResponseStatus {
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let number = count.withLock { count in
                count += 1
                return count
            }
            continuation.yield(Request(headers: headers, body: body))
            return statusForRequest(number)
        }

        func finish() {
            continuation.finish()
        }
    }

    private final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let recorder: Recorder
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(recorder: Recorder) {
            self.recorder = recorder
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
                let status = recorder.handle(head: head, body: body)
                let responseHead = HTTPResponseHead(version: head.version, status: status, headers: ["content-length": "0"])
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}
