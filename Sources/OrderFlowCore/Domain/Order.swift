/// A validated order identifier: 1–128 characters of `A–Z a–z 0–9 . _ : -`, safe in URLs, keys and logs.
public struct OrderID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 128

    /// Nil when `rawValue` breaks the identifier rules.
    public init?(_ rawValue: String) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= Self.maximumLength,
              rawValue.utf8.allSatisfy(OrderID.isAllowed) else { return nil }
        self.rawValue = rawValue
    }

    private init(trusted rawValue: String) {
        self.rawValue = rawValue
    }

    /// A new server-assigned id: `ord-<time base36>-<64 random bits hex>`, roughly sortable by creation time.
    public static func generate(at time: Timestamp) -> OrderID {
        var generator = SystemRandomNumberGenerator()
        let random = String(generator.next() as UInt64, radix: 16)
        let padded = String(repeating: "0", count: 16 - random.count) + random
        return OrderID(trusted: "ord-\(String(max(0, time.millisecondsSinceEpoch), radix: 36))-\(padded)")
    }

    public var description: String { rawValue }

    public static func < (lhs: OrderID, rhs: OrderID) -> Bool { lhs.rawValue < rhs.rawValue }

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: ":"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

/// Where an order is in its life.
public enum OrderStatus: String, Sendable, CaseIterable {
    case accepted
    case fulfilled
    case cancelled
}

/// The manual review every high-value order goes through.
public enum ReviewStatus: String, Sendable, CaseIterable {
    case open
    case approved
    case rejected
}

/// One line of an order.
public struct OrderItem: Sendable, Hashable {
    public let sku: String
    public let quantity: Int64
    public let unitPriceMinor: Int64

    public init(sku: String, quantity: Int64, unitPriceMinor: Int64) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
    }
}

/// A validated order as submitted, before it is stored.
public struct OrderDraft: Sendable, Hashable {
    /// The client's id; nil means the service assigns one.
    public var id: OrderID?
    public var customerId: String?
    public var currency: Currency
    public var items: [OrderItem]
    public var amountMinor: Int64

    public init(id: OrderID?, customerId: String?, currency: Currency, items: [OrderItem], amountMinor: Int64) {
        self.id = id
        self.customerId = customerId
        self.currency = currency
        self.items = items
        self.amountMinor = amountMinor
    }

    public var amount: Money { Money(minorUnits: amountMinor, currency: currency) }

    /// Hash of the order's content (not of the raw bytes): tells an identical replay from a conflicting reuse of an id.
    /// The text is stored with every order (and compared on every replay), so its form never changes:
    /// `v1|customer|currency|amountMinor` then `|skuLength:sku:quantity:unitPriceMinor` per item, hashed as UTF-8.
    public var payloadHash: String {
        var canonical: [UInt8] = []
        canonical.reserveCapacity(32 + (customerId?.utf8.count ?? 0) + items.count * 48)
        canonical.append(contentsOf: "v1|".utf8)
        canonical.append(contentsOf: (customerId ?? "").utf8)
        canonical.append(UInt8(ascii: "|"))
        canonical.append(contentsOf: currency.code.utf8)
        canonical.append(UInt8(ascii: "|"))
        JSONByteWriter.appendDecimal(amountMinor, to: &canonical)
        for item in items {
            canonical.append(UInt8(ascii: "|"))
            JSONByteWriter.appendDecimal(Int64(item.sku.utf8.count), to: &canonical)
            canonical.append(UInt8(ascii: ":"))
            canonical.append(contentsOf: item.sku.utf8)
            canonical.append(UInt8(ascii: ":"))
            JSONByteWriter.appendDecimal(item.quantity, to: &canonical)
            canonical.append(UInt8(ascii: ":"))
            JSONByteWriter.appendDecimal(item.unitPriceMinor, to: &canonical)
        }
        return SHA256Hex.digest(bytes: canonical)
    }
}

/// A stored order.
public struct Order: Sendable, Hashable {
    public var id: OrderID
    public var customerId: String?
    public var currency: Currency
    public var items: [OrderItem]
    public var amountMinor: Int64
    public var highValue: Bool
    public var status: OrderStatus
    public var review: ReviewStatus?
    /// `api`, `upload:<key>`, …: where the order came in.
    public var source: String
    public var payloadHash: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: OrderID, customerId: String?, currency: Currency, items: [OrderItem], amountMinor: Int64,
        highValue: Bool, status: OrderStatus, review: ReviewStatus?, source: String, payloadHash: String,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.customerId = customerId
        self.currency = currency
        self.items = items
        self.amountMinor = amountMinor
        self.highValue = highValue
        self.status = status
        self.review = review
        self.source = source
        self.payloadHash = payloadHash
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A new order from a validated draft.
    public init(draft: OrderDraft, id: OrderID, highValue: Bool, source: String, at time: Timestamp) {
        self.init(
            id: id, customerId: draft.customerId, currency: draft.currency, items: draft.items,
            amountMinor: draft.amountMinor, highValue: highValue, status: .accepted, review: nil,
            source: source, payloadHash: draft.payloadHash, createdAt: time, updatedAt: time
        )
    }

    public var amount: Money { Money(minorUnits: amountMinor, currency: currency) }
}
