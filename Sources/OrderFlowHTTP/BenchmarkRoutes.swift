import Hummingbird

/// Routes for benchmarks only. `orderflow serve` never has them; `orderflow bench echo-server` adds them to the API.
public enum BenchmarkRoutes {
    /// The echo route's path.
    public static let echoPath = "/bench/echo"

    /// `POST /bench/echo`: the body (JSON, within the order body limit) back with `201`, through every middleware of the
    /// API, with no order work and nothing written: the HTTP stack's own share of a `POST /orders` of the same size.
    /// It records no audit entry (a handler that writes none of its own; `POST /orders` writes its entry with the order).
    public static func addEcho(to router: Router<AppRequestContext>, configuration: HTTPConfiguration) {
        let limit = configuration.orderBodyLimit
        router.post(RouterPath(echoPath)) { request, context -> Response in
            try request.requireJSONContentType()
            var request = request
            let body = try await request.collectBody(limit: limit)
            context.notes.auditRecorded = true
            return Response(status: .created, headers: [.contentType: "application/json", .location: echoPath],
                            body: .init(byteBuffer: body))
        }
    }
}
