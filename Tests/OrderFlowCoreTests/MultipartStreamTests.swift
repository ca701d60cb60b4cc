import OrderFlowCore
import Testing

@Suite("Multipart stream")
struct MultipartStreamTests {
    static let body = Array((
        "preamble to ignore\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\nContent-Type: text/plain\r\n\r\n"
        + "line one\r\n--XyNot a boundary\r\nline three"
        + "\r\n--XyZ--\r\nepilogue"
    ).utf8)

    /// Feeds `bytes` in chunks of `size` and collects each part's headers and content.
    func parse(_ bytes: [UInt8], chunk size: Int) throws -> (parts: [([String: String], [UInt8])], finished: Bool) {
        var stream = MultipartStream(boundary: "XyZ")
        var parts: [([String: String], [UInt8])] = []
        var index = 0
        while index < bytes.count {
            for event in try stream.feed(bytes[index..<min(index + size, bytes.count)]) {
                switch event {
                case .partStart(let headers): parts.append((headers, []))
                case .content(let content): parts[parts.count - 1].1 += content
                case .partEnd, .end: break
                }
            }
            index += size
        }
        return (parts, stream.isFinished)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16, 4096])
    func sameResultWhateverTheChunkSize(_ size: Int) throws {
        let (parts, finished) = try parse(Self.body, chunk: size)
        #expect(finished)
        #expect(parts.count == 2)
        #expect(String(decoding: parts[0].1, as: UTF8.self) == "hello")
        #expect(ContentDisposition.parameter("filename", in: parts[1].0["content-disposition"] ?? "") == "../../etc/passwd")
        #expect(parts[1].0["content-type"] == "text/plain")
        // A line that starts like the boundary but is not it stays content.
        #expect(String(decoding: parts[1].1, as: UTF8.self) == "line one\r\n--XyNot a boundary\r\nline three")
    }

    @Test func aBodyWithoutItsClosingBoundaryIsNotFinished() throws {
        let truncated = Array(Self.body.prefix(Self.body.count - 20))
        #expect(try parse(truncated, chunk: 64).finished == false)
    }

    @Test func boundaryFromContentTypeAndSanitizedNames() {
        #expect(MultipartStream.boundary(fromContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartStream.boundary(fromContentType: #"multipart/form-data; charset=utf-8; boundary="a b""#) == "a b")
        #expect(MultipartStream.boundary(fromContentType: "application/json") == nil)
        #expect(MultipartStream.boundary(fromContentType: "multipart/form-data") == nil)
        #expect(ContentDisposition.sanitizedFilename("../../etc/passwd") == "passwd")
        #expect(ContentDisposition.sanitizedFilename(#"C:\Users\x\report.pdf"#) == "report.pdf")
        #expect(ContentDisposition.sanitizedFilename("..") == "unnamed")
        #expect(ContentDisposition.sanitizedFilename("a\u{0}b\u{1b}c.txt") == "abc.txt")
        #expect(ContentDisposition.sanitizedFilename("") == "unnamed")
    }

    @Test func garbageAfterABoundaryIsMalformed() {
        var stream = MultipartStream(boundary: "XyZ")
        #expect(throws: MultipartStream.Failure.self) { try stream.feed(Array("--XyZjunk\r\n".utf8)) }
    }
}
