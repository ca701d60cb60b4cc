import Foundation
import OrderFlowCore

/// The server address clients send to; a test moves it when it restarts the server on a new port.
actor ServerAddress {
    private(set) var baseURL: String

    init(_ baseURL: String) {
        self.baseURL = baseURL
    }

    func move(to baseURL: String) {
        self.baseURL = baseURL
    }
}

/// What the clients of a load have seen so far.
struct LoadLedger: Sendable {
    /// Order id → 201 or 200, for every acknowledged order.
    var acknowledged: [String: Int] = [:]
    /// Order id → why it will not be acknowledged (a 4xx other than the expected, or the client gave up).
    var refused: [String: String] = [:]
    /// Ids sent at least once.
    var attempted: Set<String> = []
    /// Orders whose request has been sent and not yet answered.
    var inFlight: Set<String> = []
    var requestsInFlight: Int { inFlight.count }
    var transportErrors = 0
    var serverErrors = 0
    /// The first few transport errors and 5xx replies, with the order they were for, for failure messages.
    var failures: [String] = []
    /// Clients that have finished their share.
    var finishedClients = 0
}

/// Sends orders from concurrent clients, recording every acknowledgement, so a test can crash or stop the server in
/// the middle and then check that everything acknowledged survived.
struct OrderLoad: Sendable {
    enum Persistence: Sendable {
        /// Retry connection errors and 5xx until acknowledged, following the address when it moves; give up at the deadline.
        case untilAcknowledged(deadline: ContinuousClock.Instant)
        /// Stop the client at its first connection error or 5xx (the server is going away).
        case stopAtFirstFailure
    }

    let address: ServerAddress
    let clients: Int
    let persistence: Persistence
    let ledger = Observed(LoadLedger())

    /// Runs `clients` clients over `orders` (client k sends orders k, k+clients, …, one at a time) until each is done.
    func run(_ orders: [TestOrder]) async {
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var index = client
                    while index < orders.count, await send(orders[index]) {
                        index += clients
                    }
                    ledger.update { $0.finishedClients += 1 }
                }
            }
        }
    }

    /// Sends one order as the persistence says; false when the client should stop.
    private func send(_ order: TestOrder) async -> Bool {
        ledger.update { $0.attempted.insert(order.id) }
        while true {
            let api = OrderFlowAPI(baseURL: await address.baseURL)
            ledger.update { _ = $0.inFlight.insert(order.id) }
            let outcome: Result<APIReply, any Error>
            do {
                outcome = .success(try await api.send(.POST, "/orders", json: order.body, timeout: .seconds(15)))
            } catch {
                outcome = .failure(error)
            }
            ledger.update { _ = $0.inFlight.remove(order.id) }
            switch outcome {
            case .success(let reply) where reply.status == 200 || reply.status == 201:
                ledger.update { $0.acknowledged[order.id] = reply.status }
                return true
            case .success(let reply) where reply.status < 500:
                ledger.update { $0.refused[order.id] = "HTTP \(reply.status): \(reply.text.prefix(300))" }
                return true
            case .success(let reply):
                ledger.update {
                    $0.serverErrors += 1
                    if $0.failures.count < 50 { $0.failures.append("\(order.id): HTTP \(reply.status) \(reply.text.prefix(200))") }
                }
            case .failure(let error):
                ledger.update {
                    $0.transportErrors += 1
                    if $0.failures.count < 50 { $0.failures.append("\(order.id): \(error)") }
                }
            }
            switch persistence {
            case .stopAtFirstFailure:
                return false
            case .untilAcknowledged(let deadline):
                if Task.isCancelled { return false }
                if ContinuousClock.now >= deadline {
                    ledger.update { $0.refused[order.id] = "not acknowledged before the load's deadline" }
                    return true
                }
                // A short jittered pause: long enough not to spin while the server restarts, short enough to follow it.
                try? await Task.sleep(for: .milliseconds(Int.random(in: 10...60)))
            }
        }
    }
}
