/// Why a decimal amount literal was refused.
public enum MoneyError: Error, Sendable, Equatable, CustomStringConvertible {
    case notANumber
    case negative
    case tooPrecise(allowedDigits: Int)
    case tooLarge(maximum: String)

    public var description: String {
        switch self {
        case .notANumber: "must be a decimal number"
        case .negative: "must not be negative"
        case .tooPrecise(let digits): digits == 0 ? "must be a whole number in this currency" : "must have at most \(digits) decimal places in this currency"
        case .tooLarge(let maximum): "must not exceed \(maximum)"
        }
    }
}

/// An exact amount of money: integer minor units of one currency.
public struct Money: Sendable, Hashable {
    public let minorUnits: Int64
    public let currency: Currency

    /// Largest amount accepted anywhere, in major units. Anything above is a typo or an attack, not an order.
    public static let maximumMajorUnits: Int64 = 1_000_000_000

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// The largest amount accepted in `currency`, in minor units.
    public static func maximumMinorUnits(in currency: Currency) -> Int64 {
        maximumMajorUnits * pow10(currency.minorDigits)
    }

    /// Parses a decimal literal ("450", "450.5", "4.5e2", JSON number or string) exactly.
    /// Digits beyond the currency's precision are refused unless they are zeros.
    public static func parse(_ literal: String, currency: Currency) throws(MoneyError) -> Money {
        let scaled = try ScaledDecimal.parse(literal, scale: currency.minorDigits)
        let limit = maximumMinorUnits(in: currency)
        guard scaled.value <= limit else {
            throw .tooLarge(maximum: Money(minorUnits: limit, currency: currency).decimalString)
        }
        return Money(minorUnits: scaled.value, currency: currency)
    }

    /// The amount as a plain decimal string with exactly the currency's digits ("450.00", "1000" for JPY).
    public var decimalString: String {
        ScaledDecimal.format(minorUnits, scale: currency.minorDigits)
    }

    static func pow10(_ n: Int) -> Int64 {
        var result: Int64 = 1
        for _ in 0..<n { result *= 10 }
        return result
    }
}

/// A non-negative decimal held as an integer at a fixed scale.
public struct ScaledDecimal: Sendable, Hashable {
    public let value: Int64
    public let scale: Int

    /// Parses `literal` (optionally with exponent) into an integer at `scale` decimal places, exactly.
    public static func parse(_ literal: String, scale: Int) throws(MoneyError) -> ScaledDecimal {
        var bytes = Array(literal.utf8)[...]
        guard !bytes.isEmpty else { throw .notANumber }
        if bytes.first == UInt8(ascii: "-") {
            bytes = bytes.dropFirst()
            // "-0" and "-0.00" are zero, not a negative amount; anything else is negative.
            let digitsOnly = bytes.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
            if digitsOnly.contains(where: { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") }) { throw .negative }
        }
        var integerDigits: [UInt8] = []
        var fractionDigits: [UInt8] = []
        var exponent = 0
        var seenDot = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if seenDot { fractionDigits.append(byte - 48) } else { integerDigits.append(byte - 48) }
            } else if byte == UInt8(ascii: ".") && !seenDot {
                seenDot = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                let rest = String(decoding: bytes[(index + 1)...], as: UTF8.self)
                guard let e = Int(rest), abs(e) <= 40 else { throw .notANumber }
                exponent = e
                break
            } else {
                throw .notANumber
            }
            index += 1
        }
        if integerDigits.isEmpty && fractionDigits.isEmpty { throw .notANumber }
        if seenDot && fractionDigits.isEmpty { throw .notANumber }
        // value = 0.digits × 10^(integerCount + exponent); shift the decimal point by the exponent.
        var digits = integerDigits + fractionDigits
        var pointPosition = integerDigits.count + exponent
        // Drop leading zeros to keep the arithmetic small.
        while digits.count > 1 && digits.first == 0 {
            digits.removeFirst()
            pointPosition -= 1
        }
        var value: Int64 = 0
        let wholeAndScaled = pointPosition + scale
        for (position, digit) in digits.enumerated() {
            if position < wholeAndScaled {
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (added, overflow2) = shifted.addingReportingOverflow(Int64(digit))
                if overflow1 || overflow2 || added > 1_000_000_000_000_000 { throw .tooLarge(maximum: "the allowed range") }
                value = added
            } else if digit != 0 {
                throw .tooPrecise(allowedDigits: scale)
            }
        }
        // Pad with zeros when the literal ended before reaching the scale.
        var padding = wholeAndScaled - digits.count
        while padding > 0 {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow || shifted > 1_000_000_000_000_000 { throw .tooLarge(maximum: "the allowed range") }
            value = shifted
            padding -= 1
        }
        return ScaledDecimal(value: value, scale: scale)
    }

    /// Formats an integer at `scale` as a decimal string with exactly `scale` fraction digits.
    public static func format(_ value: Int64, scale: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24 + max(scale, 0))
        append(value, scale: scale, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `format(value, scale:)` as UTF-8 without building a `String` (JSON writers call this per amount).
    public static func append(_ value: Int64, scale: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let fractionDigits = max(scale, 0)
        // Digits least significant first; at least one more than the fraction so "0.05" keeps its leading zero.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21 + fractionDigits) { digits in
            var magnitude = value.magnitude
            var count = 0
            repeat {
                digits[count] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
                magnitude /= 10
                count += 1
            } while magnitude > 0
            if fractionDigits > 0 {
                while count <= fractionDigits {
                    digits[count] = UInt8(ascii: "0")
                    count += 1
                }
            }
            var index = count
            while index > 0 {
                index -= 1
                if fractionDigits > 0 && index == fractionDigits - 1 { out.append(UInt8(ascii: ".")) }
                out.append(digits[index])
            }
        }
    }
}
