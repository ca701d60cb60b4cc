import Crypto

/// The `X-OrderFlow-Signature` header of webhook deliveries: `sha256=` and the lower-case hex HMAC-SHA256 of the
/// request body under the subscription's secret. Receivers verify it with `isValid` before trusting a delivery.
public enum WebhookSignature {
    /// The header that carries the signature.
    public static let headerName = "X-OrderFlow-Signature"

    private static let prefix = "sha256="

    /// The header value for `body` signed with `secret`.
    public static func headerValue(for body: [UInt8], secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return prefix + hex(code)
    }

    /// True when `headerValue` is the signature of `body` under `secret`, compared in constant time.
    public static func isValid(_ headerValue: String, body: [UInt8], secret: String) -> Bool {
        guard headerValue.hasPrefix(prefix), let code = bytes(fromHex: headerValue.dropFirst(prefix.count)) else {
            return false
        }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: body, using: SymmetricKey(data: Array(secret.utf8)))
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func bytes(fromHex text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: nil
        }
    }
}
