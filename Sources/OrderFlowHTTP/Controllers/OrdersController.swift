import Hummingbird
import OrderFlowApp
import OrderFlowCore

/// `/orders`: submit, read, list, fulfil and cancel orders.
struct OrdersController {
    let orders: OrderService
    let bodyLimit: Int
    /// With an audit trail, the clock of its entries: a store that records them with the order
    /// (`recordsAuditWithOrders`) gets the entry with the submission, so order and entry share one disk flush.
    var auditClock: (any WallClock)? = nil

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/orders", use: create)
        router.get("/orders", use: list)
        router.get("/orders/:id", use: get)
        router.post("/orders/:id/fulfil", use: { request, context in try await perform(.fulfil, request, context) })
        router.post("/orders/:id/cancel", use: { request, context in try await perform(.cancel, request, context) })
    }

    /// `POST /orders`; every refusal is also counted in `orderflow_orders_rejected_total` by its problem kind.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        do {
            return try await accept(request, context)
        } catch let problem as Problem {
            // Conflicts are counted by the order service, which sees them for uploads too.
            if problem.kind != .orderConflict { orders.metrics.orderRejected(reason: problem.kind.rawValue) }
            throw problem
        }
    }

    func accept(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try request.requireJSONContentType()
        var request = request
        let body = try await request.collectBody(limit: bodyLimit)
        let draft: OrderDraft
        do {
            draft = try body.withUnsafeReadableBytes { bytes throws(OrderValidationError) in
                try OrderValidation.draft(fromJSON: bytes)
            }
        } catch {
            switch error {
            case .malformed(let reason): throw Problem.malformed(reason)
            case .invalid(let fields):
                throw Problem(.validationFailed, status: .unprocessableContent,
                              detail: fields.map { "\($0.field) \($0.message)" }.joined(separator: "; "), fieldErrors: fields)
            }
        }
        let audit = auditClock.flatMap { clock in
            orders.recordsAuditWithOrders ? AuditMiddleware.record(request, context, time: clock.now(), status: 0, resource: "") : nil
        }
        let outcome = try await orders.submit(draft, source: "api", traceparent: context.trace?.description, audit: audit)
        if audit != nil { context.notes.auditRecorded = true }
        switch outcome {
        case .created(let order):
            context.logger.debug("order accepted", metadata: ["orderId": "\(order.id)", "highValue": "\(order.highValue)"])
            return .json(bytes: order.encodedJSON(), status: .created, headers: [.location: "/orders/\(order.id)"])
        case .replayed(let order):
            return .json(bytes: order.encodedJSON(), status: .ok, headers: [.location: "/orders/\(order.id)"])
        case .conflict(let existing):
            throw Problem(.orderConflict, status: .conflict,
                          detail: "order \(existing.id) was stored earlier with different content; use a new orderId",
                          extra: [JSONMember(key: "orderId", value: .string(existing.id.rawValue))])
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try orderID(context)
        guard let order = try await orders.order(id) else { throw Problem.notFound("order \(id) does not exist") }
        return .json(bytes: order.encodedJSON())
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = try OrderQuery(parameters: request.uri.queryParameters)
        let page = try await orders.orders(matching: query)
        return .json(page.json)
    }

    func perform(_ action: OrderAction, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let order = try await orders.perform(action, on: try orderID(context))
        return .json(order.json)
    }

    func orderID(_ context: AppRequestContext, name: String = "id") throws -> OrderID {
        let raw = context.parameters.get(name) ?? ""
        guard let id = OrderID(raw) else { throw Problem.notFound("order \(raw) does not exist (not a valid order id)") }
        return id
    }
}

extension OrderPage {
    var json: JSONValue {
        .object(["orders": .array(orders.map(\.json)), "nextCursor": .string(orNull: nextCursor)])
    }
}

extension OrderQuery {
    /// Reads `status`, `customerId`, `highValue`, `review`, `limit` and `cursor` from the query string; 400 on bad values.
    /// With `statusMeansReview` (the `/reviews` listing), `status` filters the review state instead of the order's.
    init(parameters: Parameters, statusMeansReview: Bool = false) throws {
        self.init()
        if statusMeansReview, let text = parameters.get("status") {
            guard let review = ReviewStatus(rawValue: text) else {
                throw Problem.invalidField("status", "must be one of \(ReviewStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.review = review
        } else if let text = parameters.get("status") {
            guard let status = OrderStatus(rawValue: text) else {
                throw Problem.invalidField("status", "must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.status = status
        }
        customerId = parameters.get("customerId")
        if let text = parameters.get("highValue") {
            guard let flag = Bool(text) else { throw Problem.invalidField("highValue", "must be true or false") }
            highValue = flag
        }
        if let text = parameters.get("review") {
            guard let review = ReviewStatus(rawValue: text) else {
                throw Problem.invalidField("review", "must be one of \(ReviewStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.review = review
        }
        if let text = parameters.get("limit") {
            guard let limit = Int(text), (1...OrderQuery.maximumLimit).contains(limit) else {
                throw Problem.invalidField("limit", "must be a whole number from 1 to \(OrderQuery.maximumLimit)")
            }
            self.limit = limit
        }
        cursor = parameters.get("cursor")
    }
}
