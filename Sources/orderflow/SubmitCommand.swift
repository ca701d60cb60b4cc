import ArgumentParser
import Foundation
import OrderFlowCore

/// `orderflow submit FILE|-`: posts every order of a file to a running server, retrying safely.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Post orders (one JSON order, a JSON array or JSON Lines) to a running server with retries.",
        discussion: "Orders without an id get one before the first attempt, so a retry can never create a duplicate."
    )
    @OptionGroup var server: ServerOptions
    @Option(help: "Requests in flight at once.") var concurrency: Int = 16
    @Argument(help: "The file, or - for standard input.") var file: String

    struct Tally {
        var created = 0, replayed = 0, rejected = 0, failed = 0
        var done: Int { created + replayed + rejected + failed }
        var problems: [String] = []
    }

    func run() async throws {
        try await reportingFailures { try await submit() }
    }

    func submit() async throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else { throw UsageFailure("cannot read \(file)") }
            data = contents
        }
        let split = JSONDocuments.split(Array(data))
        var tally = Tally()
        tally.rejected = split.problems.count
        tally.problems = split.problems.map { "#\($0.position): \($0.reason)" }
        let orders = split.values.map { ($0.0, Self.withID($0.1)) }
        let total = orders.count + split.problems.count
        let client = server.client
        let interactive = isatty(STDERR_FILENO) == 1
        let started = Date()
        try await withThrowingTaskGroup(of: (Int, Int, String?).self) { group in
            var iterator = orders.makeIterator()
            func addNext() -> Bool {
                guard let (position, order) = iterator.next() else { return false }
                group.addTask { try await Self.post(order, position: position, client: client) }
                return true
            }
            for _ in 0..<max(1, concurrency) where !addNext() { break }
            while let (position, status, problem) = try await group.next() {
                switch status {
                case 201: tally.created += 1
                case 200: tally.replayed += 1
                case 400..<500:
                    tally.rejected += 1
                    tally.problems.append("#\(position): \(problem ?? "HTTP \(status)")")
                default:
                    tally.failed += 1
                    tally.problems.append("#\(position): \(problem ?? "HTTP \(status)")")
                }
                if interactive {
                    printErrorInline("\rsubmitted \(tally.done)/\(total)  created \(tally.created)  replayed \(tally.replayed)  rejected \(tally.rejected)  failed \(tally.failed)")
                }
                _ = addNext()
            }
        }
        if interactive { printErrorInline("\n") }
        for problem in tally.problems.prefix(50) { printError(problem) }
        let seconds = Date().timeIntervalSince(started)
        print("\(total) orders: \(tally.created) created, \(tally.replayed) already stored, \(tally.rejected) rejected, \(tally.failed) failed (\(String(format: "%.1f", seconds)) s)")
        if tally.rejected + tally.failed > 0 { throw ExitCode(1) }
    }

    /// Gives an order without an id one, in the form it came in, so retries are idempotent.
    static func withID(_ order: JSONValue) -> JSONValue {
        guard case .object(var members) = order else { return order }
        let keys = Set(members.map(\.key))
        if keys.contains("orderId") || keys.contains("OrderId") || keys.contains("OrderID") { return order }
        let seedForm = keys.contains("Amount") && !keys.contains("items")
        let id = OrderID.generate(at: SystemClock().now()).rawValue
        members.insert(JSONMember(key: seedForm ? "OrderID" : "orderId", value: .string(id)), at: 0)
        return .object(members)
    }

    /// Posts one order, retrying connection failures and 5xx with jittered backoff; returns the final status.
    static func post(_ order: JSONValue, position: Int, client: APIClient) async throws -> (Int, Int, String?) {
        let body = order.serializedBytes()
        var attempt = 0
        while true {
            attempt += 1
            do {
                let reply = try await client.send(.POST, "/orders", body: body)
                if reply.status < 500 || attempt >= 8 {
                    return (position, reply.status, (200..<300).contains(reply.status) ? nil : client.problemText(reply))
                }
            } catch let failure as UsageFailure {
                if attempt >= 8 { return (position, 0, failure.description) }
            }
            let ceiling = min(5000, 100 << min(attempt, 10))
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...ceiling)))
        }
    }
}

func printErrorInline(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
