import Hummingbird
import HummingbirdTesting
import OrderFlowCore
import OrderFlowHTTP
import Testing

@Suite("Document metadata service")
struct DocumentsAPITests {
    static let boundary = "----orderflow-test-boundary"

    static func form(filename: String, content: [UInt8], type: String = "application/pdf") -> ByteBuffer {
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nquarterly\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        body += content
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: body)
    }

    static let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]

    @Test func metadataOnlyWithExactLimitsAndSafeNames() async throws {
        let t = try await TestSystem.make { $0.http.documents.maximumBytes = 1024 }
        try await t.application().test(.router) { client in
            let empty = try await client.execute(uri: "/upload", method: .post, headers: Self.headers, body: Self.form(filename: "empty.txt", content: [])) { $0 }
            #expect(empty.status == .created)
            #expect(empty.json?["size_bytes"] == .number("0"))
            #expect(empty.json?["sha256"] == .string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))

            let exact = [UInt8](repeating: 0x41, count: 1024)
            let atLimit = try await client.execute(uri: "/upload", method: .post, headers: Self.headers, body: Self.form(filename: "../../etc/passwd", content: exact)) { $0 }
            #expect(atLimit.status == .created)
            #expect(atLimit.json?["size_bytes"] == .number("1024"))
            #expect(atLimit.json?["filename"] == .string("passwd"))
            #expect(atLimit.json?["content_type"] == .string("application/pdf"))
            #expect(atLimit.json?["uploader"] == .string("anonymous"))
            #expect(atLimit.json?["sha256"]?.stringValue?.count == 64)

            try await client.execute(uri: "/upload", method: .post, headers: Self.headers, body: Self.form(filename: "big.bin", content: exact + [0x41])) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.json?["type"] == .string("urn:orderflow:problem:payload-too-large"))
            }
            // A body that stops before its closing boundary, a form without the file field, a non-multipart body.
            var truncated = Self.form(filename: "cut.txt", content: Array("abc".utf8))
            truncated.moveWriterIndex(to: truncated.writerIndex - 10)
            try await client.execute(uri: "/upload", method: .post, headers: Self.headers, body: truncated) { #expect($0.status == .badRequest) }
            let noFile = ByteBuffer(string: "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--\(Self.boundary)--\r\n")
            try await client.execute(uri: "/upload", method: .post, headers: Self.headers, body: noFile) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/upload", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) {
                #expect($0.status == .unsupportedMediaType)
            }

            // Only the two accepted uploads were recorded.
            let list = try await client.execute(uri: "/documents", method: .get) { $0.json }
            let documents = list?["documents"]?.arrayValue ?? []
            #expect(documents.map { $0["filename"]?.stringValue } == ["empty.txt", "passwd"])
            let id = try #require(atLimit.json?["id"]?.stringValue)
            try await client.execute(uri: "/documents/\(id)", method: .get) { #expect($0.json?["size_bytes"] == .number("1024")) }
            try await client.execute(uri: "/documents/nope", method: .get) { #expect($0.status == .notFound) }
            let firstPage = try await client.execute(uri: "/documents?limit=1", method: .get) { $0.json }
            let cursor = try #require(firstPage?["nextCursor"]?.stringValue)
            let second = try await client.execute(uri: "/documents?limit=1&cursor=\(cursor)", method: .get) { $0.json }
            #expect(second?["documents"]?.arrayValue?.first?["filename"] == .string("passwd"))
        }
    }
}
