import Logging
import OrderFlowCore
import Testing
@testable import OrderFlowApp

/// The JSON log line's fields: an error is never dropped, wherever the log call put it.
@Suite("JSON log lines")
struct JSONLogLineTests {
    struct Boom: Error, CustomStringConvertible { var description: String { "the disk is full" } }

    static func line(error: (any Error)?, metadata: Logger.Metadata) -> String {
        String(decoding: JSONLogHandler.line(time: Timestamp(millisecondsSinceEpoch: 0), level: .error, message: "round failed",
                                             label: "orderflow", error: error, metadata: metadata), as: UTF8.self)
    }

    @Test("an error in the metadata is on the line once, next to the other fields")
    func metadataError() {
        let line = Self.line(error: nil, metadata: ["error": "\(Boom())", "attempt": "3"])
        #expect(line.contains(#""error":"the disk is full""#))
        #expect(line.components(separatedBy: #""error":"#).count == 2)
        #expect(line.contains(#""attempt":"3""#))
    }

    @Test("the error given to the log call wins over one in the metadata, and appears once")
    func parameterError() {
        let line = Self.line(error: Boom(), metadata: ["error": "older text"])
        #expect(line.contains(#""error":"the disk is full""#))
        #expect(!line.contains("older text"))
        #expect(line.components(separatedBy: #""error":"#).count == 2)
    }

    @Test("no error: no error field")
    func noError() {
        #expect(!Self.line(error: nil, metadata: ["attempt": "1"]).contains(#""error":"#))
    }
}
