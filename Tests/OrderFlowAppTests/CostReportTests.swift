import OrderFlowApp
import OrderFlowCore
import Testing

/// The cost meter's report (`GET /status/aws-requests`): attempts and retries per operation and in total, and error
/// responses by code where there were any.
@Suite("Cost report")
struct CostReportTests {
    @Test func errorsAreReportedByCodeOnlyWhereThereWereAny() {
        let report = SystemStatus.costReport([
            ProviderRequestCount(service: "SQS", operation: "ReceiveMessage", attempts: 4, retries: 0),
            ProviderRequestCount(service: "DynamoDB", operation: "TransactWriteItems", attempts: 7, retries: 1,
                                 errors: ["TransactionCanceledException": 2, "InternalServerError": 1]),
        ])
        let text = String(decoding: report.serializedBytes(), as: UTF8.self)
        #expect(text == #"{"total":{"attempts":11,"retries":1},"byOperation":{"#
            + #""DynamoDB.TransactWriteItems":{"attempts":7,"retries":1,"errors":{"InternalServerError":1,"TransactionCanceledException":2}},"#
            + #""SQS.ReceiveMessage":{"attempts":4,"retries":0}}}"#)
    }
}
