import AWSKit
import Foundation
import Testing

@Suite("SigV4 official test vectors")
struct SigV4TestSuiteTests {
    @Test("the test-vector folder is present and complete")
    func suiteIsPresent() throws {
        let cases = try SigV4TestSuite.cases()
        #expect(cases.count == 38, "the published suite has 38 cases; found \(cases.map(\.name))")
        for testCase in cases {
            #expect(testCase.has(.header) || testCase.has(.query), "\(testCase.name) has no expected output")
        }
    }

    @Test("Authorization-header signing", arguments: try SigV4TestSuite.cases(with: .header))
    func headerVariant(_ testCase: SigV4TestCase) throws {
        let (signer, credentials, date, request) = try testCase.signingInputs()
        let result = signer.signHeaders(request, credentials: credentials, date: date)

        #expect(result.canonicalRequest == (try testCase.expected(.header, "canonical-request")))
        #expect(result.stringToSign == (try testCase.expected(.header, "string-to-sign")))
        #expect(result.signature == (try testCase.expected(.header, "signature")))

        // The signed request in the suite also fixes the headers a client must send.
        let signed = try RawHTTPRequest.parse(testCase.text("header-signed-request.txt"))
        let expectedAdded = signed.headers.filter { ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"].contains($0.name.lowercased()) }
        #expect(
            Set(result.headersToAdd.map { "\($0.name.lowercased()):\($0.value)" })
                == Set(expectedAdded.map { "\($0.name.lowercased()):\($0.value)" })
        )
        #expect(result.headersToAdd.last?.name == "Authorization")
    }

    @Test("presigned query-string signing", arguments: try SigV4TestSuite.cases(with: .query))
    func queryVariant(_ testCase: SigV4TestCase) throws {
        let (signer, credentials, date, request) = try testCase.signingInputs()
        let context = try testCase.context()
        let result = try signer.presign(
            request, credentials: credentials, date: date, expiresIn: .seconds(context.expirationInSeconds)
        )

        #expect(result.canonicalRequest == (try testCase.expected(.query, "canonical-request")))
        #expect(result.stringToSign == (try testCase.expected(.query, "string-to-sign")))
        #expect(result.signature == (try testCase.expected(.query, "signature")))

        // Same parameters as the suite's signed request; their order on the wire is free.
        let signedRequestLine = try testCase.text("query-signed-request.txt").split(separator: "\n")[0]
        let target = signedRequestLine.split(separator: " ").dropFirst().dropLast().joined(separator: " ")
        let expectedQuery = RawHTTPRequest.splitTarget(Substring(target)).query
        #expect(result.query.sorted(by: Self.byNameThenValue) == expectedQuery.sorted(by: Self.byNameThenValue))
        #expect(result.query.last == SigV4Request.QueryParameter("X-Amz-Signature", result.signature))
    }

    private static func byNameThenValue(_ lhs: SigV4Request.QueryParameter, _ rhs: SigV4Request.QueryParameter) -> Bool {
        (lhs.name, lhs.value) < (rhs.name, rhs.value)
    }

    @Test func missingFolderIsAnErrorNotAnEmptySuite() {
        let nowhere = URL(fileURLWithPath: "/nonexistent/aws-sigv4-test-suite")
        #expect(throws: SigV4TestSuite.SuiteError.self) { try SigV4TestSuite.cases(in: nowhere) }
    }
}

@Suite("Parsing raw requests from the test suite")
struct RawHTTPRequestTests {
    @Test func foldedHeadersKeepTheirLineBreaksAndBodyFollowsTheBlankLine() throws {
        let parsed = try RawHTTPRequest.parse("POST /a%20b?x=%E1%88%B4&flag HTTP/1.1\nHost:h\nMy-Header1:value1\n  value2\n\nbody\nline")
        #expect(parsed.method == "POST")
        #expect(parsed.path == "/a%20b")
        #expect(parsed.query == [SigV4Request.QueryParameter("x", "ሴ"), SigV4Request.QueryParameter("flag", "")])
        #expect(parsed.headers == [SigV4Request.Header("Host", "h"), SigV4Request.Header("My-Header1", "value1\n  value2")])
        #expect(parsed.body == Array("body\nline".utf8))
    }

    @Test func spacesInTheTargetStayInThePath() throws {
        let parsed = try RawHTTPRequest.parse("GET /example space/ HTTP/1.1\nHost:h\n")
        #expect(parsed.path == "/example space/")
        #expect(parsed.body.isEmpty)
    }
}
