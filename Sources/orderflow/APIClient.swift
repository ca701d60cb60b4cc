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

    init(url: String?) {
        var base = Settings.value(url, env: "ORDERFLOW_URL") ?? "http://127.0.0.1:8080"
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json") async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return Reply(status: Int(response.status.code), body: Array(buffer: bytes))
        } catch let error as HTTPClientError {
            throw UsageFailure("cannot reach OrderFlow at \(baseURL): \(error) (is `orderflow serve` running? set --url or ORDERFLOW_URL)")
        } catch let error as ChannelError {
            throw UsageFailure("cannot reach OrderFlow at \(baseURL): \(error) (is `orderflow serve` running?)")
        } catch let error as IOError {
            throw UsageFailure("cannot reach OrderFlow at \(baseURL): \(error) (is `orderflow serve` running?)")
        }
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
