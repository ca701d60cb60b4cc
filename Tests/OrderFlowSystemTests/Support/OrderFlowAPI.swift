import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrderFlowCore

/// One HTTP reply of the server under test.
struct APIReply: Sendable {
    var status: Int
    var body: [UInt8]
    /// Header names in lower case.
    var headers: [(String, String)] = []

    func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }

    var json: JSONValue? { try? JSONParser.parse(body) }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// The server's HTTP API as the tests use it.
struct OrderFlowAPI: Sendable {
    let baseURL: String

    /// One client for every test. A connection that cannot be made (the server was killed or has stopped) fails the
    /// request at once, where `HTTPClient.shared` would keep reconnecting until the request's timeout: a load's clients
    /// see the crash when it happens and retry on their own terms.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends one request; throws on transport errors (connection refused, reset, timeout).
    func send(_ method: HTTPMethod, _ path: String, json body: [UInt8]? = nil, headers: [(String, String)] = [],
              timeout: TimeAmount = .seconds(20)) async throws -> APIReply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(contentsOf: headers)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await Self.client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 32 << 20)
        return APIReply(status: Int(response.status.code), body: Array(buffer: bytes),
                        headers: response.headers.map { ($0.name.lowercased(), $0.value) })
    }

    /// The JSON of a `GET` that must answer 200.
    func json(_ path: String) async throws -> JSONValue {
        let reply = try await send(.GET, path)
        guard reply.status == 200, let json = reply.json else {
            throw SystemTestFailure("GET \(path) answered \(reply.status): \(reply.text.prefix(500))")
        }
        return json
    }

    /// Every element of a paginated listing (`GET /orders`, `GET /reviews`), following `nextCursor` with pages of
    /// `pageSize` (1–1000).
    func all(_ path: String, key: String, pageSize: Int = 1000) async throws -> [JSONValue] {
        let separator = path.contains("?") ? "&" : "?"
        var elements: [JSONValue] = []
        var cursor: String?
        var cursors: Set<String> = []
        repeat {
            var page = path + separator + "limit=\(pageSize)"
            if let cursor {
                page += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)
            }
            let json = try await json(page)
            guard let list = json[key]?.arrayValue else { throw SystemTestFailure("GET \(page) has no \(key) array: \(json.serialized().prefix(300))") }
            elements += list
            cursor = json["nextCursor"]?.stringValue
            if let cursor {
                guard !list.isEmpty, cursors.insert(cursor).inserted else {
                    throw SystemTestFailure("GET \(page) returned \(list.count) \(key) and nextCursor \(cursor) again: paging does not advance")
                }
            }
        } while cursor != nil
        return elements
    }
}

/// Waits for an asynchronous effect by asking `probe` again every `interval`, at most `timeout`. `probe` returns the
/// value once the effect is there and nil before; `describe` tells the failure message what was last seen.
func eventually<T: Sendable>(
    _ what: String,
    timeout: Duration = .seconds(60),
    interval: Duration = .milliseconds(100),
    probe: () async throws -> T?,
    lastSeen describe: () -> String = { "" }
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while true {
        do {
            if let value = try await probe() { return value }
            lastError = nil
        } catch {
            lastError = error
        }
        if ContinuousClock.now >= deadline {
            let detail = [describe(), lastError.map { "last error: \($0)" } ?? ""].filter { !$0.isEmpty }.joined(separator: "; ")
            throw SystemTestFailure("\(what) did not happen within \(timeout)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        try await Task.sleep(for: interval)
    }
}
