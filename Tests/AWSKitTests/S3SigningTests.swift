import AWSKit
import Foundation
import Testing

/// S3 signing rules, checked against the worked examples in the AWS S3 API reference
/// ("Signature Calculations for the Authorization Header" and "Query String Authentication").
@Suite("SigV4 for S3")
struct S3SigningTests {
    let credentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    let signer = SigV4Signer(region: "us-east-1", service: "s3", options: .s3)
    let date = Date(timeIntervalSince1970: 1_369_353_600) // 2013-05-24T00:00:00Z
    let host = SigV4Request.Header("Host", "examplebucket.s3.amazonaws.com")

    @Test("AWS example: GET object with a Range header")
    func getObjectExample() {
        let request = SigV4Request(method: "GET", path: "/test.txt", headers: [host, .init("Range", "bytes=0-9")])
        let result = signer.signHeaders(request, credentials: credentials, date: date)

        #expect(result.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(result.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(result.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(result.authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("AWS example: PUT object with a body and a `$` in the key", arguments: ["/test$file.text", "/test%24file.text"])
    func putObjectExample(path: String) {
        let body = Array("Welcome to Amazon S3.".utf8)
        let request = SigV4Request(
            method: "PUT",
            path: path,
            headers: [host, .init("Date", "Fri, 24 May 2013 00:00:00 GMT"), .init("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payload: .bytes(body)
        )
        let result = signer.signHeaders(request, credentials: credentials, date: date)

        #expect(result.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[1] == "/test%24file.text")
        #expect(result.signedHeaders == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(result.headersToAdd.contains(.init("X-Amz-Content-Sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")))
        #expect(result.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(result.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("AWS example: GET bucket lifecycle (a parameter without value)")
    func lifecycleExample() {
        let request = SigV4Request(method: "GET", path: "/", query: [.init("lifecycle")], headers: [host])
        let result = signer.signHeaders(request, credentials: credentials, date: date)
        #expect(result.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "lifecycle=")
        #expect(result.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test("AWS example: list objects (query parameters sorted)")
    func listObjectsExample() {
        let request = SigV4Request(method: "GET", path: "/", query: [.init("prefix", "J"), .init("max-keys", "2")], headers: [host])
        let result = signer.signHeaders(request, credentials: credentials, date: date)
        #expect(result.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        #expect(result.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("AWS example: presigned GET valid for a day, with UNSIGNED-PAYLOAD")
    func presignedExample() throws {
        let request = SigV4Request(method: "GET", path: "/test.txt", headers: [host], payload: .unsigned)
        let result = try signer.presign(request, credentials: credentials, date: date, expiresIn: .seconds(86_400))

        #expect(result.canonicalRequest == """
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """)
        #expect(result.stringToSign.hasSuffix("\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"))
        #expect(result.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(result.encodedQuery == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test("object keys are encoded once for S3, twice for other services")
    func keysAreSingleEncoded() {
        let wirePath = "/" + AWSURIEncoding.encodePath("my file+1.json")
        #expect(wirePath == "/my%20file%2B1.json")
        let request = SigV4Request(method: "PUT", path: wirePath, headers: [host], payload: .bytes(Array("{}".utf8)))

        let s3Line = signer.signHeaders(request, credentials: credentials, date: date)
            .canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[1]
        #expect(s3Line == "/my%20file%2B1.json")

        let other = SigV4Signer(region: "us-east-1", service: "execute-api")
        let otherLine = other.signHeaders(request, credentials: credentials, date: date)
            .canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[1]
        #expect(otherLine == "/my%2520file%252B1.json")
    }

    @Test("S3 keys with dot segments and double slashes are signed as they are")
    func keysAreNotNormalized() {
        let request = SigV4Request(method: "GET", path: "/orders/../2026//a.json", headers: [host])
        let line = signer.signHeaders(request, credentials: credentials, date: date)
            .canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[1]
        #expect(line == "/orders/../2026//a.json")
    }

    @Test("x-amz-content-sha256 carries the body hash and is signed")
    func contentHashHeaderIsSigned() {
        let body = Array(#"{"orderId":"1001"}"#.utf8)
        // SHA-256 of the body, computed independently of AWSKit (`shasum -a 256`).
        let bodyHash = "750e2d819b87f3e1ceabf9ae872cc05c1bebcb745dd6686e21cf3320bc59fe82"
        let request = SigV4Request(method: "PUT", path: "/orders/1001.json", headers: [host], payload: .bytes(body))
        let result = signer.signHeaders(request, credentials: credentials, date: date)

        #expect(result.headersToAdd.contains(.init("X-Amz-Content-Sha256", bodyHash)))
        #expect(result.signedHeaders.split(separator: ";").contains("x-amz-content-sha256"))
        #expect(result.canonicalRequest.contains("\nx-amz-content-sha256:\(bodyHash)\n"))
        #expect(result.canonicalRequest.hasSuffix("\n" + bodyHash))
    }

    @Test("UNSIGNED-PAYLOAD is signed in place of a body hash")
    func unsignedPayload() {
        let request = SigV4Request(method: "PUT", path: "/big.bin", headers: [host], payload: .unsigned)
        let result = signer.signHeaders(request, credentials: credentials, date: date)

        #expect(result.headersToAdd.contains(.init("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")))
        #expect(result.canonicalRequest.contains("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"))
        #expect(result.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        let withBody = SigV4Request(method: "PUT", path: "/big.bin", headers: [host], payload: .bytes([1, 2, 3]))
        #expect(signer.signHeaders(withBody, credentials: credentials, date: date).signature != result.signature)
    }
}
