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

    @Test("skipped members are checked but left out; everything else parses as usual")
    func skipsMembers() throws {
        let document = #"{"type":"t","data":{"id":"1","items":[{"sku":"a\"b","p":"1.00"},{"x":[1,{"y":null}]}],"n":2},"items":true}"#
        let parsed = try JSONParser.parse(Array(document.utf8), skippingMembers: ["items"])
        #expect(parsed == .object(["type": .string("t"), "data": .object(["id": .string("1"), "n": .number("2")])]))
        // Skipping must not make the parser lenient: broken JSON inside a skipped member is still an error.
        for bad in [#"{"items":[1,]}"#, #"{"items":"a\x"}"#, #"{"items":{"a" 1}}"#, #"{"items":01}"#, "{\"items\":\"\u{01}\"}",
                    #"{"items":[tru]}"#, #"{"items":"#] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try JSONParser.parse(Array(bad.utf8), skippingMembers: ["items"]) }
        }
        let invalidUTF8: [UInt8] = Array(#"{"items":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(invalidUTF8, skippingMembers: ["items"]) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(invalidUTF8) }
        let deep = #"{"items":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(deep.utf8), skippingMembers: ["items"]) }
    }

    @Test("ASCII and non-ASCII strings parse to the same text they were written from")
    func stringsFastAndSlowPath() throws {
        for text in ["plain", "", "é", "a😀b", "ÿ"] {
            #expect(try JSONParser.parse("\"\(text)\"") == .string(text))
        }
    }

    @Test("the byte writer writes what the tree serializer writes, escapes included")
    func writerMatchesTree() throws {
        let tree: JSONValue = .object([
            "s": .string("a\"b\\c\n\u{1F}é😀"), "n": .int(Int64.min), "z": .int(0), "neg": .int(-42),
            "max": .int(Int64.max), "arr": .array([.null, .bool(true), .bool(false), .array([]), .object([:])]),
            "lit": .number("1e-7"),
        ])
        let bytes = tree.serializedBytes()
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"s":"a\"b\\c\n\u001fé😀","n":-9223372036854775808,"z":0,"neg":-42,"max":9223372036854775807,"arr":[null,true,false,[],{}],"lit":1e-7}"#)
        #expect(try JSONParser.parse(bytes) == tree)
    }

    @Test("orders and events written directly equal their JSON trees serialized")
    func directEncodingsMatchTrees() throws {
        let created = Timestamp(millisecondsSinceEpoch: 1_790_000_000_123)
        let orders = [
            Order(id: OrderID("o-1")!, customerId: nil, currency: .seedDefault, items: [], amountMinor: 45_000,
                  highValue: true, status: .accepted, review: nil, source: "api", payloadHash: "h", createdAt: created, updatedAt: created),
            Order(id: OrderID("o-2")!, customerId: "c \"quoted\" \\ é", currency: Currency.named("JPY")!,
                  items: [OrderItem(sku: "SKU\t1", quantity: 3, unitPriceMinor: 1_000), OrderItem(sku: "B", quantity: 1, unitPriceMinor: 7)],
                  amountMinor: 3_007, highValue: false, status: .fulfilled, review: .approved, source: "upload:orders/a b.json",
                  payloadHash: "h", createdAt: created, updatedAt: Timestamp(millisecondsSinceEpoch: 1_790_000_999_999)),
        ]
        for order in orders {
            #expect(order.encodedJSON() == order.json.serializedBytes())
            for event in OrderEvent.events(for: order, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                + OrderEvent.events(for: order) {
                #expect(event.encoded() == event.json.serializedBytes())
                #expect(OrderEvent.decode(event.encoded())?.order.id == order.id)
            }
        }
    }
}
