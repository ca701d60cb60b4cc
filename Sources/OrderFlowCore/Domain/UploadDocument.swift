/// One order found in an uploaded object, with where it was.
public struct UploadedOrder: Sendable, Hashable {
    /// 1-based line (JSON Lines) or element index (array); 1 for a single-order object.
    public var position: Int
    public var draft: OrderDraft
}

/// One part of an uploaded object that is not a valid order.
public struct UploadProblem: Sendable, Hashable, CustomStringConvertible {
    public var position: Int
    public var reason: String

    public init(position: Int, reason: String) {
        self.position = position
        self.reason = reason
    }

    public var description: String { "#\(position): \(reason)" }
}

/// The orders an uploaded object holds: one JSON order, a JSON array of orders, or JSON Lines.
public struct UploadDocument: Sendable, Hashable {
    public var orders: [UploadedOrder]
    public var problems: [UploadProblem]
    /// `single`, `array` or `lines`; nil when the object is not JSON at all.
    public var format: String?

    /// Splits and validates an uploaded object. Never throws: everything wrong is a problem with a position.
    public static func parse(_ bytes: [UInt8]) -> UploadDocument {
        let split = JSONDocuments.split(bytes)
        var document = UploadDocument(orders: [], problems: split.problems, format: split.format)
        for (position, value) in split.values {
            document.add(value, position: position)
        }
        document.problems.sort { $0.position < $1.position }
        return document
    }

    private mutating func add(_ value: JSONValue, position: Int) {
        do {
            orders.append(UploadedOrder(position: position, draft: try OrderValidation.draft(from: value)))
        } catch {
            switch error {
            case .malformed(let reason):
                problems.append(UploadProblem(position: position, reason: reason))
            case .invalid(let fields):
                problems.append(UploadProblem(position: position, reason: fields.map { "\($0.field) \($0.message)" }.joined(separator: "; ")))
            }
        }
    }
}

/// Splits a byte sequence holding one JSON value, a JSON array of values, or JSON Lines into its values.
public enum JSONDocuments {
    /// The values with their 1-based position (array index or line number), the parts that are not JSON, and the format
    /// (`single`, `array`, `lines`; nil when nothing in it is JSON).
    public static func split(_ bytes: [UInt8]) -> (values: [(Int, JSONValue)], problems: [UploadProblem], format: String?) {
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF]
        guard let firstByte = bytes.first(where: { !whitespace.contains($0) }) else {
            return ([], [UploadProblem(position: 1, reason: "the object is empty")], nil)
        }
        if firstByte == UInt8(ascii: "[") {
            do {
                guard let elements = try JSONParser.parse(bytes).arrayValue else { return ([], [UploadProblem(position: 1, reason: "not an array")], nil) }
                if elements.isEmpty { return ([], [UploadProblem(position: 1, reason: "the array holds no orders")], "array") }
                return (elements.enumerated().map { ($0.offset + 1, $0.element) }, [], "array")
            } catch {
                return ([], [UploadProblem(position: 1, reason: "not valid JSON: \(error)")], nil)
            }
        }
        if let single = try? JSONParser.parse(bytes) {
            return ([(1, single)], [], "single")
        }
        var values: [(Int, JSONValue)] = []
        var problems: [UploadProblem] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ whitespace.contains($0) }) { continue }
            do {
                values.append((lineNumber, try JSONParser.parse(line)))
            } catch {
                problems.append(UploadProblem(position: lineNumber, reason: "not valid JSON: \(error)"))
            }
        }
        return (values, problems, values.isEmpty ? nil : "lines")
    }
}
