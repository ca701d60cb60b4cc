import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A local server that speaks the Lambda Runtime API (`/2018-06-01/runtime/…`): it hands out queued events on `next`
/// and records every report. The Runtime API only exists inside Lambda, so this is the one stand-in the tests use.
final class RuntimeAPIServer: Sendable {
    struct Event: Sendable {
        var requestId: String
        var body: String
        /// Leave out `Lambda-Runtime-Aws-Request-Id` to test the client's protocol checks.
        var omitRequestId = false
    }

    enum Report: Sendable, Equatable {
        case response(requestId: String, body: String)
        case error(requestId: String, type: String?, body: String)
        case initError(type: String?, body: String)
    }

    private struct State {
        var events: [Event] = []
        var waiters: [CheckedContinuation<Event, Never>] = []
        var reports: [Report] = []
        var handedOut: Set<String> = []
    }

    private let state = Mutex(State())
    private let reportStream: AsyncStream<Report>
    private let reportContinuation: AsyncStream<Report>.Continuation
    private let task = Mutex<Task<Void, any Error>?>(nil)
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    let address: String

    private init(address: String, reports: (AsyncStream<Report>, AsyncStream<Report>.Continuation)) {
        self.address = address
        reportStream = reports.0
        reportContinuation = reports.1
    }

    /// Starts the server on a free loopback port.
    static func start() async throws -> RuntimeAPIServer {
        let reports = AsyncStream<Report>.makeStream()
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let box = Mutex<RuntimeAPIServer?>(nil)
        let router = Router()
        router.get("/2018-06-01/runtime/invocation/next") { _, _ -> Response in
            guard let server = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            let event = await server.nextEvent()
            var headers: HTTPFields = [
                .contentType: "application/json",
                HTTPField.Name("Lambda-Runtime-Deadline-Ms")!: "\(Int64(Date().timeIntervalSince1970 * 1000) + 60_000)",
                HTTPField.Name("Lambda-Runtime-Invoked-Function-Arn")!: "arn:aws:lambda:us-east-1:123456789012:function:orderflow",
                HTTPField.Name("Lambda-Runtime-Trace-Id")!: "Root=1-5f84c7a5-c3a3d1f0e2b4a6c8d0e2f4a6;Sampled=1",
            ]
            if !event.omitRequestId { headers[HTTPField.Name("Lambda-Runtime-Aws-Request-Id")!] = event.requestId }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: event.body)))
        }
        router.post("/2018-06-01/runtime/invocation/:id/response") { request, context -> Response in
            guard let server = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            let id = context.parameters.get("id") ?? ""
            let body = try await String(buffer: request.body.collect(upTo: 6 << 20))
            return server.record(.response(requestId: id, body: body), for: id)
        }
        router.post("/2018-06-01/runtime/invocation/:id/error") { request, context -> Response in
            guard let server = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            let id = context.parameters.get("id") ?? ""
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            let body = try await String(buffer: request.body.collect(upTo: 1 << 20))
            return server.record(.error(requestId: id, type: type, body: body), for: id)
        }
        router.post("/2018-06-01/runtime/init/error") { request, _ -> Response in
            guard let server = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            let body = try await String(buffer: request.body.collect(upTo: 1 << 20))
            return server.record(.initError(type: type, body: body), for: nil)
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }
        )
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let server = RuntimeAPIServer(address: "127.0.0.1:\(port)", reports: reports)
        server.task.withLock { $0 = task }
        box.withLock { $0 = server }
        return server
    }

    /// Queues an invocation for the runtime to take.
    func enqueue(_ event: Event) {
        let waiter = state.withLock { state -> CheckedContinuation<Event, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.events.append(event)
            return nil
        }
        if let waiter {
            state.withLock { _ = $0.handedOut.insert(event.requestId) }
            waiter.resume(returning: event)
        }
    }

    /// The reports in arrival order, as they come.
    var reports: AsyncStream<Report> { reportStream }

    func stop() {
        reportContinuation.finish()
        task.withLock { $0?.cancel() }
    }

    private func nextEvent() async -> Event {
        await withCheckedContinuation { continuation in
            let event = state.withLock { state -> Event? in
                if state.events.isEmpty {
                    state.waiters.append(continuation)
                    return nil
                }
                let event = state.events.removeFirst()
                state.handedOut.insert(event.requestId)
                return event
            }
            if let event { continuation.resume(returning: event) }
        }
    }

    /// 202 for a report about an invocation that was handed out (or an init error); 400 otherwise, as Lambda does.
    private func record(_ report: Report, for requestId: String?) -> Response {
        let known = state.withLock { state -> Bool in
            guard requestId.map({ state.handedOut.contains($0) }) ?? true else { return false }
            state.reports.append(report)
            return true
        }
        guard known else { return Response(status: .badRequest) }
        reportContinuation.yield(report)
        return Response(status: .accepted)
    }
}
