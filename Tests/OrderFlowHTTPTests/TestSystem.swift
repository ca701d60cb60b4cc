import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OrderFlowCore
import OrderFlowHTTP
import OrderFlowServer

/// A full embedded system on a fresh data directory whose workers the test drives step by step, so asynchronous effects
/// are awaited deterministically instead of slept for.
struct TestSystem {
    let system: EmbeddedSystem
    let directory: URL

    static func make(threshold: String = "300", configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestSystem {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-http-\(UUID().uuidString)")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory
        configuration.highValuePolicy = HighValuePolicy(threshold: threshold) ?? .standard
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return TestSystem(system: try await EmbeddedSystem.open(configuration, logger: logger), directory: directory)
    }

    /// The HTTP application without background workers (the test runs them through `drain`).
    func application() -> some ApplicationProtocol {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return buildApplication(system.services, configuration: system.configuration.http, workers: [], logger: logger)
    }

    /// Runs relay, review worker, upload ingestion and analytics until none of them finds work.
    func drain() async throws {
        for _ in 0..<100 {
            var work = try await system.relay.relayOnce()
            work += try await system.uploadIngest.processOnce(wait: .zero)
            work += try await system.relay.relayOnce()
            work += try await system.reviewWorker.processOnce(wait: .zero)
            work += try await system.analyticsConsumer.consumeOnce()
            if work == 0 { return }
        }
    }
}

extension TestResponse {
    var json: JSONValue? { try? JSONParser.parse(Array(buffer: body)) }
    var text: String { String(buffer: body) }
}

extension ByteBuffer {
    init(json: String) { self.init(string: json) }
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]
