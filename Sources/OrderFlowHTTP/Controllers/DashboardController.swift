import Hummingbird

/// `GET /`: the default page of seed 000's load balancer; a small live view over `/stats`, `/status` and `/reviews`.
struct DashboardController {
    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/", use: page)
        router.get("/openapi.yaml", use: spec)
    }

    /// The API contract (docs/openapi.yaml, embedded at build time).
    @Sendable func spec(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml + "\n")))
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html)))
    }
}
