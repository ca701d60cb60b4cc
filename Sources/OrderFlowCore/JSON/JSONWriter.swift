/// Compact JSON written straight into UTF-8 bytes: the hot paths (order responses, event envelopes) use it without
/// building a `JSONValue` tree first; `JSONValue.serialized()` goes through it too, so both forms agree byte for byte.
public struct JSONByteWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Whether the next member or element needs a comma before it.
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: Containers

    public mutating func beginObject() { separate(); bytes.append(0x7B); needsComma = false }
    public mutating func endObject() { bytes.append(0x7D); needsComma = true }
    public mutating func beginArray() { separate(); bytes.append(0x5B); needsComma = false }
    public mutating func endArray() { bytes.append(0x5D); needsComma = true }

    /// A member name; the value follows with one of the value methods.
    public mutating func key(_ name: String) {
        separate()
        Self.appendString(name, to: &bytes)
        bytes.append(0x3A)
        needsComma = false
    }

    // MARK: Values

    public mutating func string(_ value: String) { separate(); Self.appendString(value, to: &bytes); needsComma = true }
    public mutating func string(orNull value: String?) { if let value { string(value) } else { null() } }
    public mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }
    public mutating func null() { raw("null") }

    public mutating func int(_ value: Int64) {
        separate()
        Self.appendDecimal(value, to: &bytes)
        needsComma = true
    }

    /// A time as its RFC 3339 string (`Timestamp.iso8601`), written without building the `String`.
    public mutating func timestamp(_ time: Timestamp) {
        separate()
        bytes.append(0x22)
        time.appendISO8601(to: &bytes)
        bytes.append(0x22)
        needsComma = true
    }

    /// An amount as its exact decimal string (`ScaledDecimal.format`), written without building the `String`.
    public mutating func decimal(_ value: Int64, scale: Int) {
        separate()
        bytes.append(0x22)
        ScaledDecimal.append(value, scale: scale, to: &bytes)
        bytes.append(0x22)
        needsComma = true
    }

    /// A number literal exactly as given (already valid JSON).
    public mutating func number(_ literal: String) { raw(literal) }

    /// Bytes that already are one complete JSON value (for example an order encoded earlier).
    public mutating func rawValue<Bytes: Sequence<UInt8>>(_ value: Bytes) {
        separate()
        bytes.append(contentsOf: value)
        needsComma = true
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                self.value(member.value)
            }
            endObject()
        }
    }

    // MARK: Helpers

    private mutating func raw(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(0x2C) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A quoted string with `"`, `\` and control characters escaped; everything else is copied as UTF-8.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                switch byte {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                default:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        out.append(0x22)
    }

    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(0x2D)
            if value == .min {
                out.append(contentsOf: "9223372036854775808".utf8)
                return
            }
        }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }
}

extension JSONValue {
    /// Compact UTF-8 serialization, members in their stored order.
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// Compact serialization as bytes.
    public func serializedBytes() -> [UInt8] {
        var writer = JSONByteWriter()
        writer.value(self)
        return writer.bytes
    }
}
