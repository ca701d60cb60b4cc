/// What a user or worker asks to happen to a stored order.
public enum OrderAction: String, Sendable, CaseIterable {
    case fulfil
    case cancel
    case openReview
    case approveReview
    case rejectReview
}

/// Why an action is not allowed in the order's current state (HTTP 409).
public struct IllegalTransition: Error, Sendable, Equatable, CustomStringConvertible {
    public var action: OrderAction
    public var status: OrderStatus
    public var review: ReviewStatus?
    public var reason: String

    public var description: String { reason }
}

/// The order state machine: `accepted → fulfilled | cancelled`; reviews `open → approved | rejected`,
/// where rejecting cancels the order and a high-value order ships only once approved.
public enum OrderLifecycle {
    /// The order after `action`, or the reason it is not allowed. `nil` means "already so": an idempotent no-op.
    public static func apply(_ action: OrderAction, to order: Order, at time: Timestamp) -> Result<Order?, IllegalTransition> {
        func illegal(_ reason: String) -> Result<Order?, IllegalTransition> {
            .failure(IllegalTransition(action: action, status: order.status, review: order.review, reason: reason))
        }
        var next = order
        next.updatedAt = time
        switch action {
        case .fulfil:
            if order.status == .fulfilled { return .success(nil) }
            guard order.status == .accepted else { return illegal("order \(order.id) is \(order.status.rawValue) and cannot be fulfilled") }
            if order.highValue && order.review != .approved {
                return illegal("order \(order.id) is high-value and its review is \(order.review?.rawValue ?? "not yet open"); it can be fulfilled once approved")
            }
            next.status = .fulfilled
        case .cancel:
            if order.status == .cancelled { return .success(nil) }
            guard order.status == .accepted else { return illegal("order \(order.id) is \(order.status.rawValue) and cannot be cancelled") }
            next.status = .cancelled
        case .openReview:
            guard order.highValue else { return illegal("order \(order.id) is not high-value and needs no review") }
            if order.review != nil { return .success(nil) }
            next.review = .open
        case .approveReview:
            if order.review == .approved { return .success(nil) }
            guard order.review == .open else { return illegal("order \(order.id) has \(order.review.map { "a review that is \($0.rawValue)" } ?? "no open review")") }
            guard order.status == .accepted else { return illegal("order \(order.id) is \(order.status.rawValue); its review can no longer be approved") }
            next.review = .approved
        case .rejectReview:
            if order.review == .rejected { return .success(nil) }
            guard order.review == .open else { return illegal("order \(order.id) has \(order.review.map { "a review that is \($0.rawValue)" } ?? "no open review")") }
            next.review = .rejected
            if order.status == .accepted { next.status = .cancelled }
        }
        return .success(next)
    }
}
