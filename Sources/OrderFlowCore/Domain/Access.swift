/// What a caller may do. Every route needs one scope, except the open ones (`/health`, the dashboard page, the API spec).
public enum Scope: String, Sendable, Hashable, CaseIterable, Comparable {
    case ordersRead = "orders:read"
    case ordersWrite = "orders:write"
    case documentsWrite = "documents:write"
    case reviewsWrite = "reviews:write"
    /// Operations and administration (`/status`, `/metrics`, queues, alarms); implies no other scope.
    case admin

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses a list like `orders:read,orders:write` (commas or spaces); nil names the first unknown scope.
    public static func parseList(_ text: String) -> Result<Set<Scope>, UnknownScope> {
        var scopes: Set<Scope> = []
        for part in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            guard let scope = Scope(rawValue: String(part)) else { return .failure(UnknownScope(name: String(part))) }
            scopes.insert(scope)
        }
        return .success(scopes)
    }
}

/// A scope name that is not one of `Scope`'s.
public struct UnknownScope: Error, Sendable, CustomStringConvertible {
    public let name: String
    public var description: String { "\(name) is not a scope (\(Scope.allCases.map(\.rawValue).joined(separator: ", ")))" }
}

/// Who made a request, as the audit trail records it.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Authentication is off (loopback only).
        case anonymous
        case apiKey = "apikey"
        case jwt
    }

    public var kind: Kind
    /// `apikey:<id>`, `jwt:<sub>`, or `anonymous`.
    public var id: String
    public var scopes: Set<Scope>

    public init(kind: Kind, id: String, scopes: Set<Scope>) {
        self.kind = kind
        self.id = id
        self.scopes = scopes
    }

    /// Everyone, with every scope: the principal when authentication is off.
    public static let anonymous = Principal(kind: .anonymous, id: "anonymous", scopes: Set(Scope.allCases))

    public var description: String { id }
}
