import Hummingbird
import OrderFlowApp

/// Counts every answered request and its latency by method, route pattern and status. It sits outside the problem
/// middleware, so it sees the status the client gets; the route is the matched pattern (`/orders/{id}`), which keeps
/// the label set bounded whatever paths clients send.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: OrderFlowMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, since: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, since: start)
            throw error
        }
    }

    func record(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        metrics.recordRequest(method: request.method.rawValue, route: context.endpointPath ?? "NotFound", status: status,
                              duration: ContinuousClock.now - start)
    }
}
