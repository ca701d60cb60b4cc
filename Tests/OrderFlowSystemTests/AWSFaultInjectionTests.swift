import AWSKit
import Foundation
import MotoTestSupport
import OrderFlowAWS
import OrderFlowCore
import Synchronization
import Testing

extension SystemTests {
    /// The AWS pipeline behind a proxy that breaks requests on purpose: 503s, throttling errors, connections reset
    /// before the request reaches moto, and responses lost after it took effect.
    @Suite("AWS backend through a fault-injecting proxy")
    struct AWSFaultInjectionTests {
        /// What the proxy did, by kind.
        final class Tally: Sendable {
            let counts = Mutex<[String: Int]>([:])
            func add(_ kind: String) { counts.withLock { $0[kind, default: 0] += 1 } }
            var value: [String: Int] { counts.withLock { $0 } }
        }

        /// The operation a request calls: `X-Amz-Target` (JSON protocols), `Action=` (query), else S3's method.
        static func operation(_ request: ScriptedHTTPServer.Request) -> String {
            if let target = request.headers["x-amz-target"] { return String(target.split(separator: ".").last ?? "") }
            if let action = request.body.split(separator: "&").first(where: { $0.hasPrefix("Action=") }) { return String(action.dropFirst(7)) }
            return "S3:" + request.method
        }

        /// A retryable error in the request's protocol: JSON `__type` or the query/REST-XML error document.
        static func fault(_ request: ScriptedHTTPServer.Request, status: Int, code: String) -> ScriptedHTTPServer.Action {
            if request.headers["x-amz-target"] != nil {
                return .respond(status: status, headers: ["Content-Type": "application/x-amz-json-1.0"],
                                body: #"{"__type":"com.amazonaws#\#(code)","message":"injected by the test proxy"}"#)
            }
            return .respond(status: status, headers: ["Content-Type": "text/xml"],
                            body: "<ErrorResponse><Error><Type>Receiver</Type><Code>\(code)</Code><Message>injected</Message></Error><RequestId>t</RequestId></ErrorResponse>")
        }

        @Test("every order is stored, reviewed and counted exactly once while requests fail, throttle, reset and lose responses",
              .timeLimit(.minutes(4)))
        func pipelineSurvivesInjectedFaults() async throws {
            let moto = try MotoEnvironment.require()
            let tally = Tally()
            // Deterministic by request number. Lost responses are not injected for TransactWriteItems (moto undoes a
            // cancelled transaction by restoring a copy of the whole table, which would also undo concurrent writes:
            // a moto artefact, not DynamoDB's behaviour) nor for ReceiveMessage (the message would only come back
            // after its visibility timeout, slowing the test without testing more).
            let proxy = try await ScriptedHTTPServer.start { number, request -> ScriptedHTTPServer.Action in
                let operation = Self.operation(request)
                switch number % 31 {
                case 3:
                    tally.add("503")
                    return Self.fault(request, status: 503, code: "ServiceUnavailable")
                case 10:
                    tally.add("throttling")
                    return Self.fault(request, status: 400, code: request.headers["x-amz-target"]?.hasPrefix("DynamoDB") == true
                                      ? "ProvisionedThroughputExceededException" : "ThrottlingException")
                case 17:
                    tally.add("reset")
                    return .reset
                case 24 where operation != "TransactWriteItems" && operation != "ReceiveMessage":
                    tally.add("lost response")
                    return .forward(upstream: moto.endpoint, dropResponse: true)
                default:
                    return .forward(upstream: moto.endpoint, dropResponse: false)
                }
            }
            defer { Task { try? await proxy.close() } }

            try await withClient(try moto.client()) { client in
                let deployment = try await AWSBackendTests.Deployment.create(client)
                var environment = deployment.environment(moto)
                environment["AWS_ENDPOINT_URL"] = proxy.endpoint.absoluteString
                let data = try TemporaryDirectory("aws-faults")
                defer { data.remove() }
                let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws", "--aws-role", "all"],
                                                             environment: environment)
                defer { server.stop() }

                // 60 orders through the API with the client's retries, 40 in an uploaded file (put straight into moto).
                let orders = (1...60).map { #"{"orderId":"f-\#($0)","customerId":"c","currency":"USD","items":[{"sku":"S","quantity":1,"unitPrice":"\#($0 % 4 == 0 ? "450.00" : "20.00")"}]}"# }
                let file = data.url.appendingPathComponent("orders.jsonl")
                try orders.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
                let submit = try await CommandRun.run(["submit", "--url", server.baseURL, "--concurrency", "4", file.path], timeout: .seconds(120))
                #expect(submit.termination == .exited(0), "\(submit.transcript)")
                let upload = (1...40).map { #"{"OrderId":"u-\#($0)","Amount":\#($0 % 5 == 0 ? 999 : 15)}"# }.joined(separator: "\n")
                _ = try await S3ObjectStore(client: client, bucket: deployment.bucket)
                    .put(key: "orders/faults.jsonl", bytes: Array(upload.utf8), contentType: nil)

                let lastStats = Mutex<String>("")
                let stats = try await eventually("/stats counts 100 orders", timeout: .seconds(150)) {
                    let json = try await server.api.json("/stats")
                    let queues = (try? await server.api.json("/queues"))?.serialized() ?? "?"
                    lastStats.withLock { $0 = "\(json["orders"]?.serialized() ?? "?") orders; queues \(queues); injected \(tally.value); server: \(server.process.stderrTail.suffix(1500))" }
                    return json["orders"]?.int64Value == 100 ? json : nil
                } lastSeen: { lastStats.withLock { $0 } }
                // Exactly once: 15 + 8 high-value orders, revenue of each order once.
                #expect(stats["highValueOrders"]?.int64Value == 23)
                #expect(stats["revenue"]?["USD"]?.stringValue == "16122.00")
                let listed = try await server.api.all("/orders", key: "orders")
                #expect(listed.count == 100)
                #expect(Set(listed.compactMap { $0["orderId"]?.stringValue }).count == 100)
                let reviews = try await eventually("23 reviews are open", timeout: .seconds(120)) {
                    let open = try await server.api.all("/reviews?status=open", key: "reviews")
                    return open.count >= 23 ? open : nil
                }
                #expect(reviews.count == 23)
                #expect(Set(reviews.compactMap { $0["orderId"]?.stringValue }).count == 23)

                // The faults happened, the client retried them, and the cost meter shows the retries.
                let injected = tally.value
                #expect((injected["503"] ?? 0) > 0 && (injected["throttling"] ?? 0) > 0 && (injected["reset"] ?? 0) > 0
                        && (injected["lost response"] ?? 0) > 0, "injected: \(injected)")
                let status = try await server.api.json("/status")
                #expect((status["awsRequests"]?["total"]?["retries"]?.int64Value ?? 0) > 0)
                // The same retries in the Prometheus metrics, by service and operation.
                let metrics = try await server.api.send(.GET, "/metrics").text
                let retrySamples = metrics.split(separator: "\n").filter { $0.hasPrefix("orderflow_aws_retries_total{") }
                #expect(retrySamples.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +) > 0, "\(retrySamples)")
                for queue in status["queues"]?.arrayValue ?? [] {
                    #expect(queue["deadLetters"]?.int64Value == 0, "\(queue.serialized())")
                }
                print("fault test: injected \(injected.sorted { $0.key < $1.key }), AWS requests \(status["awsRequests"]?["total"]?.serialized() ?? "?")")
            }
        }
    }
}
