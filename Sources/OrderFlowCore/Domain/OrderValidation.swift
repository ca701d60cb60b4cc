/// One problem with one field of a submitted order.
public struct FieldError: Sendable, Hashable {
    /// JSON-pointer-like path of the field, e.g. `items[2].unitPrice`.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// Why a submitted order was refused.
public enum OrderValidationError: Error, Sendable, Equatable {
    /// The body is not a JSON object at all (HTTP 400).
    case malformed(String)
    /// The body is JSON but fields break the rules (HTTP 422).
    case invalid([FieldError])
}

/// Turns submitted order documents (the API form and the seeds' test-event form) into validated drafts.
public enum OrderValidation {
    public static let maximumItems = 1000
    public static let maximumQuantity: Int64 = 1_000_000
    public static let maximumTextLength = 128

    /// Parses and validates one order document from raw JSON bytes.
    public static func draft<Bytes: Collection<UInt8>>(fromJSON bytes: Bytes) throws(OrderValidationError) -> OrderDraft {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .malformed("body is not valid JSON: \(error)")
        }
        return try draft(from: document)
    }

    /// Validates one parsed order document.
    public static func draft(from document: JSONValue) throws(OrderValidationError) -> OrderDraft {
        guard case .object = document else {
            throw .malformed("an order must be a JSON object, not \(document.kindName)")
        }
        if isSeedForm(document) {
            return try seedDraft(document)
        }
        return try apiDraft(document)
    }

    /// The seeds' Lambda test events: `{"OrderId":"1001","Amount":450}` (or `OrderID`), no items.
    static func isSeedForm(_ document: JSONValue) -> Bool {
        document["items"] == nil && (document["OrderId"] != nil || document["OrderID"] != nil || document["Amount"] != nil)
    }

    static func seedDraft(_ document: JSONValue) throws(OrderValidationError) -> OrderDraft {
        var errors: [FieldError] = []
        var id: OrderID?
        let idFields = ["OrderId", "OrderID"].compactMap { name in document[name].map { (name, $0) } }
        if idFields.count > 1 {
            errors.append(FieldError(field: "OrderID", message: "give OrderId or OrderID, not both"))
        } else if let (name, value) = idFields.first {
            id = orderID(value, field: name, errors: &errors)
        }
        var currency = Currency.seedDefault
        if let value = document["Currency"] ?? document["currency"] {
            if let parsed = self.currency(value, field: "Currency", errors: &errors) { currency = parsed }
        }
        var amount: Int64 = 0
        if let value = document["Amount"] {
            amount = money(value, field: "Amount", currency: currency, errors: &errors) ?? 0
        } else {
            errors.append(FieldError(field: "Amount", message: "is required"))
        }
        var customer: String?
        if let value = document["CustomerId"] ?? document["customerId"] {
            customer = text(value, field: "CustomerId", errors: &errors)
        }
        guard errors.isEmpty else { throw .invalid(errors) }
        return OrderDraft(id: id, customerId: customer, currency: currency, items: [], amountMinor: amount)
    }

    static func apiDraft(_ document: JSONValue) throws(OrderValidationError) -> OrderDraft {
        var errors: [FieldError] = []
        var id: OrderID?
        if let value = document["orderId"], value != .null {
            id = orderID(value, field: "orderId", errors: &errors)
        }
        var customer: String?
        if let value = document["customerId"] {
            customer = text(value, field: "customerId", errors: &errors)
        } else {
            errors.append(FieldError(field: "customerId", message: "is required"))
        }
        var currency: Currency?
        if let value = document["currency"] {
            currency = self.currency(value, field: "currency", errors: &errors)
        } else {
            errors.append(FieldError(field: "currency", message: "is required"))
        }
        var items: [OrderItem] = []
        var total: Int64? = 0
        switch document["items"] {
        case nil:
            errors.append(FieldError(field: "items", message: "is required"))
            total = nil
        case .array(let elements)?:
            if elements.isEmpty {
                errors.append(FieldError(field: "items", message: "must hold at least one item"))
            } else if elements.count > maximumItems {
                errors.append(FieldError(field: "items", message: "must hold at most \(maximumItems) items"))
            } else {
                for (index, element) in elements.enumerated() {
                    guard let item = self.item(element, field: "items[\(index)]", currency: currency, errors: &errors) else {
                        total = nil
                        continue
                    }
                    items.append(item)
                    if let running = total {
                        let (line, overflow1) = item.quantity.multipliedReportingOverflow(by: item.unitPriceMinor)
                        let (sum, overflow2) = running.addingReportingOverflow(line)
                        total = overflow1 || overflow2 ? Int64.max : sum
                    }
                }
            }
        case let other?:
            errors.append(FieldError(field: "items", message: "must be an array, not \(other.kindName)"))
            total = nil
        }
        if let currency, let computed = total, computed > Money.maximumMinorUnits(in: currency) {
            errors.append(FieldError(field: "items", message: "total must not exceed \(Money(minorUnits: Money.maximumMinorUnits(in: currency), currency: currency).decimalString)"))
            total = nil
        }
        if let value = document["amount"], value != .null, let currency {
            if let given = money(value, field: "amount", currency: currency, errors: &errors), let computed = total, given != computed {
                errors.append(FieldError(
                    field: "amount",
                    message: "is \(Money(minorUnits: given, currency: currency).decimalString) but the items total \(Money(minorUnits: computed, currency: currency).decimalString)"
                ))
            }
        }
        guard errors.isEmpty, let currency, let total else { throw .invalid(errors) }
        return OrderDraft(id: id, customerId: customer, currency: currency, items: items, amountMinor: total)
    }

