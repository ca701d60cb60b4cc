import Hummingbird
import OrderFlowApp
import OrderFlowCore

/// `/reviews`: the review cases of high-value orders.
struct ReviewsController {
    let orders: OrderService

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/reviews", use: list)
        router.post("/reviews/:orderId/approve", use: { request, context in try await decide(.approveReview, context) })
        router.post("/reviews/:orderId/reject", use: { request, context in try await decide(.rejectReview, context) })
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        var query = try OrderQuery(parameters: request.uri.queryParameters, statusMeansReview: true)
        if query.review == nil { query.highValue = true }
        let page = try await orders.orders(matching: query)
        return .json(.object([
            "reviews": .array(page.orders.map(\.reviewJSON)),
            "nextCursor": .string(orNull: page.nextCursor),
        ]))
    }

    func decide(_ action: OrderAction, _ context: AppRequestContext) async throws -> Response {
        let raw = context.parameters.get("orderId") ?? ""
        guard let id = OrderID(raw) else { throw Problem.notFound("order \(raw) does not exist (not a valid order id)") }
        let order = try await orders.perform(action, on: id)
        return .json(order.reviewJSON)
    }
}

extension Order {
    /// A review case: the review state with the order it is about.
    var reviewJSON: JSONValue {
        .object([
            "orderId": .string(id.rawValue),
            "status": .string(review?.rawValue ?? "pending"),
            "amount": .string(amount.decimalString),
            "currency": .string(currency.code),
            "orderStatus": .string(status.rawValue),
            "order": json,
        ])
    }
}
