/// One DynamoDB attribute value as it travels in the JSON protocol: `{"S": "…"}`, `{"N": "12.50"}` (numbers as exact
/// decimal strings, never binary floating point), `{"BOOL": true}`, `{"NULL": true}`, `{"L": […]}`, `{"M": {…}}`.
public indirect enum DynamoDBValue: Sendable, Hashable {
    case string(String)
    /// A number in DynamoDB's decimal text form.
    case number(String)
    case bool(Bool)
    case null
    case list([DynamoDBValue])
    case map([String: DynamoDBValue])

    /// A whole number.
    public static func int(_ value: Int64) -> DynamoDBValue { .number(String(value)) }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number as a whole `Int64`, or nil for anything else (including fractions).
    public var int64Value: Int64? {
        if case .number(let text) = self { return Int64(text) }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var listValue: [DynamoDBValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    public var mapValue: [String: DynamoDBValue]? {
        if case .map(let value) = self { return value }
        return nil
    }
}

/// An item: attribute names to values.
public typealias DynamoDBItem = [String: DynamoDBValue]

extension DynamoDBValue: Codable {
    private struct TypeKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .string(let value): try container.encode(value, forKey: TypeKey("S"))
        case .number(let value): try container.encode(value, forKey: TypeKey("N"))
        case .bool(let value): try container.encode(value, forKey: TypeKey("BOOL"))
        case .null: try container.encode(true, forKey: TypeKey("NULL"))
        case .list(let value): try container.encode(value, forKey: TypeKey("L"))
        case .map(let value): try container.encode(value, forKey: TypeKey("M"))
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        guard let key = container.allKeys.first, container.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an attribute value has exactly one type key"))
        }
        switch key.stringValue {
        case "S": self = .string(try container.decode(String.self, forKey: key))
        case "N": self = .number(try container.decode(String.self, forKey: key))
        case "BOOL": self = .bool(try container.decode(Bool.self, forKey: key))
        case "NULL": self = .null
        case "L": self = .list(try container.decode([DynamoDBValue].self, forKey: key))
        case "M": self = .map(try container.decode([String: DynamoDBValue].self, forKey: key))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unsupported attribute type \(key.stringValue)"))
        }
    }
}
