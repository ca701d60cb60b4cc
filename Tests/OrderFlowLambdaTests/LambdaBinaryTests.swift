import AWSKit
import Foundation
import MotoTestSupport
import OrderFlowAWS
import OrderFlowCore
import OrderFlowServer
import Testing

/// `orderflow lambda`, the packaged bootstrap's command, as a child process against the local Runtime API server.
@Suite("orderflow lambda (the packaged runtime)")
struct LambdaBinaryTests {
    /// The binary scripts/test builds (`ORDERFLOW_BIN`); its absence fails the test.
    static func binary() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["ORDERFLOW_BIN"], FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingBinary()
        }
        return path
    }

    struct MissingBinary: Error, CustomStringConvertible {
        var description: String { "ORDERFLOW_BIN does not name the orderflow binary: run scripts/test, which builds it and sets it" }
    }

    static func start(_ environment: [String: String], executable: String? = nil) throws -> Process {
        let process = Process()
        if let executable {
            process.executableURL = URL(fileURLWithPath: executable)
        } else {
            process.executableURL = URL(fileURLWithPath: try binary())
            process.arguments = ["lambda"]
        }
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ORDERFLOW_") && !$0.key.hasPrefix("AWS_") }
            .merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `command` with `arguments` and waits; throws when it fails.
    static func run(_ command: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailed(command: ([command] + arguments).joined(separator: " ")) }
    }

    struct CommandFailed: Error { let command: String }

    @Test("the packaged bootstrap starts the runtime, which reports a missing setting to Lambda as an init error and exits")
    func configurationErrorIsAnInitError() async throws {
        // Package the binary as scripts/package-lambda does for a release and run the zip's bootstrap, as Lambda would.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-lambda-zip-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let zip = work.appendingPathComponent("orderflow-lambda.zip").path
        try Self.run(root.appendingPathComponent("scripts/package-lambda").path, ["--binary", try Self.binary(), "--out", zip])
        // Unzipped keeping the modes in the archive (Lambda does the same).
        try Self.run("/usr/bin/env", ["python3", "-c", """
            import os, sys, zipfile
            archive = zipfile.ZipFile(sys.argv[1])
            assert sorted(archive.namelist()) == ["bootstrap", "orderflow"], archive.namelist()
            for info in archive.infolist():
                path = archive.extract(info, sys.argv[2])
                os.chmod(path, (info.external_attr >> 16) & 0o777)
            """, zip, work.appendingPathComponent("task").path])
        let server = try await RuntimeAPIServer.start()
        defer { server.stop() }
        let process = try Self.start(["AWS_LAMBDA_RUNTIME_API": server.address, "AWS_REGION": "us-east-1"],
                                     executable: work.appendingPathComponent("task/bootstrap").path)
        defer { if process.isRunning { process.terminate() } }
        var reports = server.reports.makeAsyncIterator()
        guard case .initError(let type, let body) = await reports.next() else {
            Issue.record("no init error reported")
            return
        }
        #expect(type == "Configuration")
        #expect(body.contains("ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN is not set"))
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
    }

    @Test("an order event is stored in DynamoDB and answered on the Runtime API")
    func handlesAnInvocation() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let resources = MotoResources(client: client)
            let orders = uniqueName("Orders"), outbox = uniqueName("OrdersOutbox"), stream = uniqueName("OrdersStream")
            try await resources.table(orders, hashKey: "OrderID")
            try await resources.table(outbox, hashKey: "EventId")
            try await resources.stream(stream, shards: 1)
            let queue = try await resources.queue(uniqueName("HighValueQueue"))
            let topic = try await resources.topic(uniqueName("HighValueOrderTopic"), deliveringTo: queue.arn)

            let server = try await RuntimeAPIServer.start()
            defer { server.stop() }
            server.enqueue(.init(requestId: "r1", body: #"{"OrderId":"1001","Amount":450}"#))
            let process = try Self.start([
                "AWS_LAMBDA_RUNTIME_API": server.address, "AWS_REGION": moto.region, "AWS_ENDPOINT_URL": moto.endpoint.absoluteString,
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_EC2_METADATA_DISABLED": "true",
                "ORDERFLOW_AWS_ORDERS_TABLE": orders, "ORDERFLOW_AWS_OUTBOX_TABLE": outbox, "ORDERFLOW_AWS_STREAM": stream,
                "ORDERFLOW_AWS_HIGH_VALUE_TOPIC_ARN": topic,
            ])
            defer { if process.isRunning { process.terminate() } }
            var reports = server.reports.makeAsyncIterator()
            guard case .response("r1", let body) = await reports.next() else {
                Issue.record("no response for r1")
                return
            }
            #expect(try JSONParser.parse(body)["outcome"] == .string("created"))
            let store = DynamoDBOrderStore(dynamoDB: DynamoDB(client: client), tables: .init(orders: orders, outbox: outbox))
            #expect(try await store.order(OrderID("1001")!)?.amountMinor == 45_000)
            #expect(try await store.backlog() == 0)
        }
    }
}
