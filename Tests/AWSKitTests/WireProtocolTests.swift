import AWSKit
import MotoTestSupport
import Foundation
import Testing

@Suite("Wire protocol encoders and the XML reader")
struct WireProtocolTests {
    @Test func jsonRequestsPostTheTargetAndContentType() throws {
        let request = AWSJSONProtocol.kinesis.request(operation: "PutRecord", body: Array("{}".utf8))
        #expect(request.method == "POST")
        #expect(request.path == "/")
        #expect(request.headers == [
            SigV4Request.Header("Content-Type", "application/x-amz-json-1.1"),
            SigV4Request.Header("X-Amz-Target", "Kinesis_20131202.PutRecord"),
        ])
        #expect(AWSJSONProtocol.dynamoDB.contentType == "application/x-amz-json-1.0")
        #expect(AWSJSONProtocol.sqs.request(operation: "SendMessage", body: []).headers.last?.value == "AmazonSQS.SendMessage")
    }

    @Test func jsonBodiesKeepNumbersSentAsStringsExact() throws {
        struct Item: Codable, Equatable {
            let amount: [String: String]
        }
        let body = try AWSJSONProtocol.encode(Item(amount: ["N": "12345678901234567890.000000001"]))
        #expect(String(decoding: body, as: UTF8.self) == #"{"amount":{"N":"12345678901234567890.000000001"}}"#)
        #expect(try AWSJSONProtocol.decode(Item.self, from: body) == Item(amount: ["N": "12345678901234567890.000000001"]))
        // Some operations answer with no body at all.
        struct Nothing: Decodable {}
        _ = try AWSJSONProtocol.decode(Nothing.self, from: [])
    }

    @Test func queryBodiesAreFormEncodedWithSpaceAsPlusAndPlusEscaped() {
        let request = AWSQueryProtocol.sns.request(action: "Publish", parameters: [
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:orders",
            "Message": "a b+c&d=e ü",
        ])
        #expect(request.method == "POST")
        #expect(request.headers == [SigV4Request.Header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")])
        #expect(String(decoding: request.body, as: UTF8.self) == "Action=Publish&Version=2010-03-31"
            + "&Message=a+b%2Bc%26d%3De+%C3%BC&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aorders")
        #expect(String(decoding: AWSQueryProtocol.cloudWatch.request(action: "ListMetrics", parameters: [:]).body, as: UTF8.self)
            == "Action=ListMetrics&Version=2010-08-01")
    }

    @Test func s3PathsEncodeKeysOnceAndKeepSlashes() {
        #expect(AWSRESTXMLProtocol.path(bucket: "orders") == "/orders")
        #expect(AWSRESTXMLProtocol.path(bucket: "orders", key: "in/2026 11/a+b ü.json") == "/orders/in/2026%2011/a%2Bb%20%C3%BC.json")
        #expect(AWSRESTXMLProtocol.path(bucket: "orders", key: "50%.txt") == "/orders/50%25.txt")
        #expect(AWSRESTXMLProtocol.s3.signingOptions == .s3)
    }

    @Test func xmlElementsTextEntitiesAndCDATA() throws {
        let document = try AWSXMLElement.parse(Array("""
            <?xml version="1.0"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Contents><Key> leading space &amp; &lt;tag&gt;</Key><Size>3</Size></Contents>
              <Contents><Key><![CDATA[a+b ü]]></Key></Contents>
            </ListBucketResult>
            """.utf8))
        #expect(document.name == "ListBucketResult")
        let contents = document.children(named: "Contents")
        #expect(contents.map { $0.value(at: "Key") } == [" leading space & <tag>", "a+b ü"])
        #expect(document.value(at: "Contents", "Size") == "3")
        #expect(document.element(at: "Contents", "Missing") == nil)
        #expect(document.firstDescendant(named: "Size")?.text == "3")
    }

    @Test func malformedXMLIsAnError() {
        #expect(throws: AWSXMLParseError.self) {
            try AWSXMLElement.parse(Array("<a><b></a>".utf8))
        }
        #expect(throws: AWSXMLParseError.self) {
            try AWSXMLElement.parse([])
        }
    }

    @Test func theClientSendsPathAndQueryEncodedAsSignedBelowTheEndpointPath() async throws {
        let server = try await ScriptedHTTPServer.start { _ in .respond(status: 200, body: "") }
        let endpoint = try #require(URL(string: "http://127.0.0.1:\(server.port)/prefix/"))
        let client = AWSClient(
            configuration: try AWSConfiguration(region: "eu-west-1", globalEndpoint: endpoint),
            credentialProvider: staticCredentials(accessKeyID: "AKIDEXAMPLE", secret: "secret")
        )
        try await withClient(client) { client in
            let response = try await client.s3(
                "PUT", operation: "PutObject", bucket: "orders", key: "in/a b+c.json",
                query: [.init("x-id", "PutObject"), .init("tag", "a b")], body: Array("{}".utf8)
            )
            #expect(response.status == 200)
        }
        let request = try #require(server.requests.first)
        try await server.close()
        #expect(request.method == "PUT")
        #expect(request.uri == "/prefix/orders/in/a%20b%2Bc.json?x-id=PutObject&tag=a%20b")
        #expect(request.headers["host"] == "127.0.0.1:\(server.port)")
        #expect(request.headers["x-amz-content-sha256"] == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
        #expect(request.headers["authorization"]?.contains("/eu-west-1/s3/aws4_request") == true)
        #expect(request.headers["user-agent"] == "OrderFlow-AWSKit/1")
        #expect(request.body == "{}")
    }
}
