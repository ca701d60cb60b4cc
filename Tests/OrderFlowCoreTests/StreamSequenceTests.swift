import OrderFlowCore
import Testing

@Suite("Stream sequence numbers")
struct StreamSequenceTests {
    @Test(arguments: [
        ("2", "1", true),
        ("1", "2", false),
        ("10", "9", true),
        ("00000000000000000010", "00000000000000000009", true),
        ("49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588897", true),
        ("49590338271490256608559692538361571095921575989136588898", "9", true),
        ("5", "5", false),
        ("0005", "5", false),
    ])
    func comparesAsNumbers(later: String, earlier: String, expected: Bool) {
        #expect(StreamRecord.isSequence(later, after: earlier) == expected)
    }
}
