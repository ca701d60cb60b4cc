/// A W3C Trace Context `traceparent` (version 00): `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
///
/// The edge accepts a valid one from the client or starts a new trace; the value travels with the order's events
/// through the outbox, the topic, the queue and the stream, so every log line about one order carries its trace id.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public let traceId: String
    /// 16 lowercase hex digits, not all zero: the span that sent this context.
    public let parentId: String
    /// The trace flags (bit 0: sampled).
    public let flags: UInt8

    /// Parses a `traceparent` header value; nil when it is not a valid version-00 value (then the edge starts a new
    /// trace rather than passing garbage on).
    public init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00",
              parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              Self.isLowerHex(parts[1]), Self.isLowerHex(parts[2]), Self.isLowerHex(parts[3]),
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" }),
              let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        traceId = String(parts[1])
        parentId = String(parts[2])
        self.flags = flags
    }

    /// A new trace with a random trace id and parent id, sampled.
    public static func random() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return TraceContext(traceId: hex(generator.next(), generator.next()), parentId: hex(generator.next()), flags: 1)
    }

    /// The same trace with a new parent id: the context this service passes on for the work it starts.
    public func child() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return TraceContext(traceId: traceId, parentId: Self.hex(generator.next()), flags: flags)
    }

    private init(traceId: String, parentId: String, flags: UInt8) {
        self.traceId = traceId
        self.parentId = parentId
        self.flags = flags
    }

    /// The header value.
    public var description: String {
        "00-\(traceId)-\(parentId)-\(flags < 16 ? "0" : "")\(String(flags, radix: 16))"
    }

    /// The trace id inside a `traceparent` value, or nil if the value is not valid.
    public static func traceId(of traceparent: String) -> String? {
        TraceContext(traceparent: traceparent)?.traceId
    }

    private static func isLowerHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private static func hex(_ words: UInt64...) -> String {
        var text = ""
        for word in words {
            let digits = String(word == 0 ? 1 : word, radix: 16)
            text += String(repeating: "0", count: 16 - digits.count) + digits
        }
        return text
    }
}
