import Foundation
import OrderFlowCore
import Testing

extension SystemTests {
    /// `POST /upload` over a real socket: lying lengths and oversized bodies are refused and leave nothing behind.
    @Suite("Document uploads over a socket")
    struct DocumentUploadTests {
        static let boundary = "b0undary"

        static func body(_ content: String) -> [UInt8] {
            Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n\(content)\r\n--\(boundary)--\r\n".utf8)
        }

        static func head(length: Int) -> [UInt8] {
            Array("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=\(boundary)\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n".utf8)
        }

        @Test("a Content-Length longer than the body, one shorter, and one over the limit: refused, nothing recorded", .timeLimit(.minutes(1)))
        func lyingLengthsRecordNothing() async throws {
            let data = try TemporaryDirectory("documents")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--max-document-bytes", "4096"])
            defer { server.stop() }
            let port = try #require(URL(string: server.baseURL)?.port)
            let body = Self.body("hello")

            // Claims 500 bytes more than it sends, then closes its side: the body ends early.
            let longer = try RawHTTP.exchange(port: port, request: Self.head(length: body.count + 500) + body, closeWriteSide: true)
            #expect(!longer.hasPrefix("HTTP/1.1 201"), "\(longer.prefix(200))")
            // Claims fewer bytes than it sends: the server reads a body without its closing boundary.
            let shorter = try RawHTTP.exchange(port: port, request: Self.head(length: body.count - 12) + body, closeWriteSide: false)
            #expect(shorter.hasPrefix("HTTP/1.1 400"), "\(shorter.prefix(300))")
            // Announces more than the limit: 413 at once, before any of the body is sent.
            let announced = try RawHTTP.exchange(port: port, request: Self.head(length: 10 << 20), closeWriteSide: false, timeout: .seconds(5))
            #expect(announced.hasPrefix("HTTP/1.1 413"), "\(announced.prefix(300))")

            #expect(try await server.api.json("/documents")["documents"]?.arrayValue?.isEmpty == true)
            // The server still serves, and an honest upload works.
            let honest = try RawHTTP.exchange(port: port, request: Self.head(length: body.count) + body, closeWriteSide: false)
            #expect(honest.hasPrefix("HTTP/1.1 201"), "\(honest.prefix(300))")
            #expect(try await server.api.json("/documents")["documents"]?.arrayValue?.count == 1)
        }
    }
}