    static func item(_ value: JSONValue, field: @autoclosure () -> String, currency: Currency?, errors: inout [FieldError]) -> OrderItem? {
        guard case .object = value else {
            errors.append(FieldError(field: field(), message: "must be an object, not \(value.kindName)"))
            return nil
        }
        let before = errors.count
        var sku: String?
        if let v = value["sku"] {
            sku = text(v, field: "\(field()).sku", errors: &errors)
        } else {
            errors.append(FieldError(field: "\(field()).sku", message: "is required"))
        }
        var quantity: Int64?
        switch value["quantity"] {
        case nil:
            errors.append(FieldError(field: "\(field()).quantity", message: "is required"))
        case .number(let literal)?:
            if let q = Int64(literal), q >= 1, q <= maximumQuantity {
                quantity = q
            } else {
                errors.append(FieldError(field: "\(field()).quantity", message: "must be a whole number from 1 to \(maximumQuantity)"))
            }
        case let other?:
            errors.append(FieldError(field: "\(field()).quantity", message: "must be a number, not \(other.kindName)"))
        }
        var price: Int64?
        if let v = value["unitPrice"] {
            if let currency { price = money(v, field: "\(field()).unitPrice", currency: currency, errors: &errors) }
        } else {
            errors.append(FieldError(field: "\(field()).unitPrice", message: "is required"))
        }
        guard errors.count == before, let sku, let quantity, let price else { return nil }
        return OrderItem(sku: sku, quantity: quantity, unitPriceMinor: price)
    }

    static func orderID(_ value: JSONValue, field: @autoclosure () -> String, errors: inout [FieldError]) -> OrderID? {
        let raw: String
        switch value {
        case .string(let s): raw = s
        case .number(let n) where Int64(n) != nil: raw = n  // the seeds' events sometimes carry numeric ids
        default:
            errors.append(FieldError(field: field(), message: "must be a string, not \(value.kindName)"))
            return nil
        }
        guard let id = OrderID(raw) else {
            errors.append(FieldError(field: field(), message: "must be 1–\(OrderID.maximumLength) characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'"))
            return nil
        }
        return id
    }

    static func text(_ value: JSONValue, field: @autoclosure () -> String, errors: inout [FieldError]) -> String? {
        guard case .string(let s) = value else {
            errors.append(FieldError(field: field(), message: "must be a string, not \(value.kindName)"))
            return nil
        }
        let trimmed = s.trimmingWhitespace()
        guard isPrintable(trimmed) else {
            errors.append(FieldError(field: field(), message: "must be 1–\(maximumTextLength) printable characters"))
            return nil
        }
        return trimmed
    }

    /// 1 to `maximumTextLength` characters, none of them a control character. Printable ASCII (the common case) is
    /// decided on the bytes alone.
    static func isPrintable(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty else { return false }
        if utf8.count <= maximumTextLength, utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return true }
        return text.count <= maximumTextLength
            && !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    }

    static func currency(_ value: JSONValue, field: @autoclosure () -> String, errors: inout [FieldError]) -> Currency? {
        guard case .string(let code) = value else {
            errors.append(FieldError(field: field(), message: "must be a string, not \(value.kindName)"))
            return nil
        }
        guard let currency = Currency.named(code) else {
            errors.append(FieldError(field: field(), message: "must be a supported ISO 4217 code in upper case, e.g. USD"))
            return nil
        }
        return currency
    }

    static func money(_ value: JSONValue, field: @autoclosure () -> String, currency: Currency, errors: inout [FieldError]) -> Int64? {
        let literal: String
        switch value {
        case .number(let n): literal = n
        case .string(let s): literal = s
        default:
            errors.append(FieldError(field: field(), message: "must be a decimal number or string, not \(value.kindName)"))
            return nil
        }
        do {
            return try Money.parse(literal, currency: currency).minorUnits
        } catch {
            errors.append(FieldError(field: field(), message: error.description))
            return nil
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        // Common case: starts and ends with a visible ASCII character, so there is nothing to trim.
        let utf8 = self.utf8
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F { return self }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
