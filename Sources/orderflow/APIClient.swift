import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrderFlowCore

/// A small client of a running OrderFlow server, for the CLI's client commands.
struct APIClient {
    struct Reply {
        var status: Int
        var body: [UInt8]
        var json: JSONValue? { try? JSONParser.parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let baseURL: String
    /// `X-API-Key` (ORDERFLOW_API_KEY) or a bearer token (ORDERFLOW_TOKEN) for a server run with authentication.
    let credential: (name: String, value: String)?

    init(url: String?) {
        var base = Settings.value(url, env: "ORDERFLOW_URL") ?? "http://127.0.0.1:8080"
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        if let key = Settings.value(nil, env: "ORDERFLOW_API_KEY") {
            credential = ("X-API-Key", key)
        } else if let token = Settings.value(nil, env: "ORDERFLOW_TOKEN") {
            credential = ("Authorization", "Bearer \(token)")
        } else {
            credential = nil
        }
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json") async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let credential { request.headers.add(name: credential.name, value: credential.value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await cliHTTPClient.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return Reply(status: Int(response.status.code), body: Array(buffer: bytes))
        } catch {
            if error is CancellationError || (error as? HTTPClientError) == .cancelled { throw error }
            throw UsageFailure("cannot reach OrderFlow at \(baseURL): \(Self.reason(error)) (is `orderflow serve` running? set --url or ORDERFLOW_URL)")
        }
    }

    /// The system's words for a transport failure ("Connection refused"), without NIO's call details.
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "timed out connecting"
            case .ioOnClosedChannel, .eof, .outputClosed, .alreadyClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "timed out connecting"
            case .deadlineExceeded, .readTimeout: return "no reply within 30 s"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }

    /// Sends and prints the JSON reply; a problem reply becomes one error line and a non-zero exit.
    func printReply(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws {
        let reply = try await send(method, path, body: body)
        guard (200..<300).contains(reply.status) else { throw UsageFailure(problemText(reply)) }
        print(reply.json.map(PrettyJSON.format) ?? reply.text)
    }

    func problemText(_ reply: Reply) -> String {
        if let json = reply.json, let detail = json["detail"]?.stringValue {
            return "HTTP \(reply.status): \(detail)"
        }
        return "HTTP \(reply.status): \(reply.text.prefix(200))"
    }
}

/// The HTTP client of the CLI. Unlike `HTTPClient.shared`, a request fails at once when the connection cannot be made
/// (nothing listening, host unknown) instead of retrying the connection until the request's 30 s timeout, so a command
/// against a stopped server says so at once; `submit` retries such failures itself, with backoff.
private let cliHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration.singletonConfiguration
    configuration.timeout.connect = .seconds(10)
    configuration.connectionPool.retryConnectionEstablishment = false
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// Indented JSON for people reading a terminal.
enum PrettyJSON {
    static func format(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: "", to: &out)
        return out
    }

    private static func write(_ value: JSONValue, indent: String, to out: inout String) {
        switch value {
        case .array(let elements) where !elements.isEmpty:
            out += "[\n"
            for (i, element) in elements.enumerated() {
                out += indent + "  "
                write(element, indent: indent + "  ", to: &out)
                out += i < elements.count - 1 ? ",\n" : "\n"
            }
            out += indent + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, member) in members.enumerated() {
                out += indent + "  " + JSONValue.string(member.key).serialized() + ": "
                write(member.value, indent: indent + "  ", to: &out)
                out += i < members.count - 1 ? ",\n" : "\n"
            }
            out += indent + "}"
        default:
            out += value.serialized()
        }
    }
}

/// The `--url` option shared by client commands.
struct ServerOptions: ParsableArguments {
    @Option(help: "Base URL of the running server (env ORDERFLOW_URL, default http://127.0.0.1:8080).")
    var url: String?

    var client: APIClient { APIClient(url: url) }
}

import ArgumentParser
