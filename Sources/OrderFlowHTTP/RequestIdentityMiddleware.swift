import HTTPTypes
import Hummingbird
import OrderFlowCore

/// Gives every request an id and a trace: `X-Request-Id` and a W3C `traceparent` are taken from the client when
/// valid, made up otherwise. Both go on every log line written for the request (`request_id`, `trace_id`), the trace
/// travels with the order's events, and the response carries `X-Request-Id` and `X-Trace-Id` back, errors included.
struct RequestIdentityMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        let requestId = request.headers[.xRequestID].flatMap(Self.acceptable) ?? Self.newRequestId()
        let trace = (request.headers[.traceparent].flatMap(TraceContext.init(traceparent:)) ?? TraceContext.random()).child()
        context.requestId = requestId
        context.trace = trace
        context.logger[metadataKey: "request_id"] = .string(requestId)
        context.logger[metadataKey: "trace_id"] = .string(trace.traceId)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.xRequestID] = requestId
        response.headers[.xTraceID] = trace.traceId
        return response
    }

    /// A client's request id is kept when it is 1–128 characters of letters, digits and `-_.:` (safe in logs).
    static func acceptable(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count), value.utf8.allSatisfy(isTokenByte) else { return nil }
        return value
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"): true
        default: false
        }
    }

    static func newRequestId() -> String {
        var generator = SystemRandomNumberGenerator()
        let value: UInt64 = generator.next()
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
    static let xTraceID = HTTPField.Name("X-Trace-Id")!
}
