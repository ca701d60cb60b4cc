import OrderFlowCore
import Testing

@Suite("Money is exact")
struct MoneyTests {
    let usd = Currency.seedDefault

    @Test("decimal literals parse to exact minor units", arguments: [
        ("450", 45000), ("450.5", 45050), ("450.50", 45050), ("0.01", 1), ("4.5e2", 45000), ("300.01", 30001), ("1.000", 100), ("-0", 0),
    ] as [(String, Int64)])
    func parses(_ literal: String, _ minor: Int64) throws {
        #expect(try Money.parse(literal, currency: usd).minorUnits == minor)
    }

    @Test func refusesMoreDecimalsThanTheCurrencyHas() throws {
        #expect(throws: MoneyError.tooPrecise(allowedDigits: 2)) { try Money.parse("1.005", currency: usd) }
        #expect(throws: MoneyError.tooPrecise(allowedDigits: 0)) { try Money.parse("1.5", currency: Currency.named("JPY")!) }
        #expect(try Money.parse("1.234", currency: Currency.named("KWD")!).minorUnits == 1234)
    }

    @Test func refusesNegativeAbsurdAndNonNumbers() {
        #expect(throws: MoneyError.negative) { try Money.parse("-1", currency: usd) }
        #expect(throws: MoneyError.self) { try Money.parse("1000000000.01", currency: usd) }
        #expect(throws: MoneyError.self) { try Money.parse("1e30", currency: usd) }
        #expect(throws: MoneyError.notANumber) { try Money.parse("12abc", currency: usd) }
        #expect(throws: MoneyError.notANumber) { try Money.parse("", currency: usd) }
        #expect(throws: MoneyError.notANumber) { try Money.parse("1.", currency: usd) }
    }

    @Test func formatsWithTheCurrencyDigits() {
        #expect(Money(minorUnits: 45000, currency: usd).decimalString == "450.00")
        #expect(Money(minorUnits: 5, currency: usd).decimalString == "0.05")
        #expect(Money(minorUnits: 1000, currency: Currency.named("JPY")!).decimalString == "1000")
        #expect(Money(minorUnits: 1, currency: Currency.named("KWD")!).decimalString == "0.001")
        #expect(ScaledDecimal.format(0, scale: 2) == "0.00")
        #expect(ScaledDecimal.format(-5, scale: 2) == "-0.05")
        #expect(ScaledDecimal.format(-1000, scale: 0) == "-1000")
        #expect(ScaledDecimal.format(100, scale: 2) == "1.00")
        #expect(ScaledDecimal.format(.max, scale: 3) == "9223372036854775.807")
        #expect(ScaledDecimal.format(.min, scale: 2) == "-92233720368547758.08")
    }
}

@Suite("High-value policy")
struct HighValuePolicyTests {
    let usd = Currency.seedDefault

    @Test func strictlyGreaterThanThreshold() {
        let policy = HighValuePolicy.standard
        #expect(policy.isHighValue(Money(minorUnits: 30000, currency: usd)) == false)
        #expect(policy.isHighValue(Money(minorUnits: 30001, currency: usd)) == true)
        #expect(policy.isHighValue(Money(minorUnits: 29999, currency: usd)) == false)
        #expect(policy.isHighValue(Money(minorUnits: 301, currency: Currency.named("JPY")!)) == true)
        #expect(policy.isHighValue(Money(minorUnits: 300_000, currency: Currency.named("KWD")!)) == false)
        #expect(policy.isHighValue(Money(minorUnits: 300_001, currency: Currency.named("KWD")!)) == true)
    }

    @Test func configurableThreshold() throws {
        let policy = try #require(HighValuePolicy(threshold: "99.5"))
        #expect(policy.isHighValue(Money(minorUnits: 9950, currency: usd)) == false)
        #expect(policy.isHighValue(Money(minorUnits: 9951, currency: usd)) == true)
        #expect(HighValuePolicy(threshold: "-1") == nil)
        #expect(HighValuePolicy(threshold: "abc") == nil)
    }
}
