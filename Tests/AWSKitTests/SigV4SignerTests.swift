import AWSKit
import Foundation
import Testing

@Suite("SigV4 signer details")
struct SigV4SignerTests {
    let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let signer = SigV4Signer(region: "us-east-1", service: "service")
    let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
    let host = SigV4Request.Header("Host", "example.amazonaws.com")

    @Test func uriEncodingUsesTheUnreservedSetOnly() {
        #expect(AWSURIEncoding.encode("AZaz09-._~") == "AZaz09-._~")
        #expect(AWSURIEncoding.encode(" !*'();:@&=+$,/?#[]%") == "%20%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25")
        #expect(AWSURIEncoding.encode("ሴ") == "%E1%88%B4")
        #expect(AWSURIEncoding.encode("a/b c", keepingSlashes: true) == "a/b%20c")
        #expect(AWSURIEncoding.encodePath("orders/2026 11/1001.json") == "orders/2026%2011/1001.json")
    }

    @Test func uriDecodingUndoesEncodingAndKeepsMalformedEscapes() {
        for text in ["my file+1.json", "ሴ=bar&x", "100%", "a/b"] {
            #expect(AWSURIEncoding.decode(AWSURIEncoding.encode(text)) == text)
        }
        #expect(AWSURIEncoding.decode("a+b%2bc%2Fd") == "a+b+c/d")
        #expect(AWSURIEncoding.decode("%zz%4") == "%zz%4")
    }

    @Test("X-Amz-Date is the UTC basic timestamp", arguments: [
        (1_440_938_160.0, "20150830T123600Z"),
        (1_709_251_199.9, "20240229T235959Z"),
        (951_782_400.0, "20000229T000000Z"),
        (-1.0, "19691231T235959Z"),
        (0.0, "19700101T000000Z"),
        (4_102_444_800.0, "21000101T000000Z"),
    ] as [(Double, String)])
    func timestamps(seconds: Double, expected: String) {
        let request = SigV4Request(method: "GET", path: "/", headers: [host])
        let result = signer.signHeaders(request, credentials: credentials, date: Date(timeIntervalSince1970: seconds))
        #expect(result.headersToAdd.first == SigV4Request.Header("X-Amz-Date", expected))
        #expect(result.stringToSign.contains("\n\(expected.prefix(8))/us-east-1/service/aws4_request\n"))
    }

    @Test func headerValuesAreTrimmedAndWhitespaceRunsCollapsed() {
        let request = SigV4Request(method: "GET", path: "/", headers: [host, .init("X-Custom", " \ta \t\t b\r\n   c  ")])
        let result = signer.signHeaders(request, credentials: credentials, date: date)
        #expect(result.canonicalRequest.contains("\nx-custom:a b c\n"))
    }

    @Test func signerOwnedHeadersFromAnEarlierAttemptAreReplacedNotDuplicated() {
        let clean = SigV4Request(method: "POST", path: "/", headers: [host], payload: .bytes(Array("{}".utf8)))
        let first = signer.signHeaders(clean, credentials: credentials, date: date)
        var retried = clean
        retried.headers += first.headersToAdd
        let second = signer.signHeaders(retried, credentials: credentials, date: date)
        #expect(second == first)
    }

    @Test func agentAndHopByHopHeadersAreNotSigned() {
        let request = SigV4Request(method: "GET", path: "/", headers: [
            host, .init("User-Agent", "orderflow/1.0"), .init("Connection", "keep-alive"), .init("X-Amzn-Trace-Id", "Root=1"),
        ])
        let result = signer.signHeaders(request, credentials: credentials, date: date)
        #expect(result.signedHeaders == "host;x-amz-date")
    }

