import Crypto

/// Hex-encoded SHA-256, the one digest OrderFlow uses for content hashes and derived ids.
public enum SHA256Hex {
    /// Lower-case hex SHA-256 of the UTF-8 bytes of `text`.
    public static func digest(_ text: String) -> String {
        hex(SHA256.hash(data: Array(text.utf8)))
    }

    /// Lower-case hex SHA-256 of `bytes`.
    public static func digest(bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hex<D: Sequence<UInt8>>(_ digest: D) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
