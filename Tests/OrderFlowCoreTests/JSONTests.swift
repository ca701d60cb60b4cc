import OrderFlowCore
import Testing

@Suite("JSON parser and writer")
struct JSONTests {
    @Test func keepsNumbersExact() throws {
        let value = try JSONParser.parse(#"{"a":0.1,"b":12345678901234567890.123,"c":-1e-7}"#)
        #expect(value["a"] == .number("0.1"))
        #expect(value["b"] == .number("12345678901234567890.123"))
        #expect(value["c"] == .number("-1e-7"))
    }

    @Test func escapesRoundTrip() throws {
        let text = "quote \" backslash \\ newline \n tab \t control \u{01} emoji 😀 é"
        let parsed = try JSONParser.parse(JSONValue.string(text).serialized())
        #expect(parsed == .string(text))
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func rejectsInvalidDocuments() {
        for bad in ["", "{", "[1,]", "01", "1.", "\"\\x\"", "tru", "{\"a\" 1}", "\"\\ud800\"", "[1] 2", "\"a\u{01}\""] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
    }
}
