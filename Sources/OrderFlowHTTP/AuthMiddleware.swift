import HTTPTypes
import Hummingbird
import OrderFlowApp
import OrderFlowCore

/// Checks the caller of every route that needs a scope: `Authorization: Bearer <JWT>` or `X-API-Key: <key>`. No or bad
/// credentials → 401 with `WWW-Authenticate`; a valid credential without the route's scope → 403. Neither says more
/// than that (which claim or signature failed stays in the server).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let auth: AuthConfiguration
    /// Per-principal (or, without authentication, per-address) token buckets; nil: no rate limit.
    let limiter: RateLimiter?

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard let scope = RouteScopes.required(method: request.method, route: context.endpointPath ?? "NotFound") else {
            return try await next(request, context)
        }
        var context = context
        guard auth.isEnabled else {
            context.notes.principalId = Principal.anonymous.id
            context.principal = .anonymous
            try throttle("address:\(context.remoteAddress ?? "unknown")")
            return try await next(request, context)
        }
        guard let principal = await authenticate(request) else {
            throw Problem(.unauthorized, status: .unauthorized, detail: "send a valid bearer token (Authorization: Bearer …) or API key (X-API-Key: …)")
        }
        context.logger[metadataKey: "principal"] = .string(principal.id)
        context.notes.principalId = principal.id
        try throttle(principal.id)
        guard principal.scopes.contains(scope) else {
            throw Problem(.forbidden, status: .forbidden, detail: "this credential lacks the scope \(scope.rawValue)",
                          extra: [JSONMember(key: "requiredScope", value: .string(scope.rawValue))])
        }
        context.principal = principal
        return try await next(request, context)
    }

    func throttle(_ key: String) throws {
        guard let limiter, let wait = limiter.take(key) else { return }
        var problem = Problem(.tooManyRequests, status: .tooManyRequests,
                              detail: "more than \(limiter.rate) requests per second from this caller; retry after the pause")
        problem.retryAfterSeconds = max(1, Int(wait.rounded(.up)))
        throw problem
    }

    /// An API key when one is sent (and keys are on), else a bearer token (when tokens are on).
    func authenticate(_ request: Request) async -> Principal? {
        if let key = request.headers[.xAPIKey], let apiKeys = auth.apiKeys {
            return try? await apiKeys.authenticate(key)
        }
        if let authorization = request.headers[.authorization], let jwt = auth.jwt {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return await jwt.principal(for: String(parts[1]).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

extension HTTPField.Name {
    /// The header that carries an API key.
    public static let xAPIKey = HTTPField.Name("X-API-Key")!
}

/// The scope each route needs; nil for the open ones. A route missing here needs `admin` (closed by default), and a
/// test checks that every route of the router is listed.
public enum RouteScopes {
    public static let table: [String: Scope?] = [
        "GET /health": nil,
        "GET /": nil,
        "GET /openapi.yaml": nil,
        "POST /orders": .ordersWrite,
        "GET /orders": .ordersRead,
        "GET /orders/{id}": .ordersRead,
        "POST /orders/{id}/fulfil": .ordersWrite,
        "POST /orders/{id}/cancel": .ordersWrite,
        "GET /reviews": .ordersRead,
        "POST /reviews/{orderId}/approve": .reviewsWrite,
        "POST /reviews/{orderId}/reject": .reviewsWrite,
        "PUT /uploads/**": .ordersWrite,
        "GET /stats": .ordersRead,
        "GET /status": .admin,
        "GET /status/aws-requests": .admin,
        "GET /status/recent-orders": .ordersRead,
        "GET /metrics": .admin,
        "GET /alarms": .admin,
        "GET /audit": .admin,
        "POST /upload": .documentsWrite,
        "GET /documents": .ordersRead,
        "GET /documents/{id}": .ordersRead,
        "GET /queues": .admin,
        "GET /queues/{name}/dlq": .admin,
        "POST /queues/{name}/dlq/redrive": .admin,
    ]

    public static func required(method: HTTPRequest.Method, route: String) -> Scope? {
        if route == "NotFound" { return nil }  // answered 404 without looking at anything
        let key = "\(method.rawValue) \(normalized(route))"
        guard let entry = table[key] else { return .admin }
        return entry
    }

    /// Hummingbird prints parameters as `{name}` or `:name`; the table uses `{name}`.
    public static func normalized(_ route: String) -> String {
        // Most routes have no `:name` segment: those come back as they are, without splitting and joining per request.
        guard route.utf8.contains(UInt8(ascii: ":")) else { return route }
        return route.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
    }
}
