import ArgumentParser
import Foundation
import OrderFlowCore

/// `orderflow status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a running server's status: queues, outbox, stream lag.")
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await reportingFailures { try await server.client.printReply(.GET, "/status") }
    }
}

/// `orderflow orders get|list`.
struct OrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "orders", abstract: "Read orders.", subcommands: [Get.self, List.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one order.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The order id.") var id: String

        func run() async throws {
            try await reportingFailures { try await server.client.printReply(.GET, "/orders/\(id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List orders, oldest first.")
        @OptionGroup var server: ServerOptions
        @Option(help: "accepted, fulfilled or cancelled.") var status: String?
        @Option(help: "Only this customer's orders.") var customerId: String?
        @Option(help: "true or false.") var highValue: String?
        @Option(help: "Page size, 1–1000.") var limit: Int?
        @Option(help: "Continue from a previous page's nextCursor.") var cursor: String?

        func run() async throws {
            var items: [URLQueryItem] = []
            if let status { items.append(URLQueryItem(name: "status", value: status)) }
            if let customerId { items.append(URLQueryItem(name: "customerId", value: customerId)) }
            if let highValue { items.append(URLQueryItem(name: "highValue", value: highValue)) }
            if let limit { items.append(URLQueryItem(name: "limit", value: String(limit))) }
            if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
            var components = URLComponents()
            components.path = "/orders"
            components.queryItems = items.isEmpty ? nil : items
            let path = components.string ?? "/orders"
            try await reportingFailures { try await server.client.printReply(.GET, path) }
        }
    }
}

/// `orderflow dlq list|redrive`.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlq", abstract: "Inspect and redrive dead-letter queues.", subcommands: [List.self, Redrive.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the dead letters of a queue (default: every queue's counts).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The source queue, e.g. HighValueQueue or order-uploads.") var queue: String?

        func run() async throws {
            try await reportingFailures {
                if let queue {
                    try await server.client.printReply(.GET, "/queues/\(queue)/dlq")
                } else {
                    try await server.client.printReply(.GET, "/queues")
                }
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move every dead letter of a queue back to it.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The source queue.") var queue: String

        func run() async throws {
            try await reportingFailures { try await server.client.printReply(.POST, "/queues/\(queue)/dlq/redrive") }
        }
    }
}

/// `orderflow upload FILE…`: the `aws s3 cp` of the embedded mode. Files go up `--concurrency` at a time (a burst then
/// shares the upload worker's batch and, on AWS, audit transactions); one that fails does not stop the others, and the
/// command exits 1 naming every file that was not uploaded.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "upload", abstract: "Upload order files to the object store; keys under orders/ are ingested.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Key prefix (default orders/).") var prefix: String = "orders/"
    @Option(help: "Files uploaded at once (1-64, default 4).") var concurrency: Int = 4
    @Argument(help: "Files holding one JSON order, a JSON array or JSON Lines.") var files: [String]

    func validate() throws {
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64") }
    }

    func run() async throws {
        let failures = await withTaskGroup(of: String?.self) { group in
            var failures: [String] = []
            var next = files.makeIterator()
            func collect(_ result: String??) {
                if case .some(.some(let failure)) = result {
                    printError("orderflow: \(failure)")
                    failures.append(failure)
                }
            }
            for _ in 0..<concurrency {
                guard let file = next.next() else { break }
                group.addTask { await upload(file) }
            }
            while let result = await group.next() {
                collect(result)
                if let file = next.next() { group.addTask { await upload(file) } }
            }
            return failures
        }
        if !failures.isEmpty {
            printError("orderflow: \(failures.count) of \(files.count) files not uploaded")
            throw ExitCode(1)
        }
    }

    /// Uploads one file; returns why it failed, or nil.
    private func upload(_ file: String) async -> String? {
        guard let data = FileManager.default.contents(atPath: file) else { return "cannot read \(file)" }
        let key = prefix + (file as NSString).lastPathComponent
        let encodedKey = key.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? String($0) }
            .joined(separator: "/")
        do {
            let reply = try await server.client.send(.PUT, "/uploads/\(encodedKey)", body: Array(data))
            guard (200..<300).contains(reply.status) else { return "\(file): \(server.client.problemText(reply))" }
        } catch {
            return "\(file): \(error)"
        }
        print("uploaded \(file) → \(key) (\(data.count) bytes)")
        return nil
    }
}

/// Runs a client command, turning a failure into one line on stderr and exit code 1.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as UsageFailure {
        printError("orderflow: \(failure)")
        throw ExitCode(1)
    }
}
