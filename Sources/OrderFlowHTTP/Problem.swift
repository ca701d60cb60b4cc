import Hummingbird
import OrderFlowCore

/// An RFC 9457 problem: every HTTP error OrderFlow returns has this shape and a stable `type`.
public struct Problem: HTTPResponseError, Sendable {
    /// Stable, documented problem kinds; the last part of the `type` URN.
    public enum Kind: String, Sendable {
        case malformedRequest = "malformed-request"
        case validationFailed = "validation-failed"
        case unsupportedMediaType = "unsupported-media-type"
        case payloadTooLarge = "payload-too-large"
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case orderConflict = "order-conflict"
        case illegalTransition = "illegal-transition"
        case invalidObjectKey = "invalid-object-key"
        case unavailable = "service-unavailable"
        case unauthorized = "unauthorized"
        case forbidden = "forbidden"
        case uriTooLong = "uri-too-long"
        case tooManyRequests = "too-many-requests"
        case requestTimeout = "request-timeout"
        case internalError = "internal-error"

        var title: String {
            switch self {
            case .malformedRequest: "The request is malformed"
            case .validationFailed: "The request has invalid fields"
            case .unsupportedMediaType: "The body must be JSON"
            case .payloadTooLarge: "The body is too large"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .orderConflict: "An order with this id already exists with different content"
            case .illegalTransition: "The order is not in a state that allows this"
            case .invalidObjectKey: "The object key is not allowed"
            case .unavailable: "The service is not available"
            case .unauthorized: "Authentication required"
            case .forbidden: "Not allowed"
            case .uriTooLong: "The request target is too long"
            case .tooManyRequests: "Too many requests"
            case .requestTimeout: "The request took too long"
            case .internalError: "Internal error"
            }
        }
    }

    public let kind: Kind
    public let status: HTTPResponse.Status
    public let detail: String
    public let fieldErrors: [FieldError]
    public let extra: [JSONMember]
    /// Sent as `Retry-After` (429, 503).
    public var retryAfterSeconds: Int?

    public init(_ kind: Kind, status: HTTPResponse.Status, detail: String, fieldErrors: [FieldError] = [], extra: [JSONMember] = []) {
        self.kind = kind
        self.status = status
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.extra = extra
    }

    /// The URN naming the problem kind.
    public var type: String { "urn:orderflow:problem:\(kind.rawValue)" }

    public var json: JSONValue {
        var members = [
            JSONMember(key: "type", value: .string(type)),
            JSONMember(key: "title", value: .string(kind.title)),
            JSONMember(key: "status", value: .int(status.code)),
            JSONMember(key: "detail", value: .string(detail)),
        ]
        if !fieldErrors.isEmpty {
            members.append(JSONMember(key: "errors", value: .array(fieldErrors.map {
                .object(["field": .string($0.field), "message": .string($0.message)])
            })))
        }
        members.append(contentsOf: extra)
        return .object(members)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if status == .methodNotAllowed { headers[.allow] = "GET, POST, PUT" }
        if kind == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="orderflow", ApiKey realm="orderflow""# }
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json.serialized())))
    }
}

extension Problem {
    static func notFound(_ detail: String) -> Problem { Problem(.notFound, status: .notFound, detail: detail) }
    static func malformed(_ detail: String) -> Problem { Problem(.malformedRequest, status: .badRequest, detail: detail) }
    static func invalidField(_ field: String, _ message: String) -> Problem {
        Problem(.validationFailed, status: .badRequest, detail: "\(field) \(message)", fieldErrors: [FieldError(field: field, message: message)])
    }
}

/// Turns every error that escapes a handler — ours, the framework's (unknown route, body too large), or unexpected —
/// into problem+json, so clients parse one error shape.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as OrderStoreError {
            throw Problem(error)
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: throw Problem.notFound("no route for \(request.method) \(request.uri.path)")
            case .contentTooLarge: throw Problem(.payloadTooLarge, status: .contentTooLarge, detail: error.body ?? "the body exceeds the limit")
            case .methodNotAllowed: throw Problem(.methodNotAllowed, status: .methodNotAllowed, detail: "\(request.method) is not allowed on \(request.uri.path)")
            case .badRequest: throw Problem.malformed(error.body ?? "bad request")
            default: throw Problem(.internalError, status: error.status, detail: error.body ?? "\(error.status)")
            }
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw Problem(.internalError, status: .internalServerError, detail: "an unexpected error occurred; see the server log")
        }
    }
}

extension Problem {
    init(_ error: OrderStoreError) {
        switch error {
        case .notFound(let id): self = .notFound("order \(id) does not exist")
        case .illegalTransition(let illegal):
            self.init(.illegalTransition, status: .conflict, detail: illegal.reason, extra: [
                JSONMember(key: "orderStatus", value: .string(illegal.status.rawValue)),
                JSONMember(key: "review", value: .string(orNull: illegal.review?.rawValue)),
            ])
        case .invalidCursor: self = .invalidField("cursor", "is not a cursor this service issued")
        }
    }
}
