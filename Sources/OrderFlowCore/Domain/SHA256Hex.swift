import Crypto

/// Hex-encoded SHA-256, the one digest OrderFlow uses for content hashes and derived ids.
public enum SHA256Hex {
    /// Lower-case hex SHA-256 of the UTF-8 bytes of `text`.
    public static func digest(_ text: String) -> String {
        var text = text
        return text.withUTF8 { hex(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
    }

    /// Lower-case hex SHA-256 of `bytes`; with `byteCount`, of only the digest's first bytes.
    public static func digest(bytes: [UInt8], byteCount: Int = SHA256.byteCount) -> String {
        hex(SHA256.hash(data: bytes), byteCount: byteCount)
    }

    /// Lower-case hex of any bytes (random ids, signatures).
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex($0) }
    }

    /// Lower-case hex of `digest`'s bytes; the digest stays bytes until text is needed.
    public static func hex(_ digest: SHA256.Digest, byteCount: Int = SHA256.byteCount) -> String {
        digest.withUnsafeBytes { bytes in hex(UnsafeRawBufferPointer(rebasing: bytes.prefix(byteCount))) }
    }

    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = hexDigit(byte >> 4)
                out[2 * index + 1] = hexDigit(byte & 0x0F)
            }
            return bytes.count * 2
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &+ (UInt8(ascii: "a") - 10)
    }
}
