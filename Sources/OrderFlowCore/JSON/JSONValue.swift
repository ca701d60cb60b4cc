/// A JSON document that keeps numbers as their exact literal text, so money never passes through `Double`.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written in the document (validated against the JSON grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; duplicate keys are rejected by the parser.
    case object([JSONMember])

    /// The member named `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// Builds an object from key/value pairs, leaving out pairs whose value is `nil`.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue?>) -> JSONValue {
        var members: [JSONMember] = []
        members.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            if let value { members.append(JSONMember(key: key, value: value)) }
        }
        return .object(members)
    }

    /// A JSON string, or `null` when `value` is nil.
    public static func string(orNull value: String?) -> JSONValue {
        value.map { .string($0) } ?? .null
    }

    /// A JSON integer.
    public static func int<I: BinaryInteger>(_ value: I) -> JSONValue { .number(String(value)) }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number literal when this is a number.
    public var numberLiteral: String? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The value as an `Int64` when it is an integral number literal (or a string holding one).
    public var int64Value: Int64? {
        switch self {
        case .number(let n): return Int64(n)
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    /// A short name of the kind of value, for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// One `"key": value` pair of a JSON object.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}
