import AWSKit
import Foundation
import MotoTestSupport
import OrderFlowAWS
import OrderFlowCore
import Testing

extension SystemTests {
    /// `orderflow export --backend aws` against moto: point-in-time exports of the backend's tables into the uploads
    /// bucket (seed 004), read back item for item; a table without point-in-time recovery is one readable line.
    @Suite("AWS export")
    struct AWSExportTests {
        private struct ContinuousBackups: Encodable {
            struct Specification: Encodable {
                let PointInTimeRecoveryEnabled: Bool
            }

            let TableName: String
            let PointInTimeRecoverySpecification: Specification
        }

        private struct Nothing: Decodable {}

        @Test("every table is exported to the uploads bucket, item for item", .timeLimit(.minutes(3)))
        func exportsEveryTableToTheBucket() async throws {
            let moto = try MotoEnvironment.require()
            let aws = AWSBackendTests.awsEnvironment(moto)
            let suffix = "-" + String(uniqueName("x").suffix(8))
            let setup = try await CommandRun.run(["aws", "setup", "--suffix=\(suffix)"], environment: aws)
            try #require(setup.termination == .exited(0), "\(setup.transcript)")
            var settings: [String: String] = [:]
            for line in setup.stdout.text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { settings[parts[0]] = parts[1] }
            }
            let environment = aws.merging(settings) { $1 }
            let ordersTable = try #require(settings["ORDERFLOW_AWS_ORDERS_TABLE"])
            let bucket = try #require(settings["ORDERFLOW_AWS_UPLOADS_BUCKET"])

            let data = try TemporaryDirectory("aws-export")
            defer { data.remove() }
            do {
                let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--backend", "aws"], environment: environment)
                defer { server.stop() }
                for (id, amount) in [("x-1", "120.50"), ("x-2", "450")] {
                    #expect(try await server.api.send(.POST, "/orders", json: Array(#"{"OrderId":"\#(id)","Amount":"\#(amount)"}"#.utf8)).status == 201)
                }
            }

            let run = try await CommandRun.run(["export", "--backend", "aws", "--wait", "60"], environment: environment)
            try #require(run.termination == .exited(0), "\(run.transcript)")
            #expect(run.stdout.text.contains("\(ordersTable): 2 items exported to s3://\(bucket)/exports/"), "\(run.transcript)")
            #expect(run.stdout.text.contains("exported 6 tables to s3://\(bucket)/exports/"), "\(run.transcript)")

            let exportedIds = try await withClient(try moto.client()) { client in
                let objects = S3ObjectStore(client: client, bucket: bucket)
                var ids: [String] = []
                // "exports", not "exports/": moto checks the signature of a query holding %2F wrongly (see S3ObjectStoreTests).
                for object in try await objects.list(prefix: "exports", limit: 1000)
                where object.key.contains("/\(ordersTable)/") && object.key.hasSuffix(".gz") {
                    let bytes = try #require(try await objects.get(key: object.key))
                    for line in try Self.gunzip(bytes).split(separator: "\n") {
                        let item = try JSONParser.parse(Array(line.utf8))
                        if let id = item["Item"]?["OrderID"]?["S"]?.stringValue { ids.append(id) }
                    }
                }
                return ids
            }
            #expect(exportedIds.sorted() == ["x-1", "x-2"])

            // Point-in-time recovery off: the export refuses in one line that says what to do.
            try await withClient(try moto.client()) { client in
                _ = try await client.json(.dynamoDB, operation: "UpdateContinuousBackups", input: ContinuousBackups(
                    TableName: ordersTable, PointInTimeRecoverySpecification: .init(PointInTimeRecoveryEnabled: false)), as: Nothing.self)
            }
            let refused = try await CommandRun.run(["export", "--backend", "aws", "--wait", "60"], environment: environment)
            #expect(refused.termination != .exited(0))
            #expect(refused.stderr.nonEmptyLines.count == 1, "\(refused.transcript)")
            #expect(refused.stderr.text.contains("point-in-time recovery is off on table \(ordersTable)"), "\(refused.transcript)")
        }

        /// The bytes of a gzip file, through gzip(1).
        static func gunzip(_ bytes: [UInt8]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["gzip", "-dc"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            try input.fileHandleForWriting.write(contentsOf: bytes)
            try input.fileHandleForWriting.close()
            let text = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw SystemTestFailure("gzip -dc exited with \(process.terminationStatus)") }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
