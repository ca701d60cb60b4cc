/// An ISO 4217 currency with the number of digits its minor unit has.
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let minorDigits: Int

    public var description: String { code }

    /// The currency for an ISO 4217 code (upper-case), or nil when OrderFlow does not know it.
    public static func named(_ code: String) -> Currency? {
        guard let digits = minorDigitsByCode[code] else { return nil }
        return Currency(code: code, minorDigits: digits)
    }

    /// The currency the seeds' test events are in: they carry an amount but no currency.
    public static let seedDefault = Currency(code: "USD", minorDigits: 2)

    /// Codes OrderFlow accepts. A closed list keeps typos ("USDD") from becoming new currencies in the aggregates.
    private static let minorDigitsByCode: [String: Int] = [
        "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2, "DKK": 2,
        "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "BGN": 2, "TRY": 2, "ZAR": 2, "BRL": 2, "MXN": 2, "ARS": 2,
        "INR": 2, "CNY": 2, "HKD": 2, "SGD": 2, "THB": 2, "MYR": 2, "PHP": 2, "IDR": 2, "ILS": 2, "AED": 2,
        "SAR": 2, "EGP": 2, "NGN": 2, "KES": 2, "TWD": 2,
        "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0,
        "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
    ]
}
