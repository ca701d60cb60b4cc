import AWSKit
import Testing

@Suite("Error decoding per wire protocol")
struct ErrorDecodingTests {
    private func response(_ status: Int, _ body: String, headers: [(String, String)] = []) -> AWSHTTPResponse {
        AWSHTTPResponse(status: status, headers: headers.map { SigV4Request.Header($0.0, $0.1) }, body: Array(body.utf8))
    }

    @Test func jsonTypeLosesItsNamespaceAndTheRequestIDComesFromTheHeader() {
        let error = AWSJSONProtocol.dynamoDB.decodeError(response(
            400,
            #"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#,
            headers: [("x-amzn-RequestId", "REQ123")]
        ), operation: "DescribeTable")
        #expect(error == AWSServiceError(
            service: .dynamoDB, operation: "DescribeTable", status: 400, code: "ResourceNotFoundException",
            message: "Requested resource not found", requestID: "REQ123"
        ))
        #expect(error.description == "DynamoDB DescribeTable failed with HTTP 400 ResourceNotFoundException: "
            + "Requested resource not found (request id REQ123)")
    }

    @Test func jsonCodeFieldCapitalMessageAndHeaderFallback() {
        let fromCode = AWSJSONProtocol.kinesis.decodeError(
            response(400, #"{"code":"ValidationException:http://internal.amazon.com/coral/","Message":"bad"}"#), operation: "PutRecord"
        )
        #expect(fromCode.code == "ValidationException")
        #expect(fromCode.message == "bad")
        let fromHeader = AWSJSONProtocol.kinesis.decodeError(
            response(400, "", headers: [("X-Amzn-ErrorType", "LimitExceededException:http://internal.amazon.com/")]),
            operation: "PutRecord"
        )
        #expect(fromHeader.code == "LimitExceededException")
        #expect(fromHeader.message == nil)
    }

    @Test func sqsQueryErrorHeaderGivesTheCodeAndKeepsTheJSONType() {
        let error = AWSJSONProtocol.sqs.decodeError(response(
            400,
            #"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#,
            headers: [("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"), ("x-amzn-requestid", "R1")]
        ), operation: "GetQueueUrl")
        #expect(error.code == "AWS.SimpleQueueService.NonExistentQueue")
        #expect(error.errorType == "QueueDoesNotExist")
        #expect(error.hasCode("QueueDoesNotExist") && error.hasCode("AWS.SimpleQueueService.NonExistentQueue"))
        #expect(!error.hasCode("ThrottlingException"))
        #expect(error.requestID == "R1")
    }

    @Test func aJSONServiceAnsweringInXMLIsStillDecoded() {
        // moto (like AWS front ends) rejects a bad signature with query-style XML even for JSON services.
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we \
            calculated does not match</Message><Type>Sender</Type></Error></Errors></ErrorResponse>
            """
        let error = AWSJSONProtocol.dynamoDB.decodeError(response(403, body, headers: [("x-amzn-requestid", "R2")]), operation: "ListTables")
        #expect(error.code == "SignatureDoesNotMatch")
        #expect(error.message == "The request signature we calculated does not match")
        #expect(error.requestID == "R2")
    }

    @Test func queryErrorResponseWithItsRequestID() {
        let body = """
            <ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code>\
            <Message>Topic does not exist</Message></Error><RequestId>abc-123</RequestId></ErrorResponse>
            """
        let error = AWSQueryProtocol.sns.decodeError(response(404, body), operation: "GetTopicAttributes")
        #expect(error == AWSServiceError(
            service: .sns, operation: "GetTopicAttributes", status: 404, code: "NotFound",
            message: "Topic does not exist", requestID: "abc-123"
        ))
    }

    @Test func s3ErrorDocumentAndBodilessHeadErrors() {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a b</Key>\
            <RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>
            """
        let noSuchKey = AWSRESTXMLProtocol.s3.decodeError(response(404, body), operation: "GetObject")
        #expect(noSuchKey.code == "NoSuchKey")
        #expect(noSuchKey.requestID == "4442587FB7D0A2F9")
        let head = AWSRESTXMLProtocol.s3.decodeError(response(404, "", headers: [("x-amz-request-id", "R3")]), operation: "HeadObject")
        #expect(head == AWSServiceError(service: .s3, operation: "HeadObject", status: 404, code: "NotFound", requestID: "R3"))
        #expect(AWSRESTXMLProtocol.s3.decodeError(response(403, ""), operation: "HeadObject").code == "Forbidden")
        #expect(AWSRESTXMLProtocol.s3.decodeError(response(412, ""), operation: "HeadObject").code == "PreconditionFailed")
    }

    @Test func aProxyPageIsNamedByItsStatus() {
        let error = AWSQueryProtocol.cloudWatch.decodeError(
            response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"), operation: "PutMetricData"
        )
        #expect(error.code == "BadGateway")
        #expect(AWSJSONProtocol.dynamoDB.decodeError(response(503, "Service Unavailable"), operation: "GetItem").code == "ServiceUnavailable")
        #expect(AWSJSONProtocol.dynamoDB.decodeError(response(599, ""), operation: "GetItem").code == "HTTP599")
    }
}
