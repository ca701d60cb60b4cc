/// The kinds of event an accepted order produces.
public enum OrderEventType: String, Sendable, CaseIterable {
    /// Every accepted order; goes to the analytics stream.
    case accepted = "order.accepted"
    /// Orders above the high-value threshold; goes to the high-value topic.
    case highValue = "order.high_value"
}

/// The envelope every event travels in (outbox, topic, queue, stream), as in DESIGN.md.
public struct OrderEvent: Sendable, Hashable {
    /// Stable across re-deliveries, derived from the order id and type: consumers de-duplicate on it.
    public var eventId: String
    public var type: OrderEventType
    public var schemaVersion: Int
    public var time: Timestamp
    public var source: String
    public var orderId: OrderID
    public var order: Order
    public var traceparent: String?

    public init(type: OrderEventType, order: Order, traceparent: String? = nil) {
        self.eventId = OrderEvent.eventId(type: type, orderId: order.id)
        self.type = type
        self.schemaVersion = 1
        self.time = order.createdAt
        self.source = order.source
        self.orderId = order.id
        self.order = order
        self.traceparent = traceparent
    }

    /// The events an accepted order produces: always `order.accepted`, plus `order.high_value` above the threshold.
    public static func events(for order: Order, traceparent: String? = nil) -> [OrderEvent] {
        var events = [OrderEvent(type: .accepted, order: order, traceparent: traceparent)]
        if order.highValue { events.append(OrderEvent(type: .highValue, order: order, traceparent: traceparent)) }
        return events
    }

    /// A name-based id (UUID layout over SHA-256 of type and order id): the same order and type always give the same id.
    public static func eventId(type: OrderEventType, orderId: OrderID) -> String {
        var name = Array(type.rawValue.utf8)
        name.append(0)
        name.append(contentsOf: orderId.rawValue.utf8)
        let hex = SHA256Hex.digest(bytes: name, byteCount: 16).utf8
        var id: [UInt8] = []
        id.reserveCapacity(36)
        for (index, digit) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { id.append(UInt8(ascii: "-")) }
            id.append(digit)
        }
        return String(decoding: id, as: UTF8.self)
    }

    public var json: JSONValue {
        .object([
            "eventId": .string(eventId),
            "type": .string(type.rawValue),
            "schemaVersion": .int(schemaVersion),
            "time": .string(time.iso8601),
            "source": .string(source),
            "orderId": .string(orderId.rawValue),
            "data": order.json,
            "traceparent": traceparent.map(JSONValue.string),
        ])
    }

    /// The envelope as compact JSON bytes, the form every transport carries; equal to `json.serializedBytes()`.
    public func encoded() -> [UInt8] { encoded(orderJSON: order.encodedJSON()) }

    /// The envelope with `orderJSON` (this event's `order.encodedJSON()`, computed once for all events of an order)
    /// as its `data`.
    public func encoded(orderJSON: [UInt8]) -> [UInt8] {
        var writer = JSONByteWriter(capacity: orderJSON.count + 256)
        writer.beginObject()
        writer.key("eventId"); writer.string(eventId)
        writer.key("type"); writer.string(type.rawValue)
        writer.key("schemaVersion"); writer.int(Int64(schemaVersion))
        writer.key("time"); writer.timestamp(time)
        writer.key("source"); writer.string(source)
        writer.key("orderId"); writer.string(orderId.rawValue)
        writer.key("data"); writer.rawValue(orderJSON)
        if let traceparent { writer.key("traceparent"); writer.string(traceparent) }
        writer.endObject()
        return writer.bytes
    }

    /// Reads an envelope back from its JSON bytes.
    public static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> OrderEvent? {
        guard let json = try? JSONParser.parse(bytes) else { return nil }
        return decode(json: json)
    }

    /// Reads the events of a topic or queue message: one envelope, or a JSON array of envelopes (the form in which the
    /// AWS relay carries many high-value events in one message). Nil when the body is neither, or when any element is
    /// not an envelope: a message is handled whole.
    public static func decodeAll<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [OrderEvent]? {
        guard let json = try? JSONParser.parse(bytes) else { return nil }
        guard let elements = json.arrayValue else { return decode(json: json).map { [$0] } }
        var events: [OrderEvent] = []
        events.reserveCapacity(elements.count)
        for element in elements {
            guard let event = decode(json: element) else { return nil }
            events.append(event)
        }
        return events.isEmpty ? nil : events
    }

    static func decode(json: JSONValue) -> OrderEvent? {
        guard let typeText = json["type"]?.stringValue, let type = OrderEventType(rawValue: typeText),
              let eventId = json["eventId"]?.stringValue,
              let data = json["data"], let order = Order(json: data) else { return nil }
        var event = OrderEvent(type: type, order: order, traceparent: json["traceparent"]?.stringValue)
        event.eventId = eventId
        event.source = json["source"]?.stringValue ?? order.source
        return event
    }
}