    @Test func sessionTokenIsSignedUnlessOmitted() {
        let temporary = AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token/+=")
        let request = SigV4Request(method: "GET", path: "/", headers: [host])

        let signed = signer.signHeaders(request, credentials: temporary, date: date)
        #expect(signed.signedHeaders == "host;x-amz-date;x-amz-security-token")
        #expect(signed.headersToAdd.contains(.init("X-Amz-Security-Token", "token/+=")))

        let omitting = SigV4Signer(region: "us-east-1", service: "service", options: SigV4Options(omitSessionToken: true))
        let unsigned = omitting.signHeaders(request, credentials: temporary, date: date)
        #expect(unsigned.signedHeaders == "host;x-amz-date")
        #expect(unsigned.headersToAdd.map(\.name) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
    }

    @Test func signingKeyFollowsTheSecretAndTheDay() {
        let request = SigV4Request(method: "GET", path: "/", headers: [host])
        let rotated = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "a-different-secret")
        let nextDay = date.addingTimeInterval(86_400)

        // One signer reused across secrets and days must match fresh signers, i.e. never serve a stale key.
        let reused = SigV4Signer(region: "us-east-1", service: "service")
        let sequence = [(credentials, date), (rotated, date), (credentials, date), (credentials, nextDay), (rotated, nextDay)]
        for (creds, when) in sequence {
            let fresh = SigV4Signer(region: "us-east-1", service: "service")
            #expect(reused.signHeaders(request, credentials: creds, date: when) == fresh.signHeaders(request, credentials: creds, date: when))
        }
        #expect(reused.signHeaders(request, credentials: rotated, date: date).signature
            != reused.signHeaders(request, credentials: credentials, date: date).signature)
    }

    @Test("presigned expiry must be 1 s to 7 days", arguments: [0, -5, 604_801] as [Int64])
    func presignRejectsExpiryOutOfRange(seconds: Int64) {
        let request = SigV4Request(method: "GET", path: "/", headers: [host])
        #expect(throws: SigV4Error.expiryOutOfRange(seconds: seconds)) {
            try signer.presign(request, credentials: credentials, date: date, expiresIn: .seconds(seconds))
        }
    }

    @Test func presignAcceptsTheLongestExpiryAndReplacesStaleAuthParameters() throws {
        let request = SigV4Request(method: "GET", path: "/", query: [.init("a", "1")], headers: [host])
        let fresh = try signer.presign(request, credentials: credentials, date: date, expiresIn: .seconds(604_800))
        #expect(fresh.query.contains(.init("X-Amz-Expires", "604800")))

        var stale = request
        stale.query += fresh.query.filter { $0.name.hasPrefix("X-Amz-") }
        let again = try signer.presign(stale, credentials: credentials, date: date, expiresIn: .seconds(604_800))
        #expect(again == fresh)
        #expect(again.query.filter { $0.name == "X-Amz-Signature" }.count == 1)
    }

    @Test func requestFromURLTakesEncodedPathDecodedQueryAndHost() {
        let url = URL(string: "http://localhost:4566/my%20bucket/a%2Bb.json?prefix=orders%2F&list-type=2")!
        let request = SigV4Request(method: "GET", url: url)
        #expect(request.path == "/my%20bucket/a%2Bb.json")
        #expect(request.query == [.init("prefix", "orders/"), .init("list-type", "2")])
        #expect(request.headers == [.init("Host", "localhost:4566")])

        let explicitHost = SigV4Request(method: "GET", url: url, headers: [.init("host", "proxy.internal")])
        #expect(explicitHost.headers == [.init("host", "proxy.internal")])
        let defaultPort = SigV4Request(method: "GET", url: URL(string: "https://sqs.us-east-1.amazonaws.com:443")!)
        #expect(defaultPort.path == "")
        #expect(defaultPort.headers == [.init("Host", "sqs.us-east-1.amazonaws.com")])
    }

    @Test func emptyPathSignsAsSlash() {
        let empty = SigV4Request(method: "GET", path: "", headers: [host])
        let slash = SigV4Request(method: "GET", path: "/", headers: [host])
        #expect(signer.signHeaders(empty, credentials: credentials, date: date) == signer.signHeaders(slash, credentials: credentials, date: date))
    }
}
