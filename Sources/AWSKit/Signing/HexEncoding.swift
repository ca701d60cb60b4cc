import Crypto

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, the form SigV4 uses for every digest and signature.
    var hexString: String {
        var output: [UInt8] = []
        output.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            output.append(lowerHexDigits[Int(byte >> 4)])
            output.append(lowerHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}

private let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)
