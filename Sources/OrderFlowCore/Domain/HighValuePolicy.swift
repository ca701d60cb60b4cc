/// The seeds' rule: an order is high-value when its amount is strictly greater than the threshold (default 300).
public struct HighValuePolicy: Sendable, Hashable {
    /// Threshold in millionths of a major unit, so any currency's minor units compare exactly.
    let thresholdMicros: Int64
    public let thresholdText: String

    static let microDigits = 6

    /// A policy for a decimal threshold such as "300" or "299.99". Nil when the text is not a non-negative decimal.
    public init?(threshold: String) {
        guard let scaled = try? ScaledDecimal.parse(threshold, scale: Self.microDigits) else { return nil }
        thresholdMicros = scaled.value
        thresholdText = threshold
    }

    /// The seeds' default: more than 300.
    public static let standard = HighValuePolicy(thresholdMicros: 300_000_000, text: "300")

    init(thresholdMicros: Int64, text: String) {
        self.thresholdMicros = thresholdMicros
        self.thresholdText = text
    }

    /// True when `amount` is strictly greater than the threshold (amounts are compared per currency, no FX).
    public func isHighValue(_ amount: Money) -> Bool {
        let micros = amount.minorUnits.multipliedReportingOverflow(by: Money.pow10(Self.microDigits - amount.currency.minorDigits))
        return micros.overflow || micros.partialValue > thresholdMicros
    }
}
