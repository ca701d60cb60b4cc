import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// The Runtime API over HTTP (`http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/…`).
public struct HTTPLambdaRuntimeClient: LambdaRuntimeClient {
    let base: String
    let http: HTTPClient

    /// `runtimeAPI` is the `host:port` from `AWS_LAMBDA_RUNTIME_API`.
    public init(runtimeAPI: String, http: HTTPClient) {
        base = "http://\(runtimeAPI)/2018-06-01/runtime"
        self.http = http
    }

    public func nextInvocation() async throws -> LambdaInvocation {
        // `next` blocks until an event arrives (possibly for minutes while the environment is frozen): no deadline.
        let response = try await http.execute(HTTPClientRequest(url: "\(base)/invocation/next"), timeout: .hours(24))
        let body = try await Array(buffer: response.body.collect(upTo: 6 << 20 + 1024))
        guard response.status == .ok else {
            throw LambdaRuntimeError.unexpectedStatus(call: "next", status: Int(response.status.code), body: String(decoding: body, as: UTF8.self))
        }
        guard let requestId = response.headers.first(name: "Lambda-Runtime-Aws-Request-Id"), !requestId.isEmpty else {
            throw LambdaRuntimeError.missingHeader("Lambda-Runtime-Aws-Request-Id")
        }
        return LambdaInvocation(
            requestId: requestId,
            deadlineMs: response.headers.first(name: "Lambda-Runtime-Deadline-Ms").flatMap { Int64($0) },
            invokedFunctionArn: response.headers.first(name: "Lambda-Runtime-Invoked-Function-Arn"),
            traceId: response.headers.first(name: "Lambda-Runtime-Trace-Id"),
            body: body
        )
    }

    public func reportResponse(requestId: String, body: [UInt8]) async throws {
        try await post("\(base)/invocation/\(requestId)/response", body: body, call: "response", headers: [:])
    }

    public func reportError(requestId: String, error: LambdaFunctionError) async throws {
        try await post("\(base)/invocation/\(requestId)/error", body: error.document, call: "error",
                       headers: ["Lambda-Runtime-Function-Error-Type": error.type])
    }

    public func reportInitError(_ error: LambdaFunctionError) async throws {
        try await post("\(base)/init/error", body: error.document, call: "init error",
                       headers: ["Lambda-Runtime-Function-Error-Type": error.type])
    }

    private func post(_ url: String, body: [UInt8], call: String, headers: [String: String]) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: body))
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let answer = try await response.body.collect(upTo: 64 << 10)
        // The Runtime API accepts a report with 202; anything else (400 bad request id, 413 too large) is a violation.
        guard response.status == .accepted else {
            throw LambdaRuntimeError.unexpectedStatus(call: call, status: Int(response.status.code), body: String(buffer: answer))
        }
    }
}
