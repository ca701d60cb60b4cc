import ArgumentParser
import Foundation
import GRDB
import Logging
import OrderFlowApp
import OrderFlowCore
import OrderFlowHTTP
import OrderFlowServer
import ServiceLifecycle

/// `orderflow bench`: `pipeline`, the end-to-end throughput of the embedded pipeline in process, and `echo-server`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks.", subcommands: [Pipeline.self, EchoServer.self])

    /// `orderflow bench echo-server`: `serve` plus `POST /bench/echo`, for `scripts/bench-api --floor`.
    struct EchoServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "echo-server",
            abstract: "Run `serve` (embedded) with one more route, POST /bench/echo, that answers 201 with the body it was sent.",
            discussion: """
                Through the same HTTP stack and middlewares as POST /orders but with no order work and no write, it measures \
                what the HTTP stack alone costs per request of that size (scripts/bench-api --floor). Not for production.
                """
        )
        @OptionGroup var options: ServeOptions

        func run() async throws {
            guard options.backendName == "embedded" else {
                printError("orderflow bench echo-server: only the embedded backend has it; drop --backend (or ORDERFLOW_BACKEND)")
                throw ExitCode(2)
            }
            try await options.run(command: "bench echo-server", awsRole: .api, extraRoutes: BenchmarkRoutes.addEcho)
        }
    }

    struct Pipeline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time N orders from submission until stored, relayed, reviewed and counted.",
            discussion: "Runs on a fresh temporary data directory; 10 % of the orders are high-value."
        )
        @Option(help: "How many orders.") var orders: Int = 200_000
        @Option(help: "Concurrent submitters.") var concurrency: Int = 256

        func run() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            var logger = Logger(label: "orderflow-bench")
            logger.logLevel = .error
            var configuration = ServerConfiguration()
            configuration.dataDirectory = directory
            let system = try await EmbeddedSystem.open(configuration, logger: logger)
            let group = ServiceGroup(services: system.workers, logger: logger)
            let total = orders
            let highValueEvery = 10
            let expectedHighValue = (total + highValueEvery - 1) / highValueEvery
            let service = system.services.orders
            let start = ContinuousClock.now
            let usageAtStart = ProcessUsage.now()
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let submitters = max(1, concurrency)
                try await withThrowingTaskGroup(of: Void.self) { submitting in
                    for worker in 0..<submitters {
                        submitting.addTask {
                            var index = worker
                            while index < total {
                                let price = index % highValueEvery == 0 ? 450 : 25
                                let draft = OrderDraft(
                                    id: OrderID("bench-\(index)"), customerId: "customer-\(index % 1000)", currency: .seedDefault,
                                    items: [OrderItem(sku: "SKU-\(index % 97)", quantity: 2, unitPriceMinor: Int64(price) * 50)],
                                    amountMinor: Int64(price) * 100
                                )
                                _ = try await service.submit(draft, source: "bench")
                                index += submitters
                            }
                        }
                    }
                    try await submitting.waitForAll()
                }
                let stored = ContinuousClock.now - start
                print("stored   \(total) orders in \(Self.format(stored)) (\(Self.rate(total, stored)) orders/s)")
                // Poll the observable results; this is a benchmark, not a test, so polling is the measurement.
                while true {
                    let snapshot = try await system.services.analytics.snapshot(now: system.services.clock.now())
                    if snapshot.orders >= Int64(total), try await Self.countOpenReviews(system) >= expectedHighValue,
                       try await system.orderStore.backlog() == 0 {
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let elapsed = ContinuousClock.now - start
                print("pipeline \(total) orders stored, relayed, reviewed (\(expectedHighValue) cases) and counted in \(Self.format(elapsed)): \(Self.rate(total, elapsed)) orders/s end to end")
                print(ProcessUsage.now().report(since: usageAtStart, over: elapsed, orders: total))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }

        static func countOpenReviews(_ system: EmbeddedSystem) async throws -> Int {
            try await system.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders WHERE review = 'open'") ?? 0
            }
        }

        static func format(_ duration: Duration) -> String {
            String(format: "%.2f s", duration.inSeconds)
        }

        static func rate(_ count: Int, _ duration: Duration) -> Int {
            let seconds = duration.inSeconds
            return seconds > 0 ? Int(Double(count) / seconds) : 0
        }
    }
}


/// This process's CPU time and disk writes, to tell a CPU-bound run from one waiting on the disk or the single writer.
struct ProcessUsage {
    /// User plus system CPU seconds of every thread so far.
    var cpuSeconds: Double
    /// Bytes this process caused to be written to storage (`write_bytes` of `/proc/self/io`); nil where unreadable.
    var writeBytes: Int64?

    static func now() -> ProcessUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let io = (try? String(contentsOfFile: "/proc/self/io", encoding: .utf8)) ?? ""
        let written = io.split(separator: "\n").first { $0.hasPrefix("write_bytes:") }
            .flatMap { Int64($0.dropFirst("write_bytes:".count).trimmingCharacters(in: .whitespaces)) }
        return ProcessUsage(cpuSeconds: cpu, writeBytes: written)
    }

    /// e.g. `resources 9.41 CPU s = 1.08 of 2 cores busy, 94 µs CPU per order, 6.4 KB written per order`.
    func report(since start: ProcessUsage, over duration: Duration, orders: Int) -> String {
        let seconds = duration.inSeconds
        let cpu = cpuSeconds - start.cpuSeconds
        var line = String(format: "resources %.2f CPU s = %.2f of %d cores busy, %.0f µs CPU per order", cpu, seconds > 0 ? cpu / seconds : 0,
                          ProcessInfo.processInfo.activeProcessorCount, orders > 0 ? cpu / Double(orders) * 1e6 : 0)
        if let end = writeBytes, let begin = start.writeBytes, orders > 0 {
            line += String(format: ", %.1f KB written to disk per order", Double(end - begin) / Double(orders) / 1024)
        }
        return line
    }
}

private extension Duration {
    /// The duration in (fractional) seconds, for printing rates.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
